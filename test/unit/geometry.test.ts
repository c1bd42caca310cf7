import { describe, expect, it } from 'vitest';
import { cameraCentre, projectPoint, undistortPixel } from '../../main/geometry/camera';
import { triangulatePoint, triangulateRobust } from '../../main/geometry/triangulate';
import type { CameraCalibration } from '../../preload/api';

/** A camera at `C` looking at `target` (world Z up), OpenCV axes. */
function lookAt(C: number[], target: number[], dist = [0, 0, 0, 0, 0]): CameraCalibration {
  const z = target.map((v, i) => v - C[i]);
  const nz = Math.hypot(...z);
  const f = z.map((v) => v / nz);
  const up = [0, 0, 1];
  const x = [f[1] * up[2] - f[2] * up[1], f[2] * up[0] - f[0] * up[2], f[0] * up[1] - f[1] * up[0]];
  const nx = Math.hypot(...x);
  const r = x.map((v) => v / nx);
  const d = [f[1] * r[2] - f[2] * r[1], f[2] * r[0] - f[0] * r[2], f[0] * r[1] - f[1] * r[0]]; // y = z x x (down)
  const R = [...r, ...d, ...f];
  const t = [0, 1, 2].map((i) => -(R[3 * i] * C[0] + R[3 * i + 1] * C[1] + R[3 * i + 2] * C[2]));
  return { width: 1280, height: 720, K: [900, 0, 640, 0, 900, 360, 0, 0, 1], dist, R, t };
}

describe('camera geometry', () => {
  const cams = [
    lookAt([3, 0, 2.5], [0, 0, 1], [-0.2, 0.05, 0.001, -0.001, 0]),
    lookAt([0, 3, 2.5], [0, 0, 1], [-0.1, 0.02, 0, 0, 0]),
    lookAt([-3, -1, 2.4], [0, 0, 1]),
  ];

  it('recovers the camera centre', () => {
    expect(Array.from(cameraCentre(cams[0]))).toEqual([3, 0, 2.5].map((v) => expect.closeTo(v, 9)));
  });

  it('projects a point in front down the image centre and below it', () => {
    const p = projectPoint(cams[0], [0, 0, 1], new Float64Array(2));
    expect(p[0]).toBeCloseTo(640, 6);
    expect(p[1]).toBeCloseTo(360, 6);
    const below = projectPoint(cams[0], [0, 0, 0.5], new Float64Array(2));
    expect(below[1]).toBeGreaterThan(360); // y down
    const behind = projectPoint(cams[0], [6, 0, 2.5], new Float64Array(2));
    expect(Number.isNaN(behind[0])).toBe(true);
  });

  it('undistorts what it distorted', () => {
    const p = projectPoint(cams[0], [0.4, -0.6, 1.7], new Float64Array(2));
    const n = undistortPixel(cams[0], p[0], p[1], new Float64Array(2));
    const Xc = [0, 1, 2].map(
      (i) => cams[0].R[3 * i] * 0.4 + cams[0].R[3 * i + 1] * -0.6 + cams[0].R[3 * i + 2] * 1.7 + cams[0].t[i],
    );
    expect(n[0]).toBeCloseTo(Xc[0] / Xc[2], 8);
    expect(n[1]).toBeCloseTo(Xc[1] / Xc[2], 8);
  });

  it('triangulates exact projections back to the point, and ignores zero-weight views', () => {
    const X = [0.3, 0.2, 1.1];
    const px = new Float64Array(6);
    cams.forEach((c, i) => px.set(projectPoint(c, X, new Float64Array(2)), 2 * i));
    const out = triangulatePoint(cams, px, [1, 1, 1]);
    for (let k = 0; k < 3; k++) expect(out[k]).toBeCloseTo(X[k], 6);
    px[4] += 200; // a wild outlier in view 3, switched off by its weight
    const robust = triangulatePoint(cams, px, [1, 1, 0]);
    for (let k = 0; k < 3; k++) expect(robust[k]).toBeCloseTo(X[k], 6);
    expect(Number.isNaN(triangulatePoint(cams, px, [1, 0, 0])[0])).toBe(true);
  });

  it('drops the view that reprojects worst until the rest agree (Pose2Sim-style exclusion)', () => {
    const X = [0.3, 0.2, 1.1];
    const px = new Float64Array(6);
    cams.forEach((c, i) => px.set(projectPoint(c, X, new Float64Array(2)), 2 * i));
    px[4] += 40; // view 3 is off by 40 px
    const plain = triangulatePoint(cams, px, [1, 1, 1]);
    expect(Math.hypot(plain[0] - X[0], plain[1] - X[1], plain[2] - X[2])).toBeGreaterThan(0.005);
    const used = new Uint8Array(3);
    const out = new Float64Array(3);
    const r = triangulateRobust(cams, px, [1, 1, 1], 5, 2, out, used);
    expect(Array.from(used)).toEqual([1, 1, 0]);
    expect(r.views).toBe(2);
    expect(r.maxErrorPx).toBeLessThan(1e-6);
    for (let k = 0; k < 3; k++) expect(out[k]).toBeCloseTo(X[k], 6);
    // With a threshold above the outlier's effect nothing is dropped.
    const keep = triangulateRobust(cams, px, [1, 1, 1], 1000, 2, out, used);
    expect(Array.from(used)).toEqual([1, 1, 1]);
    expect(keep.views).toBe(3);
  });
});
