// X.509 for the emulator: a throwaway CA, a server certificate for localhost and 127.0.0.1
// signed by it, and self-signed client certificates for certificate credentials. Keys come
// from Node's native RSA (fast); node-forge only assembles and signs the certificates.
import crypto from 'node:crypto';
import forge from 'node-forge';

/** RSA size Entra accepts for certificate credentials and TLS servers commonly use. */
const RSA_BITS = 2048;
/** A day back, so a client whose clock is a little behind still trusts a fresh certificate. */
const NOT_BEFORE_SKEW_MS = 24 * 3600_000;
/** Long enough for any test run or demo session; the CA is regenerated at every start anyway. */
const VALIDITY_MS = 365 * 24 * 3600_000;

export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface ClientCert extends IssuedCert {
  /** Hex SHA-256 of the certificate's DER, as the Entra portal shows and MSAL takes. */
  thumbprintSha256: string;
  /** The same digest base64url-encoded: the `x5t#S256` header of a client assertion. */
  x5tS256: string;
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

interface CertSpec {
  subjectCn: string;
  keys: KeyPair;
  issuer?: { cert: forge.pki.Certificate; keyPem: string };
  extensions: object[];
  now: number;
}

function buildCert(spec: CertSpec): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.keys.publicKeyPem);
  // A positive 16-byte serial: the high bit cleared so DER does not read it as negative.
  cert.serialNumber = '0' + crypto.randomBytes(16).toString('hex').slice(1);
  cert.validity.notBefore = new Date(spec.now - NOT_BEFORE_SKEW_MS);
  cert.validity.notAfter = new Date(spec.now + VALIDITY_MS);
  const subject = [{ name: 'commonName', value: spec.subjectCn }, { name: 'organizationName', value: 'ews-daemon emulator' }];
  cert.setSubject(subject);
  cert.setIssuer(spec.issuer ? spec.issuer.cert.subject.attributes : subject);
  cert.setExtensions([...spec.extensions, { name: 'subjectKeyIdentifier' }]);
  const signingKey = forge.pki.privateKeyFromPem(spec.issuer?.keyPem ?? spec.keys.privateKeyPem);
  cert.sign(signingKey, forge.md.sha256.create());
  return cert;
}

export interface TlsMaterial {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** A fresh CA and a server certificate for localhost / 127.0.0.1 (and ::1) signed by it. */
export function createTlsMaterial(now: number): TlsMaterial {
  const caKeys = generateKeyPair();
  const ca = buildCert({
    subjectCn: 'ews-daemon emulator CA',
    keys: caKeys,
    now,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const serverKeys = generateKeyPair();
  const server = buildCert({
    subjectCn: 'localhost',
    keys: serverKeys,
    now,
    issuer: { cert: ca, keyPem: caKeys.privateKeyPem },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  return {
    caPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: serverKeys.privateKeyPem,
  };
}

/** A self-signed client certificate, as `New-SelfSignedCertificate` or openssl would make for an app. */
export function createClientCertificate(now: number, subjectCn = 'ews-daemon emulator client'): ClientCert {
  const keys = generateKeyPair();
  const cert = buildCert({
    subjectCn,
    keys,
    now,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const certPem = forge.pki.certificateToPem(cert);
  const digest = certificateDigest(certPem);
  return { certPem, keyPem: keys.privateKeyPem, thumbprintSha256: digest.toString('hex').toUpperCase(), x5tS256: digest.toString('base64url') };
}

/** SHA-256 of a PEM certificate's DER bytes. */
export function certificateDigest(certPem: string): Buffer {
  return crypto.createHash('sha256').update(new crypto.X509Certificate(certPem).raw).digest();
}
