// Logout and the token cache's corrupt copies, on real files.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../io/log';
import { removeCorruptCopies } from './corrupt-copies';
import { nodeFileSystem } from '../io/node-fs';

let dir: string;
let cache: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'corrupt-copies-'));
  cache = path.join(dir, 'token-cache.json');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const alice = { id: 'uid-a.tenant', username: 'alice@contoso.example' };
const copy = (name: string, text: string) => fs.writeFile(path.join(dir, `token-cache.json.corrupt-${name}`), text, { mode: 0o600 });
const left = async () => (await fs.readdir(dir)).sort();

describe('removeCorruptCopies', () => {
  it('removes the copies naming the signed-out account, whole, and keeps the others while someone is signed in', async () => {
    await copy('1', '{"RefreshToken":{"uid-a.tenant-login.example-refreshtoken-c--":{"secret":"rt-alice"');
    await copy('2', '{"Account":{"x":{"username":"Alice@Contoso.example"}},"RefreshToken":{"uid-b.tenant-x":{"secret":"rt-bob"}}}');
    await copy('3', '{"RefreshToken":{"uid-b.tenant-x":{"secret":"rt-bob"');
    await copy('4', '\u0000\u0017garbled');
    await fs.writeFile(cache, '{}');
    expect((await removeCorruptCopies(cache, [alice], false, { fs: nodeFileSystem, log: silentLog })).sort()).toEqual(['token-cache.json.corrupt-1', 'token-cache.json.corrupt-2']);
    expect(await left()).toEqual(['token-cache.json', 'token-cache.json.corrupt-3', 'token-cache.json.corrupt-4']);
  });

  it('removes every copy once nobody is signed in, the cache itself excepted', async () => {
    await copy('3', '{"RefreshToken":{"uid-b.tenant-x":{"secret":"rt-bob"');
    await copy('4', '\u0000\u0017garbled');
    await fs.writeFile(cache, '{}');
    expect(await removeCorruptCopies(cache, [alice], true, { fs: nodeFileSystem, log: silentLog })).toHaveLength(2);
    expect(await left()).toEqual(['token-cache.json']);
  });
});
