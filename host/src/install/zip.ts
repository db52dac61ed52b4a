// A ZIP archive writer, enough for the extension stores' uploads (Chrome Web Store, Edge
// Add-ons, addons.mozilla.org): regular files only, each deflated (or stored when deflate does
// not shrink it), names in forward slashes relative to the archive root, no ZIP64. Node has no
// ZIP writer; this follows PKWARE's APPNOTE.TXT (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
// a local header and the data for each file (4.3.7), then the central directory (4.3.12) and
// its end record (4.3.16). Pure: bytes in, bytes out.
import zlib from 'node:zlib';
import { AppError } from '../../../shared/errors';

export interface ZipEntry {
  /** Path inside the archive: `a/b.js`, no leading slash, no `.` or `..` parts. */
  name: string;
  data: Uint8Array;
  /** Stored as MS-DOS local date and time (2-second steps, 1980 to 2107). */
  modified: Date;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** 2.0: deflate and folders (APPNOTE 4.4.3.2), what every unzip reads. */
const VERSION_NEEDED = 20;
/** Made by UNIX (upper byte 3, APPNOTE 4.4.2.2), so the external attributes carry a file mode. */
const VERSION_MADE_BY = (3 << 8) | VERSION_NEEDED;
/** General purpose bit 11: the name is UTF-8 (APPNOTE 4.4.4, appendix D). */
const UTF8_FLAG = 0x0800;
const STORED = 0;
const DEFLATED = 8;
/** A regular file, rw-r--r--, in the upper 16 bits of the external attributes. */
const FILE_MODE = 0o100644;
/** Without ZIP64, counts are 16-bit and sizes and offsets 32-bit. */
const MAX_ENTRIES = 0xffff;
const MAX_32 = 0xffffffff;

/** MS-DOS date and time (APPNOTE 4.4.6): local time, seconds halved, years 1980 to 2107 (clamped). */
export function dosDateTime(d: Date): { date: number; time: number } {
  if (d.getFullYear() < 1980) return { date: (1 << 5) | 1, time: 0 };
  if (d.getFullYear() > 2107) return { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 };
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2);
  return { date, time };
}

function checkName(name: string): void {
  const parts = name.split('/');
  if (name === '' || name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new AppError('invalid_params', `A ZIP entry cannot be named ${JSON.stringify(name)}.`, { advice: 'Name entries by their relative path with forward slashes.', retryable: false });
  }
}

function tooLarge(what: string): AppError {
  return new AppError('invalid_params', `The archive is too large for a ZIP without ZIP64 (${what}).`, { advice: 'Store archives hold an extension of a few hundred kilobytes; check what is being packed.', retryable: false });
}

interface Packed {
  name: Buffer;
  method: number;
  crc: number;
  size: number;
  body: Buffer;
  date: number;
  time: number;
  flags: number;
  offset: number;
}

function pack(e: ZipEntry, offset: number): Packed {
  checkName(e.name);
  const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  const deflated = zlib.deflateRawSync(data, { level: 9 });
  const stored = deflated.length >= data.length;
  const name = Buffer.from(e.name, 'utf8');
  const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : UTF8_FLAG;
  return { name, method: stored ? STORED : DEFLATED, crc: zlib.crc32(data), size: data.length, body: stored ? data : deflated, ...dosDateTime(e.modified), flags, offset };
}

/** The fields local and central headers share, from "version needed" to the extra field's length. */
function common(p: Packed): Buffer {
  const b = Buffer.alloc(26);
  b.writeUInt16LE(VERSION_NEEDED, 0);
  b.writeUInt16LE(p.flags, 2);
  b.writeUInt16LE(p.method, 4);
  b.writeUInt16LE(p.time, 6);
  b.writeUInt16LE(p.date, 8);
  b.writeUInt32LE(p.crc, 10);
  b.writeUInt32LE(p.body.length, 14);
  b.writeUInt32LE(p.size, 18);
  b.writeUInt16LE(p.name.length, 22);
  b.writeUInt16LE(0, 24); // no extra field
  return b;
}

function localHeader(p: Packed): Buffer {
  const sig = Buffer.alloc(4);
  sig.writeUInt32LE(LOCAL_HEADER, 0);
  return Buffer.concat([sig, common(p), p.name]);
}

function centralHeader(p: Packed): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32LE(CENTRAL_HEADER, 0);
  head.writeUInt16LE(VERSION_MADE_BY, 4);
  const tail = Buffer.alloc(14);
  tail.writeUInt16LE(0, 0); // comment length
  tail.writeUInt16LE(0, 2); // disk number
  tail.writeUInt16LE(0, 4); // internal attributes
  tail.writeUInt32LE((FILE_MODE << 16) >>> 0, 6);
  tail.writeUInt32LE(p.offset, 10);
  return Buffer.concat([head, common(p), tail, p.name]);
}

function endRecord(count: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  b.writeUInt16LE(0, 4); // this disk
  b.writeUInt16LE(0, 6); // the disk where the central directory starts
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(size, 12);
  b.writeUInt32LE(offset, 16);
  b.writeUInt16LE(0, 20); // comment length
  return b;
}

/** The archive of these entries, in the order given; a name given twice is refused. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > MAX_ENTRIES) throw tooLarge(`${entries.length} entries`);
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  const packed: Packed[] = [];
  let offset = 0;
  for (const e of entries) {
    if (seen.has(e.name)) throw new AppError('invalid_params', `The ZIP entry ${JSON.stringify(e.name)} is given twice.`, { advice: 'Give each path once.', retryable: false });
    seen.add(e.name);
    const p = pack(e, offset);
    const header = localHeader(p);
    parts.push(header, p.body);
    packed.push(p);
    offset += header.length + p.body.length;
    if (offset > MAX_32 || p.size > MAX_32) throw tooLarge(`${e.name} ends past 4 GiB`);
  }
  const central = Buffer.concat(packed.map(centralHeader));
  if (offset + central.length > MAX_32) throw tooLarge('central directory past 4 GiB');
  return Buffer.concat([...parts, central, endRecord(packed.length, central.length, offset)]);
}
