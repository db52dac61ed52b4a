// Builds the Chromium extension into extension/dist with @crxjs/vite-plugin. The viewer and the
// callback page are not named by the manifest's popup or background, so they are inputs here.
// Change the output folder, change test/e2e/harness.ts and scripts/demo.mjs.
import { defineConfig } from 'vite';
import { crx } from '@crxjs/vite-plugin';
import { fileURLToPath } from 'node:url';
import { manifestFor, type Target } from './manifest.config.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

export function extensionConfig(target: Target, outDir: string) {
  return defineConfig({
    root,
    publicDir: 'public',
    logLevel: 'warn',
    plugins: [crx({ manifest: manifestFor(target), browser: target })],
    build: {
      outDir,
      emptyOutDir: true,
      target: target === 'firefox' ? 'firefox128' : 'chrome120',
      // Small pages load faster than sourcemaps help; the code is plain TypeScript.
      sourcemap: false,
      rollupOptions: {
        input: { viewer: 'src/viewer/index.html', callback: 'src/callback/index.html' },
      },
    },
  });
}

export default extensionConfig('chrome', 'dist');
