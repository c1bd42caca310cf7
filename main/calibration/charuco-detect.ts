import { ArucoMarkerFinder, type MarkerDetectorParams } from './aruco-markers';
import {
  CharucoBoardDetector,
  markerCount,
  selectMarkers,
  validateBoardSpec,
  type BoardSpec,
  type CharucoDetection,
  type LensIntrinsics,
} from './charuco-board';
import type { CvMat, Deletable, GrayImage, OpenCv } from './opencv';

/**
 * Every board of a scene in one image: markers are found once per image for all dictionaries (one
 * candidate pass, see aruco-markers.ts), then ChArUco corners are interpolated only for the boards whose
 * markers can give one (at least two markers around a corner: CharucoBoardDetector.interpolate). This is
 * what per-frame foot-camera localisation calls.
 */

/** One board's detection; ids/corners (ChArUco) may be empty when its markers gave no corner. */
export interface BoardDetection extends CharucoDetection {
  name: string;
}

export interface MultiBoardDetection {
  /** Boards with at least one of their markers seen, in the order of the specs. */
  boards: BoardDetection[];
  /** Square candidates that decode in none of the boards' dictionaries: 4 corners (8 numbers) each. */
  rejected: Float32Array;
  /** Decoded markers (any of the boards' dictionaries) whose ids belong to no board, ascending. */
  unknownMarkerIds: number[];
}

/** Throws when two boards of one dictionary share marker ids (their detections would be ambiguous). */
export function checkDisjointIds(specs: readonly BoardSpec[]): void {
  for (let i = 0; i < specs.length; i++) {
    validateBoardSpec(specs[i]);
    for (let j = 0; j < i; j++) {
      const [a, b] = [specs[i], specs[j]];
      if (a.name === b.name) throw new Error(`boards: the name "${a.name}" appears twice`);
      if (a.dictionary !== b.dictionary) continue;
      const [a0, a1] = [a.firstMarkerId, a.firstMarkerId + markerCount(a)];
      const [b0, b1] = [b.firstMarkerId, b.firstMarkerId + markerCount(b)];
      if (a0 < b1 && b0 < a1) {
        throw new Error(
          `boards "${b.name}" (ids ${b0}..${b1 - 1}) and "${a.name}" (ids ${a0}..${a1 - 1}) share ` +
            `${a.dictionary} marker ids`,
        );
      }
    }
  }
}

/** Construct once per camera (and board set), detect every frame, then delete(). */
export class MultiBoardDetector implements Deletable {
  private readonly finder: ArucoMarkerFinder;
  private readonly detectors: CharucoBoardDetector[] = [];
  /** The image in wasm memory, reused from frame to frame while the size stays. */
  private img: CvMat | null = null;

  /**
   * `camera` lets OpenCV predict corners through the lens model (~0.4 ms per board with corners, most
   * of it OpenCV's solvePnP for the approximate pose);
   * `params` tune marker detection (FRAME_MARKER_PARAMS for video frames).
   */
  constructor(
    private readonly cv: OpenCv,
    readonly specs: readonly BoardSpec[],
    camera?: LensIntrinsics,
    params: MarkerDetectorParams = {},
  ) {
    if (specs.length === 0) throw new Error('MultiBoardDetector: no boards given');
    checkDisjointIds(specs);
    this.finder = new ArucoMarkerFinder(
      cv,
      specs.map((s) => s.dictionary),
      params,
    );
    try {
      for (const spec of specs) this.detectors.push(new CharucoBoardDetector(cv, spec, camera));
    } catch (err) {
      this.delete();
      throw err;
    }
  }

  detect(gray: GrayImage): MultiBoardDetection {
    const img = this.upload(gray);
    const { found, rejected } = this.finder.find(img, gray);
    const boards: BoardDetection[] = [];
    const unknown = new Set<number>();
    for (const { dictionary, ids } of found) {
      const owned = new Uint8Array(ids.length);
      for (const d of this.detectors) {
        if (d.spec.dictionary !== dictionary) continue;
        for (let k = 0; k < ids.length; k++) if (ids[k] >= d.idLo && ids[k] < d.idHi) owned[k] = 1;
      }
      ids.forEach((id, k) => owned[k] || unknown.add(id));
    }
    for (const d of this.detectors) {
      const { ids, corners } = found[this.finder.dictionaries.indexOf(d.spec.dictionary)];
      const mine = selectMarkers(ids, corners, d.idLo, d.idHi);
      if (mine.ids.length === 0) continue;
      boards.push({ name: d.spec.name, ...d.interpolate(img, mine.ids, mine.corners) });
    }
    return { boards, rejected, unknownMarkerIds: [...unknown].sort((a, b) => a - b) };
  }

  /** Copies gray into the reused Mat (a new one when the size changes). */
  private upload(gray: GrayImage): CvMat {
    const { width, height, data } = gray;
    if (data.length !== width * height) {
      throw new Error(`MultiBoardDetector: image data has ${data.length} bytes, expected ${width}x${height}`);
    }
    if (!this.img || this.img.cols !== width || this.img.rows !== height) {
      this.img?.delete();
      this.img = null; // not left pointing at a deleted Mat should the next line throw
      this.img = new this.cv.Mat(height, width, this.cv.CV_8UC1);
    }
    this.img.data.set(data);
    return this.img;
  }

  delete(): void {
    this.finder?.delete();
    for (const d of this.detectors.splice(0)) d.delete();
    this.img?.delete();
    this.img = null;
  }
}

/** One-off detection of every board in specs (builds and frees a detector). */
export function detectBoards(
  cv: OpenCv,
  specs: readonly BoardSpec[],
  gray: GrayImage,
  camera?: LensIntrinsics,
  params?: MarkerDetectorParams,
): MultiBoardDetection {
  const detector = new MultiBoardDetector(cv, specs, camera, params);
  try {
    return detector.detect(gray);
  } finally {
    detector.delete();
  }
}
