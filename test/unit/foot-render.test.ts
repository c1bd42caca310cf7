import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CameraCalibration } from '../../preload/api';
import {
  boardCornerPositions,
  boardCornersLocal,
  boardImage,
  createCharucoBoard,
  detectCharuco,
  type BoardSpec,
} from '../../main/calibration/charuco-board';
import { loadOpenCv, withScope, type GrayImage, type OpenCv } from '../../main/calibration/opencv';
import {
  FOOT_CAMERA_INTRINSICS,
  prepareFootCamera,
  type CameraPose,
  type FootCamera,
} from '../../main/capture/sample/foot-camera';
import { prepareFootScene, type FootScene } from '../../main/capture/sample/foot-raycast';
import { renderFootFrame } from '../../main/capture/sample/foot-render';
import { Rng } from '../../main/capture/sample/rng';
import { decodeGrayImage } from '../../main/capture/gray-frames';
import { projectPoint } from '../../main/geometry/camera';
import { SHARED_DATA, TUTORIAL_BOARD } from './fixtures';

const CHARUCO = join(SHARED_DATA, 'charuco-opencv');
const W = FOOT_CAMERA_INTRINSICS.width;
const H = FOOT_CAMERA_INTRINSICS.height;

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** Printed face up (board z = into the board = world -z). */
const FACE_UP = [1, 0, 0, 0, -1, 0, 0, 0, -1];

function board(name: string, firstMarkerId: number, R: number[], t: number[], squareLength = 0.2): BoardSpec {
  return {
    name,
    dictionary: 'DICT_5X5_250',
    squaresX: 7,
    squaresY: 5,
    squareLength,
    markerLength: 0.75 * squareLength,
    legacyPattern: false,
    firstMarkerId,
    pose: { R, t },
  };
}

const ROOM = { min: [0, 0, 0], max: [6, 5, 2.6] };
const TABLE = { min: [3.8, 3.0, 0.72], max: [5.0, 4.0, 0.75] };
// Ceiling boards, printed face down (board frame = world frame rotated by nothing).
const CEILING_A = board('ceiling-a', 0, IDENTITY, [1.4, 1.6, 2.6]);
const CEILING_B = board('ceiling-b', 17, IDENTITY, [3.0, 2.4, 2.6]);

/** World -> camera pose of a camera at C looking at target; `up` picks the roll. */
function lookAt(C: number[], target: number[], up: number[]): CameraPose {
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]);
  const cross = (a: number[], b: number[]) => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const unit = (a: number[]) => a.map((v) => v / Math.hypot(...a));
  const z = unit(sub(target, C));
  const x = unit(cross(z, up));
  const y = cross(z, x);
  const R = [...x, ...y, ...z];
  return { R, t: [0, 1, 2].map((i) => -(R[3 * i] * C[0] + R[3 * i + 1] * C[1] + R[3 * i + 2] * C[2])) };
}

/** Pose rotated by angle (rad) about the camera's own x axis: R' = Rx(angle) R, same centre. */
function pitched(pose: CameraPose, angle: number): CameraPose {
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  const Rx = [1, 0, 0, 0, c, -s, 0, s, c];
  const R = [0, 1, 2].flatMap((i) =>
    [0, 1, 2].map((j) => [0, 1, 2].reduce((a, k) => a + Rx[3 * i + k] * pose.R[3 * k + j], 0)),
  );
  const C = [0, 1, 2].map(
    (k) => -(pose.R[k] * pose.t[0] + pose.R[3 + k] * pose.t[1] + pose.R[6 + k] * pose.t[2]),
  );
  return { R, t: [0, 1, 2].map((i) => -(R[3 * i] * C[0] + R[3 * i + 1] * C[1] + R[3 * i + 2] * C[2])) };
}

function calibration(pose: CameraPose): CameraCalibration {
  return { ...FOOT_CAMERA_INTRINSICS, R: pose.R, t: pose.t };
}

let cv: OpenCv;
let cam: FootCamera;

function render(scene: FootScene, open: CameraPose, close = open, seed = 1, noiseSigma = 3): GrayImage {
  const out = new Uint8Array(W * H);
  renderFootFrame(prepareFootScene(scene), cam, { open, close }, new Rng(seed), out, { noiseSigma });
  return { width: W, height: H, data: out };
}

/** Reprojection errors (px) of the detected corners against the true projections of the board corners. */
function cornerErrors(spec: BoardSpec, pose: CameraPose, ids: Int32Array, corners: Float32Array): number[] {
  const world = boardCornerPositions(spec);
  const px = new Float64Array(2);
  return Array.from(ids, (id, k) => {
    projectPoint(calibration(pose), world.subarray(3 * id, 3 * id + 3), px);
    return Math.hypot(corners[2 * k] - px[0], corners[2 * k + 1] - px[1]);
  });
}

beforeAll(async () => {
  cv = await loadOpenCv();
  cam = prepareFootCamera(FOOT_CAMERA_INTRINSICS);
});

describe('ChArUco boards', () => {
  it('detects the gold markers in the real OpenCV tutorial photos', async () => {
    const gold = JSON.parse(readFileSync(join(CHARUCO, 'gold_markers.json'), 'utf8'));
    for (const [file, minFound] of [
      ['choriginal.jpg', 15],
      ['chocclusion_original.jpg', 11],
    ] as const) {
      const det = detectCharuco(cv, TUTORIAL_BOARD, await decodeGrayImage(join(CHARUCO, file)));
      const markers: { id: number; corners: number[][] }[] = gold.images[file].markers;
      const within = markers.filter(({ id, corners }) => {
        const k = det.markerIds.indexOf(id);
        if (k < 0) return false;
        return corners.every(
          ([u, v], j) =>
            Math.hypot(det.markerCorners[8 * k + 2 * j] - u, det.markerCorners[8 * k + 2 * j + 1] - v) <=
            gold.tolerance_px,
        );
      });
      expect(within.length, file).toBeGreaterThanOrEqual(minFound);
      expect(det.ids.length, file).toBeGreaterThan(8);
      expect(det.corners.length).toBe(2 * det.ids.length);
    }
  });

  it('maps board image texels onto board coordinates exactly (margin 0)', () => {
    const pps = 40;
    const img = boardImage(cv, TUTORIAL_BOARD, pps);
    expect([img.width, img.height]).toEqual([5 * pps, 7 * pps]);
    // Pad with white paper and detect: corner (X, Y) must appear at (X / s - 0.5 + pad, Y / s - 0.5 + pad).
    const pad = 30;
    const padded = { width: img.width + 2 * pad, height: img.height + 2 * pad, data: new Uint8Array(0) };
    padded.data = new Uint8Array(padded.width * padded.height).fill(255);
    for (let y = 0; y < img.height; y++) {
      padded.data.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + pad) * padded.width + pad);
    }
    const det = detectCharuco(cv, TUTORIAL_BOARD, padded);
    expect(det.ids.length).toBe(24);
    const local = boardCornersLocal(TUTORIAL_BOARD);
    const s = TUTORIAL_BOARD.squareLength / pps;
    det.ids.forEach((id, k) => {
      expect(Math.abs(det.corners[2 * k] - (local[3 * id] / s - 0.5 + pad))).toBeLessThan(0.05);
      expect(Math.abs(det.corners[2 * k + 1] - (local[3 * id + 1] / s - 0.5 + pad))).toBeLessThan(0.05);
    });
  });

  it("lists corner positions in OpenCV's charuco id order and rejects bad specs", () => {
    const spec = board('posed', 40, FACE_UP, [1, 2, 0.5]);
    const world = boardCornerPositions(spec);
    withScope((keep) => {
      const b = keep(createCharucoBoard(cv, spec));
      const corners = keep(b.getChessboardCorners());
      expect(corners.size()).toBe(24);
      for (let id = 0; id < 24; id++) {
        const p = corners.get(id); // board frame -> world: (x, -y, -z) + t
        expect(world[3 * id]).toBeCloseTo(p.x + 1, 6);
        expect(world[3 * id + 1]).toBeCloseTo(-p.y + 2, 6);
        expect(world[3 * id + 2]).toBeCloseTo(0.5, 6);
      }
    });
    expect(() => createCharucoBoard(cv, { ...spec, firstMarkerId: 240 })).toThrow(/exceed DICT_5X5_250/);
    expect(() => createCharucoBoard(cv, { ...spec, markerLength: 0.2 })).toThrow(/"posed".*markerLength/);
    expect(() =>
      createCharucoBoard(cv, { ...spec, pose: { R: [2, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] } }),
    ).toThrow(/orthonormal/);
  });
});

describe('foot-camera renderer', () => {
  const ceilingScene = (): FootScene => ({
    room: ROOM,
    table: TABLE,
    boards: [CEILING_A, CEILING_B].map((spec) => ({ spec, image: boardImage(cv, spec, 64) })),
  });
  const upward = lookAt([2.45, 2.35, 0.55], [2.7, 2.5, 2.6], [0, 1, 0]);

  it('renders boards whose corners match the true projections and give the camera pose by PnP', () => {
    const img = render(ceilingScene(), upward);
    const objectPts: number[] = [];
    const imagePts: number[] = [];
    for (const spec of [CEILING_A, CEILING_B]) {
      // With the lens model OpenCV predicts the corners through the distortion before refining them.
      const det = detectCharuco(cv, spec, img, FOOT_CAMERA_INTRINSICS);
      expect(det.ids.length, spec.name).toBeGreaterThanOrEqual(18);
      // (f) image <-> board mapping, lens distortion and sampling: sub-pixel agreement.
      const errors = cornerErrors(spec, upward, det.ids, det.corners);
      expect(Math.max(...errors), spec.name).toBeLessThan(0.5);
      const world = boardCornerPositions(spec);
      det.ids.forEach((id, k) => {
        objectPts.push(...world.subarray(3 * id, 3 * id + 3));
        imagePts.push(det.corners[2 * k], det.corners[2 * k + 1]);
      });
    }
    // (b) PnP with the camera's own intrinsics recovers the pose.
    const { R, t } = withScope((keep) => {
      const n = objectPts.length / 3;
      const rvec = keep(new cv.Mat());
      const tvec = keep(new cv.Mat());
      const ok = cv.solvePnP(
        keep(cv.matFromArray(n, 3, cv.CV_64FC1, objectPts)),
        keep(cv.matFromArray(n, 2, cv.CV_64FC1, imagePts)),
        keep(cv.matFromArray(3, 3, cv.CV_64FC1, FOOT_CAMERA_INTRINSICS.K)),
        keep(cv.matFromArray(1, 5, cv.CV_64FC1, FOOT_CAMERA_INTRINSICS.dist)),
        rvec,
        tvec,
        false,
        cv.SOLVEPNP_ITERATIVE,
      );
      expect(ok).toBe(true);
      const Rmat = keep(new cv.Mat());
      cv.Rodrigues(rvec, Rmat);
      return { R: Array.from(Rmat.data64F), t: Array.from(tvec.data64F) };
    });
    const centre = (p: CameraPose) =>
      [0, 1, 2].map((k) => -(p.R[k] * p.t[0] + p.R[3 + k] * p.t[1] + p.R[6 + k] * p.t[2]));
    const [c0, c1] = [centre(upward), centre({ R, t })];
    expect(Math.hypot(c0[0] - c1[0], c0[1] - c1[1], c0[2] - c1[2])).toBeLessThan(0.01);
    // Rotation angle of R_est R_true^T: cos = (trace - 1) / 2.
    let trace = 0;
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += R[3 * i + k] * upward.R[3 * i + k];
    const angleDeg = (Math.acos(Math.min(1, (trace - 1) / 2)) * 180) / Math.PI;
    expect(angleDeg).toBeLessThan(0.5);
  });

  it('shows a board only from its printed side', () => {
    // A board hanging at 1.4 m with its printed face up.
    const spec = board('hanging', 0, FACE_UP, [2.0, 2.8, 1.4]);
    const scene: FootScene = { room: ROOM, table: null, boards: [{ spec, image: boardImage(cv, spec, 64) }] };
    const fromAbove = render(scene, lookAt([2.7, 2.3, 2.5], [2.7, 2.3, 1.4], [0, 1, 0]));
    expect(detectCharuco(cv, spec, fromAbove).ids.length).toBeGreaterThan(10);
    const fromBelow = render(scene, lookAt([2.7, 2.3, 0.3], [2.7, 2.3, 1.4], [0, 1, 0]));
    const behind = detectCharuco(cv, spec, fromBelow);
    expect(behind.ids.length).toBe(0);
    expect(behind.markerIds.length).toBe(0);
    // The back is a plain grey card, occluding the ceiling: the image centre is flat (noise only).
    const centre: number[] = [];
    for (let v = 220; v < 260; v++) for (let u = 300; u < 340; u++) centre.push(fromBelow.data[v * W + u]);
    const mean = centre.reduce((a, b) => a + b, 0) / centre.length;
    const sd = Math.sqrt(centre.reduce((a, b) => a + (b - mean) ** 2, 0) / centre.length);
    expect(sd).toBeLessThan(4.5);
  });

  it('hides boards behind the table, but not the board glued under it', () => {
    const table = { min: [2.0, 2.0, 0.72], max: [3.2, 2.8, 0.75] };
    const under = board('under-table', 0, IDENTITY, [2.25, 2.15, 0.72], 0.1);
    const above = board('above-table', 17, IDENTITY, [1.9, 1.9, 2.6]);
    const withBoard = (spec: BoardSpec): FootScene => ({
      room: ROOM,
      table,
      boards: [{ spec, image: boardImage(cv, spec, 64) }],
    });
    const belowTable = lookAt([2.6, 2.4, 0.15], [2.6, 2.45, 2.6], [0, 1, 0]);
    // The ceiling board right above the table is hidden from below it, and seen from above it.
    const hidden = detectCharuco(cv, above, render(withBoard(above), belowTable), FOOT_CAMERA_INTRINSICS);
    expect(hidden.ids.length + hidden.markerIds.length).toBe(0);
    const fromTableTop = render(withBoard(above), lookAt([2.6, 2.4, 1.2], [2.6, 2.45, 2.6], [0, 1, 0]));
    expect(detectCharuco(cv, above, fromTableTop, FOOT_CAMERA_INTRINSICS).ids.length).toBeGreaterThanOrEqual(
      10,
    );
    // A board glued to the underside (same plane) wins the depth tie.
    const glued = render(withBoard(under), belowTable);
    expect(detectCharuco(cv, under, glued, FOOT_CAMERA_INTRINSICS).ids.length).toBeGreaterThanOrEqual(10);
  });

  it('is deterministic per seed, with noise of the requested sigma', () => {
    const scene = ceilingScene();
    const a = render(scene, upward, upward, 7).data;
    const b = render(scene, upward, upward, 7).data;
    const c = render(scene, upward, upward, 8).data;
    const clean = render(scene, upward, upward, 7, 0).data;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // a - clean is the noise alone (rounding adds 1/12 grey^2, clipping is absent at these grey levels).
    let sum = 0;
    let sum2 = 0;
    for (let p = 0; p < a.length; p++) {
      const d = a[p] - clean[p];
      sum += d;
      sum2 += d * d;
    }
    const mean = sum / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.sqrt(sum2 / a.length - mean * mean)).toBeCloseTo(Math.sqrt(9 + 1 / 6), 1);
  });

  it('blurs along the image motion and the board is still found', () => {
    const scene = ceilingScene();
    const sharp = render(scene, upward);
    // Pitch by 0.55 degrees over the shutter, centred on the reference pose: about 3 px of motion at the
    // image centre, more towards the corners of the wide-angle image.
    const half = ((0.55 / 2) * Math.PI) / 180;
    const out = new Uint8Array(W * H);
    const motion = renderFootFrame(
      prepareFootScene(scene),
      cam,
      { open: pitched(upward, -half), close: pitched(upward, half) },
      new Rng(1),
      out,
    );
    expect(motion).toBeGreaterThan(4);
    expect(motion).toBeLessThan(20);
    // Blur removes gradient energy.
    const energy = (d: Uint8Array) => {
      let e = 0;
      for (let v = 1; v < H; v++) for (let u = 1; u < W; u++) e += (d[v * W + u] - d[(v - 1) * W + u]) ** 2;
      return e;
    };
    expect(energy(out)).toBeLessThan(0.8 * energy(sharp.data));
    const det = detectCharuco(cv, CEILING_A, { width: W, height: H, data: out }, FOOT_CAMERA_INTRINSICS);
    expect(det.ids.length).toBeGreaterThanOrEqual(12);
    // Symmetric blur keeps edges where the mid-exposure pose puts them.
    const errors = cornerErrors(CEILING_A, upward, det.ids, det.corners).sort((x, y) => x - y);
    expect(errors[Math.floor(errors.length / 2)]).toBeLessThan(1);
  });

  it('rejects bad input with clear errors', () => {
    const ps = prepareFootScene(ceilingScene());
    expect(() =>
      renderFootFrame(ps, cam, { open: upward, close: upward }, new Rng(1), new Uint8Array(10)),
    ).toThrow(/out has 10 bytes/);
    const outside = lookAt([7, 2, 1], [2, 2, 1], [0, 0, 1]);
    expect(() =>
      renderFootFrame(ps, cam, { open: outside, close: outside }, new Rng(1), new Uint8Array(W * H)),
    ).toThrow(/not inside the room/);
    const spec = CEILING_A;
    expect(() =>
      prepareFootScene({
        room: ROOM,
        table: null,
        boards: [{ spec, image: { width: 10, height: 10, data: new Uint8Array(100) } }],
      }),
    ).toThrow(/"ceiling-a" image 10x10/);
  });
});
