import { describe, expect, it } from 'vitest';
import { Rng } from '../../main/capture/sample/rng';
import { buildPatternIndex, coverCost, coverSequence, type MotifSegment } from '../../main/motifs/cover';
import { familyCount, trainFamilies } from '../../main/motifs/families';
import { minePatterns } from '../../main/motifs/gsp';
import { assignNearest, cappedK, trainKMeans } from '../../main/motifs/kmeans';
import { A4MER_KMEANS_DEFAULTS, resolvePatternConfig } from '../../main/motifs/mining-config';

/** n tokens of dim values around `centres` (row-major), token i in cluster label[i]. */
function blobs(rng: Rng, centres: Float64Array, dim: number, perCluster: number, sigma: number) {
  const k = centres.length / dim;
  const n = k * perCluster;
  const x = new Float32Array(n * dim);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    label[i] = c;
    for (let j = 0; j < dim; j++) x[i * dim + j] = centres[c * dim + j] + sigma * rng.gaussian();
  }
  return { x, label, n };
}

function gaussianTokens(rng: Rng, n: number, dim: number): Float32Array {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.gaussian();
  return x;
}

/** Brute-force nearest centroid in Float64 (lower index on ties). */
function bruteNearest(x: Float32Array, c: Float32Array, dim: number): { codes: Int32Array; inertia: number } {
  const n = x.length / dim;
  const k = c.length / dim;
  const codes = new Int32Array(n);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let q = 0; q < k; q++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (x[i * dim + j] - c[q * dim + j]) ** 2;
      if (d < best) {
        best = d;
        codes[i] = q;
      }
    }
    inertia += best;
  }
  return { codes, inertia };
}

describe('k-means codebook', () => {
  const dim = 8;
  const rng = new Rng(7);
  const centres = new Float64Array(6 * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = 10 * rng.gaussian();
  const { x, label, n } = blobs(rng, centres, dim, 150, 0.05);

  it('recovers well-separated clusters: one code per cluster, centroids at the means', () => {
    const km = trainKMeans(x, dim, { k: 6 });
    expect(km.k).toBe(6);
    expect(km.converged).toBe(true);
    expect(km.refined).toBe(0);
    const codeOf = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (!codeOf.has(label[i])) codeOf.set(label[i], km.assignments[i]);
      expect(km.assignments[i]).toBe(codeOf.get(label[i]));
    }
    expect(new Set(codeOf.values()).size).toBe(6);
    for (const [cluster, code] of codeOf)
      for (let j = 0; j < dim; j++)
        expect(Math.abs(km.centroids[code * dim + j] - centres[cluster * dim + j])).toBeLessThan(0.03);
    expect(Array.from(km.counts).reduce((a, b) => a + b)).toBe(n);
  });

  it('is deterministic for a seed', () => {
    const y = gaussianTokens(new Rng(3), 2000, 16);
    const a = trainKMeans(y, 16, { k: 40, seed: 11 });
    const b = trainKMeans(y, 16, { k: 40, seed: 11 });
    expect(Array.from(b.centroids)).toEqual(Array.from(a.centroids));
    expect(Array.from(b.assignments)).toEqual(Array.from(a.assignments));
    expect(b.inertia).toBe(a.inertia);
    const c = trainKMeans(y, 16, { k: 40, seed: 12 });
    expect(Array.from(c.centroids)).not.toEqual(Array.from(a.centroids));
  });

  it('caps K for small data and for few distinct tokens', () => {
    expect(A4MER_KMEANS_DEFAULTS.k).toBe(512);
    expect(cappedK(512, 100000, 4)).toBe(512);
    expect(cappedK(512, 20, 4)).toBe(5);
    expect(cappedK(512, 3, 4)).toBe(1);
    expect(trainKMeans(gaussianTokens(new Rng(1), 20, 4), 4).k).toBe(5);
    const one = trainKMeans(gaussianTokens(new Rng(1), 3, 4), 4);
    expect(one.k).toBe(1);
    expect(one.requestedK).toBe(512);
    // 40 tokens, 3 distinct: K falls to 3, every token on its centroid
    const few = new Float32Array(40 * 2);
    for (let i = 0; i < 40; i++) few.set([i % 3, (i % 3) * 2], i * 2);
    const km = trainKMeans(few, 2, { k: 8, minTokensPerCluster: 1 });
    expect(km.k).toBe(3);
    expect(km.inertia).toBe(0);
    expect(new Set(km.assignments).size).toBe(3);
  });

  it('re-seeds an empty cluster with the farthest token', () => {
    const init = new Float32Array(7 * dim);
    for (let i = 0; i < 6 * dim; i++) init[i] = centres[i];
    init.fill(1000, 6 * dim); // far from everything: empty after the first assignment
    const km = trainKMeans(x, dim, {}, { initialCentroids: init });
    expect(km.k).toBe(7);
    expect(km.relocations).toBeGreaterThanOrEqual(1);
    expect(Math.min(...km.counts)).toBeGreaterThan(0);
    expect(Math.max(...km.centroids)).toBeLessThan(100);
  });

  it('returns the exact nearest-centroid codes, the same as inference, on unclustered data', () => {
    const y = gaussianTokens(new Rng(5), 3000, 16);
    const km = trainKMeans(y, 16, { k: 64 });
    const brute = bruteNearest(y, km.centroids, 16);
    expect(Array.from(km.assignments)).toEqual(Array.from(brute.codes));
    expect(km.inertia).toBeCloseTo(brute.inertia, 6);
    expect(Array.from(assignNearest(y, km))).toEqual(Array.from(km.assignments));
    const distances = new Float64Array(3000);
    assignNearest(y, km, undefined, distances);
    expect(distances.reduce((sum, d) => sum + d * d, 0)).toBeCloseTo(brute.inertia, 6);
    // candidate-list iterations stay close to exact Lloyd (every step exhaustive)
    const exact = trainKMeans(y, 16, { k: 64, candidates: 63, maxIterations: 100 });
    expect(km.inertia).toBeLessThan(exact.inertia * 1.03);
  });

  it('rejects bad tokens and config with clear errors', () => {
    const bad = new Float32Array(8).fill(1);
    bad[5] = NaN;
    expect(() => trainKMeans(bad, 4, {}, { source: 'lib.bin' })).toThrow(/lib\.bin.*token 1 .*non-finite/);
    expect(() => trainKMeans(new Float32Array(7), 4)).toThrow(/not a whole number/);
    expect(() => trainKMeans(new Float32Array(8), 4, { k: 0 })).toThrow(/k = 0/);
    expect(() =>
      assignNearest(new Float32Array(8), { k: 2, dim: 4, centroids: new Float32Array(4) }),
    ).toThrow(/codebook/);
  });
});

/** Every contiguous substring of length lo..hi with its support, by brute force: "a,b,c" -> support. */
function bruteForcePatterns(seqs: Int32Array[], lo: number, hi: number, bySequence: boolean, min: number) {
  const support = new Map<string, number>();
  seqs.forEach((s) => {
    const seen = new Set<string>();
    for (let i = 0; i < s.length; i++)
      for (let L = lo; L <= hi && i + L <= s.length; L++) {
        const key = Array.from(s.subarray(i, i + L)).join(',');
        if (bySequence && seen.has(key)) continue;
        seen.add(key);
        support.set(key, (support.get(key) ?? 0) + 1);
      }
  });
  return new Map([...support].filter(([, v]) => v >= min));
}

const asMap = (p: ReturnType<typeof minePatterns>) =>
  new Map(p.map((run, id) => [Array.from(run).join(','), p.support[id]] as const));

describe('GSP contiguous pattern mining', () => {
  const rng = new Rng(21);
  const A = [1, 2, 3];
  const B = [4, 5, 6, 7];
  // 60 sequences of 30 random filler codes (100..4999); A in 0..39 (twice in 0..4), B in 20..49, and
  // 8 _ 9 _ 10 (non-contiguous, random gaps) in 0..49
  const seqs: Int32Array[] = [];
  for (let s = 0; s < 60; s++) {
    const seq = new Int32Array(30);
    for (let i = 0; i < 30; i++) seq[i] = 100 + rng.int(4900);
    if (s < 40) seq.set(A, rng.int(4));
    if (s < 5) seq.set(A, 25);
    if (s >= 20 && s < 50) seq.set(B, 6 + rng.int(4));
    if (s < 50) seq.set([8, 100 + rng.int(4900), 9, 100 + rng.int(4900), 10], 14 + rng.int(4));
    seqs.push(seq);
  }

  it('finds exactly the planted contiguous patterns with their sequence support', () => {
    const found = asMap(minePatterns(seqs, { minSupport: 10, minSupportFraction: 0 }));
    const expected = new Map<string, number>();
    for (const [run, sup] of [
      [A, 40],
      [B, 30],
    ] as const)
      for (let i = 0; i < run.length; i++)
        for (let L = 2; i + L <= run.length; L++) expected.set(run.slice(i, i + L).join(','), sup);
    expect(found).toEqual(expected);
    // with single codes: 8, 9 and 10 are frequent, but never contiguous
    const withSingles = asMap(
      minePatterns(seqs, { minSupport: 10, minSupportFraction: 0, minPatternLength: 1 }),
    );
    expect(withSingles.get('8')).toBe(50);
    expect(withSingles.get('10')).toBe(50);
    expect([...withSingles.keys()].filter((k) => k.includes('8,') || k.includes(',9'))).toEqual([]);
  });

  it('counts occurrences when asked, honours the length limits and the relative threshold', () => {
    const occ = minePatterns(seqs, { support: 'occurrences', minSupport: 10, minSupportFraction: 0 });
    expect(asMap(occ).get('1,2,3')).toBe(45);
    expect(occ.supportMode).toBe('occurrences');
    const short = minePatterns(seqs, { minSupport: 10, minSupportFraction: 0, maxPatternLength: 2 });
    expect(Math.max(...short.map((p) => p.length))).toBe(2);
    const rel = minePatterns(seqs, { minSupport: 2, minSupportFraction: 0.6 }); // ceil(36) > 30: B drops
    expect(rel.minSupport).toBe(36);
    expect([...asMap(rel).keys()]).toEqual(['1,2', '2,3', '1,2,3']);
  });

  it('equals brute-force counting of every contiguous substring (random small libraries)', () => {
    const r = new Rng(99);
    for (let trial = 0; trial < 150; trial++) {
      const lib = Array.from({ length: 1 + r.int(12) }, () => {
        const s = new Int32Array(r.int(16));
        for (let i = 0; i < s.length; i++) s[i] = 3 * r.int(4); // sparse code values
        return s;
      });
      const maxPatternLength = 1 + r.int(5);
      const config = resolvePatternConfig({
        support: r.int(2) === 0 ? 'sequences' : 'occurrences',
        minSupport: 1 + r.int(4),
        minSupportFraction: 0,
        maxPatternLength,
        minPatternLength: 1 + r.int(maxPatternLength),
      });
      const mined = minePatterns(lib, config);
      const bySeq = config.support === 'sequences';
      const brute = bruteForcePatterns(
        lib,
        config.minPatternLength,
        maxPatternLength,
        bySeq,
        config.minSupport,
      );
      expect(asMap(mined)).toEqual(brute);
      // shortest first, then lexicographic by code value
      for (let p = 1; p < mined.length; p++) {
        const [a, b] = [mined[p - 1], mined[p]];
        const i = a.findIndex((v, j) => v !== b[j]);
        expect(a.length < b.length || (a.length === b.length && i >= 0 && a[i] < b[i])).toBe(true);
      }
    }
  });

  it('rejects bad codes naming the sequence and position', () => {
    expect(() => minePatterns([Int32Array.from([1, 2]), Int32Array.from([3, -1])], {}, 'lib')).toThrow(
      /lib.*sequence 1 position 1 has code -1/,
    );
    expect(() => minePatterns([], { minSupport: 0 })).toThrow(/minSupport = 0/);
  });
});

/** All covers of codes (compositions into lone atoms and patterns), by enumeration. */
function allCovers(codes: Int32Array, patterns: Int32Array[]): MotifSegment[][] {
  const idOf = new Map(patterns.map((p, id) => [Array.from(p).join(','), id] as const));
  const out: MotifSegment[][] = [];
  const walk = (i: number, acc: MotifSegment[]) => {
    if (i === codes.length) return void out.push(acc.slice());
    for (let L = 1; i + L <= codes.length; L++) {
      const id = idOf.get(Array.from(codes.subarray(i, i + L)).join(','));
      if (L > 1 && id === undefined) continue;
      acc.push({ start: i, end: i + L, pattern: id ?? -1 });
      walk(i + L, acc);
      acc.pop();
    }
  };
  walk(0, []);
  return out;
}

describe('fewest-pieces motif cover', () => {
  it('is optimal, non-overlapping and complete (brute force over all covers)', () => {
    const r = new Rng(5);
    for (let trial = 0; trial < 60; trial++) {
      const lib = Array.from({ length: 12 }, () => {
        const s = new Int32Array(2 + r.int(9));
        for (let i = 0; i < s.length; i++) s[i] = r.int(3);
        return s;
      });
      const patterns = minePatterns(lib, {
        minSupport: 2 + r.int(3),
        minSupportFraction: 0,
        minPatternLength: 1 + r.int(2),
      });
      const index = buildPatternIndex(patterns);
      for (const codes of lib) {
        const cover = coverSequence(codes, index);
        // complete and non-overlapping, pieces are what they claim
        expect(cover[0].start).toBe(0);
        expect(cover[cover.length - 1].end).toBe(codes.length);
        cover.forEach((seg, m) => {
          if (m > 0) expect(seg.start).toBe(cover[m - 1].end);
          if (seg.pattern >= 0)
            expect(Array.from(patterns[seg.pattern])).toEqual(Array.from(codes.subarray(seg.start, seg.end)));
          else expect(seg.end - seg.start).toBe(1);
        });
        // optimal: the least (pieces, lone atoms, -support); ties: the longest pieces from the left
        const key = (c: MotifSegment[]) => {
          const cost = coverCost(c, index);
          return [cost.pieces, cost.lone, -cost.support, ...c.map((s) => -(s.end - s.start))];
        };
        const cmp = (a: number[], b: number[]) => {
          for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
          return a.length - b.length;
        };
        const best = allCovers(codes, patterns).sort((a, b) => cmp(key(a), key(b)))[0];
        expect(cover).toEqual(best);
      }
    }
  });

  it('covers a planted pattern by one motif and accepts a plain pattern list', () => {
    const patterns = [Int32Array.from([1, 2, 3]), Int32Array.from([2, 3])];
    const codes = Int32Array.from([9, 1, 2, 3, 7, 2, 3]);
    expect(coverSequence(codes, patterns)).toEqual([
      { start: 0, end: 1, pattern: -1 },
      { start: 1, end: 4, pattern: 0 },
      { start: 4, end: 5, pattern: -1 },
      { start: 5, end: 7, pattern: 1 },
    ]);
    expect(coverSequence(new Int32Array(0), patterns)).toEqual([]);
    expect(() => buildPatternIndex([new Int32Array(0)])).toThrow(/pattern 0 is empty/);
  });
});

describe('motif families', () => {
  it('groups identical planted motifs and numbers families by size', () => {
    const rng = new Rng(8);
    const dim = 16;
    const types = [12, 10, 8, 6]; // copies of 4 planted motifs
    const proto = types.map(() => Float32Array.from({ length: dim }, () => 5 * rng.gaussian()));
    const rows: { type: number; v: Float32Array }[] = [];
    types.forEach((copies, t) => {
      for (let c = 0; c < copies; c++) rows.push({ type: t, v: proto[t] });
    });
    for (let i = 0; i < 20; i++)
      rows.push({ type: -1, v: Float32Array.from({ length: dim }, () => 0.3 * rng.gaussian()) });
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const tokens = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => tokens.set(r.v, i * dim));
    const fam = trainFamilies(tokens, dim);
    expect(fam.requested).toBe(familyCount(rows.length));
    const familyOfType = types.map(
      (_, t) => new Set(rows.flatMap((r, i) => (r.type === t ? [fam.family[i]] : []))),
    );
    for (const s of familyOfType) expect(s.size).toBe(1);
    expect(new Set(familyOfType.map((s) => [...s][0])).size).toBe(4);
    for (let f = 1; f < fam.k; f++) expect(fam.sizes[f]).toBeLessThanOrEqual(fam.sizes[f - 1]);
    expect(Array.from(assignNearest(tokens, fam))).toEqual(Array.from(fam.family));
  });

  it('sizes the family count by sqrt(M / 2), capped', () => {
    expect(familyCount(68)).toBe(6);
    expect(familyCount(100000)).toBe(32);
    expect(familyCount(3)).toBe(1);
    expect(familyCount(200, { maxFamilies: 4 })).toBe(4);
  });
});
