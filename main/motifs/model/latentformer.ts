/**
 * A4Mer LatentFormer: self-attention among the segment tokens, with the segments' temporal positions
 * (inter-segment relations; the encoder only aggregates within a segment).
 *
 *   u = tokens + PE(segmentPos)
 *   per layer j: u = SelfBlock_j(u, key mask)        keys: valid segments (JEPA context: visible ones only)
 *   out = LN_out(u) * segmentValid
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm, positionEncoding, selfAttentionBlock, type WeightSource } from './blocks';
import type { StageConfig } from './config';

/**
 * tokens [B,S,d], segmentPos [B,S] (frames), keyMask [B,S] additive (0 attend, MASK_NEG blocked),
 * segmentValid [B,S,1]. Returns [B,S,d]; empty slots are exact zeros.
 */
export function latentForward(
  w: WeightSource,
  c: StageConfig,
  tokens: tf.Tensor3D,
  segmentPos: tf.Tensor2D,
  keyMask: tf.Tensor2D,
  segmentValid: tf.Tensor3D,
): tf.Tensor3D {
  const [B, S] = tokens.shape;
  return tf.tidy(() => {
    let u = tf.add(tokens, positionEncoding(segmentPos, c.dModel, c.posBase));
    const mask = keyMask.reshape([B, 1, 1, S]);
    for (let j = 0; j < c.latentLayers; j++)
      u = selfAttentionBlock(u, mask, w, `lf.layers.${j}`, c.heads, c.lnEps);
    return tf.mul(layerNorm(u, w, 'lf.ln_out', c.lnEps), segmentValid) as tf.Tensor3D;
  });
}
