import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BodyModel } from '../model';
import { type PoseSequence, retargetClip } from '../retarget';
import { type AsfSkeleton, readAmc, readAsf } from './asf-amc';

/** The CMU motion capture database's frame rate. */
export const CMU_FPS = 120;

export interface CmuClip {
  /** e.g. '02_05' */
  name: string;
  /** the subject folder's name, e.g. '02' */
  subject: string;
  asf: string;
  amc: string;
}

/** Every `NN/NN_MM.amc` with its `NN/NN.asf` under the CMU folder, sorted by name. */
export function listCmuClips(cmuDir: string): CmuClip[] {
  if (!existsSync(cmuDir)) throw new Error(`${cmuDir}: CMU motion folder not found`);
  const clips: CmuClip[] = [];
  for (const subject of readdirSync(cmuDir).sort()) {
    const dir = join(cmuDir, subject);
    if (!statSync(dir).isDirectory()) continue;
    const asf = join(dir, `${subject}.asf`);
    const amcs = readdirSync(dir).filter((n) => n.endsWith('.amc'));
    if (amcs.length > 0 && !existsSync(asf)) throw new Error(`${dir}: has .amc clips but no ${subject}.asf`);
    for (const n of amcs.sort()) clips.push({ name: basename(n, '.amc'), subject, asf, amc: join(dir, n) });
  }
  if (clips.length === 0) throw new Error(`${cmuDir}: no CMU .amc clips found`);
  return clips;
}

/**
 * A clip retargeted onto the model at 120 / step fps. `ground` (default false: only theta is wanted)
 * puts stance soles on the floor, for when joint positions are wanted.
 */
export function retargetCmuClip(
  model: BodyModel,
  clip: CmuClip,
  step: number,
  asfCache = new Map<string, AsfSkeleton>(),
  ground = false,
): PoseSequence {
  let asf = asfCache.get(clip.asf);
  if (!asf) asfCache.set(clip.asf, (asf = readAsf(clip.asf)));
  return retargetClip(readAmc(clip.amc, asf, { fps: CMU_FPS, step }), model, { ground });
}
