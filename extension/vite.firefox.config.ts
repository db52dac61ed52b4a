// Builds the Firefox MV3 add-on into extension/dist-firefox (with `--mode test`, the test flavour
// into extension/dist-firefox-test): background scripts instead of a service worker, and the
// gecko id (manifest.config.ts chooses by target).
import { extensionConfig } from './vite.config.ts';

export default extensionConfig('firefox', 'dist-firefox');
