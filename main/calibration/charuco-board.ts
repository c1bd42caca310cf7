import { ArucoMarkerFinder, type MarkerDetectorParams } from './aruco-markers';
import { cornerMarkerPairs } from './charuco-layout';
import {
  withScope,
  grayMat,
  type CharucoBoard,
  type CharucoDetector,
  type CvMat,
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

/** A detection with what else the image showed, for telling why a board was not found. */
export interface CharucoDiagnosticDetection extends CharucoDetection {
  /** Square candidates that decode in no dictionary searched: 4 corners (8 numbers) each. */
  rejected: Float32Array;
  /** Markers of the board's dictionary whose ids are not the board's. */
  unknownMarkerIds: number[];
}

/**
 * A reusable detector for one board (construct once, detect many images, then delete()). Markers are
 * found by ArucoMarkerFinder (OpenCV's candidates, identified in JS: 5-20x faster than OpenCV's own
 * identification here), then OpenCV's CharucoDetector interpolates and refines the chessboard corners
 * from the markers handed to it (interpolate()), so it never detects markers itself.
 */
export class CharucoBoardDetector implements Deletable {
  private readonly board: CharucoBoard;
  private readonly detector: CharucoDetector;
  private finder: ArucoMarkerFinder | null = null;
  readonly idLo: number;
  readonly idHi: number;
  /** The two markers (board indices) next to each corner, and how many of them OpenCV asks for. */
  private readonly cornerMarkers: Int32Array;
  private readonly minMarkers: number;
  private readonly seen: Uint8Array;

  /**
   * `camera` (intrinsics, when known) lets OpenCV predict the ChArUco corners through the lens model
   * before refining them, which helps with strong distortion. `params` tune marker detection (detect()).
   */
  constructor(
    private readonly cv: OpenCv,
    readonly spec: BoardSpec,
    camera?: LensIntrinsics,
    private readonly params: MarkerDetectorParams = {},
  ) {
    this.board = createCharucoBoard(cv, spec);
    this.idLo = spec.firstMarkerId;
    this.idHi = spec.firstMarkerId + markerCount(spec);
    this.cornerMarkers = cornerMarkerPairs(spec.squaresX, spec.squaresY, spec.legacyPattern);
    this.seen = new Uint8Array(markerCount(spec));
    let minMarkers = 2;
    this.detector = withScope((keep) => {
      const charucoParams = keep(new cv.aruco_CharucoParameters());
      minMarkers = (charucoParams as unknown as { minMarkers: number }).minMarkers;
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
    this.minMarkers = minMarkers;
  }

  detect(gray: GrayImage): CharucoDiagnosticDetection {
    const cv = this.cv;
    this.finder ??= new ArucoMarkerFinder(cv, [this.spec.dictionary], this.params);
    const finder = this.finder;
    return withScope((keep) => {
      const img = keep(grayMat(cv, gray));
      const { found, rejected } = finder.find(img, gray);
      const { ids, corners } = found[0];
      const mine = selectMarkers(ids, corners, this.idLo, this.idHi);
      const unknownMarkerIds = [
        ...new Set(Array.from(ids).filter((id) => id < this.idLo || id >= this.idHi)),
      ];
      return { ...this.interpolate(img, mine.ids, mine.corners), rejected, unknownMarkerIds };
    });
  }

  /**
   * ChArUco corners from this board's markers already found in img (ids in [idLo, idHi), 8 numbers of
   * corners each): OpenCV's CharucoDetector.detectBoard with the marker arrays filled in. When no corner
   * has its minMarkers nearest markers among them (a lone marker, or markers not diagonal neighbours),
   * OpenCV would drop every corner (filterCornersWithoutMinMarkers) after refining them all: that answer
   * is given without asking it (~0.4 ms saved, mostly its solvePnP for the approximate pose).
   */
  interpolate(img: CvMat, markerIds: Int32Array, markerCorners: Float32Array): CharucoDetection {
    const cv = this.cv;
    if (markerCorners.length !== 8 * markerIds.length) {
      throw new Error(
        `interpolate(${this.spec.name}): ${markerIds.length} marker ids but ${markerCorners.length / 8} quads`,
      );
    }
    const none = { ids: new Int32Array(0), corners: new Float32Array(0), markerIds, markerCorners };
    if (markerIds.length === 0 || !this.mayGiveCorners(markerIds)) return none;
    return withScope((keep) => {
      const quads = keep(new cv.MatVector());
      for (let k = 0; k < markerIds.length; k++) {
        const quad = keep(cv.matFromArray(1, 4, cv.CV_32FC2, markerCorners.subarray(8 * k, 8 * k + 8)));
        quads.push_back(quad);
      }
      const idsMat = keep(cv.matFromArray(markerIds.length, 1, cv.CV_32SC1, markerIds));
      const charucoCorners = keep(new cv.Mat());
      const charucoIds = keep(new cv.Mat());
      this.detector.detectBoard(img, charucoCorners, charucoIds, quads, idsMat);
      // Results come as N x 1 or 1 x N Mats depending on the OpenCV version: count elements, not rows.
      const ids = charucoIds.empty() ? new Int32Array(0) : charucoIds.data32S.slice();
      const corners = charucoCorners.empty() ? new Float32Array(0) : charucoCorners.data32F.slice();
      if (corners.length !== 2 * ids.length) {
        throw new Error(
          `detectCharuco(${this.spec.name}): ${ids.length} ids but ${corners.length / 2} corners`,
        );
      }
      return { ...none, ids, corners };
    });
  }

  /** Whether some corner has at least minMarkers of its two nearest markers among markerIds. */
  private mayGiveCorners(markerIds: Int32Array): boolean {
    const { seen, cornerMarkers, minMarkers } = this;
    seen.fill(0);
    for (const id of markerIds) if (id >= this.idLo && id < this.idHi) seen[id - this.idLo] = 1;
    for (let c = 0; c < cornerMarkers.length; c += 2) {
      if (seen[cornerMarkers[c]] + seen[cornerMarkers[c + 1]] >= minMarkers) return true;
    }
    return false;
  }

  delete(): void {
    this.finder?.delete();
    this.finder = null;
    this.detector.delete();
    this.board.delete();
  }
}

/** The markers with ids in [lo, hi), and their quads. */
export function selectMarkers(
  ids: Int32Array,
  corners: Float32Array,
  lo: number,
  hi: number,
): { ids: Int32Array; corners: Float32Array } {
  let n = 0;
  for (const id of ids) if (id >= lo && id < hi) n++;
  const outIds = new Int32Array(n);
  const outCorners = new Float32Array(8 * n);
  let j = 0;
  for (let k = 0; k < ids.length; k++) {
    if (ids[k] < lo || ids[k] >= hi) continue;
    outIds[j] = ids[k];
    outCorners.set(corners.subarray(8 * k, 8 * k + 8), 8 * j);
    j++;
  }
  return { ids: outIds, corners: outCorners };
}

/** One-off detection of spec's board in a grayscale image (builds and frees a detector). */
export function detectCharuco(
  cv: OpenCv,
  spec: BoardSpec,
  gray: GrayImage,
  camera?: LensIntrinsics,
  params?: MarkerDetectorParams,
): CharucoDiagnosticDetection {
  const detector = new CharucoBoardDetector(cv, spec, camera, params);
  try {
    return detector.detect(gray);
  } finally {
    detector.delete();
  }
}
