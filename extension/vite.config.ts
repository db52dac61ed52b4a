// Builds the Chromium extension with @crxjs/vite-plugin: the release flavour into extension/dist
// (`npm run build:ext`, what the package carries), or with `--mode test` the test flavour into
// extension/dist-test (manifest.config.ts says what differs). The viewer and the callback page
// are not named by the manifest's popup or background, so they are inputs here.
// Change an output folder, change test/e2e/harness.ts, test/firefox/consent.test.ts,
// host/src/install/extension-dirs.ts and package.json's files.
import { defineConfig } from 'vite';
import { crx } from '@crxjs/vite-plugin';
import { fileURLToPath } from 'node:url';
import { manifestFor, type Target } from './manifest.config.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The vite mode that builds the test flavour, into `<outDir>-test`. */
export const TEST_MODE = 'test';

export function extensionConfig(target: Target, outDir: string) {
  return defineConfig(({ mode }) => {
    const flavour = mode === TEST_MODE ? 'test' : 'release';
    return {
      root,
      publicDir: 'public',
      logLevel: 'warn',
      plugins: [crx({ manifest: manifestFor(target, flavour), browser: target })],
      build: {
        outDir: flavour === 'test' ? `${outDir}-test` : outDir,
        emptyOutDir: true,
        target: target === 'firefox' ? 'firefox128' : 'chrome120',
        // Small pages load faster than sourcemaps help; the code is plain TypeScript.
        sourcemap: false,
        rollupOptions: {
          input: { viewer: 'src/viewer/index.html', callback: 'src/callback/index.html' },
        },
      },
    };
  });
}

export default extensionConfig('chrome', 'dist');
