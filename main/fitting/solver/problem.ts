/**
 * A non-linear least-squares problem as the solver sees it (Ceres' vocabulary): ordered parameter
 * blocks and residual blocks, each reading a few consecutive parameter blocks. The solver knows nothing
 * about bodies; fitting builds one parameter block per frame and residual blocks per term and frame.
 *
 *   min_x  1/2 sum_i rho_i(||f_i(x_{b_i})||^2)
 */

/** A robust loss rho(s) of the squared norm s of a residual group (Ceres LossFunction). */
export interface LossFunction {
  /** out[0] = rho(s), out[1] = rho'(s), out[2] = rho''(s). */
  evaluate(s: number, out: Float64Array): void;
}

export interface ResidualBlock {
  /** Parameter blocks read, ascending and consecutive (a frame, or a frame and its neighbours). */
  readonly blocks: readonly number[];
  readonly numResiduals: number;
  /** Applied to each group of `lossGroup` consecutive residuals (e.g. 2 for a pixel), default all. */
  readonly loss?: LossFunction | null;
  readonly lossGroup?: number;
  /**
   * Per loss group g, a multiplier a_g >= 0 of its cost: the group costs a_g rho(s_g) (Ceres' ScaledLoss),
   * e.g. a per-view confidence under a per-pixel robust loss. Needs `loss` (or means a_g s_g without).
   */
  readonly lossScale?: ArrayLike<number>;
  /**
   * For blocks whose rows are mostly zero (hinges): the rows in use after the last evaluate, which writes
   * them first and leaves residuals and Jacobian rows from there on untouched; default numResiduals.
   * Must be a multiple of lossGroup.
   */
  activeRows?(): number;
  /**
   * Writes the residuals and, when `jacobians` is given, dr/dx for each block it reads:
   * jacobians[k] is numResiduals x size(blocks[k]) row-major, zero-filled by the solver beforehand.
   * `params[k]` is the value of blocks[k]. Returns false when it cannot be evaluated at this point
   * (the solver then rejects the step).
   */
  evaluate(
    params: readonly Float64Array[],
    residuals: Float64Array,
    jacobians: Float64Array[] | null,
  ): boolean;
}

export interface Problem {
  /** Current values, one array per parameter block; the solver updates them in place. */
  params: Float64Array[];
  /** Blocks held fixed (e.g. the frame before a window), 1 = constant. */
  constant?: Uint8Array;
  residualBlocks: ResidualBlock[];
  /**
   * Called with the evaluation point before any residual block is evaluated at it, so terms can share
   * per-block work (forward kinematics of a frame).
   */
  prepare?(params: readonly Float64Array[], withJacobians: boolean): void;
}

export type Termination = 'converged' | 'max-iterations' | 'cancelled' | 'failed';

export interface SolverOptions {
  maxIterations: number;
  /** Stop when the relative cost decrease of an accepted step falls below this. */
  functionTolerance: number;
  /** Stop when max |gradient| falls below this. */
  gradientTolerance: number;
  /** Stop when ||dx|| <= parameterTolerance (||x|| + parameterTolerance). */
  parameterTolerance: number;
  /** Initial damping mu (Ceres' initial_trust_region_radius is 1/mu). */
  initialLambda: number;
  signal?: AbortSignal;
}

export interface SolverSummary {
  iterations: number;
  initialCost: number;
  finalCost: number;
  termination: Termination;
  /** Accepted steps. */
  successfulSteps: number;
}
