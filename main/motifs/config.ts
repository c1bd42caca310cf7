/**
 * The documented, configurable defaults of A4Mer ("Action Motifs", CVPR 2026), one exported object per
 * concern. Every number used by main/motifs/* comes from here; callers pass a `Partial<...>` override
 * that `resolve...Config` merges and validates (an Error names the field and the value).
 */

/**
 * Which joints define the body frame of a skeleton. Joint names are matched case-insensitively with
 * non-alphanumerics ignored ('HipLeft' = 'hip_left').
 * - root: a named joint, or 'hips-mean' for the midpoint of the two hips (the default of every preset:
 *   it is defined the same way on every skeleton, while "pelvis" joints sit at different heights).
 * - heading: the body's facing in the floor plane is perpendicular to the horizontal left->right
 *   direction of the hips (plus the shoulders where given: less noisy on Kinect).
 * - neck: the scale is the median root-to-neck distance (see A4MerInputConfig).
 */
export interface A4MerSkeletonSpec {
  name: string;
  root: 'hips-mean' | { joint: string };
  leftHip: string;
  rightHip: string;
  leftShoulder?: string;
  rightShoulder?: string;
  neck: string;
}

/** Skeleton presets, tried in this order by `skeleton: 'auto'` (the first whose joints all exist wins). */
export const A4MER_SKELETONS: Readonly<Record<string, A4MerSkeletonSpec>> = {
  /** our body model (Anny, CMU-compatible 31-joint rig, main/body/cmu-rig.ts) as written by fits */
  'anny-cmu31': {
    name: 'anny-cmu31',
    root: 'hips-mean',
    leftHip: 'LeftUpLeg',
    rightHip: 'RightUpLeg',
    leftShoulder: 'LeftArm',
    rightShoulder: 'RightArm',
    neck: 'Neck',
  },
  /** CMU ASF/AMC bones (a joint is its bone's start: lfemur = the hip, lhumerus = the shoulder) */
  'cmu-asf': {
    name: 'cmu-asf',
    root: 'hips-mean',
    leftHip: 'lfemur',
    rightHip: 'rfemur',
    leftShoulder: 'lhumerus',
    rightShoulder: 'rhumerus',
    neck: 'lowerneck',
  },
  /** Kinect v1 (UTKinect-Action3D, 20 joints), SDK names */
  kinect20: {
    name: 'kinect20',
    root: 'hips-mean',
    leftHip: 'HipLeft',
    rightHip: 'HipRight',
    leftShoulder: 'ShoulderLeft',
    rightShoulder: 'ShoulderRight',
    neck: 'ShoulderCenter',
  },
  /** SMPL / SMPL-X body joints (main/body/smpl-names.ts) */
  smpl: {
    name: 'smpl',
    root: 'hips-mean',
    leftHip: 'left_hip',
    rightHip: 'right_hip',
    leftShoulder: 'left_shoulder',
    rightShoulder: 'right_shoulder',
    neck: 'neck',
  },
};

const canonical = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Joint indices of a resolved skeleton spec (-1: absent / the hips' midpoint for root). */
export interface SkeletonIndices {
  spec: A4MerSkeletonSpec;
  /** -1: the midpoint of the hips */
  root: number;
  leftHip: number;
  rightHip: number;
  leftShoulder: number;
  rightShoulder: number;
  neck: number;
}

/**
 * Resolves a skeleton spec (or preset name, or 'auto': the first preset that fits) against the joint
 * names of sequence `source` (named in the Error when none fits).
 */
export function resolveSkeleton(
  names: readonly string[],
  skeleton: string | A4MerSkeletonSpec,
  source: string,
): SkeletonIndices {
  const index = new Map(names.map((n, j) => [canonical(n), j]));
  const find = (n: string | undefined): number => (n === undefined ? -1 : (index.get(canonical(n)) ?? -2));
  const tryPreset = (spec: A4MerSkeletonSpec): SkeletonIndices | string => {
    const root = spec.root === 'hips-mean' ? -1 : find(spec.root.joint);
    const ix = {
      spec,
      root,
      leftHip: find(spec.leftHip),
      rightHip: find(spec.rightHip),
      leftShoulder: find(spec.leftShoulder),
      rightShoulder: find(spec.rightShoulder),
      neck: find(spec.neck),
    };
    const missing = Object.entries(ix).filter(([, v]) => v === -2);
    if (missing.length > 0) return `skeleton '${spec.name}' needs ${missing.map(([k]) => k).join(', ')}`;
    if (ix.leftShoulder < 0 !== ix.rightShoulder < 0)
      return `skeleton '${spec.name}' names only one shoulder`;
    return ix;
  };
  if (typeof skeleton === 'string' && skeleton !== 'auto' && !Object.hasOwn(A4MER_SKELETONS, skeleton))
    throw new Error(`A4Mer input '${source}': unknown skeleton preset '${skeleton}'`);
  const candidates =
    skeleton === 'auto'
      ? Object.values(A4MER_SKELETONS)
      : [typeof skeleton === 'string' ? A4MER_SKELETONS[skeleton] : skeleton];
  const problems: string[] = [];
  for (const spec of candidates) {
    const r = tryPreset(spec);
    if (typeof r !== 'string') return r;
    problems.push(r);
  }
  throw new Error(
    `A4Mer input '${source}': no skeleton fits its joints (${names.join(', ')}): ${problems.join('; ')}`,
  );
}

/**
 * Model input (main/motifs/preprocess.ts). Per frame the feature vector has D = 3J + 4 values
 * (6J + 5 with `velocity`):
 * - 3J: root-relative pose in the body's heading frame, divided by the body scale: for joint j,
 *   R_t^T (p_j - r_t) / s, components (right, forward, up);
 * - 4: root motion: horizontal root velocity (right, forward) in the heading frame of that frame
 *   (s per second), yaw rate about +Z (rad/s, counter-clockwise positive), root height above the floor (s).
 * - with `velocity`, 3J + 1 more: the central difference of the 3J pose values and of the root height (s/s).
 * Heading, velocity and yaw rate are central differences at the model rate (one-sided at the ends).
 * All of it is invariant to translating the sequence, rotating it about Z and scaling it.
 * Body scale s: the median over frames of the root-to-neck distance. The trunk is nearly rigid (arm and
 * leg poses, sitting or bending barely change it, unlike standing height, which needs an upright frame),
 * every skeleton has the two joints, and the median ignores glitched frames. Dividing by it makes
 * children and adults (and skeletons of different proportions) doing the same movement give the same
 * features, and gives the atom threshold a body-relative unit.
 */
export interface A4MerInputConfig {
  /** model frame rate (the paper downsamples every dataset to 5 fps) */
  fps: number;
  /** frames per window: 150 = 30 s at 5 fps (the paper's input length) */
  windowFrames: number;
  /** frames between window starts; = windowFrames for no overlap. The last window is padded (mask 0). */
  stride: number;
  /**
   * Resampling: each model frame is the average of the source's linear interpolant over one model
   * period centred on its instant (a box anti-alias filter; truncated symmetrically at the sequence
   * ends, so it stays exact on linear motion). false: plain linear interpolation at the instant.
   * Without it 120 fps mocap and 30 fps Kinect jitter alias into the 5 fps signal.
   */
  antiAlias: boolean;
  /** a preset name of A4MER_SKELETONS, 'auto' (first preset that fits the joint names), or a spec */
  skeleton: string | A4MerSkeletonSpec;
  /**
   * Floor for the root height: 'world' = z 0 (the studio convention, fits); 'lowest-joint' (default) =
   * the `floorQuantile` quantile over frames of each frame's lowest joint z: works for imports whose
   * floor is unknown (UTKinect's is at z -1 m), ignores a few glitched frames, and makes the features
   * invariant to vertical translation too.
   */
  floor: 'world' | 'lowest-joint';
  floorQuantile: number;
  /**
   * Reject sequences whose trunk (root->neck) is not mostly along +Z (the median of its Z cosine below
   * this): catches y-up input (BVH/AMC/Kinect files not converted to the world convention). 0 disables.
   */
  minUprightCosine: number;
  /**
   * Append the pose velocity to each frame: the time derivative (central difference at the model rate,
   * body scales per second) of the 3J root-relative pose features and of the root height, D = 6J + 5.
   * Why: the pose alone is the same whether a motion runs forward or backward (sitting down and
   * standing up pass through the same postures), and a segment token built by max-pool and attention
   * over its frames barely depends on their order; a velocity makes the direction a property of each
   * frame. Default on (UTKinect validation, issue 6: motif tokens 0.634 vs 0.615 without, original JEPA
   * 0.480 vs 0.425). Vocabularies written before this option read as false.
   */
  velocity: boolean;
}

export const A4MER_INPUT_DEFAULTS: Readonly<A4MerInputConfig> = {
  fps: 5,
  windowFrames: 150,
  stride: 150,
  antiAlias: true,
  skeleton: 'auto',
  floor: 'lowest-joint',
  floorQuantile: 0.05,
  minUprightCosine: 0.3,
  velocity: true,
};

/**
 * Action Atoms (main/motifs/atoms.ts): kinematic segmentation of a window. Within the current atom the
 * next frame is predicted by constant velocity, x^(t) = x(t-1) + (x(t-1) - x(t-1-m)) / m with
 * m = min(velocityFrames, steps since the current linear run began); the departure is the mean over
 * joints of |x^_j(t) - x_j(t)| in body-scale units (positions divided by the body scale s, about 0.45 m
 * pelvis-to-neck for an adult). When it exceeds `threshold` the corner frame t-1 starts a new atom (so
 * the new atom holds the new velocity from its first frame).
 * Units: at the model rate dt = 1/fps the departure of a smooth trajectory is about |a| dt^2, so the
 * default 0.1 (body-scale units) at 5 fps is a mean joint acceleration of 0.1 / 0.04 = 2.5 s/s^2 (1.1 m/s^2);
 * scale it with dt^2 if fps changes. Measured at 5 fps with these defaults (threshold 0.1, min 2, max 10):
 * median departures are 0.12-0.28 on CMU mocap (walk/run/climb: atoms of 2.35 frames pooled over subject
 * 01, 2.68 over 02, about a step, 92-96% cut kinematically) and 0.02-0.08 on UTKinect (standing daily
 * actions: 5.76 frames pooled, 58% kinematic); Kinect jitter after resampling is 0.01-0.03, well under it.
 */
export interface A4MerAtomConfig {
  /** mean joint departure from the linear extrapolation that starts an atom (body-scale units) */
  threshold: number;
  /** frames; a cut that would leave an atom shorter than this is skipped (the corner is absorbed) */
  minLength: number;
  /** frames; an atom reaching this length is cut (a forced boundary). Must be >= 2 * minLength. */
  maxLength: number;
  /** m: how many of the run's most recent frame steps the velocity is averaged over (1: the last step) */
  velocityFrames: number;
}

export const A4MER_ATOM_DEFAULTS: Readonly<A4MerAtomConfig> = {
  threshold: 0.1,
  minLength: 2,
  maxLength: 10,
  velocityFrames: 1,
};

function check(ok: boolean, what: string, field: string, value: unknown, rule: string): void {
  if (!ok) throw new Error(`A4Mer ${what} config: ${field} = ${JSON.stringify(value)}, expected ${rule}`);
}

const isCount = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;

export function resolveInputConfig(overrides: Partial<A4MerInputConfig> = {}): A4MerInputConfig {
  const c: A4MerInputConfig = { ...A4MER_INPUT_DEFAULTS, ...overrides };
  check(c.fps > 0 && Number.isFinite(c.fps), 'input', 'fps', c.fps, 'a positive number');
  check(isCount(c.windowFrames, 1), 'input', 'windowFrames', c.windowFrames, 'an integer >= 1');
  check(isCount(c.stride, 1), 'input', 'stride', c.stride, 'an integer >= 1');
  check(typeof c.antiAlias === 'boolean', 'input', 'antiAlias', c.antiAlias, 'true or false');
  check(typeof c.velocity === 'boolean', 'input', 'velocity', c.velocity, 'true or false');
  check(
    c.floor === 'world' || c.floor === 'lowest-joint',
    'input',
    'floor',
    c.floor,
    "'world' or 'lowest-joint'",
  );
  check(c.floorQuantile >= 0 && c.floorQuantile <= 1, 'input', 'floorQuantile', c.floorQuantile, '0..1');
  check(
    c.minUprightCosine >= 0 && c.minUprightCosine <= 1,
    'input',
    'minUprightCosine',
    c.minUprightCosine,
    '0..1',
  );
  if (typeof c.skeleton === 'string') {
    const ok = c.skeleton === 'auto' || Object.hasOwn(A4MER_SKELETONS, c.skeleton);
    check(ok, 'input', 'skeleton', c.skeleton, `'auto' or one of ${Object.keys(A4MER_SKELETONS).join(', ')}`);
  }
  return c;
}

export function resolveAtomConfig(overrides: Partial<A4MerAtomConfig> = {}): A4MerAtomConfig {
  const c: A4MerAtomConfig = { ...A4MER_ATOM_DEFAULTS, ...overrides };
  check(
    c.threshold > 0 && Number.isFinite(c.threshold),
    'atom',
    'threshold',
    c.threshold,
    'a positive number',
  );
  check(isCount(c.minLength, 1), 'atom', 'minLength', c.minLength, 'an integer >= 1');
  check(
    isCount(c.maxLength, 2 * c.minLength),
    'atom',
    'maxLength',
    c.maxLength,
    `an integer >= 2 * minLength`,
  );
  check(isCount(c.velocityFrames, 1), 'atom', 'velocityFrames', c.velocityFrames, 'an integer >= 1');
  return c;
}
