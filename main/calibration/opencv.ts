import { createRequire } from 'node:module';

/**
 * Loads the opencv-js (WebAssembly) module once per process and describes, with a small typed interface,
 * the parts of it the calibration code uses. The package's own typings lack the aruco classes, so this
 * interface is the contract; anything OpenCV allocates on the wasm heap (Mat, MatVector, aruco objects)
 * must be released with .delete() — see withScope().
 */

/** Anything holding wasm memory. */
export interface Deletable {
  delete(): void;
}

export interface CvSize {
  width: number;
  height: number;
}

export interface CvMat extends Deletable {
  rows: number;
  cols: number;
  data: Uint8Array;
  data32S: Int32Array;
  data32F: Float32Array;
  data64F: Float64Array;
  type(): number;
  channels(): number;
  total(): number;
  empty(): boolean;
}

export interface CvMatVector extends Deletable {
  size(): number;
  get(i: number): CvMat;
  push_back(m: CvMat): void;
}

export interface CvPoint3Vector extends Deletable {
  size(): number;
  get(i: number): { x: number; y: number; z: number };
}

export interface ArucoDictionary extends Deletable {
  markerSize: number;
  maxCorrectionBits: number;
  /** One row per marker id: rows = number of markers in the dictionary. */
  bytesList: CvMat;
}

export interface CharucoBoard extends Deletable {
  getChessboardCorners(): CvPoint3Vector;
  getLegacyPattern(): boolean;
  setLegacyPattern(legacy: boolean): void;
  /** Draws the board; marginSize in pixels, borderBits = marker border width in bits. */
  generateImage(outSize: CvSize, img: CvMat, marginSize: number, borderBits: number): void;
}

export interface CharucoDetector extends Deletable {
  detectBoard(
    image: CvMat,
    charucoCorners: CvMat,
    charucoIds: CvMat,
    markerCorners: CvMatVector,
    markerIds: CvMat,
  ): void;
}

/** The subset of the opencv-js module used here. */
export interface OpenCv {
  CV_8UC1: number;
  CV_32SC1: number;
  CV_32FC2: number;
  CV_32FC3: number;
  CV_64FC1: number;
  SOLVEPNP_ITERATIVE: number;
  Mat: new (...args: any[]) => CvMat;
  MatVector: new () => CvMatVector;
  Size: new (width: number, height: number) => CvSize;
  matFromArray(rows: number, cols: number, type: number, values: ArrayLike<number>): CvMat;
  getPredefinedDictionary(dict: number): ArucoDictionary;
  aruco_CharucoBoard: new (
    size: CvSize,
    squareLength: number,
    markerLength: number,
    dictionary: ArucoDictionary,
    ids: CvMat,
  ) => CharucoBoard;
  aruco_CharucoParameters: new () => Deletable & { cameraMatrix: CvMat; distCoeffs: CvMat };
  aruco_DetectorParameters: new () => Deletable & Record<string, number | boolean>;
  aruco_RefineParameters: new (
    minRepDistance: number,
    errorCorrectionRate: number,
    checkAllOrders: boolean,
  ) => Deletable;
  aruco_CharucoDetector: new (
    board: CharucoBoard,
    charucoParams: Deletable,
    detectorParams: Deletable,
    refineParams: Deletable,
  ) => CharucoDetector;
  solvePnP(
    objectPoints: CvMat,
    imagePoints: CvMat,
    cameraMatrix: CvMat,
    distCoeffs: CvMat,
    rvec: CvMat,
    tvec: CvMat,
    useExtrinsicGuess: boolean,
    flags: number,
  ): boolean;
  Rodrigues(src: CvMat, dst: CvMat): void;
  SOLVEPNP_IPPE: number;
  /** TermCriteria type bits: COUNT = 1, EPS = 2. */
  TermCriteria_COUNT: number;
  TermCriteria_EPS: number;
  TermCriteria: new (type: number, maxCount: number, epsilon: number) => CvTermCriteria;
  /**
   * cv::calibrateCamera with standard deviations and per-view RMS errors; returns the overall RMS
   * reprojection error (pixels). objectPoints / imagePoints: one N x 1 CV_32FC3 / CV_32FC2 Mat per view.
   */
  calibrateCameraExtended(
    objectPoints: CvMatVector,
    imagePoints: CvMatVector,
    imageSize: CvSize,
    cameraMatrix: CvMat,
    distCoeffs: CvMat,
    rvecs: CvMatVector,
    tvecs: CvMatVector,
    stdDeviationsIntrinsics: CvMat,
    stdDeviationsExtrinsics: CvMat,
    perViewErrors: CvMat,
    flags?: number,
    criteria?: CvTermCriteria,
  ): number;
  /** A dictionary from its bytesList (1 row per marker, 4 rotations: see aruco-identify.ts). */
  aruco_Dictionary: new (bytesList: CvMat, markerSize: number, maxCorrectionBits: number) => ArucoDictionary;
  aruco_ArucoDetector: new (
    dictionary: ArucoDictionary,
    detectorParams: Deletable,
    refineParams: Deletable,
  ) => ArucoDetector;
  SOLVEPNP_SQPNP: number;
  SOLVEPNP_EPNP: number;
  /**
   * RANSAC PnP: EPnP on minimal samples, then `flags` on the inliers; inliers: M x 1 CV_32SC1 indices.
   * reprojectionError is in the units of imagePoints.
   */
  solvePnPRansac(
    objectPoints: CvMat,
    imagePoints: CvMat,
    cameraMatrix: CvMat,
    distCoeffs: CvMat,
    rvec: CvMat,
    tvec: CvMat,
    useExtrinsicGuess: boolean,
    iterationsCount: number,
    reprojectionError: number,
    confidence: number,
    inliers: CvMat,
    flags: number,
  ): boolean;
  /** Levenberg-Marquardt on the reprojection error from rvec/tvec (3 x 1 CV_64F), in place. */
  solvePnPRefineLM(
    objectPoints: CvMat,
    imagePoints: CvMat,
    cameraMatrix: CvMat,
    distCoeffs: CvMat,
    rvec: CvMat,
    tvec: CvMat,
  ): void;
  /** The message of a C++ exception, which opencv-js throws as a wasm pointer (a number). */
  exceptionFromPtr(ptr: number): { msg: string };
  /** Predefined dictionary constants (DICT_4X4_250, ...) and everything else not listed above. */
  [name: string]: any;
}

let loading: Promise<OpenCv> | null = null;

/**
 * The opencv-js module, instantiated on first call (about 0.3 s) and shared afterwards. The package exports
 * a Promise of the Emscripten module (older builds export the module and signal onRuntimeInitialized).
 */
export function loadOpenCv(): Promise<OpenCv> {
  loading ??= (async () => {
    // require, not import(): the package's CommonJS export is a Promise, and an ES namespace wrapping it
    // is a thenable that `await import()` would try (and fail) to unwrap.
    const exported: any = createRequire(__filename)('@techstark/opencv-js');
    const cv: any = exported instanceof Promise ? await exported : exported;
    if (!cv.Mat) {
      await new Promise<void>((resolve) => {
        cv.onRuntimeInitialized = () => resolve();
      });
    }
    if (!cv.aruco_CharucoDetector) throw new Error('opencv-js: this build lacks the aruco module');
    return cv as OpenCv;
  })();
  return loading;
}

/**
 * Runs fn with a `keep` function that registers wasm objects, and deletes all of them afterwards (even on
 * throw), in reverse order of registration. Results that must outlive the scope are simply not registered.
 */
export function withScope<T>(fn: (keep: <D extends Deletable>(d: D) => D) => T): T {
  const owned: Deletable[] = [];
  const keep = <D extends Deletable>(d: D): D => {
    owned.push(d);
    return d;
  };
  try {
    return fn(keep);
  } finally {
    for (let i = owned.length - 1; i >= 0; i--) owned[i].delete();
  }
}

/** Copies an 8-bit single-channel image into a new CV_8UC1 Mat (caller deletes). */
export function grayMat(cv: OpenCv, image: GrayImage): CvMat {
  if (image.data.length !== image.width * image.height) {
    throw new Error(
      `grayMat: image data has ${image.data.length} bytes, expected ${image.width}x${image.height}`,
    );
  }
  const mat = new cv.Mat(image.height, image.width, cv.CV_8UC1);
  mat.data.set(image.data);
  return mat;
}

/** A row-major 8-bit grayscale image. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** cv::TermCriteria as a plain value object (no wasm memory). */
export interface CvTermCriteria {
  type: number;
  maxCount: number;
  epsilon: number;
}

/** cv::aruco::ArucoDetector: corners (MatVector of 1x4 CV_32FC2), ids (N x 1 CV_32SC1), rejected candidates. */
export interface ArucoDetector extends Deletable {
  detectMarkers(image: CvMat, corners: CvMatVector, ids: CvMat, rejectedImgPoints: CvMatVector): void;
}
