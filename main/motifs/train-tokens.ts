/**
 * Tokens of a prepared library with the tfjs networks (training side; extraction uses the ONNX files):
 * stage-1 tokens of every atom of some windows, and stage-2 tokens of every motif (stage 2 reading the
 * stage-1 tokens of the full window, at the atoms' centre times). Both are the inference forward
 * (Encoder + LatentFormer over all segments, model.ts stageForward), in batches of `tokenBatch` windows.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted } from '../capture/errors';
import type { StageConfig } from './model/config';
import { layoutTensors } from './model/layout';
import { stageForward, type StageModel } from './model/model';
import { type PreparedLibrary, stage1Batch, stage2Layout } from './train-data';

export interface TokenNetworks {
  stage1: StageModel;
  config1: StageConfig;
  /** present for motif tokens */
  stage2?: StageModel;
  config2?: StageConfig;
}

/**
 * Per window (in `windows` order): stage-1 tokens of its atoms (atoms x d1) and, when `motifOf` is given
 * (motif index of each atom, per window), stage-2 tokens of its motifs (motifs x d2).
 */
export function libraryTokens(
  nets: TokenNetworks,
  lib: PreparedLibrary,
  windows: readonly number[],
  tokenBatch: number,
  motifOf?: readonly Int32Array[],
  signal?: AbortSignal,
): { atoms: Float32Array[]; motifs: Float32Array[] } {
  const d1 = nets.config1.dModel;
  const atoms: Float32Array[] = [];
  const motifs: Float32Array[] = [];
  for (let s = 0; s < windows.length; s += tokenBatch) {
    throwIfAborted(signal);
    const pick = windows.slice(s, s + tokenBatch);
    const batch = stage1Batch(lib, pick);
    const S1 = batch.layout.segments;
    // Everything of the batch in one tidy: layouts, inputs and outputs are freed even on an Error.
    tf.tidy(() => {
      const x = tf.tensor3d(batch.x, [pick.length, lib.T, lib.D]);
      const z1 = stageForward(nets.stage1, nets.config1, x, layoutTensors(batch.layout));
      const values = z1.dataSync() as Float32Array;
      pick.forEach((w, b) => {
        const n = lib.windows[w].atoms.count;
        atoms.push(values.slice(b * S1 * d1, (b * S1 + n) * d1));
      });
      if (!motifOf) return;
      if (!nets.stage2 || !nets.config2)
        throw new Error('A4Mer tokens: motif tokens need the stage-2 network');
      const d2 = nets.config2.dModel;
      const layout2 = stage2Layout(
        batch.layout,
        pick.map((_, b) => motifOf[s + b]),
      );
      const v2 = stageForward(
        nets.stage2,
        nets.config2,
        z1,
        layoutTensors(layout2),
      ).dataSync() as Float32Array;
      const S2 = layout2.segments;
      pick.forEach((_, b) => {
        const m = motifOf[s + b];
        const count = m.length === 0 ? 0 : m[m.length - 1] + 1;
        motifs.push(v2.slice(b * S2 * d2, (b * S2 + count) * d2));
      });
    });
  }
  return { atoms, motifs };
}
