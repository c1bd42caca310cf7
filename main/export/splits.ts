/**
 * Dataset splits by subject: every session of a subject lands in the same split, so no subject is seen
 * in training and in testing. A split is given either by ratios (subjects in name order, or shuffled
 * with a seed, cut by largest remainders) or by explicit subject lists.
 */

export type SplitSpec =
  | { kind: 'ratios'; ratios: { name: string; ratio: number }[]; seed?: number }
  | { kind: 'subjects'; lists: { name: string; subjects: string[] }[] };

/** The one split of an export without a split spec. */
export const DEFAULT_SPLIT = 'all';

const SPLIT_NAME = /^[A-Za-z0-9_-]+$/;

function checkNames(where: string, names: string[]): void {
  for (const n of names)
    if (!SPLIT_NAME.test(n)) throw new Error(`${where}: split name "${n}" is not letters, digits, _ or -`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`${where}: split "${dup}" is given twice`);
}

/** "train=0.8,val=0.1,test=0.1" (ratios are divided by their sum, so "8,1,1" works too). */
export function parseSplitRatios(spec: string, seed?: number): SplitSpec {
  const where = `--split "${spec}"`;
  const ratios = spec.split(',').map((part) => {
    const m = /^\s*([^=\s]+)\s*=\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*$/i.exec(part);
    if (!m) throw new Error(`${where}: "${part}" is not name=ratio`);
    return { name: m[1], ratio: Number(m[2]) };
  });
  checkNames(
    where,
    ratios.map((r) => r.name),
  );
  if (!(ratios.reduce((s, r) => s + r.ratio, 0) > 0)) throw new Error(`${where}: the ratios add up to 0`);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new Error(`${where}: seed ${seed} is not an integer`);
  return { kind: 'ratios', ratios, ...(seed === undefined ? {} : { seed }) };
}

/** "train:alice,bob;test:carol". */
export function parseSplitSubjects(spec: string): SplitSpec {
  const where = `--split-subjects "${spec}"`;
  const lists = spec
    .split(';')
    .filter((p) => p.trim() !== '')
    .map((part) => {
      const colon = part.indexOf(':');
      if (colon < 0) throw new Error(`${where}: "${part}" is not split:subject,subject`);
      const subjects = part
        .slice(colon + 1)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      return { name: part.slice(0, colon).trim(), subjects };
    });
  if (lists.length === 0) throw new Error(`${where}: no splits given`);
  checkNames(
    where,
    lists.map((l) => l.name),
  );
  const seen = new Map<string, string>();
  for (const l of lists)
    for (const s of l.subjects) {
      const other = seen.get(s);
      if (other !== undefined)
        throw new Error(`${where}: subject "${s}" is in "${other}" and in "${l.name}"`);
      seen.set(s, l.name);
    }
  return { kind: 'subjects', lists };
}

/** Code-unit order: the same on every machine and locale. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** mulberry32: a small seeded PRNG in [0, 1), so a seeded shuffle is the same everywhere. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Subjects per split by largest remainders: counts add up to n, ties go to the earlier split. */
export function splitCounts(n: number, ratios: readonly number[]): number[] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  const exact = ratios.map((r) => (n * r) / sum);
  const counts = exact.map(Math.floor);
  const order = exact
    .map((e, i) => ({ i, frac: e - Math.floor(e) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0, left = n - counts.reduce((a, b) => a + b, 0); k < left; k++) counts[order[k].i]++;
  return counts;
}

/** The split names in the spec's order ([DEFAULT_SPLIT] without a spec). */
export function splitNames(spec: SplitSpec | undefined): string[] {
  if (!spec) return [DEFAULT_SPLIT];
  return spec.kind === 'ratios' ? spec.ratios.map((r) => r.name) : spec.lists.map((l) => l.name);
}

/**
 * subject -> split for the given subjects (duplicates ignored). With explicit lists every subject
 * must be listed; the error names the subjects that are not.
 */
export function assignSplits(subjects: readonly string[], spec: SplitSpec | undefined): Map<string, string> {
  const unique = [...new Set(subjects)].sort(byCodeUnits);
  const out = new Map<string, string>();
  if (!spec) {
    for (const s of unique) out.set(s, DEFAULT_SPLIT);
    return out;
  }
  if (spec.kind === 'subjects') {
    for (const l of spec.lists) for (const s of l.subjects) out.set(s, l.name);
    const missing = unique.filter((s) => !out.has(s));
    if (missing.length > 0)
      throw new Error(
        `--split-subjects: subject(s) ${missing.map((s) => `"${s}"`).join(', ')} are in no split ` +
          `(splits: ${spec.lists.map((l) => l.name).join(', ')})`,
      );
    for (const s of [...out.keys()]) if (!unique.includes(s)) out.delete(s);
    return out;
  }
  const order = [...unique];
  if (spec.seed !== undefined) {
    // Fisher-Yates with the seeded generator.
    const rand = mulberry32(spec.seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const counts = splitCounts(
    order.length,
    spec.ratios.map((r) => r.ratio),
  );
  let k = 0;
  spec.ratios.forEach((r, i) => {
    for (let c = 0; c < counts[i]; c++) out.set(order[k++], r.name);
  });
  return out;
}
