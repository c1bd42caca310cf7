/**
 * Segment layout of a batch: which frame belongs to which segment, as the indices, masks and positions
 * the networks read. Built once per batch in plain JS, so tfjs and ONNX Runtime are fed the same arrays.
 * B windows, T frames (elements: frames in stage 1, atoms in stage 2), S segment slots, L frame slots per
 * segment (the longest segment of the batch).
 *
 * The encoder works on the frames *packed by segment*: slot (b, s, j) holds the j-th frame (in time
 * order) of segment s of window b. Attention restricted to a segment is then attention within a row of
 * L slots (O(S L^2) instead of O(T^2) with a block mask), and the max-pool is a max over L.
 * Masks are additive (0 = attend, MASK_NEG = blocked), added to attention logits before the softmax and
 * to the slot embeddings before the max-pool.
 */
import * as tf from '@tensorflow/tfjs';

/** Additive mask value. Logits are O(10), so exp(logit + MASK_NEG - max) underflows to exactly 0. */
export const MASK_NEG = -1e9;

export interface SegmentLayout {
  batch: number;
  frames: number;
  segments: number;
  /** L: frame slots per segment = the longest segment (>= 1) */
  slots: number;
  /** [B*T] segment index of each frame, -1 = padding */
  segmentOf: Int32Array;
  /** [B*T] 1 for a real frame, 0 for padding (segmentOf = -1) */
  frameValid: Float32Array;
  /** [B*S] 1 when the segment slot holds at least one frame */
  segmentValid: Float32Array;
  /** [B*S] frames per segment (0 for an empty slot) */
  segmentLength: Int32Array;
  /**
   * [B*T] time of each frame since its segment's first frame (0 for padding): the encoder's position
   * encoding. Relative, so a segment's token describes its motion wherever it falls in the window (the
   * same motion early or late gets the same token, hence the same k-means code); the segment's place
   * in the window reaches the LatentFormer through segmentPos.
   */
  framePos: Float32Array;
  /** [B*S] time of each segment in frames (default: midpoint of its first and last frame times; 0 if empty) */
  segmentPos: Float32Array;
  /** [B*S] 0 for a valid segment slot, MASK_NEG for an empty one: LatentFormer / predictor keys */
  segmentKeyMask: Float32Array;
  /** [B*S*L] row b*T + t of the flattened inputs [B*T, D] held by each slot; B*T (a zero row) when empty */
  packIndex: Int32Array;
  /** [B*T] the slot b*S*L + s*L + j holding each frame; B*S*L (a zero row) for padding frames */
  unpackIndex: Int32Array;
  /** [B*S*L] 1 for a slot holding a frame */
  slotValid: Float32Array;
  /** [B*S*L] 0 for a slot holding a frame, MASK_NEG for an empty slot */
  slotKeyMask: Float32Array;
  /** [B*S*L] framePos of the slot's frame (time since its segment's start), 0 when empty */
  slotPos: Float32Array;
}

export interface LayoutOptions {
  /** segment slots S (default: 1 + the largest index in the batch) */
  segments?: number;
  /** [B*T] absolute frame times (default: the index t; stage 2: atom centre times in frames) */
  framePos?: Float32Array;
  /** [B*S] segment times, overriding the midpoint of the member frames */
  segmentPos?: Float32Array;
}

function fail(problem: string): never {
  throw new Error(`buildSegmentLayout: ${problem}`);
}

/**
 * The layout of a batch from its per-frame segment assignment `segmentOf` ([B*T], -1 = padding).
 * Segments need not be contiguous in time; an index with no frame is an empty (padding) slot.
 */
export function buildSegmentLayout(
  segmentOf: Int32Array,
  batch: number,
  frames: number,
  options: LayoutOptions = {},
): SegmentLayout {
  if (!Number.isInteger(batch) || batch < 1) fail(`batch must be an integer >= 1, got ${batch}`);
  if (!Number.isInteger(frames) || frames < 1) fail(`frames must be an integer >= 1, got ${frames}`);
  if (segmentOf.length !== batch * frames)
    fail(`segmentOf has ${segmentOf.length} entries, B*T = ${batch * frames}`);
  let maxIndex = -1;
  for (let i = 0; i < segmentOf.length; i++) {
    const s = segmentOf[i];
    if (!Number.isInteger(s) || s < -1)
      fail(`segmentOf[${i}] = ${s}: a segment index must be >= 0, or -1 for padding`);
    if (s > maxIndex) maxIndex = s;
  }
  const S = options.segments ?? Math.max(1, maxIndex + 1);
  if (!Number.isInteger(S) || S < 1) fail(`segments must be an integer >= 1, got ${S}`);
  if (maxIndex >= S) fail(`segment index ${maxIndex} does not fit ${S} segment slots`);
  const B = batch;
  const T = frames;
  const time = options.framePos ?? new Float32Array(B * T).map((_, i) => i % T);
  if (time.length !== B * T) fail(`framePos has ${time.length} entries, B*T = ${B * T}`);
  for (let i = 0; i < time.length; i++) if (!Number.isFinite(time[i])) fail(`framePos[${i}] is not finite`);
  if (options.segmentPos && options.segmentPos.length !== B * S) {
    fail(`segmentPos has ${options.segmentPos.length} entries, B*S = ${B * S}`);
  }

  const frameValid = new Float32Array(B * T);
  const segmentLength = new Int32Array(B * S);
  for (let i = 0; i < B * T; i++) {
    const s = segmentOf[i];
    if (s < 0) continue;
    frameValid[i] = 1;
    segmentLength[Math.floor(i / T) * S + s]++;
  }
  const L = Math.max(1, ...segmentLength);

  // Pack: frames of each segment in time order into its L slots.
  const packIndex = new Int32Array(B * S * L).fill(B * T);
  const unpackIndex = new Int32Array(B * T).fill(B * S * L);
  const slotValid = new Float32Array(B * S * L);
  const slotKeyMask = new Float32Array(B * S * L).fill(MASK_NEG);
  const slotPos = new Float32Array(B * S * L);
  const filled = new Int32Array(B * S);
  const first = new Float64Array(B * S).fill(Infinity);
  const last = new Float64Array(B * S).fill(-Infinity);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = segmentOf[b * T + t];
      if (s < 0) continue;
      const k = b * S + s;
      const slot = k * L + filled[k]++;
      packIndex[slot] = b * T + t;
      unpackIndex[b * T + t] = slot;
      slotValid[slot] = 1;
      slotKeyMask[slot] = 0;
      const p = time[b * T + t];
      first[k] = Math.min(first[k], p);
      last[k] = Math.max(last[k], p);
    }
  }
  // Encoder positions: relative to the segment's first frame (see SegmentLayout.framePos).
  const framePos = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    if (segmentOf[i] < 0) continue;
    framePos[i] = time[i] - first[Math.floor(i / T) * S + segmentOf[i]];
    slotPos[unpackIndex[i]] = framePos[i];
  }
  const segmentValid = new Float32Array(B * S);
  const segmentPos = new Float32Array(B * S);
  const segmentKeyMask = new Float32Array(B * S).fill(MASK_NEG);
  for (let k = 0; k < B * S; k++) {
    if (segmentLength[k] === 0) continue;
    segmentValid[k] = 1;
    segmentKeyMask[k] = 0;
    segmentPos[k] = options.segmentPos ? options.segmentPos[k] : 0.5 * (first[k] + last[k]);
  }
  return {
    batch: B,
    frames: T,
    segments: S,
    slots: L,
    segmentOf,
    frameValid,
    segmentValid,
    segmentLength,
    framePos,
    segmentPos,
    segmentKeyMask,
    packIndex,
    unpackIndex,
    slotValid,
    slotKeyMask,
    slotPos,
  };
}

/**
 * The layout as tensors, in the shapes the networks (and the ONNX graph inputs) use. M = B*S.
 * packIndex int32 [B*S*L], unpackIndex int32 [B*T] (gradient only), slotPos [M, L], slotValid [M, L, 1],
 * slotKeyMask [M, L], segmentPos [B, S], segmentValid [B, S, 1], segmentKeyMask [B, S].
 */
export interface LayoutTensors {
  batch: number;
  frames: number;
  segments: number;
  slots: number;
  packIndex: tf.Tensor1D;
  unpackIndex: tf.Tensor1D;
  slotPos: tf.Tensor2D;
  slotValid: tf.Tensor3D;
  slotKeyMask: tf.Tensor2D;
  segmentPos: tf.Tensor2D;
  segmentValid: tf.Tensor3D;
  segmentKeyMask: tf.Tensor2D;
}

export function layoutTensors(l: SegmentLayout): LayoutTensors {
  const { batch: B, frames: T, segments: S, slots: L } = l;
  return {
    batch: B,
    frames: T,
    segments: S,
    slots: L,
    packIndex: tf.tensor1d(l.packIndex, 'int32'),
    unpackIndex: tf.tensor1d(l.unpackIndex, 'int32'),
    slotPos: tf.tensor2d(l.slotPos, [B * S, L]),
    slotValid: tf.tensor3d(l.slotValid, [B * S, L, 1]),
    slotKeyMask: tf.tensor2d(l.slotKeyMask, [B * S, L]),
    segmentPos: tf.tensor2d(l.segmentPos, [B, S]),
    segmentValid: tf.tensor3d(l.segmentValid, [B, S, 1]),
    segmentKeyMask: tf.tensor2d(l.segmentKeyMask, [B, S]),
  };
}

export function disposeLayoutTensors(lt: LayoutTensors): void {
  tf.dispose([
    lt.packIndex,
    lt.unpackIndex,
    lt.slotPos,
    lt.slotValid,
    lt.slotKeyMask,
    lt.segmentPos,
    lt.segmentValid,
    lt.segmentKeyMask,
  ]);
}

/** [B*S] additive key mask letting through only valid segments with keep[k] = 1 (e.g. the visible ones). */
export function keyMaskOf(l: SegmentLayout, keep: Float32Array): Float32Array {
  if (keep.length !== l.batch * l.segments) {
    throw new Error(`keyMaskOf: keep has ${keep.length} entries, B*S = ${l.batch * l.segments}`);
  }
  return l.segmentValid.map((v, k) => (v > 0 && keep[k] > 0 ? 0 : MASK_NEG));
}
