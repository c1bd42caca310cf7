import { decodeGrayFrames, type FrameSourceItem } from '../../main/capture/gray-frames';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardImage, type BoardSpec } from '../../main/calibration/charuco-board';
import {
  charucoDetectFn,
  fillGaps,
  localizeFrames,
  resolveAmbiguity,
  type LocalizedFrame,
} from '../../main/calibration/localize';
import { loadOpenCv, withScope, type GrayImage, type OpenCv } from '../../main/calibration/opencv';
import { rotationAngleDeg, solveFramePose } from '../../main/calibration/pnp';
import { reprojectionRms, undistortPoints } from '../../main/calibration/lens-points';
import { mirrorPose, planePose } from '../../main/calibration/plane-pose';
import { refinePoseLM } from '../../main/calibration/pose-lm';
import { projectPoint } from '../../main/geometry/camera';
import { CancelledError } from '../../main/capture/errors';
import {
  FOOT_CAMERA_INTRINSICS,
  prepareFootCamera,
  type CameraIntrinsics,
  type CameraPose,
} from '../../main/capture/sample/foot-camera';
import { prepareFootScene, type PreparedFootScene } from '../../main/capture/sample/foot-raycast';
import { renderFootFrame } from '../../main/capture/sample/foot-render';
import { Rng } from '../../main/capture/sample/rng';
import { ROOM, lookAt, sampleBoards } from '../../main/capture/sample/scene';
import { openVideoWriter } from '../../main/capture/sample/video-writer';
import { axisAngleFromMatrix, rodrigues, mat3Mul } from '../../main/geometry/rotation';
import { cleanupTempDirs, tempDir } from './fixtures';

let cv: OpenCv;
const BOARDS = sampleBoards();
let room: PreparedFootScene;

/** A long room with one 4 x 3 ceiling-type board on its far wall (x = 12), printed face looking west. */
const WALL: BoardSpec = {
  ...BOARDS[0],
  name: 'wall',
  // Board x = world -y, y = world -z (down the page), z = world +x (into the wall).
  pose: { R: [0, 0, 1, -1, 0, 0, 0, -1, 0], t: [11.999, 3.1, 1.8] },
};
const WALL_CENTRE = [11.999, 2.5, 1.35];
/** A narrow lens, to see the far board big enough to detect yet small in angle (weak perspective). */
const TELE: CameraIntrinsics = {
  width: 640,
  height: 480,
  K: [1200, 0, 320, 0, 1200, 240, 0, 0, 1],
  dist: [0, 0, 0, 0, 0],
};
let hall: PreparedFootScene;

function render(scene: PreparedFootScene, intr: CameraIntrinsics, pose: CameraPose, seed = 1): GrayImage {
  const out = new Uint8Array(intr.width * intr.height);
  renderFootFrame(scene, prepareFootCamera(intr), { open: pose, close: pose }, new Rng(seed), out);
  return { width: intr.width, height: intr.height, data: out };
}

function detectAll(boards: BoardSpec[], intr: CameraIntrinsics, gray: GrayImage) {
  const d = charucoDetectFn(cv, boards, intr);
  try {
    return d.detect(gray);
  } finally {
    d.delete();
  }
}

const centre = (p: { R: ArrayLike<number>; t: ArrayLike<number> }) =>
  [0, 1, 2].map((k) => -(p.R[k] * p.t[0] + p.R[3 + k] * p.t[1] + p.R[6 + k] * p.t[2]));
const centreErrorMm = (a: CameraPose, b: CameraPose) => {
  const [ca, cb] = [centre(a), centre(b)];
  return 1000 * Math.hypot(ca[0] - cb[0], ca[1] - cb[1], ca[2] - cb[2]);
};

/** Camera d metres from the wall board's centre, `tiltDeg` off its normal. */
function wallView(d: number, tiltDeg: number): CameraPose {
  const a = (tiltDeg * Math.PI) / 180;
  const [x, y, z] = WALL_CENTRE;
  return lookAt([x - d * Math.cos(a), y - 0.8 * d * Math.sin(a), z - 0.2 * d * Math.sin(a)], WALL_CENTRE);
}

beforeAll(async () => {
  cv = await loadOpenCv();
  const images = (specs: BoardSpec[]) => specs.map((spec) => ({ spec, image: boardImage(cv, spec, 64) }));
  room = prepareFootScene({ room: ROOM, table: null, boards: images(BOARDS) });
  hall = prepareFootScene({
    room: { min: [0, 0, 0], max: [12, 5, 2.6] },
    table: null,
    boards: images([WALL]),
  });
});

afterAll(cleanupTempDirs);

describe('solveFramePose', () => {
  it('recovers the pose from several ceiling boards, and from ceiling + floor boards', () => {
    for (const [eye, target, planar] of [
      [[2.5, 2.0, 0.1], [2.7, 2.3, 2.6], true],
      [[3.0, 0.3, 1.0], [3.0, 3.0, 1.2], false],
    ] as const) {
      const truth = lookAt([...eye], [...target]);
      const gray = render(room, FOOT_CAMERA_INTRINSICS, truth);
      const pose = solveFramePose(
        cv,
        FOOT_CAMERA_INTRINSICS,
        detectAll(BOARDS, FOOT_CAMERA_INTRINSICS, gray),
        BOARDS,
      );
      expect(pose.status).toBe('ok');
      expect(pose.boards.length).toBeGreaterThanOrEqual(3);
      expect(pose.boards.includes('floor')).toBe(!planar);
      expect(pose.corners).toBeGreaterThanOrEqual(20);
      expect(pose.rms).toBeLessThan(0.5);
      expect(centreErrorMm(pose, truth)).toBeLessThan(5);
      expect(rotationAngleDeg(pose.R, truth.R)).toBeLessThan(0.3);
    }
  });

  it("gives 'none' without boards, and rejects corners of an unknown board", () => {
    const bareWall = render(room, FOOT_CAMERA_INTRINSICS, lookAt([1, 1, 1.2], [0, 1, 1.2]));
    const pose = solveFramePose(
      cv,
      FOOT_CAMERA_INTRINSICS,
      detectAll(BOARDS, FOOT_CAMERA_INTRINSICS, bareWall),
      BOARDS,
    );
    expect(pose.status).toBe('none');
    expect(pose.corners).toBe(0);
    const bogus = [{ name: 'nope', ids: Int32Array.of(0, 1, 2, 3), corners: new Float32Array(8) }];
    expect(() => solveFramePose(cv, FOOT_CAMERA_INTRINSICS, bogus, BOARDS)).toThrow(/unknown board "nope"/);
    const outOfRange = [{ name: 'ceiling-1', ids: Int32Array.of(0, 1, 2, 99), corners: new Float32Array(8) }];
    expect(() => solveFramePose(cv, FOOT_CAMERA_INTRINSICS, outOfRange, BOARDS)).toThrow(/ceiling-1.*99/);
  });

  it('makes the mirror pose as an involution that keeps the centroid in place', () => {
    const pose = lookAt([0.3, 0.2, -3], [0.6, 0.45, 0]);
    const object = Float64Array.of(0, 0, 0, 1.2, 0, 0, 1.2, 0.9, 0, 0, 0.9, 0);
    const mirror = mirrorPose(pose, object);
    expect(rotationAngleDeg(mirror.R, pose.R)).toBeGreaterThan(5);
    const back = mirrorPose(mirror, object);
    expect(rotationAngleDeg(back.R, pose.R)).toBeLessThan(1e-6);
    const inCamera = (p: CameraPose) =>
      [0, 1, 2].map((r) => p.R[3 * r] * 0.6 + p.R[3 * r + 1] * 0.45 + p.t[r]);
    inCamera(mirror).forEach((v, k) => expect(v).toBeCloseTo(inCamera(pose)[k], 9));
  });
});

describe('planar ambiguity', () => {
  it('marks a small far board ambiguous alone, and a previous pose settles it', async () => {
    const truth = wallView(11, 12);
    const gray = render(hall, TELE, truth);
    const pose = solveFramePose(cv, TELE, detectAll([WALL], TELE, gray), [WALL]);
    expect(pose.status).toBe('ambiguous');
    expect(pose.corners).toBe(6);
    expect(pose.altError!).toBeLessThan(2 * Math.max(pose.rms, 0.1)); // DEFAULT_PNP_OPTIONS ratio and floor
    const errors = pose.candidates!.map((c) => rotationAngleDeg(c.R, truth.R)).sort((a, b) => a - b);
    expect(errors[0]).toBeLessThan(1.5);
    expect(errors[1]).toBeGreaterThan(10);

    // Temporal continuity: the same board nearer (decisive) in the frame before.
    const before = wallView(4, 13);
    expect(resolveAmbiguity(null, 1, pose.candidates!)).toBeNull();
    expect(resolveAmbiguity({ index: -20, R: before.R }, 1, pose.candidates!)).toBeNull(); // too old
    const pick = resolveAmbiguity({ index: 0, R: before.R }, 1, pose.candidates!)!;
    expect(rotationAngleDeg(pick.R, truth.R)).toBeLessThan(1.5);

    async function* frames(): AsyncGenerator<FrameSourceItem> {
      yield { index: 0, gray: render(hall, TELE, before) };
      yield { index: 1, gray };
    }
    const d = charucoDetectFn(cv, [WALL], TELE);
    const progress: number[] = [];
    try {
      const result = await localizeFrames(cv, TELE, [WALL], frames(), d.detect, {}, (f) => progress.push(f));
      const [f0, f1] = result.frames;
      expect(f0.status).toBe('ok');
      expect(f0.resolved).toBe(false);
      expect(rotationAngleDeg(f0.R, before.R)).toBeLessThan(0.5);
      expect(f1.status).toBe('ok');
      expect(f1.resolved).toBe(true);
      expect(rotationAngleDeg(f1.R, truth.R)).toBeLessThan(1.5);
      expect(result.counts).toEqual({ ok: 1, resolved: 1, ambiguous: 0, interpolated: 0, none: 0 });
      expect(progress.at(-1)).toBe(1);
    } finally {
      d.delete();
    }
  });
});

describe('fillGaps', () => {
  // Constant angular velocity about a fixed axis and constant linear velocity of the camera centre.
  const omega = [0.05, -0.02, 0.08];
  const R0 = lookAt([1, 2, 0.2], [1.5, 2.4, 2.6]).R;
  const C0 = [1, 2, 0.2];
  const v = [0.03, -0.01, 0.004];
  const truth = (k: number): CameraPose => {
    const Rk = new Array<number>(9);
    const step = new Array<number>(9);
    rodrigues(
      step,
      0,
      omega.map((w) => k * w),
      0,
    );
    mat3Mul(Rk, 0, step, 0, R0, 0);
    const C = C0.map((c, i) => c + k * v[i]);
    return {
      R: Rk,
      t: [0, 1, 2].map((r) => -(Rk[3 * r] * C[0] + Rk[3 * r + 1] * C[1] + Rk[3 * r + 2] * C[2])),
    };
  };
  const measured = new Set([0, 1, 5, 6, 15]);
  const frames: LocalizedFrame[] = Array.from({ length: 16 }, (_, k) => {
    const base = { index: k, corners: 0, boards: [], resolved: false, interpolated: false };
    if (measured.has(k)) return { ...base, ...truth(k), rms: 0.1, status: 'ok' };
    if (k === 3) {
      const candidates = [truth(k), lookAt([0, 0, 0], [1, 0, 0])].map((p) => ({ ...p, rms: 0.2 }));
      return { ...base, ...candidates[1], rms: 0.2, status: 'ambiguous', candidates };
    }
    return { ...base, R: [], t: [], rms: NaN, status: 'none' };
  });

  it('bridges short gaps exactly by SLERP and centre interpolation, and leaves long gaps', () => {
    const before = JSON.stringify(frames);
    const out = fillGaps(frames, 3);
    expect(JSON.stringify(frames)).toBe(before);
    for (const k of [2, 3, 4]) {
      expect(out[k].status).toBe('interpolated');
      expect(out[k].interpolated).toBe(true);
      const want = truth(k);
      out[k].R.forEach((x, i) => expect(x).toBeCloseTo(want.R[i], 12));
      out[k].t.forEach((x, i) => expect(x).toBeCloseTo(want.t[i], 12));
    }
    for (let k = 7; k < 15; k++) {
      expect(out[k].status).toBe('none');
      expect(out[k].R).toEqual([]);
    }
    expect(out.filter((f) => f.status === 'ok').map((f) => f.index)).toEqual([...measured]);
    // A gap of 3 is left alone when maxGap is 2.
    expect(
      fillGaps(frames, 2)
        .map((f) => f.status)
        .slice(2, 5),
    ).toEqual(['none', 'ambiguous', 'none']);
  });
});

describe('decodeGrayFrames', () => {
  const W = 64;
  const H = 48;
  const pattern = (f: number) => {
    const img = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) img[y * W + x] = 30 + ((x * 3 + y * 2 + f * 5) % 190);
    return img;
  };
  async function writeVideo(frames: number): Promise<string> {
    const path = join(tempDir('studio-localize-'), 'gray.mp4');
    const writer = openVideoWriter(path, { width: W, height: H, fps: 30, pixFmt: 'gray', crf: 0 });
    for (let f = 0; f < frames; f++) await writer.write(pattern(f));
    await writer.close();
    return path;
  }
  /** Whether an ffmpeg process still has `file` on its command line (Linux /proc). */
  const decoding = (file: string) =>
    existsSync('/proc') &&
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .some((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(file);
        } catch {
          return false;
        }
      });

  it('streams the frames back, frame by frame', async () => {
    const path = await writeVideo(12);
    const got: Uint8Array[] = [];
    for await (const { index, gray } of decodeGrayFrames(path, W, H)) {
      expect(index).toBe(got.length);
      expect([gray.width, gray.height]).toEqual([W, H]);
      got.push(gray.data.slice());
    }
    expect(got.length).toBe(12);
    got.forEach((data, f) => {
      const want = pattern(f);
      let worst = 0;
      for (let p = 0; p < data.length; p++) worst = Math.max(worst, Math.abs(data[p] - want[p]));
      expect(worst, `frame ${f}`).toBeLessThanOrEqual(3); // gray -> limited-range yuv -> gray rounding
    });
  });

  it('reads only as fast as frames are taken, stops on abort and on break; errors name the file', async () => {
    const path = await writeVideo(240); // 740 KB of raw frames, several times the pipe buffers
    const controller = new AbortController();
    let seen = 0;
    let blocked = false;
    await expect(
      (async () => {
        for await (const { index } of decodeGrayFrames(path, W, H, controller.signal)) {
          seen = index + 1;
          if (index === 0) {
            // Back-pressure: while this frame is held, ffmpeg waits on a full pipe instead of finishing.
            await new Promise((r) => setTimeout(r, 300));
            blocked = decoding(path);
          }
          if (seen === 3) controller.abort();
        }
      })(),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(blocked).toBe(true);
    expect(seen).toBe(3);
    for await (const { index } of decodeGrayFrames(path, W, H)) if (index === 1) break;
    await new Promise((r) => setTimeout(r, 100));
    expect(decoding(path)).toBe(false);

    const missing = join(tempDir(), 'missing.mp4');
    await expect(decodeGrayFrames(missing, W, H).next()).rejects.toThrow(/missing\.mp4/);
    await expect(decodeGrayFrames(path, 640, 480).next()).rejects.toThrow(
      /gray\.mp4.*64x48, expected 640x480/,
    );
  });
});

describe('pose from a plane in JS: homography start, Levenberg-Marquardt', () => {
  /** A 5 x 4 grid of corners (board frame, z = 0), 0.1 m apart, seen obliquely through the foot lens. */
  const object = Float64Array.from({ length: 60 }, (_, i) => {
    const k = Math.floor(i / 3);
    return [0.1 * (k % 5), 0.1 * Math.floor(k / 5), 0][i % 3];
  });
  const truth = lookAt([0.5, -0.3, -0.9], [0.2, 0.15, 0]);
  const project = (noise: number, rng = new Rng(5)) => {
    const px = new Float64Array(2);
    const image = new Float64Array(40);
    for (let i = 0; i < 20; i++) {
      projectPoint({ ...FOOT_CAMERA_INTRINSICS, ...truth }, object.subarray(3 * i, 3 * i + 3), px);
      image[2 * i] = px[0] + noise * (rng.next() - 0.5);
      image[2 * i + 1] = px[1] + noise * (rng.next() - 0.5);
    }
    return image;
  };

  it('takes the exact pose apart from the homography of exact points', () => {
    const image = project(0);
    const pose = planePose(object, undistortPoints(FOOT_CAMERA_INTRINSICS, image))!;
    expect(rotationAngleDeg(pose.R, truth.R)).toBeLessThan(1e-4);
    pose.t.forEach((v, k) => expect(v).toBeCloseTo(truth.t[k], 7));
    expect(planePose(object.subarray(0, 9), new Float64Array(6))).toBeNull(); // 3 points
  });

  it("converges where OpenCV's solvePnPRefineLM does, from a noisy start, and no worse", () => {
    const image = project(0.6);
    const start = planePose(object, undistortPoints(FOOT_CAMERA_INTRINSICS, image))!;
    expect(rotationAngleDeg(start.R, truth.R)).toBeLessThan(2);
    // Off by a few degrees and centimetres, as a mirror pose or a poor start would be.
    const tilt = new Array<number>(9);
    rodrigues(tilt, 0, [0.04, -0.03, 0.02], 0);
    const R0 = new Array<number>(9);
    mat3Mul(R0, 0, tilt, 0, start.R, 0);
    const t0 = Array.from(start.t, (v, k) => v + [0.02, -0.01, 0.03][k]);

    const R = Float64Array.from(R0);
    const t = Float64Array.from(t0);
    const cost = refinePoseLM(FOOT_CAMERA_INTRINSICS, object, image, R, t);
    const pose = { R: Array.from(R), t: Array.from(t) };
    expect(cost).toBeCloseTo(
      20 * reprojectionRms({ ...FOOT_CAMERA_INTRINSICS, ...pose }, object, image) ** 2,
      9,
    );

    const ref = withScope((keep) => {
      const mat = (rows: number, cols: number, v: ArrayLike<number>) =>
        keep(cv.matFromArray(rows, cols, cv.CV_64FC1, v));
      const rvec = mat(3, 1, [0, 0, 0]);
      axisAngleFromMatrix(rvec.data64F, 0, R0, 0);
      const tvec = mat(3, 1, t0);
      cv.solvePnPRefineLM(
        mat(20, 3, object),
        mat(20, 2, image),
        mat(3, 3, FOOT_CAMERA_INTRINSICS.K),
        mat(1, 5, FOOT_CAMERA_INTRINSICS.dist),
        rvec,
        tvec,
      );
      const Rcv = new Array<number>(9);
      rodrigues(Rcv, 0, rvec.data64F, 0);
      return { R: Rcv, t: Array.from(tvec.data64F) };
    });
    expect(rotationAngleDeg(R, ref.R)).toBeLessThan(1e-3);
    t.forEach((v, k) => expect(Math.abs(v - ref.t[k])).toBeLessThan(1e-5));
    const rms = reprojectionRms({ ...FOOT_CAMERA_INTRINSICS, ...pose }, object, image);
    expect(rms).toBeLessThanOrEqual(
      reprojectionRms({ ...FOOT_CAMERA_INTRINSICS, ...ref }, object, image) + 1e-9,
    );
    expect(rms).toBeLessThan(0.5);
    expect(rotationAngleDeg(R, truth.R)).toBeLessThan(0.5);
  });

  it('refuses points behind the camera and mismatched arrays', () => {
    const image = project(0);
    const behind = { R: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), t: Float64Array.of(0, 0, -5) };
    expect(refinePoseLM(FOOT_CAMERA_INTRINSICS, object, image, behind.R, behind.t)).toBe(Infinity);
    expect(() => refinePoseLM(FOOT_CAMERA_INTRINSICS, object, image.subarray(2), behind.R, behind.t)).toThrow(
      /refinePoseLM: 20 object points, 19 image points/,
    );
  });
});
