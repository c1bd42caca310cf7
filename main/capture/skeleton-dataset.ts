import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { encodeNpy } from '../body/npz';
import { encodeCsvSequence, readCsvSequence, readNpySequence } from './skeleton-sequence-files';
import { ImportError } from './errors';
import { isWithin } from './paths';

/**
 * The generic labeled skeleton dataset, a folder:
 *
 *   dataset.json          {"version": 1, "fps": 30, "joints": ["HipCenter", ...], ...} (schema below)
 *   sequences/<name>.npy  float32/float64 array of shape (T, J, 3): T frames, J joints in dataset.json order
 *   sequences/<name>.csv  or the same as text: one row per frame, J*3 columns x,y,z per joint, optional
 *                         header `<joint>_x,<joint>_y,<joint>_z,...`
 *   labels.csv            optional; header `sequence,start_frame,end_frame,label`, one labelled segment a row
 *
 * Positions are in metres in the studio's world convention (Z up, floor z = 0). Frames are 0-based
 * indices on a regular grid at `fps`. A label covers frames start_frame <= t < end_frame (end exclusive,
 * so adjacent actions share a boundary number and a label lasts end - start frames). Labels of one
 * sequence must not overlap unless dataset.json says `"labelsMayOverlap": true` (multi-label datasets);
 * the strict default catches typos in hand-made label files. Sequence names are file stems
 * (letters, digits, `._-`); names, joints, subjects and labels carry no commas, quotes or line breaks
 * (the CSV files are read without quoting). `sequences` in dataset.json is optional: without it every
 * .npy/.csv in sequences/ is a sequence (sorted by name); with it, each entry may name its `file` (relative,
 * inside the folder), a `subject` (for by-subject splits), the expected `frames` and free-form `meta`.
 * The writer lists every sequence, writes .npy as float32 (exact) or .csv with 6 decimals (micrometres),
 * and replaces the folder atomically (temporary folder beside it, then rename).
 */

export const DATASET_FILE = 'dataset.json';
export const LABELS_FILE = 'labels.csv';
export const SEQUENCES_DIR = 'sequences';
export const LABELS_HEADER = 'sequence,start_frame,end_frame,label';

export type SequenceFormat = 'npy' | 'csv';

export interface SkeletonSequence {
  name: string;
  subject?: string;
  /** T */
  frames: number;
  /** T x J x 3 world positions in metres, frame-major: ((t * J) + j) * 3 + axis */
  positions: Float32Array;
  /** free-form per-sequence notes (provenance, conversion figures), kept in dataset.json */
  meta?: Record<string, unknown>;
}

/** Frames start <= t < end of one sequence carry `label`. */
export interface SkeletonLabel {
  sequence: string;
  start: number;
  end: number;
  label: string;
}

export interface SkeletonDataset {
  name: string;
  fps: number;
  joints: string[];
  /** parent joint index per joint, -1 for a root (for drawing bones); optional */
  parents?: number[];
  labelsMayOverlap?: boolean;
  sequences: SkeletonSequence[];
  /** sorted by sequence order, then start frame */
  labels: SkeletonLabel[];
  /** free-form provenance (where the data came from, how it was converted) */
  source?: Record<string, unknown>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TEXT_RE = /^[^,"\r\n]+$/;
const csvSafe = z.string().regex(TEXT_RE, 'must be non-empty, without commas, quotes or line breaks');
const sequenceName = z.string().regex(NAME_RE, 'must be letters, digits, ".", "_" or "-" (a file stem)');

const sequenceSchema = z.strictObject({
  name: sequenceName,
  file: z.string().min(1).optional(),
  subject: csvSafe.optional(),
  frames: z.number().int().positive().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** `dataset.json`, version 1. */
export const datasetJsonSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1).optional(),
  fps: z.number().positive(),
  joints: z.array(csvSafe).min(1),
  parents: z.array(z.number().int().min(-1)).optional(),
  labelsMayOverlap: z.boolean().optional(),
  sequences: z.array(sequenceSchema).min(1).optional(),
  source: z.record(z.string(), z.unknown()).optional(),
});
export type DatasetJson = z.infer<typeof datasetJsonSchema>;

/** Joint names unique, parents in range and acyclic; errors name `where`. */
function checkSkeleton(
  joints: readonly string[],
  parents: readonly number[] | undefined,
  where: string,
): void {
  const seen = new Set<string>();
  for (const j of joints) {
    if (seen.has(j)) throw new ImportError(where, `joint "${j}" is listed twice`);
    seen.add(j);
  }
  if (!parents) return;
  if (parents.length !== joints.length)
    throw new ImportError(where, `parents has ${parents.length} entries for ${joints.length} joints`);
  parents.forEach((p, j) => {
    if (p >= joints.length) throw new ImportError(where, `parents[${j}] = ${p} is not a joint index`);
    // Walking up from j must reach a root within J steps, else there is a cycle.
    let k = j;
    for (let steps = 0; k !== -1; steps++) {
      if (steps > joints.length) throw new ImportError(where, `parents form a cycle through "${joints[j]}"`);
      k = parents[k];
    }
  });
}

/** Every coordinate finite; the error names the frame, joint and axis. */
function checkFinite(positions: Float32Array, joints: readonly string[], where: string): void {
  for (let i = 0; i < positions.length; i++) {
    if (Number.isFinite(positions[i])) continue;
    const j = Math.floor(i / 3) % joints.length;
    const t = Math.floor(i / 3 / joints.length);
    throw new ImportError(
      where,
      `${positions[i]} at frame ${t}, joint ${joints[j]}, ${'xyz'[i % 3]} (positions must be finite)`,
    );
  }
}

/**
 * Labels name known sequences, lie inside them (0 <= start < end <= T) and, unless `mayOverlap`,
 * do not overlap within a sequence; `where(i)` names the i-th label's origin (file and line).
 */
function checkLabels(
  labels: readonly SkeletonLabel[],
  frames: ReadonlyMap<string, number>,
  mayOverlap: boolean,
  where: (i: number) => string,
): void {
  const lastEnd = new Map<string, { end: number; i: number }>();
  const order = labels.map((_, i) => i).sort((a, b) => labels[a].start - labels[b].start);
  labels.forEach((l, i) => {
    const T = frames.get(l.sequence);
    if (T === undefined) throw new ImportError(where(i), `unknown sequence "${l.sequence}"`);
    if (!TEXT_RE.test(l.label))
      throw new ImportError(where(i), `label "${l.label}" is empty or has a comma/quote`);
    if (
      !Number.isInteger(l.start) ||
      !Number.isInteger(l.end) ||
      l.start < 0 ||
      l.end <= l.start ||
      l.end > T
    )
      throw new ImportError(
        where(i),
        `frames [${l.start}, ${l.end}) of "${l.label}" are not inside sequence "${l.sequence}" ` +
          `(0 <= start_frame < end_frame <= ${T})`,
      );
  });
  if (mayOverlap) return;
  for (const i of order) {
    const l = labels[i];
    const prev = lastEnd.get(l.sequence);
    if (prev && l.start < prev.end) {
      const p = labels[prev.i];
      throw new ImportError(
        where(i),
        `"${l.label}" [${l.start}, ${l.end}) overlaps "${p.label}" [${p.start}, ${p.end}) in "${l.sequence}" ` +
          `(set "labelsMayOverlap": true in dataset.json if that is intended)`,
      );
    }
    if (!prev || l.end > prev.end) lastEnd.set(l.sequence, { end: l.end, i });
  }
}

/** Everything `readSkeletonDataset` checks, on an in-memory dataset (run before writing one). */
export function checkSkeletonDataset(data: SkeletonDataset, where = 'dataset'): void {
  const header = datasetJsonSchema.safeParse(toJson(data));
  if (!header.success) throw zodError(where, header.error);
  checkSkeleton(data.joints, data.parents, where);
  const frames = new Map<string, number>();
  for (const s of data.sequences) {
    if (frames.has(s.name)) throw new ImportError(where, `sequence "${s.name}" appears twice`);
    const at = `${where} (sequence ${s.name})`;
    if (s.positions.length !== s.frames * data.joints.length * 3)
      throw new ImportError(
        at,
        `${s.positions.length} values do not make ${s.frames} x ${data.joints.length} x 3 positions`,
      );
    checkFinite(s.positions, data.joints, at);
    frames.set(s.name, s.frames);
  }
  checkLabels(data.labels, frames, data.labelsMayOverlap ?? false, (i) => `${where} (labels[${i}])`);
}

function zodError(file: string, error: z.ZodError): ImportError {
  const issue = error.issues[0];
  return new ImportError(file, `${issue.path.join('.') || 'top level'}: ${issue.message}`);
}

/** A path named by dataset.json, resolved inside the dataset folder (no absolute paths, `..` or symlink escapes). */
function resolveInDataset(root: string, rel: string, namedBy: string): string {
  if (isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel))
    throw new ImportError(namedBy, `path "${rel}" is absolute; paths are relative to the dataset folder`);
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, rel);
  if (!isWithin(realRoot, target)) throw new ImportError(namedBy, `path "${rel}" escapes the dataset folder`);
  if (!existsSync(target)) throw new ImportError(namedBy, `sequence file "${rel}" is missing`, 'not-found');
  if (!isWithin(realRoot, realpathSync(target)))
    throw new ImportError(namedBy, `path "${rel}" links outside the dataset folder`);
  return target;
}

/** The sequence files: as dataset.json lists them, or every .npy/.csv in sequences/. */
type SequenceEntry = z.infer<typeof sequenceSchema> & { file: string };

function sequenceFiles(root: string, header: DatasetJson, jsonPath: string): SequenceEntry[] {
  if (header.sequences) {
    return header.sequences.map((s) => {
      const where = `${jsonPath} (sequence ${s.name})`;
      if (s.file) return { ...s, file: resolveInDataset(root, s.file, where) };
      const npy = join(SEQUENCES_DIR, `${s.name}.npy`);
      const csv = join(SEQUENCES_DIR, `${s.name}.csv`);
      const rel = existsSync(join(root, npy)) ? npy : existsSync(join(root, csv)) ? csv : null;
      if (!rel) throw new ImportError(where, `sequence file ${npy} (or .csv) is missing`, 'not-found');
      return { ...s, file: resolveInDataset(root, rel, where) };
    });
  }
  const dir = join(root, SEQUENCES_DIR);
  if (!existsSync(dir))
    throw new ImportError(dir, 'missing (no sequences listed in dataset.json either)', 'not-found');
  const found = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) {
    const ext = extname(f);
    if (ext !== '.npy' && ext !== '.csv') continue;
    const name = basename(f, ext);
    if (!NAME_RE.test(name)) throw new ImportError(join(dir, f), `"${name}" is not a valid sequence name`);
    if (found.has(name))
      throw new ImportError(join(dir, f), `sequence "${name}" is there as both .npy and .csv`);
    found.set(name, resolveInDataset(root, join(SEQUENCES_DIR, f), jsonPath));
  }
  if (found.size === 0) throw new ImportError(dir, 'no .npy or .csv sequence files', 'not-found');
  return [...found].map(([name, file]) => ({ name, file }));
}

function readLabels(file: string, frames: ReadonlyMap<string, number>, mayOverlap: boolean): SkeletonLabel[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines[0]?.trim() !== LABELS_HEADER)
    throw new ImportError(file, `first line must be the header "${LABELS_HEADER}", got "${lines[0] ?? ''}"`);
  const labels: SkeletonLabel[] = [];
  const lineOf: number[] = [];
  lines.forEach((line, n) => {
    if (n === 0 || line.trim() === '') return;
    const f = line.split(',').map((s) => s.trim());
    if (f.length !== 4)
      throw new ImportError(file, `line ${n + 1} has ${f.length} fields, expected 4 (${LABELS_HEADER})`);
    if (!/^\d+$/.test(f[1]) || !/^\d+$/.test(f[2]))
      throw new ImportError(
        file,
        `line ${n + 1}: start_frame "${f[1]}" / end_frame "${f[2]}" are not frame numbers`,
      );
    labels.push({ sequence: f[0], start: Number(f[1]), end: Number(f[2]), label: f[3] });
    lineOf.push(n + 1);
  });
  checkLabels(labels, frames, mayOverlap, (i) => `${file} line ${lineOf[i]}`);
  return sortLabels(labels, [...frames.keys()]);
}

function sortLabels(labels: SkeletonLabel[], order: readonly string[]): SkeletonLabel[] {
  const rank = new Map(order.map((n, i) => [n, i]));
  return labels.sort(
    (a, b) => rank.get(a.sequence)! - rank.get(b.sequence)! || a.start - b.start || a.end - b.end,
  );
}

/** Reads and validates a dataset folder; every error names the file and the problem. */
export function readSkeletonDataset(dir: string): SkeletonDataset {
  const root = resolve(dir);
  const jsonPath = join(root, DATASET_FILE);
  if (!existsSync(jsonPath))
    throw new ImportError(jsonPath, 'not found (not a skeleton dataset folder)', 'not-found');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new ImportError(jsonPath, `malformed JSON (${(err as Error).message})`);
  }
  const parsed = datasetJsonSchema.safeParse(raw);
  if (!parsed.success) throw zodError(jsonPath, parsed.error);
  const header = parsed.data;
  checkSkeleton(header.joints, header.parents, jsonPath);
  const sequences: SkeletonSequence[] = [];
  const frames = new Map<string, number>();
  for (const s of sequenceFiles(root, header, jsonPath)) {
    if (frames.has(s.name)) throw new ImportError(jsonPath, `sequence "${s.name}" is listed twice`);
    const ext = extname(s.file);
    if (ext !== '.npy' && ext !== '.csv')
      throw new ImportError(jsonPath, `sequence "${s.name}": file ${s.file} is neither .npy nor .csv`);
    const positions =
      ext === '.npy' ? readNpySequence(s.file, header.joints) : readCsvSequence(s.file, header.joints);
    const T = positions.length / (header.joints.length * 3);
    if (s.frames !== undefined && s.frames !== T)
      throw new ImportError(
        s.file,
        `${T} frames, but dataset.json says sequence "${s.name}" has ${s.frames}`,
      );
    checkFinite(positions, header.joints, s.file);
    frames.set(s.name, T);
    sequences.push({ name: s.name, subject: s.subject, frames: T, positions, meta: s.meta });
  }
  const mayOverlap = header.labelsMayOverlap ?? false;
  return {
    name: header.name ?? basename(root),
    fps: header.fps,
    joints: header.joints,
    parents: header.parents,
    labelsMayOverlap: mayOverlap,
    sequences,
    labels: readLabels(join(root, LABELS_FILE), frames, mayOverlap),
    source: header.source,
  };
}

/** dataset.json's content for `data` (the sequences listed with their files, frame counts and subjects). */
function toJson(data: SkeletonDataset, format: SequenceFormat = 'npy'): DatasetJson {
  return {
    version: 1,
    name: data.name,
    fps: data.fps,
    joints: data.joints,
    ...(data.parents ? { parents: data.parents } : {}),
    ...(data.labelsMayOverlap ? { labelsMayOverlap: true } : {}),
    sequences: data.sequences.map((s) => ({
      name: s.name,
      file: `${SEQUENCES_DIR}/${s.name}.${format}`,
      ...(s.subject !== undefined ? { subject: s.subject } : {}),
      frames: s.frames,
      ...(s.meta ? { meta: s.meta } : {}),
    })),
    ...(data.source ? { source: data.source } : {}),
  };
}

/**
 * Writes `data` as a dataset folder at `dir`, atomically: everything goes to a temporary folder beside
 * it, which is then renamed into place, so a failed write leaves no half-written dataset (and an existing
 * dataset at `dir` is replaced only once the new one is complete). A folder at `dir` that is neither
 * empty nor a dataset is never replaced.
 */
export function writeSkeletonDataset(
  dir: string,
  data: SkeletonDataset,
  format: SequenceFormat = 'npy',
): void {
  const target = resolve(dir);
  checkSkeletonDataset(data, target);
  if (existsSync(target)) {
    const isDataset = existsSync(join(target, DATASET_FILE));
    if (!statSync(target).isDirectory() || (!isDataset && readdirSync(target).length > 0))
      throw new Error(`${target}: exists and is not a skeleton dataset; not replacing it`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = mkdtempSync(join(dirname(target), `.${basename(target)}.partial-`));
  try {
    mkdirSync(join(tmp, SEQUENCES_DIR));
    for (const s of data.sequences) {
      const file = join(tmp, SEQUENCES_DIR, `${s.name}.${format}`);
      if (format === 'npy')
        writeFileSync(
          file,
          encodeNpy({ dtype: 'f4', shape: [s.frames, data.joints.length, 3], data: s.positions }),
        );
      else writeFileSync(file, encodeCsvSequence(s.positions, data.joints));
    }
    const labels = sortLabels(
      [...data.labels],
      data.sequences.map((s) => s.name),
    );
    const rows = labels.map((l) => `${l.sequence},${l.start},${l.end},${l.label}`);
    writeFileSync(join(tmp, LABELS_FILE), [LABELS_HEADER, ...rows].join('\n') + '\n');
    writeFileSync(join(tmp, DATASET_FILE), formatJson(toJson(data, format)));
    swapInto(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `${target}: writing the dataset failed (${(err as Error).message}); nothing was changed`,
      {
        cause: err,
      },
    );
  }
}

/** Two-space JSON with arrays of numbers or strings on one line (joint lists, parents, ranges). */
function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[[^[\]{}]*\]/g, (a) => a.replace(/\s*\n\s*/g, ' ')) + '\n';
}

/** Renames `tmp` to `target`; an existing `target` is moved aside first and restored if the rename fails. */
function swapInto(tmp: string, target: string): void {
  if (!existsSync(target)) return renameSync(tmp, target);
  const old = `${tmp}.old`;
  renameSync(target, old);
  try {
    renameSync(tmp, target);
  } catch (err) {
    renameSync(old, target);
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
}

export { csvHeader, encodeCsvSequence } from './skeleton-sequence-files';
export {
  frameLabels,
  labelVocabulary,
  summarizeSkeletonDataset,
  type SkeletonDatasetSummary,
} from './skeleton-dataset-summary';
