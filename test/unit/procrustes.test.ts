import { describe, expect, it } from 'vitest';
import { rigidAlign } from '../../main/geometry/procrustes';
import { rodrigues } from '../../main/geometry/rotation';

describe('rigidAlign (Horn)', () => {
  it('recovers a large rotation and translation, ignoring zero-weight pairs', () => {
    const R = new Float64Array(9);
    rodrigues(R, 0, [0.3, -2.6, 1.1], 0);
    const t = [0.5, -1.2, 2];
    const src = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.3, 0.7, -0.2, 5, 5, 5];
    const dst = src.map((_, i) => {
      const p = Math.floor(i / 3);
      const r = i % 3;
      return R[r * 3] * src[p * 3] + R[r * 3 + 1] * src[p * 3 + 1] + R[r * 3 + 2] * src[p * 3 + 2] + t[r];
    });
    dst[15] += 10; // an outlier with weight 0
    const outR = new Float64Array(9);
    const outT = new Float64Array(3);
    expect(rigidAlign(src, dst, [1, 1, 2, 1, 0.5, 0], outR, outT)).toBe(true);
    for (let i = 0; i < 9; i++) expect(outR[i]).toBeCloseTo(R[i], 9);
    for (let i = 0; i < 3; i++) expect(outT[i]).toBeCloseTo(t[i], 9);
    expect(rigidAlign(src, dst, [0, 0, 0, 0, 0, 0], outR, outT)).toBe(false);
  });
});
