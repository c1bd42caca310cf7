import { mat3MulABt, mat3MulVec, rodrigues } from '../geometry/rotation';
import { boardCornerPositions, cornerCount, type BoardSpec, type LensIntrinsics } from './charuco-board';
import { reprojectionRms, undistortPoints } from './lens-points';
import { mirrorPose } from './plane-pose';
import { withScope, type CvMat, type Deletable, type OpenCv } from './opencv';
import { planePose } from './plane-pose';
import { refinePoseLM } from './pose-lm';

/**
 * One camera's pose in one frame from the ChArUco corners it sees (Perspective-n-Point), with the
 * planar two-fold ambiguity made explicit: corners on one plane seen small fit two poses, mirror images
 * about the line of sight (the two IPPE solutions, Collins & Bartoli 2014). When both fit about as well
 * the frame is 'ambiguous' with both candidates, for temporal continuity to decide (resolveAmbiguity).
 *
 * opencv-js builds lack solvePnPGeneric, so the second solution is made here (mirrorPose) and refined
 * by Levenberg-Marquardt (pose-lm.ts, in JS: OpenCV's solvePnPRefineLM costs 0.2-0.3 ms a call in the
 * wasm build) like the first. OpenCV's IPPE is not used: it fails on ceiling corners given in world
 * coordinates (z = 2.6), and throws on 4 corners with 3 collinear, and a thrown C++ exception leaves
 * opencv-js broken (it does not unwind: a few later the module hangs or traps). SQPnP does neither; it
 * is used for several boards (after RANSAC), one board starts from its homography (plane-pose.ts).
 */

/** The ChArUco corners of one board in one image (what every board detector gives). */
export interface BoardCorners {
  /** BoardSpec.name. */
  name: string;
  /** ChArUco corner ids (boardCornersLocal order). */
  ids: Int32Array;
  /** (u, v) per id, pixels, OpenCV pixel-centre convention. */
  corners: Float32Array;
}

export interface PoseCandidate {
  /** World -> camera, row-major. */
  R: number[];
  t: number[];
  /** RMS reprojection error over the corners used, pixels. */
  rms: number;
}

export type PoseStatus = 'ok' | 'ambiguous' | 'none';

export interface FramePose extends PoseCandidate {
  /**
   * ok: a decisive pose; ambiguous: R/t are the best-fitting candidate but `candidates` fit about as
   * well (or too few corners to trust one); none: too few corners (R, t identity-free zeros, rms NaN).
   */
  status: PoseStatus;
  /** Corners used (RANSAC inliers). */
  corners: number;
  /** Boards whose corners were used. */
  boards: string[];
  /** RMS error of the planar mirror pose when it is a separate local minimum, pixels. */
  altError?: number;
  /** The poses to choose from, best fit first: both planar minima when there are two, else R/t alone. */
  candidates?: PoseCandidate[];
}

export interface PnpOptions {
  /** Fewest corners to attempt a pose (PnP needs 4). */
  minCorners: number;
  /** Fewest corners for an 'ok' pose; fewer give 'ambiguous'. */
  minCornersOk: number;
  /**
   * Planar corners: the mirror pose must fit this many times worse (RMS) than the best for the frame to
   * be decisive. 2 (sums of squares 4x) is about the 95 % point of F(6, 6) = 4.28 for the minimal 6
   * corners (12 residuals, 6 pose parameters each). On the embedded sample (both foot videos) 332 frames
   * have two planar minima; the better fit is the right pose in all, and with >= 6 corners the mirror
   * fits >= 3.9x worse, so any ratio up to 3.9 gives the same result there.
   */
  ambiguityRatio: number;
  /** RMS below this (pixels) counts as this for the ratio: corner noise makes smaller RMS meaningless. */
  rmsFloorPx: number;
  /** A best fit worse than this RMS (pixels) is no pose ('none'): a wrong solution or wrong corners. */
  maxRmsPx: number;
  /** RANSAC inlier threshold (pixels) when several boards are used. */
  ransacThresholdPx: number;
  ransacIterations: number;
}

export const DEFAULT_PNP_OPTIONS: PnpOptions = {
  minCorners: 4,
  minCornersOk: 6,
  ambiguityRatio: 2,
  rmsFloorPx: 0.1,
  maxRmsPx: 2,
  ransacThresholdPx: 3,
  ransacIterations: 100,
};

/** Candidates closer than this (degrees) are one answer: LM stops short in flat valleys. */
const SAME_POSE_DEG = 1;

const worldCache = new WeakMap<BoardSpec, Float64Array>();

/** Board corner positions in the world, computed once per spec object. */
function worldCorners(spec: BoardSpec): Float64Array {
  let w = worldCache.get(spec);
  if (!w) {
    w = boardCornerPositions(spec);
    worldCache.set(spec, w);
  }
  return w;
}

/** Whether all these boards lie on one plane (normals parallel, offsets equal to 1 mm). */
export function boardsCoplanar(specs: BoardSpec[]): boolean {
  const a = specs[0].pose;
  const n = [a.R[2], a.R[5], a.R[8]]; // board z axis in the world
  const d = n[0] * a.t[0] + n[1] * a.t[1] + n[2] * a.t[2];
  return specs.every(({ pose: { R, t } }) => {
    const dot = n[0] * R[2] + n[1] * R[5] + n[2] * R[8];
    return Math.abs(Math.abs(dot) - 1) < 1e-6 && Math.abs(n[0] * t[0] + n[1] * t[1] + n[2] * t[2] - d) < 1e-3;
  });
}

/** Angle of A B^T (degrees): the rotation between two orientations, from trace = 1 + 2 cos(angle). */
export function rotationAngleDeg(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let trace = 0;
  for (let i = 0; i < 9; i++) trace += A[i] * B[i];
  return (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI;
}

function nonePose(corners: number, boards: string[]): FramePose {
  return { status: 'none', R: [], t: [], rms: NaN, corners, boards };
}

/**
 * The camera pose (world -> camera) from the corners of every detected board: an initial pose from the
 * board's homography (one board; SQPnP should that fail) or RANSAC (several boards: EPnP on samples,
 * SQPnP on the inliers) from exactly undistorted points (OpenCV's own undistortion, 5 fixed-point steps,
 * is far off at the rim of a wide-angle lens), then Levenberg-Marquardt on the pixel reprojection error
 * through the real lens model. Coplanar corners
 * (one board, or boards on one ceiling) are solved in the first board's frame (z = 0), where the mirror
 * pose is made and refined too. Corners on a line, too few corners or a fit worse than maxRmsPx: 'none'.
 */
export function solveFramePose(
  cv: OpenCv,
  intrinsics: LensIntrinsics,
  detections: readonly BoardCorners[],
  boards: readonly BoardSpec[],
  options: Partial<PnpOptions> = {},
): FramePose {
  const o = { ...DEFAULT_PNP_OPTIONS, ...options };
  const minCorners = Math.max(4, o.minCorners);
  const { used, object, image } = gatherCorrespondences(detections, boards);
  const names = used.map((b) => b.name);
  const n = image.length / 2;
  if (n < minCorners || collinear(object)) return nonePose(n, names);
  const planar = boardsCoplanar(used);
  const frame = planar ? used[0].pose : { R: IDENTITY, t: [0, 0, 0] };
  const local = planar ? toBoardFrame(object, frame) : object;
  const normalized = undistortPoints(intrinsics, image);

  // One board: its homography (plane-pose.ts); several: RANSAC in OpenCV, against a wrong board's corners.
  const single = used.length === 1 ? planePose(local, normalized) : null;
  const init = single
    ? { inliers: Int32Array.from({ length: n }, (_, i) => i), ...single }
    : withScope((keep) => {
        const rvec = keep(new cv.Mat());
        const tvec = keep(new cv.Mat());
        const ransac = used.length > 1 ? { ...o, focal: intrinsics.K[0] } : null;
        const inliers = initialPose(cv, keep, local, normalized, ransac, rvec, tvec);
        if (!inliers) return null;
        const R = new Float64Array(9);
        rodrigues(R, 0, rvec.data64F, 0);
        return { inliers, R, t: tvec.data64F.slice(0, 3) };
      });
  const m = init?.inliers.length ?? 0;
  if (!init || m < minCorners) return nonePose(m, names);
  const obj = pick(local, init.inliers, 3);
  const img = pick(image, init.inliers, 2);
  const best = refinedCandidate(intrinsics, obj, img, init.R, init.t);
  if (!(best.rms <= o.maxRmsPx)) return nonePose(m, names);
  let candidates = [best];
  let altError: number | undefined;
  let decisive = true;
  if (planar) {
    const mirror = mirrorPose(best, obj);
    const alt = refinedCandidate(intrinsics, obj, img, mirror.R, mirror.t);
    if (rotationAngleDeg(alt.R, best.R) > SAME_POSE_DEG) {
      candidates = alt.rms < best.rms ? [alt, best] : [best, alt];
      altError = candidates[1].rms;
      decisive = candidates[1].rms >= o.ambiguityRatio * Math.max(candidates[0].rms, o.rmsFloorPx);
    }
  }
  candidates = candidates.map((c) => toWorldPose(c, frame));
  return {
    status: decisive && m >= o.minCornersOk ? 'ok' : 'ambiguous',
    ...candidates[0],
    corners: m,
    boards: names,
    ...(altError === undefined ? {} : { altError }),
    candidates,
  };
}

/**
 * Initial pose into rvec/tvec from normalised image points (K = I, no distortion): SQPnP on all corners,
 * or, when `ransac` is given, RANSAC (EPnP on samples and on the consensus) to find the inliers, then
 * SQPnP on them. Returns the indices of the corners used, or null. SQPnP asserts on collinear points
 * (and so would RANSAC's last step with SQPnP on a collinear consensus), hence the checks before it.
 */
function initialPose(
  cv: OpenCv,
  keep: <D extends Deletable>(d: D) => D,
  object: Float64Array,
  normalized: Float64Array,
  ransac: (PnpOptions & { focal: number }) | null,
  rvec: CvMat,
  tvec: CvMat,
): Int32Array | null {
  const eye = keep(cv.matFromArray(3, 3, cv.CV_64FC1, IDENTITY));
  const noDist = keep(new cv.Mat());
  const mats = (obj: Float64Array, norm: Float64Array): [CvMat, CvMat] => [
    keep(cv.matFromArray(norm.length / 2, 3, cv.CV_64FC1, obj)),
    keep(cv.matFromArray(norm.length / 2, 2, cv.CV_64FC1, norm)),
  ];
  try {
    let used = Int32Array.from({ length: normalized.length / 2 }, (_, i) => i);
    if (ransac) {
      const [obj, norm] = mats(object, normalized);
      const inliers = keep(new cv.Mat());
      const found = cv.solvePnPRansac(
        obj,
        norm,
        eye,
        noDist,
        rvec,
        tvec,
        false,
        ransac.ransacIterations,
        ransac.ransacThresholdPx / ransac.focal, // pixels -> normalised image plane
        0.99,
        inliers,
        cv.SOLVEPNP_EPNP,
      );
      if (!found || inliers.total() < 4) return null;
      used = inliers.data32S.slice();
    }
    const obj = pick(object, used, 3);
    if (collinear(obj)) return null;
    const ok = cv.solvePnP(
      ...mats(obj, pick(normalized, used, 2)),
      eye,
      noDist,
      rvec,
      tvec,
      false,
      cv.SOLVEPNP_SQPNP,
    );
    return ok ? used : null;
  } catch (err) {
    // opencv-js throws C++ exceptions as wasm pointers without unwinding: after a few the module hangs
    // or traps. Degenerate input is refused before it gets here; should one still throw, stop the job.
    throw typeof err === 'number'
      ? new Error(`solveFramePose: OpenCV failed: ${cv.exceptionFromPtr(err).msg}`)
      : err;
  }
}

/**
 * Whether 3D points lie within 2 % of their extent from one line (no pose from them): the line through
 * the first point and the point farthest from it.
 */
function collinear(points: Float64Array): boolean {
  const n = points.length / 3;
  let far = 0;
  let farD = 0;
  for (let i = 1; i < n; i++) {
    const d =
      (points[3 * i] - points[0]) ** 2 +
      (points[3 * i + 1] - points[1]) ** 2 +
      (points[3 * i + 2] - points[2]) ** 2;
    if (d > farD) [far, farD] = [i, d];
  }
  const ux = (points[3 * far] - points[0]) / Math.sqrt(farD);
  const uy = (points[3 * far + 1] - points[1]) / Math.sqrt(farD);
  const uz = (points[3 * far + 2] - points[2]) / Math.sqrt(farD);
  let off = 0;
  for (let i = 1; i < n; i++) {
    const x = points[3 * i] - points[0];
    const y = points[3 * i + 1] - points[1];
    const z = points[3 * i + 2] - points[2];
    const along = x * ux + y * uy + z * uz;
    off = Math.max(off, x * x + y * y + z * z - along * along); // squared distance from the line
  }
  return !(farD > 0) || off < 0.02 ** 2 * farD;
}

/** The rows `index` of a row-major array of `width` columns. */
function pick(values: Float64Array, index: Int32Array, width: number): Float64Array {
  const out = new Float64Array(index.length * width);
  index.forEach((row, i) => out.set(values.subarray(row * width, row * width + width), i * width));
  return out;
}

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Object (world) and image points of every detected corner, boards in detection order. */
function gatherCorrespondences(
  detections: readonly BoardCorners[],
  boards: readonly BoardSpec[],
): { used: BoardSpec[]; object: Float64Array; image: Float64Array } {
  const used: BoardSpec[] = [];
  const dets: BoardCorners[] = [];
  let n = 0;
  for (const det of detections) {
    if (det.ids.length === 0) continue;
    const spec = boards.find((b) => b.name === det.name);
    if (!spec) throw new Error(`solveFramePose: detections name an unknown board "${det.name}"`);
    if (det.corners.length !== 2 * det.ids.length) {
      throw new Error(
        `solveFramePose(${det.name}): ${det.ids.length} ids but ${det.corners.length / 2} corners`,
      );
    }
    const count = cornerCount(spec);
    for (const id of det.ids) {
      if (!(id >= 0 && id < count))
        throw new Error(`solveFramePose(${det.name}): corner id ${id} not in 0..${count - 1}`);
    }
    used.push(spec);
    dets.push(det);
    n += det.ids.length;
  }
  const object = new Float64Array(3 * n);
  const image = new Float64Array(2 * n);
  let k = 0;
  dets.forEach((det, b) => {
    const world = worldCorners(used[b]);
    for (let i = 0; i < det.ids.length; i++, k++) {
      object.set(world.subarray(3 * det.ids[i], 3 * det.ids[i] + 3), 3 * k);
      image[2 * k] = det.corners[2 * i];
      image[2 * k + 1] = det.corners[2 * i + 1];
    }
  });
  return { used, object, image };
}

/** World points into a board's frame: X_b = R^T (X_w - t). */
function toBoardFrame(world: Float64Array, pose: { R: number[]; t: number[] }): Float64Array {
  const { R, t } = pose;
  const out = new Float64Array(world.length);
  for (let i = 0; i < world.length; i += 3) {
    const x = world[i] - t[0];
    const y = world[i + 1] - t[1];
    const z = world[i + 2] - t[2];
    out[i] = R[0] * x + R[3] * y + R[6] * z;
    out[i + 1] = R[1] * x + R[4] * y + R[7] * z;
    out[i + 2] = R[2] * x + R[5] * y + R[8] * z;
  }
  return out;
}

/** Board -> camera pose into world -> camera: X_c = R_c (R_b^T (X_w - t_b)) + t_c. */
function toWorldPose(c: PoseCandidate, board: { R: number[]; t: number[] }): PoseCandidate {
  const R = new Array<number>(9);
  mat3MulABt(R, 0, c.R, 0, board.R, 0);
  const Rt = new Float64Array(3);
  mat3MulVec(Rt, 0, R, 0, board.t, 0);
  return { R, t: [c.t[0] - Rt[0], c.t[1] - Rt[1], c.t[2] - Rt[2]], rms: c.rms };
}

/** The pose from (R, t) refined by Levenberg-Marquardt (pose-lm.ts), with its RMS reprojection error. */
function refinedCandidate(
  intrinsics: LensIntrinsics,
  obj: Float64Array,
  img: Float64Array,
  R0: ArrayLike<number>,
  t0: ArrayLike<number>,
): PoseCandidate {
  const R = Float64Array.from(R0);
  const t = Float64Array.from(t0);
  refinePoseLM(intrinsics, obj, img, R, t);
  const pose = { R: Array.from(R), t: Array.from(t) };
  return { ...pose, rms: reprojectionRms({ ...intrinsics, ...pose }, obj, img) };
}
