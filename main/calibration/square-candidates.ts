import { FramedBinary, framedStride, traceContours, type ContourScratch } from './binary-contours';
import type { CvMat, Deletable, OpenCv } from './opencv';

/**
 * ArUco's square candidates, as OpenCV 5's ArucoDetector finds them (_detectInitialCandidates,
 * _reorderCandidatesCorners, then the perimeter order of filterTooCloseCandidates): per threshold window
 * an adaptive threshold (OpenCV's, into a reused Mat), every contour (binary-contours.ts), its polygon
 * (approxPolyDP), and the tests for a convex quadrilateral with corners not too close. The result is
 * the candidate list OpenCV builds, corner for corner and in its order, without a Mat per contour.
 */

/** The DetectorParameters of the candidate search (OpenCV names and meanings). */
export interface CandidateParams {
  adaptiveThreshWinSizeMin: number;
  adaptiveThreshWinSizeMax: number;
  adaptiveThreshWinSizeStep: number;
  adaptiveThreshConstant: number;
  minMarkerPerimeterRate: number;
  maxMarkerPerimeterRate: number;
  polygonalApproxAccuracyRate: number;
  minCornerDistanceRate: number;
}

export class SquareCandidateFinder implements Deletable {
  private framed: CvMat | null = null;
  private roi: CvMat | null = null;
  private readonly scratch: ContourScratch = { points: new Int32Array(4096) };
  private polygon = new Int32Array(64);
  private slices = new Int32Array(64);
  /** Corners (8 numbers) of the candidates so far, and their perimeters. */
  private quads: number[] = [];
  private perimeters: number[] = [];
  /** Contour lengths (pixels) a marker may have, and the longer image side, for the current image. */
  private minPerimeter = 0;
  private maxPerimeter = 0;
  private side = 0;
  /** One callback for every trace (a new closure per image would make V8 deoptimize traceContours). */
  private readonly onContour = (points: Int32Array, n: number): void => {
    if (n >= this.minPerimeter && n <= this.maxPerimeter) this.addIfSquare(points, n);
  };

  constructor(
    private readonly cv: OpenCv,
    readonly params: CandidateParams,
  ) {
    const p = params;
    if (!(p.adaptiveThreshWinSizeMin >= 3 && p.adaptiveThreshWinSizeMax >= p.adaptiveThreshWinSizeMin)) {
      throw new Error(
        `SquareCandidateFinder: threshold windows ${p.adaptiveThreshWinSizeMin}..${p.adaptiveThreshWinSizeMax} ` +
          'must be >= 3 and ascending',
      );
    }
    if (!(p.adaptiveThreshWinSizeStep > 0)) {
      throw new Error(`SquareCandidateFinder: adaptiveThreshWinSizeStep must be > 0`);
    }
    if (
      !(p.minMarkerPerimeterRate > 0 && p.maxMarkerPerimeterRate > 0 && p.polygonalApproxAccuracyRate > 0) ||
      !(p.minCornerDistanceRate >= 0)
    ) {
      throw new Error(
        'SquareCandidateFinder: perimeter and accuracy rates must be > 0, minCornerDistanceRate >= 0',
      );
    }
  }

  /**
   * Candidates in img (CV_8UC1): 4 corners (8 numbers) each, clockwise (in image coordinates, y down),
   * sorted by perimeter, largest first (ties in contour order, windows in ascending size).
   */
  find(img: CvMat): Float32Array {
    const cv = this.cv;
    const { cols: width, rows: height } = img;
    if (img.type() !== cv.CV_8UC1 || width < 1 || height < 1) {
      throw new Error(`SquareCandidateFinder: expected a non-empty 8-bit grey image, got type ${img.type()}`);
    }
    if (!this.framed || this.framed.rows !== height + 2 || this.framed.cols !== framedStride(width)) {
      this.delete();
      const framed = new cv.Mat(height + 2, framedStride(width), cv.CV_8UC1) as CvMat & {
        roi(rect: unknown): CvMat;
      };
      framed.data.fill(0);
      this.framed = framed;
      // The image's place in the frame: adaptiveThreshold writes into it in place (same size and type).
      this.roi = framed.roi(new cv.Rect(1, 1, width, height));
    }
    const p = this.params;
    const side = (this.side = Math.max(width, height));
    this.minPerimeter = Math.trunc(p.minMarkerPerimeterRate * side);
    this.maxPerimeter = Math.trunc(p.maxMarkerPerimeterRate * side);
    this.quads.length = 0;
    this.perimeters.length = 0;
    const scales =
      Math.trunc((p.adaptiveThreshWinSizeMax - p.adaptiveThreshWinSizeMin) / p.adaptiveThreshWinSizeStep) + 1;
    for (let i = 0; i < scales; i++) {
      const window = (p.adaptiveThreshWinSizeMin + i * p.adaptiveThreshWinSizeStep) | 1; // odd, as _threshold
      // Foreground 1 (not 255): the framed image is then what findContours traces after its own padding.
      cv.adaptiveThreshold(
        img,
        this.roi,
        1,
        cv.ADAPTIVE_THRESH_MEAN_C,
        cv.THRESH_BINARY_INV,
        window,
        p.adaptiveThreshConstant,
      );
      // The view is made anew each time: wasm memory growth replaces the buffer.
      const bytes = this.framed.data;
      const first = this.quads.length;
      traceContours(
        new FramedBinary(width, height, bytes.buffer, bytes.byteOffset),
        this.onContour,
        this.scratch,
      );
      reverseQuads(this.quads, this.perimeters, first);
    }
    return this.sorted();
  }

  /**
   * _findMarkerContours' tests on one contour: a convex 4-gon by approxPolyDP (epsilon = accuracy rate x
   * contour length) whose sides are all at least minCornerDistanceRate x contour length. Adds it with
   * its corners made clockwise (_reorderCandidatesCorners) and its perimeter as OpenCV sums it (floats).
   */
  private addIfSquare(points: Int32Array, n: number): void {
    const p = this.params;
    const side = this.side;
    if (this.polygon.length < 2 * n) this.polygon = new Int32Array(4 * n);
    if (this.slices.length < 2 * n + 4) this.slices = new Int32Array(4 * n + 8);
    const poly = this.polygon;
    if (approxPolyClosed(points, n, n * p.polygonalApproxAccuracyRate, poly, this.slices, 4) !== 4) return;
    if (!isConvexQuad(poly)) return;
    let minSide2 = side * side;
    for (let j = 0; j < 4; j++) {
      const k = (j + 1) % 4;
      const dx = poly[2 * j] - poly[2 * k];
      const dy = poly[2 * j + 1] - poly[2 * k + 1];
      minSide2 = Math.min(minSide2, dx * dx + dy * dy);
    }
    const minSide = n * p.minCornerDistanceRate;
    if (minSide2 < minSide * minSide) return;
    // (Integer products by Math.imul: exact here, and never -0, which would deoptimise this in V8.)
    const cross =
      Math.imul(poly[2] - poly[0], poly[5] - poly[1]) - Math.imul(poly[3] - poly[1], poly[4] - poly[0]);
    const order = cross < 0 ? [0, 3, 2, 1] : [0, 1, 2, 3];
    let perimeter = 0;
    for (let j = 0; j < 4; j++) {
      const a = order[j];
      const b = order[(j + 1) % 4];
      const dx = poly[2 * b] - poly[2 * a];
      const dy = poly[2 * b + 1] - poly[2 * a + 1];
      // MarkerCandidateTree: perimeter += sqrt(normL2Sqr<float>(...)), all in float.
      perimeter = Math.fround(perimeter + Math.fround(Math.sqrt(dx * dx + dy * dy)));
    }
    for (const c of order) this.quads.push(poly[2 * c], poly[2 * c + 1]);
    this.perimeters.push(perimeter);
  }

  /** The candidates by perimeter, largest first, stably (filterTooCloseCandidates' std::stable_sort). */
  private sorted(): Float32Array {
    const m = this.perimeters.length;
    const order = Array.from({ length: m }, (_, i) => i);
    order.sort((a, b) => this.perimeters[b] - this.perimeters[a] || a - b);
    const out = new Float32Array(8 * m);
    order.forEach((q, i) => {
      for (let k = 0; k < 8; k++) out[8 * i + k] = this.quads[8 * q + k];
    });
    return out;
  }

  delete(): void {
    this.roi?.delete();
    this.framed?.delete();
    this.roi = this.framed = null;
  }
}

/** Reverses the candidates from index `first` on (findContours lists contours last-found first). */
function reverseQuads(quads: number[], perimeters: number[], first: number): void {
  const from = first / 8;
  for (let i = from, j = perimeters.length - 1; i < j; i++, j--) {
    [perimeters[i], perimeters[j]] = [perimeters[j], perimeters[i]];
    for (let k = 0; k < 8; k++) [quads[8 * i + k], quads[8 * j + k]] = [quads[8 * j + k], quads[8 * i + k]];
  }
}

/**
 * OpenCV's isContourConvex on a 4-gon of integer points (x, y pairs): every turn the same way, none
 * straight.
 */
function isConvexQuad(q: Int32Array): boolean {
  let dx0 = q[6] - q[4];
  let dy0 = q[7] - q[5];
  let prevX = q[6];
  let prevY = q[7];
  let orientation = 0;
  for (let i = 0; i < 4; i++) {
    const dx = q[2 * i] - prevX;
    const dy = q[2 * i + 1] - prevY;
    const dxdy0 = Math.imul(dx, dy0);
    const dydx0 = Math.imul(dy, dx0);
    orientation |= dydx0 > dxdy0 ? 1 : dydx0 < dxdy0 ? 2 : 3;
    if (orientation === 3) return false;
    prevX = q[2 * i];
    prevY = q[2 * i + 1];
    dx0 = dx;
    dy0 = dy;
  }
  return true;
}

/**
 * OpenCV's approxPolyDP(closed = true) on n integer points (Ramer-Douglas-Peucker from two nearly
 * farthest points, then the clean-up of nearly straight corners), step for step so that it picks the
 * same vertices. Writes the vertices to out (x, y pairs) and returns their count; `stack` holds 2n + 4.
 * With maxVertices, returns -1 as soon as the result is sure to have more: every slice still to do gives
 * at least one vertex, and the clean-up removes at most every other one, so more than 2 maxVertices + 1
 * from the split are too many.
 */
export function approxPolyClosed(
  src: Int32Array,
  count: number,
  epsilon: number,
  out: Int32Array,
  stack: Int32Array,
  maxVertices = Infinity,
): number {
  if (count === 0) return 0;
  const eps = epsilon * epsilon;
  let top = 0;
  let nOut = 0;
  // 1. Two approximately farthest points (3 rounds of "the farthest from the last one").
  let pos = 0;
  let farOffset = 0;
  let leEps = false;
  let sx = 0;
  let sy = 0;
  for (let round = 0; round < 3; round++) {
    let maxDist = 0;
    pos = (pos + farOffset) % count;
    sx = src[2 * pos];
    sy = src[2 * pos + 1];
    // Point j (1 .. count - 1) of the round is (pos + j) mod count: two runs, without a wrap test.
    for (let i = pos + 1, j = 1; i < count; i++, j++) {
      const dx = src[2 * i] - sx;
      const dy = src[2 * i + 1] - sy;
      const dist = dx * dx + dy * dy;
      if (dist > maxDist) {
        maxDist = dist;
        farOffset = j;
      }
    }
    for (let i = 0, j = count - pos; i < pos; i++, j++) {
      const dx = src[2 * i] - sx;
      const dy = src[2 * i + 1] - sy;
      const dist = dx * dx + dy * dy;
      if (dist > maxDist) {
        maxDist = dist;
        farOffset = j;
      }
    }
    leEps = maxDist <= eps;
  }
  if (leEps) {
    out[nOut++] = sx;
    out[nOut++] = sy;
  } else {
    const start = pos % count;
    const far = (farOffset + start) % count;
    stack[top++] = far; // right slice: far .. start
    stack[top++] = start;
    stack[top++] = start; // slice: start .. far
    stack[top++] = far;
  }
  // 2. Split every slice at its farthest point until all lie within epsilon of their chord.
  let rightStart = 0;
  while (top > 0) {
    const end = stack[--top];
    const begin = stack[--top];
    const ex = src[2 * end];
    const ey = src[2 * end + 1];
    pos = begin;
    sx = src[2 * pos];
    sy = src[2 * pos + 1];
    pos = pos + 1 < count ? pos + 1 : 0;
    if (pos !== end) {
      const dx = ex - sx;
      const dy = ey - sy;
      const segment2 = dx * dx + dy * dy;
      let maxDist = 0;
      while (pos !== end) {
        const px = src[2 * pos];
        const py = src[2 * pos + 1];
        pos = pos + 1 < count ? pos + 1 : 0;
        // Squared distance to the segment (not the line), times its squared length.
        const projection = (px - sx) * dx + (py - sy) * dy;
        let dist: number;
        if (projection < 0) dist = ((px - sx) * (px - sx) + (py - sy) * (py - sy)) * segment2;
        else if (projection > segment2) dist = ((px - ex) * (px - ex) + (py - ey) * (py - ey)) * segment2;
        else {
          const d = (py - sy) * dx - (px - sx) * dy;
          dist = d * d;
        }
        if (dist > maxDist) {
          maxDist = dist;
          rightStart = (pos + count - 1) % count;
        }
      }
      leEps = maxDist <= eps * segment2;
    } else {
      leEps = true;
    }
    if (leEps) {
      out[nOut++] = sx;
      out[nOut++] = sy;
    } else {
      stack[top++] = rightStart;
      stack[top++] = end;
      stack[top++] = begin;
      stack[top++] = rightStart;
    }
    // Each slice left gives at least one more vertex.
    if (nOut + top > 2 * (2 * maxVertices + 1)) return -1;
  }
  // 3. Drop vertices on nearly straight (not axis-parallel) runs, going round once from the last.
  const n = nOut / 2;
  let kept = n;
  pos = n - 1;
  sx = out[2 * pos];
  sy = out[2 * pos + 1];
  pos = pos + 1 < n ? pos + 1 : 0;
  let wpos = pos;
  let px = out[2 * pos];
  let py = out[2 * pos + 1];
  pos = pos + 1 < n ? pos + 1 : 0;
  for (let i = 0; i < n && kept > 2; i++) {
    const ex = out[2 * pos];
    const ey = out[2 * pos + 1];
    pos = pos + 1 < n ? pos + 1 : 0;
    const dx = ex - sx;
    const dy = ey - sy;
    const dist = Math.abs((px - sx) * dy - (py - sy) * dx);
    const inner = (px - sx) * (ex - px) + (py - sy) * (ey - py);
    if (dist * dist <= 0.5 * eps * (dx * dx + dy * dy) && dx !== 0 && dy !== 0 && inner >= 0) {
      kept--;
      out[2 * wpos] = sx = ex;
      out[2 * wpos + 1] = sy = ey;
      wpos = wpos + 1 < n ? wpos + 1 : 0;
      px = out[2 * pos];
      py = out[2 * pos + 1];
      pos = pos + 1 < n ? pos + 1 : 0;
      i++;
      continue;
    }
    out[2 * wpos] = sx = px;
    out[2 * wpos + 1] = sy = py;
    wpos = wpos + 1 < n ? wpos + 1 : 0;
    px = ex;
    py = ey;
  }
  return kept;
}
