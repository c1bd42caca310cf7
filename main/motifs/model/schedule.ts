/**
 * Training schedules, functions of the 0-based step (so a resumed job continues them exactly).
 * - learning rate: linear warm-up to peakLr over warmupSteps (step 0 -> peakLr / warmupSteps), then
 *   cosine decay to minLr at totalSteps, minLr afterwards;
 * - EMA momentum of the target network (BYOL schedule): m = emaEnd - (emaEnd - emaStart) (1 + cos(pi p)) / 2,
 *   p = min(step / totalSteps, 1): emaStart (0.996) at step 0, emaEnd (1.0) at totalSteps.
 */
import type { TrainConfig } from './config';

export function learningRate(step: number, c: TrainConfig): number {
  if (step < c.warmupSteps) return (c.peakLr * (step + 1)) / c.warmupSteps;
  const span = Math.max(1, c.totalSteps - c.warmupSteps);
  const p = Math.min(1, (step - c.warmupSteps) / span);
  return c.minLr + 0.5 * (c.peakLr - c.minLr) * (1 + Math.cos(Math.PI * p));
}

export function emaMomentum(step: number, c: TrainConfig): number {
  const p = Math.min(1, Math.max(0, step / c.totalSteps));
  return c.emaEnd - ((c.emaEnd - c.emaStart) * (1 + Math.cos(Math.PI * p))) / 2;
}
