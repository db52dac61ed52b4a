// The extension's pages, as paths inside the built extension (crxjs keeps the source layout).
// Change one here, change manifest.config.ts and vite.config.ts.
export const POPUP_PAGE = 'src/popup/index.html';
export const VIEWER_PAGE = 'src/viewer/index.html';
export const CALLBACK_PAGE = 'src/callback/index.html';
