/**
 * OpenCV's findContours(RETR_LIST, CHAIN_APPROX_NONE) in JavaScript, point for point (checked against
 * OpenCV in test/unit/charuco-detect.test.ts), on a binary image that OpenCV's adaptiveThreshold wrote
 * straight into wasm memory. opencv-js hands every contour to JavaScript as a Mat (~800 per foot frame,
 * most of them a few pixels of noise); tracing them here and keeping only the points is ~3x faster.
 */

/**
 * A binary image inside a frame of zeros, in existing memory (an OpenCV CV_8UC1 Mat of height + 2 rows of
 * `stride` bytes): pixel (x, y) is data[(y + 1) * stride + x + 1], 1 for foreground. OpenCV pads by one
 * pixel before tracing; here rows are padded on the right to whole 32-bit words, so the scan can skip 4
 * equal pixels at a time. Tracing marks border pixels (2, or -126 where the border turns right), so the
 * image must be thresholded anew before each trace.
 */
export class FramedBinary {
  readonly stride: number;
  readonly data: Int8Array;
  readonly words: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    buffer: ArrayBufferLike,
    byteOffset: number,
  ) {
    this.stride = framedStride(width);
    const bytes = this.stride * (height + 2);
    if (byteOffset % 4 !== 0) throw new Error(`FramedBinary: byteOffset ${byteOffset} is not word-aligned`);
    this.data = new Int8Array(buffer, byteOffset, bytes);
    this.words = new Int32Array(buffer, byteOffset, bytes / 4);
  }
}

/** Row length of a FramedBinary of this width: the image, a zero on the left, at least one on the right. */
export function framedStride(width: number): number {
  return (width + 2 + 3) & ~3;
}

/** Chain-code steps 0..7 (x right, y down): E, NE, N, NW, W, SW, S, SE. */
const STEP_X = new Int32Array([1, 1, 0, -1, -1, -1, 0, 1]);
const STEP_Y = new Int32Array([0, -1, -1, -1, 0, 1, 1, 1]);
const VISITED = 2; // OpenCV's MASK8_NEW
const RIGHT_EDGE = -126; // (MASK8_NEW | MASK8_RIGHT) as a signed char

/** Reusable point buffer of traceContours (grows as needed). */
export interface ContourScratch {
  points: Int32Array;
}

/**
 * Every border of `img` (outer borders and holes alike, RETR_LIST) by Suzuki-Abe border following as
 * OpenCV 5 does it (contours_new.cpp), each as all its pixels (CHAIN_APPROX_NONE): onContour(points, n)
 * gets x0, y0, x1, y1, ... (image coordinates) in scratch memory valid during the call. Contours come in
 * raster order of their starting pixels; findContours lists the same contours in the reverse order.
 */
export function traceContours(
  img: FramedBinary,
  onContour: (points: Int32Array, n: number) => void,
  scratch: ContourScratch,
): void {
  const { stride, data, words } = img;
  // Index steps for directions 0..15 (the neighbour search wraps around once).
  const step = new Int32Array(16);
  for (let s = 0; s < 16; s++) step[s] = STEP_X[s & 7] + STEP_Y[s & 7] * stride;
  const last = img.width; // the last image column; the frame is at 0 and past it (always 0)
  const rowWords = stride >> 2;
  for (let y = 1; y <= img.height; y++) {
    const row = y * stride;
    let prev = 0;
    let run = 0; // 4 pixels of value prev
    for (let w = row >> 2, wEnd = w + rowWords; w < wEnd; w++) {
      // Bytes equal to the previous pixel hold no border start: go from one differing byte to the next.
      let diff = words[w] ^ run;
      while (diff !== 0) {
        const b = (31 - Math.clz32(diff & -diff)) >> 3;
        const x = 4 * w - row + b;
        if (x > last) break; // the frame after the row
        const p = data[row + x];
        let n = -1;
        if (prev === 0 && p === 1) n = follow(data, step, row + x, x, y, false, scratch);
        else if (p === 0 && prev >= 1) n = follow(data, step, row + x - 1, x - 1, y, true, scratch);
        if (n >= 0) onContour(scratch.points, n);
        prev = data[row + x]; // after a trace, the start pixel is marked: the scan goes on from there
        run = Math.imul(prev & 0xff, 0x01010101);
        // The rest of the word, read again (the trace may have marked it).
        diff = b === 3 ? 0 : (words[w] ^ run) & (-1 << (8 * b + 8));
      }
    }
  }
}

/**
 * One border from pixel i0 = (x, y) of the framed image, an outer border or a hole (icvFetchContourEx):
 * marks its pixels and writes its points (image coordinates) to scratch.points; returns their count.
 */
function follow(
  data: Int8Array,
  step: Int32Array,
  i0: number,
  x: number,
  y: number,
  isHole: boolean,
  scratch: ContourScratch,
): number {
  let pts = scratch.points;
  let n = 0;
  let px = x - 1;
  let py = y - 1;
  let sEnd = isHole ? 0 : 4;
  let s = sEnd;
  let i1: number;
  // The first neighbour clockwise from the background side; none: a lone pixel.
  do {
    s = (s - 1) & 7;
    i1 = i0 + step[s];
  } while (data[i1] === 0 && s !== sEnd);
  if (s === sEnd) {
    data[i0] = RIGHT_EDGE;
    pts[0] = px;
    pts[1] = py;
    return 1;
  }
  let i3 = i0;
  for (;;) {
    // Next border pixel: counter-clockwise from the direction back to the previous one.
    sEnd = s;
    let i4: number;
    do {
      ++s;
      i4 = i3 + step[s];
    } while (data[i4] === 0);
    s &= 7;
    if ((s - 1) >>> 0 < sEnd) data[i3] = RIGHT_EDGE;
    else if (data[i3] === 1) data[i3] = VISITED;
    if (2 * n + 2 > pts.length) {
      const grown = new Int32Array(pts.length * 2);
      grown.set(pts);
      pts = scratch.points = grown;
    }
    pts[2 * n] = px;
    pts[2 * n + 1] = py;
    n++;
    px += STEP_X[s];
    py += STEP_Y[s];
    if (i4 === i0 && i3 === i1) break;
    i3 = i4;
    s = (s + 4) & 7;
  }
  return n;
}
