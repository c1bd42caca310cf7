/**
 * A4Mer Predictor g_phi (JEPA): fills the tokens of the masked segments from the visible ones plus a
 * learned mask token at each masked position (I-JEPA style narrow predictor).
 *
 *   p_k = visible_k ? ctx_k K_in + b_in : mask_token          [B,S,dp]
 *   p  += PE(segmentPos)
 *   per layer j: p = SelfBlock_j(p, keys: all valid segments, visible and masked)
 *   zhat = LN_out(p) K_out + b_out                              [B,S,d]
 * Only the rows of masked segments are used by the loss.
 */
import * as tf from '@tensorflow/tfjs';
import { dense, layerNorm, positionEncoding, selfAttentionBlock, type WeightSource } from './blocks';
import type { StageConfig } from './config';

/**
 * context [B,S,d] (LatentFormer output over the visible segments), visible [B,S,1] (1 visible, 0 masked
 * or empty), segmentPos [B,S], segmentKeyMask [B,S] (valid slots). Returns predictions [B,S,d].
 */
export function predictMasked(
  w: WeightSource,
  c: StageConfig,
  context: tf.Tensor3D,
  visible: tf.Tensor3D,
  segmentPos: tf.Tensor2D,
  segmentKeyMask: tf.Tensor2D,
): tf.Tensor3D {
  const [B, S] = context.shape;
  return tf.tidy(() => {
    const projected = dense(context, w, 'pred.in_proj');
    const masked = tf.sub(1, visible);
    let p = tf.add(tf.mul(projected, visible), tf.mul(w.get('pred.mask_token'), masked));
    p = tf.add(p, positionEncoding(segmentPos, c.predictorDim, c.posBase));
    const mask = segmentKeyMask.reshape([B, 1, 1, S]);
    for (let j = 0; j < c.predictorLayers; j++) {
      p = selfAttentionBlock(p, mask, w, `pred.layers.${j}`, c.heads, c.lnEps);
    }
    return dense(layerNorm(p, w, 'pred.ln_out', c.lnEps), w, 'pred.out_proj') as tf.Tensor3D;
  });
}
