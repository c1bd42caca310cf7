import { describe, expect, it } from 'vitest';
import { BlockBandSystem } from '../../main/fitting/solver/block-band';
import { createLMWorkspace, DEFAULT_SOLVER_OPTIONS, solveLM } from '../../main/fitting/solver/lm';
import { correctGroup, gemanMcClure, huber, trivialLoss } from '../../main/fitting/solver/loss';
import type { LossFunction, Problem, ResidualBlock, SolverOptions } from '../../main/fitting/solver/problem';
import { Rng } from '../../main/capture/sample/rng';

/** Deterministic uniform [0, 1) (the sample's Rng). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const TIGHT: SolverOptions = {
  ...DEFAULT_SOLVER_OPTIONS,
  maxIterations: 200,
  functionTolerance: 0,
  gradientTolerance: 1e-13,
  parameterTolerance: 1e-15,
};

/** A residual block from a function of the concatenated parameters, with its Jacobian by hand. */
function block(
  blocks: number[],
  numResiduals: number,
  f: (x: readonly Float64Array[], r: Float64Array, J: Float64Array[] | null) => boolean | void,
  loss: LossFunction | null = null,
  lossGroup?: number,
): ResidualBlock {
  return { blocks, numResiduals, loss, lossGroup, evaluate: (x, r, J) => f(x, r, J) !== false };
}

/** r_c = sum_k w_k x_k[c] - d over the first n components of the blocks read (temporal terms). */
function diffBlock(blocks: number[], w: number[], n: number, d = 0): ResidualBlock {
  return block(blocks, n, (x, r, J) => {
    for (let c = 0; c < n; c++) {
      r[c] = -d;
      for (let k = 0; k < w.length; k++) {
        r[c] += w[k] * x[k][c];
        if (J) J[k][c * x[k].length + c] = w[k];
      }
    }
  });
}

/**
 * A chain: block t (size 3 + t % 3) has 6 nonlinear data residuals r = A x + 0.1 x^2 - b of a linear
 * trajectory plus noise; first-difference blocks (t, t+1) (velocity 0.05) and second-difference blocks
 * (t-1, t, t+1) on the first 3 components. The final cost (~1e-5) resolves the minimiser to ~1e-10.
 */
function chainProblem(T: number, seed: number): Problem {
  const rand = rng(seed);
  const params = Array.from({ length: T }, (_, t) =>
    Float64Array.from({ length: 3 + (t % 3) }, () => rand() - 0.5),
  );
  const residualBlocks: ResidualBlock[] = [];
  for (let t = 0; t < T; t++) {
    const n = params[t].length;
    const A = Float64Array.from({ length: 6 * n }, () => 2 * rand() - 1);
    const truth = Float64Array.from({ length: n }, (_, c) => Math.sin(c) + 0.05 * t);
    const b = Float64Array.from({ length: 6 }, (_, i) => {
      let s = 0.1 * truth[i % n] * truth[i % n] + 1e-3 * (rand() - 0.5);
      for (let c = 0; c < n; c++) s += A[i * n + c] * truth[c];
      return s;
    });
    residualBlocks.push(
      block([t], 6, ([x], r, J) => {
        for (let i = 0; i < 6; i++) {
          let s = 0.1 * x[i % n] * x[i % n] - b[i];
          for (let c = 0; c < n; c++) s += A[i * n + c] * x[c];
          r[i] = s;
          if (J) {
            for (let c = 0; c < n; c++) J[0][i * n + c] = A[i * n + c];
            J[0][i * n + (i % n)] += 0.2 * x[i % n];
          }
        }
      }),
    );
    if (t + 1 < T) residualBlocks.push(diffBlock([t, t + 1], [-2, 2], 3, 0.1));
    if (t >= 1 && t + 1 < T) residualBlocks.push(diffBlock([t - 1, t, t + 1], [1, -2, 1], 3));
  }
  return { params, residualBlocks };
}

/** Dense H = J^T J and g = J^T r over the free parameters of a problem without losses (the reference). */
function normalEquations(problem: Problem): { H: Float64Array[]; g: Float64Array } {
  const offsets: number[] = [];
  let cols = 0;
  problem.params.forEach((p, b) => {
    offsets[b] = problem.constant?.[b] ? -1 : cols;
    if (offsets[b] >= 0) cols += p.length;
  });
  const H = Array.from({ length: cols }, () => new Float64Array(cols));
  const g = new Float64Array(cols);
  for (const rb of problem.residualBlocks) {
    const x = rb.blocks.map((b) => problem.params[b]);
    const res = new Float64Array(rb.numResiduals);
    const jac = x.map((p) => new Float64Array(rb.numResiduals * p.length));
    expect(rb.evaluate(x, res, jac)).toBe(true);
    for (let i = 0; i < rb.numResiduals; i++) {
      const row = new Float64Array(cols);
      rb.blocks.forEach((b, k) => {
        const n = x[k].length;
        for (let c = 0; offsets[b] >= 0 && c < n; c++) row[offsets[b] + c] = jac[k][i * n + c];
      });
      for (let a = 0; a < cols; a++) {
        g[a] += row[a] * res[i];
        for (let b = 0; b < cols; b++) H[a][b] += row[a] * row[b];
      }
    }
  }
  return { H, g };
}

/** Solves the symmetric positive definite A x = b by Gaussian elimination. */
function denseSolve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let p = 0; p < n; p++) {
    for (let i = p + 1; i < n; i++) {
      const f = M[i][p] / M[p][p];
      for (let c = p; c <= n; c++) M[i][c] -= f * M[p][c];
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = M[i][n];
    for (let c = i + 1; c < n; c++) s -= M[i][c] * x[c];
    x[i] = s / M[i][i];
  }
  return x;
}

/** Gauss-Newton on the dense normal equations, to convergence. */
function denseGaussNewton(problem: Problem): void {
  for (let it = 0; it < 100; it++) {
    const { H, g } = normalEquations(problem);
    const dx = denseSolve(
      H,
      g.map((v) => -v),
    );
    let off = 0;
    problem.params.forEach((p, b) => {
      if (problem.constant?.[b]) return;
      for (let c = 0; c < p.length; c++) p[c] += dx[off++];
    });
    if (Math.hypot(...dx) < 1e-14) return;
  }
}

/**
 * The size of an 8-frame body window: 8 blocks of 60 parameters, each with 400 data rows (25 keypoints x
 * 8 views x (u, v), Geman-McClure per pixel); a keypoint's rows touch the same 20 columns (its kinematic
 * chain) in every view. Temporal blocks of 60 residuals couple consecutive frames.
 */
function windowProblem(seed: number): { problem: Problem; truth: Float64Array[] } {
  const rand = rng(seed);
  const T = 8;
  const N = 60;
  const base = Float64Array.from({ length: N }, () => rand() - 0.5);
  const truth = Array.from({ length: T }, (_, t) => base.map((v, c) => v + 0.01 * Math.sin(t + c)));
  const params = truth.map((x) => x.map((v) => v + 0.1 * (rand() - 0.5)));
  const residualBlocks: ResidualBlock[] = [];
  const chains = Array.from({ length: 25 }, () => {
    const set = new Set<number>();
    while (set.size < 20) set.add(Math.floor(rand() * N));
    return Int32Array.from(set);
  });
  for (let t = 0; t < T; t++) {
    const cols = Int32Array.from({ length: 400 * 20 }, (_, e) => chains[Math.floor(e / 40) % 25][e % 20]);
    const A = Float64Array.from({ length: 400 * 20 }, () => 2 * rand() - 1);
    const y = new Float64Array(400);
    const f = (x: Float64Array, r: Float64Array, J: Float64Array | null): void => {
      for (let i = 0; i < 400; i++) {
        const c0 = cols[i * 20];
        let s = 0.1 * x[c0] * x[c0] - y[i];
        for (let k = 0; k < 20; k++) s += A[i * 20 + k] * x[cols[i * 20 + k]];
        r[i] = s;
        if (J) {
          for (let k = 0; k < 20; k++) J[i * N + cols[i * 20 + k]] = A[i * 20 + k];
          J[i * N + c0] += 0.2 * x[c0];
        }
      }
    };
    f(truth[t], y, null);
    y.forEach((v, i) => (y[i] = v + (i % 10 === 0 ? 5 : 0.01 * (rand() - 0.5))));
    residualBlocks.push(block([t], 400, ([x], r, J) => f(x, r, J && J[0]), gemanMcClure(0.5), 2));
  }
  for (let t = 0; t + 1 < T; t++) residualBlocks.push(diffBlock([t, t + 1], [-0.3, 0.3], N));
  return { problem: { params, residualBlocks }, truth };
}

/** The band of `sys` holds H (and nothing of H lies outside it), and g. */
function expectBandEquals(sys: BlockBandSystem, H: Float64Array[], g: Float64Array): void {
  expect(Array.from(sys.g)).toEqual(Array.from(g).map((v) => expect.closeTo(v, 12)));
  H.forEach((row, i) => {
    for (let j = 0; j <= i; j++) {
      const band = j >= sys.rowStart[i] ? sys.h[sys.rowPtr[i] + j - sys.rowStart[i]] : 0;
      expect(Math.abs(band - row[j])).toBeLessThan(1e-12);
    }
  });
}

const flat = (p: Problem): number[] => p.params.flatMap((x) => Array.from(x));
const clone = (p: Problem): Problem => ({ ...p, params: p.params.map((x) => Float64Array.from(x)) });

describe('Levenberg-Marquardt', () => {
  it('fits y = a exp(b t) and Rosenbrock to their known minima', () => {
    const t = Array.from({ length: 30 }, (_, i) => i / 10);
    const y = t.map((ti) => 2.5 * Math.exp(-1.3 * ti));
    const exp = solveLM(
      {
        params: [Float64Array.of(1, 0)],
        residualBlocks: [
          block([0], 30, ([p], r, J) => {
            t.forEach((ti, i) => {
              const e = Math.exp(p[1] * ti);
              r[i] = p[0] * e - y[i];
              if (J) J[0].set([e, p[0] * ti * e], 2 * i);
            });
          }),
        ],
      },
      TIGHT,
    );
    expect(exp.termination).toBe('converged');
    expect(exp.finalCost).toBeLessThan(1e-20);
    const rosen = { params: [Float64Array.of(-1.2, 1)], residualBlocks: [] as ResidualBlock[] };
    rosen.residualBlocks.push(
      block([0], 2, ([p], r, J) => {
        r[0] = 10 * (p[1] - p[0] * p[0]);
        r[1] = 1 - p[0];
        if (J) J[0].set([-20 * p[0], 10, -1, 0]);
      }),
    );
    const s = solveLM(rosen, TIGHT);
    expect(s.termination).toBe('converged');
    expect(s.successfulSteps).toBeGreaterThan(3);
    expect(rosen.params[0][0]).toBeCloseTo(1, 10);
    expect(rosen.params[0][1]).toBeCloseTo(1, 10);
  });

  it('builds the banded normal equations of a chain with bandwidth 2 and solves like a dense solve', () => {
    const problem = chainProblem(9, 1);
    const sys = new BlockBandSystem(
      problem.params.map((p) => p.length),
      null,
      problem.residualBlocks.map((rb) => rb.blocks),
    );
    expect(sys.bandwidth).toBe(2);
    sys.reset();
    for (const rb of problem.residualBlocks) {
      const x = rb.blocks.map((b) => problem.params[b]);
      const r = new Float64Array(rb.numResiduals);
      const J = x.map((p) => new Float64Array(rb.numResiduals * p.length));
      rb.evaluate(x, r, J);
      sys.accumulate(rb.blocks, J, r, rb.numResiduals);
    }
    const { H, g } = normalEquations(problem);
    expectBandEquals(sys, H, g);
    expect(sys.factor(0.5)).toBe(true);
    const x = new Float64Array(sys.n);
    sys.solve(g, x);
    H.forEach((row, i) => (row[i] += sys.damping[i]));
    const ref = denseSolve(H, g);
    ref.forEach((ri, i) => expect(x[i]).toBeCloseTo(ri, 10));
  });

  it('accumulates runs of rows sharing a sparsity pattern like single rows', () => {
    // Rows 0..39 over blocks of 4, 5, 3 columns; the pattern changes where runs of 1, 2, 3, 5, 17, 1, 11 end.
    const rand = rng(9);
    const sizes = [4, 5, 3];
    const ends = [1, 3, 6, 11, 28, 29, 40];
    const J = sizes.map((n) => new Float64Array(40 * n));
    let pattern: boolean[] = [];
    for (let r = 0; r < 40; r++) {
      if (r === 0 || ends.includes(r)) pattern = Array.from({ length: 12 }, () => rand() < 0.4);
      let c = 0;
      sizes.forEach((n, k) => {
        for (let j = 0; j < n; j++, c++) if (pattern[c]) J[k][r * n + j] = rand() + 0.1;
      });
    }
    const res = Float64Array.from({ length: 40 }, () => rand() - 0.5);
    const sys = new BlockBandSystem(sizes, null, [[0, 1, 2]]);
    sys.reset();
    sys.accumulate([0, 1, 2], J, res, 40);
    const rows = Array.from({ length: 40 }, (_, r) =>
      sizes.flatMap((n, k) => Array.from(J[k].subarray(r * n, r * n + n))),
    );
    const H = Array.from({ length: 12 }, (_, a) =>
      Float64Array.from({ length: 12 }, (_, b) => rows.reduce((s, row) => s + row[a] * row[b], 0)),
    );
    expectBandEquals(
      sys,
      H,
      Float64Array.from({ length: 12 }, (_, a) => rows.reduce((s, row, r) => s + row[a] * res[r], 0)),
    );
  });

  it('reaches the dense Gauss-Newton solution of a chain with temporal coupling', () => {
    const problem = chainProblem(20, 2);
    const ref = clone(problem);
    denseGaussNewton(ref);
    const s = solveLM(problem, TIGHT);
    expect(s.termination).toBe('converged');
    expect(s.finalCost).toBeLessThan(s.initialCost);
    const a = flat(problem);
    flat(ref).forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThan(1e-8));
  });

  it('keeps constant blocks fixed and equals solving the reduced problem', () => {
    const problem = chainProblem(12, 3);
    problem.constant = new Uint8Array(12);
    problem.constant[0] = problem.constant[5] = 1;
    const before = problem.params.map((p) => Float64Array.from(p));
    // The reduced problem: constant values baked into residual blocks over the free blocks only.
    const freeIndex = [-1, 0, 1, 2, 3, -1, 4, 5, 6, 7, 8, 9];
    const reduced: Problem = {
      params: problem.params.filter((_, b) => freeIndex[b] >= 0).map((p) => Float64Array.from(p)),
      residualBlocks: problem.residualBlocks
        .filter((rb) => rb.blocks.some((b) => freeIndex[b] >= 0))
        .map((rb) => {
          const free = rb.blocks.filter((b) => freeIndex[b] >= 0);
          return block(
            free.map((b) => freeIndex[b]),
            rb.numResiduals,
            (x, r, J) => {
              const full = rb.blocks.map((b) => (freeIndex[b] >= 0 ? x[free.indexOf(b)] : before[b]));
              const fullJ = J && full.map((p) => new Float64Array(rb.numResiduals * p.length));
              rb.evaluate(full, r, fullJ);
              if (J) free.forEach((b, k) => J[k].set(fullJ![rb.blocks.indexOf(b)]));
            },
          );
        }),
    };
    expect(solveLM(problem, TIGHT).termination).toBe('converged');
    expect(solveLM(reduced, TIGHT).termination).toBe('converged');
    expect(Array.from(problem.params[0])).toEqual(Array.from(before[0]));
    expect(Array.from(problem.params[5])).toEqual(Array.from(before[5]));
    const a = flat({ params: problem.params.filter((_, b) => freeIndex[b] >= 0), residualBlocks: [] });
    // Both stop where F no longer resolves the minimiser (|g| ~ 1e-8 at F ~ 10): equal to that, not bitwise.
    flat(reduced).forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThan(1e-7));
    expect(Math.abs(a[0] - before[1][0])).toBeGreaterThan(1e-3); // the free blocks did move
  });

  it('recovers a line through 20% gross outliers with Geman-McClure, and not with trivial loss', () => {
    const rand = rng(4);
    const xs = Array.from({ length: 100 }, (_, i) => i / 50 - 1);
    const ys = xs.map((x, i) => 2 * x + 1 + 0.02 * (rand() - 0.5) + (i % 5 === 0 ? 3 + 5 * rand() : 0));
    const fit = (loss: LossFunction | null, start: Float64Array): Float64Array => {
      const problem: Problem = {
        params: [start],
        residualBlocks: xs.map((x, i) =>
          block(
            [0],
            1,
            ([p], r, J) => {
              r[0] = p[0] * x + p[1] - ys[i];
              if (J) J[0].set([x, 1]);
            },
            loss,
          ),
        ),
      };
      expect(solveLM(problem, DEFAULT_SOLVER_OPTIONS).termination).toBe('converged');
      return problem.params[0];
    };
    const ls = fit(null, Float64Array.of(0, 0));
    expect(Math.abs(ls[1] - 1)).toBeGreaterThan(0.5);
    const robust = fit(gemanMcClure(0.1), Float64Array.from(ls));
    expect(robust[0]).toBeCloseTo(2, 2);
    expect(robust[1]).toBeCloseTo(1, 2);
    expect(fit(trivialLoss, Float64Array.of(0, 0))[1]).toBeCloseTo(ls[1], 8);
  });

  it("corrects residuals and Jacobians so J~'r~ is the gradient and J~'J~ the Hessian of rho", () => {
    // A linear residual r = A x - b (6 rows, groups of 3), so the exact Hessian of 1/2 rho is
    // rho' A'A + 2 rho'' A'r r'A, which the corrector must reproduce where rho'' > 0.
    const convex: LossFunction = {
      evaluate: (s, out) => out.set([s + 0.3 * s * s, 1 + 0.6 * s, 0.6]),
    };
    const A = [1, 2, -1, 0.5, -1, 3, 2, 0, 1, -2, 1, 1, 0.3, -0.7, 2, 1, 1, 0.5];
    const b = [0.3, -1, 2, 0.5, 0.1, -0.4];
    const losses: [LossFunction, boolean][] = [
      [convex, true],
      [huber(0.5), false],
      [gemanMcClure(1.5), false],
    ];
    for (const [loss, checkHessian] of losses) {
      const cost = (x: number[]): number => {
        const r = new Float64Array(6);
        for (let i = 0; i < 6; i++) r[i] = A[3 * i] * x[0] + A[3 * i + 1] * x[1] + A[3 * i + 2] * x[2] - b[i];
        return 0.5 * (correctGroup(loss, r, 0, 3, null, null) + correctGroup(loss, r, 3, 3, null, null));
      };
      const x0 = [0.4, -0.2, 0.7];
      const r = new Float64Array(6);
      for (let i = 0; i < 6; i++)
        r[i] = A[3 * i] * x0[0] + A[3 * i + 1] * x0[1] + A[3 * i + 2] * x0[2] - b[i];
      const J = Float64Array.from(A);
      const c0 = 0.5 * (correctGroup(loss, r, 0, 3, [J], [3]) + correctGroup(loss, r, 3, 3, [J], [3]));
      expect(c0).toBeCloseTo(cost(x0), 14);
      const e = (k: number, h: number): number[] => x0.map((v, i) => (i === k ? v + h : v));
      for (let a = 0; a < 3; a++) {
        let Jr = 0;
        for (let i = 0; i < 6; i++) Jr += J[3 * i + a] * r[i];
        expect(Jr).toBeCloseTo((cost(e(a, 1e-6)) - cost(e(a, -1e-6))) / 2e-6, 6);
        if (!checkHessian) continue;
        for (let c = 0; c < 3; c++) {
          let JJ = 0;
          for (let i = 0; i < 6; i++) JJ += J[3 * i + a] * J[3 * i + c];
          const h = 1e-4;
          const at = (da: number, dc: number): number =>
            cost(x0.map((v, i) => v + (i === a ? da : 0) + (i === c ? dc : 0)));
          const numeric = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
          expect(Math.abs(JJ - numeric)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
        }
      }
    }
  });

  it('rejects steps into a region where a block cannot be evaluated, and still converges', () => {
    let refused = 0;
    const problem: Problem = {
      params: [Float64Array.of(20)],
      residualBlocks: [
        block([0], 1, ([p], r, J) => {
          if (p[0] <= 0) {
            refused++;
            return false;
          }
          r[0] = Math.log(p[0]) - Math.log(5); // the Gauss-Newton step from 20 lands at -7.7
          if (J) J[0][0] = 1 / p[0];
        }),
      ],
    };
    const s = solveLM(problem, TIGHT);
    expect(refused).toBeGreaterThan(0);
    expect(s.iterations).toBeGreaterThan(s.successfulSteps);
    expect(s.termination).toBe('converged');
    expect(problem.params[0][0]).toBeCloseTo(5, 10);
    problem.params[0][0] = -1;
    expect(solveLM(problem, TIGHT).termination).toBe('failed');
    problem.residualBlocks.push(block([0], 1, (_x, r) => void (r[0] = NaN), gemanMcClure(1)));
    problem.params[0][0] = 3;
    expect(solveLM(problem, TIGHT).termination).toBe('failed');
  });

  it('stops with cancelled on abort, at the last accepted point', () => {
    const ctl = new AbortController();
    ctl.abort();
    const problem = chainProblem(6, 5);
    const start = flat(problem);
    const s0 = solveLM(problem, { ...TIGHT, signal: ctl.signal });
    expect(s0.termination).toBe('cancelled');
    expect(flat(problem)).toEqual(start);
    const later = new AbortController();
    let prepares = 0;
    problem.prepare = () => void (++prepares === 6 && later.abort());
    const s = solveLM(problem, { ...TIGHT, signal: later.signal });
    expect(s.termination).toBe('cancelled');
    expect(s.finalCost).toBeLessThan(s.initialCost);
    const check = clone(problem);
    check.prepare = undefined;
    expect(solveLM(check, { ...TIGHT, maxIterations: 0 }).finalCost).toBe(s.finalCost);
  });

  it('runs an 8-frame window of body size in a few ms per iteration', () => {
    const options = { ...TIGHT, maxIterations: 10 };
    solveLM(windowProblem(7).problem, options); // warm up the JIT
    let msPerIteration = Infinity;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const it = solveLM(windowProblem(8).problem, options).iterations;
      msPerIteration = Math.min(msPerIteration, (performance.now() - t0) / it);
    }
    const { problem, truth } = windowProblem(8);
    const error = (): number =>
      Math.max(...problem.params.map((x, t) => Math.max(...x.map((v, c) => Math.abs(v - truth[t][c])))));
    const before = error();
    const s = solveLM(problem, options);
    console.log(`fit-solver: 8 x 60 window, ${msPerIteration.toFixed(2)} ms/iteration (best of 3)`);
    expect(s.finalCost).toBeLessThan(s.initialCost);
    expect(error()).toBeLessThan(0.1 * before);
    expect(msPerIteration).toBeLessThan(25); // ~3 ms on a 2-core dev box; generous for loaded CI
  });

  it('rejects malformed problems with a clear error', () => {
    const p = chainProblem(3, 6);
    p.residualBlocks.push(block([0, 2], 1, () => true));
    expect(() => solveLM(p, TIGHT)).toThrow(
      /lm\.ts: residual block \d+ reads blocks \[0,2\], not consecutive/,
    );
    const q = chainProblem(3, 6);
    q.residualBlocks.push(block([1], 3, () => true, huber(1), 2));
    expect(() => solveLM(q, TIGHT)).toThrow(/lossGroup 2 does not divide numResiduals 3/);
    const scaled = chainProblem(3, 6);
    scaled.residualBlocks.push({ ...block([1], 4, () => true, huber(1), 2), lossScale: [1] });
    expect(() => solveLM(scaled, TIGHT)).toThrow(/1 loss scales for 2 loss groups/);
    const odd = chainProblem(3, 6);
    odd.residualBlocks.push({ ...block([1], 4, () => true, huber(1), 2), activeRows: () => 3 });
    expect(() => solveLM(odd, TIGHT)).toThrow(/reports 3 active rows of 4/);
  });

  it('scales a loss per group like residuals and a loss scaled by hand', () => {
    // a rho_sigma(|e|^2) per pixel (lossScale) is sqrt(a) e under Geman-McClure of scale sqrt(a) sigma.
    const rand = rng(12);
    const a = [0.7, 0.2, 1.5];
    const targets = Array.from({ length: 6 }, () => 4 * (rand() - 0.5));
    targets[4] += 30; // an outlier pixel
    const make = (scaled: boolean): Problem => ({
      params: [Float64Array.of(0.3, -0.2)],
      residualBlocks: [0, 1].map((i) => ({
        ...block(
          [0],
          6,
          ([x], r, J) => {
            for (let g = 0; g < 3; g++)
              for (let c = 0; c < 2; c++) {
                const row = 2 * g + c;
                const s = scaled ? 1 : Math.sqrt(a[g]);
                r[row] = s * ((g + 1) * x[c] + 0.1 * x[c] * x[c] + i - targets[row]);
                if (J) J[0][row * 2 + c] = s * (g + 1 + 0.2 * x[c]);
              }
          },
          scaled ? gemanMcClure(2) : null,
          2,
        ),
        ...(scaled ? { lossScale: a } : {}),
      })),
    });
    const plain = make(false);
    plain.residualBlocks = plain.residualBlocks.flatMap((rb) =>
      [0, 1, 2].map((g): ResidualBlock => ({
        blocks: [0],
        numResiduals: 2,
        loss: gemanMcClure(2 * Math.sqrt(a[g])),
        evaluate: (x, r, J) => {
          const rr = new Float64Array(6);
          const JJ = J ? [new Float64Array(12)] : null;
          rb.evaluate(x, rr, JJ);
          r.set(rr.subarray(2 * g, 2 * g + 2));
          if (J) J[0].set(JJ![0].subarray(4 * g, 4 * g + 4));
          return true;
        },
      })),
    );
    const byScale = make(true);
    const s1 = solveLM(byScale, TIGHT);
    const s2 = solveLM(plain, TIGHT);
    expect(s1.initialCost).toBeCloseTo(s2.initialCost, 12);
    expect(s1.finalCost).toBeCloseTo(s2.finalCost, 12);
    expect(s1.termination).toBe('converged');
    expect(s1.finalCost).toBeLessThan(s1.initialCost - 0.5);
    flat(byScale).forEach((v, i) => expect(v).toBeCloseTo(flat(plain)[i], 6));
    // Without a loss, lossScale weighs the squared rows.
    const linear = (scale: number[] | null): Problem => ({
      params: [Float64Array.of(0)],
      residualBlocks: [
        {
          ...block([0], 2, ([x], r, J) => {
            r[0] = x[0] - 1;
            r[1] = x[0] - 4;
            if (J) J[0].set([1, 1]);
          }),
          ...(scale ? { lossScale: scale, lossGroup: 1 } : {}),
        },
      ],
    });
    const weighted = linear([3, 1]);
    solveLM(weighted, TIGHT);
    expect(weighted.params[0][0]).toBeCloseTo((3 * 1 + 1 * 4) / 4, 7);
  });

  it('uses only the active rows of a hinge block', () => {
    // r_i = max(0, x - c_i) over 50 thresholds, with the active rows first, against all rows.
    const c = Array.from({ length: 50 }, (_, i) => i / 10);
    const hinge = (compact: boolean): Problem => {
      let active = 50;
      const rb = block([0], 50, ([x], r, J) => {
        let k = 0;
        r.fill(0);
        for (let i = 0; i < 50; i++) {
          const e = x[0] - c[i];
          if (compact && e <= 0) continue;
          r[k] = Math.max(0, e);
          if (J && e > 0) J[0][k] = 1;
          k++;
        }
        active = compact ? k : 50;
      });
      const pull = block([0], 1, ([x], r, J) => {
        r[0] = 0.3 * (x[0] - 6);
        if (J) J[0][0] = 0.3;
      });
      return { params: [Float64Array.of(5.5)], residualBlocks: [{ ...rb, activeRows: () => active }, pull] };
    };
    const compact = hinge(true);
    const full = hinge(false);
    const s1 = solveLM(compact, TIGHT);
    const s2 = solveLM(full, TIGHT);
    expect(s1.initialCost).toBeCloseTo(s2.initialCost, 12);
    expect(s1.finalCost).toBeCloseTo(s2.finalCost, 12);
    expect(compact.params[0][0]).toBeCloseTo(full.params[0][0], 10);
    // Equilibrium where the active hinges' pull sum_i (x - c_i) balances 0.09 (6 - x): x = 0.2718...
    expect(compact.params[0][0]).toBeCloseTo(0.28 / 1.03, 8);
  });

  it('reuses a workspace across problems, narrowing the envelope and widening it when H grows', () => {
    const ws = createLMWorkspace();
    // Two windows of the same structure, then another structure, each equal to a fresh solve.
    for (const seed of [21, 22]) {
      const a = chainProblem(10, seed);
      const b = clone(a);
      solveLM(a, TIGHT, ws);
      solveLM(b, TIGHT);
      const fa = flat(a);
      flat(b).forEach((v, i) => expect(Math.abs(fa[i] - v)).toBeLessThan(1e-7));
    }
    const first = ws.system;
    expect(first!.rowPtr[first!.n]).toBeLessThan(first!.h.length + 1);
    const other = chainProblem(7, 23);
    solveLM(other, TIGHT, ws);
    expect(ws.system).not.toBe(first);

    // A coupling that is exactly zero at the start: the narrowed envelope misses it, accumulate reports
    // the overflow, and the widened system still reaches the dense solution.
    const grow = chainProblem(6, 24);
    // The last block's last component couples to nothing before its block but through this term.
    grow.residualBlocks.push(
      block([4, 5], 1, ([p, q], r, J) => {
        r[0] = p[1] * q[4] - 0.3;
        if (J) {
          J[0][1] = q[4];
          J[1][4] = p[1];
        }
      }),
    );
    grow.params[5][4] = 0; // dr/dp[1] = 0 at the start
    const sys = new BlockBandSystem(
      grow.params.map((p) => p.length),
      null,
      grow.residualBlocks.map((rb) => rb.blocks),
    );
    const accumulate = () => {
      sys.reset();
      for (const rb of grow.residualBlocks) {
        const x = rb.blocks.map((b) => grow.params[b]);
        const r = new Float64Array(rb.numResiduals);
        const J = x.map((p) => new Float64Array(rb.numResiduals * p.length));
        rb.evaluate(x, r, J);
        sys.accumulate(rb.blocks, J, r, rb.numResiduals);
      }
    };
    accumulate();
    const wide = sys.h.length;
    sys.learnEnvelope();
    expect(sys.h.length).toBeLessThan(wide);
    expectBandEquals(sys, normalEquations(grow).H, normalEquations(grow).g);
    grow.params[5][4] = 0.5;
    accumulate();
    expect(sys.overflowed).toBe(true);
    sys.widen();
    accumulate();
    expect(sys.overflowed).toBe(false);
    expectBandEquals(sys, normalEquations(grow).H, normalEquations(grow).g);
    grow.params[5][4] = 0;
    const ref = clone(grow);
    denseGaussNewton(ref);
    expect(solveLM(grow, TIGHT).termination).toBe('converged');
    const fg = flat(grow);
    flat(ref).forEach((v, i) => expect(Math.abs(fg[i] - v)).toBeLessThan(1e-7));
  });

  it("accumulates a triangular block (rows within the first row's columns) like single rows", () => {
    const rand = rng(31);
    const n = 40;
    const J = new Float64Array(n * n);
    for (let r = 0; r < n; r++) for (let c = r; c < n; c++) J[r * n + c] = rand() - 0.5;
    const res = Float64Array.from({ length: n }, () => rand() - 0.5);
    const sys = new BlockBandSystem([n], null, [[0]]);
    sys.reset();
    sys.accumulate([0], [J], res, n);
    const H = Array.from({ length: n }, (_, a) =>
      Float64Array.from({ length: n }, (_, b) => {
        let s = 0;
        for (let r = 0; r < n; r++) s += J[r * n + a] * J[r * n + b];
        return s;
      }),
    );
    const g = Float64Array.from({ length: n }, (_, a) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += J[r * n + a] * res[r];
      return s;
    });
    expectBandEquals(sys, H, g);
  });
});
