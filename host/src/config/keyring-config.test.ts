// config.json's keys for the keyring and the cache key: "clientSecretFrom": "keyring" reads the
// secret `ews-daemon secret set` stored (only when the config says so), and "cacheKeyFile" is a
// path resolved against the config's folder.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors';
import { loadConfig } from './load-config';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ewsd-keyring-config-'));
  await fs.chmod(dir, 0o700);
  file = path.join(dir, 'config.json');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const write = (o: Record<string, unknown>) => fs.writeFile(file, JSON.stringify({ clientId: CLIENT_ID, tenant: 'contoso.com', ...o }), { mode: 0o600 });
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('accepted'); }, (e: unknown) => e as AppError);

describe('"clientSecretFrom": "keyring"', () => {
  it('uses the secret stored for this client id, and asks for nothing else', async () => {
    await write({ clientSecretFrom: 'keyring' });
    const asked: string[] = [];
    const config = await loadConfig(file, undefined, { keyringSecret: async (id) => (asked.push(id), { secret: 'from-the-keyring' }) });
    expect(config.credential).toEqual({ kind: 'secret', secret: 'from-the-keyring', source: 'keyring' });
    expect(asked).toEqual([CLIENT_ID]);
  });

  it('says how to store a secret when the keyring holds none, and why when it cannot answer', async () => {
    await write({ clientSecretFrom: 'keyring' });
    const none = await refusal(loadConfig(file, undefined, { keyringSecret: async () => ({ secret: null }) }));
    expect(none.message).toContain(`"clientSecretFrom": "keyring": the OS keyring holds no client secret for ${CLIENT_ID}; store it with \`ews-daemon secret set\``);
    const locked = await refusal(loadConfig(file, undefined, { keyringSecret: async () => ({ problem: 'the OS keyring is locked (x); unlock it' }) }));
    expect(locked.code).toBe('config_invalid');
    expect(locked.message).toContain('"clientSecretFrom": "keyring": the OS keyring is locked (x); unlock it');
  });

  it('never looks in the keyring for a config without it, and takes no other value', async () => {
    await write({ clientSecret: 's3cret' });
    const never = async (): Promise<never> => { throw new Error('the keyring was asked'); };
    expect((await loadConfig(file, undefined, { keyringSecret: never })).credential).toMatchObject({ kind: 'secret', source: 'config' });
    await write({ clientSecretFrom: 'vault' });
    expect((await refusal(loadConfig(file, undefined, { keyringSecret: never }))).message).toContain('"clientSecretFrom" must be "keyring"');
    await write({ clientSecretFrom: 'keyring', clientSecret: 's3cret' });
    expect((await refusal(loadConfig(file, undefined, { keyringSecret: never }))).message).toContain('give one credential, not several (found "clientSecret" and "clientSecretFrom")');
  });
});

describe('"cacheKeyFile"', () => {
  it('is resolved against the config folder, and null when absent', async () => {
    await write({ clientSecret: 's3cret', cacheKeyFile: 'keys/cache.key' });
    expect((await loadConfig(file)).cacheKeyFile).toBe(path.join(dir, 'keys', 'cache.key'));
    await write({ clientSecret: 's3cret' });
    expect((await loadConfig(file)).cacheKeyFile).toBeNull();
    await write({ clientSecret: 's3cret', cacheKeyFile: 42 });
    expect((await refusal(loadConfig(file))).message).toContain('"cacheKeyFile" must be a file path');
  });
});
