// FileSystem.exists on its own, for modules bundled into the native-host relay (connect.ts):
// importing the whole io/node-fs.ts there would carry atomic writes into a bundle that must stay
// small (it starts on every popup open). io/node-fs.ts uses this same function.
import { existsSync } from 'node:fs';

/** True when something is at `p` (following links); false on any error, as fs.existsSync. */
export function pathExists(p: string): boolean {
  return existsSync(p);
}
