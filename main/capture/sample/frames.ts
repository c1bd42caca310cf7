import { mat3Mul, mat3MulVec } from '../../geometry/rotation';
import { type KeypointMap, applyKeypointMap } from '../../body/landmarks';
import { createWorkspace, evaluateBody } from '../../body/lbs';
import type { BodyModel } from '../../body/model';
import type { PoseSequence } from '../../body/retarget';
import { mat3MulAtB } from '../../geometry/rotation';
import { facing } from './motion';
import { type FootMount, headingCamera } from './scene';

/** Everything per frame that rendering and ground truth need, computed once from the pose sequence. */
export interface SampleFrames {
  /** frames x V x 3 float32, shared with the render threads */
  vertices: SharedArrayBuffer;
  /** frames x K x 3 float32 copy of `keypoints` for the render threads' visibility queries */
  keypointsShared: SharedArrayBuffer;
  /** frames x K x 3 world keypoints (the layout's 3D ground truth) */
  keypoints: Float64Array;
  numKeypoints: number;
  /** frames x J x 3 posed joints */
  joints: Float32Array;
  /** per mount: frames x 12 = world -> camera R (9, row-major) and t (3) */
  footPoses: Float64Array[];
}

export function computeFrames(
  model: BodyModel,
  seq: PoseSequence,
  map: KeypointMap,
  mounts: FootMount[],
): SampleFrames {
  const V = model.numVertices;
  const J = model.numJoints;
  const K = map.names.length;
  const vertices = new SharedArrayBuffer(seq.frames * V * 3 * 4);
  const keypointsShared = new SharedArrayBuffer(seq.frames * K * 3 * 4);
  const verts = new Float32Array(vertices);
  const kpShared = new Float32Array(keypointsShared);
  const keypoints = new Float64Array(seq.frames * K * 3);
  const joints = new Float32Array(seq.frames * J * 3);
  const footPoses = mounts.map(() => new Float64Array(seq.frames * 12));
  const mountJoint = mounts.map((m) => {
    const j = model.jointNames.indexOf(m.joint);
    if (j < 0) throw new Error(`${model.file}: no joint ${m.joint} to mount ${m.name} on`);
    return j;
  });
  const ws = createWorkspace(model);
  const subset = new Float64Array(map.vertexIds.length * 3);
  const Gj = new Float64Array(9);
  const Rcw = new Float64Array(9);
  const C = new Float64Array(3);
  for (let f = 0; f < seq.frames; f++) {
    if (f === 0) {
      // Fix each mount in its foot's frame from where it sits at frame 0 (see FootMount).
      evaluateBody(
        model,
        ws,
        { betas: seq.betas, theta: seq.theta.subarray(0, J * 3), transl: seq.transl.subarray(0, 3) },
        null,
      );
      const heading = facing(seq, 0);
      mounts.forEach((m, i) => fixMount(m, ws.G, mountJoint[i], heading));
    }
    const out = verts.subarray(f * V * 3, (f + 1) * V * 3);
    evaluateBody(
      model,
      ws,
      {
        betas: seq.betas,
        theta: seq.theta.subarray(f * J * 3, (f + 1) * J * 3),
        transl: seq.transl.subarray(f * 3, f * 3 + 3),
      },
      out,
    );
    joints.set(ws.joints, f * J * 3);
    map.vertexIds.forEach((v, k) => {
      for (let c = 0; c < 3; c++) subset[k * 3 + c] = out[v * 3 + c];
    });
    const kp = keypoints.subarray(f * K * 3, (f + 1) * K * 3);
    applyKeypointMap(map, ws.joints, subset, kp);
    kpShared.set(kp, f * K * 3);
    mounts.forEach((m, i) => {
      // Camera -> world: R_cw = G_foot R_mount, C = G_foot offset + J_foot (posed).
      const j = mountJoint[i];
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) Gj[r * 3 + c] = ws.G[j * 12 + r * 4 + c];
      mat3Mul(Rcw, 0, Gj, 0, m.R!, 0);
      mat3MulVec(C, 0, Gj, 0, m.offset!, 0);
      for (let c = 0; c < 3; c++) C[c] += ws.joints[j * 3 + c];
      const P = footPoses[i];
      const o = f * 12;
      // World -> camera: R = R_cw^T, t = -R C.
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) P[o + r * 3 + c] = Rcw[c * 3 + r];
      for (let r = 0; r < 3; r++)
        P[o + 9 + r] = -(P[o + r * 3] * C[0] + P[o + r * 3 + 1] * C[1] + P[o + r * 3 + 2] * C[2]);
    });
  }
  return { vertices, keypointsShared, keypoints, numKeypoints: K, joints, footPoses };
}

/** R_mount = G_foot^T R_cw, offset = G_foot^T (C - J_foot), with the camera placed by heading at this frame. */
function fixMount(m: FootMount, G: Float64Array, j: number, heading: number): void {
  const Gj = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) Gj[r * 3 + c] = G[j * 12 + r * 4 + c];
  const Rcw = headingCamera(heading, (m.pitchDeg * Math.PI) / 180);
  const R = new Float64Array(9);
  mat3MulAtB(R, 0, Gj, 0, Rcw, 0);
  const [fw, left, up] = m.place;
  const d = [
    fw * Math.cos(heading) - left * Math.sin(heading),
    fw * Math.sin(heading) + left * Math.cos(heading),
    up,
  ];
  const off = new Float64Array(3);
  // G^T d: the world offset expressed in the foot's frame.
  for (let r = 0; r < 3; r++) off[r] = Gj[r] * d[0] + Gj[3 + r] * d[1] + Gj[6 + r] * d[2];
  m.R = Array.from(R);
  m.offset = Array.from(off);
}
