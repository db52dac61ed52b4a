// Who started the native host, from its arguments. Chrome passes `chrome-extension://<id>/`
// (and `--parent-window=<n>` on Windows); Firefox passes the manifest's path and the add-on id;
// the launcher adds `native-host` in front. Pure.

const CHROMIUM_ORIGIN = /^chrome-extension:\/\/([^/\s]+)\/?$/;
/** Firefox add-on ids: an e-mail-like `name@domain` or a `{uuid}`. */
const ADDON_ID = /^(?:\{[0-9a-fA-F-]{36}\}|[\w.+-]*@[\w.-]+)$/;

/** The caller's origin (`chrome-extension://<id>/`) or Firefox add-on id, or null when none is given. */
export function findCallerOrigin(args: readonly string[]): string | null {
  const rest = args[0] === 'native-host' ? args.slice(1) : args;
  const positional = rest.filter((a) => !a.startsWith('--'));
  for (const arg of positional) {
    const m = CHROMIUM_ORIGIN.exec(arg);
    if (m) return `chrome-extension://${m[1]}/`;
  }
  const manifestAt = positional.findIndex((a) => a.toLowerCase().endsWith('.json'));
  const afterManifest = manifestAt >= 0 ? positional[manifestAt + 1] : undefined;
  if (afterManifest && ADDON_ID.test(afterManifest)) return afterManifest;
  return positional.find((a) => ADDON_ID.test(a)) ?? null;
}
