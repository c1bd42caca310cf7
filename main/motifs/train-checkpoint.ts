/**
 * Checkpoints of the A4Mer training job, in the model folder:
 *   checkpoint.json        {format, meta (the job's own JSON), arrays: [{name, shape, offset}], bin, bytes, hash}
 *   checkpoint-<tag>.bin   the arrays (float32, little-endian, concatenated in index order)
 * Atomic: the .bin is written to "<file>.tmp" and renamed, then checkpoint.json likewise; the rename of
 * checkpoint.json is the commit point, after which older .bin files are deleted. A run killed at any
 * moment leaves the previous complete checkpoint (and at worst a .tmp or orphan .bin, removed by
 * `cleanCheckpointDebris`). The .bin's size and FNV-1a hash are checked on reading.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedWeight } from './model/model';

export const CHECKPOINT_FILE = 'checkpoint.json';
export const CHECKPOINT_FORMAT = 'a4mer-checkpoint/1';
const BIN_RE = /^checkpoint-[A-Za-z0-9_-]+\.bin$/;

interface CheckpointIndex {
  format: string;
  bin: string;
  bytes: number;
  hash: number;
  arrays: { name: string; shape: number[]; offset: number }[];
  meta: unknown;
}

/** FNV-1a over 32-bit words (the .bin is whole float32 words). */
export function hashWords(bytes: Uint8Array): number {
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice(); // Uint32Array needs an aligned offset
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193) >>> 0;
  return h;
}

/** Writes `data` to `file` via "<file>.tmp" and a rename (atomic on one file system). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Removes temporary files and .bin files the current checkpoint.json does not name. */
export function cleanCheckpointDebris(dir: string): void {
  if (!existsSync(dir)) return;
  let keep: string | null;
  try {
    keep = (JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')) as CheckpointIndex).bin;
  } catch {
    keep = null;
  }
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.tmp') || (BIN_RE.test(f) && f !== keep)) rmSync(join(dir, f), { force: true });
  }
}

/** Commits a checkpoint: `meta` (JSON-able) and the named float32 arrays; `tag` names the .bin. */
export function writeCheckpoint(
  dir: string,
  tag: string,
  meta: unknown,
  arrays: readonly NamedWeight[],
): void {
  if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`A4Mer checkpoint: bad tag "${tag}"`);
  let total = 0;
  const index: CheckpointIndex['arrays'] = [];
  for (const a of arrays) {
    const size = a.shape.reduce((p, q) => p * q, 1);
    if (size !== a.data.length)
      throw new Error(
        `A4Mer checkpoint: array "${a.name}" has ${a.data.length} values for shape [${a.shape}]`,
      );
    index.push({ name: a.name, shape: [...a.shape], offset: total });
    total += size;
  }
  const values = new Float32Array(total);
  arrays.forEach((a, i) => values.set(a.data, index[i].offset));
  const bytes = new Uint8Array(values.buffer);
  const bin = `checkpoint-${tag}.bin`;
  writeFileAtomic(join(dir, bin), bytes);
  const doc: CheckpointIndex = {
    format: CHECKPOINT_FORMAT,
    bin,
    bytes: bytes.byteLength,
    hash: hashWords(bytes),
    arrays: index,
    meta,
  };
  writeFileAtomic(join(dir, CHECKPOINT_FILE), JSON.stringify(doc));
  for (const f of readdirSync(dir)) if (BIN_RE.test(f) && f !== bin) rmSync(join(dir, f), { force: true });
}

export interface LoadedCheckpoint {
  meta: unknown;
  arrays: Map<string, NamedWeight>;
}

/** The committed checkpoint of `dir`, or null when there is none; a damaged one is an Error naming the file. */
export function readCheckpoint(dir: string): LoadedCheckpoint | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  let doc: CheckpointIndex;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as CheckpointIndex;
  } catch (e) {
    throw new Error(`${file}: not a readable A4Mer checkpoint (${(e as Error).message})`, { cause: e });
  }
  if (doc.format !== CHECKPOINT_FORMAT)
    throw new Error(`${file}: format ${JSON.stringify(doc.format)}, expected "${CHECKPOINT_FORMAT}"`);
  const binFile = join(dir, doc.bin);
  if (!BIN_RE.test(doc.bin) || !existsSync(binFile))
    throw new Error(`${file}: its data file ${doc.bin} is missing`);
  const raw = readFileSync(binFile);
  if (raw.byteLength !== doc.bytes || hashWords(raw) !== doc.hash)
    throw new Error(
      `${binFile}: ${raw.byteLength} bytes or hash differ from ${CHECKPOINT_FILE} (damaged checkpoint)`,
    );
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const arrays = new Map<string, NamedWeight>();
  for (const a of doc.arrays) {
    const size = a.shape.reduce((p, q) => p * q, 1);
    if (a.offset + size > values.length) throw new Error(`${file}: array "${a.name}" lies beyond ${doc.bin}`);
    arrays.set(a.name, { name: a.name, shape: a.shape, data: values.slice(a.offset, a.offset + size) });
  }
  return { meta: doc.meta, arrays };
}

/** The arrays under `prefix` ("s1.online/") with the prefix removed. */
export function arraysUnder(arrays: ReadonlyMap<string, NamedWeight>, prefix: string): NamedWeight[] {
  return [...arrays.values()]
    .filter((a) => a.name.startsWith(prefix))
    .map((a) => ({ ...a, name: a.name.slice(prefix.length) }));
}

/** Prefixes names ("s1.online/" + name) for writing. */
export function prefixed(prefix: string, arrays: readonly NamedWeight[]): NamedWeight[] {
  return arrays.map((a) => ({ ...a, name: prefix + a.name }));
}

/** Deletes the checkpoint of `dir` (e.g. once the finished model is registered); model files stay. */
export function removeCheckpoint(dir: string): void {
  rmSync(join(dir, CHECKPOINT_FILE), { force: true });
  cleanCheckpointDebris(dir);
}
