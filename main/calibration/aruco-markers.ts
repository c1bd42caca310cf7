import {
  markerCodebook,
  MarkerSampler,
  rotateQuad,
  DEFAULT_IDENTIFY,
  type MarkerCodebook,
} from './aruco-identify';
import { withScope, type CvMat, type Deletable, type GrayImage, type OpenCv } from './opencv';
import { SquareCandidateFinder, type CandidateParams } from './square-candidates';

/**
 * ArUco markers of several dictionaries in one pass: the square candidates are found once per image as
 * OpenCV's ArucoDetector finds them (square-candidates.ts: its adaptive threshold, then its contours and
 * polygon tests redone in JS), grouped per marker size as filterTooCloseCandidates groups them, and
 * aruco-identify.ts reads and matches every candidate's cells against each dictionary (see there for
 * why). With the same parameters the result is that of ArucoDetector.detectMarkers with the full
 * dictionary: the same ids, corners and rejected candidates (test/unit/charuco-detect.test.ts on the
 * OpenCV tutorial photos; also checked on rendered and video frames).
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
 * of OpenCV's three (3, 13, 23). Each window costs a fixed ~1.5 ms here (threshold + contours over the
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
}

/** The MarkerDetectorParams of the candidate search (the rest are grouping's). */
export const CANDIDATE_KEYS = [
  'adaptiveThreshWinSizeMin',
  'adaptiveThreshWinSizeMax',
  'adaptiveThreshWinSizeStep',
  'adaptiveThreshConstant',
  'minMarkerPerimeterRate',
  'maxMarkerPerimeterRate',
  'polygonalApproxAccuracyRate',
  'minCornerDistanceRate',
] as const;

export class ArucoMarkerFinder implements Deletable {
  readonly dictionaries: readonly string[];
  private readonly groups: SizeGroup[] = [];
  private readonly grouping: GroupingParams;
  private readonly candidates: SquareCandidateFinder;

  constructor(cv: OpenCv, dictionaries: readonly string[], params: MarkerDetectorParams = {}) {
    this.dictionaries = [...new Set(dictionaries)];
    if (this.dictionaries.length === 0) throw new Error('ArucoMarkerFinder: no dictionaries given');
    // OpenCV's defaults for what params leave out.
    const { candidates, grouping } = withScope((keep) => {
      const defaults = keep(new cv.aruco_DetectorParameters());
      for (const k of Object.keys(params)) {
        if (!(k in defaults)) throw new Error(`ArucoMarkerFinder: unknown detector parameter ${k}`);
      }
      const pick = (k: keyof MarkerDetectorParams): number => params[k] ?? (defaults[k] as number);
      return {
        candidates: Object.fromEntries(CANDIDATE_KEYS.map((k) => [k, pick(k)])) as unknown as CandidateParams,
        grouping: {
          minMarkerDistanceRate: pick('minMarkerDistanceRate'),
          minDistanceToBorder: pick('minDistanceToBorder'),
          minGroupDistance: pick('minGroupDistance'),
        },
      };
    });
    this.grouping = grouping;
    this.candidates = new SquareCandidateFinder(cv, candidates);
    for (const name of this.dictionaries) {
      const book = markerCodebook(cv, name, DEFAULT_IDENTIFY.errorCorrectionRate);
      const group = this.groups.find((g) => g.markerSize === book.markerSize);
      if (group) group.books.push(book);
      else
        this.groups.push({
          markerSize: book.markerSize,
          books: [book],
          sampler: new MarkerSampler(book.markerSize),
        });
    }
  }

  /**
   * Markers in img (the same pixels as gray, which identification reads). A candidate goes to the first
   * dictionary (in the given order) that decodes it, or with everyDictionary to each one that does (for
   * diagnosis: nested dictionaries such as DICT_6X6_50 and DICT_6X6_250 share their first codes).
   */
  find(img: CvMat, gray: GrayImage, everyDictionary = false): MarkerSet {
    if (img.cols !== gray.width || img.rows !== gray.height) {
      throw new Error(
        `ArucoMarkerFinder: image is ${img.cols}x${img.rows}, pixels ${gray.width}x${gray.height}`,
      );
    }
    const quads = this.candidates.find(img);
    const m = quads.length / 8;
    // Per dictionary: ids and corners of its markers (a candidate decodes at most once per dictionary).
    const counts = new Int32Array(this.dictionaries.length);
    const ids = this.dictionaries.map(() => new Int32Array(m));
    const corners = this.dictionaries.map(() => new Float32Array(8 * m));
    const rejected = new Float32Array(8 * m * this.groups.length);
    let nRejected = 0;
    for (const g of this.groups) {
      // Each group: its largest candidate, then its distinct close contours (filterTooCloseCandidates),
      // tried in that order until one decodes (identifyCandidates).
      for (const members of groupCandidates(quads, g.markerSize, this.grouping, gray.width, gray.height)) {
        let decoded = false;
        for (const book of g.books) {
          let hit = -1;
          let q = -1;
          for (const member of members) {
            g.sampler.sample(gray, quads, member);
            hit = g.sampler.identify(book);
            if (hit >= 0) {
              q = member;
              break;
            }
          }
          if (hit < 0) continue;
          const d = this.dictionaries.indexOf(book.name);
          rotateQuad(quads, q, hit & 3, corners[d], counts[d]);
          ids[d][counts[d]++] = hit >> 2;
          decoded = true;
          if (!everyDictionary) break;
        }
        if (!decoded) rejected.set(quads.subarray(8 * members[0], 8 * members[0] + 8), 8 * nRejected++);
      }
    }
    const found = this.dictionaries.map((dictionary, d) => ({
      dictionary,
      ids: ids[d].slice(0, counts[d]),
      corners: corners[d].slice(0, 8 * counts[d]),
    }));
    return {
      found,
      rejected: dropEnclosing(
        rejected.subarray(0, 8 * nRejected),
        found.map((f) => f.corners),
      ),
    };
  }

  delete(): void {
    this.candidates.delete();
  }
}

/**
 * Rejected candidates without those that enclose a decoded marker (its outer contours): OpenCV skips
 * the parents of identified markers instead of rejecting them.
 */
function dropEnclosing(rejected: Float32Array, markers: Float32Array[]): Float32Array {
  const out = new Float32Array(rejected.length);
  let n = 0;
  for (let r = 0; r < rejected.length; r += 8) {
    let encloses = false;
    for (const list of markers) {
      for (let m = 0; m < list.length && !encloses; m += 8) {
        encloses =
          insideConvexQuad(rejected, r, list[m], list[m + 1]) &&
          insideConvexQuad(rejected, r, list[m + 2], list[m + 3]) &&
          insideConvexQuad(rejected, r, list[m + 4], list[m + 5]) &&
          insideConvexQuad(rejected, r, list[m + 6], list[m + 7]);
      }
    }
    if (!encloses) out.set(rejected.subarray(r, r + 8), 8 * n++);
  }
  return out.slice(0, 8 * n);
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
      const a = order[i];
      const b = order[j];
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
