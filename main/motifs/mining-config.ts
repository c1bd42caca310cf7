/**
 * Documented, configurable defaults of A4Mer's Motifs step (the "two-level segmentation", stage 2): atom
 * tokens -> k-means codes (main/motifs/kmeans.ts) -> frequent contiguous code patterns (gsp.ts) -> fewest-
 * pieces cover per sequence (cover.ts) -> motif segments, and motif tokens -> families (families.ts).
 * Callers pass a `Partial<...>` that `resolve...Config` merges and validates (an Error names the field and
 * the value). The paper fixes only K = 512; the GSP threshold is "an implicit setting" there, so the other
 * numbers are ours, chosen as explained at each field.
 */

/** k-means codebook of atom tokens (Lloyd's algorithm, k-means++ seeding; see kmeans.ts). */
export interface A4MerKMeansConfig {
  /** requested number of clusters (the paper: 512 atom codes) */
  k: number;
  /**
   * Cap for small data: the effective K is max(1, min(k, floor(N / minTokensPerCluster))) for N tokens,
   * so every code has on average at least this many tokens (with 4: 2048 tokens for the full 512, about
   * 20 minutes of 5 fps motion at ~3 frames per atom). Fewer would make codes near-singletons, and no
   * code pattern could recur. K is lowered further when there are fewer distinct tokens than K.
   */
  minTokensPerCluster: number;
  /**
   * k-means++ draws its centres from a uniform subsample of min(N, seedTokensPerCluster * K) tokens:
   * seeding costs K passes over what it reads, so over all 100k tokens it would cost as much as a whole
   * Lloyd iteration; 16 per cluster still sees every cluster of more than ~1/16 of the average size.
   */
  seedTokensPerCluster: number;
  /**
   * The assignment step of an iteration compares a token with its own centroid and the `candidates`
   * centroids nearest to that centroid (approximate k-means: exact when the candidate list provably holds
   * the nearest, see kmeans.ts; >= K - 1 makes every step exact). One exhaustive pass costs ~2 s for 100k
   * x 64-d tokens and K = 512 here. Measured with 16 on 20k tokens of an 8-d manifold in 64-d: inertia
   * 1.7% above exact Lloyd's, in 2.6 s instead of 13 s.
   */
  candidates: number;
  /**
   * Lloyd iterations at most. 20 (faiss uses 25): on 100k tokens of a smooth 8-d manifold in 64-d the
   * inertia after 20 iterations was within 0.6% of that after 100 (measured), at a fifth of the time.
   */
  maxIterations: number;
  /**
   * Stop when the summed squared centroid shift of an iteration is <= tolerance * (mean per-dimension
   * variance of the tokens) (scikit-learn's rule, same default), or when no assignment changes.
   */
  tolerance: number;
  /** seed of the k-means++ sampling (main/capture/sample/rng.ts): the same seed gives the same codebook */
  seed: number;
}

export const A4MER_KMEANS_DEFAULTS: Readonly<A4MerKMeansConfig> = {
  k: 512,
  minTokensPerCluster: 4,
  seedTokensPerCluster: 16,
  candidates: 16,
  maxIterations: 20,
  tolerance: 1e-4,
  seed: 0x5eed,
};

/**
 * Frequent contiguous code patterns (GSP, gsp.ts). A pattern is frequent when its support reaches
 * max(minSupport, ceil(minSupportFraction * S)) for S code sequences (the fraction is always of S).
 */
export interface A4MerPatternConfig {
  /**
   * 'sequences' (default): support = number of sequences containing the pattern at least once (GSP's
   * sequence-database support): a motif must recur across different sequences, and one long repetitive
   * sequence (a walk: step, step, step...) cannot make its own pattern frequent.
   * 'occurrences': support = number of start positions where it occurs (overlaps included), the
   * paper's wording ("occurrences above a threshold"). Both are anti-monotone, as GSP needs.
   */
  support: 'sequences' | 'occurrences';
  /** absolute floor of the support: 2, a pattern must recur at least once to be a motif */
  minSupport: number;
  /** relative threshold: 1% of the sequences (2 for 200 thirty-second windows, 100 hours of motion: 120) */
  minSupportFraction: number;
  /**
   * longest pattern in atoms (the search stops at this level). 8 atoms are ~24 frames (~5 s at 5 fps):
   * about twice the paper's mean motif length (10.6 frames).
   */
  maxPatternLength: number;
  /**
   * shortest pattern returned, in atoms: 2, a motif composes atoms. (Level 1 is still mined: GSP grows
   * from it. The cover always allows a lone atom, which a 1-atom pattern would only rename.)
   */
  minPatternLength: number;
}

export const A4MER_PATTERN_DEFAULTS: Readonly<A4MerPatternConfig> = {
  support: 'sequences',
  minSupport: 2,
  minSupportFraction: 0.01,
  maxPatternLength: 8,
  minPatternLength: 2,
};

/**
 * Motif families (families.ts): k-means on the motif tokens, so that recurring motifs (and motifs of
 * different code patterns with similar tokens) share a family id, the colour of the motif track. The
 * family count is K_f = clamp(round(sqrt(M / 2)), 1, maxFamilies) for M motif tokens (the classic
 * sqrt(n/2) rule of thumb), then capped like the codebook: min(K_f, floor(M / minMotifsPerFamily)).
 */
export interface A4MerFamilyConfig {
  /** at most this many families: 32 stay distinguishable as colours on a timeline */
  maxFamilies: number;
  /** cap for small data, as A4MerKMeansConfig.minTokensPerCluster */
  minMotifsPerFamily: number;
  maxIterations: number;
  tolerance: number;
  seed: number;
}

export const A4MER_FAMILY_DEFAULTS: Readonly<A4MerFamilyConfig> = {
  maxFamilies: 32,
  minMotifsPerFamily: 4,
  maxIterations: 100,
  tolerance: 1e-4,
  seed: 0xfa31,
};

function check(ok: boolean, what: string, field: string, value: unknown, rule: string): void {
  if (!ok) throw new Error(`A4Mer ${what} config: ${field} = ${JSON.stringify(value)}, expected ${rule}`);
}

const isCount = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;

function checkLloyd(what: string, c: { maxIterations: number; tolerance: number; seed: number }): void {
  check(isCount(c.maxIterations, 1), what, 'maxIterations', c.maxIterations, 'an integer >= 1');
  check(c.tolerance >= 0 && Number.isFinite(c.tolerance), what, 'tolerance', c.tolerance, 'a number >= 0');
  check(Number.isFinite(c.seed), what, 'seed', c.seed, 'a finite number');
}

export function resolveKMeansConfig(overrides: Partial<A4MerKMeansConfig> = {}): A4MerKMeansConfig {
  const c: A4MerKMeansConfig = { ...A4MER_KMEANS_DEFAULTS, ...overrides };
  check(isCount(c.k, 1), 'k-means', 'k', c.k, 'an integer >= 1');
  check(
    c.minTokensPerCluster >= 1 && Number.isFinite(c.minTokensPerCluster),
    'k-means',
    'minTokensPerCluster',
    c.minTokensPerCluster,
    'a number >= 1',
  );
  check(
    c.seedTokensPerCluster >= 1 && Number.isFinite(c.seedTokensPerCluster),
    'k-means',
    'seedTokensPerCluster',
    c.seedTokensPerCluster,
    'a number >= 1',
  );
  check(isCount(c.candidates, 1), 'k-means', 'candidates', c.candidates, 'an integer >= 1');
  checkLloyd('k-means', c);
  return c;
}

export function resolvePatternConfig(overrides: Partial<A4MerPatternConfig> = {}): A4MerPatternConfig {
  const c: A4MerPatternConfig = { ...A4MER_PATTERN_DEFAULTS, ...overrides };
  check(
    c.support === 'sequences' || c.support === 'occurrences',
    'pattern',
    'support',
    c.support,
    "'sequences' or 'occurrences'",
  );
  check(isCount(c.minSupport, 1), 'pattern', 'minSupport', c.minSupport, 'an integer >= 1');
  check(
    c.minSupportFraction >= 0 && c.minSupportFraction <= 1,
    'pattern',
    'minSupportFraction',
    c.minSupportFraction,
    '0..1',
  );
  check(isCount(c.maxPatternLength, 1), 'pattern', 'maxPatternLength', c.maxPatternLength, 'an integer >= 1');
  const okMin = isCount(c.minPatternLength, 1) && c.minPatternLength <= c.maxPatternLength;
  check(okMin, 'pattern', 'minPatternLength', c.minPatternLength, 'an integer in 1..maxPatternLength');
  return c;
}

export function resolveFamilyConfig(overrides: Partial<A4MerFamilyConfig> = {}): A4MerFamilyConfig {
  const c: A4MerFamilyConfig = { ...A4MER_FAMILY_DEFAULTS, ...overrides };
  check(isCount(c.maxFamilies, 1), 'family', 'maxFamilies', c.maxFamilies, 'an integer >= 1');
  check(
    c.minMotifsPerFamily >= 1 && Number.isFinite(c.minMotifsPerFamily),
    'family',
    'minMotifsPerFamily',
    c.minMotifsPerFamily,
    'a number >= 1',
  );
  checkLloyd('family', c);
  return c;
}
