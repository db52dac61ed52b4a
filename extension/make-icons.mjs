// Draws the extension's toolbar icons (a white envelope on a blue rounded square) into
// public/icons/ as PNGs, so no image editor is needed to change them: `node extension/make-icons.mjs`.
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SIZES = [16, 32, 48, 128];
const BLUE = [11, 87, 208];
const WHITE = [255, 255, 255];

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** The colour at (x, y) in a unit square: RGBA, with a soft edge on the rounded corners. */
function pixel(x, y) {
  const r = 0.2;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  const outside = Math.hypot(x - cx, y - cy) - r;
  if (outside > 0) return [0, 0, 0, 0];
  const inBody = x > 0.18 && x < 0.82 && y > 0.28 && y < 0.72;
  // The flap: two lines from the top corners meeting in the middle.
  const flap = Math.abs(y - 0.28 - (0.5 - Math.abs(x - 0.5)) * 0.55) < 0.045;
  const edge = inBody && (x < 0.23 || x > 0.77 || y < 0.33 || y > 0.67);
  return [...(inBody && (edge || flap) ? WHITE : BLUE), 255];
}

function png(size) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const p = pixel((x + 0.5) / size, (y + 0.5) / size);
      row.set(p, 1 + x * 4);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const dir = fileURLToPath(new URL('./public/icons/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const size of SIZES) writeFileSync(`${dir}icon-${size}.png`, png(size));
console.log(`wrote ${SIZES.map((s) => `icon-${s}.png`).join(', ')} to ${dir}`);
