// Opening the daemon's log for appending, safely in a folder someone may have planted things in:
// never through a symbolic link (O_NOFOLLOW: open(2) fails with ELOOP), and only a regular file
// owned by this user. Node builtins only: the native host, which must start fast, uses it too.
import fs from 'node:fs';
import { AppError } from '../../../shared/errors';

/** Opens `file` for appending (0600 when created); `exclusive`: it must not exist yet. */
export function openLogFile(file: string, exclusive = false): { fd: number; size: number } {
  const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | (exclusive ? O_EXCL : 0) | (O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ELOOP' && code !== 'EEXIST') throw e;
    throw plantedLog(file, code === 'ELOOP' ? 'is a symbolic link' : 'was created by someone else while it was rotated');
  }
  const st = fs.fstatSync(fd);
  const uid = process.getuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
    fs.closeSync(fd);
    throw plantedLog(file, st.isFile() ? `belongs to user id ${st.uid}, not to you` : 'is not a regular file');
  }
  return { fd, size: st.size };
}

function plantedLog(file: string, why: string): AppError {
  return new AppError('config_invalid', `The daemon's log ${file} ${why}; it is not written to.`, {
    advice: `Someone else may have put it there: look at it, then remove it (\`rm '${file}'\`) and start again.`,
    retryable: false,
  });
}
