/**
 * Levenberg-Marquardt for the chain problems of body fitting (Ceres' trust-region LM, restricted to
 * Euclidean parameter blocks):
 *
 *   min_x F(x) = 1/2 sum_i rho_i(||f_i(x)||^2)
 *
 * Each iteration solves (H + mu D) dx = -g with H = J~^T J~, g = J~^T r~ of the corrected residuals
 * (loss.ts), D = clamp(diag(H)) (Marquardt's scaling), on the block-banded normal equations of
 * block-band.ts. The step quality is the gain ratio (Madsen, Nielsen & Tingleff 2004, eq. 2.18)
 *
 *   varrho = (F(x) - F(x + dx)) / (L(0) - L(dx)),  L(0) - L(dx) = 1/2 dx^T (mu D dx - g)   (eq. 3.14),
 *
 * and mu follows Nielsen's update (eq. 3.15 / Ceres' LevenbergMarquardtStrategy): on success
 * mu *= max(1/3, 1 - (2 varrho - 1)^3), nu = 2; on failure mu *= nu, nu *= 2.
 */
import { BlockBandSystem } from './block-band';
import { correctGroup } from './loss';
import type { Problem, ResidualBlock, SolverOptions, SolverSummary, Termination } from './problem';

/** Ceres' defaults (initial_trust_region_radius 1e4 -> mu = 1e-4). */
export const DEFAULT_SOLVER_OPTIONS: Readonly<SolverOptions> = Object.freeze({
  maxIterations: 50,
  functionTolerance: 1e-6,
  gradientTolerance: 1e-10,
  parameterTolerance: 1e-8,
  initialLambda: 1e-4,
});

/** A step is accepted when the gain ratio exceeds this (Ceres' min_relative_decrease). */
const MIN_RELATIVE_DECREASE = 1e-3;
/** mu bounds: Ceres' max_trust_region_radius 1e16 and min_trust_region_radius 1e-32. */
const MIN_MU = 1e-16;
const MAX_MU = 1e32;

/** Per residual block: views into the workspace's shared scratch, made once per solve. */
interface BlockEval {
  block: ResidualBlock;
  params: Float64Array[];
  residuals: Float64Array;
  /** All zero before each evaluation with Jacobians (the rows used are zeroed again after), one per block read. */
  jacobians: Float64Array[];
  /** The free blocks' Jacobians and widths, which the corrector and H need. */
  freeJacobians: Float64Array[];
  freeCols: Int32Array;
  /** Widths of all blocks read, for re-zeroing the rows used. */
  cols: Int32Array;
  /** Rows per loss group (1 for a plain block). */
  group: number;
}

/**
 * Buffers of a solve, reusable by later solves of problems with the same structure (parameter block
 * sizes, constant blocks and the blocks each residual block reads), as sliding windows are: the normal
 * equations (with the envelope learned from H, block-band.ts) are kept, the scratch only grows.
 */
export interface LMWorkspace {
  system: BlockBandSystem | null;
  evals: BlockEval[];
  /** Free parameter blocks (ascending) for copying x in and out. */
  freeBlocks: number[];
  xSave: Float64Array;
  dx: Float64Array;
  /** Residual scratch, and one Jacobian scratch per position k of a block read (kept all zero). */
  resScratch: Float64Array;
  jacScratch: Float64Array[];
  /** False while a block may have left Jacobian scratch dirty (an evaluation threw). */
  clean: boolean;
}

export function createLMWorkspace(): LMWorkspace {
  return {
    system: null,
    evals: [],
    freeBlocks: [],
    xSave: new Float64Array(0),
    dx: new Float64Array(0),
    resScratch: new Float64Array(0),
    jacScratch: [],
    clean: true,
  };
}

function fail(message: string): never {
  throw new Error(`lm.ts: ${message}`);
}

function validate(problem: Problem, options: SolverOptions): void {
  const nb = problem.params.length;
  problem.params.forEach((p, b) => {
    if (!(p instanceof Float64Array) || p.length === 0)
      fail(`parameter block ${b} must be a non-empty Float64Array`);
  });
  if (problem.constant && problem.constant.length !== nb) {
    fail(`constant has ${problem.constant.length} entries for ${nb} parameter blocks`);
  }
  problem.residualBlocks.forEach((rb, i) => {
    const bl = rb.blocks;
    if (bl.length === 0) fail(`residual block ${i} reads no parameter block`);
    bl.forEach((b, k) => {
      if (!Number.isInteger(b) || b < 0 || b >= nb)
        fail(`residual block ${i} reads block ${b}, not in 0..${nb - 1}`);
      if (k > 0 && b !== bl[k - 1] + 1)
        fail(`residual block ${i} reads blocks [${bl.join(',')}], not consecutive`);
    });
    if (!Number.isInteger(rb.numResiduals) || rb.numResiduals <= 0) {
      fail(`residual block ${i} has numResiduals ${rb.numResiduals}`);
    }
    const group = rb.lossGroup ?? rb.numResiduals;
    if (
      (rb.loss || rb.lossScale) &&
      (!Number.isInteger(group) || group <= 0 || rb.numResiduals % group !== 0)
    ) {
      fail(`residual block ${i}: lossGroup ${group} does not divide numResiduals ${rb.numResiduals}`);
    }
    if (rb.lossScale) {
      const a = rb.lossScale;
      if (a.length !== rb.numResiduals / group)
        fail(`residual block ${i}: ${a.length} loss scales for ${rb.numResiduals / group} loss groups`);
      for (let g = 0; g < a.length; g++)
        if (!(a[g] >= 0) || !Number.isFinite(a[g]))
          fail(`residual block ${i}: loss scale ${a[g]} is not >= 0`);
    }
  });
  if (!Number.isInteger(options.maxIterations) || options.maxIterations < 0) {
    fail(`maxIterations must be an integer >= 0, got ${options.maxIterations}`);
  }
  if (!(options.initialLambda > 0)) fail(`initialLambda must be > 0, got ${options.initialLambda}`);
}

/** Points the workspace at a problem: keeps its system when the structure is the same, grows scratch. */
function prepareWorkspace(problem: Problem, ws: LMWorkspace): void {
  const sizes = problem.params.map((p) => p.length);
  const constant = problem.constant ?? null;
  const coupling = problem.residualBlocks.map((rb) => rb.blocks);
  if (!ws.system || !ws.system.sameStructure(sizes, constant, coupling)) {
    ws.system = new BlockBandSystem(sizes, constant, coupling);
    ws.xSave = new Float64Array(ws.system.n);
    ws.dx = new Float64Array(ws.system.n);
  }
  const system = ws.system;
  let maxRows = 0;
  const maxJac: number[] = [];
  for (const rb of problem.residualBlocks) {
    maxRows = Math.max(maxRows, rb.numResiduals);
    rb.blocks.forEach((b, k) => (maxJac[k] = Math.max(maxJac[k] ?? 0, rb.numResiduals * sizes[b])));
  }
  if (ws.resScratch.length < maxRows) ws.resScratch = new Float64Array(maxRows);
  maxJac.forEach((len, k) => {
    if (!(ws.jacScratch[k]?.length >= len)) ws.jacScratch[k] = new Float64Array(len);
  });
  if (!ws.clean) for (const j of ws.jacScratch) j.fill(0);
  ws.clean = true;
  ws.evals = problem.residualBlocks.map((rb): BlockEval => {
    const m = rb.numResiduals;
    const jacobians = rb.blocks.map((b, k) => ws.jacScratch[k].subarray(0, m * sizes[b]));
    const free = rb.blocks.map((b, k) => k).filter((k) => !(constant && constant[rb.blocks[k]]));
    return {
      block: rb,
      params: rb.blocks.map((b) => problem.params[b]),
      residuals: ws.resScratch.subarray(0, m),
      jacobians,
      freeJacobians: free.map((k) => jacobians[k]),
      freeCols: Int32Array.from(free.map((k) => sizes[rb.blocks[k]])),
      cols: Int32Array.from(rb.blocks.map((b) => sizes[b])),
      group: rb.loss || rb.lossScale ? (rb.lossGroup ?? m) : 1,
    };
  });
  ws.freeBlocks = sizes.map((_, b) => b).filter((b) => system.blockOffset[b] >= 0);
}

/** Zeroes rows [0, rows) of a block's Jacobian scratch (all rows when it may hold anything). */
function zeroJacobians(e: BlockEval, rows: number): void {
  for (let k = 0; k < e.jacobians.length; k++) e.jacobians[k].fill(0, 0, rows * e.cols[k]);
}

/**
 * F(x) at the current params; with `withJacobians` also H and g of the corrected residuals. Returns NaN
 * when a block cannot be evaluated or the cost (or, with Jacobians, g or diag H) is not finite.
 */
function evaluate(problem: Problem, ws: LMWorkspace, withJacobians: boolean): number {
  problem.prepare?.(problem.params, withJacobians);
  const system = ws.system!;
  if (withJacobians) system.reset();
  let cost = 0;
  for (const e of ws.evals) {
    const rb = e.block;
    const useJac = withJacobians && e.freeJacobians.length > 0;
    if (useJac) ws.clean = false;
    if (!rb.evaluate(e.params, e.residuals, useJac ? e.jacobians : null)) {
      if (useJac) zeroJacobians(e, rb.numResiduals);
      ws.clean = true;
      return NaN;
    }
    const m = rb.activeRows ? rb.activeRows() : rb.numResiduals;
    if (!(m >= 0 && m <= rb.numResiduals && m % e.group === 0 && Number.isInteger(m)))
      fail(`a residual block reports ${m} active rows of ${rb.numResiduals} (loss group ${e.group})`);
    cost += blockCost(e, m, useJac);
    if (!Number.isFinite(cost)) {
      if (useJac) zeroJacobians(e, rb.numResiduals);
      ws.clean = true;
      return NaN;
    }
    if (useJac) {
      system.accumulate(rb.blocks, e.jacobians, e.residuals, m);
      zeroJacobians(e, m);
      ws.clean = true;
    }
  }
  if (!withJacobians) return cost;
  if (system.overflowed) {
    // H has entries outside the envelope learned earlier: go back to the block envelope and redo.
    system.widen();
    return evaluate(problem, ws, true);
  }
  system.learnEnvelope();
  const { g, h, rowPtr } = system;
  for (let i = 0; i < system.n; i++) {
    if (!Number.isFinite(g[i]) || !Number.isFinite(h[rowPtr[i + 1] - 1])) return NaN;
  }
  return cost;
}

/** 1/2 sum of the block's (scaled, robustified) groups over its first m rows; corrects them in place. */
function blockCost(e: BlockEval, m: number, useJac: boolean): number {
  const rb = e.block;
  const loss = rb.loss;
  const scale = rb.lossScale;
  const res = e.residuals;
  let cost = 0;
  if (loss) {
    const jac = useJac ? e.freeJacobians : null;
    for (let r0 = 0, gi = 0; r0 < m; r0 += e.group, gi++)
      cost += 0.5 * correctGroup(loss, res, r0, e.group, jac, e.freeCols, scale ? scale[gi] : 1);
  } else if (scale) {
    // a s: rows scaled by sqrt(a), the trivial loss's correction.
    for (let r0 = 0, gi = 0; r0 < m; r0 += e.group, gi++) {
      const sa = Math.sqrt(scale[gi]);
      for (let r = r0; r < r0 + e.group; r++) {
        res[r] *= sa;
        cost += 0.5 * res[r] * res[r];
        for (let k = 0; useJac && k < e.freeJacobians.length; k++) {
          const J = e.freeJacobians[k];
          const n = e.freeCols[k];
          for (let c = r * n; c < (r + 1) * n; c++) J[c] *= sa;
        }
      }
    }
  } else {
    for (let r = 0; r < m; r++) cost += 0.5 * res[r] * res[r];
  }
  return cost;
}

function copyOut(problem: Problem, ws: LMWorkspace, x: Float64Array): void {
  for (const b of ws.freeBlocks) x.set(problem.params[b], ws.system!.blockOffset[b]);
}

function copyIn(problem: Problem, ws: LMWorkspace, x: Float64Array): void {
  for (const b of ws.freeBlocks) {
    const p = problem.params[b];
    p.set(x.subarray(ws.system!.blockOffset[b], ws.system!.blockOffset[b] + p.length));
  }
}

/** params[b] += dx over the free blocks. */
function applyStep(problem: Problem, ws: LMWorkspace): void {
  for (const b of ws.freeBlocks) {
    const p = problem.params[b];
    const off = ws.system!.blockOffset[b];
    for (let c = 0; c < p.length; c++) p[c] += ws.dx[off + c];
  }
}

/**
 * Minimises the problem's cost from problem.params, which are updated in place (left at the last accepted
 * point). Residual blocks are evaluated after problem.prepare(params, withJacobians) at each point.
 * `workspace` (createLMWorkspace) carries buffers from one solve to the next of the same structure.
 */
export function solveLM(
  problem: Problem,
  options: SolverOptions,
  workspace: LMWorkspace = createLMWorkspace(),
): SolverSummary {
  validate(problem, options);
  const ws = workspace;
  prepareWorkspace(problem, ws);
  const system = ws.system!;
  const { dx, xSave } = ws;
  const n = system.n;
  const g = system.g;
  const damping = system.damping;
  const summary: SolverSummary = {
    iterations: 0,
    initialCost: NaN,
    finalCost: NaN,
    termination: 'failed',
    successfulSteps: 0,
  };
  let cost = evaluate(problem, ws, true);
  summary.initialCost = cost;
  summary.finalCost = cost;
  if (Number.isNaN(cost)) return summary;
  /** Whether the last prepare() was at the current params (else redone before returning). */
  let preparedHere = true;
  const finish = (termination: Termination): SolverSummary => {
    if (!preparedHere) problem.prepare?.(problem.params, false);
    summary.termination = termination;
    summary.finalCost = cost;
    return summary;
  };
  if (n === 0) return finish('converged');
  let mu = options.initialLambda;
  let nu = 2;
  for (;;) {
    if (options.signal?.aborted) return finish('cancelled');
    let gMax = 0;
    for (let i = 0; i < n; i++) gMax = Math.max(gMax, Math.abs(g[i]));
    if (gMax <= options.gradientTolerance) return finish('converged');
    if (summary.iterations >= options.maxIterations) return finish('max-iterations');
    summary.iterations++;

    // (H + mu D) dx = -g; a failed factorisation counts as a rejected step.
    let model = NaN;
    let dxNorm = 0;
    if (system.factor(mu)) {
      for (let i = 0; i < n; i++) dx[i] = -g[i];
      system.solve(dx, dx);
      // L(0) - L(dx) = 1/2 dx^T (D dx - g), since (H + D) dx = -g (Madsen et al. eq. 3.14).
      let dDd = 0;
      let gd = 0;
      for (let i = 0; i < n; i++) {
        dDd += damping[i] * dx[i] * dx[i];
        gd += g[i] * dx[i];
        dxNorm += dx[i] * dx[i];
      }
      model = 0.5 * (dDd - gd);
      dxNorm = Math.sqrt(dxNorm);
    }
    let varrho = -Infinity;
    if (model > 0 && Number.isFinite(model)) {
      copyOut(problem, ws, xSave);
      let xNorm = 0;
      for (let i = 0; i < n; i++) xNorm += xSave[i] * xSave[i];
      xNorm = Math.sqrt(xNorm);
      // Ceres' parameter tolerance: ||dx|| <= eps_p (||x|| + eps_p); x stays where it was.
      if (dxNorm <= options.parameterTolerance * (xNorm + options.parameterTolerance)) {
        return finish('converged');
      }
      applyStep(problem, ws);
      const newCost = evaluate(problem, ws, false);
      preparedHere = true;
      if (!Number.isNaN(newCost)) {
        // Ceres' function tolerance: |F(x) - F(x + dx)| <= eps_f F(x), keeping the better point.
        if (Math.abs(cost - newCost) <= options.functionTolerance * cost) {
          if (newCost < cost) {
            cost = newCost;
            summary.successfulSteps++;
          } else {
            copyIn(problem, ws, xSave);
            preparedHere = false;
          }
          return finish('converged');
        }
        varrho = (cost - newCost) / model;
      }
      if (varrho > MIN_RELATIVE_DECREASE) {
        const linearised = evaluate(problem, ws, true);
        if (Number.isNaN(linearised)) {
          // Jacobians fail where the cost did not: step back, relinearise, and treat the step as rejected.
          varrho = -Infinity;
          copyIn(problem, ws, xSave);
          if (Number.isNaN(evaluate(problem, ws, true))) return finish('failed');
        } else {
          cost = linearised;
          summary.successfulSteps++;
        }
      } else {
        copyIn(problem, ws, xSave);
        preparedHere = false;
      }
    }
    if (varrho > MIN_RELATIVE_DECREASE) {
      const t = 2 * varrho - 1;
      mu = Math.max(MIN_MU, mu * Math.max(1 / 3, 1 - t * t * t));
      nu = 2;
    } else {
      mu *= nu;
      nu *= 2;
      // Ceres' min_trust_region_radius: no step of any length decreases the cost.
      if (mu > MAX_MU) return finish('converged');
    }
  }
}
