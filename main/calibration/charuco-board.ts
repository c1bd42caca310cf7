import {
  withScope,
  grayMat,
  type CharucoBoard,
  type CharucoDetector,
  type Deletable,
  type GrayImage,
  type OpenCv,
} from './opencv';

/**
 * A ChArUco board placed in the world. JSON-serialisable (it goes into the session manifest).
 *
 * Board frame = OpenCV's: origin at the top-left corner of the chessboard as printed, x along squaresX,
 * y along squaresY (down the printed page), z = x × y pointing INTO the board, i.e. away from a camera that
 * sees the printed face. Pose maps board to world: X_w = R X_b + t.
 */
export interface BoardSpec {
  name: string;
  /** Name of an OpenCV predefined dictionary, e.g. 'DICT_4X4_250'. */
  dictionary: ArucoDictionaryName;
  squaresX: number;
  squaresY: number;
  /** Chessboard square side, metres. */
  squareLength: number;
  /** ArUco marker side, metres (< squareLength). */
  markerLength: number;
  /** OpenCV < 4.6 layout (differs only for an even squaresY). */
  legacyPattern: boolean;
  /** Marker ids are firstMarkerId .. firstMarkerId + markerCount - 1 (disjoint between boards of a scene). */
  firstMarkerId: number;
  /** Board -> world, R row-major 3x3. */
  pose: { R: number[]; t: number[] };
}

export const ARUCO_DICTIONARIES = [
  'DICT_4X4_50',
  'DICT_4X4_100',
  'DICT_4X4_250',
  'DICT_4X4_1000',
  'DICT_5X5_50',
  'DICT_5X5_100',
  'DICT_5X5_250',
  'DICT_5X5_1000',
  'DICT_6X6_50',
  'DICT_6X6_100',
  'DICT_6X6_250',
  'DICT_6X6_1000',
  'DICT_7X7_50',
  'DICT_7X7_100',
  'DICT_7X7_250',
  'DICT_7X7_1000',
  'DICT_ARUCO_ORIGINAL',
  'DICT_APRILTAG_16h5',
  'DICT_APRILTAG_25h9',
  'DICT_APRILTAG_36h10',
  'DICT_APRILTAG_36h11',
  'DICT_ARUCO_MIP_36h12',
] as const;
export type ArucoDictionaryName = (typeof ARUCO_DICTIONARIES)[number];

/** Number of ArUco markers on a ChArUco board: they sit in every other square. */
export function markerCount(spec: BoardSpec): number {
  return Math.floor((spec.squaresX * spec.squaresY) / 2);
}

/** Number of chessboard inner corners (= ChArUco corner ids 0 .. n-1). */
export function cornerCount(spec: BoardSpec): number {
  return (spec.squaresX - 1) * (spec.squaresY - 1);
}

/** Throws an Error naming the board and the problem when the spec is unusable. */
export function validateBoardSpec(spec: BoardSpec): void {
  const where = `board spec ${JSON.stringify(spec?.name ?? '?')}`;
  const fail = (problem: string): never => {
    throw new Error(`${where}: ${problem}`);
  };
  if (typeof spec !== 'object' || spec === null) fail('not an object');
  if (typeof spec.name !== 'string' || spec.name === '') fail('name must be a non-empty string');
  if (!(ARUCO_DICTIONARIES as readonly string[]).includes(spec.dictionary)) {
    fail(`unknown dictionary ${JSON.stringify(spec.dictionary)}`);
  }
  for (const key of ['squaresX', 'squaresY'] as const) {
    if (!Number.isInteger(spec[key]) || spec[key] < 2)
      fail(`${key} must be an integer >= 2, got ${spec[key]}`);
  }
  if (!(spec.squareLength > 0)) fail(`squareLength must be > 0, got ${spec.squareLength}`);
  if (!(spec.markerLength > 0 && spec.markerLength < spec.squareLength)) {
    fail(`markerLength must be in (0, squareLength=${spec.squareLength}), got ${spec.markerLength}`);
  }
  if (typeof spec.legacyPattern !== 'boolean') fail('legacyPattern must be a boolean');
  if (!Number.isInteger(spec.firstMarkerId) || spec.firstMarkerId < 0) {
    fail(`firstMarkerId must be a non-negative integer, got ${spec.firstMarkerId}`);
  }
  const { R, t } = spec.pose ?? {};
  if (!Array.isArray(R) || R.length !== 9 || !R.every(Number.isFinite))
    fail('pose.R must be 9 finite numbers');
  if (!Array.isArray(t) || t.length !== 3 || !t.every(Number.isFinite))
    fail('pose.t must be 3 finite numbers');
  // R R^T = I and det R = +1, to 1e-6.
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = R[3 * i] * R[3 * j] + R[3 * i + 1] * R[3 * j + 1] + R[3 * i + 2] * R[3 * j + 2];
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-6) fail('pose.R is not orthonormal');
    }
  }
  const det =
    R[0] * (R[4] * R[8] - R[5] * R[7]) -
    R[1] * (R[3] * R[8] - R[5] * R[6]) +
    R[2] * (R[3] * R[7] - R[4] * R[6]);
  if (det < 0) fail('pose.R is a reflection (det < 0)');
}

/**
 * The OpenCV board with this spec's ids and layout (caller deletes). Throws when the id range does not
 * fit in the dictionary.
 */
export function createCharucoBoard(cv: OpenCv, spec: BoardSpec): CharucoBoard {
  validateBoardSpec(spec);
  const n = markerCount(spec);
  return withScope((keep) => {
    const dictionary = keep(cv.getPredefinedDictionary(cv[spec.dictionary] as number));
    const available = dictionary.bytesList.rows;
    if (spec.firstMarkerId + n > available) {
      throw new Error(
        `board spec "${spec.name}": marker ids ${spec.firstMarkerId}..${spec.firstMarkerId + n - 1} ` +
          `exceed ${spec.dictionary} (${available} markers)`,
      );
    }
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = spec.firstMarkerId + i;
    const idsMat = keep(cv.matFromArray(n, 1, cv.CV_32SC1, ids));
    // The board copies the dictionary and ids, so both can go when the scope ends.
    const board = new cv.aruco_CharucoBoard(
      new cv.Size(spec.squaresX, spec.squaresY),
      spec.squareLength,
      spec.markerLength,
      dictionary,
      idsMat,
    );
    board.setLegacyPattern(spec.legacyPattern);
    return board;
  });
}

/**
 * The printed board as an 8-bit image of pxPerSquare pixels per square, no margin. Texel (i, j) covers
 * board coordinates [i, i+1) x [j, j+1) times s = squareLength / pxPerSquare, so in OpenCV's pixel-centre
 * convention the board point (X, Y) lies at image position (u, v) = (X / s - 0.5, Y / s - 0.5), and the
 * image spans exactly [0, squaresX * squareLength] x [0, squaresY * squareLength].
 */
export function boardImage(cv: OpenCv, spec: BoardSpec, pxPerSquare: number): GrayImage {
  if (!Number.isInteger(pxPerSquare) || pxPerSquare < 4) {
    throw new Error(`boardImage(${spec.name}): pxPerSquare must be an integer >= 4, got ${pxPerSquare}`);
  }
  const width = spec.squaresX * pxPerSquare;
  const height = spec.squaresY * pxPerSquare;
  return withScope((keep) => {
    const board = keep(createCharucoBoard(cv, spec));
    const img = keep(new cv.Mat());
    board.generateImage(new cv.Size(width, height), img, 0, 1);
    if (img.cols !== width || img.rows !== height || img.channels() !== 1) {
      throw new Error(
        `boardImage(${spec.name}): OpenCV drew ${img.cols}x${img.rows}, expected ${width}x${height}`,
      );
    }
    return { width, height, data: new Uint8Array(img.data) };
  });
}

/**
 * Chessboard inner corners in the board frame, in ChArUco corner id order (row-major over the inner
 * grid, as cv::aruco::CharucoBoard::getChessboardCorners): id = r (squaresX - 1) + c at ((c+1) s, (r+1) s, 0).
 */
export function boardCornersLocal(spec: BoardSpec): Float64Array {
  const nx = spec.squaresX - 1;
  const n = cornerCount(spec);
  const out = new Float64Array(3 * n);
  for (let id = 0; id < n; id++) {
    out[3 * id] = ((id % nx) + 1) * spec.squareLength;
    out[3 * id + 1] = (Math.floor(id / nx) + 1) * spec.squareLength;
  }
  return out;
}

/** Chessboard inner corners in world coordinates (X_w = R X_b + t), ChArUco corner id order, xyz per corner. */
export function boardCornerPositions(spec: BoardSpec): Float64Array {
  const local = boardCornersLocal(spec);
  const { R, t } = spec.pose;
  const out = new Float64Array(local.length);
  for (let i = 0; i < local.length; i += 3) {
    const x = local[i];
    const y = local[i + 1];
    out[i] = R[0] * x + R[1] * y + t[0];
    out[i + 1] = R[3] * x + R[4] * y + t[1];
    out[i + 2] = R[6] * x + R[7] * y + t[2];
  }
  return out;
}

/** Intrinsics in OpenCV's convention: K row-major 3x3, dist = (k1, k2, p1, p2[, k3]). */
export interface LensIntrinsics {
  K: number[];
  dist: number[];
}

/** ChArUco detections of one board in one image. Marker ids/corners are those of this board only. */
export interface CharucoDetection {
  /** ChArUco corner ids (see boardCornersLocal). */
  ids: Int32Array;
  /** Sub-pixel corner positions, (u, v) per id, OpenCV pixel-centre convention. */
  corners: Float32Array;
  markerIds: Int32Array;
  /** Four corners (u, v) per marker, OpenCV's order (clockwise from the marker's top-left). */
  markerCorners: Float32Array;
}

/** A reusable detector for one board (construct once, detect many images, then delete()). */
export class CharucoBoardDetector implements Deletable {
  private readonly board: CharucoBoard;
  private readonly detector: CharucoDetector;
  private readonly idLo: number;
  private readonly idHi: number;

  /**
   * `camera` (intrinsics, when known) lets OpenCV predict the ChArUco corners through the lens model
   * before refining them, which helps with strong distortion.
   */
  constructor(
    private readonly cv: OpenCv,
    readonly spec: BoardSpec,
    camera?: LensIntrinsics,
  ) {
    this.board = createCharucoBoard(cv, spec);
    this.idLo = spec.firstMarkerId;
    this.idHi = spec.firstMarkerId + markerCount(spec);
    this.detector = withScope((keep) => {
      const charucoParams = keep(new cv.aruco_CharucoParameters());
      if (camera) {
        charucoParams.cameraMatrix = keep(cv.matFromArray(3, 3, cv.CV_64FC1, camera.K));
        if (camera.dist.length > 0) {
          charucoParams.distCoeffs = keep(cv.matFromArray(1, camera.dist.length, cv.CV_64FC1, camera.dist));
        }
      }
      const detectorParams = keep(new cv.aruco_DetectorParameters());
      const refineParams = keep(new cv.aruco_RefineParameters(10, 3, true));
      return new cv.aruco_CharucoDetector(this.board, charucoParams, detectorParams, refineParams);
    });
  }

  detect(gray: GrayImage): CharucoDetection {
    const cv = this.cv;
    return withScope((keep) => {
      const img = keep(grayMat(cv, gray));
      const charucoCorners = keep(new cv.Mat());
      const charucoIds = keep(new cv.Mat());
      const markerCorners = keep(new cv.MatVector());
      const markerIds = keep(new cv.Mat());
      this.detector.detectBoard(img, charucoCorners, charucoIds, markerCorners, markerIds);
      // Results come as N x 1 or 1 x N Mats depending on the OpenCV version: count elements, not rows.
      const ids = charucoIds.empty() ? new Int32Array(0) : charucoIds.data32S.slice();
      const corners = charucoCorners.empty() ? new Float32Array(0) : charucoCorners.data32F.slice();
      if (corners.length !== 2 * ids.length) {
        throw new Error(
          `detectCharuco(${this.spec.name}): ${ids.length} ids but ${corners.length / 2} corners`,
        );
      }
      const allIds = markerIds.empty() ? new Int32Array(0) : markerIds.data32S;
      const keepIds: number[] = [];
      const keepCorners: number[] = [];
      for (let k = 0; k < allIds.length; k++) {
        if (allIds[k] < this.idLo || allIds[k] >= this.idHi) continue;
        const quad = keep(markerCorners.get(k));
        keepIds.push(allIds[k]);
        for (let j = 0; j < 8; j++) keepCorners.push(quad.data32F[j]);
      }
      return {
        ids,
        corners,
        markerIds: Int32Array.from(keepIds),
        markerCorners: Float32Array.from(keepCorners),
      };
    });
  }

  delete(): void {
    this.detector.delete();
    this.board.delete();
  }
}

/** One-off detection of spec's board in a grayscale image (builds and frees a detector). */
export function detectCharuco(
  cv: OpenCv,
  spec: BoardSpec,
  gray: GrayImage,
  camera?: LensIntrinsics,
): CharucoDetection {
  const detector = new CharucoBoardDetector(cv, spec, camera);
  try {
    return detector.detect(gray);
  } finally {
    detector.delete();
  }
}
