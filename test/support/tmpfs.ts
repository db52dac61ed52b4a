// A real full disk for tests: a small tmpfs, where this process may mount one (root with
// CAP_SYS_ADMIN, as in CI; an unprivileged container may refuse). Tests that need it run only
// where the probe succeeds; the injected-ENOSPC tests cover the rest.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Mounts a tmpfs of `size` (e.g. '1m') on `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
}

export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** True when a tmpfs can be mounted here (tried once, on a throw-away folder). */
export const canMountTmpfs: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ewsd-tmpfs-probe-'));
  try {
    mountTmpfs(dir, '64k');
    unmount(dir);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
