import type { AsfSkeleton } from '../body/motion/asf-amc';
import { CMU_FPS, listCmuClips, retargetCmuClip } from '../body/motion/cmu-clips';
import type { BodyModel } from '../body/model';
import { posedJoints } from '../fitting/joint-error';
import type { SkeletonDataset } from './skeleton-dataset';

/**
 * CMU motion capture (ASF/AMC) -> the generic skeleton dataset, as the BODY MODEL's joints: each clip
 * is retargeted onto the model (body/retarget.ts, soles on the floor) and posed, so the positions have
 * exactly the joint names and proportions of a fit made with that model. That is what a motif model
 * must be trained on to run on fits (motif extraction refuses other joint names). The database has no
 * action labels, so labels.csv stays empty; subjects are the CMU subject folders.
 */

export interface CmuConversionOptions {
  /** target frame rate; 120 / fps must be a whole number (default 30) */
  fps?: number;
  /** clip names to leave out (e.g. held-out clips) */
  exclude?: readonly string[];
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface CmuConversion {
  dataset: SkeletonDataset;
  clips: number;
  frames: number;
}

/** Converts every clip under `cmuDir` (NN/NN.asf + NN/NN_MM.amc); see the file comment. */
export function convertCmuMocap(
  cmuDir: string,
  model: BodyModel,
  modelName: string,
  options: CmuConversionOptions = {},
): CmuConversion {
  const fps = options.fps ?? 30;
  const step = CMU_FPS / fps;
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`CMU conversion: fps ${fps} does not divide the capture rate ${CMU_FPS}`);
  const clips = listCmuClips(cmuDir).filter((c) => !(options.exclude ?? []).includes(c.name));
  if (clips.length === 0) throw new Error(`${cmuDir}: every CMU clip is excluded`);
  const cache = new Map<string, AsfSkeleton>();
  const sequences = clips.map((c, i) => {
    options.onProgress?.(i, clips.length, c.name);
    const seq = retargetCmuClip(model, c, step, cache, true);
    const positions = posedJoints(model, seq.betas, seq.theta, seq.transl);
    if (!positions.every(Number.isFinite)) throw new Error(`${c.amc}: retargeting gave non-finite joints`);
    return {
      name: c.name,
      subject: c.subject,
      frames: seq.frames,
      positions,
      meta: { amc: c.name + '.amc', asf: c.subject + '.asf' },
    };
  });
  options.onProgress?.(clips.length, clips.length, 'done');
  return {
    dataset: {
      name: 'cmu',
      fps,
      joints: [...model.jointNames],
      parents: Array.from(model.parents),
      sequences,
      labels: [],
      source: {
        kind: 'cmu-mocap',
        path: cmuDir,
        bodyModel: modelName,
        note: 'CMU clips retargeted onto the body model and posed; no action labels',
      },
    },
    clips: clips.length,
    frames: sequences.reduce((n, s) => n + s.frames, 0),
  };
}
