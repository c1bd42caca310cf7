/**
 * The JEPA objective of A4Mer with the global/local decomposition (paper, "JEPA latent token prediction
 * + global/local decomposition loss").
 *
 * Per window with masked set K (|K| = n):
 *   z_g = (1/n) sum_{k in K} z_k,  z_k^l = z_k - z_g          (targets, stop-gradient)
 *   zhat_g, zhat_k^l likewise from the predictions
 *   L_k^l = SL1(zhat_k^l - z_k^l),  L_g = SL1(zhat_g - z_g)
 *   L = (1/n) sum_k [ L_k^l + alpha * lambda_k * L_g ],  lambda_k = sg(L_k^l / max(L_g, eps))
 * SL1 of a vector is the mean over its d components of the smooth L1 (Huber) function with transition
 * beta. The batch loss is the mean of L over windows with n >= 1. Note that the value of
 * alpha * lambda_k * L_g equals alpha * L_k^l: the global term changes the gradient direction, not the
 * scale of the value (L = (1 + alpha) * mean local in value).
 * Ablations: 'jepa' = (1/n) sum_k SL1(zhat_k - z_k); 'local' = (1/n) sum_k L_k^l;
 * 'equal' = (1/n) sum_k [ L_k^l + L_g ].
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightSource } from './blocks';
import type { JepaLossConfig, StageConfig } from './config';
import { encodeSegments } from './encoder';
import { latentForward } from './latentformer';
import type { LayoutTensors } from './layout';
import { predictMasked } from './predictor';

/** Identity in the forward pass, zero gradient (sg(.)); tfjs has no stop-gradient op. */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/**
 * Element-wise smooth L1 with transition beta, branch-free: with q = min(|x|, beta),
 * 0.5 q^2 / beta + (|x| - q)  (= 0.5 x^2 / beta for |x| < beta, |x| - 0.5 beta otherwise).
 */
export function smoothL1(x: tf.Tensor, beta: number): tf.Tensor {
  const a = tf.abs(x);
  const q = tf.minimum(a, beta);
  return tf.add(tf.mul(tf.square(q), 0.5 / beta), tf.sub(a, q));
}

/** The loss and its parts (scalars), averaged over windows with at least one masked segment (a type, so tf.tidy can return it). */
export type JepaLossParts = {
  /** the optimised loss of the configured mode */
  loss: tf.Scalar;
  /** mean over K of L_k^l */
  local: tf.Scalar;
  /** L_g */
  global: tf.Scalar;
  /** mean over K of lambda_k = L_k^l / L_g */
  lambda: tf.Scalar;
  /** original JEPA loss, mean over K of SL1(zhat_k - z_k) (a diagnostic whatever the mode) */
  jepa: tf.Scalar;
};

/**
 * pred, target [B,S,d]; masked [B,S] (1 for k in K: valid and masked). The target should already be
 * detached (it is stop-gradiented here as well).
 */
export function jepaLoss(
  pred: tf.Tensor3D,
  target: tf.Tensor3D,
  masked: tf.Tensor2D,
  cfg: JepaLossConfig,
): JepaLossParts {
  return tf.tidy(() => {
    const z = stopGradient(target);
    const K = tf.expandDims(masked, -1); // [B,S,1]
    const n = tf.sum(masked, 1); // [B]
    const nSafe = tf.maximum(n, 1);
    const mean = (v: tf.Tensor): tf.Tensor => tf.div(tf.sum(tf.mul(v, K), 1), tf.expandDims(nSafe, -1)); // [B,d]
    const zg = mean(z);
    const zhatg = mean(pred);
    const localDiff = tf.sub(tf.sub(pred, tf.expandDims(zhatg, 1)), tf.sub(z, tf.expandDims(zg, 1)));
    const Lloc = tf.mean(smoothL1(localDiff, cfg.sl1Beta), -1); // [B,S]
    const Lg = tf.mean(smoothL1(tf.sub(zhatg, zg), cfg.sl1Beta), -1); // [B]
    const Lplain = tf.mean(smoothL1(tf.sub(pred, z), cfg.sl1Beta), -1); // [B,S]
    const LgCol = tf.expandDims(Lg, -1); // [B,1]
    const lambda = stopGradient(tf.div(Lloc, tf.maximum(LgCol, cfg.lambdaEps)));

    let perSegment: tf.Tensor;
    if (cfg.mode === 'a4mer') perSegment = tf.add(Lloc, tf.mul(tf.mul(lambda, LgCol), cfg.alpha));
    else if (cfg.mode === 'equal') perSegment = tf.add(Lloc, LgCol);
    else if (cfg.mode === 'local') perSegment = Lloc;
    else perSegment = Lplain;

    // Mean over K within each window, then over the windows that have a K.
    const has = tf.cast(tf.greater(n, 0), 'float32');
    const windows = tf.maximum(tf.sum(has), 1);
    const overK = (v: tf.Tensor): tf.Scalar =>
      tf.div(tf.sum(tf.div(tf.sum(tf.mul(v, masked), 1), nSafe)), windows);
    return {
      loss: overK(perSegment),
      local: overK(Lloc),
      global: tf.div(tf.sum(tf.mul(Lg, has)), windows) as tf.Scalar,
      lambda: overK(lambda),
      jepa: overK(Lplain),
    };
  });
}

/**
 * The context path and the predictions: the encoder over the window (its attention never leaves a
 * segment, so masked frames cannot reach visible tokens), the LatentFormer with only the visible
 * segments as keys, then the predictor. visible [B,S,1]; returns zhat [B,S,d].
 */
export function predictFromContext(
  w: WeightSource,
  c: StageConfig,
  x: tf.Tensor3D,
  lt: LayoutTensors,
  visible: tf.Tensor3D,
  visibleKeyMask: tf.Tensor2D,
): tf.Tensor3D {
  return tf.tidy(() => {
    const tokens = encodeSegments(w, c, x, lt);
    const context = latentForward(w, c, tokens, lt.segmentPos, visibleKeyMask, lt.segmentValid);
    return predictMasked(w, c, context, visible, lt.segmentPos, lt.segmentKeyMask);
  });
}
