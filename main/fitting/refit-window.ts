import { FIT_FLAGS, type FitSummary } from '../../preload/api';
import { CancelledError, throwIfAborted } from '../capture/errors';
import type { JobContext } from '../capture/import-session';
import type { Db } from '../store/db';
import { listUserKeypoints } from '../store/fit-corrections';
import { getFit, readFitPoses, readFitTrack, saveFit } from '../store/fits';
import { getSession } from '../store/sessions';
import { createBodyState } from './body-state';
import { DEFAULT_FIT_CONFIG, type FitConfig } from './config';
import { readFitInput } from './fit-job';
import { defaultNativeDir } from './fit-scene';
import { fitBodyLayout, priorFileFor } from './fit-sequence';
import { reprojectionErrors, sequenceFromPoses, sliceFitInput } from './fit-sequence-state';
import { buildObservations } from './observations';
import { loadPosePrior } from './prior/pose-prior';
import { frameQuality, sequenceTheta } from './quality';
import type { FootMount } from './terms/foot-camera';
import type { FitResult } from './types';
import { placeUserKeypoints, USER_KEYPOINT_WEIGHT, userKeypointTerm } from './user-keypoints';
import { solveWindow, type FootConstraint, type WindowContext } from './windows';

/**
 * Re-fits a window of frames of a stored fit around the user's corrections, as a new fit version: the
 * base fit's per-frame arrays with the window's frames replaced. The window is solved as one problem
 * (the windows.ts solve, all its terms, the base fit's config, betas and foot-camera mounts), started
 * from the base fit's poses, with the base fit's frames just before and after it held fixed and joined
 * by the temporal term, so the new frames meet the old ones. The observations are the fit job's, with
 * each user keypoint in place of the detector's keypoint of the same camera, frame and joint (weighted
 * as user-keypoints.ts says).
 */

/** LM iterations of the window solve (a 30-frame window converges in ~10-20 from the base fit). */
export const REFIT_ITERATIONS = 30;

export interface RefitParams {
  sessionId: number;
  baseFitId: number;
  /** The window: session frames [start, start + count), within the base fit. */
  start: number;
  count: number;
  /**
   * Base-fit frames held fixed on either side of the window: 1 (default) joins the window to its
   * neighbours through the temporal term (first order: only the adjacent frame couples), 0 leaves the
   * window's edges free.
   */
  margin?: number;
}

/** What a refit version's config records beside the base fit's config. */
export interface RefitRecord {
  baseFitId: number;
  start: number;
  count: number;
  margin: number;
  userKeypoints: number;
  userKeypointWeight: number;
  iterations: number;
}

export interface RefitResult {
  fitId: number;
  sessionId: number;
  baseFitId: number;
  start: number;
  count: number;
  /** User keypoints that entered the solve. */
  userKeypoints: number;
  solver: { iterations: number; initialCost: number; finalCost: number; termination: string };
  notes: string[];
  stats: FitSummary['stats'];
}

/** 'refit of #12 frames 40–70' (inclusive frames, for the version list). */
export function refitLabel(baseFitId: number, start: number, count: number): string {
  return `refit of #${baseFitId} frames ${start}–${start + count - 1}`;
}

/** The base fit's stored config as a FitConfig (keys a version lacks come from the default). */
function storedConfig(fit: FitSummary): FitConfig {
  const c = fit.config as Partial<FitConfig> & { refit?: unknown };
  const d = structuredClone(DEFAULT_FIT_CONFIG);
  const { refit: _refit, ...rest } = c;
  return {
    ...d,
    ...rest,
    weights: { ...d.weights, ...c.weights },
    window: { ...d.window, ...c.window },
    triangulation: { ...d.triangulation, ...c.triangulation },
    flags: { ...d.flags, ...c.flags },
  };
}

/** Runs a refit and stores it as a new fit version (one transaction: a cancelled refit stores nothing). */
export async function runRefitJob(
  db: Db,
  params: RefitParams,
  ctx: JobContext,
  nativeDir = defaultNativeDir(),
): Promise<RefitResult> {
  const t0 = performance.now();
  ctx.progress(0, 'reading the base fit');
  const { sessionId, baseFitId, start, count } = params;
  const margin = params.margin ?? 1;
  const session = await getSession(db, sessionId);
  if (!session) throw new Error(`session #${sessionId} does not exist`);
  const where = `session #${session.id} (${session.name})`;
  const base = await getFit(db, baseFitId);
  if (!base) throw new Error(`${where}: fit #${baseFitId} does not exist`);
  if (base.sessionId !== sessionId)
    throw new Error(
      `${where}: fit #${baseFitId} is a fit of session #${base.sessionId}, not of this session`,
    );
  const baseEnd = base.firstFrame + base.frameCount;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(count) ||
    count < 1 ||
    start < base.firstFrame ||
    start + count > baseEnd
  )
    throw new Error(
      `${where}: refit window [${start}, ${start + count}) is not within fit #${baseFitId}'s frames [${base.firstFrame}, ${baseEnd})`,
    );
  if (margin !== 0 && margin !== 1)
    throw new Error(`${where}: refit margin ${margin} must be 0 (free edges) or 1 (held neighbours)`);

  // The base fit's frames, and the session's observations over them (the fit job's reading).
  const config = storedConfig(base);
  const { input, bodyModel, notes } = await readFitInput(
    db,
    { sessionId, start: base.firstFrame, count: base.frameCount, footCameras: config.footCameras },
    nativeDir,
  );
  if (bodyModel !== base.bodyModel)
    throw new Error(
      `${where}: its subject's body model is now ${bodyModel}, fit #${baseFitId} posed ${base.bodyModel}; run a new fit`,
    );
  const { model } = input;
  const poses = await readFitPoses(db, base, base.firstFrame, base.frameCount);
  const quality = (await readFitTrack(db, base, 'quality', base.firstFrame, base.frameCount)).data;
  const J = model.numJoints;
  if (poses.count !== base.frameCount || poses.theta.length !== base.frameCount * J * 3)
    throw new Error(`fit #${baseFitId}: its poses do not cover its ${base.frameCount} frames of ${J} joints`);

  const viewOfCamera = new Map<number, number>();
  for (const cam of session.cameras) {
    const v = input.views.findIndex((view) => view.name === cam.name);
    if (v >= 0) viewOfCamera.set(cam.id, v);
  }
  const userKps = await listUserKeypoints(db, sessionId, { start: base.firstFrame, count: base.frameCount });
  const placed = placeUserKeypoints(input, viewOfCamera, userKps);

  // The problem: the window plus its held neighbours (frame indices relative to the base fit).
  const w0 = start - base.firstFrame;
  const w1 = w0 + count;
  const from = margin ? Math.max(0, w0 - 1) : w0;
  const to = margin ? Math.min(base.frameCount, w1 + 1) : w1;
  const part = sliceFitInput(input, from, to - from);
  const obs = buildObservations(part, config);
  const userTerm = userKeypointTerm(obs, placed, from);
  const prior = loadPosePrior(priorFileFor(model.file));
  // The base fit's keypoint calibration (its map), so the window is solved and scored as it was.
  const layout = fitBodyLayout(model, prior, obs, base.stats.keypointCalibration);
  const betas = Float64Array.from(base.betas);
  if (betas.length !== model.numBetas)
    throw new Error(`fit #${baseFitId}: ${betas.length} betas for ${model.name}'s ${model.numBetas}`);

  // Foot cameras as the base fit saw them: its quality columns name them, its stats carry their mounts.
  const mounts = base.stats.mounts ?? [];
  const footNames = base.qualityFields.filter((q) => q.startsWith('footCamMm:')).map((q) => q.slice(10));
  const qualityFeet = footNames.map((name) => {
    const cam = part.footCameras.find((c) => c.name === name);
    if (!cam)
      throw new Error(
        `${where}: foot camera ${name} of fit #${baseFitId} is no longer localised; run a new fit`,
      );
    const m = mounts.find((e) => e.camera === name);
    const mount: FootMount | null = m
      ? { joint: model.jointNames.indexOf(m.joint), R: m.R, offset: m.offset }
      : null;
    if (mount && mount.joint < 0)
      throw new Error(`fit #${baseFitId}: mount joint ${m!.joint} is not a joint of ${model.name}`);
    return { cam, mount };
  });
  const feet: FootConstraint[] = config.footCameras
    ? qualityFeet.flatMap(({ cam, mount }) =>
        mount ? [{ mount, poses: cam.poses, weights: cam.weights }] : [],
      )
    : [];
  const wctx: WindowContext = {
    layout,
    betas,
    prior,
    obs,
    viewNames: part.views.map((v) => v.name),
    config,
    feet,
    extraBlocks: userTerm.blocks,
  };

  const slice = (a: Float32Array, per: number, s: number, e: number) => a.subarray(s * per, e * per);
  const seq = sequenceFromPoses(
    layout,
    slice(poses.theta, J * 3, from, to),
    slice(poses.transl, 3, from, to),
  );
  const states = Array.from({ length: to - from }, () => createBodyState(layout, betas));
  throwIfAborted(ctx.signal);
  ctx.progress(0.1, `refitting frames ${start}–${start + count - 1}`);
  const summary = solveWindow(
    wctx,
    seq,
    states,
    w0 - from,
    w1 - from,
    REFIT_ITERATIONS,
    ctx.signal,
    undefined,
    true,
  );
  if (summary.termination === 'cancelled') throw new CancelledError();
  ctx.progress(0.8, 'quality of the refit');
  userTerm.restore();

  // The new version: the base fit's arrays with the window's rows replaced.
  const theta = Float32Array.from(poses.theta);
  const transl = Float32Array.from(poses.transl);
  const merged = Float32Array.from(quality);
  const solved = sequenceTheta(wctx, seq, prior.fixedJoints);
  const S = base.qualityFields.length;
  theta.set(slice(solved, J * 3, w0 - from, w1 - from), w0 * J * 3);
  for (let f = w0; f < w1; f++) transl.set(seq.x.subarray((f - from) * seq.n, (f - from) * seq.n + 3), f * 3);
  const q = frameQuality(wctx, seq, states[0], solved, qualityFeet, config);
  if (q.fields.join('\n') !== base.qualityFields.join('\n'))
    throw new Error(
      `${where}: the refit's quality columns (${q.fields.join(', ')}) differ from fit #${baseFitId}'s (${base.qualityFields.join(', ')}); run a new fit`,
    );
  merged.set(slice(q.data, S, w0 - from, w1 - from), w0 * S);
  reflagReprojection(merged, S, input.views.length, w0, w1, config);

  const state = createBodyState(layout, betas);
  const errors = reprojectionErrors(
    state,
    sequenceFromPoses(layout, theta, transl),
    input.views,
    config.minConfidence,
  );
  errors.sort();
  const column = (name: string) =>
    Array.from({ length: base.frameCount }, (_, f) => merged[f * S + base.qualityFields.indexOf(name)]);
  const flags = column('flags');
  const stats: FitSummary['stats'] = {
    medianReprojectionPx: errors.length ? errors[errors.length >> 1] : NaN,
    maxPenetrationMm: column('maxPenetrationMm').reduce((m, v) => (v > m ? v : m), 0),
    flaggedFrames: flags.filter((v) => v !== 0).length,
    framesPerSecond: count / ((performance.now() - t0) / 1000),
    ...(mounts.length ? { mounts } : {}),
    ...(base.stats.keypointCalibration ? { keypointCalibration: base.stats.keypointCalibration } : {}),
  };
  const refit: RefitRecord = {
    baseFitId,
    start,
    count,
    margin,
    userKeypoints: placed.filter((p) => p.frame >= w0 && p.frame < w1).length,
    userKeypointWeight: USER_KEYPOINT_WEIGHT,
    iterations: REFIT_ITERATIONS,
  };
  const result: FitResult = {
    betas,
    theta,
    transl,
    qualityFields: base.qualityFields,
    quality: merged,
    mounts,
    stats,
    config: { ...config, refit } as FitConfig,
  };
  throwIfAborted(ctx.signal);
  ctx.progress(0.99, 'storing the refit');
  const fitId = await saveFit(db, sessionId, ctx.jobId, result, {
    bodyModel: base.bodyModel,
    jointNames: model.jointNames,
    firstFrame: base.firstFrame,
    frameCount: base.frameCount,
    label: refitLabel(baseFitId, start, count),
  });
  if (refit.userKeypoints === 0) notes.push(`no user keypoint in frames ${start}–${start + count - 1}`);
  return {
    fitId,
    sessionId,
    baseFitId,
    start,
    count,
    userKeypoints: refit.userKeypoints,
    solver: {
      iterations: summary.iterations,
      initialCost: summary.initialCost,
      finalCost: summary.finalCost,
      termination: summary.termination,
    },
    notes,
    stats,
  };
}

/**
 * The reprojection flag of the window's frames against the whole version: a view is flagged over
 * max(flags.reprojectionPx, 2.5 x the median view RMS of all frames), as frameQuality decides it for a
 * whole fit (the window alone would set its own median).
 */
function reflagReprojection(
  quality: Float32Array,
  S: number,
  views: number,
  w0: number,
  w1: number,
  config: FitConfig,
): void {
  const rms: number[] = [];
  const frames = quality.length / S;
  for (let f = 0; f < frames; f++)
    for (let c = 0; c < views; c++) if (Number.isFinite(quality[f * S + c])) rms.push(quality[f * S + c]);
  rms.sort((a, b) => a - b);
  const limit = Math.max(config.flags.reprojectionPx, 2.5 * (rms[rms.length >> 1] ?? 0));
  for (let f = w0; f < w1; f++) {
    let flags = quality[f * S + S - 1] & ~FIT_FLAGS.reprojection;
    for (let c = 0; c < views; c++) if (quality[f * S + c] > limit) flags |= FIT_FLAGS.reprojection;
    quality[f * S + S - 1] = flags;
  }
}
