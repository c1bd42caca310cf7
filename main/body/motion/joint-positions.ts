import { readFileSync } from 'node:fs';
import { parseNpy } from '../npz';
import { motionFileError } from './skeleton';

/**
 * Joint-position sequences (no skeleton, no rotations): a CSV with one column per joint coordinate
 * (`Head_x,Head_y,Head_z,...`, optionally `frame` / `time` columns), or a `.npy` of shape
 * [frames, joints, 3] (or [frames, joints * 3]) with the joint names given separately.
 * A name map (source name -> our name) is applied on read.
 */

export interface JointPositionSequence {
  names: string[];
  fps: number;
  frames: number;
  /** frames * joints * 3, metres */
  positions: Float64Array;
  source: string;
}

export interface JointPositionOptions {
  /** source joint name -> our name; names not in it are kept as they are unless `dropUnmapped` */
  nameMap?: Record<string, string>;
  /** keep only the joints named in `nameMap` */
  dropUnmapped?: boolean;
  /** frames per second; default: from a CSV `time` column (seconds), else 30 */
  fps?: number;
  /** metres per file unit (default 1) */
  scale?: number;
  /** empty or NaN coordinates: an error (default) or kept as NaN (missing detections) */
  missing?: 'error' | 'nan';
}

const IGNORED_COLUMNS = new Set(['frame', 'frames', 'index', 'time', 'timestamp', 't']);
const COORD = /^(.+?)[_. :-]([xyz])$/i;

export function parseJointPositionsCsv(
  text: string,
  source: string,
  options: JointPositionOptions = {},
): JointPositionSequence {
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && lines[h].trim() === '') h++;
  if (h === lines.length) throw motionFileError(source, 0, 'empty file');
  const delimiter = lines[h].includes('\t') ? '\t' : lines[h].includes(';') ? ';' : ',';
  const header = lines[h].split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  // Per joint (first appearance order): the columns of x, y, z.
  const joints = new Map<string, number[]>();
  let timeColumn = -1;
  header.forEach((col, c) => {
    const lower = col.toLowerCase();
    if (IGNORED_COLUMNS.has(lower)) {
      if (lower.startsWith('t')) timeColumn = c;
      return;
    }
    const m = COORD.exec(col);
    if (!m)
      throw motionFileError(source, h + 1, `column ${c + 1} '${col}' is not <joint>_x/_y/_z, frame or time`);
    const cols = joints.get(m[1]) ?? [-1, -1, -1];
    const axis = 'xyz'.indexOf(m[2].toLowerCase());
    if (cols[axis] >= 0) throw motionFileError(source, h + 1, `column '${col}' appears twice`);
    cols[axis] = c;
    joints.set(m[1], cols);
  });
  for (const [name, cols] of joints) {
    if (cols.includes(-1))
      throw motionFileError(source, h + 1, `joint '${name}' lacks its ${'xyz'[cols.indexOf(-1)]} column`);
  }
  const picked = pickJoints([...joints.keys()], options, source);
  const scale = options.scale ?? 1;
  const rows: number[] = [];
  for (let i = h + 1; i < lines.length; i++) if (lines[i].trim() !== '') rows.push(i);
  if (rows.length === 0) throw motionFileError(source, h + 1, 'no data rows after the header');
  const J = picked.names.length;
  const positions = new Float64Array(rows.length * J * 3);
  const times: number[] = [];
  const columns = picked.from.map((k) => joints.get(k)!);
  rows.forEach((i, f) => {
    const cells = lines[i].split(delimiter);
    if (cells.length !== header.length) {
      throw motionFileError(source, i + 1, `row has ${cells.length} values, header has ${header.length}`);
    }
    for (let j = 0; j < J; j++) {
      for (let a = 0; a < 3; a++) {
        const c = columns[j][a];
        positions[(f * J + j) * 3 + a] =
          cell(cells[c], options, () =>
            motionFileError(source, i + 1, `'${header[c]}' is not a number: '${cells[c].trim()}'`),
          ) * scale;
      }
    }
    if (timeColumn >= 0) times.push(Number(cells[timeColumn]));
  });
  let fps = options.fps;
  if (fps === undefined && times.length >= 2) {
    fps = (times.length - 1) / (times[times.length - 1] - times[0]);
    if (!(fps > 0 && Number.isFinite(fps)))
      throw motionFileError(source, 0, `cannot derive fps from the '${header[timeColumn]}' column`);
  }
  return { names: picked.names, fps: fps ?? 30, frames: rows.length, positions, source };
}

function cell(text: string, options: JointPositionOptions, error: () => Error): number {
  const t = text.trim();
  const v = t === '' ? NaN : Number(t);
  if (Number.isFinite(v)) return v;
  const isMissing = t === '' || t.toLowerCase() === 'nan';
  if (isMissing && options.missing === 'nan') return NaN;
  throw error();
}

/** Applies the name map: our names, and for each the source name it came from. */
function pickJoints(
  sourceNames: string[],
  options: JointPositionOptions,
  source: string,
): { names: string[]; from: string[] } {
  const map = options.nameMap ?? {};
  const names: string[] = [];
  const from: string[] = [];
  for (const name of sourceNames) {
    const ours = Object.hasOwn(map, name) ? map[name] : options.dropUnmapped ? undefined : name;
    if (ours === undefined) continue;
    const dup = names.indexOf(ours);
    if (dup >= 0)
      throw motionFileError(source, 0, `joints '${from[dup]}' and '${name}' both map to '${ours}'`);
    names.push(ours);
    from.push(name);
  }
  if (names.length === 0) throw motionFileError(source, 0, 'no joints left after the name map');
  return { names, from };
}

export function readJointPositionsCsv(
  path: string,
  options: JointPositionOptions = {},
): JointPositionSequence {
  return parseJointPositionsCsv(readBytes(path).toString('utf8'), path, options);
}

/** A `.npy` float32/float64 array [frames, joints, 3] or [frames, joints * 3]; `names` are the source joint names. */
export function parseJointPositionsNpy(
  bytes: Uint8Array,
  names: readonly string[],
  source: string,
  options: JointPositionOptions = {},
): JointPositionSequence {
  const arr = parseNpy(bytes, source);
  if (arr.dtype !== 'f4' && arr.dtype !== 'f8')
    throw motionFileError(source, 0, `dtype ${arr.dtype}, expected float32 or float64`);
  const [frames, second, third] = arr.shape;
  const joints =
    arr.shape.length === 3 && third === 3
      ? second
      : arr.shape.length === 2 && second % 3 === 0
        ? second / 3
        : -1;
  if (joints < 0)
    throw motionFileError(source, 0, `shape (${arr.shape.join(', ')}), expected (frames, joints, 3)`);
  if (names.length !== joints)
    throw motionFileError(source, 0, `${joints} joints in the array but ${names.length} names given`);
  if (new Set(names).size !== names.length) throw motionFileError(source, 0, 'joint names repeat');
  if (frames === 0) throw motionFileError(source, 0, 'no frames');
  const picked = pickJoints([...names], options, source);
  const J = picked.names.length;
  const scale = options.scale ?? 1;
  const positions = new Float64Array(frames * J * 3);
  const srcIndex = picked.from.map((n) => names.indexOf(n));
  for (let f = 0; f < frames; f++) {
    for (let j = 0; j < J; j++) {
      for (let a = 0; a < 3; a++) {
        const v = arr.data[(f * joints + srcIndex[j]) * 3 + a];
        if (!Number.isFinite(v) && options.missing !== 'nan') {
          throw motionFileError(
            source,
            0,
            `frame ${f} joint '${picked.from[j]}' has a non-finite value ${v}`,
          );
        }
        positions[(f * J + j) * 3 + a] = v * scale;
      }
    }
  }
  return { names: picked.names, fps: options.fps ?? 30, frames, positions, source };
}

export function readJointPositionsNpy(
  path: string,
  names: readonly string[],
  options: JointPositionOptions = {},
): JointPositionSequence {
  // A plain Uint8Array copy: parseNpy slices its input, and Buffer#slice shares (pooled) memory.
  return parseJointPositionsNpy(new Uint8Array(readBytes(path)), names, path, options);
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw motionFileError(
      path,
      0,
      `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}
