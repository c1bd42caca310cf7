import { describe, expect, it } from 'vitest';
import {
  boundaryF1,
  knnRecognition,
  knnRows,
  labelBoundaries,
  normalizeRows,
  segmentBoundaries,
} from '../../main/motifs/eval-metrics';

describe('motif evaluation metrics', () => {
  it('weighted k-NN recognises frames near their class and ignores unlabelled frames', () => {
    // Three classes along three axes, with small noise; test frames from the same classes.
    const d = 3;
    const make = (n: number, seed: number) => {
      const x = new Float32Array(n * d);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = i % 3;
        for (let c = 0; c < d; c++)
          x[i * d + c] = (c === y[i] ? 1 : 0) + 0.2 * Math.sin(seed + i * 7.1 + c * 3.3);
      }
      return { x: normalizeRows(x, d), y };
    };
    const train = make(60, 1);
    const test = make(30, 2);
    test.y[0] = -1;
    const r = knnRecognition(train.x, train.y, test.x, test.y, d, 3, { k: 5, tau: 0.1, center: false });
    expect(r.frames).toBe(29);
    expect(r.top1).toBe(1);
    expect(r.top3).toBe(1);
    // Shifted training labels make top-1 fail; with every training frame voting, every class gets some
    // weight, so top-3 (all three classes) still holds. A class without votes is never counted.
    const wrong = Int32Array.from(train.y.map((v) => (v + 1) % 3));
    const all = knnRecognition(train.x, wrong, test.x, test.y, d, 3, { k: 60, tau: 0.1, center: false });
    expect(all.top1).toBe(0);
    expect(all.top3).toBe(1);
    expect(knnRecognition(train.x, wrong, test.x, test.y, d, 3, { k: 5, tau: 0.1, center: false }).top3).toBe(0);
  });

  it('centres on the gallery mean only, then L2-normalises copies', () => {
    const gallery = Float32Array.from([11, 0, 9, 0, 10, 3]); // mean (10, 1)
    const queries = Float32Array.from([10, 5, 10, 1]);
    const plain = knnRows(gallery, queries, 2, false);
    expect(plain.gallery[0]).toBeCloseTo(1, 6); // (11, 0) -> (1, 0)
    const c = knnRows(gallery, queries, 2, true);
    expect(Array.from(c.gallery.slice(0, 2)).map((v) => +v.toFixed(6))).toEqual([0.707107, -0.707107]);
    expect(Array.from(c.queries.slice(0, 2))).toEqual([0, 1]); // (0, 4) from the gallery's mean, not its own
    expect(Array.from(c.queries.slice(2, 4))).toEqual([0, 0]); // at the mean: a zero row stays zero
    expect(Array.from(gallery)).toEqual([11, 0, 9, 0, 10, 3]); // inputs untouched
  });

  it('boundary F1 matches one-to-one within the tolerance', () => {
    expect(boundaryF1([10, 20, 30], [11, 29, 50], 2)).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: 2 / 3 });
    // Two predictions near one true boundary: only one counts.
    expect(boundaryF1([10, 11], [10], 2).precision).toBe(0.5);
    expect(boundaryF1([], [5], 2).f1).toBe(0);
    expect(
      segmentBoundaries([
        { start: 0, end: 4 },
        { start: 4, end: 9 },
        { start: 9, end: 12 },
      ]),
    ).toEqual([4, 9]);
    expect(
      labelBoundaries([
        { start: 3, end: 8 },
        { start: 8, end: 15 },
      ]),
    ).toEqual([3, 8, 15]);
  });
});
