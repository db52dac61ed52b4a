// Names fixed across the host, the extension and the installer.

/** The native-messaging host name: the manifest's file name and `name` (^\w+(\.\w+)*$). */
export const NATIVE_HOST_NAME = 'com.ews_daemon.companion';

/**
 * The extension's public key (base64 DER SubjectPublicKeyInfo), put in its manifest's `key` so
 * that its id is stable wherever it is loaded. Only the public key is in the repository.
 * Change this, change EXTENSION_ID (the first 32 hex digits of sha256(DER), 0-f mapped to a-p).
 */
export const EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvZt7ZleIvI/Nvvn8qYFaOe/rRE5vb5ZuuzWZBh/Jwj3aqBAiR3mq20NWYIQQnAzbUm7KUq4tJR/8S3rGiTfE58kr8kf3xRZIis2aMOL+NrxeI2Em1/sP1t7xtWJwAKkF7NdwXR5ep4qUPVFYn9lU1ZueQgas3y+JBcEOY/Zhc4yv+ovshHE6AkyYIb0ghwOROq0/+W9xXCIKaNYld3ZUIm3wBzNeXEmebcQP0rt4f/75L+UCKHi+zg69YctvVH8VH9NeEv96NkimYSkO9YZ7VVh5wOE/i9mS3KMynh+OBDKAOJ8ZCBSGtqoXNinP/nY0CCWWev7pBnoPx53GFul7nQIDAQAB';
export const EXTENSION_ID = 'nkdohhffolcemclgncojieeenmkghhch';

/** Firefox identifies add-ons by this id (browser_specific_settings.gecko.id); AMO signing keeps it. */
export const FIREFOX_ADDON_ID = 'ews-daemon@ews-daemon.invalid';

/**
 * Every id the project's extension is published under: the one list that `ews-daemon install`
 * writes into the host manifests (allowed_origins, allowed_extensions) and the daemon accepts.
 * Chromium: the unpacked build's id (from EXTENSION_PUBLIC_KEY), and each store's once listed.
 * The Chrome Web Store and Edge Add-ons assign their own id at the first upload (their uploads
 * refuse a manifest `key`: https://developer.chrome.com/docs/extensions/reference/manifest/key),
 * so add that id here, with where it comes from, when the listing exists.
 */
export const PUBLISHED_EXTENSION_IDS: readonly { id: string; where: string }[] = [
  { id: EXTENSION_ID, where: 'unpacked (the key in the manifest)' },
  // { id: '<32 letters a-p>', where: 'Chrome Web Store' },
  // { id: '<32 letters a-p>', where: 'Microsoft Edge Add-ons' },
];
/** Firefox: the gecko id, the same unpacked, temporary and signed by AMO. */
export const PUBLISHED_ADDON_IDS: readonly string[] = [FIREFOX_ADDON_ID];

export const PRODUCT_VERSION = '0.1.0';
