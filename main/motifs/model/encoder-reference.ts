/**
 * The encoder written the textbook way, as the ONNX exporter (main/motifs/onnx/layers.ts) builds it: frames
 * stay in [B, T] order, the segment structure is an assignment matrix A [B, S, T] (A[b,k,t] = 1 when frame t
 * belongs to segment k), intra-segment self-attention uses the block mask A^T A [B, T, T], the token's
 * cross-attention uses A as its key mask, and the max-pool is a Where + ReduceMax over [B, S, T, d].
 * It computes the same function as encoder.ts (which packs frames by segment for speed, O(S L^2) instead
 * of O(T^2)); the unit test holds them to 1e-5. Inference only (its max-pool gradient is slow on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import {
  crossAttentionBlock,
  dense,
  layerNorm,
  positionEncoding,
  selfAttentionBlock,
  type WeightSource,
} from './blocks';
import type { StageConfig } from './config';
import { latentForward } from './latentformer';
import { MASK_NEG, type SegmentLayout } from './layout';

/** A [B*S*T] (row-major [B, S, T]) from the layout: 1 where segmentOf[b, t] = k. */
export function assignmentMatrix(l: SegmentLayout): Float32Array {
  const { batch: B, frames: T, segments: S } = l;
  const a = new Float32Array(B * S * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = l.segmentOf[b * T + t];
      if (s >= 0) a[(b * S + s) * T + t] = 1;
    }
  }
  return a;
}

/** (allowed - 1) * 1e9: exactly 0 where allowed, MASK_NEG where not. */
const additive = (allowed: tf.Tensor): tf.Tensor => tf.mul(tf.sub(allowed, 1), -MASK_NEG);

/** Segment tokens [B, S, d] of x [B, T, D]; framePos [B, T], assignment [B, S, T], segmentValid [B, S, 1]. */
export function encodeSegmentsReference(
  w: WeightSource,
  c: StageConfig,
  x: tf.Tensor3D,
  framePos: tf.Tensor2D,
  assignment: tf.Tensor3D,
  segmentValid: tf.Tensor3D,
): tf.Tensor3D {
  return tf.tidy(() => {
    const frameValid = tf.expandDims(tf.sum(assignment, 1), 2); // [B, T, 1]: a frame is in at most one segment
    const h0 = tf.mul(
      tf.add(dense(x, w, 'enc.frame_proj'), positionEncoding(framePos, c.dModel, c.posBase)),
      frameValid,
    );
    const member = tf.greater(tf.expandDims(assignment, 3), 0.5); // [B, S, T, 1]
    const candidates = tf.where(member, tf.expandDims(h0, 1), tf.scalar(MASK_NEG)); // [B, S, T, d]
    let z: tf.Tensor = tf.mul(tf.max(candidates, 2), segmentValid); // [B, S, d]
    const selfMask = tf.expandDims(additive(tf.matMul(assignment, assignment, true, false)), 1); // [B,1,T,T]
    const crossMask = tf.expandDims(additive(assignment), 1); // [B, 1, S, T]
    let h: tf.Tensor = h0;
    for (let i = 0; i < c.encoderLayers; i++) {
      h = selfAttentionBlock(h, selfMask, w, `enc.layers.${i}.self`, c.heads, c.lnEps);
      z = crossAttentionBlock(z, h, crossMask, w, `enc.layers.${i}.cross`, c.heads, c.lnEps);
    }
    return tf.mul(layerNorm(z, w, 'enc.ln_out', c.lnEps), segmentValid) as tf.Tensor3D;
  });
}

/** Encoder (reference form) + LatentFormer over all valid segments: the ONNX graph's output [B, S, d]. */
export function stageForwardReference(
  w: WeightSource,
  c: StageConfig,
  x: tf.Tensor3D,
  l: SegmentLayout,
): tf.Tensor3D {
  const { batch: B, frames: T, segments: S } = l;
  return tf.tidy(() => {
    const segmentValid = tf.tensor3d(l.segmentValid, [B, S, 1]);
    const tokens = encodeSegmentsReference(
      w,
      c,
      x,
      tf.tensor2d(l.framePos, [B, T]),
      tf.tensor3d(assignmentMatrix(l), [B, S, T]),
      segmentValid,
    );
    const segmentPos = tf.tensor2d(l.segmentPos, [B, S]);
    return latentForward(w, c, tokens, segmentPos, tf.tensor2d(l.segmentKeyMask, [B, S]), segmentValid);
  });
}
