import { readFileSync } from 'node:fs';
import { type GaussianMixture, logNormalizer, mahalanobis } from './gmm';

/**
 * The pose prior file: a Gaussian mixture over the axis-angle of the joints the mocap moves (SMPLify,
 * Bogo et al. 2016, sec. 3.2), per-dof joint limits, and the values the other joints are held at.
 * JSON; each component stores the lower-triangular Cholesky factor L of its precision as ragged rows
 * (row i has i + 1 values), so that (x - mu)^T Sigma^-1 (x - mu) = ||L^T (x - mu)||^2, and
 *   logNormalizer = -D/2 log(2 pi) + sum_i log L_ii = log N(mu; mu, Sigma).
 */

export const POSE_PRIOR_FORMAT = 'motion-studio/pose-prior@1';
export const DEFAULT_POSE_PRIOR_FILE = 'native/models/anny-cmu31.prior.json';

/** Where the prior's dims start in a frame's fit vector [transl (3), root axis-angle (3), joints...]. */
export const POSE_OFFSET = 6;

export interface PosePriorComponentJson {
  weight: number;
  mean: number[];
  precisionCholesky: number[][];
  logNormalizer: number;
}

export interface PosePriorJson {
  format: string;
  /** Body model the prior was fitted for (BodyModel.name). */
  model: string;
  /** Free joints (model joint names) in fit-vector order, 3 axis-angle dofs each. */
  joints: string[];
  dims: number;
  components: PosePriorComponentJson[];
  /** Per dof, radians: data percentiles widened by `margin`. */
  limits: { min: number[]; max: number[]; percentiles: [number, number]; margin: number };
  /** Non-root joints the mocap never moves: their (constant) retargeted axis-angle. */
  fixedJoints: Record<string, number[]>;
  /** Provenance (clips, frames, seed, ...), free-form. */
  training?: Record<string, unknown>;
}

export interface PosePrior extends GaussianMixture {
  file: string;
  model: string;
  joints: string[];
  limitsMin: Float64Array;
  limitsMax: Float64Array;
  /** c_k = -log w_k - logNorm_k: component k's negative log-likelihood at its mean. */
  c: Float64Array;
  cMin: number;
  fixedJoints: Record<string, [number, number, number]>;
}

function fail(file: string, problem: string): never {
  throw new Error(`${file}: pose prior ${problem}`);
}

function finiteArray(v: unknown, length: number, file: string, what: string): number[] {
  if (!Array.isArray(v) || v.length !== length)
    fail(
      file,
      `${what} must be an array of ${length} numbers, got ${Array.isArray(v) ? v.length : typeof v}`,
    );
  v.forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) fail(file, `${what}[${i}] is not a finite number`);
  });
  return v as number[];
}

/** Checks a parsed prior file; every problem names the file and the field. */
export function parsePosePrior(json: unknown, file: string): PosePrior {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'must be a JSON object');
  const o = json as Partial<PosePriorJson>;
  if (o.format !== POSE_PRIOR_FORMAT)
    fail(file, `format must be "${POSE_PRIOR_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (typeof o.model !== 'string' || o.model === '') fail(file, 'needs a model name');
  const joints = o.joints;
  if (!Array.isArray(joints) || joints.length === 0 || joints.some((j) => typeof j !== 'string' || j === ''))
    fail(file, 'joints must be a non-empty array of joint names');
  if (new Set(joints).size !== joints.length) fail(file, 'joints has duplicate names');
  const D = o.dims;
  if (D !== 3 * joints.length) fail(file, `dims is ${D}, expected 3 x ${joints.length} joints`);
  if (!Array.isArray(o.components) || o.components.length === 0) fail(file, 'needs at least one component');
  const K = o.components.length;
  const g: PosePrior = {
    file,
    model: o.model,
    joints,
    dims: D,
    components: K,
    weights: new Float64Array(K),
    means: new Float64Array(K * D),
    LT: new Float64Array(K * D * D),
    logNorm: new Float64Array(K),
    limitsMin: new Float64Array(D),
    limitsMax: new Float64Array(D),
    c: new Float64Array(K),
    cMin: Infinity,
    fixedJoints: {},
  };
  o.components.forEach((comp, k) => {
    const at = `components[${k}]`;
    if (typeof comp !== 'object' || comp === null) fail(file, `${at} must be an object`);
    const w = comp.weight;
    if (typeof w !== 'number' || !(w > 0 && w <= 1)) fail(file, `${at}.weight must be in (0, 1], got ${w}`);
    g.weights[k] = w;
    g.means.set(finiteArray(comp.mean, D, file, `${at}.mean`), k * D);
    const L = comp.precisionCholesky;
    if (!Array.isArray(L) || L.length !== D) fail(file, `${at}.precisionCholesky must have ${D} rows`);
    for (let i = 0; i < D; i++) {
      const row = finiteArray(L[i], i + 1, file, `${at}.precisionCholesky[${i}]`);
      if (!(row[i] > 0)) fail(file, `${at}.precisionCholesky[${i}][${i}] must be positive, got ${row[i]}`);
      // Stored as L^T (upper, row-major) for contiguous L^T (x - mu).
      for (let j = 0; j <= i; j++) g.LT[k * D * D + j * D + i] = row[j];
    }
    g.logNorm[k] = logNormalizer(g.LT, k * D * D, D);
    const stored = comp.logNormalizer;
    if (
      typeof stored !== 'number' ||
      !(Math.abs(stored - g.logNorm[k]) <= 1e-6 * Math.max(1, Math.abs(stored)))
    )
      fail(file, `${at}.logNormalizer ${stored} does not match its Cholesky factor (${g.logNorm[k]})`);
    g.c[k] = -Math.log(w) - g.logNorm[k];
    g.cMin = Math.min(g.cMin, g.c[k]);
  });
  const sum = g.weights.reduce((s, w) => s + w, 0);
  if (Math.abs(sum - 1) > 1e-4) fail(file, `component weights sum to ${sum}, not 1`);
  const lim = o.limits;
  if (typeof lim !== 'object' || lim === null) fail(file, 'needs limits {min, max}');
  g.limitsMin.set(finiteArray(lim.min, D, file, 'limits.min'));
  g.limitsMax.set(finiteArray(lim.max, D, file, 'limits.max'));
  for (let i = 0; i < D; i++)
    if (!(g.limitsMin[i] < g.limitsMax[i]))
      fail(file, `limits of dof ${i} (${joints[Math.floor(i / 3)]}) are empty: min >= max`);
  const fixed = o.fixedJoints ?? {};
  if (typeof fixed !== 'object' || fixed === null || Array.isArray(fixed))
    fail(file, 'fixedJoints must be an object of joint name -> 3 numbers');
  for (const [name, v] of Object.entries(fixed)) {
    if (joints.includes(name)) fail(file, `joint ${name} is both free and in fixedJoints`);
    const t = finiteArray(v, 3, file, `fixedJoints.${name}`);
    g.fixedJoints[name] = [t[0], t[1], t[2]];
  }
  return g;
}

export function loadPosePrior(file: string): PosePrior {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read pose prior (${(err as NodeJS.ErrnoException).code ?? err})`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: pose prior is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return parsePosePrior(json, file);
}

/** Rounds to `digits` significant digits: the file stays small, the fit is unaffected. */
function round(v: number, digits = 7): number {
  return Number(v.toPrecision(digits));
}

/**
 * The file form of a fitted mixture. Values are rounded, and each logNormalizer is computed from the
 * rounded factor so the file is self-consistent; parse the result to get exactly what is stored.
 */
export function posePriorJson(
  g: GaussianMixture,
  fields: Omit<PosePriorJson, 'format' | 'dims' | 'components'>,
): PosePriorJson {
  const D = g.dims;
  const components: PosePriorComponentJson[] = [];
  for (let k = 0; k < g.components; k++) {
    const rows: number[][] = [];
    const LT = new Float64Array(D * D);
    for (let i = 0; i < D; i++) {
      const row: number[] = [];
      for (let j = 0; j <= i; j++) {
        const v = round(g.LT[k * D * D + j * D + i]);
        row.push(v);
        LT[j * D + i] = v;
      }
      rows.push(row);
    }
    components.push({
      weight: round(g.weights[k], 10),
      mean: Array.from(g.means.subarray(k * D, (k + 1) * D), (v) => round(v)),
      precisionCholesky: rows,
      logNormalizer: logNormalizer(LT, 0, D),
    });
  }
  return {
    format: POSE_PRIOR_FORMAT,
    model: fields.model,
    joints: fields.joints,
    dims: D,
    components,
    limits: {
      ...fields.limits,
      min: fields.limits.min.map((v) => round(v, 5)),
      max: fields.limits.max.map((v) => round(v, 5)),
    },
    fixedJoints: Object.fromEntries(
      Object.entries(fields.fixedJoints).map(([n, v]) => [n, v.map((e) => round(e, 6))]),
    ),
    training: fields.training,
  };
}

/** k* = argmax_k w_k N(x; mu_k, Sigma_k) = argmin_k 1/2 m_k + c_k, for the pose at x[offset..]. */
export function bestComponent(prior: PosePrior, x: ArrayLike<number>, offset = 0): number {
  let best = 0;
  let bestCost = Infinity;
  for (let k = 0; k < prior.components; k++) {
    // A component already worse than the best so far needs no full product.
    const cost = 0.5 * mahalanobis(prior, k, x, offset, null, 2 * (bestCost - prior.c[k])) + prior.c[k];
    if (cost < bestCost) {
      best = k;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * The max-mixture negative log-likelihood -log max_k w_k N(x; mu_k, Sigma_k) of the pose at x[offset..].
 * posePriorBlock's cost is weight (priorCost - cMin).
 */
export function priorCost(prior: PosePrior, x: ArrayLike<number>, offset = 0): number {
  const k = bestComponent(prior, x, offset);
  return 0.5 * mahalanobis(prior, k, x, offset) + prior.c[k];
}

/** Model joint index of each prior joint; throws naming the prior file if the model lacks one. */
export function priorJointIndices(prior: PosePrior, jointNames: readonly string[]): Int32Array {
  return Int32Array.from(prior.joints, (name) => {
    const j = jointNames.indexOf(name);
    if (j <= 0) fail(prior.file, `joint ${name} is ${j === 0 ? 'the root' : 'not in the body model'}`);
    return j;
  });
}

/** Copies the prior joints' axis-angle from a J x 3 theta (frame at `to`) into out[oo..oo + dims]. */
export function gatherPose(
  indices: Int32Array,
  theta: ArrayLike<number>,
  to: number,
  out: Float64Array,
  oo: number,
): void {
  for (let i = 0; i < indices.length; i++)
    for (let c = 0; c < 3; c++) out[oo + i * 3 + c] = theta[to + indices[i] * 3 + c];
}

/** The inverse of gatherPose: writes the fit vector's joints into a J x 3 theta. */
export function scatterPose(
  indices: Int32Array,
  x: ArrayLike<number>,
  xo: number,
  theta: Float32Array | Float64Array,
  to: number,
): void {
  for (let i = 0; i < indices.length; i++)
    for (let c = 0; c < 3; c++) theta[to + indices[i] * 3 + c] = x[xo + i * 3 + c];
}
