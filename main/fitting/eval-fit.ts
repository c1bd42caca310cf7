import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readNpz } from '../body/npz';
import { localizeSession } from '../calibration/localize-job';
import { importSession, type JobContext } from '../capture/import-session';
import { rigidAlign } from '../geometry/procrustes';
import { insertJob } from '../store/jobs';
import { openLibrary } from '../store/library';
import { getFit, readFitPoses } from '../store/fits';
import { runFitJob, type FitJobResult } from './fit-job';
import { mpjpeMm, posedJoints, UNSEEN_JOINTS } from './joint-error';
import { loadFitModel, bodyModelPath, defaultNativeDir } from './fit-scene';

/**
 * The fit against the embedded sample's ground truth, through the real pipeline: import the sample
 * into a scratch library, localise its foot cameras, then fit three versions (everything; without the
 * foot cameras; without the ground term) and compare with ground_truth.npz.
 *
 * - MPJPE / PA-MPJPE over the model joints BODY_25 can see (fingers and thumbs excluded), every frame;
 *   PA aligns each frame by a similarity transform first.
 * - occludedFootErrMm: mean foot-joint error over the leg-occlusion stretch, frames where an ankle is
 *   seen by fewer than two room cameras (ground truth `visible_room_N`), with and without foot cameras.
 * - maxPenetrationMm: deepest mesh vertex below the floor over the fit, with and without the ground term.
 */
export interface FitEval {
  mpjpeMm: number;
  paMpjpeMm: number;
  occludedFootErrMm: { with: number; without: number };
  maxPenetrationMm: { with: number; without: number };
  framesPerSecond: number;
  occludedFrames: number;
  frames: number;
  medianReprojectionPx: number;
  mountErrorMm: number[];
}

const ANKLES = ['LAnkle', 'RAnkle'];
const FEET = ['LeftFoot', 'RightFoot'];

export async function evaluateFit(
  sampleDir: string,
  progress: (fraction: number, message: string) => void = () => undefined,
): Promise<FitEval> {
  const dataDir = mkdtempSync(join(tmpdir(), 'studio-eval-fit-'));
  const db = await openLibrary(dataDir);
  try {
    const signal = new AbortController().signal;
    const ctxFor = async (
      kind: 'import' | 'localize' | 'fit',
      from: number,
      to: number,
    ): Promise<JobContext> => ({
      jobId: await insertJob(db, kind, {}),
      signal,
      progress: (f, m) => progress(from + (to - from) * f, m),
    });
    const { sessionId } = await importSession(db, sampleDir, await ctxFor('import', 0, 0.05));
    await localizeSession(db, { sessionId }, await ctxFor('localize', 0.05, 0.35));
    const withAll = await runFitJob(db, { sessionId }, await ctxFor('fit', 0.35, 0.6));
    const noFoot = await runFitJob(db, { sessionId, footCameras: false }, await ctxFor('fit', 0.6, 0.75));
    const noGround = await runFitJob(db, { sessionId, ground: false }, await ctxFor('fit', 0.75, 1));
    const truth = readTruth(sampleDir);
    const score = async (r: FitJobResult) => scoreFit(truth, await fittedJoints(db, r));
    const a = await score(withAll);
    const b = await score(noFoot);
    return {
      mpjpeMm: a.mpjpeMm,
      paMpjpeMm: a.paMpjpeMm,
      occludedFootErrMm: { with: a.occludedFootErrMm, without: b.occludedFootErrMm },
      maxPenetrationMm: { with: withAll.stats.maxPenetrationMm, without: noGround.stats.maxPenetrationMm },
      framesPerSecond: withAll.stats.framesPerSecond,
      occludedFrames: a.occludedFrames,
      frames: truth.frames,
      medianReprojectionPx: withAll.stats.medianReprojectionPx,
      mountErrorMm: (withAll.stats.mounts ?? []).map((m) => {
        const gt = truth.mounts.find((g) => g.name === m.camera);
        return gt ? Math.hypot(...m.offset.map((o, i) => (o - gt.offset[i]) * 1000)) : NaN;
      }),
    };
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Truth {
  frames: number;
  jointNames: string[];
  /** frames x J x 3 */
  joints: Float32Array;
  /** Frames of the leg-occlusion stretch. */
  occluded: boolean[];
  mounts: { name: string; offset: number[] }[];
}

function readTruth(dir: string): Truth {
  const json = JSON.parse(readFileSync(join(dir, 'ground_truth.json'), 'utf8')) as {
    frames: number;
    model: { jointNames: string[] };
    keypoints: { names: string[] };
    cameras: { name: string; role: string }[];
    mounts: { name: string; offset: number[] }[];
  };
  const npz = readNpz(join(dir, 'ground_truth.npz'));
  const F = json.frames;
  const K = json.keypoints.names.length;
  const ankles = ANKLES.map((n) => json.keypoints.names.indexOf(n));
  const rooms = json.cameras
    .filter((c) => c.role === 'room')
    .map((c) => npz[`visible_${c.name.replace('-', '_')}`]);
  const occluded = Array.from({ length: F }, (_, f) =>
    ankles.some((k) => rooms.reduce((s, v) => s + (v && Number(v.data[f * K + k]) > 0 ? 1 : 0), 0) < 2),
  );
  return {
    frames: F,
    jointNames: json.model.jointNames,
    joints: Float32Array.from(npz.joints.data as ArrayLike<number>),
    occluded,
    mounts: json.mounts,
  };
}

/** Posed joints of every frame of a stored fit, frames x J x 3 (session frames from 0, NaN before the fit). */
async function fittedJoints(
  db: Awaited<ReturnType<typeof openLibrary>>,
  r: FitJobResult,
): Promise<Float32Array> {
  const fit = await getFit(db, r.fitId);
  if (!fit) throw new Error(`fit #${r.fitId} was not stored`);
  const model = loadFitModel(bodyModelPath(defaultNativeDir(), fit.bodyModel));
  const poses = await readFitPoses(db, fit, fit.firstFrame, fit.frameCount);
  const J = model.numJoints;
  const out = new Float32Array((fit.firstFrame + fit.frameCount) * J * 3).fill(NaN);
  out.set(posedJoints(model, fit.betas, poses.theta, poses.transl), fit.firstFrame * J * 3);
  return out;
}

function scoreFit(truth: Truth, fitted: Float32Array) {
  const J = truth.jointNames.length;
  const used = truth.jointNames.flatMap((n, j) => (UNSEEN_JOINTS.test(n) ? [] : [j]));
  const feet = FEET.map((n) => truth.jointNames.indexOf(n));
  let paSum = 0;
  let count = 0;
  let footSum = 0;
  let footCount = 0;
  const src = new Float64Array(used.length * 3);
  const dst = new Float64Array(used.length * 3);
  const R = new Float64Array(9);
  const t = new Float64Array(3);
  for (let f = 0; f < truth.frames; f++) {
    const base = f * J * 3;
    if (!Number.isFinite(fitted[base])) continue;
    used.forEach((j, i) => {
      for (let c = 0; c < 3; c++) {
        src[i * 3 + c] = fitted[base + j * 3 + c];
        dst[i * 3 + c] = truth.joints[base + j * 3 + c];
      }
    });
    count += used.length;
    paSum += procrustesError(src, dst, R, t) * used.length;
    if (truth.occluded[f])
      for (const j of feet) {
        const d = [0, 1, 2].map((c) => fitted[base + j * 3 + c] - truth.joints[base + j * 3 + c]);
        footSum += Math.hypot(d[0], d[1], d[2]);
        footCount++;
      }
  }
  return {
    mpjpeMm: mpjpeMm(fitted, truth.joints, truth.jointNames),
    paMpjpeMm: (paSum / count) * 1000,
    occludedFootErrMm: footCount ? (footSum / footCount) * 1000 : NaN,
    occludedFrames: truth.occluded.filter(Boolean).length,
  };
}

/** Mean distance after the best similarity transform of src onto dst (rotation, translation, scale). */
function procrustesError(src: Float64Array, dst: Float64Array, R: Float64Array, t: Float64Array): number {
  const n = src.length / 3;
  rigidAlign(src, dst, new Float64Array(n).fill(1), R, t);
  // Scale about the centroids: s = sum (R a_i) . b_i / sum |a_i|^2 with centred points.
  const ca = [0, 0, 0];
  const cb = [0, 0, 0];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      ca[c] += src[i * 3 + c] / n;
      cb[c] += dst[i * 3 + c] / n;
    }
  const ra = new Float64Array(n * 3);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++)
    for (let r = 0; r < 3; r++) {
      let v = 0;
      for (let c = 0; c < 3; c++) v += R[r * 3 + c] * (src[i * 3 + c] - ca[c]);
      ra[i * 3 + r] = v;
      num += v * (dst[i * 3 + r] - cb[r]);
      den += v * v;
    }
  const s = den > 0 ? num / den : 1;
  let err = 0;
  for (let i = 0; i < n; i++)
    err += Math.hypot(
      s * ra[i * 3] + cb[0] - dst[i * 3],
      s * ra[i * 3 + 1] + cb[1] - dst[i * 3 + 1],
      s * ra[i * 3 + 2] + cb[2] - dst[i * 3 + 2],
    );
  return err / n;
}
