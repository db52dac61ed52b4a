// Loads config.json: reads it, checks every key (check-config.ts), reads the credential files
// it names, and refuses secrets that other users can read, and a config, credential file or
// folder above them that other users can change (trust.ts). Guarantees: every problem is
// reported at once, one per line, naming the file, the key, what was found and what is
// expected; no secret value (client secret, private key) ever appears in an error.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { FileSystem } from '../deps';
import { systemClock } from '../io/clock';
import { nodeFileSystem } from '../io/node-fs';
import { checkConfig, type CredentialSpec } from './check-config';
import type { Config, Credential } from './config';
import { locateJsonError } from './json-position';
import { othersCanChange, shellQuote } from './trust';

export { locateJsonError };

/** The file system as the loader needs it; tests may pass their own. */
export type ConfigFs = Pick<FileSystem, 'readText' | 'stat' | 'realpath'>;

export interface LoadConfigOptions {
  /** Permissions are checked on POSIX only (Windows has ACLs, not modes). */
  platform?: NodeJS.Platform;
  /** Ms since the epoch, for the certificate's validity (default: the system clock's). */
  now?: number;
  /** The user the files must belong to (default: this process's). */
  uid?: number;
  /** Reads the client secret `ews-daemon secret set` stored (default: the OS keyring, loaded only then). */
  keyringSecret?: (clientId: string) => Promise<{ secret: string | null } | { problem: string }>;
}

interface Ctx {
  fs: ConfigFs;
  posix: boolean;
  uid: number | undefined;
  /** Paths already checked for others' write access. */
  checked: Set<string>;
  problems: string[];
  /** Shell commands that fix permission problems, for the advice. */
  fixes: string[];
}

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
};

export async function loadConfig(file: string, fs: ConfigFs = nodeFileSystem, opts: LoadConfigOptions = {}): Promise<Config> {
  const abs = path.resolve(file);
  const json = parseJson(abs, await readConfigText(abs, fs));
  const { draft, problems } = checkConfig(json, path.dirname(abs));
  const ctx: Ctx = { fs, posix: (opts.platform ?? process.platform) !== 'win32', uid: opts.uid ?? process.getuid?.(), checked: new Set(), problems, fixes: [] };
  await checkTrusted(abs, 'the config file', ctx);
  if (draft.cacheKeyFile) await checkTrusted(draft.cacheKeyFile, '"cacheKeyFile"', ctx);
  const credential =
    draft.credential?.kind === 'keyring'
      ? await keyringCredential(draft.clientId, problems, opts.keyringSecret)
      : draft.credential
        ? await loadCredential(draft.credential, abs, ctx, opts.now ?? systemClock.now())
        : null;
  if (problems.length > 0 || !credential) throw invalidConfig(abs, problems, ctx.fixes);
  return { ...draft, file: abs, credential };
}

async function readConfigText(file: string, fs: ConfigFs): Promise<string> {
  try {
    return (await fs.readText(file)).replace(/^\uFEFF/, '');
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') {
      throw new AppError('config_invalid', `${file}: no config file there.`, {
        advice: 'Write one: `npm run emulator` writes one for the local emulator, and the README shows a template. Or name another with --config PATH or EWS_DAEMON_CONFIG.',
        retryable: false,
      });
    }
    throw invalidConfig(file, [`cannot be read (${errnoText(code)})`], []);
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message may quote the text, and the text may hold the client secret: locate it ourselves.
    const at = locateJsonError(text);
    const where = at ? ` at line ${lineCol(text, at.offset).line}, column ${lineCol(text, at.offset).column}: ${at.reason}` : '';
    throw invalidConfig(file, [`is not valid JSON${where} (JSON allows no comments and no trailing commas)`], []);
  }
}

/** "clientSecretFrom": "keyring": the keyring must answer and hold a secret for this client id. */
async function keyringCredential(clientId: string, problems: string[], read: LoadConfigOptions['keyringSecret']): Promise<Credential | null> {
  const found = await (read ?? (async (id: string) => (await import('../auth/client-secret')).readKeyringSecret(id)))(clientId);
  if ('problem' in found) problems.push(`"clientSecretFrom": "keyring": ${found.problem}`);
  else if (found.secret === null) problems.push(`"clientSecretFrom": "keyring": the OS keyring holds no client secret for ${clientId}; store it with \`ews-daemon secret set\``);
  else return { kind: 'secret', secret: found.secret, source: 'keyring' };
  return null;
}

async function loadCredential(spec: Exclude<CredentialSpec, { kind: 'keyring' }>, configFile: string, ctx: Ctx, now: number): Promise<Credential | null> {
  if (spec.kind === 'none') return { kind: 'none' };
  if (spec.kind === 'secret') {
    await checkPrivate(configFile, 'the config file holds "clientSecret" but', ctx);
    return { kind: 'secret', secret: spec.secret, source: 'config' };
  }
  if (spec.kind === 'secretFile') {
    const text = await readPrivate(spec.path, '"clientSecretFile"', ctx);
    if (text === null) return null;
    if (text.trim() === '') ctx.problems.push(`"clientSecretFile" ${spec.path} is empty`);
    return text.trim() === '' ? null : { kind: 'secret', secret: text.trim(), source: spec.path };
  }
  const keyPem = await readPrivate(spec.privateKeyPath, '"certificate.privateKeyPath"', ctx);
  await checkTrusted(spec.certificatePath, '"certificate.certificatePath"', ctx);
  const certificatePem = await readReported(spec.certificatePath, '"certificate.certificatePath"', ctx);
  if (keyPem === null || certificatePem === null) return null;
  return certificateCredential(spec, keyPem, certificatePem, now, ctx.problems);
}

/** A file that holds a secret: refused when its mode lets group or others read it, or others can change it. */
async function readPrivate(file: string, label: string, ctx: Ctx): Promise<string | null> {
  const readable = await checkPrivate(file, `${label} ${file}`, ctx);
  if (readable) await checkTrusted(file, label, ctx);
  return readable ? readReported(file, label, ctx) : null;
}

/** Adds a problem (and its fix) for each way another user could change `file` or a folder above it. */
async function checkTrusted(file: string, label: string, ctx: Ctx): Promise<void> {
  if (!ctx.posix) return;
  for (const p of await othersCanChange(file, label, ctx.fs, ctx.uid, ctx.checked)) {
    ctx.problems.push(p.text);
    ctx.fixes.push(p.fix);
  }
}

async function checkPrivate(file: string, subject: string, ctx: Ctx): Promise<boolean> {
  if (!ctx.posix) return true;
  // stat answers null for a missing file: reported as the ENOENT it was.
  const found = await ctx.fs.stat(file).then(
    (st) => (st ? st.mode : 'ENOENT'),
    (e: unknown) => errnoOf(e),
  );
  if (typeof found !== 'number') {
    ctx.problems.push(`${subject} cannot be read (${errnoText(found)})`);
    return false;
  }
  const mode = found;
  if ((mode & 0o077) !== 0) {
    const fix = `chmod 600 ${shellQuote(file)}`;
    ctx.problems.push(`${subject} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); fix: ${fix}`);
    ctx.fixes.push(fix);
  }
  return true;
}

async function readReported(file: string, label: string, ctx: Ctx): Promise<string | null> {
  try {
    return await ctx.fs.readText(file);
  } catch (e) {
    ctx.problems.push(`${label} ${file} cannot be read (${errnoText(errnoOf(e))})`);
    return null;
  }
}

function certificateCredential(spec: Extract<CredentialSpec, { kind: 'certificate' }>, keyPem: string, certificatePem: string, now: number, problems: string[]): Credential | null {
  const certAt = `"certificate.certificatePath" ${spec.certificatePath}`;
  const keyAt = `"certificate.privateKeyPath" ${spec.privateKeyPath}`;
  const cert = certificatePem.includes('-----BEGIN CERTIFICATE-----') ? x509(certificatePem) : null;
  if (!cert) problems.push(`${certAt} holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)`);
  const key = privateKey(keyPem, keyAt, problems);
  if (!cert || !key) return null;
  const before = problems.length;
  if (key.asymmetricKeyType !== 'rsa') problems.push(`${keyAt} holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; Entra ID certificate credentials need RSA`);
  else if (!cert.checkPrivateKey(key)) problems.push(`the private key in ${keyAt} does not belong to the certificate in ${certAt}`);
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (now > notAfter) problems.push(`the certificate in ${certAt} expired on ${new Date(notAfter).toISOString()}: make a new one and upload it to the app registration`);
  if (now < notBefore) problems.push(`the certificate in ${certAt} is not valid before ${new Date(notBefore).toISOString()}: check the clock, or wait`);
  if (problems.length > before) return null;
  return {
    kind: 'certificate',
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem,
    thumbprintSha256: cert.fingerprint256.replaceAll(':', '').toUpperCase(),
    x5c: cert.raw.toString('base64'),
    notBefore,
    notAfter,
    privateKeyPath: spec.privateKeyPath,
    certificatePath: spec.certificatePath,
  };
}

function x509(pem: string): X509Certificate | null {
  try {
    return new X509Certificate(pem);
  } catch {
    return null;
  }
}

function privateKey(pem: string, keyAt: string, problems: string[]): KeyObject | null {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    // OpenSSL 3 reports a missing passphrase as an interrupted callback; the PEM also says so.
    const encrypted = ['ERR_MISSING_PASSPHRASE', 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED'].includes(errnoOf(e) ?? '') || /ENCRYPTED/.test(pem);
    problems.push(encrypted ? `${keyAt} is encrypted with a passphrase; ews-daemon needs it unencrypted, protected by chmod 600 instead` : `${keyAt} holds no PEM private key`);
    return null;
  }
}

function invalidConfig(file: string, problems: string[], fixes: string[]): AppError {
  const onlyPermissions = fixes.length === problems.length;
  const advice = onlyPermissions
    ? `Run ${fixes.join(' and ')}, then start again.`
    : `Edit ${file} as each line says (the README shows a template)${fixes.length ? `, run ${fixes.join(' and ')}` : ''}, then start again.`;
  return new AppError('config_invalid', problems.map((p) => `${file}: ${p}`).join('\n'), { advice, retryable: false });
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errnoText(code: string | undefined): string {
  return code ? `${code}: ${ERRNO[code] ?? 'error'}` : 'unknown error';
}


function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
