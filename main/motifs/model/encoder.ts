/**
 * A4Mer Encoder: compresses each variable-length segment into one token (paper, "Encoder compressing
 * variable-length segments into a single token", after BLT's local encoder). It works on the frames
 * packed by segment (layout.ts): M = B*S rows of L slots.
 *
 *   e      = rows of x [B*T, D] picked by packIndex                      [M*L, D] (empty slot -> 0)
 *   h_kj   = (e_kj K_proj + b_proj + PE(slotPos_kj)) * slotValid_kj       frame embeddings [M, L, d]
 *   z_k    = max_j (h_kj + slotKeyMask_kj)                                token init (max-pool) [M, d]
 *   per layer i:
 *     h    = SelfBlock_i(h, keys: the segment's slots)                    intra-segment self-attention
 *     z    = CrossBlock_i(z, h, keys: the segment's slots)                the token reads its own frames
 *   out_k  = LN_out(z_k) * segmentValid_k                                 [B, S, d]
 *
 * Self-attention comes first in each layer so the last cross-attention reads the most refined frames
 * (the other order would leave the last layer's frame update unused). Attention never leaves a segment,
 * so a token depends on its own segment's frames only: the context encoder of JEPA can run on the full
 * window and still see nothing of the masked segments. Empty segment slots come out as exact zeros.
 */
import * as tf from '@tensorflow/tfjs';
import {
  crossAttentionBlock,
  dense,
  gatherRows,
  layerNorm,
  maxOverSlots,
  positionEncoding,
  selfAttentionBlock,
  type WeightSource,
} from './blocks';
import type { StageConfig } from './config';
import type { LayoutTensors } from './layout';

/** Segment tokens [B, S, d] of inputs x [B, T, D]. */
export function encodeSegments(
  w: WeightSource,
  c: StageConfig,
  x: tf.Tensor3D,
  lt: LayoutTensors,
): tf.Tensor3D {
  const [B, T, D] = x.shape;
  if (D !== c.inputDim)
    throw new Error(`A4Mer encoder: input has ${D} features per frame, the model expects ${c.inputDim}`);
  if (B !== lt.batch || T !== lt.frames) {
    throw new Error(
      `A4Mer encoder: input is [${B}, ${T}, ${D}], the segment layout is for ${lt.batch} x ${lt.frames} frames`,
    );
  }
  const M = lt.batch * lt.segments;
  const L = lt.slots;
  return tf.tidy(() => {
    const packed = gatherRows(x.reshape([B * T, D]), lt.packIndex, lt.unpackIndex).reshape([M, L, D]);
    const embedded = tf.add(
      dense(packed, w, 'enc.frame_proj'),
      positionEncoding(lt.slotPos, c.dModel, c.posBase),
    );
    const h0 = tf.mul(embedded, lt.slotValid); // empty slots -> 0
    const segmentValid = lt.segmentValid.reshape([M, 1, 1]);
    const pooled = maxOverSlots(tf.add(h0, tf.expandDims(lt.slotKeyMask, 2)) as tf.Tensor3D);
    let z: tf.Tensor = tf.mul(tf.expandDims(pooled, 1), segmentValid); // [M, 1, d]
    const keyMask = lt.slotKeyMask.reshape([M, 1, 1, L]);
    let h: tf.Tensor = h0;
    for (let i = 0; i < c.encoderLayers; i++) {
      h = selfAttentionBlock(h, keyMask, w, `enc.layers.${i}.self`, c.heads, c.lnEps);
      z = crossAttentionBlock(z, h, keyMask, w, `enc.layers.${i}.cross`, c.heads, c.lnEps);
    }
    const out = tf.mul(layerNorm(z, w, 'enc.ln_out', c.lnEps), segmentValid);
    return out.reshape([lt.batch, lt.segments, c.dModel]) as tf.Tensor3D;
  });
}
