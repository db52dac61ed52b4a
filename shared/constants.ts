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

/** Firefox identifies add-ons by this id (browser_specific_settings.gecko.id). */
export const FIREFOX_ADDON_ID = 'ews-daemon@ews-daemon.invalid';

export const PRODUCT_VERSION = '0.1.0';
