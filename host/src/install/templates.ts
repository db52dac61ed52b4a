// The installer's templates (manifests/*.tmpl) and the quoting each file format needs. Templates
// use plain `{{name}}` substitution; the planner quotes every value for its format first (JSON
// literals, sh and cmd words, systemd words, XML text), so a path with spaces or quotes is safe.
// Loading touches the file system; rendering and quoting are pure.
import path from 'node:path';
import { AppError } from '../../../shared/errors';

export const TEMPLATE_FILES = {
  chromiumHost: 'chromium-host.json.tmpl',
  firefoxHost: 'firefox-host.json.tmpl',
  shWrapper: 'native-host.sh.tmpl',
  cmdWrapper: 'native-host.cmd.tmpl',
  systemdUnit: 'ews-daemon.service.tmpl',
  launchdPlist: 'com.ews_daemon.daemon.plist.tmpl',
} as const;
export type TemplateName = keyof typeof TEMPLATE_FILES;
export type Templates = Record<TemplateName, string>;

/** Fills every `{{name}}`; a name without a value is a bug in the planner, reported by name. */
export function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new AppError('internal', `The installer's template uses {{${name}}}, which has no value.`, { advice: 'This is a bug in ews-daemon install.', retryable: false });
    return value;
  });
}

/** Reads the templates from <repoRoot>/manifests. */
export async function loadTemplates(repoRoot: string, readFile: (p: string) => Promise<string>): Promise<Templates> {
  const entries = await Promise.all(
    Object.entries(TEMPLATE_FILES).map(async ([name, file]) => {
      const full = path.join(repoRoot, 'manifests', file);
      try {
        return [name, await readFile(full)] as const;
      } catch (e) {
        throw new AppError('internal', `The installer's template ${full} cannot be read (${(e as Error).message}).`, { advice: 'Reinstall ews-daemon: the manifests/ folder of the checkout is incomplete.', retryable: false });
      }
    }),
  );
  return Object.fromEntries(entries) as Templates;
}

/** A POSIX shell word: single quotes, with ' written as '\''. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A cmd.exe word: double quotes; `"` and `%` cannot be escaped reliably, so they are refused. */
export function cmdQuote(s: string): string {
  if (/["%\r\n]/.test(s)) throw new AppError('invalid_params', `The path ${s} holds " or %, which a Windows .cmd wrapper cannot quote.`, { advice: 'Install Node and ews-daemon in folders whose names have neither.', retryable: false });
  return `"${s}"`;
}

/** A systemd unit word: double quotes with C escapes; `%` and `$` doubled so systemd leaves them alone. */
export function systemdQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A command as a person would type it (and as it is reported): words with spaces quoted. */
export function renderCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `"${w.replace(/"/g, '\\"')}"`)).join(' ');
}
