import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { applyKeypointMap, compileKeypointMap } from '../../main/body/landmarks';
import { createWorkspace, evaluateBody, evaluateSubset, jointShapeBasis } from '../../main/body/lbs';
import { loadBodyModel } from '../../main/body/load-model';
import { bodyModelFromArrays } from '../../main/body/model';
import type { NdArray } from '../../main/body/ndarray';
import { KEYPOINT_LAYOUTS } from '../../main/capture/keypoint-layouts';
import { REPO_ROOT } from './fixtures';

const OPEN_MODEL = join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz');

const f4 = (shape: number[], values: number[]): NdArray => ({
  dtype: 'f4',
  shape,
  data: Float32Array.from(values),
});

/**
 * A 3-joint chain along x (joints at 0, 1, 2), five vertices: two skinned ones and three that the
 * joint regressor picks as the joints.
 */
function chainModel() {
  const V = 5;
  const posedirs = new Array(V * 3 * 18).fill(0);
  posedirs[(0 * 3 + 0) * 18 + 0] = 0.2; // v0.x += 0.2 (R_1 - I)[0][0]
  const weights = [1, 0, 0, 0.5, 0.5, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
  const jr = [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
  return bodyModelFromArrays(
    {
      v_template: f4([V, 3], [0.5, 0, 0, 1.5, 0.1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0]),
      shapedirs: f4([V, 3, 1], [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]),
      posedirs: f4([V, 3, 18], posedirs),
      J_regressor: f4([3, V], jr),
      weights: f4([V, 3], weights),
      kintree_table: { dtype: 'i4', shape: [2, 3], data: Int32Array.from([-1, 0, 1, 0, 1, 2]) },
      f: { dtype: 'u4', shape: [1, 3], data: Uint32Array.from([0, 1, 2]) },
    },
    'chain',
  );
}

describe('linear blend skinning', () => {
  it('matches hand-computed vertices and joints on a 3-joint chain', () => {
    const model = chainModel();
    const ws = createWorkspace(model);
    const out = new Float32Array(model.numVertices * 3);
    const q = Math.PI / 2;
    // Root and joint 1 turn 90 degrees about z; everything moves up by 1.
    evaluateBody(model, ws, { betas: [0], theta: [0, 0, q, 0, 0, q, 0, 0, 0], transl: [0, 0, 1] }, out);
    // v0 = Rz90 (0.5 - 0.2, 0, 0): the pose blend shape first, then the root's rotation.
    expect(Array.from(out.slice(0, 3))).toEqual([
      expect.closeTo(0, 6),
      expect.closeTo(0.3, 6),
      expect.closeTo(1, 6),
    ]);
    // v1 = 0.5 Rz90 v + 0.5 (Rz180 v + (1, 1, 0)), v = (1.5, 0.1, 0).
    expect(Array.from(out.slice(3, 6))).toEqual([
      expect.closeTo(-0.3, 6),
      expect.closeTo(1.2, 6),
      expect.closeTo(1, 6),
    ]);
    expect(Array.from(ws.joints)).toEqual([0, 0, 1, 0, 1, 1, -1, 1, 1].map((v) => expect.closeTo(v, 6)));
  });

  it('shape blend shapes move the mesh and the regressed joints', () => {
    const model = chainModel();
    const ws = createWorkspace(model);
    const out = new Float32Array(model.numVertices * 3);
    evaluateBody(model, ws, { betas: [0.25], theta: new Array(9).fill(0) }, out);
    expect(out[0]).toBeCloseTo(0.75, 6);
    expect(ws.joints[6]).toBeCloseTo(2.25, 6);
  });

  it('the subset fast path equals full skinning for the chosen vertices', () => {
    const model = loadBodyModel(OPEN_MODEL);
    const ws = createWorkspace(model);
    const full = new Float32Array(model.numVertices * 3);
    const theta = Array.from({ length: model.numJoints * 3 }, (_, i) => 0.3 * Math.sin(i * 1.7));
    const params = { betas: [0.5, -0.3, 0.2, 0, 0.1, 0], theta, transl: [1, 2, 0.1] };
    evaluateBody(model, ws, params, full);
    const joints = Float64Array.from(ws.joints);
    const ids = [0, 100, 5000, 13379];
    const sub = new Float64Array(ids.length * 3);
    evaluateSubset(model, jointShapeBasis(model), createWorkspace(model), params, ids, sub);
    ids.forEach((v, k) => {
      for (let c = 0; c < 3; c++) expect(sub[k * 3 + c]).toBeCloseTo(full[v * 3 + c], 4);
    });
    expect(Array.from(ws.joints)).toEqual(Array.from(joints));
  });
});

describe('open default body model (Anny CC0)', () => {
  const model = loadBodyModel(OPEN_MODEL);

  it('loads with the CMU 31-joint tree, body geometry only, watertight', () => {
    expect(model.numJoints).toBe(31);
    expect(model.jointNames[0]).toBe('Hips');
    expect(model.upAxis).toBe('z');
    expect(model.numVertices).toBe(13380);
    expect(model.betaNames).toEqual(['gender', 'height', 'weight', 'muscle', 'african', 'asian']);
    // Every vertex is used by a face (no helper or joint-cube geometry left) and every edge has two faces.
    const used = new Uint8Array(model.numVertices);
    const edges = new Map<number, number>();
    for (let f = 0; f < model.faces.length; f += 3) {
      for (let k = 0; k < 3; k++) {
        const a = model.faces[f + k];
        const b = model.faces[f + ((k + 1) % 3)];
        used[a] = 1;
        const key = Math.min(a, b) * 1e6 + Math.max(a, b);
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
    }
    expect(used.every((u) => u === 1)).toBe(true);
    expect([...edges.values()].filter((n) => n !== 2).length).toBe(0);
    // Weights are a partition of unity.
    for (let v = 0; v < model.numVertices; v += 97) {
      let s = 0;
      for (let j = 0; j < 31; j++) s += model.weights[v * 31 + j];
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it('stands on the floor at a plausible height and the height beta makes it taller', () => {
    const ws = createWorkspace(model);
    const out = new Float32Array(model.numVertices * 3);
    const stature = (betas: number[]) => {
      evaluateBody(model, ws, { betas, theta: new Array(93).fill(0) }, out);
      let lo = Infinity;
      let hi = -Infinity;
      for (let v = 0; v < model.numVertices; v++) {
        lo = Math.min(lo, out[v * 3 + 2]);
        hi = Math.max(hi, out[v * 3 + 2]);
      }
      return { lo, hi };
    };
    const rest = stature([0]);
    expect(rest.lo).toBeCloseTo(0, 3);
    expect(rest.hi).toBeGreaterThan(1.55);
    expect(rest.hi).toBeLessThan(1.85);
    const tall = stature([0, 0.5]);
    expect(tall.hi - tall.lo).toBeGreaterThan(rest.hi - rest.lo + 0.05);
  });

  it('has every keypoint of BODY_25, BODY_25B, COCO-17 and MediaPipe-33, on the body', () => {
    const ws = createWorkspace(model);
    const out = new Float32Array(model.numVertices * 3);
    evaluateBody(model, ws, { betas: [0], theta: new Array(93).fill(0) }, out);
    for (const layout of ['BODY_25', 'BODY_25B', 'COCO_17', 'MEDIAPIPE_33']) {
      const map = compileKeypointMap(model, layout);
      expect(map.available.every((a) => a === 1)).toBe(true);
      const subset = new Float64Array(map.vertexIds.length * 3);
      map.vertexIds.forEach((v, k) => subset.set(out.subarray(v * 3, v * 3 + 3), k * 3));
      const kp = applyKeypointMap(map, ws.joints, subset, new Float64Array(map.names.length * 3));
      const at = (name: string) => {
        const k = KEYPOINT_LAYOUTS[layout].indexOf(name);
        return [kp[k * 3], kp[k * 3 + 1], kp[k * 3 + 2]];
      };
      if (layout === 'BODY_25') {
        // Anatomy in the model frame (z up, facing -y, left on +x).
        expect(at('Nose')[2]).toBeGreaterThan(at('Neck')[2]);
        expect(at('Nose')[1]).toBeLessThan(at('Neck')[1]);
        expect(at('LShoulder')[0]).toBeGreaterThan(0.1);
        expect(at('RShoulder')[0]).toBeLessThan(-0.1);
        expect(at('LBigToe')[1]).toBeLessThan(at('LHeel')[1] - 0.15);
        expect(at('LHeel')[2]).toBeLessThan(0.05);
        expect(at('MidHip')[2]).toBeGreaterThan(0.8);
      }
    }
  });
});
