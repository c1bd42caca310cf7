import type { GrayImage, OpenCv } from './opencv';

/**
 * ArUco marker identification in JavaScript, step for step as OpenCV 5's aruco_detector.cpp does it
 * (_extractCellPixelRatio, _getBorderErrors, Dictionary::identify, correctCornerPosition).
 *
 * Why not OpenCV's own: in the opencv-js build (no SIMD, Mat headers per comparison) identifying one
 * candidate costs ~1.5 µs per dictionary code and rotation, and every candidate that is not a marker
 * (chessboard squares, inner contours) walks the whole dictionary: 90-190 ms per 640x480 frame with
 * DICT_4X4_250 / DICT_6X6_250. Here a candidate costs ~15 µs, whatever the dictionary: the square
 * candidates come from square-candidates.ts and the codes are matched here, against any number of
 * dictionaries at once.
 */

/** The DetectorParameters that identification reads (OpenCV's defaults in DEFAULT_IDENTIFY). */
export interface IdentifyParams {
  perspectiveRemovePixelPerCell: number;
  perspectiveRemoveIgnoredMarginPerCell: number;
  minOtsuStdDev: number;
  validBitIdThreshold: number;
  maxErroneousBitsInBorderRate: number;
  errorCorrectionRate: number;
  markerBorderBits: number;
}

export const DEFAULT_IDENTIFY: IdentifyParams = {
  perspectiveRemovePixelPerCell: 4,
  perspectiveRemoveIgnoredMarginPerCell: 0.13,
  minOtsuStdDev: 5,
  validBitIdThreshold: 0.49,
  maxErroneousBitsInBorderRate: 0.35,
  errorCorrectionRate: 0.6,
  markerBorderBits: 1,
};

/** A dictionary's codes in the four rotations OpenCV stores, as two 32-bit words per code. */
export interface MarkerCodebook {
  name: string;
  markerSize: number;
  count: number;
  /** OpenCV's maxCorrectionRecalculed = int(maxCorrectionBits * errorCorrectionRate). */
  maxErrors: number;
  /** Word w of rotation r of marker m at ((m * 4 + r) * 2 + w); bit k of the code = cell k (row-major). */
  codes: Int32Array;
  /** Exact code (lo + hi * 2^32) -> m * 4 + r, first (lowest m, then r) wins as in identify(). */
  exact: Map<number, number>;
}

const books = new Map<string, MarkerCodebook>();

/**
 * The codebook of a predefined dictionary. OpenCV's bytesList holds per marker 4 rotations x nbytes,
 * each the cells row-major, most significant bit first, the last byte holding the remaining bits in its
 * low bits (Dictionary::getByteListFromBits).
 */
export function markerCodebook(cv: OpenCv, name: string, errorCorrectionRate = 0.6): MarkerCodebook {
  const key = `${name}:${errorCorrectionRate}`;
  const cached = books.get(key);
  if (cached) return cached;
  const id = cv[name] as number | undefined;
  if (typeof id !== 'number') throw new Error(`markerCodebook: unknown dictionary ${JSON.stringify(name)}`);
  const dict = cv.getPredefinedDictionary(id);
  try {
    const n = dict.markerSize;
    const cells = n * n;
    if (cells > 64) throw new Error(`markerCodebook(${name}): ${n}x${n} markers exceed 64 bits`);
    const nbytes = Math.ceil(cells / 8);
    const bytes = dict.bytesList.data;
    const count = dict.bytesList.rows;
    if (bytes.length !== count * 4 * nbytes) {
      throw new Error(
        `markerCodebook(${name}): bytesList has ${bytes.length} bytes, expected ${count}x4x${nbytes}`,
      );
    }
    const codes = new Int32Array(count * 8);
    const exact = new Map<number, number>();
    for (let m = 0; m < count; m++) {
      for (let r = 0; r < 4; r++) {
        const at = (m * 4 + r) * nbytes;
        let lo = 0;
        let hi = 0;
        for (let k = 0; k < cells; k++) {
          const byte = k >> 3;
          const inByte = Math.min(8, cells - 8 * byte);
          const bit = (bytes[at + byte] >> (inByte - 1 - (k & 7))) & 1;
          if (bit) {
            if (k < 32) lo |= 1 << k;
            else hi |= 1 << (k - 32);
          }
        }
        codes[(m * 4 + r) * 2] = lo;
        codes[(m * 4 + r) * 2 + 1] = hi;
        const exactKey = (lo >>> 0) + hi * 4294967296;
        if (!exact.has(exactKey)) exact.set(exactKey, m * 4 + r);
      }
    }
    const book: MarkerCodebook = {
      name,
      markerSize: n,
      count,
      maxErrors: Math.trunc(dict.maxCorrectionBits * errorCorrectionRate),
      codes,
      exact,
    };
    books.set(key, book);
    return book;
  } finally {
    dict.delete();
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Samples one candidate quad into marker cells, with scratch buffers reused for every candidate of one
 * marker size. After sample(): borderErrors, and the inner cells as bit masks not0 (white ratio above
 * validBitIdThreshold) and not1 (below 1 - validBitIdThreshold), two words each.
 */
export class MarkerSampler {
  readonly side: number;
  readonly not0 = new Int32Array(2);
  readonly not1 = new Int32Array(2);
  borderErrors = 0;
  private readonly warped: Uint8Array;
  private readonly hist = new Int32Array(256);
  private readonly ratio: Float32Array;
  private readonly H = new Float64Array(8);

  constructor(
    readonly markerSize: number,
    readonly params: IdentifyParams = DEFAULT_IDENTIFY,
  ) {
    const cells = markerSize + 2 * params.markerBorderBits;
    this.side = cells * params.perspectiveRemovePixelPerCell;
    this.warped = new Uint8Array(this.side * this.side);
    this.ratio = new Float32Array(cells * cells);
  }

  /** Samples the quad quads[8q .. 8q+7] (4 corners, clockwise) of gray. */
  sample(gray: GrayImage, quads: ArrayLike<number>, q: number): void {
    const { side, warped, hist, ratio, H, params } = this;
    const { width, height, data } = gray;
    squareToQuad(quads, 8 * q, side - 1, H);
    // warpPerspective(..., INTER_NEAREST, BORDER_CONSTANT 0): each output pixel takes the input pixel
    // nearest to its preimage.
    hist.fill(0);
    const h0x = H[0];
    const h0y = H[1];
    const h0c = H[2];
    const h1x = H[3];
    const h1y = H[4];
    const h1c = H[5];
    const h2x = H[6];
    const h2y = H[7];
    let p = 0;
    for (let y = 0; y < side; y++) {
      // The same sums as (H0 x + H1 y) + H2 with H1 y taken once per row.
      const uy = h0y * y;
      const vy = h1y * y;
      const wy = h2y * y;
      for (let x = 0; x < side; x++, p++) {
        const w = 1 / (h2x * x + wy + 1);
        const u = Math.round((h0x * x + uy + h0c) * w);
        const v = Math.round((h1x * x + vy + h1c) * w);
        const g = u >= 0 && v >= 0 && u < width && v < height ? data[v * width + u] : 0;
        warped[p] = g;
        hist[g]++;
      }
    }
    const ppc = params.perspectiveRemovePixelPerCell;
    const cells = this.markerSize + 2 * params.markerBorderBits;
    // Mean and standard deviation of the inner region (half a cell in from the edge).
    const h0 = ppc >> 1;
    let sum = 0;
    let sum2 = 0;
    for (let y = h0; y < side - h0; y++) {
      for (let x = h0; x < side - h0; x++) {
        const g = warped[y * side + x];
        sum += g;
        sum2 += g * g;
      }
    }
    const nInner = (side - 2 * h0) * (side - 2 * h0);
    const mean = sum / nInner;
    const sd = Math.sqrt(Math.max(0, sum2 / nInner - mean * mean));
    if (sd < params.minOtsuStdDev) {
      ratio.fill(mean > 127 ? 1 : 0);
    } else {
      const t = otsuThreshold(hist, side * side);
      const margin = Math.trunc(params.perspectiveRemoveIgnoredMarginPerCell * ppc);
      const inCell = ppc - 2 * margin;
      for (let cy = 0; cy < cells; cy++) {
        for (let cx = 0; cx < cells; cx++) {
          let white = 0;
          for (let y = cy * ppc + margin; y < cy * ppc + margin + inCell; y++) {
            for (let x = cx * ppc + margin; x < cx * ppc + margin + inCell; x++) {
              if (warped[y * side + x] > t) white++;
            }
          }
          ratio[cy * cells + cx] = white / (inCell * inCell);
        }
      }
    }
    // Border cells should be black; inner cells become the two masks.
    const b = params.markerBorderBits;
    const t1 = params.validBitIdThreshold;
    const t0 = 1 - t1;
    this.borderErrors = 0;
    this.not0[0] = this.not0[1] = this.not1[0] = this.not1[1] = 0;
    for (let cy = 0; cy < cells; cy++) {
      for (let cx = 0; cx < cells; cx++) {
        const r = ratio[cy * cells + cx];
        if (cy < b || cx < b || cy >= cells - b || cx >= cells - b) {
          if (r > t1) this.borderErrors++;
          continue;
        }
        const k = (cy - b) * this.markerSize + (cx - b);
        const w = k >> 5;
        const bit = 1 << (k & 31);
        if (r > t1) this.not0[w] |= bit;
        if (r < t0) this.not1[w] |= bit;
      }
    }
  }

  /**
   * The marker the last sample() shows in `book`, as id * 4 + rotation, or -1. Like Dictionary::identify:
   * the first id (then rotation) within maxErrors, where a cell is an error when it is not clearly the
   * code's colour.
   */
  identify(book: MarkerCodebook): number {
    if (book.markerSize !== this.markerSize) {
      throw new Error(`identify: ${book.name} has ${book.markerSize}-bit sides, sampled ${this.markerSize}`);
    }
    const maxBorder = Math.trunc(
      this.markerSize * this.markerSize * this.params.maxErroneousBitsInBorderRate,
    );
    if (this.borderErrors > maxBorder) return -1;
    const [a0, a1] = this.not0;
    const [b0, b1] = this.not1;
    if (book.maxErrors === 0) {
      // Only an exact code matches: every cell must be clear (not both masks) and the code = not0.
      if ((a0 & b0) !== 0 || (a1 & b1) !== 0) return -1;
      return book.exact.get((a0 >>> 0) + a1 * 4294967296) ?? -1;
    }
    const codes = book.codes;
    for (let i = 0; i < codes.length; i += 2) {
      const c0 = codes[i];
      const c1 = codes[i + 1];
      const errors = popcount((a0 & ~c0) | (b0 & c0)) + popcount((a1 & ~c1) | (b1 & c1));
      if (errors <= book.maxErrors) {
        // Marker m is the first within the limit; its rotation is the first with the fewest errors
        // (hammingDistanceToId).
        const m = i >> 3;
        let best = -1;
        let bestErrors = 65;
        for (let r = 0; r < 4; r++) {
          const j = (m * 4 + r) * 2;
          const e =
            popcount((a0 & ~codes[j]) | (b0 & codes[j])) +
            popcount((a1 & ~codes[j + 1]) | (b1 & codes[j + 1]));
          if (e < bestErrors) {
            bestErrors = e;
            best = r;
          }
        }
        return m * 4 + best;
      }
    }
    return -1;
  }
}

/**
 * OpenCV's correctCornerPosition: rotates the quad quads[8q..] by `rotation` (std::rotate by 4 - r) into
 * out[8o..], so that corner 0 is the marker's top-left.
 */
export function rotateQuad(
  quads: ArrayLike<number>,
  q: number,
  rotation: number,
  out: Float32Array,
  o: number,
): void {
  for (let i = 0; i < 4; i++) {
    const src = (i + 4 - rotation) % 4;
    out[8 * o + 2 * i] = quads[8 * q + 2 * src];
    out[8 * o + 2 * i + 1] = quads[8 * q + 2 * src + 1];
  }
}

/**
 * The projective map (Heckbert's square-to-quad) taking (0,0), (s,0), (s,s), (0,s) to the quad's corners
 * 0..3 (what warpPerspective inverts from getPerspectiveTransform(corners, square)). H = [a b c; d e f; g h 1].
 */
function squareToQuad(p: ArrayLike<number>, at: number, s: number, H: Float64Array): void {
  const [x0, y0, x1, y1, x2, y2, x3, y3] = [
    p[at],
    p[at + 1],
    p[at + 2],
    p[at + 3],
    p[at + 4],
    p[at + 5],
    p[at + 6],
    p[at + 7],
  ];
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  let g = 0;
  let h = 0;
  if (sx !== 0 || sy !== 0) {
    const dx1 = x1 - x2;
    const dx2 = x3 - x2;
    const dy1 = y1 - y2;
    const dy2 = y3 - y2;
    const den = dx1 * dy2 - dx2 * dy1;
    g = (sx * dy2 - dx2 * sy) / den;
    h = (dx1 * sy - sx * dy1) / den;
  }
  // Unit square first, then scale the input coordinates by 1/s.
  H[0] = (x1 - x0 + g * x1) / s;
  H[1] = (x3 - x0 + h * x3) / s;
  H[2] = x0;
  H[3] = (y1 - y0 + g * y1) / s;
  H[4] = (y3 - y0 + h * y3) / s;
  H[5] = y0;
  H[6] = g / s;
  H[7] = h / s;
}

/** OpenCV's getThreshVal_Otsu_8u over a 256-bin histogram of n pixels. */
function otsuThreshold(hist: Int32Array, n: number): number {
  // Empty bins before the first and after the last grey level change nothing (q1 is 0 or 1 there).
  let first = 0;
  while (first < 255 && hist[first] === 0) first++;
  let last = 255;
  while (last > first && hist[last] === 0) last--;
  const scale = 1 / n;
  let mu = 0;
  for (let i = first; i <= last; i++) mu += i * hist[i];
  mu *= scale;
  let mu1 = 0;
  let q1 = 0;
  let maxSigma = 0;
  let maxVal = 0;
  const eps = 1.1920928955078125e-7; // FLT_EPSILON
  for (let i = first; i <= last; i++) {
    const pi = hist[i] * scale;
    mu1 *= q1;
    q1 += pi;
    const q2 = 1 - q1;
    if (Math.min(q1, q2) < eps || Math.max(q1, q2) > 1 - eps) continue;
    mu1 = (mu1 + i * pi) / q1;
    const mu2 = (mu - q1 * mu1) / q2;
    const sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > maxSigma) {
      maxSigma = sigma;
      maxVal = i;
    }
  }
  return maxVal;
}
