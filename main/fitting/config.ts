/**
 * The one documented fit configuration. Weights multiply squared residuals in the energy
 *   E = w_rep E_rep + w_prior E_prior + w_lim E_lim + w_shape E_shape + w_ground E_ground
 *     + w_foot E_foot + w_smooth E_smooth
 * (SMPLify-X, Pavlakos et al. 2019, eq. 2, extended with the AMD ground and foot-camera terms). Every
 * fit version stores the config it ran with.
 */
export interface FitConfig {
  weights: {
    /** Per pixel^2 of Geman-McClure-robustified, confidence-weighted reprojection error. */
    reprojection: number;
    /** GMM pose prior (negative log-likelihood of the best component). */
    posePrior: number;
    /** Squared hinge outside the per-dof joint limits, per rad^2. */
    jointLimits: number;
    /** |beta|^2 when the shape is estimated, against bone-length errors in cm^2. */
    shapePrior: number;
    /** Squared hinge max(-v_z, 0)^2 over lower-body vertices, per m^2. */
    ground: number;
    /** Foot-camera centre vs. PnP, per m^2. */
    footPosition: number;
    /** Foot-camera axes vs. PnP (chordal), per unit^2. */
    footRotation: number;
    /** Frame-to-frame change of theta, per rad^2. */
    smoothTheta: number;
    /** Frame-to-frame change of the translation, per m^2. */
    smoothTransl: number;
  };
  /** Geman-McClure scale sigma in pixels: rho(e) = sigma^2 e^2 / (sigma^2 + e^2). */
  robustSigmaPx: number;
  /** Geman-McClure scale of the foot-camera term, metres of camera-centre disagreement. */
  footRobustM: number;
  /** Keypoints with confidence below this are ignored. */
  minConfidence: number;
  /** Sliding windows: `size` frames optimised together, advancing by `stride`, `iterations` LM steps each. */
  window: { size: number; stride: number; iterations: number };
  /** Initialisation triangulation (Pose2Sim-style exclusion). */
  triangulation: { thresholdPx: number; minViews: number };
  /**
   * A frame is flagged when over any of these; a view's reprojection RMS must also exceed 2.5x the
   * session's median view RMS.
   */
  flags: { reprojectionPx: number; penetrationMm: number; footCameraMm: number; minViews: number };
  /**
   * Per-session keypoint regressor calibration (keypoint-calibration.ts): `rounds` passes over the
   * first `frames` frames, after each every keypoint re-regressed from nearby joints against its
   * triangulation (points seen by at least `minViews` views), with ridge weight `ridge` per frame.
   */
  keypointCalibration: { enabled: boolean; frames: number; rounds: number; minViews: number; ridge: number };
  ground: boolean;
  footCameras: boolean;
}

export const DEFAULT_FIT_CONFIG: FitConfig = {
  weights: {
    reprojection: 1,
    posePrior: 4,
    jointLimits: 1e4,
    shapePrior: 1,
    ground: 1e7,
    footPosition: 1e6,
    footRotation: 1e4,
    smoothTheta: 100,
    smoothTransl: 1e4,
  },
  robustSigmaPx: 20,
  footRobustM: 0.05,
  minConfidence: 0.1,
  window: { size: 8, stride: 4, iterations: 10 },
  triangulation: { thresholdPx: 20, minViews: 2 },
  flags: { reprojectionPx: 15, penetrationMm: 10, footCameraMm: 30, minViews: 2 },
  keypointCalibration: { enabled: true, frames: 300, rounds: 1, minViews: 3, ridge: 1e-4 },
  ground: true,
  footCameras: true,
};

/** The default config with a run's switches applied; the result is what the fit version stores. */
export function fitConfig(options: { ground?: boolean; footCameras?: boolean } = {}): FitConfig {
  const c = structuredClone(DEFAULT_FIT_CONFIG);
  if (options.ground === false) c.ground = false;
  if (options.footCameras === false) c.footCameras = false;
  return c;
}

/** 'ground + foot cameras', 'no ground', ... for version lists. */
export function fitLabel(c: FitConfig): string {
  const parts = [c.ground ? 'ground' : 'no ground', c.footCameras ? 'foot cameras' : 'no foot cameras'];
  return parts.join(' + ');
}
