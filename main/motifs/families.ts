import { type KMeansCodebook, cappedK, trainKMeans } from './kmeans';
import { type A4MerFamilyConfig, resolveFamilyConfig } from './mining-config';

/**
 * Motif families: k-means (kmeans.ts) on the stage-2 motif tokens, so that recurring motifs share a family
 * id (the colour of the motif track, and "all occurrences of this family" in the library). Motifs of one
 * code pattern get similar tokens and so usually one family, but a family may also gather different
 * patterns that the model finds alike. Count rule (A4MerFamilyConfig): K_f = clamp(round(sqrt(M / 2)),
 * 1, maxFamilies) for M motif tokens, then min(K_f, floor(M / minMotifsPerFamily)); k-means lowers it
 * further when there are fewer distinct tokens. Ids are then renumbered by decreasing family size (ties:
 * the family whose first motif comes first), so id 0 is the most common family and ids are stable
 * across runs with the same data. Identical tokens always share a family (nearest-centroid assignment).
 * Inference: `assignNearest(tokens, families)` from kmeans.ts gives the family of new motif tokens.
 */

export interface MotifFamilies extends KMeansCodebook {
  /** family id of each motif token, 0..k-1 */
  family: Int32Array;
  /** motifs per family (decreasing) */
  sizes: Int32Array;
  /** K_f from the count rule, before k-means' own lowering */
  requested: number;
}

/** K_f for `motifs` motif tokens (see the file comment). */
export function familyCount(motifs: number, config: Partial<A4MerFamilyConfig> = {}): number {
  const cfg = resolveFamilyConfig(config);
  const rule = Math.min(cfg.maxFamilies, Math.max(1, Math.round(Math.sqrt(motifs / 2))));
  return cappedK(rule, motifs, cfg.minMotifsPerFamily);
}

/** Clusters motif tokens (M x dim, row-major) into families. `source` is named in Errors. */
export function trainFamilies(
  tokens: Float32Array,
  dim: number,
  config: Partial<A4MerFamilyConfig> = {},
  source?: string,
): MotifFamilies {
  const cfg = resolveFamilyConfig(config);
  const motifs = tokens.length / dim;
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(motifs) || motifs < 1)
    throw new Error(
      `A4Mer motif families${source ? ` (${source})` : ''}: ${tokens.length} values is not a whole number (>= 1) of ${dim}-d motif tokens`,
    );
  const requested = familyCount(motifs, cfg);
  const km = trainKMeans(
    tokens,
    dim,
    {
      k: requested,
      minTokensPerCluster: 1, // the count rule already capped it
      maxIterations: cfg.maxIterations,
      tolerance: cfg.tolerance,
      seed: cfg.seed,
      candidates: requested, // every step exact: family counts are small
    },
    { source: `motif families${source ? `, ${source}` : ''}` },
  );
  const k = km.k;
  // renumber by decreasing size, ties by first occurrence
  const first = new Int32Array(k).fill(motifs);
  for (let i = motifs - 1; i >= 0; i--) first[km.assignments[i]] = i;
  const order = Array.from({ length: k }, (_, f) => f).sort(
    (a, b) => km.counts[b] - km.counts[a] || first[a] - first[b],
  );
  const rank = new Int32Array(k);
  order.forEach((f, r) => (rank[f] = r));
  const centroids = new Float32Array(k * dim);
  const sizes = new Int32Array(k);
  order.forEach((f, r) => {
    centroids.set(km.centroids.subarray(f * dim, f * dim + dim), r * dim);
    sizes[r] = km.counts[f];
  });
  const family = new Int32Array(motifs);
  for (let i = 0; i < motifs; i++) family[i] = rank[km.assignments[i]];
  return { k, dim, centroids, family, sizes, requested };
}
