import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ImportError } from './errors';
import type { SkeletonDataset, SkeletonLabel, SkeletonSequence } from './skeleton-dataset';

/**
 * UTKinect-Action3D (Xia, Chen & Aggarwal 2012): 20 recordings (10 subjects x 2) of a Kinect v1 skeleton.
 * `joints/joints_sXX_eYY.txt`: a line per tracked frame, `frameId x1 y1 z1 ... x20 y20 z20`, metres in
 * Kinect skeleton space. `joints/actionLabel*.txt`: per recording, 10 actions with their first and last
 * frame id. Frame ids count the sensor's 30 fps frames; only frames with a tracked skeleton were written,
 * so ids skip (and about 2% are written twice with slightly different joints, a Kinect API quirk).
 *
 * Conversion to the generic skeleton dataset:
 * - Frame grid: 30 fps, frame t of a sequence = frame id firstId + t, so t = id - firstId; frames whose id
 *   was not written are linearly interpolated between the nearest written ids (runs of >= 0.5 s are listed
 *   in the sequence's meta.longGaps); of a repeated id the first line is kept.
 * - Labels are in frame ids and go through the same map: an action with ids [first, last] (inclusive) covers
 *   frames [first - firstId, last - firstId + 1). Where one action's last id is the next one's first (the
 *   label files share boundary frames), that frame goes to the later action, so labels do not overlap.
 *   Actions whose ids are NaN in the label file are skipped with a warning.
 * - Coordinates: Kinect skeleton space is right-handed, origin at the sensor, x to the sensor's left,
 *   y up, z away from the sensor (towards the person). World (Z up, floor z = 0):
 *     X = -x (sensor's right), Y = z (away from the sensor), Z = y - floorY,
 *   a proper rotation (det +1, left/right joints keep their sides) plus a shift. floorY, per recording, is
 *   the median over its frames of the lower foot joint's y, so feet standing on the floor are at z ~ 0 and
 *   the sensor is at (0, 0, -floorY). The sensor's tilt is not corrected: the files carry no floor plane,
 *   and foot-based plane fits on this data disagree by several degrees between recordings.
 */

/** Kinect for Windows SDK v1 skeleton joints, in NUI_SKELETON_POSITION_INDEX order (the file's order). */
export const KINECT_V1_JOINTS = [
  'HipCenter',
  'Spine',
  'ShoulderCenter',
  'Head',
  'ShoulderLeft',
  'ElbowLeft',
  'WristLeft',
  'HandLeft',
  'ShoulderRight',
  'ElbowRight',
  'WristRight',
  'HandRight',
  'HipLeft',
  'KneeLeft',
  'AnkleLeft',
  'FootLeft',
  'HipRight',
  'KneeRight',
  'AnkleRight',
  'FootRight',
] as const;

/** The Kinect v1 bone tree (parent per joint, HipCenter the root). */
export const KINECT_V1_PARENTS = [-1, 0, 1, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18];

export const UTKINECT_FPS = 30;
export const UTKINECT_ACTIONS = [
  'walk',
  'sitDown',
  'standUp',
  'pickUp',
  'carry',
  'throw',
  'push',
  'pull',
  'waveHands',
  'clapHands',
] as const;

const J = KINECT_V1_JOINTS.length;
const FOOT_LEFT = KINECT_V1_JOINTS.indexOf('FootLeft');
const FOOT_RIGHT = KINECT_V1_JOINTS.indexOf('FootRight');
/** Interpolated runs at least this long (frames, 0.5 s) are listed in meta.longGaps. */
const LONG_GAP_FRAMES = 15;

export interface KinectRecording {
  /** written frame ids, strictly increasing (repeats dropped) */
  ids: Int32Array;
  /** ids.length x 20 x 3, metres, Kinect skeleton space */
  positions: Float64Array;
  /** lines dropped because their id repeated the previous line's */
  repeated: number;
}

/** One `joints_sXX_eYY.txt`; a repeated frame id keeps its first line. */
export function parseUtKinectJoints(text: string, file: string): KinectRecording {
  const lines = text.split(/\r?\n/);
  const ids: number[] = [];
  const positions: number[] = [];
  let repeated = 0;
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length !== 1 + J * 3)
      throw new ImportError(
        file,
        `line ${n + 1} has ${f.length} values, expected ${1 + J * 3} (frame id + 20 x 3)`,
      );
    const bad = f.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ImportError(file, `line ${n + 1}, value ${bad + 1} is not a number`);
    const id = f[0];
    const last = ids[ids.length - 1];
    if (!Number.isInteger(id) || id < 0)
      throw new ImportError(file, `line ${n + 1}: frame id ${id} is not a whole number`);
    if (id < last)
      throw new ImportError(file, `line ${n + 1}: frame id ${id} after ${last} (ids must not decrease)`);
    if (id === last) {
      repeated++;
      return;
    }
    ids.push(id);
    for (let i = 1; i < f.length; i++) positions.push(f[i]);
  });
  if (ids.length === 0) throw new ImportError(file, 'no frames');
  return { ids: Int32Array.from(ids), positions: Float64Array.from(positions), repeated };
}

/** Kinect y of the floor: the median over frames of the lower foot joint's y. */
export function floorKinectY(positions: Float64Array): number {
  const n = positions.length / (J * 3);
  const lower = new Float64Array(n);
  for (let k = 0; k < n; k++)
    lower[k] = Math.min(positions[(k * J + FOOT_LEFT) * 3 + 1], positions[(k * J + FOOT_RIGHT) * 3 + 1]);
  lower.sort();
  return n % 2 ? lower[(n - 1) / 2] : 0.5 * (lower[n / 2 - 1] + lower[n / 2]);
}

/** In place: Kinect skeleton space -> world, X = -x, Y = z, Z = y - floorY (see the file comment). */
export function kinectToWorld(positions: Float64Array, floorY: number): void {
  for (let i = 0; i < positions.length; i += 3) {
    const x = positions[i];
    const y = positions[i + 1];
    const z = positions[i + 2];
    positions[i] = -x;
    positions[i + 1] = z;
    positions[i + 2] = y - floorY;
  }
}

export interface FrameGrid {
  frames: number;
  /** frames x 20 x 3 */
  positions: Float32Array;
  interpolated: number;
  longestGap: number;
  /** [start, end) frame ranges of interpolated runs >= 0.5 s */
  longGaps: Array<[number, number]>;
}

/** Written frames onto the 30 fps grid t = id - ids[0]; missing ids are linearly interpolated. */
export function toFrameGrid(ids: Int32Array, positions: Float64Array): FrameGrid {
  const width = J * 3;
  const frames = ids[ids.length - 1] - ids[0] + 1;
  const out = new Float32Array(frames * width);
  const longGaps: Array<[number, number]> = [];
  let longestGap = 0;
  for (let k = 0; k < ids.length; k++) {
    const t0 = ids[k] - ids[0];
    for (let c = 0; c < width; c++) out[t0 * width + c] = positions[k * width + c];
    if (k + 1 === ids.length) break;
    const t1 = ids[k + 1] - ids[0];
    const gap = t1 - t0 - 1;
    longestGap = Math.max(longestGap, gap);
    if (gap >= LONG_GAP_FRAMES) longGaps.push([t0 + 1, t1]);
    for (let t = t0 + 1; t < t1; t++) {
      const a = (t - t0) / (t1 - t0); // p(t) = (1 - a) p(t0) + a p(t1)
      for (let c = 0; c < width; c++)
        out[t * width + c] = (1 - a) * positions[k * width + c] + a * positions[(k + 1) * width + c];
    }
  }
  return { frames, positions: out, interpolated: frames - ids.length, longestGap, longGaps };
}

/** An action of the label file, in frame ids (inclusive); null ids where the file says NaN. */
export interface UtKinectAction {
  label: string;
  firstId: number | null;
  lastId: number | null;
}

/** `actionLabel.txt`: a recording name line (`s01_e01`), then `action: first last` lines. */
export function parseUtKinectLabels(text: string, file: string): Map<string, UtKinectAction[]> {
  const out = new Map<string, UtKinectAction[]>();
  let current: UtKinectAction[] | null = null;
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '') return;
    const action = /^(\w+):\s*(\S+)\s+(\S+)$/.exec(line);
    if (!action) {
      if (!/^s\d+_e\d+$/.test(line))
        throw new ImportError(
          file,
          `line ${n + 1}: "${line}" is neither a recording (sXX_eYY) nor "action: first last"`,
        );
      if (out.has(line)) throw new ImportError(file, `line ${n + 1}: recording ${line} is listed twice`);
      out.set(line, (current = []));
      return;
    }
    if (!current) throw new ImportError(file, `line ${n + 1}: action before the first recording name`);
    const [, label, a, b] = action;
    if (a === 'NaN' || b === 'NaN') return current.push({ label, firstId: null, lastId: null });
    if (!/^\d+$/.test(a) || !/^\d+$/.test(b))
      throw new ImportError(file, `line ${n + 1}: frame ids "${a} ${b}" are not whole numbers`);
    if (Number(b) < Number(a))
      throw new ImportError(file, `line ${n + 1}: last frame id ${b} before first ${a}`);
    current.push({ label, firstId: Number(a), lastId: Number(b) });
  });
  return out;
}

/**
 * One recording's actions as labels on its frame grid (ids -> t = id - firstId, end exclusive), sorted;
 * a boundary frame shared by consecutive actions goes to the later one. Skipped actions go to `warnings`.
 */
export function labelsOnGrid(
  recording: string,
  actions: readonly UtKinectAction[],
  firstId: number,
  frames: number,
  labelsFile: string,
  warnings: string[],
): SkeletonLabel[] {
  const labels: SkeletonLabel[] = [];
  for (const a of actions) {
    if (a.firstId === null || a.lastId === null) {
      warnings.push(`${recording} ${a.label}: no frame ids (NaN) in ${basename(labelsFile)}; skipped`);
      continue;
    }
    const start = a.firstId - firstId;
    const end = a.lastId - firstId + 1;
    if (start < 0 || end > frames)
      throw new ImportError(
        labelsFile,
        `${recording} ${a.label}: frame ids ${a.firstId}-${a.lastId} are outside the recording (ids ${firstId}-${firstId + frames - 1})`,
      );
    labels.push({ sequence: recording, start, end, label: a.label });
  }
  labels.sort((p, q) => p.start - q.start || p.end - q.end);
  for (let i = 0; i + 1 < labels.length; i++)
    if (labels[i].end === labels[i + 1].start + 1) labels[i].end = labels[i + 1].start;
  return labels;
}

export interface UtKinectConversion {
  dataset: SkeletonDataset;
  labelsFile: string;
  observedFrames: number;
  interpolatedFrames: number;
  repeatedFrameIds: number;
  /** skipped actions, overlapping labels, recordings without labels */
  warnings: string[];
}

export interface UtKinectOptions {
  /** label file (default joints/actionLabel_modified.txt, the corrected list, else joints/actionLabel.txt) */
  labelsFile?: string;
  onProgress?: (done: number, total: number, recording: string) => void;
}

/** The joints folder of a UTKinect path: `<path>/joints` or `<path>` itself. */
function jointsFolder(path: string): string {
  const root = resolve(path);
  const dir = existsSync(join(root, 'joints')) ? join(root, 'joints') : root;
  if (!existsSync(dir)) throw new ImportError(root, 'not found', 'not-found');
  return dir;
}

/** Converts a UTKinect-Action3D folder into the generic skeleton dataset (see the file comment). */
export function convertUtKinect(path: string, options: UtKinectOptions = {}): UtKinectConversion {
  const dir = jointsFolder(path);
  const files = readdirSync(dir)
    .filter((f) => /^joints_s\d+_e\d+\.txt$/.test(f))
    .sort();
  if (files.length === 0)
    throw new ImportError(dir, 'no joints_sXX_eYY.txt files (not the UTKinect joints folder)');
  const labelsFile = options.labelsFile
    ? resolve(options.labelsFile)
    : [join(dir, 'actionLabel_modified.txt'), join(dir, 'actionLabel.txt')].find((f) => existsSync(f));
  if (!labelsFile || !existsSync(labelsFile))
    throw new ImportError(labelsFile ?? join(dir, 'actionLabel.txt'), 'label file not found', 'not-found');
  const actions = parseUtKinectLabels(readFileSync(labelsFile, 'utf8'), labelsFile);
  const warnings: string[] = [];
  const sequences: SkeletonSequence[] = [];
  const labels: SkeletonLabel[] = [];
  let observedFrames = 0;
  let interpolatedFrames = 0;
  let repeatedFrameIds = 0;
  files.forEach((f, i) => {
    const name = f.slice('joints_'.length, -'.txt'.length);
    options.onProgress?.(i, files.length, name);
    const file = join(dir, f);
    const rec = parseUtKinectJoints(readFileSync(file, 'utf8'), file);
    const floorY = floorKinectY(rec.positions);
    kinectToWorld(rec.positions, floorY);
    const grid = toFrameGrid(rec.ids, rec.positions);
    const firstId = rec.ids[0];
    observedFrames += rec.ids.length;
    interpolatedFrames += grid.interpolated;
    repeatedFrameIds += rec.repeated;
    sequences.push({
      name,
      subject: name.split('_')[0],
      frames: grid.frames,
      positions: grid.positions,
      meta: {
        file: f,
        firstFrameId: firstId,
        lastFrameId: rec.ids[rec.ids.length - 1],
        observedFrames: rec.ids.length,
        repeatedFrameIds: rec.repeated,
        interpolatedFrames: grid.interpolated,
        longestGapFrames: grid.longestGap,
        longGaps: grid.longGaps,
        sensorWorld: [0, 0, round6(-floorY)],
      },
    });
    const own = actions.get(name);
    if (!own) warnings.push(`${name}: no actions in ${basename(labelsFile)}`);
    else labels.push(...labelsOnGrid(name, own, firstId, grid.frames, labelsFile, warnings));
  });
  options.onProgress?.(files.length, files.length, 'done');
  for (const rec of actions.keys())
    if (!sequences.some((s) => s.name === rec))
      warnings.push(`${rec}: labelled but no joints_${rec}.txt; skipped`);
  const overlaps = countOverlaps(labels);
  if (overlaps > 0)
    warnings.push(`${overlaps} labels overlap the previous one (dataset marked labelsMayOverlap)`);
  const dataset: SkeletonDataset = {
    name: 'utkinect',
    fps: UTKINECT_FPS,
    joints: [...KINECT_V1_JOINTS],
    parents: [...KINECT_V1_PARENTS],
    labelsMayOverlap: overlaps > 0,
    sequences,
    labels,
    source: {
      dataset: 'UTKinect-Action3D (Xia, Chen & Aggarwal, CVPR Workshops 2012), joints and action labels',
      joints: 'Kinect for Windows SDK v1 skeleton, 20 joints in NUI_SKELETON_POSITION_INDEX order',
      labels: basename(labelsFile),
      frames:
        'frame t = UTKinect frame id meta.firstFrameId + t (30 fps ids); ids not written are linearly ' +
        'interpolated (meta.longGaps lists runs >= 0.5 s); a repeated id keeps its first line',
      labelFrames:
        'action ids [first, last] (inclusive) -> frames [first - firstFrameId, last - firstFrameId + 1); ' +
        'a boundary frame shared by consecutive actions goes to the later one',
      coordinates:
        'world X = -x_kinect (sensor right), Y = z_kinect (away from the sensor), Z = y_kinect - floorY (up); ' +
        'floorY = median over frames of the lower foot joint y; sensor tilt not corrected; sensor at meta.sensorWorld',
      warnings,
    },
  };
  return { dataset, labelsFile, observedFrames, interpolatedFrames, repeatedFrameIds, warnings };
}

function countOverlaps(labels: readonly SkeletonLabel[]): number {
  let n = 0;
  let reach = 0; // the furthest end so far in the current sequence
  labels.forEach((l, i) => {
    if (i > 0 && l.sequence !== labels[i - 1].sequence) reach = 0;
    if (l.start < reach) n++;
    reach = Math.max(reach, l.end);
  });
  return n;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
