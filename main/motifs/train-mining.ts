/**
 * The Motifs step of training (paper, "Two-level segmentation", stage 2): stage-1 tokens of every atom
 * of the training library (EMA target network) -> k-means codebook (kmeans.ts, trained on the
 * non-overlapping mining windows) -> code sequences (one per mining window, the GSP "sequences") ->
 * frequent contiguous patterns (gsp.ts) -> per window the fewest-pieces cover (cover.ts) -> motif
 * segments. Training windows (overlapping views) get their codes by nearest centroid and their motifs
 * by the same cover. After joint training `finalizeMining` re-codes the mining windows with the final
 * stage 1 (optionally refining the codebook from the mined centroids), mines the patterns again from
 * those final codes (remineFinal), covers them, and clusters their stage-2 motif tokens into families.
 */
import { throwIfAborted } from '../capture/errors';
import { buildPatternIndex, coverSequence } from './cover';
import { trainFamilies } from './families';
import { minePatterns } from './gsp';
import { assignNearest, type KMeansCodebook, trainKMeans } from './kmeans';
import type { A4MerFamilyConfig, A4MerKMeansConfig, A4MerPatternConfig } from './mining-config';
import { motifOfAtoms, type PreparedLibrary } from './train-data';
import { concatFloat32 } from '../body/ndarray';
import { libraryTokens, type TokenNetworks } from './train-tokens';

/** Motifs of one window: motif m covers atoms [starts[m], starts[m+1]) (the last one to the end). */
export interface WindowCover {
  starts: number[];
  /** pattern index of each motif, -1 for a lone atom that no pattern covers */
  patterns: number[];
}

export interface MiningResult {
  codebook: KMeansCodebook;
  /** code patterns; a pattern id is an index here */
  patterns: number[][];
  /** support of each pattern (gsp.ts): the cover's tie-break between equally short covers */
  patternSupport: number[];
  /** per training window (the training library's order) */
  covers: WindowCover[];
  stats: Record<string, number>;
}

export interface MiningOptions {
  kmeans: Partial<A4MerKMeansConfig>;
  patterns: Partial<A4MerPatternConfig>;
  tokenBatch: number;
  signal?: AbortSignal;
}

const allWindows = (lib: PreparedLibrary): number[] => lib.windows.map((_, i) => i);

/** Per-window slices of one code array (rows in window order). */
function splitCodes(codes: Int32Array, lib: PreparedLibrary): Int32Array[] {
  const out: Int32Array[] = [];
  let o = 0;
  for (const w of lib.windows) {
    out.push(codes.subarray(o, o + w.atoms.count));
    o += w.atoms.count;
  }
  return out;
}

/**
 * Covers every window's codes with the patterns (cover.ts: fewest pieces, lone atoms allowed; ties broken
 * by the patterns' supports, so training and extraction must pass the same supports).
 */
export function coverWindows(
  codes: readonly Int32Array[],
  patterns: readonly number[][],
  support: readonly number[],
): WindowCover[] {
  const index = buildPatternIndex(patterns, support);
  return codes.map((c) => {
    const pieces = coverSequence(c, index);
    return { starts: pieces.map((p) => p.start), patterns: pieces.map((p) => p.pattern) };
  });
}

export function motifMaps(lib: PreparedLibrary, covers: readonly WindowCover[]): Int32Array[] {
  return lib.windows.map((w, i) => motifOfAtoms(covers[i].starts, w.atoms.count));
}

/** Mean length in model frames of the motifs of covered windows. */
export function meanMotifFrames(lib: PreparedLibrary, covers: readonly WindowCover[]): number {
  let frames = 0;
  let count = 0;
  lib.windows.forEach((w, i) => {
    frames += w.atoms.count === 0 ? 0 : w.atoms.ends[w.atoms.count - 1] - w.atoms.starts[0];
    count += covers[i].starts.length;
  });
  return count === 0 ? 0 : frames / count;
}

/** Mining after stage 1 (see the file comment); `train` may be the same library as `mine`. */
export function mineMotifs(
  nets: TokenNetworks,
  mine: PreparedLibrary,
  train: PreparedLibrary,
  o: MiningOptions,
): MiningResult {
  const d = nets.config1.dModel;
  const tokens = concatFloat32(
    libraryTokens(nets, mine, allWindows(mine), o.tokenBatch, undefined, o.signal).atoms,
  );
  throwIfAborted(o.signal);
  const km = trainKMeans(tokens, d, o.kmeans, { source: 'stage-1 atom tokens' });
  const mineCodes = splitCodes(km.assignments, mine);
  const frequent = minePatterns(mineCodes, o.patterns, 'stage-1 atom codes');
  const patterns = frequent.map((p) => Array.from(p));
  const patternSupport = Array.from(frequent.support);
  throwIfAborted(o.signal);
  let trainCodes = mineCodes;
  if (train !== mine) {
    const t = concatFloat32(
      libraryTokens(nets, train, allWindows(train), o.tokenBatch, undefined, o.signal).atoms,
    );
    trainCodes = splitCodes(assignNearest(t, km), train);
  }
  const covers = coverWindows(trainCodes, patterns, patternSupport);
  const mineCovers = train === mine ? covers : coverWindows(mineCodes, patterns, patternSupport);
  return {
    codebook: { k: km.k, dim: km.dim, centroids: km.centroids },
    patterns,
    patternSupport,
    covers,
    stats: {
      atomTokens: tokens.length / d,
      codes: km.k,
      requestedCodes: km.requestedK,
      kmeansIterations: km.iterations,
      patterns: patterns.length,
      minedMeanMotifFrames: meanMotifFrames(mine, mineCovers),
    },
  };
}

export interface FinalMining {
  codebook: KMeansCodebook;
  /** the shipped patterns: mined again from the final codes (remineFinal), else the stage-1 ones */
  patterns: number[][];
  patternSupport: number[];
  families: KMeansCodebook;
  stats: Record<string, number>;
}

/** After joint training: final codes, covers and motif families over the mining windows. */
export function finalizeMining(
  nets: TokenNetworks,
  mine: PreparedLibrary,
  mined: Pick<MiningResult, 'codebook' | 'patterns' | 'patternSupport'>,
  o: MiningOptions & {
    refineCodebook: boolean;
    remineFinal: boolean;
    families: Partial<A4MerFamilyConfig>;
  },
): FinalMining {
  const d = nets.config1.dModel;
  const tokens = concatFloat32(
    libraryTokens(nets, mine, allWindows(mine), o.tokenBatch, undefined, o.signal).atoms,
  );
  let codebook = mined.codebook;
  let codes: Int32Array;
  if (o.refineCodebook) {
    const km = trainKMeans(tokens, d, o.kmeans, {
      source: 'final stage-1 atom tokens',
      initialCentroids: mined.codebook.centroids,
    });
    codebook = { k: km.k, dim: km.dim, centroids: km.centroids };
    codes = km.assignments;
  } else codes = assignNearest(tokens, codebook);
  throwIfAborted(o.signal);
  const finalCodes = splitCodes(codes, mine);
  let { patterns, patternSupport } = mined;
  if (o.remineFinal) {
    const frequent = minePatterns(finalCodes, o.patterns, 'final stage-1 atom codes');
    patterns = frequent.map((p) => Array.from(p));
    patternSupport = Array.from(frequent.support);
  }
  const covers = coverWindows(finalCodes, patterns, patternSupport);
  const motifOf = motifMaps(mine, covers);
  const motifTokens = concatFloat32(
    libraryTokens(nets, mine, allWindows(mine), o.tokenBatch, motifOf, o.signal).motifs,
  );
  const d2 = nets.config2!.dModel;
  const fam = trainFamilies(motifTokens, d2, o.families, 'stage-2 motif tokens');
  // How far joint training moved the atoms: codes that differ from the mined codebook's nearest centroid.
  const before = o.refineCodebook ? assignNearest(tokens, mined.codebook) : codes;
  let changed = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] !== before[i]) changed++;
  return {
    codebook,
    patterns,
    patternSupport,
    families: { k: fam.k, dim: fam.dim, centroids: fam.centroids },
    stats: {
      finalPatterns: patterns.length,
      atoms: codes.length,
      motifs: motifTokens.length / d2,
      families: fam.k,
      meanAtomFrames: meanAtomFramesOf(mine),
      meanMotifFrames: meanMotifFrames(mine, covers),
      codesChangedByRefinement: changed,
    },
  };
}

function meanAtomFramesOf(lib: PreparedLibrary): number {
  let frames = 0;
  let count = 0;
  for (const w of lib.windows) {
    count += w.atoms.count;
    if (w.atoms.count > 0) frames += w.atoms.ends[w.atoms.count - 1] - w.atoms.starts[0];
  }
  return count === 0 ? 0 : frames / count;
}
