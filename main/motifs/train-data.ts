/**
 * The training library of A4Mer as model windows with their atoms, and the batches the phases read:
 * stage 1 = a window's frames grouped into atoms; stage 2 = the window's atoms (their stage-1 tokens)
 * grouped into motifs, each atom at its centre time. Batches and masks are drawn from seeded streams
 * (mixSeed), so a resumed run draws what an uninterrupted one would.
 */
import { type AtomSegments, frameSegmentIds, windowAtoms } from './atoms';
import type { A4MerAtomConfig, A4MerInputConfig } from './config';
import { buildSegmentLayout, type SegmentLayout } from './model/layout';
import type { SegmentBatch } from './model/train-step';
import { type A4MerInput, type A4MerSequence, preprocessSequence } from './preprocess';
import { type A4MerTrainOptions, effectiveTrainOptions } from './train-options';

/** One model window and its atoms. */
export interface TrainWindow {
  /** index of its sequence in the list given to prepareWindows */
  sequence: number;
  /** the window within its sequence */
  window: number;
  /** T = windowFrames x D features, row-major; zero in padding */
  features: Float32Array;
  /** [T] atom of each frame, -1 in padding */
  segmentOf: Int32Array;
  atoms: AtomSegments;
}

export interface PreparedLibrary {
  /** features per frame (3J + 4, or 6J + 5 with input.velocity) */
  D: number;
  /** frames per window */
  T: number;
  windows: TrainWindow[];
  inputs: A4MerInput[];
}

/**
 * Preprocesses every sequence (input config as given: its stride sets the overlap) and segments each
 * window into atoms. The sequences must share one skeleton (same joint names in the same order).
 */
export function prepareWindows(
  sequences: readonly A4MerSequence[],
  input: A4MerInputConfig,
  atomConfig: Partial<A4MerAtomConfig>,
): PreparedLibrary {
  if (sequences.length === 0) throw new Error('A4Mer training: no sequences given');
  const names = sequences[0].names.join(',');
  const windows: TrainWindow[] = [];
  const inputs: A4MerInput[] = [];
  sequences.forEach((seq, i) => {
    if (seq.names.join(',') !== names) {
      throw new Error(
        `A4Mer training: sequence '${seq.source}' has joints ${seq.names.join(', ')}, but ` +
          `'${sequences[0].source}' has ${sequences[0].names.join(', ')}; a model needs one skeleton`,
      );
    }
    const inp = preprocessSequence(seq, input);
    inputs.push(inp);
    for (const w of inp.windows) {
      const atoms = windowAtoms(inp, w, atomConfig);
      windows.push({
        sequence: i,
        window: w.index,
        features: w.features,
        segmentOf: frameSegmentIds(atoms, w.frames),
        atoms,
      });
    }
  });
  return { D: inputs[0].D, T: input.windowFrames, windows, inputs };
}

/** A 32-bit seed from a seed and stream tags (phase, step, ...): splitmix-style mixing. */
export function mixSeed(seed: number, ...tags: number[]): number {
  let h = Math.imul(seed >>> 0, 0x9e3779b1) >>> 0;
  for (const t of tags) {
    h = (h ^ Math.imul((t + 1) >>> 0, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  }
  return (h ^ (h >>> 16)) >>> 0;
}

/** `count` distinct window indices of 0..n-1 (all of them, in order, when n <= count), seeded. */
export function pickWindows(n: number, count: number, random: () => number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= count) return all;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, count);
}

/** Stage-1 batch of the picked windows: x [B, T, D] and the atoms as segments. */
export function stage1Batch(lib: PreparedLibrary, pick: readonly number[]): SegmentBatch {
  const { T, D } = lib;
  const B = pick.length;
  const x = new Float32Array(B * T * D);
  const segmentOf = new Int32Array(B * T);
  pick.forEach((w, b) => {
    x.set(lib.windows[w].features, b * T * D);
    segmentOf.set(lib.windows[w].segmentOf, b * T);
  });
  return { x, layout: buildSegmentLayout(segmentOf, B, T) };
}

/**
 * Stage-2 layout over a stage-1 layout: element a of window b is atom a (its stage-1 token row
 * b * S1 + a), at the atom's centre time (layout1.segmentPos); its segment is motifOf[b][a], the motif
 * holding it (-1 for the padding slots a >= atoms). Motif positions: the midpoint of their atoms' centres.
 */
export function stage2Layout(layout1: SegmentLayout, motifOf: readonly Int32Array[]): SegmentLayout {
  const { batch: B, segments: S1 } = layout1;
  if (motifOf.length !== B)
    throw new Error(`A4Mer stage-2 layout: ${motifOf.length} motif maps for ${B} windows`);
  const segmentOf = new Int32Array(B * S1).fill(-1);
  for (let b = 0; b < B; b++) {
    const m = motifOf[b];
    for (let a = 0; a < m.length; a++) {
      if (layout1.segmentValid[b * S1 + a] === 0)
        throw new Error(`A4Mer stage-2 layout: window ${b} has motifs for atom ${a}, which is empty`);
      segmentOf[b * S1 + a] = m[a];
    }
  }
  return buildSegmentLayout(segmentOf, B, S1, { framePos: layout1.segmentPos });
}

/** Last atom of motif m (motif boundaries `starts` in atoms, as motifOfAtoms) of a window of `atoms` atoms. */
export function motifLastAtom(starts: readonly number[], m: number, atoms: number): number {
  return (m + 1 < starts.length ? starts[m + 1] : atoms) - 1;
}

/** Motif index of each atom from motif boundaries in atoms (starts[0] = 0, increasing). */
export function motifOfAtoms(starts: readonly number[], atoms: number): Int32Array {
  const out = new Int32Array(atoms);
  let m = 0;
  for (let a = 0; a < atoms; a++) {
    while (m + 1 < starts.length && starts[m + 1] <= a) m++;
    out[a] = m;
  }
  return out;
}

/**
 * Fingerprint of a training run: the sequences (source, rate, joints, frame count and an FNV-1a hash of
 * the float32 positions) and every option that changes the result, defaults filled in
 * (train-options.ts effectiveTrainOptions). A checkpoint only resumes a run with the same fingerprint.
 */
export function trainingFingerprint(sequences: readonly A4MerSequence[], options: A4MerTrainOptions): string {
  let h = 0x811c9dc5;
  const mix = (word: number): void => {
    h = Math.imul(h ^ word, 0x01000193) >>> 0;
  };
  const text = (s: string): void => {
    for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
  };
  text(JSON.stringify(effectiveTrainOptions(options)));
  for (const s of sequences) {
    text(`${s.source}|${s.fps}|${s.frames}|${s.names.join(',')}`);
    const p = s.positions instanceof Float32Array ? s.positions : Float32Array.from(s.positions);
    const words = new Uint32Array(p.buffer, p.byteOffset, p.length);
    for (let i = 0; i < words.length; i++) mix(words[i]);
  }
  return `${sequences.length}-${h.toString(16).padStart(8, '0')}`;
}
