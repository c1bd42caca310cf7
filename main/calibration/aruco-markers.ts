import {
  markerCodebook,
  MarkerSampler,
  rotateQuad,
  DEFAULT_IDENTIFY,
  type MarkerCodebook,
} from './aruco-identify';
import {
  withScope,
  type ArucoDetector,
  type CvMat,
  type CvMatVector,
  type Deletable,
  type GrayImage,
  type OpenCv,
} from './opencv';

/**
 * ArUco markers of several dictionaries in one pass per marker size: OpenCV finds the square candidates
 * (adaptive thresholds, contours, polygon tests, grouping, ordering) through an ArucoDetector whose
 * dictionary is a single probe code, and aruco-identify.ts reads and matches every candidate's cells
 * against each dictionary (see there for why). With the same parameters the result is that of
 * ArucoDetector.detectMarkers with the full dictionary: the same ids, corners and rejected candidates
 * (test/unit/charuco-detect.test.ts on the OpenCV tutorial photos; also checked on rendered frames).
 */

/** DetectorParameters fields that may be overridden (OpenCV names and meanings). */
export interface MarkerDetectorParams {
  adaptiveThreshWinSizeMin?: number;
  adaptiveThreshWinSizeMax?: number;
  adaptiveThreshWinSizeStep?: number;
  adaptiveThreshConstant?: number;
  minMarkerPerimeterRate?: number;
  maxMarkerPerimeterRate?: number;
  polygonalApproxAccuracyRate?: number;
  minCornerDistanceRate?: number;
  minDistanceToBorder?: number;
  minMarkerDistanceRate?: number;
  minGroupDistance?: number;
}

/**
 * Faster settings for video frames (foot cameras, 640x480): one adaptive-threshold window of 7 px instead
 * of OpenCV's three (3, 13, 23). Each window costs a fixed ~3-4 ms here (threshold + findContours over the
 * whole image); on the embedded sample's foot video the single window finds as many ChArUco corners as
 * the three (729 vs 724 over 139 frames), on 17 rendered frames 95 % of them, at a third of the time.
 */
export const FRAME_MARKER_PARAMS: MarkerDetectorParams = {
  adaptiveThreshWinSizeMin: 7,
  adaptiveThreshWinSizeMax: 7,
};

/** Markers of one dictionary: ids and 4 corners (u, v) each, clockwise from the marker's top-left. */
export interface DictionaryMarkers {
  dictionary: string;
  ids: Int32Array;
  corners: Float32Array;
}

export interface MarkerSet {
  /** In the order the dictionaries were given. */
  found: DictionaryMarkers[];
  /** Square candidates no dictionary decodes: 4 corners (8 numbers) each. */
  rejected: Float32Array;
}

interface SizeGroup {
  markerSize: number;
  books: MarkerCodebook[];
  sampler: MarkerSampler;
  detector: ArucoDetector;
}

export class ArucoMarkerFinder implements Deletable {
  readonly dictionaries: readonly string[];
  private readonly groups: SizeGroup[] = [];
  private readonly grouping: GroupingParams;

  constructor(
    private readonly cv: OpenCv,
    dictionaries: readonly string[],
    params: MarkerDetectorParams = {},
  ) {
    this.dictionaries = [...new Set(dictionaries)];
    if (this.dictionaries.length === 0) throw new Error('ArucoMarkerFinder: no dictionaries given');
    this.grouping = withScope((keep) => {
      const defaults = keep(new cv.aruco_DetectorParameters());
      const pick = (k: 'minMarkerDistanceRate' | 'minDistanceToBorder' | 'minGroupDistance'): number =>
        (params as Record<string, number | undefined>)[k] ?? (defaults[k] as number);
      return {
        minMarkerDistanceRate: pick('minMarkerDistanceRate'),
        minDistanceToBorder: pick('minDistanceToBorder'),
        minGroupDistance: pick('minGroupDistance'),
      };
    });
    const books = this.dictionaries.map((name) =>
      markerCodebook(cv, name, DEFAULT_IDENTIFY.errorCorrectionRate),
    );
    try {
      for (const book of books) {
        const group = this.groups.find((g) => g.markerSize === book.markerSize);
        if (group) group.books.push(book);
        else this.groups.push(this.makeGroup(book, params));
      }
    } catch (err) {
      this.delete();
      throw err;
    }
  }

  /** One ArucoDetector per marker size, its dictionary the last code of the first dictionary of that size. */
  private makeGroup(book: MarkerCodebook, params: MarkerDetectorParams): SizeGroup {
    const cv = this.cv;
    return withScope((keep) => {
      const full = keep(cv.getPredefinedDictionary(cv[book.name] as number));
      const list = full.bytesList;
      const rowBytes = list.data.length / list.rows;
      const last = list.data.subarray(rowBytes * (list.rows - 1));
      const bytes = keep(cv.matFromArray(1, list.cols, list.type(), last));
      const probe = keep(new cv.aruco_Dictionary(bytes, full.markerSize, full.maxCorrectionBits));
      const detectorParams = keep(new cv.aruco_DetectorParameters());
      for (const [k, v] of Object.entries(params)) {
        if (!(k in detectorParams)) throw new Error(`ArucoMarkerFinder: unknown detector parameter ${k}`);
        if (v !== undefined) detectorParams[k] = v;
      }
      // Grouping and the border test are done here (groupCandidates), so OpenCV returns every candidate.
      detectorParams.minMarkerDistanceRate = 0;
      detectorParams.minDistanceToBorder = 0;
      const refine = keep(new cv.aruco_RefineParameters(10, 3, true));
      const detector = new cv.aruco_ArucoDetector(probe, detectorParams, refine);
      return {
        markerSize: book.markerSize,
        books: [book],
        sampler: new MarkerSampler(book.markerSize),
        detector,
      };
    });
  }

  /**
   * Markers in img (the same pixels as gray, which identification reads). A candidate goes to the first
   * dictionary (in the given order) that decodes it, or with everyDictionary to each one that does (for
   * diagnosis: nested dictionaries such as DICT_6X6_50 and DICT_6X6_250 share their first codes).
   */
  find(img: CvMat, gray: GrayImage, everyDictionary = false): MarkerSet {
    const cv = this.cv;
    const ids: number[][] = this.dictionaries.map(() => []);
    const corners: number[][] = this.dictionaries.map(() => []);
    const rejected: number[] = [];
    const quad = new Float32Array(8);
    for (const g of this.groups) {
      const quads = withScope((keep) => {
        const accepted = keep(new cv.MatVector());
        const probeIds = keep(new cv.Mat());
        const candidates = keep(new cv.MatVector());
        g.detector.detectMarkers(img, accepted, probeIds, candidates);
        // The probe's own hits are candidates too: identification below names their dictionary.
        return Float32Array.from(readQuads(candidates, readQuads(accepted, [])));
      });
      // Each group: its largest candidate, then its distinct close contours (filterTooCloseCandidates),
      // tried in that order until one decodes (identifyCandidates).
      for (const members of groupCandidates(quads, g.markerSize, this.grouping, gray.width, gray.height)) {
        let decoded = false;
        for (const book of g.books) {
          let hit = -1;
          let q = -1;
          for (const m of members) {
            g.sampler.sample(gray, quads, m);
            hit = g.sampler.identify(book);
            if (hit >= 0) {
              q = m;
              break;
            }
          }
          if (hit < 0) continue;
          const d = this.dictionaries.indexOf(book.name);
          rotateQuad(quads, q, hit & 3, quad, 0);
          ids[d].push(hit >> 2);
          for (let k = 0; k < 8; k++) corners[d].push(quad[k]);
          decoded = true;
          if (!everyDictionary) break;
        }
        if (!decoded) for (let k = 0; k < 8; k++) rejected.push(quads[8 * members[0] + k]);
      }
    }
    return {
      found: this.dictionaries.map((dictionary, d) => ({
        dictionary,
        ids: Int32Array.from(ids[d]),
        corners: Float32Array.from(corners[d]),
      })),
      rejected: dropEnclosing(rejected, corners),
    };
  }

  delete(): void {
    for (const g of this.groups.splice(0)) g.detector.delete();
  }
}

/** Appends the 4 corners of every quad in a MatVector of 1x4 CV_32FC2 Mats to out. */
function readQuads(v: CvMatVector, out: number[]): number[] {
  for (let k = 0; k < v.size(); k++) {
    const m = v.get(k);
    try {
      const f = m.data32F;
      if (f.length !== 8) throw new Error(`ArucoMarkerFinder: candidate ${k} has ${f.length / 2} corners`);
      for (let j = 0; j < 8; j++) out.push(f[j]);
    } finally {
      m.delete();
    }
  }
  return out;
}

/**
 * Rejected candidates without those that enclose a decoded marker (its outer contours): OpenCV skips
 * the parents of identified markers instead of rejecting them.
 */
function dropEnclosing(rejected: number[], markers: number[][]): Float32Array {
  const out: number[] = [];
  for (let r = 0; r < rejected.length; r += 8) {
    let encloses = false;
    for (const list of markers) {
      for (let m = 0; m < list.length && !encloses; m += 8) {
        encloses = [0, 2, 4, 6].every((c) => insideConvexQuad(rejected, r, list[m + c], list[m + c + 1]));
      }
    }
    if (!encloses) for (let k = 0; k < 8; k++) out.push(rejected[r + k]);
  }
  return Float32Array.from(out);
}

/** Whether (x, y) is inside or on the convex quad q[at..at+7] (same sign of all edge cross products). */
function insideConvexQuad(q: ArrayLike<number>, at: number, x: number, y: number): boolean {
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < 4; i++) {
    const j = (i + 1) % 4;
    const cross =
      (q[at + 2 * j] - q[at + 2 * i]) * (y - q[at + 2 * i + 1]) -
      (q[at + 2 * j + 1] - q[at + 2 * i + 1]) * (x - q[at + 2 * i]);
    if (cross > 0) pos++;
    else if (cross < 0) neg++;
  }
  return pos === 0 || neg === 0;
}

interface GroupingParams {
  minMarkerDistanceRate: number;
  minDistanceToBorder: number;
  minGroupDistance: number;
}

/** Side-length sum of quad q. */
function perimeter(quads: Float32Array, q: number): number {
  let p = 0;
  for (let i = 0; i < 4; i++) {
    const j = (i + 1) % 4;
    p += Math.hypot(
      quads[8 * q + 2 * j] - quads[8 * q + 2 * i],
      quads[8 * q + 2 * j + 1] - quads[8 * q + 2 * i + 1],
    );
  }
  return p;
}

/** RMS corner distance of quads a and b over the 4 cyclic corner correspondences, the smallest (getAverageDistance). */
function averageDistance(quads: Float32Array, a: number, b: number): number {
  let best = Infinity;
  for (let fc = 0; fc < 4; fc++) {
    let d2 = 0;
    for (let c = 0; c < 4; c++) {
      const m = (c + fc) % 4;
      const dx = quads[8 * a + 2 * m] - quads[8 * b + 2 * c];
      const dy = quads[8 * a + 2 * m + 1] - quads[8 * b + 2 * c + 1];
      d2 += dx * dx + dy * dy;
    }
    best = Math.min(best, d2 / 4);
  }
  return Math.sqrt(best);
}

/**
 * OpenCV's filterTooCloseCandidates: candidates sorted by perimeter (largest first) are grouped when their
 * corners are closer than minMarkerDistanceRate x the smaller perimeter; a group whose largest member is
 * within minDistanceToBorder of the image edge is dropped; each group lists its largest member, then the
 * members that differ from the previously listed one by more than minGroupDistance modules (its "close
 * contours": the same marker thresholded at another window, or a marker inside its white square).
 */
export function groupCandidates(
  quads: Float32Array,
  markerSize: number,
  p: GroupingParams,
  width: number,
  height: number,
): number[][] {
  const n = quads.length / 8;
  const perim = Array.from({ length: n }, (_, q) => perimeter(quads, q));
  const order = Array.from({ length: n }, (_, q) => q).sort((a, b) => perim[b] - perim[a] || a - b);
  const groupOf = new Int32Array(n).fill(-1);
  const groups: number[][] = [];
  for (let i = 0; i < n; i++) {
    let alone = true;
    for (let j = i + 1; j < n; j++) {
      const [a, b] = [order[i], order[j]];
      if (averageDistance(quads, a, b) >= perim[b] * p.minMarkerDistanceRate) continue;
      alone = false;
      if (groupOf[i] < 0 && groupOf[j] < 0) {
        groupOf[i] = groupOf[j] = groups.length;
        groups.push([i, j]);
      } else if (groupOf[i] >= 0 && groupOf[j] < 0) {
        groupOf[j] = groupOf[i];
        groups[groupOf[i]].push(j);
      } else if (groupOf[j] >= 0 && groupOf[i] < 0) {
        groupOf[i] = groupOf[j];
        groups[groupOf[j]].push(i);
      }
    }
    if (alone && groupOf[i] < 0) {
      groupOf[i] = groups.length;
      groups.push([i]);
    }
  }
  const border = p.minDistanceToBorder;
  const out: number[][] = [];
  for (const group of groups) {
    group.sort((a, b) => a - b);
    let cur = order[group[0]];
    let near = false;
    for (let c = 0; c < 4; c++) {
      const [x, y] = [quads[8 * cur + 2 * c], quads[8 * cur + 2 * c + 1]];
      if (x < border || y < border || x > width - 1 - border || y > height - 1 - border) near = true;
    }
    if (near) continue;
    const members = [cur];
    for (let k = 1; k < group.length; k++) {
      const id = order[group[k]];
      // Module = mean side / (markerSize + 2 border bits).
      const module = perim[id] / 4 / (markerSize + 2);
      if (averageDistance(quads, id, cur) > p.minGroupDistance * module) {
        cur = id;
        members.push(id);
      }
    }
    out.push(members);
  }
  return out;
}
