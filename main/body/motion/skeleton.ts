import { mat3Mul, mat3MulVec } from '../../geometry/rotation';

/**
 * The common result of the motion readers (ASF/AMC, BVH): a skeleton and, per frame, each joint's
 * global rotation relative to the rest pose and its global position. Conventions:
 * - a joint is the START of its bone; `offsets[j]` is the rest vector from the parent's start to j's start;
 * - global rotations are relative to the rest pose: G_j maps rest-pose vectors of bone j to posed ones,
 *   so posed p_j = p_parent + G_parent offsets[j] and a bone's end = p_j + lengths[j] G_j restDirections[j];
 * - metres, in the file's own axes (both formats are y-up).
 */
export interface MotionSkeleton {
  /** one per bone/joint, parents before children */
  names: string[];
  /** -1 for the root */
  parents: Int32Array;
  /** 3 per joint: rest offset of the joint's start from its parent's start (metres, file axes); the root's is its rest position */
  offsets: Float64Array;
  /** 3 per joint: unit vector of the bone from its start to its end in the rest pose (0 where unknown) */
  restDirections?: Float64Array;
  /** bone length in metres, 0 for the root (ASF) or where the bone has no end */
  lengths?: Float64Array;
}

export interface MotionClip {
  skeleton: MotionSkeleton;
  fps: number;
  frames: number;
  /** the file's up axis (ASF/AMC and BVH are y-up) */
  upAxis: 'y' | 'z';
  /** per frame, per joint: the bone's global rotation (row-major 3x3) relative to the rest pose */
  rotations: Float64Array;
  /** per frame, per joint: global position of the joint start in metres (file axes) */
  positions: Float64Array;
  /** per frame, root translation in metres (file axes) */
  rootTranslation: Float64Array;
  /** file path(s) */
  source: string;
}

/** Which frames to keep, as 0-based indices in file order: from (inclusive), to (exclusive), every step-th. */
export interface FrameRange {
  from?: number;
  to?: number;
  step?: number;
}

/** An Error naming the file, the line (1-based; 0 for the file as a whole) and the problem. */
export function motionFileError(source: string, line: number, problem: string): Error {
  return new Error(line > 0 ? `${source}:${line}: ${problem}` : `${source}: ${problem}`);
}

/** Validated frame range; `step` must be a positive integer. */
export function resolveFrameRange(range: FrameRange, source: string): Required<FrameRange> {
  const from = range.from ?? 0;
  const to = range.to ?? Infinity;
  const step = range.step ?? 1;
  if (!Number.isInteger(from) || from < 0 || !(to >= from) || !Number.isInteger(step) || step < 1) {
    throw motionFileError(source, 0, `bad frame range from=${from} to=${to} step=${step}`);
  }
  return { from, to, step };
}

/** Is file frame `index` (0-based) one of the range's frames? */
export function inFrameRange(index: number, r: Required<FrameRange>): boolean {
  return index >= r.from && index < r.to && (index - r.from) % r.step === 0;
}

/** Empty per-frame arrays for a clip of `frames` frames. */
export function allocateClip(
  skeleton: MotionSkeleton,
  frames: number,
  fps: number,
  source: string,
): MotionClip {
  const J = skeleton.names.length;
  return {
    skeleton,
    fps,
    frames,
    upAxis: 'y',
    rotations: new Float64Array(frames * J * 9),
    positions: new Float64Array(frames * J * 3),
    rootTranslation: new Float64Array(frames * 3),
    source,
  };
}

/**
 * One frame of forward kinematics. `local` holds J rotations L_j relative to the rest pose in the
 * parent's frame, `translations` J local translations t_j (usually the rest offsets; the root's is its
 * absolute position). G_j = G_parent L_j, p_j = p_parent + G_parent t_j, G_root = L_root, p_root = t_root.
 * Writes frame `frame` of `clip.rotations`, `clip.positions` and `clip.rootTranslation`.
 */
export function forwardKinematicsFrame(
  clip: MotionClip,
  frame: number,
  local: Float64Array,
  translations: Float64Array,
): void {
  const parents = clip.skeleton.parents;
  const J = parents.length;
  const G = clip.rotations;
  const P = clip.positions;
  const g0 = frame * J * 9;
  const p0 = frame * J * 3;
  for (let j = 0; j < J; j++) {
    const p = parents[j];
    if (p < 0) {
      for (let m = 0; m < 9; m++) G[g0 + 9 * j + m] = local[9 * j + m];
      for (let c = 0; c < 3; c++) P[p0 + 3 * j + c] = translations[3 * j + c];
      continue;
    }
    mat3Mul(G, g0 + 9 * j, G, g0 + 9 * p, local, 9 * j);
    mat3MulVec(P, p0 + 3 * j, G, g0 + 9 * p, translations, 3 * j);
    for (let c = 0; c < 3; c++) P[p0 + 3 * j + c] += P[p0 + 3 * p + c];
  }
  for (let c = 0; c < 3; c++) clip.rootTranslation[3 * frame + c] = P[p0 + c];
}

/** Rest-pose joint start positions: p_j = p_parent + offsets[j] (J * 3). */
export function restPositions(skeleton: MotionSkeleton): Float64Array {
  const { parents, offsets } = skeleton;
  const out = new Float64Array(offsets.length);
  for (let j = 0; j < parents.length; j++) {
    const p = parents[j];
    for (let c = 0; c < 3; c++) out[3 * j + c] = offsets[3 * j + c] + (p < 0 ? 0 : out[3 * p + c]);
  }
  return out;
}

/** Posed end of bone `joint` at `frame`: p_j + lengths[j] G_j restDirections[j] (the start if unknown). */
export function boneEnd(
  clip: MotionClip,
  frame: number,
  joint: number,
  out = new Float64Array(3),
): Float64Array {
  const { restDirections, lengths } = clip.skeleton;
  const J = clip.skeleton.names.length;
  const p0 = (frame * J + joint) * 3;
  if (restDirections && lengths) {
    mat3MulVec(out, 0, clip.rotations, (frame * J + joint) * 9, restDirections, 3 * joint);
    for (let c = 0; c < 3; c++) out[c] = clip.positions[p0 + c] + lengths[joint] * out[c];
  } else {
    for (let c = 0; c < 3; c++) out[c] = clip.positions[p0 + c];
  }
  return out;
}

/** Index of a joint by name; throws naming the skeleton's source if absent. */
export function jointIndex(skeleton: MotionSkeleton, name: string): number {
  const j = skeleton.names.indexOf(name);
  if (j < 0) throw new Error(`no joint named '${name}' (have ${skeleton.names.join(', ')})`);
  return j;
}
