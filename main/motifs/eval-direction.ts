/**
 * Direction diagnostic of a trained A4Mer model (`studio eval motifs --model`): does a token change when
 * its segment is played backwards? Sitting down and standing up pass through the same postures in
 * opposite orders; tokens that ignore direction confuse them (issue 6's notes, README Evaluation).
 * - atoms (>= 3 frames): cosine between an atom's stage-1 token and the token of the atom played
 *   backwards: its frames in reverse order with the rate features negated (preprocess.ts isRateFeature),
 *   what preprocessing the clip played backwards gives (up to the one-sided differences at its ends);
 * - motifs (>= 2 atoms): cosine between a motif's stage-2 token and the token of the motif played
 *   backwards: its atoms in reverse order, each played backwards (the atom times stay).
 * Each is read against the cosine between two different segments of the same window (segment i and
 * (7 i + 3) mod n, a fixed pick): 1 = playing backwards changes nothing; at the "other" figure it
 * changes a token as much as taking another segment does.
 */
import { type AtomSegments, frameSegmentIds, windowAtoms } from './atoms';
import { type ExtractOptions, loadStages, motifStageWindow } from './extract';
import { assignNearest } from './kmeans';
import { type A4MerSequence, isRateFeature, preprocessSequence } from './preprocess';
import { motifLastAtom } from './train-data';
import { coverWindows } from './train-mining';

export interface DirectionFigures {
  /** mean cosine of an atom's token to the token of the atom played backwards */
  atomReversed: number;
  /** mean cosine between two different atoms of a window */
  atomOther: number;
  /** the same for motifs of >= 2 atoms */
  motifReversed: number;
  motifOther: number;
  /** atoms of >= 3 frames and motifs of >= 2 atoms measured */
  atoms: number;
  motifs: number;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Window features with every atom played backwards (frames reversed, rates negated). */
function reversedAtoms(features: Float32Array, atoms: AtomSegments, D: number, joints: number): Float32Array {
  const out = features.slice();
  for (let k = 0; k < atoms.count; k++) {
    const first = atoms.starts[k];
    const last = atoms.ends[k] - 1;
    for (let t = first; t <= last; t++) {
      const src = (first + last - t) * D;
      for (let c = 0; c < D; c++)
        out[t * D + c] = isRateFeature(c, joints) ? -features[src + c] : features[src + c];
    }
  }
  return out;
}

/** Tokens [n, d] in reverse order within each run starts[m] .. starts[m + 1] - 1 of n rows. */
function reversedRuns(tokens: Float32Array, starts: readonly number[], n: number, d: number): Float32Array {
  const out = new Float32Array(tokens.length);
  starts.forEach((first, m) => {
    const last = motifLastAtom(starts, m, n);
    for (let a = first; a <= last; a++)
      out.set(tokens.subarray((first + last - a) * d, (first + last - a + 1) * d), a * d);
  });
  return out;
}

/** The direction figures of the model in `dir` over `sequences` (which must have the model's joints). */
export async function directionDiagnostic(
  dir: string,
  sequences: readonly A4MerSequence[],
  options: ExtractOptions = {},
): Promise<DirectionFigures> {
  const { vocabulary: v, stage1, stage2 } = await loadStages(dir, options);
  const sum = { atomReversed: 0, atomOther: 0, motifReversed: 0, motifOther: 0 };
  const count = { atomReversed: 0, atomOther: 0, motifReversed: 0, motifOther: 0 };
  const add = (key: keyof typeof sum, x: number): void => {
    sum[key] += x;
    count[key]++;
  };
  const d1 = v.stage1.dModel;
  const d2 = v.stage2.dModel;
  const row = (x: Float32Array, i: number, d: number): Float32Array => x.subarray(i * d, (i + 1) * d);
  try {
    for (const seq of sequences) {
      const input = preprocessSequence(seq, v.input);
      const atomsOf = input.windows.map((w) => windowAtoms(input, w, v.atoms));
      const segmentOf = input.windows.map((w, i) => frameSegmentIds(atomsOf[i], w.frames));
      const t1 = await stage1.run(
        input.windows.map((w, i) => ({ features: w.features, segmentOf: segmentOf[i] })),
      );
      const t1r = await stage1.run(
        input.windows.map((w, i) => ({
          features: reversedAtoms(w.features, atomsOf[i], input.D, input.joints),
          segmentOf: segmentOf[i],
        })),
      );
      const codes = t1.map((t) => assignNearest(t.tokens, v.codebook, undefined, undefined, seq.source));
      const starts = coverWindows(codes, v.patterns, v.patternSupport).map((c) => c.starts);
      const t2 = await stage2.run(
        atomsOf.map((atoms, i) => motifStageWindow(atoms, starts[i], t1[i].tokens)),
      );
      const t2r = await stage2.run(
        atomsOf.map((atoms, i) =>
          motifStageWindow(atoms, starts[i], reversedRuns(t1r[i].tokens, starts[i], atoms.count, d1)),
        ),
      );
      atomsOf.forEach((atoms, i) => {
        const n = atoms.count;
        for (let a = 0; a < n; a++) {
          if (atoms.ends[a] - atoms.starts[a] >= 3)
            add('atomReversed', cosine(row(t1[i].tokens, a, d1), row(t1r[i].tokens, a, d1)));
          const b = (7 * a + 3) % n;
          if (b !== a) add('atomOther', cosine(row(t1[i].tokens, a, d1), row(t1[i].tokens, b, d1)));
        }
        const s = starts[i];
        s.forEach((first, m) => {
          if (motifLastAtom(s, m, n) > first)
            add('motifReversed', cosine(row(t2[i].tokens, m, d2), row(t2r[i].tokens, m, d2)));
          const o = (7 * m + 3) % s.length;
          if (o !== m) add('motifOther', cosine(row(t2[i].tokens, m, d2), row(t2[i].tokens, o, d2)));
        });
      });
    }
  } finally {
    await stage1.dispose();
    await stage2.dispose();
  }
  const mean = (k: keyof typeof sum): number => (count[k] > 0 ? sum[k] / count[k] : Number.NaN);
  return {
    atomReversed: mean('atomReversed'),
    atomOther: mean('atomOther'),
    motifReversed: mean('motifReversed'),
    motifOther: mean('motifOther'),
    atoms: count.atomReversed,
    motifs: count.motifReversed,
  };
}
