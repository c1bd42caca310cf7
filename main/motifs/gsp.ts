import { type A4MerPatternConfig, resolvePatternConfig } from './mining-config';

/**
 * Frequent contiguous code patterns (A4Mer's Motifs step: "GSP iteratively expands frequent subsequences
 * with occurrences above a threshold"). The Generalized Sequential Pattern algorithm (Srikant & Agrawal
 * 1996) restricted to contiguous patterns, level-wise: level 1 = the frequent codes; a length-(l+1)
 * candidate joins a frequent length-l pattern p with a code c, and is counted only if its length-l
 * suffix p[1..] + c is frequent too (GSP's join and Apriori prune: for a contiguous pattern its only
 * contiguous length-l subpatterns are that prefix and that suffix). Candidates are counted from the
 * occurrence lists of their prefix (each occurrence extended by the next code: a vertical layout, as in
 * SPADE), so a level costs O(occurrences of the previous level), and level growth stops at
 * maxPatternLength or when no candidate is frequent. Support (config.support): the number of sequences
 * containing the pattern (default) or the number of its start positions; both are anti-monotone, so the
 * prune loses nothing and the result equals counting every contiguous substring by brute force.
 * A pattern is frequent when support >= max(minSupport, ceil(minSupportFraction * sequences)).
 */

/**
 * Frequent patterns, shortest first, then in lexicographic code order; a pattern id is an index. The
 * array (of code runs) carries each pattern's support and the mining parameters.
 */
export interface FrequentPatterns extends Array<Int32Array> {
  /** support[p] of pattern p (sequences or occurrences, see `supportMode`) */
  support: Int32Array;
  supportMode: A4MerPatternConfig['support'];
  /** the absolute threshold applied */
  minSupport: number;
  /** number of sequences mined */
  sequences: number;
}

/** max(minSupport, ceil(minSupportFraction * sequences)). */
export function effectiveMinSupport(sequences: number, config: A4MerPatternConfig): number {
  return Math.max(config.minSupport, Math.ceil(config.minSupportFraction * sequences));
}

/** One level of patterns: pattern q = its parent (level l-1 id) + code `last`, occurrences in CSR. */
interface Level {
  count: number;
  parent: Int32Array;
  /** dense code appended to the parent */
  last: Int32Array;
  /** id at level l-1 of the pattern without its first code (-1 at level 1) */
  suffix: Int32Array;
  support: Int32Array;
  /** children of q at the next level: ids [childStart[q], childEnd[q]), increasing `last` */
  childStart: Int32Array;
  childEnd: Int32Array;
  /** occurrences of q: entries [occStart[q], occStart[q+1]) of occSeq / occPos (start positions) */
  occStart: Int32Array;
  occSeq: Int32Array;
  occPos: Int32Array;
}

function allocateLevel(patterns: number, occurrences: number): Level {
  return {
    count: 0,
    parent: new Int32Array(patterns),
    last: new Int32Array(patterns),
    suffix: new Int32Array(patterns),
    support: new Int32Array(patterns),
    childStart: new Int32Array(patterns),
    childEnd: new Int32Array(patterns),
    occStart: new Int32Array(patterns + 1),
    occSeq: new Int32Array(occurrences),
    occPos: new Int32Array(occurrences),
  };
}

/** Id of the child of `q` (a pattern of level `lv`) ending with dense code c, -1 if not frequent. */
function childOf(lv: Level, q: number, c: number, next: Level): number {
  let lo = lv.childStart[q];
  let hi = lv.childEnd[q] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = next.last[mid];
    if (v === c) return mid;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Dense codes: each sequence's codes replaced by their rank among the distinct codes. */
function densify(
  sequences: readonly ArrayLike<number>[],
  what: string,
): { dense: Int32Array[]; codes: Int32Array } {
  let total = 0;
  sequences.forEach((seq, s) => {
    for (let i = 0; i < seq.length; i++)
      if (!Number.isInteger(seq[i]) || seq[i] < 0 || seq[i] > 0x7fffffff)
        throw new Error(`${what}: sequence ${s} position ${i} has code ${seq[i]}, expected an integer >= 0`);
    total += seq.length;
  });
  const all = new Int32Array(total);
  let o = 0;
  for (const seq of sequences) for (let i = 0; i < seq.length; i++) all[o++] = seq[i];
  all.sort();
  let m = 0;
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) all[m++] = all[i];
  const codes = all.slice(0, m);
  const dense = sequences.map((seq) => {
    const d = new Int32Array(seq.length);
    for (let i = 0; i < seq.length; i++) {
      let lo = 0;
      let hi = m - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (codes[mid] < seq[i]) lo = mid + 1;
        else hi = mid;
      }
      d[i] = lo;
    }
    return d;
  });
  return { dense, codes };
}

/**
 * Mines the frequent contiguous patterns of `sequences` (one code array per sequence, codes >= 0) of
 * length config.minPatternLength..maxPatternLength. `source` is named in Errors.
 */
export function minePatterns(
  sequences: readonly ArrayLike<number>[],
  config: Partial<A4MerPatternConfig> = {},
  source?: string,
): FrequentPatterns {
  const what = `A4Mer pattern mining${source ? ` (${source})` : ''}`;
  const cfg = resolvePatternConfig(config);
  const minSupport = effectiveMinSupport(sequences.length, cfg);
  const bySequence = cfg.support === 'sequences';
  const { dense, codes } = densify(sequences, what);
  const m = codes.length;
  const total = dense.reduce((n, d) => n + d.length, 0);

  // level 1: every code, its support and occurrences (scratch indexed by dense code)
  const count = new Int32Array(m);
  const occCount = new Int32Array(m);
  const lastSeq = new Int32Array(m).fill(-1);
  dense.forEach((d, s) => {
    for (let i = 0; i < d.length; i++) {
      const c = d[i];
      occCount[c]++;
      if (!bySequence || lastSeq[c] !== s) count[c]++;
      lastSeq[c] = s;
    }
  });
  let lv = allocateLevel(m, total);
  const id1 = new Int32Array(m).fill(-1);
  for (let c = 0; c < m; c++) {
    if (count[c] < minSupport) continue;
    const q = lv.count++;
    id1[c] = q;
    lv.parent[q] = -1;
    lv.last[q] = c;
    lv.suffix[q] = -1;
    lv.support[q] = count[c];
    lv.occStart[q + 1] = lv.occStart[q] + occCount[c];
  }
  const write = lv.occStart.slice(0, lv.count);
  dense.forEach((d, s) => {
    for (let i = 0; i < d.length; i++) {
      const q = id1[d[i]];
      if (q < 0) continue;
      lv.occSeq[write[q]] = s;
      lv.occPos[write[q]++] = i;
    }
  });

  const levels: Level[] = [lv];
  // scratch per dense code c, for the candidates q + c of one parent q (reset after each parent)
  const touched = new Int32Array(m);
  const suffixOf = new Int32Array(m);
  const childOfCode = new Int32Array(m);
  count.fill(0);
  occCount.fill(0);
  lastSeq.fill(-1);
  for (let l = 1; l < cfg.maxPatternLength && lv.count > 0; l++) {
    const prev = l >= 2 ? levels[l - 2] : null;
    const capacity = lv.occStart[lv.count];
    const next = allocateLevel(capacity, capacity);
    for (let q = 0; q < lv.count; q++) {
      let nTouched = 0;
      const from = lv.occStart[q];
      const to = lv.occStart[q + 1];
      for (let e = from; e < to; e++) {
        const s = lv.occSeq[e];
        const end = lv.occPos[e] + l;
        if (end >= dense[s].length) continue;
        const c = dense[s][end];
        if (occCount[c]++ === 0) {
          // GSP prune: the candidate's suffix (q without its first code, then c) must be frequent
          suffixOf[c] = prev ? childOf(prev, lv.suffix[q], c, lv) : id1[c];
          touched[nTouched++] = c;
        }
        if (suffixOf[c] < 0) continue;
        if (!bySequence || lastSeq[c] !== s) count[c]++;
        lastSeq[c] = s;
      }
      touched.subarray(0, nTouched).sort();
      lv.childStart[q] = next.count;
      for (let t = 0; t < nTouched; t++) {
        const c = touched[t];
        childOfCode[c] = -1;
        if (suffixOf[c] < 0 || count[c] < minSupport) continue;
        const child = next.count++;
        childOfCode[c] = child;
        next.parent[child] = q;
        next.last[child] = c;
        next.suffix[child] = suffixOf[c];
        next.support[child] = count[c];
        next.occStart[child + 1] = next.occStart[child] + occCount[c];
      }
      lv.childEnd[q] = next.count;
      for (let e = from; e < to; e++) {
        const s = lv.occSeq[e];
        const end = lv.occPos[e] + l;
        if (end >= dense[s].length) continue;
        const c = dense[s][end];
        const child = childOfCode[c];
        if (child < 0) continue;
        const w = next.occStart[child + 1] - occCount[c]--; // fills the child's slots in order
        next.occSeq[w] = s;
        next.occPos[w] = lv.occPos[e];
      }
      for (let t = 0; t < nTouched; t++) {
        const c = touched[t];
        count[c] = 0;
        occCount[c] = 0;
        lastSeq[c] = -1;
      }
    }
    levels.push(next);
    lv = next;
  }

  // patterns of length >= minPatternLength, codes rebuilt from parents
  const out: Int32Array[] = [];
  const support: number[] = [];
  let prevCodes: Int32Array[] = [];
  levels.forEach((level, l) => {
    const runs: Int32Array[] = [];
    for (let q = 0; q < level.count; q++) {
      const run = new Int32Array(l + 1);
      if (l > 0) run.set(prevCodes[level.parent[q]]);
      run[l] = codes[level.last[q]];
      runs.push(run);
      if (l + 1 >= cfg.minPatternLength) {
        out.push(run);
        support.push(level.support[q]);
      }
    }
    prevCodes = runs;
  });
  return Object.assign(out, {
    support: Int32Array.from(support),
    supportMode: cfg.support,
    minSupport,
    sequences: sequences.length,
  });
}
