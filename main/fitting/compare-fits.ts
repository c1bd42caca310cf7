import type { FitSummary } from '../../preload/api';
import type { Db } from '../store/db';
import { getFit, readFitPoses, readFitTrack } from '../store/fits';
import { bodyModelPath, defaultNativeDir, loadFitModel } from './fit-scene';
import { mpjpeMm, posedJoints } from './joint-error';

/**
 * Two fit versions of a session side by side, frame by frame: the mean per-joint position difference
 * of their posed joints (MPJPE over the joints a keypoint layout sees, joint-error.ts) and their
 * quality rows, with a summary of where they differ.
 */

/** A frame "differs" when its MPJPE between the two fits is over this (1 cm). */
export const DIFFER_MM = 10;

export interface FitComparison {
  sessionId: number;
  a: number;
  b: number;
  /** Session frames [start, start + count) both fits cover (within the range asked for). */
  start: number;
  count: number;
  /** Per frame, millimetres. */
  mpjpeMm: Float64Array;
  quality: {
    /** Fit a's quality columns, then b's that a lacks. */
    fields: string[];
    /** count x fields.length each, NaN where the fit has no such column. */
    a: Float32Array;
    b: Float32Array;
  };
  summary: {
    maxMm: number;
    /** Session frame of the largest difference. */
    maxFrame: number;
    medianMm: number;
    meanMm: number;
    /** Frames differing by more than DIFFER_MM. */
    framesOver1cm: number;
    /** Those frames as session-frame ranges [start, end). */
    ranges: [number, number][];
  };
}

async function mustFit(db: Db, fitId: number): Promise<FitSummary> {
  const fit = await getFit(db, fitId);
  if (!fit) throw new Error(`fit #${fitId} does not exist`);
  return fit;
}

/** A fit's quality rows over [start, start + count) in the columns `fields` (NaN where it has none). */
async function qualityIn(
  db: Db,
  fit: FitSummary,
  fields: string[],
  start: number,
  count: number,
): Promise<Float32Array> {
  const rows = (await readFitTrack(db, fit, 'quality', start, count)).data;
  const S = fit.qualityFields.length;
  const out = new Float32Array(count * fields.length).fill(NaN);
  fields.forEach((name, i) => {
    const src = fit.qualityFields.indexOf(name);
    if (src >= 0) for (let f = 0; f < count; f++) out[f * fields.length + i] = rows[f * S + src];
  });
  return out;
}

/**
 * Compares fits a and b of one session over the frames both cover (optionally within session frames
 * [range.start, range.start + range.count)). Both must pose the same skeleton (joint names).
 */
export async function compareFits(
  db: Db,
  fitA: number,
  fitB: number,
  range: { start?: number; count?: number } = {},
  nativeDir = defaultNativeDir(),
): Promise<FitComparison> {
  const a = await mustFit(db, fitA);
  const b = await mustFit(db, fitB);
  if (a.sessionId !== b.sessionId)
    throw new Error(
      `fit #${a.id} (session #${a.sessionId}) and fit #${b.id} (session #${b.sessionId}) are not versions of one session`,
    );
  const where = `session #${a.sessionId}: fits #${a.id} and #${b.id}`;
  const lo = Math.max(a.firstFrame, b.firstFrame, range.start ?? 0);
  const hi = Math.min(
    a.firstFrame + a.frameCount,
    b.firstFrame + b.frameCount,
    range.count === undefined ? Infinity : (range.start ?? 0) + range.count,
  );
  if (!(hi > lo))
    throw new Error(`${where} share no frame${range.start !== undefined ? ' in the range' : ''}`);
  const count = hi - lo;

  const modelA = loadFitModel(bodyModelPath(nativeDir, a.bodyModel));
  const modelB = loadFitModel(bodyModelPath(nativeDir, b.bodyModel));
  const names = modelA.jointNames;
  if (names.join('\n') !== modelB.jointNames.join('\n'))
    throw new Error(`${where} pose different skeletons (${a.bodyModel}, ${b.bodyModel})`);
  const pa = await readFitPoses(db, a, lo, count);
  const pb = await readFitPoses(db, b, lo, count);
  const ja = posedJoints(modelA, a.betas, pa.theta, pa.transl);
  const jb = posedJoints(modelB, b.betas, pb.theta, pb.transl);

  const J3 = names.length * 3;
  const mpjpe = new Float64Array(count);
  for (let f = 0; f < count; f++)
    mpjpe[f] = mpjpeMm(ja.subarray(f * J3, (f + 1) * J3), jb.subarray(f * J3, (f + 1) * J3), names);

  const fields = [...a.qualityFields, ...b.qualityFields.filter((q) => !a.qualityFields.includes(q))];
  return {
    sessionId: a.sessionId,
    a: a.id,
    b: b.id,
    start: lo,
    count,
    mpjpeMm: mpjpe,
    quality: {
      fields,
      a: await qualityIn(db, a, fields, lo, count),
      b: await qualityIn(db, b, fields, lo, count),
    },
    summary: summarise(mpjpe, lo),
  };
}

/** Max (and where), median, mean, and the frames over DIFFER_MM as ranges; NaN frames are skipped. */
export function summarise(mpjpe: Float64Array, start: number): FitComparison['summary'] {
  const finite = Array.from(mpjpe).filter(Number.isFinite);
  const sorted = finite.sort((x, y) => x - y);
  let maxFrame = start;
  let maxMm = sorted.length ? -Infinity : NaN;
  const ranges: [number, number][] = [];
  let over = 0;
  for (let f = 0; f < mpjpe.length; f++) {
    if (mpjpe[f] > maxMm) [maxMm, maxFrame] = [mpjpe[f], start + f];
    if (!(mpjpe[f] > DIFFER_MM)) continue;
    over++;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start + f) last[1]++;
    else ranges.push([start + f, start + f + 1]);
  }
  const m = sorted.length >> 1;
  return {
    maxMm,
    maxFrame,
    medianMm: sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2,
    meanMm: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    framesOver1cm: over,
    ranges,
  };
}
