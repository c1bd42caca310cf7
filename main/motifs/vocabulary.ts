/**
 * vocabulary.json of a trained A4Mer model folder: everything extraction needs beside the two stage
 * ONNX files (stage1.onnx, stage2.onnx): the preprocessing and atom configs, the joint names, the stage
 * configs, the atom codebook (k-means centroids), the mined code patterns (pattern id = index) and the
 * motif-family centroids, plus the mining configs and a training summary for reports.
 * Centroids are stored as JSON numbers: a float32 printed as the shortest double that reads back to it,
 * so they round-trip exactly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type A4MerAtomConfig, type A4MerInputConfig, resolveAtomConfig, resolveInputConfig } from './config';
import type { KMeansCodebook } from './kmeans';
import { featureDimension } from './preprocess';
import type { A4MerFamilyConfig, A4MerKMeansConfig, A4MerPatternConfig } from './mining-config';
import { resolveStageConfig, type StageConfig } from './model/config';

export const VOCABULARY_FILE = 'vocabulary.json';
export const STAGE1_FILE = 'stage1.onnx';
export const STAGE2_FILE = 'stage2.onnx';
export const VOCABULARY_FORMAT = 'a4mer-vocabulary/1';

export interface A4MerVocabulary {
  format: typeof VOCABULARY_FORMAT;
  /** preprocessing of extraction (stride = windowFrames: windows tile the sequence) */
  input: A4MerInputConfig;
  atoms: A4MerAtomConfig;
  /** the skeleton the model reads: a sequence must have these joints in this order */
  joints: string[];
  stage1: StageConfig;
  stage2: StageConfig;
  /** atom codes: nearest centroid of a stage-1 token */
  codebook: KMeansCodebook;
  /** mined frequent contiguous code patterns; a motif's `pattern` is an index here (-1: a lone atom) */
  patterns: number[][];
  /** support of each pattern (the cover's tie-break, cover.ts) */
  patternSupport: number[];
  /** motif families: nearest centroid of a stage-2 token */
  families: KMeansCodebook;
  mining: { kmeans: A4MerKMeansConfig; patterns: A4MerPatternConfig; families: A4MerFamilyConfig };
  /** free-form training summary (loss mode, steps, library size, mean atom / motif length ...) */
  training: Record<string, unknown>;
}

/** The JSON text (centroids as plain number arrays). */
export function vocabularyJson(v: A4MerVocabulary): string {
  const book = (b: KMeansCodebook) => ({ k: b.k, dim: b.dim, centroids: Array.from(b.centroids) });
  return JSON.stringify({ ...v, codebook: book(v.codebook), families: book(v.families) });
}

function fail(file: string, problem: string): never {
  throw new Error(`${file}: ${problem}`);
}

function readBook(file: string, what: string, raw: unknown, dim: number): KMeansCodebook {
  const b = raw as { k?: unknown; dim?: unknown; centroids?: unknown };
  if (!b || typeof b !== 'object') fail(file, `${what} is missing`);
  const k = b.k as number;
  if (!Number.isInteger(k) || k < 1)
    fail(file, `${what}.k = ${JSON.stringify(b.k)}, expected an integer >= 1`);
  if (b.dim !== dim) fail(file, `${what}.dim = ${JSON.stringify(b.dim)}, the model's tokens have ${dim}`);
  const c = b.centroids;
  if (
    !Array.isArray(c) ||
    c.length !== k * dim ||
    !c.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    fail(file, `${what}.centroids must be ${k} x ${dim} finite numbers`);
  return { k, dim, centroids: Float32Array.from(c as number[]) };
}

/** Parses and checks a vocabulary (file names it in errors). */
export function parseVocabulary(text: string, file: string): A4MerVocabulary {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    fail(file, `not JSON (${(e as Error).message})`);
  }
  if (raw.format !== VOCABULARY_FORMAT)
    fail(file, `format ${JSON.stringify(raw.format)}, expected "${VOCABULARY_FORMAT}"`);
  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      return fail(file, `${what}: ${(e as Error).message}`);
    }
  };
  // Vocabularies written before the velocity option had none: read as without it.
  const input = wrap('input', () =>
    resolveInputConfig({ velocity: false, ...(raw.input as Partial<A4MerInputConfig>) }),
  );
  const atoms = wrap('atoms', () => resolveAtomConfig(raw.atoms as Partial<A4MerAtomConfig>));
  const stage1 = wrap('stage1', () => resolveStageConfig(raw.stage1 as StageConfig));
  const stage2 = wrap('stage2', () => resolveStageConfig(raw.stage2 as StageConfig));
  if (stage2.inputDim !== stage1.dModel)
    fail(file, `stage2.inputDim ${stage2.inputDim} differs from stage1.dModel ${stage1.dModel}`);
  const joints = raw.joints;
  if (!Array.isArray(joints) || joints.length === 0 || !joints.every((j) => typeof j === 'string'))
    fail(file, 'joints must be a non-empty list of names');
  const D = featureDimension(joints.length, input.velocity);
  if (D !== stage1.inputDim)
    fail(file, `${joints.length} joints give ${D} features, stage1.inputDim is ${stage1.inputDim}`);
  const codebook = readBook(file, 'codebook', raw.codebook, stage1.dModel);
  const families = readBook(file, 'families', raw.families, stage2.dModel);
  const patterns = raw.patterns;
  if (!Array.isArray(patterns)) fail(file, 'patterns must be a list');
  (patterns as unknown[]).forEach((p, i) => {
    if (
      !Array.isArray(p) ||
      p.length === 0 ||
      !p.every((c) => Number.isInteger(c) && c >= 0 && c < codebook.k)
    )
      fail(file, `patterns[${i}] must be a non-empty list of codes 0..${codebook.k - 1}`);
  });
  const support = raw.patternSupport;
  if (
    !Array.isArray(support) ||
    support.length !== (patterns as unknown[]).length ||
    !support.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
  )
    fail(
      file,
      `patternSupport must hold a number >= 0 for each of the ${(patterns as unknown[]).length} patterns`,
    );
  return {
    format: VOCABULARY_FORMAT,
    input: { ...input, stride: input.windowFrames },
    atoms,
    joints: joints as string[],
    stage1,
    stage2,
    codebook,
    patterns: patterns as number[][],
    patternSupport: support as number[],
    families,
    mining: raw.mining as A4MerVocabulary['mining'],
    training: (raw.training ?? {}) as Record<string, unknown>,
  };
}

/** Reads `<dir>/vocabulary.json`; errors name the file. */
export function readVocabulary(dir: string): A4MerVocabulary {
  const file = join(dir, VOCABULARY_FILE);
  if (!existsSync(file)) fail(file, 'not found (is this a trained A4Mer model folder?)');
  return parseVocabulary(readFileSync(file, 'utf8'), file);
}
