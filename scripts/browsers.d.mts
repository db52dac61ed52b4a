// Types of scripts/browsers.mjs, for the TypeScript that uses it (the e2e harness, the demo,
// the Firefox helper, the benchmarks). Change one, change the other.
export type BrowserKind = 'chromium' | 'firefox';
export interface BrowserInfo {
  variable: string;
  debianPackage: string;
  label: string;
  names: string[];
  folders: string[];
}
export const BROWSERS: Record<BrowserKind, BrowserInfo>;
export function locate(kind: BrowserKind, env?: NodeJS.ProcessEnv): { path: string | null; problem: string | null };
export function findBrowser(kind: BrowserKind, env?: NodeJS.ProcessEnv): string | null;
export function canInstall(env?: NodeJS.ProcessEnv): boolean;
export function installHint(kinds: BrowserKind[]): string;
export function installDebianPackages(packages: string[], why: string, say: (line: string) => void, env?: NodeJS.ProcessEnv): boolean;
export function ensureBrowsers(
  kinds: BrowserKind[],
  say: (line: string) => void,
  env?: NodeJS.ProcessEnv,
): { found: Partial<Record<BrowserKind, string>>; missing: Partial<Record<BrowserKind, string>> };
