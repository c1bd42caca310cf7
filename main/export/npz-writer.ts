import { zipSync } from 'fflate';
import type { NdArray } from '../body/ndarray';
import { encodeNpy } from '../body/npz';

/**
 * `.npy` / `.npz` writing for exports: numbers through body/npz.ts's encodeNpy, plus numpy's unicode
 * string arrays (`<U n`, UTF-32LE code points, as `np.array('neutral')` saves), and a zip whose bytes
 * depend on nothing but the arrays.
 */

/** An array of one string, shape (), dtype `<U{length}` (what AMASS stores for `gender`). */
export interface NpyString {
  kind: 'unicode';
  value: string;
}

export type NpzEntry = NdArray | NpyString;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NEP 1 header (version 1.0), padded with spaces so the data starts on a 64-byte boundary. */
function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** A 0-d unicode array: `<U n` with n code points, 4 bytes each, little-endian. */
export function encodeNpyString(value: string): Uint8Array {
  const points = Array.from(value, (c) => c.codePointAt(0)!);
  const n = Math.max(1, points.length);
  const header = npyHeader(`<U${n}`, []);
  const out = new Uint8Array(header.length + 4 * n);
  out.set(header, 0);
  const view = new DataView(out.buffer, header.length);
  points.forEach((p, i) => view.setUint32(4 * i, p, true));
  return out;
}

export function encodeEntry(entry: NpzEntry): Uint8Array {
  return 'kind' in entry ? encodeNpyString(entry.value) : encodeNpy(entry);
}

/**
 * A deflated `.npz` (numpy.savez_compressed's layout), entries in the given order. The zip time is a
 * fixed local date: fflate writes DOS times from local-time fields, so a UTC instant would change
 * the bytes with the time zone.
 */
export function encodeNpzArchive(entries: readonly [string, NpzEntry][]): Uint8Array {
  const mtime = new Date(2020, 0, 1, 0, 0, 0);
  const files: Record<string, [Uint8Array, { level: 6; mtime: Date }]> = {};
  for (const [key, entry] of entries) files[`${key}.npy`] = [encodeEntry(entry), { level: 6, mtime }];
  return zipSync(files);
}
