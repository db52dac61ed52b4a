// Reads a ZIP archive back the way an unzip program does, for the tests of the archives
// ews-daemon writes: the end record, then each central-directory entry, its local header and
// its data (inflated when deflated), with the CRC-32 checked. Needs nothing but Node, so the
// archives are checked on a machine without unzip or Python too.
import zlib from 'node:zlib';

export interface ReadEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  data: Buffer;
}

const END_RECORD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Every entry, in central-directory order; throws on a bad signature, size or CRC. */
export function readZip(archive: Buffer): ReadEntry[] {
  const end = archive.length - 22; // no archive comment
  if (archive.readUInt32LE(end) !== END_RECORD) throw new Error('no end-of-central-directory record at the end');
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(at) !== CENTRAL) throw new Error(`entry ${i}: no central-directory header at ${at}`);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressed = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const local = archive.readUInt32LE(at + 42);
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (archive.readUInt32LE(local) !== LOCAL) throw new Error(`${name}: no local header at ${local}`);
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const body = archive.subarray(start, start + compressed);
    const data = method === 8 ? zlib.inflateRawSync(body) : Buffer.from(body);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (zlib.crc32(data) !== crc) throw new Error(`${name}: CRC-32 mismatch`);
    entries.push({ name, method, data });
    at += 46 + nameLength + archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32);
  }
  return entries;
}
