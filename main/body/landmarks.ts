import { KEYPOINT_LAYOUTS } from '../capture/keypoint-layouts';
import type { BodyModel } from './model';

/**
 * Where a detector's keypoints sit on a body model. Each model names its landmarks (a joint, a
 * vertex, or a weighted vertex set); each layout (BODY_25, BODY_25B, COCO-17, MediaPipe-33) is an
 * expression over landmark names; compiling the two gives a linear map joints + vertices -> keypoints.
 */
export type Landmark = { joint: string } | { vertex: number } | { vertices: number[]; weights?: number[] };

/** smplx `vertex_ids.py` (SMPL/SMPL-H topology) and SMPL joint names. */
const SMPL_VERTEX_LANDMARKS: Record<string, number> = {
  nose: 332,
  right_eye: 6260,
  left_eye: 2800,
  right_ear: 4071,
  left_ear: 583,
  left_big_toe: 3216,
  left_small_toe: 3226,
  left_heel: 3387,
  right_big_toe: 6617,
  right_small_toe: 6624,
  right_heel: 6787,
  left_thumb: 2746,
  left_index: 2319,
  left_pinky: 2673,
  right_thumb: 6191,
  right_index: 5782,
  right_pinky: 6133,
  head_top: 411,
};

function smplLandmarks(): Record<string, Landmark> {
  const out: Record<string, Landmark> = {};
  for (const [k, v] of Object.entries(SMPL_VERTEX_LANDMARKS)) out[k] = { vertex: v };
  for (const side of ['left', 'right']) {
    for (const j of ['shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle'])
      out[`${side}_${j}`] = { joint: `${side}_${j}` };
    out[`${side}_foot_index`] = out[`${side}_big_toe`];
  }
  return out;
}

export function modelLandmarks(model: BodyModel): Record<string, Landmark> {
  const own = model.meta.landmarks as Record<string, Landmark> | undefined;
  if (own) return own;
  // SMPL-family topology (6890 vertices) shares smplx's landmark vertices.
  if (model.numVertices === 6890) return smplLandmarks();
  return {};
}

/** OpenPose / COCO keypoint name -> landmark expression (names averaged with equal weight). */
const OPENPOSE_TO_LANDMARK: Record<string, string[]> = {
  Nose: ['nose'],
  Neck: ['left_shoulder', 'right_shoulder'],
  MidHip: ['left_hip', 'right_hip'],
  Head: ['head_top'],
  LEye: ['left_eye'],
  REye: ['right_eye'],
  LEar: ['left_ear'],
  REar: ['right_ear'],
  LShoulder: ['left_shoulder'],
  RShoulder: ['right_shoulder'],
  LElbow: ['left_elbow'],
  RElbow: ['right_elbow'],
  LWrist: ['left_wrist'],
  RWrist: ['right_wrist'],
  LHip: ['left_hip'],
  RHip: ['right_hip'],
  LKnee: ['left_knee'],
  RKnee: ['right_knee'],
  LAnkle: ['left_ankle'],
  RAnkle: ['right_ankle'],
  LBigToe: ['left_big_toe'],
  LSmallToe: ['left_small_toe'],
  LHeel: ['left_heel'],
  RBigToe: ['right_big_toe'],
  RSmallToe: ['right_small_toe'],
  RHeel: ['right_heel'],
};

/** A compiled layout: keypoint k = sum over terms termStart[k]..termStart[k+1] of weight * point. */
export interface KeypointMap {
  layout: string;
  names: readonly string[];
  /** Whether the model can produce keypoint k at all. */
  available: Uint8Array;
  termStart: Int32Array;
  /** 0: joint index into the posed joints; 1: index into `vertexIds` (the vertex subset to pose). */
  termKind: Uint8Array;
  termIndex: Int32Array;
  termWeight: Float32Array;
  /** Model vertices the map reads, for the evaluateSubset fast path. */
  vertexIds: Int32Array;
}

export function compileKeypointMap(model: BodyModel, layout: string): KeypointMap {
  const names = KEYPOINT_LAYOUTS[layout.toUpperCase()];
  if (!names) throw new Error(`unknown keypoint layout "${layout}"`);
  const landmarks = modelLandmarks(model);
  const vertexIds: number[] = [];
  const vertexSlot = (v: number): number => {
    let k = vertexIds.indexOf(v);
    if (k < 0) k = vertexIds.push(v) - 1;
    return k;
  };
  const start = [0];
  const kind: number[] = [];
  const index: number[] = [];
  const weight: number[] = [];
  const available = new Uint8Array(names.length);
  names.forEach((name, k) => {
    const expr = OPENPOSE_TO_LANDMARK[name] ?? [name];
    const parts = expr.map((n) => landmarks[n]);
    if (parts.every(Boolean)) {
      available[k] = 1;
      for (const lm of parts) {
        const share = 1 / parts.length;
        if ('joint' in lm) {
          const j = model.jointNames.indexOf(lm.joint);
          if (j < 0)
            throw new Error(`${model.file}: landmark joint "${lm.joint}" is not a joint of the model`);
          kind.push(0);
          index.push(j);
          weight.push(share);
        } else if ('vertex' in lm) {
          kind.push(1);
          index.push(vertexSlot(lm.vertex));
          weight.push(share);
        } else {
          lm.vertices.forEach((v, i) => {
            kind.push(1);
            index.push(vertexSlot(v));
            weight.push(share * (lm.weights ? lm.weights[i] : 1 / lm.vertices.length));
          });
        }
      }
    }
    start.push(kind.length);
  });
  return {
    layout: layout.toUpperCase(),
    names,
    available,
    termStart: Int32Array.from(start),
    termKind: Uint8Array.from(kind),
    termIndex: Int32Array.from(index),
    termWeight: Float32Array.from(weight),
    vertexIds: Int32Array.from(vertexIds),
  };
}

/** Keypoints (K x 3) from posed joints (J x 3) and the posed vertex subset (map.vertexIds order). */
export function applyKeypointMap(
  map: KeypointMap,
  joints: ArrayLike<number>,
  subset: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  for (let k = 0; k < map.names.length; k++) {
    let x = 0;
    let y = 0;
    let z = 0;
    if (!map.available[k]) x = y = z = NaN;
    for (let t = map.termStart[k]; t < map.termStart[k + 1]; t++) {
      const src = map.termKind[t] === 0 ? joints : subset;
      const i = map.termIndex[t] * 3;
      const w = map.termWeight[t];
      x += w * src[i];
      y += w * src[i + 1];
      z += w * src[i + 2];
    }
    out[k * 3] = x;
    out[k * 3 + 1] = y;
    out[k * 3 + 2] = z;
  }
  return out;
}

/** Vertex ids of a named vertex-set landmark (e.g. `left_sole`), or an empty array. */
export function landmarkVertices(model: BodyModel, name: string): number[] {
  const lm = modelLandmarks(model)[name];
  if (!lm) return [];
  if ('vertex' in lm) return [lm.vertex];
  if ('vertices' in lm) return lm.vertices;
  return [];
}
