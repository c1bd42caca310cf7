/**
 * EMA target network of JEPA: theta_bar <- m theta_bar + (1 - m) theta for every weight the target holds
 * (the encoder and the LatentFormer; the predictor has no target copy). The momentum m comes from
 * schedule.ts (0.996 -> 1.0 cosine).
 */
import * as tf from '@tensorflow/tfjs';
import type { StageModel } from './model';

export function emaUpdate(target: StageModel, online: StageModel, momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1))
    throw new Error(`EMA update: momentum must be in [0, 1], got ${momentum}`);
  tf.tidy(() => {
    for (const [name, t] of target.vars) {
      t.assign(tf.add(tf.mul(t, momentum), tf.mul(online.get(name), 1 - momentum)));
    }
  });
}
