import { FIT_FLAGS } from '../../preload/api';
import { createWorkspace, poseShaped, shapeWorkspace } from '../body/lbs';
import { poseCentre, projectPoint } from '../geometry/camera';
import { axisAngleFromMatrix } from '../geometry/rotation';
import { evaluateBodyState, setRootRef, type BodyState } from './body-state';
import type { FitConfig } from './config';
import { mountedCamera, type FootMount } from './terms/foot-camera';
import { maxPenetration } from './terms/ground';
import type { FitFootCamera } from './types';
import type { Sequence, WindowContext } from './windows';

export interface FrameQuality {
  fields: string[];
  /** frames x fields */
  data: Float32Array;
  /** Every valid observation's reprojection error, pixels (for the median). */
  medianReprojectionPx: number;
  /**
   * The median over the detections the triangulation kept (observations.ts `kept`): the convention
   * Pose2Sim reports its reprojection error in, after excluding outlier views.
   */
  medianKeptReprojectionPx: number;
  maxPenetrationMm: number;
  flaggedFrames: number;
}

/** Model theta (frames x J x 3) of the sequence: root from its rotation, free joints from x, fixed constants. */
export function sequenceTheta(
  ctx: WindowContext,
  seq: Sequence,
  fixedTheta: Record<string, ArrayLike<number>>,
): Float32Array {
  const { model, offset } = ctx.layout;
  const J = model.numJoints;
  const F = seq.x.length / seq.n;
  const theta = new Float32Array(F * J * 3);
  const w = new Float64Array(3);
  for (let f = 0; f < F; f++) {
    axisAngleFromMatrix(w, 0, seq.rootR, f * 9);
    theta.set(w, f * J * 3);
    for (let j = 1; j < J; j++) {
      const o = offset[j];
      const src = o >= 0 ? seq.x.subarray(f * seq.n + o, f * seq.n + o + 3) : fixedTheta[model.jointNames[j]];
      if (src) theta.set(src, (f * J + j) * 3);
    }
  }
  return theta;
}

const pix = new Float64Array(2);

/**
 * Per-frame quality of a fit: reprojection RMS per view, views used, the deepest vertex below the floor
 * over the whole mesh (the paper's E_f reported as a depth), the foot-camera disagreement, and flags.
 */
export function frameQuality(
  ctx: WindowContext,
  seq: Sequence,
  state: BodyState,
  theta: Float32Array,
  feet: { cam: FitFootCamera; mount: FootMount | null }[],
  config: FitConfig,
): FrameQuality {
  const { obs, layout } = ctx;
  const { model } = layout;
  const { frames: F, views: C, keypoints: K } = obs;
  const fields = [
    ...obs.cals.map((_, c) => `reprojRms:${ctx.viewNames[c]}`),
    'views',
    'maxPenetrationMm',
    ...feet.flatMap((f) => [`footCamMm:${f.cam.name}`, `footCamDeg:${f.cam.name}`]),
    'flags',
  ];
  const S = fields.length;
  const data = new Float32Array(F * S);
  const errors: number[] = [];
  const keptErrors: number[] = [];
  const ws = createWorkspace(model);
  const vertices = new Float32Array(model.numVertices * 3);
  shapeWorkspace(model, ws, ctx.betas);
  let worst = 0;
  let flagged = 0;
  const n = seq.n;
  for (let f = 0; f < F; f++) {
    const row = f * S;
    setRootRef(state, seq.rootR.subarray(f * 9, f * 9 + 9));
    evaluateBodyState(state, seq.x.subarray(f * n, f * n + n), false);
    let flags = 0;
    let views = 0;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      let count = 0;
      for (let k = 0; k < K; k++) {
        const i = ((f * C + c) * K + k) * 3;
        if (!(obs.obs[i + 2] > 0) || !layout.keypointMap!.available[k]) continue;
        projectPoint(obs.cals[c], state.keypoints.subarray(k * 3, k * 3 + 3), pix);
        const e = Math.hypot(pix[0] - obs.obs[i], pix[1] - obs.obs[i + 1]);
        if (!Number.isFinite(e)) continue;
        errors.push(e);
        if (obs.kept[(f * C + c) * K + k]) keptErrors.push(e);
        sum += e * e;
        count++;
      }
      const rms = count ? Math.sqrt(sum / count) : NaN;
      data[row + c] = rms;
      if (count >= 3) views++;
    }
    data[row + C] = views;
    if (views < config.flags.minViews) flags |= FIT_FLAGS.weak;
    poseShaped(
      model,
      ws,
      theta.subarray(f * model.numJoints * 3),
      seq.x.subarray(f * n, f * n + 3),
      vertices,
    );
    const depthMm = maxPenetration(vertices) * 1000;
    worst = Math.max(worst, depthMm);
    data[row + C + 1] = depthMm;
    if (depthMm > config.flags.penetrationMm) flags |= FIT_FLAGS.penetration;
    feet.forEach(({ cam, mount }, i) => {
      const [mm, deg] =
        mount && cam.weights[f] > 0
          ? footDisagreement(state, mount, cam.poses.subarray(f * 12, f * 12 + 12))
          : [NaN, NaN];
      data[row + C + 2 + 2 * i] = mm;
      data[row + C + 3 + 2 * i] = deg;
      if (mm > config.flags.footCameraMm) flags |= FIT_FLAGS.footCamera;
    });
    data[row + S - 1] = flags;
  }
  // A view is flagged when its RMS is well above the session's typical one (real captures have a
  // calibration-limited floor of several pixels) and above the configured minimum.
  const rmsAll: number[] = [];
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++) if (Number.isFinite(data[f * S + c])) rmsAll.push(data[f * S + c]);
  rmsAll.sort((a, b) => a - b);
  const limit = Math.max(config.flags.reprojectionPx, 2.5 * (rmsAll[rmsAll.length >> 1] ?? 0));
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) if (data[f * S + c] > limit) data[f * S + S - 1] |= FIT_FLAGS.reprojection;
    if (data[f * S + S - 1]) flagged++;
  }
  errors.sort((a, b) => a - b);
  keptErrors.sort((a, b) => a - b);
  return {
    fields,
    data,
    medianReprojectionPx: errors.length ? errors[errors.length >> 1] : NaN,
    medianKeptReprojectionPx: keptErrors.length ? keptErrors[keptErrors.length >> 1] : NaN,
    maxPenetrationMm: worst,
    flaggedFrames: flagged,
  };
}

/** Distance (mm) between the fitted and the PnP camera centre, and the angle (degrees) between their rotations. */
export function footDisagreement(
  state: BodyState,
  mount: FootMount,
  pose: ArrayLike<number>,
): [number, number] {
  mountedCamera(state, mount, state.lastX, predicted, predictedR);
  poseCentre(pose, pnpCentre);
  // trace(R_pred^T R_pnp^T): R_pred and R_pnp^T both camera -> world.
  let trace = 0;
  for (let r = 0; r < 3; r++)
    for (let col = 0; col < 3; col++) trace += predictedR[r * 3 + col] * pose[col * 3 + r];
  const angle = Math.acos(Math.max(-1, Math.min(1, (trace - 1) / 2)));
  const d = Math.hypot(predicted[0] - pnpCentre[0], predicted[1] - pnpCentre[1], predicted[2] - pnpCentre[2]);
  return [d * 1000, (angle * 180) / Math.PI];
}

const predicted = new Float64Array(3);
const predictedR = new Float64Array(9);
const pnpCentre = new Float64Array(3);
