/**
 * Motif extraction with a trained A4Mer model folder (train.ts output: stage1.onnx, stage2.onnx,
 * vocabulary.json), run with ONNX Runtime (providers chosen at load time, runtime.ts; the one used is
 * reported). Per sequence: preprocessing (the model's input config, non-overlapping windows that tile
 * the sequence) -> atoms (kinematic) -> stage-1 tokens -> atom codes (nearest codebook centroid) ->
 * fewest-pieces cover with the mined patterns -> motifs -> stage-2 tokens (atoms at their centre times,
 * grouped by motif) -> family (nearest family centroid). Segments are returned in SOURCE frames
 * [start, end), in order; atoms tile the sequence and each motif is a run of whole atoms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AtomSegments, atomsToSourceFrames, frameSegmentIds, windowAtoms } from './atoms';
import { assignNearest } from './kmeans';
import type { StageConfig } from './model/config';
import { loadStage, type StageRunner, type StageWindow } from './onnx/run-stage';
import { type A4MerSequence, preprocessSequence } from './preprocess';
import { motifLastAtom, motifOfAtoms } from './train-data';
import { coverWindows } from './train-mining';
import { readVocabulary, STAGE1_FILE, STAGE2_FILE, type A4MerVocabulary } from './vocabulary';

export interface ExtractOptions {
  /** ONNX Runtime providers to try in order (default: STUDIO_ORT_PROVIDERS, else cuda, webgpu, cpu) */
  providers?: readonly string[];
  /** windows per ONNX run */
  batchSize?: number;
}

export interface AtomSegment {
  start: number;
  end: number;
  code: number;
}

export interface MotifSegmentOut {
  start: number;
  end: number;
  /** mined pattern id, -1 for a lone atom no pattern covers */
  pattern: number;
  family: number;
}

export interface MotifExtraction {
  /** the execution provider that ran both stages */
  provider: string;
  /** the provider and why earlier ones failed */
  providerReport: string;
  atoms: AtomSegment[];
  motifs: MotifSegmentOut[];
}

/** Per source frame, the token of the motif and of the atom holding it (frames x dim, row-major). */
export interface FrameRepresentations extends MotifExtraction {
  frames: number;
  motifDim: number;
  motif: Float32Array;
  atomDim: number;
  atom: Float32Array;
}

export interface MotifExtractor {
  readonly dir: string;
  readonly vocabulary: A4MerVocabulary;
  readonly provider: string;
  extract(sequence: A4MerSequence): Promise<MotifExtraction>;
  frameRepresentations(sequence: A4MerSequence): Promise<FrameRepresentations>;
  dispose(): Promise<void>;
}

/** Atom / motif tokens and segments of a sequence, window by window. */
interface Analysis {
  atoms: AtomSegment[];
  motifs: MotifSegmentOut[];
  /** per atom (sequence order) its stage-1 token; per motif its stage-2 token */
  atomTokens: Float32Array[];
  motifTokens: Float32Array[];
  sourceFrames: number;
}

class Extractor implements MotifExtractor {
  constructor(
    readonly dir: string,
    readonly vocabulary: A4MerVocabulary,
    private readonly stage1: StageRunner,
    private readonly stage2: StageRunner,
  ) {}

  /** the provider of both stages ("cuda"), or of each when they differ ("cuda/cpu") */
  get provider(): string {
    const [a, b] = [this.stage1.provider, this.stage2.provider];
    return a === b ? a : `${a}/${b}`;
  }

  private async analyse(seq: A4MerSequence): Promise<Analysis> {
    const v = this.vocabulary;
    if (seq.names.join(',') !== v.joints.join(',')) {
      throw new Error(
        `A4Mer extraction of '${seq.source}': its joints (${seq.names.join(', ')}) are not the model's ` +
          `(${v.joints.join(', ')}) in ${this.dir}`,
      );
    }
    const input = preprocessSequence(seq, v.input);
    const atomsOf = input.windows.map((w) => windowAtoms(input, w, v.atoms));
    const t1 = await this.stage1.run(
      input.windows.map((w, i) => ({
        features: w.features,
        segmentOf: frameSegmentIds(atomsOf[i], w.frames),
      })),
    );
    const d1 = v.stage1.dModel;
    const codes = t1.map((t) => assignNearest(t.tokens, v.codebook, undefined, undefined, seq.source));
    const covers = coverWindows(codes, v.patterns, v.patternSupport);
    const t2 = await this.stage2.run(
      atomsOf.map((atoms, i) => motifStageWindow(atoms, covers[i].starts, t1[i].tokens)),
    );
    const d2 = v.stage2.dModel;
    const out: Analysis = {
      atoms: [],
      motifs: [],
      atomTokens: [],
      motifTokens: [],
      sourceFrames: input.sourceFrames,
    };
    input.windows.forEach((w, i) => {
      const atoms = atomsOf[i];
      const src = atomsToSourceFrames(input, w, atoms);
      for (let a = 0; a < atoms.count; a++) {
        out.atoms.push({ start: src.starts[a], end: src.ends[a], code: codes[i][a] });
        out.atomTokens.push(t1[i].tokens.subarray(a * d1, (a + 1) * d1));
      }
      const { starts, patterns } = covers[i];
      const motifTokens = t2[i].tokens;
      const families = assignNearest(motifTokens, v.families, undefined, undefined, seq.source);
      starts.forEach((first, m) => {
        const last = motifLastAtom(starts, m, atoms.count);
        out.motifs.push({
          start: src.starts[first],
          end: src.ends[last],
          pattern: patterns[m],
          family: families[m],
        });
        out.motifTokens.push(motifTokens.subarray(m * d2, (m + 1) * d2));
      });
    });
    return out;
  }

  async extract(seq: A4MerSequence): Promise<MotifExtraction> {
    const a = await this.analyse(seq);
    return { ...this.report(), atoms: a.atoms, motifs: a.motifs };
  }

  async frameRepresentations(seq: A4MerSequence): Promise<FrameRepresentations> {
    const a = await this.analyse(seq);
    const d1 = this.vocabulary.stage1.dModel;
    const d2 = this.vocabulary.stage2.dModel;
    const F = a.sourceFrames;
    const atom = new Float32Array(F * d1);
    const motif = new Float32Array(F * d2);
    a.atoms.forEach((s, i) => {
      for (let f = s.start; f < s.end; f++) atom.set(a.atomTokens[i], f * d1);
    });
    a.motifs.forEach((s, i) => {
      for (let f = s.start; f < s.end; f++) motif.set(a.motifTokens[i], f * d2);
    });
    return {
      ...this.report(),
      atoms: a.atoms,
      motifs: a.motifs,
      frames: F,
      motifDim: d2,
      motif,
      atomDim: d1,
      atom,
    };
  }

  private report(): { provider: string; providerReport: string } {
    const [a, b] = [this.stage1.providerReport, this.stage2.providerReport];
    return { provider: this.provider, providerReport: a === b ? a : `stage 1: ${a}; stage 2: ${b}` };
  }

  async dispose(): Promise<void> {
    await this.stage1.dispose();
    await this.stage2.dispose();
  }
}

/**
 * Stage-2 input of a window: its atoms' stage-1 tokens grouped by motif (motif m = atoms
 * starts[m] .. starts[m + 1] - 1), each atom at its centre time (stage 1's segmentPos).
 */
export function motifStageWindow(
  atoms: AtomSegments,
  starts: readonly number[],
  atomTokens: Float32Array,
): StageWindow {
  const framePos = new Float32Array(atoms.count);
  for (let a = 0; a < atoms.count; a++) framePos[a] = 0.5 * (atoms.starts[a] + atoms.ends[a] - 1);
  return { features: atomTokens, segmentOf: motifOfAtoms(starts, atoms.count), framePos };
}

/** Loads a model folder once for many sequences (the caller disposes it). */
export async function loadMotifExtractor(dir: string, options: ExtractOptions = {}): Promise<MotifExtractor> {
  const { vocabulary, stage1, stage2 } = await loadStages(dir, options);
  return new Extractor(dir, vocabulary, stage1, stage2);
}

/** The vocabulary and both stage runners of a model folder, checked against each other (the caller disposes). */
export async function loadStages(
  dir: string,
  options: ExtractOptions = {},
): Promise<{ vocabulary: A4MerVocabulary; stage1: StageRunner; stage2: StageRunner }> {
  const vocabulary = readVocabulary(dir);
  const open = async (file: string, stage: 1 | 2): Promise<StageRunner> => {
    const path = join(dir, file);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new Error(`${path}: cannot read the stage-${stage} model (${(e as Error).message})`, {
        cause: e,
      });
    }
    const runner = await loadStage(bytes, options.providers, { label: path, batchSize: options.batchSize });
    const cfg = stage === 1 ? vocabulary.stage1 : vocabulary.stage2;
    const same = (Object.keys(cfg) as (keyof StageConfig)[]).every((k) => runner.config[k] === cfg[k]);
    if (runner.stage !== stage || !same) {
      await runner.dispose();
      throw new Error(
        `${path}: stage ${runner.stage} model whose config differs from vocabulary.json's stage ${stage}`,
      );
    }
    return runner;
  };
  const stage1 = await open(STAGE1_FILE, 1);
  let stage2: StageRunner;
  try {
    stage2 = await open(STAGE2_FILE, 2);
  } catch (e) {
    await stage1.dispose();
    throw e;
  }
  return { vocabulary, stage1, stage2 };
}

/** Atoms and motifs of one sequence in source frames (loads and frees the model). */
export async function extractMotifs(
  dir: string,
  sequence: A4MerSequence,
  options: ExtractOptions = {},
): Promise<MotifExtraction> {
  const ex = await loadMotifExtractor(dir, options);
  try {
    return await ex.extract(sequence);
  } finally {
    await ex.dispose();
  }
}

/** Per source frame the tokens of its motif and atom (k-NN evaluation); loads and frees the model. */
export async function frameRepresentations(
  dir: string,
  sequence: A4MerSequence,
  options: ExtractOptions = {},
): Promise<FrameRepresentations> {
  const ex = await loadMotifExtractor(dir, options);
  try {
    return await ex.frameRepresentations(sequence);
  } finally {
    await ex.dispose();
  }
}
