/**
 * Motif segments of one code sequence (A4Mer's Motifs step: "dynamic programming on each sequence selects
 * a non-overlapping set of patterns covering the entire sequence with the minimum number of patterns").
 * Pieces are occurrences of mined patterns or lone atoms (always allowed, so a cover always exists). Among
 * the covers with the fewest pieces the DP prefers, in this order:
 *   1. fewer lone atoms (more of the sequence inside multi-atom patterns),
 *   2. a larger total support of the pieces' patterns (more frequent patterns; a lone atom whose code is
 *      itself a 1-atom pattern counts that pattern's support, any other lone atom 0),
 *   3. then, piece by piece from the left, the longer piece (a deterministic rule for what is left).
 * The DP runs from the right: best[i] = the best cover of atoms i..n-1 = min over pieces [i, i+L) of
 * (1 + pieces, [L = 1] + lone, support + rest) of best[i+L], lexicographically; candidate pieces come from
 * walking a trie of the patterns along the codes from i, so a position costs O(longest pattern).
 */

/** Atoms [start, end) of a sequence (end exclusive) form one motif; pattern: its id, -1 for a lone atom. */
export interface MotifSegment {
  start: number;
  end: number;
  pattern: number;
}

/** A trie of the patterns (build once, cover many sequences). */
export interface PatternIndex {
  /** child of node n by code c: children.get(n * width + c) */
  children: Map<number, number>;
  width: number;
  /** pattern id ending at each node, -1 where none */
  patternAt: Int32Array;
  /** support of each pattern (0 when not given) */
  support: Float64Array;
  longest: number;
}

/**
 * Builds the trie of `patterns` (code runs; a pattern id is an index). Supports come from `support`, or
 * from a `support` field on the array itself (gsp.ts minePatterns' result); without them rule 2 is void.
 * A repeated pattern keeps its first id.
 */
export function buildPatternIndex(
  patterns: readonly ArrayLike<number>[] & { support?: ArrayLike<number> },
  support: ArrayLike<number> | undefined = patterns.support,
): PatternIndex {
  let width = 1;
  let nodes = 1;
  patterns.forEach((p, id) => {
    if (p.length === 0) throw new Error(`A4Mer motif cover: pattern ${id} is empty`);
    for (let i = 0; i < p.length; i++)
      if (!Number.isInteger(p[i]) || p[i] < 0)
        throw new Error(`A4Mer motif cover: pattern ${id} has code ${p[i]}, expected an integer >= 0`);
      else width = Math.max(width, p[i] + 1);
    nodes += p.length;
  });
  if (support && support.length !== patterns.length)
    throw new Error(`A4Mer motif cover: ${support.length} supports for ${patterns.length} patterns`);
  const children = new Map<number, number>();
  const patternAt = new Int32Array(nodes).fill(-1);
  let made = 1;
  let longest = 0;
  patterns.forEach((p, id) => {
    let node = 0;
    for (let i = 0; i < p.length; i++) {
      const key = node * width + p[i];
      let child = children.get(key);
      if (child === undefined) {
        child = made++;
        children.set(key, child);
      }
      node = child;
    }
    if (patternAt[node] < 0) patternAt[node] = id;
    longest = Math.max(longest, p.length);
  });
  const sup = new Float64Array(patterns.length);
  if (support) for (let id = 0; id < sup.length; id++) sup[id] = support[id];
  return { children, width, patternAt, support: sup, longest };
}

/** Cost of a cover: compared lexicographically (pieces, lone atoms, -support). */
export interface CoverCost {
  pieces: number;
  lone: number;
  support: number;
}

/** The cost of given segments under `index` (for checks and reports). */
export function coverCost(segments: readonly MotifSegment[], index: PatternIndex): CoverCost {
  let lone = 0;
  let support = 0;
  for (const s of segments) {
    if (s.end - s.start === 1) lone++;
    if (s.pattern >= 0) support += index.support[s.pattern];
  }
  return { pieces: segments.length, lone, support };
}

/**
 * The fewest-pieces cover of `codes` (see the file comment) as motif segments in order. `patterns` is a
 * built index or the pattern list (then indexed on every call: build it once for many sequences).
 */
export function coverSequence(
  codes: ArrayLike<number>,
  patterns: PatternIndex | (readonly ArrayLike<number>[] & { support?: ArrayLike<number> }),
): MotifSegment[] {
  const index = Array.isArray(patterns) ? buildPatternIndex(patterns) : (patterns as PatternIndex);
  const { children, width, patternAt, support, longest } = index;
  const n = codes.length;
  const pieces = new Int32Array(n + 1);
  const lone = new Int32Array(n + 1);
  const sup = new Float64Array(n + 1);
  const len = new Int32Array(n);
  const pat = new Int32Array(n);
  const candLen = new Int32Array(longest + 1);
  const candPat = new Int32Array(longest + 1);
  for (let i = n - 1; i >= 0; i--) {
    // candidate pieces from i in increasing length: the lone atom, then the patterns along the trie walk
    candLen[0] = 1;
    candPat[0] = -1;
    let count = 1;
    let node = 0;
    for (let L = 1; L <= longest && i + L <= n; L++) {
      const c = codes[i + L - 1];
      if (!Number.isInteger(c) || c < 0 || c >= width) break;
      const child = children.get(node * width + c);
      if (child === undefined) break;
      node = child;
      if (patternAt[node] < 0) continue;
      if (L === 1) candPat[0] = patternAt[node];
      else {
        candLen[count] = L;
        candPat[count++] = patternAt[node];
      }
    }
    let bestPieces = Infinity;
    let bestLone = 0;
    let bestSup = 0;
    for (let m = count - 1; m >= 0; m--) {
      // longest first: a later candidate must be strictly better to replace it (rule 3)
      const L = candLen[m];
      const p = candPat[m];
      const j = i + L;
      const cp = 1 + pieces[j];
      const cl = (L === 1 ? 1 : 0) + lone[j];
      const cs = (p >= 0 ? support[p] : 0) + sup[j];
      if (cp < bestPieces || (cp === bestPieces && (cl < bestLone || (cl === bestLone && cs > bestSup)))) {
        bestPieces = cp;
        bestLone = cl;
        bestSup = cs;
        len[i] = L;
        pat[i] = p;
      }
    }
    pieces[i] = bestPieces;
    lone[i] = bestLone;
    sup[i] = bestSup;
  }
  const out: MotifSegment[] = [];
  for (let i = 0; i < n; i += len[i]) out.push({ start: i, end: i + len[i], pattern: pat[i] });
  return out;
}
