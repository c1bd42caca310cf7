import { decodeGrayFrames } from '../capture/gray-frames';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpz } from '../body/npz';
import { validateBoardSpec, type BoardSpec, type LensIntrinsics } from './charuco-board';
import {
  charucoDetectFn,
  localizeFrames,
  type DetectFn,
  type LocalizedFrame,
  type LocalizeOptions,
} from './localize';
import { loadOpenCv, type OpenCv } from './opencv';
import { rotationAngleDeg } from './pnp';

/**
 * Foot-camera localisation against the embedded sample's ground truth (ground_truth.npz
 * `foot_left_pose` / `foot_right_pose`: world -> camera R row-major then t, per frame).
 * Acceptance: rotation median <= 0.5 deg, camera-centre median <= 5 mm over frames with >= 6 corners,
 * and no ambiguous frame accepted (settled by its neighbours) more than 5 deg off.
 */

export interface FootCameraEval {
  camera: string;
  frames: number;
  /** Frames with a pose (measured, settled or interpolated). */
  framesWithPose: number;
  /** Frames scored: a measured or settled pose from >= 6 corners. */
  scored: number;
  rotMedianDeg: number;
  posMedianMm: number;
  rotP95Deg: number;
  posP95Mm: number;
  /** Settled ambiguous frames more than 5 deg off. */
  ambiguousAcceptedOver5Deg: number;
  /** Decisive ('ok', not settled) frames more than 5 deg off. */
  okOver5Deg: number;
  /** Interpolated frames: median errors. */
  interpolatedRotMedianDeg: number | null;
  interpolatedPosMedianMm: number | null;
  counts: Record<string, number>;
  /** Detection + PnP, ms per frame. */
  msPerFrame: number;
  /** Per frame: rotation and centre errors (NaN without a pose), for study. */
  perFrame: FrameError[];
}

export interface FrameError {
  index: number;
  status: string;
  resolved: boolean;
  corners: number;
  boards: number;
  rms: number;
  altError?: number;
  rotDeg: number;
  posMm: number;
  /** Planar frames with two minima: rotation error of the other candidate (deg). */
  altRotDeg?: number;
}

export interface LocalizationEval {
  cameras: FootCameraEval[];
  framesWithPose: number;
  frames: number;
  rotMedianDeg: number;
  posMedianMm: number;
  ambiguousAcceptedOver5Deg: number;
  msPerFrame: number;
}

interface GroundTruthJson {
  boards: BoardSpec[];
  cameras: { name: string; role: string; intrinsics?: LensIntrinsics & { width: number; height: number } }[];
}

/** Reads a sample's foot cameras, boards and true poses. */
export function readFootGroundTruth(dir: string): {
  boards: BoardSpec[];
  feet: {
    name: string;
    intrinsics: LensIntrinsics & { width: number; height: number };
    poses: Float64Array;
  }[];
} {
  const jsonFile = join(dir, 'ground_truth.json');
  const npzFile = join(dir, 'ground_truth.npz');
  const gt = JSON.parse(readFileSync(jsonFile, 'utf8')) as GroundTruthJson;
  if (!Array.isArray(gt.boards) || !Array.isArray(gt.cameras))
    throw new Error(`${jsonFile}: no boards or cameras`);
  gt.boards.forEach(validateBoardSpec);
  const arrays = readNpz(npzFile);
  const feet = gt.cameras
    .filter((c) => c.role === 'foot-left' || c.role === 'foot-right')
    .map((c) => {
      if (!c.intrinsics) throw new Error(`${jsonFile}: camera ${c.name} has no intrinsics`);
      const key = `${c.name.replace('-', '_')}_pose`;
      const a = arrays[key];
      if (!a || a.shape.length !== 2 || a.shape[1] !== 12)
        throw new Error(`${npzFile}: no ${key} (frames x 12)`);
      return {
        name: c.name,
        intrinsics: c.intrinsics,
        poses: Float64Array.from(a.data as ArrayLike<number>),
      };
    });
  if (feet.length === 0) throw new Error(`${jsonFile}: no foot cameras`);
  return { boards: gt.boards, feet };
}

/** Localises both foot videos of a sample folder and scores them against the ground truth. */
export async function evaluateLocalization(
  dir: string,
  options: LocalizeOptions & {
    maxFrames?: number;
    makeDetector?: (
      cv: OpenCv,
      boards: BoardSpec[],
      lens: LensIntrinsics,
    ) => { detect: DetectFn; delete(): void };
  } = {},
  onProgress: (fraction: number, message: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<LocalizationEval> {
  const cv = await loadOpenCv();
  const { boards, feet } = readFootGroundTruth(dir);
  const cameras: FootCameraEval[] = [];
  for (const [k, foot] of feet.entries()) {
    const detector = (options.makeDetector ?? charucoDetectFn)(cv, boards, foot.intrinsics);
    try {
      const total = foot.poses.length / 12;
      const video = join(dir, 'videos', `${foot.name}.mp4`);
      const source = limit(
        decodeGrayFrames(video, foot.intrinsics.width, foot.intrinsics.height, signal),
        options.maxFrames ?? Infinity,
      );
      const result = await localizeFrames(
        cv,
        foot.intrinsics,
        boards,
        source,
        detector.detect,
        { ...options, frameCount: Math.min(total, options.maxFrames ?? Infinity) },
        (f, m) => onProgress((k + f) / feet.length, `${foot.name}: ${m}`),
        signal,
      );
      if (result.frames.length > total)
        throw new Error(`${video}: ${result.frames.length} frames, ground truth has ${total}`);
      cameras.push(score(foot.name, result.frames, foot.poses, result.counts, result.msPerFrame));
    } finally {
      detector.delete();
    }
  }
  const all = cameras.flatMap((c) => c.perFrame.filter(isScored));
  const frames = cameras.reduce((s, c) => s + c.frames, 0);
  return {
    cameras,
    framesWithPose: cameras.reduce((s, c) => s + c.framesWithPose, 0),
    frames,
    rotMedianDeg: median(all.map((e) => e.rotDeg)),
    posMedianMm: median(all.map((e) => e.posMm)),
    ambiguousAcceptedOver5Deg: cameras.reduce((s, c) => s + c.ambiguousAcceptedOver5Deg, 0),
    msPerFrame: cameras.reduce((s, c) => s + c.msPerFrame * c.frames, 0) / Math.max(1, frames),
  };
}

async function* limit<T>(source: AsyncGenerator<T>, n: number): AsyncGenerator<T> {
  if (n <= 0) return;
  let i = 0;
  for await (const item of source) {
    yield item;
    if (++i >= n) return;
  }
}

const isScored = (e: FrameError) => e.status === 'ok' && e.corners >= 6;

/** Rotation angle and camera-centre distance of every frame against the true pose. */
function score(
  camera: string,
  frames: LocalizedFrame[],
  truth: Float64Array,
  counts: Record<string, number>,
  msPerFrame: number,
): FootCameraEval {
  const perFrame = frames.map((f): FrameError => {
    const R = truth.subarray(12 * f.index, 12 * f.index + 9);
    const t = truth.subarray(12 * f.index + 9, 12 * f.index + 12);
    const e: FrameError = {
      index: f.index,
      status: f.status,
      resolved: f.resolved,
      corners: f.corners,
      boards: f.boards.length,
      rms: f.rms,
      altError: f.altError,
      rotDeg: NaN,
      posMm: NaN,
    };
    if (f.R.length === 9) {
      e.rotDeg = rotationAngleDeg(f.R, R);
      e.posMm = 1000 * centreDistance(f.R, f.t, R, t);
    }
    const other = f.candidates?.find((c) => c.R !== f.R);
    if (other) e.altRotDeg = rotationAngleDeg(other.R, R);
    return e;
  });
  const scored = perFrame.filter(isScored);
  const interp = perFrame.filter((e) => e.status === 'interpolated');
  return {
    camera,
    frames: frames.length,
    framesWithPose: perFrame.filter((e) => e.status === 'ok' || e.status === 'interpolated').length,
    scored: scored.length,
    rotMedianDeg: median(scored.map((e) => e.rotDeg)),
    posMedianMm: median(scored.map((e) => e.posMm)),
    rotP95Deg: quantile(
      scored.map((e) => e.rotDeg),
      0.95,
    ),
    posP95Mm: quantile(
      scored.map((e) => e.posMm),
      0.95,
    ),
    ambiguousAcceptedOver5Deg: perFrame.filter((e) => e.resolved && e.rotDeg > 5).length,
    okOver5Deg: perFrame.filter((e) => e.status === 'ok' && !e.resolved && e.rotDeg > 5).length,
    interpolatedRotMedianDeg: interp.length ? median(interp.map((e) => e.rotDeg)) : null,
    interpolatedPosMedianMm: interp.length ? median(interp.map((e) => e.posMm)) : null,
    counts,
    msPerFrame,
    perFrame,
  };
}

/** |C1 - C2| with C = -R^T t. */
function centreDistance(
  R1: ArrayLike<number>,
  t1: ArrayLike<number>,
  R2: ArrayLike<number>,
  t2: ArrayLike<number>,
): number {
  let s = 0;
  for (let k = 0; k < 3; k++) {
    const c1 = -(R1[k] * t1[0] + R1[3 + k] * t1[1] + R1[6 + k] * t1[2]);
    const c2 = -(R2[k] * t2[0] + R2[3 + k] * t2[1] + R2[6 + k] * t2[2]);
    s += (c1 - c2) ** 2;
  }
  return Math.sqrt(s);
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
