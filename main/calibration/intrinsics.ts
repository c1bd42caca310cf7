import { CharucoBoardDetector, type BoardSpec } from './charuco-board';
import { detectedObjectPoints, solveBoardPose } from './extrinsics';
import { withScope, type CvMat, type GrayImage, type OpenCv } from './opencv';

/**
 * Intrinsic calibration of one camera from several views of a ChArUco board (Zhang's method as
 * cv::calibrateCamera runs it): detect the corners per view, calibrate, drop the worst view while it is an
 * outlier and calibrate again.
 */

/** The ChArUco corners found in one view (an image file or a video frame). */
export interface ViewCorners {
  /** File name or "video.mp4#frame": what error messages and reports call the view. */
  name: string;
  width: number;
  height: number;
  ids: Int32Array;
  /** (u, v) per id, pixels. */
  corners: Float32Array;
}

export interface ViewReport {
  name: string;
  /** RMS reprojection error of this view under the final intrinsics, pixels; null when not computable. */
  rms: number | null;
  corners: number;
  used: boolean;
  /** Why the view was not used. */
  note?: string;
}

export interface IntrinsicsResult {
  width: number;
  height: number;
  /** Row-major 3x3 camera matrix. */
  K: number[];
  /** k1, k2, p1, p2, k3. */
  dist: number[];
  /** Overall RMS reprojection error over the used views' corners, pixels. */
  rms: number;
  perView: ViewReport[];
  /** cv::calibrateCamera flags used (CALIB_*). */
  flags: number;
}

export interface IntrinsicsOptions {
  /** Fewest ChArUco corners for a view to be used (default 6). */
  minCorners?: number;
  /** A view is an outlier when its RMS exceeds outlierFactor x the median view RMS (default 2)... */
  outlierFactor?: number;
  /** ...and this many pixels (default 0.25: sub-quarter-pixel views are never outliers). */
  outlierMinPx?: number;
  /** Outliers are dropped only while at least this many views stay (default 4). */
  minViews?: number;
  /** cv::calibrateCamera flags (default 0: full K, 5 distortion terms). */
  flags?: number;
}

/** Detects the board in one view. */
export function detectView(detector: CharucoBoardDetector, name: string, image: GrayImage): ViewCorners {
  const det = detector.detect(image);
  return { name, width: image.width, height: image.height, ids: det.ids, corners: det.corners };
}

/** Detects the board in each image and calibrates (see calibrateFromCorners). */
export function calibrateIntrinsics(
  cv: OpenCv,
  spec: BoardSpec,
  images: { name: string; image: GrayImage }[],
  opts: IntrinsicsOptions = {},
): IntrinsicsResult {
  const detector = new CharucoBoardDetector(cv, spec);
  try {
    const views = images.map((v) => detectView(detector, v.name, v.image));
    return calibrateFromCorners(cv, spec, views, opts);
  } finally {
    detector.delete();
  }
}

/** Why a view cannot be used, or null when it can: too few corners, or all on one grid line. */
function unusable(spec: BoardSpec, view: ViewCorners, minCorners: number): string | null {
  const n = view.ids.length;
  if (n === 0) return 'no ChArUco corners found';
  if (n < minCorners) return `only ${n} ChArUco corners (need ${minCorners})`;
  const nx = spec.squaresX - 1;
  const rows = new Set<number>();
  const cols = new Set<number>();
  for (const id of view.ids) {
    rows.add(Math.floor(id / nx));
    cols.add(id % nx);
  }
  // A homography (the planar initialisation) needs the corners off a single line.
  if (rows.size < 2 || cols.size < 2) return 'corners all on one line of the board';
  return null;
}

/**
 * Calibrates from detected corners. Errors name the files: views of different sizes, fewer than 3 usable
 * views. Views without (enough) corners are reported in perView, not fatal.
 */
export function calibrateFromCorners(
  cv: OpenCv,
  spec: BoardSpec,
  views: ViewCorners[],
  opts: IntrinsicsOptions = {},
): IntrinsicsResult {
  const minCorners = opts.minCorners ?? 6;
  const factor = opts.outlierFactor ?? 2;
  const floorPx = opts.outlierMinPx ?? 0.25;
  const minViews = Math.max(3, opts.minViews ?? 4);
  const flags = opts.flags ?? 0;
  if (views.length === 0) throw new Error('intrinsic calibration: no views given');
  const first = views[0];
  for (const v of views) {
    if (v.width !== first.width || v.height !== first.height) {
      throw new Error(
        `${v.name}: image is ${v.width}x${v.height} but ${first.name} is ${first.width}x${first.height}; ` +
          'all views must come from one camera at one resolution',
      );
    }
  }
  const reports: ViewReport[] = views.map((v) => ({
    name: v.name,
    rms: null,
    corners: v.ids.length,
    used: true,
  }));
  const used: number[] = [];
  views.forEach((v, i) => {
    const why = unusable(spec, v, minCorners);
    if (why === null) used.push(i);
    else Object.assign(reports[i], { used: false, note: why });
  });
  if (used.length < 3) {
    const skipped = reports.filter((r) => !r.used).map((r) => `${r.name} (${r.note})`);
    throw new Error(
      `intrinsic calibration with board "${spec.name}" needs at least 3 views with >= ${minCorners} ChArUco ` +
        `corners, got ${used.length} of ${views.length}` +
        (skipped.length ? `; unusable: ${skipped.join(', ')}` : ''),
    );
  }
  let fit = runCalibration(
    cv,
    spec,
    used.map((i) => views[i]),
    first.width,
    first.height,
    flags,
  );
  // Drop the worst view while it is an outlier and enough views stay.
  while (used.length > minViews) {
    const sorted = [...fit.perView].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1];
    let worst = 0;
    for (let k = 1; k < used.length; k++) if (fit.perView[k] > fit.perView[worst]) worst = k;
    const e = fit.perView[worst];
    if (!(e > factor * median && e > floorPx)) break;
    Object.assign(reports[used[worst]], {
      used: false,
      note: `outlier: ${e.toFixed(3)} px > ${factor} x median ${median.toFixed(3)} px`,
    });
    used.splice(worst, 1);
    fit = runCalibration(
      cv,
      spec,
      used.map((i) => views[i]),
      first.width,
      first.height,
      flags,
    );
  }
  used.forEach((i, k) => (reports[i].rms = fit.perView[k]));
  // Dropped outliers: their error under the final intrinsics, by PnP.
  reports.forEach((r, i) => {
    if (r.used || r.note?.startsWith('outlier') !== true) return;
    const object = detectedObjectPoints(spec, views[i].ids);
    r.rms = solveBoardPose(cv, { K: fit.K, dist: fit.dist }, object, views[i].corners).rms;
  });
  return {
    width: first.width,
    height: first.height,
    K: fit.K,
    dist: fit.dist,
    rms: fit.rms,
    perView: reports,
    flags,
  };
}

interface Fit {
  K: number[];
  dist: number[];
  rms: number;
  perView: number[];
}

/** One cv::calibrateCameraExtended run over the views (each with >= 4 non-collinear corners). */
function runCalibration(
  cv: OpenCv,
  spec: BoardSpec,
  views: ViewCorners[],
  width: number,
  height: number,
  flags: number,
): Fit {
  return withScope((keep) => {
    const objectPoints = keep(new cv.MatVector());
    const imagePoints = keep(new cv.MatVector());
    for (const v of views) {
      const n = v.ids.length;
      // push_back copies the Mat header (sharing data), so the local Mats can be freed with the scope.
      objectPoints.push_back(keep(cv.matFromArray(n, 1, cv.CV_32FC3, detectedObjectPoints(spec, v.ids))));
      imagePoints.push_back(keep(cv.matFromArray(n, 1, cv.CV_32FC2, v.corners)));
    }
    const K = keep(new cv.Mat());
    const dist = keep(new cv.Mat());
    const rvecs = keep(new cv.MatVector());
    const tvecs = keep(new cv.MatVector());
    const stdIntrinsics = keep(new cv.Mat());
    const stdExtrinsics = keep(new cv.Mat());
    const perView = keep(new cv.Mat());
    const criteria = new cv.TermCriteria(cv.TermCriteria_COUNT + cv.TermCriteria_EPS, 100, 1e-12);
    const rms = cv.calibrateCameraExtended(
      objectPoints,
      imagePoints,
      new cv.Size(width, height),
      K,
      dist,
      rvecs,
      tvecs,
      stdIntrinsics,
      stdExtrinsics,
      perView,
      flags,
      criteria,
    );
    return {
      K: Array.from(K.data64F),
      dist: distCoefficients(dist),
      rms,
      perView: Array.from(perView.data64F),
    };
  });
}

/** The first 5 distortion terms (k1, k2, p1, p2, k3) of OpenCV's output vector. */
function distCoefficients(dist: CvMat): number[] {
  const d = Array.from(dist.data64F);
  return [0, 1, 2, 3, 4].map((i) => d[i] ?? 0);
}
