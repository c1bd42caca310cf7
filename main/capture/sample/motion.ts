import { join } from 'node:path';
import { axisAngleFromMatrix, mat3Mul, mat3MulAtB, rodrigues } from '../../geometry/rotation';
import { createWorkspace, jointShapeBasis, poseShaped, shapeWorkspace } from '../../body/lbs';
import type { BodyModel } from '../../body/model';
import { readAmc, readAsf } from '../../body/motion/asf-amc';
import { CMU_FPS } from '../../body/motion/cmu-clips';
import { type PoseSequence, retargetClip } from '../../body/retarget';

/**
 * The sample's ~19 s of motion: CMU subject 02 walks east along the north wall to the desk (02_01),
 * turns to face it and bends to pick things up with the feet under the desk edge (02_06, 14 s), then
 * walks back west (02_02). Each clip is retargeted, turned to a heading and placed at a start point;
 * consecutive clips are cross-faded (geodesic per-joint blend) so the body never jumps.
 */

export interface ClipPlacement {
  amc: string;
  /** seconds into the clip */
  from?: number;
  to?: number;
  /** direction the subject faces at the clip's first frame, radians from +x */
  heading: number;
  /** turn by the root's travel (first to last frame) instead of the facing: straight walks */
  alongTravel?: boolean;
  /** where the root (pelvis) starts, world x, y */
  start: [number, number];
}

export const SAMPLE_CLIPS: ClipPlacement[] = [
  { amc: '02_01.amc', heading: 0, alongTravel: true, start: [0.3, 4.62] },
  { amc: '02_06.amc', from: 0, to: 14, heading: -Math.PI / 2, start: [3.2, 4.45] },
  { amc: '02_02.amc', from: 0, to: 1.6, heading: Math.PI, alongTravel: true, start: [3.0, 4.62] },
];

const BLEND_SECONDS = 0.6;

export function sampleMotion(
  model: BodyModel,
  cmuDir: string,
  fps = 30,
  betas?: ArrayLike<number>,
): PoseSequence {
  const asf = readAsf(join(cmuDir, '02.asf'));
  const step = Math.round(CMU_FPS / fps);
  const parts = SAMPLE_CLIPS.map((c) => {
    const clip = readAmc(join(cmuDir, c.amc), asf, {
      fps: CMU_FPS,
      step,
      from: Math.round((c.from ?? 0) * CMU_FPS),
      to: c.to === undefined ? undefined : Math.round(c.to * CMU_FPS),
    });
    const seq = retargetClip(clip, model, { betas });
    place(model, seq, c.heading, c.start, c.alongTravel ?? false);
    return seq;
  });
  return liftAboveFloor(model, concatenate(parts, Math.round(BLEND_SECONDS * fps)));
}

/**
 * Retargeting keeps stance soles on the floor, but a clip's own foot pitch can still sink toes or
 * heels below it (02_06 bends with the feet rolled, up to ~4.6 cm deep). A real body never does, and
 * the ground term is scored against this truth, so each such frame is raised until no vertex is below z = 0.
 */
function liftAboveFloor(model: BodyModel, seq: PoseSequence): PoseSequence {
  const J = model.numJoints;
  const ws = createWorkspace(model);
  const v = new Float32Array(model.numVertices * 3);
  shapeWorkspace(model, ws, seq.betas);
  for (let f = 0; f < seq.frames; f++) {
    const transl = seq.transl.subarray(f * 3, f * 3 + 3);
    poseShaped(model, ws, seq.theta.subarray(f * J * 3), transl, v);
    let low = 0;
    for (let i = 2; i < v.length; i += 3) low = Math.min(low, v[i]);
    transl[2] -= low;
  }
  return seq;
}

/** The model faces -y at rest; heading of frame f = angle of R_root (0, -1, 0) in the floor plane. */
export function facing(seq: PoseSequence, f: number): number {
  const R = new Float64Array(9);
  rodrigues(R, 0, seq.theta, f * seq.numJoints * 3);
  return Math.atan2(-R[4], -R[1]);
}

/** Turns the clip about z so its first frame faces `heading`, and moves its root to `start`. */
function place(
  model: BodyModel,
  seq: PoseSequence,
  heading: number,
  start: [number, number],
  alongTravel: boolean,
): void {
  const J = seq.numJoints;
  // The root's rest position for this sequence's shape, as retargeting used it for transl.
  const { jTemplate, jShapedirs } = jointShapeBasis(model);
  const B = model.numBetas;
  const j0 = [0, 1, 2].map((c) => seq.betas.reduce((s, b, k) => s + jShapedirs[c * B + k] * b, jTemplate[c]));
  const n = (seq.frames - 1) * 3;
  const travel = Math.atan2(seq.transl[n + 1] - seq.transl[1], seq.transl[n] - seq.transl[0]);
  const d = heading - (alongTravel ? travel : facing(seq, 0));
  const Rz = [Math.cos(d), -Math.sin(d), 0, Math.sin(d), Math.cos(d), 0, 0, 0, 1];
  const R = new Float64Array(9);
  const out = new Float64Array(9);
  const x0 = seq.transl[0] + j0[0];
  const y0 = seq.transl[1] + j0[1];
  for (let f = 0; f < seq.frames; f++) {
    rodrigues(R, 0, seq.theta, f * J * 3);
    mat3Mul(out, 0, Rz, 0, R, 0);
    axisAngleFromMatrix(seq.theta, f * J * 3, out, 0);
    // Root joint position p = J0 + transl, turned about the clip's first root position.
    const px = seq.transl[f * 3] + j0[0] - x0;
    const py = seq.transl[f * 3 + 1] + j0[1] - y0;
    seq.transl[f * 3] = start[0] + Rz[0] * px + Rz[1] * py - j0[0];
    seq.transl[f * 3 + 1] = start[1] + Rz[3] * px + Rz[4] * py - j0[1];
  }
}

/** Appends clips; the first `blend` frames of each later clip fade in from the previous clip's last frame. */
function concatenate(parts: PoseSequence[], blend: number): PoseSequence {
  const J = parts[0].numJoints;
  const frames = parts.reduce((s, p) => s + p.frames, 0);
  const theta = new Float32Array(frames * J * 3);
  const transl = new Float32Array(frames * 3);
  const Ra = new Float64Array(9);
  const Rb = new Float64Array(9);
  const D = new Float64Array(9);
  const w = new Float64Array(3);
  const Rw = new Float64Array(9);
  const out = new Float64Array(9);
  let at = 0;
  parts.forEach((p, i) => {
    theta.set(p.theta, at * J * 3);
    transl.set(p.transl, at * 3);
    if (i > 0) {
      const last = at - 1;
      for (let k = 0; k < Math.min(blend, p.frames); k++) {
        const s = (k + 1) / (blend + 1);
        const f = at + k;
        for (let j = 0; j < J; j++) {
          // R = Ra exp(s log(Ra^T Rb)): the geodesic from the held pose to the incoming one.
          rodrigues(Ra, 0, theta, (last * J + j) * 3);
          rodrigues(Rb, 0, theta, (f * J + j) * 3);
          mat3MulAtB(D, 0, Ra, 0, Rb, 0);
          axisAngleFromMatrix(w, 0, D, 0);
          for (let c = 0; c < 3; c++) w[c] *= s;
          rodrigues(Rw, 0, w, 0);
          mat3Mul(out, 0, Ra, 0, Rw, 0);
          axisAngleFromMatrix(theta, (f * J + j) * 3, out, 0);
        }
        for (let c = 0; c < 3; c++)
          transl[f * 3 + c] = (1 - s) * transl[last * 3 + c] + s * transl[f * 3 + c];
      }
    }
    at += p.frames;
  });
  return { fps: parts[0].fps, frames, numJoints: J, betas: parts[0].betas, theta, transl };
}
