import { existsSync } from 'node:fs';
import { compileKeypointMap } from '../body/landmarks';
import { CancelledError } from '../capture/errors';
import {
  createBodyLayout,
  createBodyState,
  evaluateBodyState,
  setRootRef,
  type BodyState,
} from './body-state';
import { fitConfig, type FitConfig } from './config';
import { hasTorso, initFrame } from './init-pose';
import { estimateMount } from './mount';
import {
  adjustedKeypointMap,
  calibrateKeypoints,
  type CalibrationSample,
  type KeypointCalibration,
} from './keypoint-calibration';
import { buildObservations, sliceObservations, type Observations } from './observations';
import { loadPosePrior } from './prior/pose-prior';
import { createLMWorkspace } from './solver/lm';
import { frameQuality, sequenceTheta } from './quality';
import { estimateBetas } from './shape';
import type { FootMount } from './terms/foot-camera';
import { groundVertices } from './terms/ground';
import type { FitFootCamera, FitInput, FitProgress, FitResult, MountEstimate } from './types';
import {
  copyFrame,
  createSequence,
  solveWindow,
  windowStates,
  type Sequence,
  type WindowContext,
} from './windows';

/** The pose prior shipped beside a model file: models/x.npz -> models/x.prior.json. */
export function priorFileFor(modelFile: string): string {
  const file = modelFile.replace(/\.(npz|pkl)$/i, '') + '.prior.json';
  if (!existsSync(file))
    throw new Error(`${modelFile}: no pose prior (${file}); make one with \`studio body fit-prior\``);
  return file;
}

/** A warm start further than this (mean torso distance, metres) from the triangulation is re-initialised. */
const REINIT_DISTANCE = 0.25;

/**
 * The parameter layout of a fit: the prior's free joints, the observed keypoints (as the session's
 * keypoint calibration maps them, when there is one), the floor vertices.
 */
export function fitBodyLayout(
  model: FitInput['model'],
  prior: ReturnType<typeof loadPosePrior>,
  obs: Observations,
  calibration?: KeypointCalibration,
): ReturnType<typeof createBodyLayout> {
  const map = calibration
    ? adjustedKeypointMap(model, compileKeypointMap(model, obs.layout), calibration)
    : obs.layout;
  return createBodyLayout(
    model,
    prior.joints,
    map,
    groundVertices(model.vTemplate, model.upAxis),
    prior.fixedJoints,
  );
}

/**
 * Fits the body to every frame (SMPLify-X extended to many views, with the AMD ground and foot-camera
 * constraints): shape from the subject or estimated once, Procrustes + IK initialisation, then
 * Levenberg-Marquardt over sliding windows. With foot cameras, a first pass without them gives the
 * visual fit the per-session mounts are estimated from; a second pass adds the foot-camera term.
 */
export async function fitSequence(
  input: FitInput,
  config: FitConfig = fitConfig(),
  progress?: FitProgress,
  signal?: AbortSignal,
): Promise<FitResult> {
  const t0 = performance.now();
  const { model } = input;
  const prior = loadPosePrior(priorFileFor(model.file));
  const obs = buildObservations(input, config);
  const defaultLayout = fitBodyLayout(model, prior, obs);
  const betas = input.betas
    ? Float64Array.from(input.betas)
    : estimateBetas(defaultLayout, obs, config.weights.shapePrior).betas;
  const ctx: WindowContext = {
    layout: defaultLayout,
    betas,
    prior,
    obs,
    viewNames: input.views.map((v) => v.name),
    config,
    feet: [],
  };
  const kc = config.keypointCalibration;
  // Calibrate on the frames from the first one with a triangulated torso (where a pass can start).
  let calStart = 0;
  while (calStart < input.frameCount && !hasTorso(ctx, calStart)) calStart++;
  const calibrating = kc?.enabled === true && kc.rounds >= 1 && kc.frames >= 1 && calStart < input.frameCount;
  const calFrames = calibrating ? Math.min(input.frameCount - calStart, kc.frames) : 0;
  const cams = config.footCameras ? input.footCameras.filter((c) => c.weights.some((w) => w > 0)) : [];
  // Progress in pass units: a calibration round covers only its frames.
  const units = [
    (calFrames * (calibrating ? kc.rounds : 0)) / input.frameCount,
    1,
    ...(cams.length ? [1] : []),
  ];
  const total = units.reduce((s, u) => s + u, 0);
  const report = (pass: number, message: string) => (fraction: number) =>
    progress?.((units.slice(0, pass).reduce((s, u) => s + u, 0) + fraction * units[pass]) / total, message);

  let keypointCalibration: KeypointCalibration | undefined;
  if (calibrating) {
    keypointCalibration = await calibrateSession(
      ctx,
      calStart,
      calFrames,
      report(0, 'calibrating keypoints'),
      signal,
    );
    ctx.layout = fitBodyLayout(model, prior, obs, keypointCalibration);
  }
  const seq = createSequence(input.frameCount, ctx.layout.n);
  const states = windowStates(ctx);
  const passes = cams.length ? 2 : 1;
  const label = (pass: number) => (passes > 1 ? `fitting (pass ${pass + 1} of 2)` : 'fitting');
  await runPass(ctx, seq, states, false, report(1, label(0)), signal);
  const feet: { cam: FitFootCamera; mount: FootMount | null }[] = [];
  const mounts: MountEstimate[] = [];
  if (cams.length) {
    for (const cam of cams) {
      const est = estimateMount(ctx, seq, states[0], cam);
      feet.push({ cam, mount: est?.mount ?? null });
      if (est) mounts.push(est.estimate);
    }
    ctx.feet = feet.flatMap(({ cam, mount }) =>
      mount ? [{ mount, poses: cam.poses, weights: cam.weights }] : [],
    );
    if (ctx.feet.length) await runPass(ctx, seq, states, true, report(2, label(1)), signal);
  }
  const theta = sequenceTheta(ctx, seq, prior.fixedJoints);
  const quality = frameQuality(ctx, seq, states[0], theta, feet, config);
  const transl = new Float32Array(input.frameCount * 3);
  for (let f = 0; f < input.frameCount; f++) transl.set(seq.x.subarray(f * seq.n, f * seq.n + 3), f * 3);
  const seconds = (performance.now() - t0) / 1000;
  progress?.(1, 'fitted');
  return {
    betas,
    theta,
    transl,
    qualityFields: quality.fields,
    quality: quality.data,
    mounts,
    config,
    stats: {
      medianReprojectionPx: quality.medianReprojectionPx,
      medianKeptReprojectionPx: quality.medianKeptReprojectionPx,
      maxPenetrationMm: quality.maxPenetrationMm,
      flaggedFrames: quality.flaggedFrames,
      framesPerSecond: input.frameCount / seconds,
      ...(mounts.length ? { mounts } : {}),
      ...(keypointCalibration ? { keypointCalibration } : {}),
    },
  };
}

/**
 * Keypoint calibration on frames [start, start + frames): a pass with the current map, the keypoints
 * re-regressed against their triangulation (keypoint-calibration.ts), `rounds` times (alternating:
 * the poses improve with the map, the map with the poses). Each round regresses from the default
 * landmarks, so the result is one adjustment of the default map.
 */
async function calibrateSession(
  ctx: WindowContext,
  start: number,
  frames: number,
  progress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<KeypointCalibration> {
  const { layout: base, obs, config, prior } = ctx;
  const { minViews, ridge, rounds } = config.keypointCalibration;
  const K = obs.keypoints;
  const state = createBodyState(base, ctx.betas);
  const sub = sliceObservations(obs, start, frames);
  let part: WindowContext = { ...ctx, obs: sub, feet: [] };
  let calibration: KeypointCalibration | undefined;
  for (let round = 0; round < rounds; round++) {
    const seq = createSequence(frames, base.n);
    const states = windowStates(part);
    await runPass(part, seq, states, false, (x) => progress((round + x) / rounds), signal);
    const samples: CalibrationSample[] = [];
    for (let f = 0; f < frames; f++) {
      setRootRef(state, seq.rootR.subarray(f * 9, f * 9 + 9));
      evaluateBodyState(state, seq.x.subarray(f * seq.n, (f + 1) * seq.n), false);
      const target = new Float64Array(K * 3).fill(NaN);
      for (let k = 0; k < K; k++)
        if (sub.pointViews[f * K + k] >= minViews)
          target.set(sub.points3d.subarray((f * K + k) * 3, (f * K + k) * 3 + 3), k * 3);
      samples.push({
        joints: Float64Array.from(state.ws.joints),
        keypoints: Float64Array.from(state.keypoints),
        target,
      });
    }
    calibration = calibrateKeypoints(base.model, base.keypointMap!, samples, ridge);
    part = { ...part, layout: fitBodyLayout(base.model, prior, obs, calibration) };
  }
  return calibration!;
}

/**
 * One sweep of sliding windows over the sequence. Cold: each new frame starts from its predecessor (or
 * from Procrustes + IK at the start and wherever the warm start drifted from the triangulated torso).
 * Warm: frames already hold a solution (the previous pass).
 */
async function runPass(
  ctx: WindowContext,
  seq: Sequence,
  states: BodyState[],
  warm: boolean,
  progress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  let lastYield = performance.now();
  // Windows of the same shape (all but the first and the last) reuse the solver's buffers.
  const workspace = createLMWorkspace();
  const F = ctx.obs.frames;
  const { size, stride, iterations } = ctx.config.window;
  let filled = 0;
  if (!warm) {
    let f0 = 0;
    while (f0 < F && !hasTorso(ctx, f0)) f0++;
    if (f0 === F || !initFrame(ctx, seq, states[0], f0))
      throw new Error('fit: no frame has three triangulated torso keypoints to start from');
    for (let f = 0; f < f0; f++) copyFrame(seq, f0, f);
    filled = f0 + 1;
  }
  for (let s = 0; s < F; s += stride) {
    if (signal?.aborted) throw new CancelledError();
    const e = Math.min(F, s + size);
    for (; filled < e; filled++) {
      copyFrame(seq, filled - 1, filled);
      if (drifted(ctx, seq, states[0], filled)) initFrame(ctx, seq, states[0], filled);
    }
    const summary = solveWindow(ctx, seq, states, s, e, iterations, signal, workspace);
    if (summary.termination === 'cancelled') throw new CancelledError();
    progress(Math.min(1, e / F));
    if (e === F) break;
    // Let a worker's message loop run (a cancel arrives as a message) about every 50 ms.
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
}

/** Whether frame f's warm start is far from its triangulated torso (a lost track). */
function drifted(ctx: WindowContext, seq: Sequence, state: BodyState, f: number): boolean {
  if (!hasTorso(ctx, f)) return false;
  const { n } = seq;
  const K = ctx.obs.keypoints;
  setRootRef(state, seq.rootR.subarray(f * 9, f * 9 + 9));
  evaluateBodyState(state, seq.x.subarray(f * n, f * n + n), false);
  let sum = 0;
  let count = 0;
  for (let k = 0; k < K; k++) {
    if (!(ctx.obs.pointViews[f * K + k] >= 2)) continue;
    const i = (f * K + k) * 3;
    const P = ctx.obs.points3d;
    const d = Math.hypot(
      state.keypoints[k * 3] - P[i],
      state.keypoints[k * 3 + 1] - P[i + 1],
      state.keypoints[k * 3 + 2] - P[i + 2],
    );
    if (!Number.isFinite(d)) continue;
    sum += d;
    count++;
  }
  return count >= 3 && sum / count > REINIT_DISTANCE;
}
