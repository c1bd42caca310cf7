import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FFMPEG_PATH, runTool } from '../../main/capture/ffmpeg';
import { RoomRenderer, tableBoxes, type StaticScene } from '../../main/capture/sample/room-render';
import { openVideoWriter, rgbToYuv420p, type RawPixFmt } from '../../main/capture/sample/video-writer';
import { probeVideo } from '../../main/capture/video';
import { projectPoint } from '../../main/geometry/camera';
import type { CameraCalibration } from '../../preload/api';
import { cleanupTempDirs, tempDir } from './fixtures';

const DIST = [-0.18, 0.03, 0, 0, 0];

/** A 1280x720 camera at `C` looking at `target` (world Z up), OpenCV axes. */
function lookAt(C: number[], target: number[], dist = DIST, f = 950): CameraCalibration {
  const z = target.map((v, i) => v - C[i]);
  const nz = Math.hypot(...z);
  const fw = z.map((v) => v / nz);
  const x = [fw[1], -fw[0], 0]; // fw x up, up = +Z
  const nx = Math.hypot(...x);
  const r = x.map((v) => v / nx);
  const d = [fw[1] * r[2] - fw[2] * r[1], fw[2] * r[0] - fw[0] * r[2], fw[0] * r[1] - fw[1] * r[0]];
  const R = [...r, ...d, ...fw];
  const t = [0, 1, 2].map((i) => -(R[3 * i] * C[0] + R[3 * i + 1] * C[1] + R[3 * i + 2] * C[2]));
  return { width: 1280, height: 720, K: [f, 0, 640, 0, 960, 360, 0, 0, 1], dist, R, t };
}

/** Closed box mesh, counter-clockwise seen from outside. */
function boxMesh(min: number[], max: number[]): { positions: Float32Array; faces: Uint32Array } {
  const positions = new Float32Array(24);
  for (let i = 0; i < 8; i++) {
    positions.set([i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]], 3 * i);
  }
  // prettier-ignore
  const faces = new Uint32Array([
    0, 2, 3, 0, 3, 1, 4, 5, 7, 4, 7, 6, 0, 1, 5, 0, 5, 4,
    2, 6, 7, 2, 7, 3, 0, 4, 6, 0, 6, 2, 1, 3, 7, 1, 7, 5,
  ]);
  return { positions, faces };
}

const EMPTY: StaticScene = { quads: [], boxes: [] };

afterAll(cleanupTempDirs);

describe('room renderer geometry', () => {
  it('draws a cube whose silhouette extremes match projectPoint of its corners, distortion included', () => {
    const cal = lookAt([0, 0, 2.5], [3, 2.5, 0.8]);
    const r = new RoomRenderer(cal, EMPTY);
    // Off-centre, where the k1 = -0.18 distortion moves the cube by tens of pixels.
    const cube = boxMesh([4.1, 1.2, 0.5], [4.5, 1.6, 0.9]);
    r.beginFrame();
    r.drawMesh(cube.positions, cube.faces);
    let minU = Infinity,
      maxU = -Infinity,
      minV = Infinity,
      maxV = -Infinity;
    r.depth.forEach((z, i) => {
      if (z === Infinity) return;
      const u = i % 1280,
        v = Math.floor(i / 1280);
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    });
    const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      Array.from(projectPoint(cal, cube.positions.subarray(3 * i, 3 * i + 3), new Float64Array(2))),
    );
    const us = corners.map((c) => c[0]),
      vs = corners.map((c) => c[1]);
    expect(Math.abs(minU - Math.min(...us))).toBeLessThanOrEqual(1);
    expect(Math.abs(maxU - Math.max(...us))).toBeLessThanOrEqual(1);
    expect(Math.abs(minV - Math.min(...vs))).toBeLessThanOrEqual(1);
    expect(Math.abs(maxV - Math.max(...vs))).toBeLessThanOrEqual(1);
    // The same corners without distortion land far away, so the check above does see the lens model.
    const pinhole = { ...cal, dist: [0, 0, 0, 0, 0] };
    const u0 = Math.max(
      ...corners.map((_, i) => projectPoint(pinhole, cube.positions.subarray(3 * i), new Float64Array(2))[0]),
    );
    expect(Math.abs(u0 - Math.max(...us))).toBeGreaterThan(10);
    // Back faces are culled by the mesh's own winding (found from its volume): reversed, it draws the same.
    const depth = r.depth.slice();
    const reversed = new Uint32Array(Array.from(cube.faces).reverse());
    r.beginFrame();
    r.drawMesh(cube.positions, reversed);
    expect(r.depth.every((z, i) => z === depth[i])).toBe(true);
  });

  it('hides a box behind another, and a point under the table top from a ceiling camera', () => {
    const cal = lookAt([0.2, 0.2, 2.5], [3, 2.5, 0.5]);
    const table = tableBoxes({ centre: [2, 1.7], size: [1.2, 0.8] });
    const r = new RoomRenderer(cal, {
      quads: [{ origin: [0, 0, 0], edgeU: [6, 0, 0], edgeV: [0, 5, 0], rgb: [120, 120, 120] }],
      boxes: table,
    });
    // Two boxes on the line of sight from the camera to (4, 3.5, 0.8): the nearer hides the farther.
    const C = [0.2, 0.2, 2.5],
      P = [4, 3.5, 0.8];
    const along = (s: number) => C.map((c, i) => c + s * (P[i] - c));
    const front = along(0.7),
      back = along(1);
    const frontBox = boxMesh(
      front.map((v) => v - 0.15),
      front.map((v) => v + 0.15),
    );
    const backBox = boxMesh(
      back.map((v) => v - 0.15),
      back.map((v) => v + 0.15),
    );
    r.beginFrame();
    r.drawMesh(frontBox.positions, frontBox.faces, { rgb: [255, 0, 0] }); // nearer first: the z-test decides
    r.drawMesh(backBox.positions, backBox.faces, { rgb: [0, 0, 255] });
    const onBackFace = [back[0] - 0.15, back[1], back[2]]; // its face towards -x, seen from the camera
    const onFrontFace = [front[0] - 0.15, front[1], front[2]];
    expect(r.isVisible(onFrontFace)).toBe(true);
    expect(r.isVisible(onBackFace)).toBe(false);
    expect(r.isVisible(onBackFace, 10)).toBe(true); // a huge tolerance accepts anything in view
    // Under the table top vs on it; a point behind the camera or far outside the view is never visible.
    expect(r.isVisible([2, 1.7, 0.4])).toBe(false);
    expect(r.isVisible([2, 1.7, 0.7505])).toBe(true);
    expect(r.isVisible([4.5, 3, 0.001])).toBe(true);
    expect(r.isVisible([-1, -1, 2.5])).toBe(false);
    const out = r.visibility(
      new Float32Array([...onFrontFace, ...onBackFace, 2, 1.7, 0.4]),
      0.03,
      new Uint8Array(3),
    );
    expect(Array.from(out)).toEqual([1, 0, 0]);
  });

  it('restores the background between frames and converts only what changed to yuv420p', () => {
    const cal = lookAt([0.2, 0.2, 2.5], [3, 2.5, 0.5]);
    const r = new RoomRenderer(cal, {
      quads: [{ origin: [0, 0, 0], edgeU: [6, 0, 0], edgeV: [0, 5, 0], rgb: [90, 140, 60] }],
      boxes: tableBoxes({ centre: [2, 1.7], size: [1.2, 0.8] }),
      clearRgb: [30, 60, 90],
    });
    const full = new Uint8Array((1280 * 720 * 3) / 2);
    for (const x of [2.5, 3.5, 1.2]) {
      const box = boxMesh([x, 2.4, 0], [x + 0.4, 2.7, 1.7]);
      const yuv = r.renderFrame(box.positions, box.faces);
      rgbToYuv420p(r.colour, 1280, 720, full, 0, 0, 1279, 719);
      expect(Buffer.compare(Buffer.from(yuv), Buffer.from(full))).toBe(0);
    }
    r.beginFrame();
    expect(Buffer.compare(Buffer.from(r.colour), Buffer.from(r.background.colour))).toBe(0);
    expect(r.depth.every((z, i) => z === r.background.depth[i])).toBe(true);
  });

  it('refuses bad input with a clear error', () => {
    const cal = lookAt([0.2, 0.2, 2.5], [3, 2.5, 0.5]);
    expect(() => new RoomRenderer({ ...cal, width: 1281 }, EMPTY)).toThrow(/even/);
    const r = new RoomRenderer(cal, EMPTY);
    expect(() => r.drawMesh(new Float32Array(9), new Uint32Array([0, 1, 3]))).toThrow(/face index 3/);
    expect(() => r.drawMesh(new Float32Array(10), new Uint32Array([0, 1, 2]))).toThrow(/V\*3/);
  });
});

/**
 * The opencv-js module: the package's CommonJS export is a Promise of the Emscripten module (a dynamic
 * import would wrap it in a namespace that breaks on await). Its typings lack aruco, hence `any`.
 */
async function openCv(): Promise<{ cv: any }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cv: any = await require('@techstark/opencv-js');
  return { cv }; // boxed: the module is a broken thenable, it must not resolve a Promise itself
}

describe('floor ChArUco board seen by a room camera', () => {
  it('is detected by OpenCV in a 1280x720 render, corners where the camera model puts them', async () => {
    const { cv } = await openCv();
    const dict = cv.getPredefinedDictionary(cv.DICT_6X6_250);
    const noIds = new cv.Mat();
    const board = new cv.aruco_CharucoBoard(new cv.Size(7, 5), 0.15, 0.11, dict, noIds);
    const boardImg = new cv.Mat();
    board.generateImage(new cv.Size(1400, 1000), boardImg, 0, 1);
    const texture = { width: 1400, height: 1000, channels: 1 as const, data: new Uint8Array(boardImg.data) };
    // Board lying on the floor, image columns along +x and rows along -y (readable from above).
    const origin: [number, number, number] = [2.4, 3.2, 0.002];
    const floorTex = { width: 64, height: 64, channels: 1 as const, data: new Uint8Array(64 * 64).fill(150) };
    const scene: StaticScene = {
      quads: [
        { origin: [0, 0, 0], edgeU: [6, 0, 0], edgeV: [0, 5, 0], texture: floorTex, textureRepeat: [10, 10] },
        { origin, edgeU: [1.05, 0, 0], edgeV: [0, -0.75, 0], texture, cellSize: 0.05 },
      ],
      boxes: [],
    };
    // Ceiling camera about 3.6 m from the board centre, which it sees off-centre (bottom right).
    const cal = lookAt([2.9, 0.2, 2.55], [2.1, 3.6, 0]);
    const r = new RoomRenderer(cal, scene);
    const rgb = new cv.Mat(720, 1280, cv.CV_8UC3);
    rgb.data.set(r.colour);
    const gray = new cv.Mat();
    cv.cvtColor(rgb, gray, cv.COLOR_RGB2GRAY);
    const detector = new cv.aruco_CharucoDetector(
      board,
      new cv.aruco_CharucoParameters(),
      new cv.aruco_DetectorParameters(),
      new cv.aruco_RefineParameters(10, 3, true),
    );
    const corners = new cv.Mat(),
      ids = new cv.Mat(),
      markerCorners = new cv.MatVector(),
      markerIds = new cv.Mat();
    detector.detectBoard(gray, corners, ids, markerCorners, markerIds);
    const n = ids.rows * ids.cols;
    const found = Array.from({ length: n }, (_, k) => ({
      id: ids.data32S[k] as number,
      u: corners.data32F[2 * k] as number,
      v: corners.data32F[2 * k + 1] as number,
    }));
    const markers = markerIds.rows * markerIds.cols;
    for (const m of [noIds, boardImg, rgb, gray, corners, ids, markerIds]) m.delete();
    markerCorners.delete();
    detector.delete();
    board.delete();
    expect(markers).toBeGreaterThanOrEqual(15); // 17 markers on a 7x5 board
    expect(n).toBeGreaterThanOrEqual(20); // of its 24 inner corners
    // Inner corner id = row * 6 + col sits at board ((col + 1) s, (row + 1) s), i.e. world origin + (x, -y).
    const pinhole = { ...cal, dist: [0, 0, 0, 0, 0] };
    let worst = 0,
      worstPinhole = 0;
    for (const c of found) {
      const col = c.id % 6,
        row = Math.floor(c.id / 6);
      const X = [origin[0] + 0.15 * (col + 1), origin[1] - 0.15 * (row + 1), origin[2]];
      const p = projectPoint(cal, X, new Float64Array(2));
      worst = Math.max(worst, Math.hypot(p[0] - c.u, p[1] - c.v));
      const q = projectPoint(pinhole, X, new Float64Array(2));
      worstPinhole = Math.max(worstPinhole, Math.hypot(q[0] - c.u, q[1] - c.v));
    }
    expect(worst).toBeLessThan(0.5);
    expect(worstPinhole).toBeGreaterThan(5); // the lens model visibly bends the board
  });
});

/** A test frame: gradients plus a square that moves with k. */
function pattern(fmt: RawPixFmt, w: number, h: number, k: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inSquare = Math.abs(x - 40 - 6 * k) < 20 && Math.abs(y - h / 2) < 20;
      const i = 3 * (y * w + x);
      rgb[i] = inSquare ? 230 : (x * 255) / w;
      rgb[i + 1] = inSquare ? 40 : (y * 255) / h;
      rgb[i + 2] = inSquare ? 40 : 128;
    }
  }
  if (fmt === 'rgb24') return rgb;
  if (fmt === 'gray') return rgb.filter((_, i) => i % 3 === 1);
  const yuv = new Uint8Array((w * h * 3) / 2);
  rgbToYuv420p(rgb, w, h, yuv, 0, 0, w - 1, h - 1);
  return yuv;
}

async function decodeFrame(path: string, fmt: RawPixFmt, index: number): Promise<Uint8Array> {
  const res = await runTool(FFMPEG_PATH, [
    ...['-v', 'error', '-i', path, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1'],
    ...['-f', 'rawvideo', '-pix_fmt', fmt, 'pipe:1'],
  ]);
  if (res.code !== 0) throw new Error(res.stderr);
  return new Uint8Array(res.stdout);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('video writer', () => {
  const W = 320,
    H = 240;

  it.each(['yuv420p', 'rgb24', 'gray'] as const)(
    'encodes %s frames into an mp4 that decodes back',
    async (fmt) => {
      const dir = tempDir();
      const path = join(dir, `out-${fmt}.mp4`);
      const w = openVideoWriter(path, { width: W, height: H, fps: 30, pixFmt: fmt });
      const frame = new Uint8Array(w.frameBytes); // one buffer reused for every frame
      for (let k = 0; k < 24; k++) {
        frame.set(pattern(fmt, W, H, k));
        await w.write(frame);
      }
      await w.close();
      expect(readdirSync(dir)).toEqual([`out-${fmt}.mp4`]);
      const info = await probeVideo(path);
      expect([info.frameCount, info.width, info.height, info.codec]).toEqual([24, W, H, 'h264']);
      expect(info.fpsNum / info.fpsDen).toBe(30);
      expect(meanAbsDiff(await decodeFrame(path, fmt, 17), pattern(fmt, W, H, 17))).toBeLessThan(2);
    },
  );

  it('uses the same BT.709 conversion as our own yuv420p frames, and encodes reproducibly', async () => {
    const dir = tempDir();
    const paths = ['a.mp4', 'b.mp4', 'c.mp4'].map((n) => join(dir, n));
    for (const [i, path] of paths.entries()) {
      const fmt = i === 2 ? 'rgb24' : 'yuv420p';
      const w = openVideoWriter(path, { width: W, height: H, fps: 25, pixFmt: fmt, crf: 12 });
      for (let k = 0; k < 5; k++) await w.write(pattern(fmt, W, H, k));
      await w.close();
    }
    const [a, b, c] = await Promise.all(
      paths.map((p) => runTool(FFMPEG_PATH, ['-v', 'error', '-i', p, '-f', 'md5', '-'])),
    );
    expect(a.stdout.toString()).toBe(b.stdout.toString());
    // ffmpeg's rgb24 -> yuv420p matches rgbToYuv420p to within rounding and coding noise.
    expect(meanAbsDiff(await decodeFrame(paths[2], 'yuv420p', 3), pattern('yuv420p', W, H, 3))).toBeLessThan(
      1.5,
    );
    expect(c.code).toBe(0);
  });

  it('fails clearly and leaves nothing under the final name when ffmpeg fails or is killed', async () => {
    const dir = tempDir();
    const frame = pattern('yuv420p', W, H, 0);
    // ffmpeg cannot create its output in a missing folder.
    const missing = join(dir, 'no-such-folder', 'x.mp4');
    const bad = openVideoWriter(missing, { width: W, height: H, fps: 30, pixFmt: 'yuv420p' });
    await bad.write(frame).catch(() => undefined);
    await expect(bad.close()).rejects.toThrow(
      /no-such-folder\/x\.mp4.*ffmpeg exited with code [1-9][\s\S]*No such file/,
    );
    // Killed midway (a crash): no final file, no partial file.
    const path = join(dir, 'killed.mp4');
    const w = openVideoWriter(path, { width: W, height: H, fps: 30, pixFmt: 'yuv420p' });
    for (let k = 0; k < 5; k++) await w.write(frame);
    process.kill(w.pid!, 'SIGKILL');
    await expect(w.write(frame).then(() => w.close())).rejects.toThrow(/killed\.mp4.*SIGKILL/);
    await expect(w.close()).rejects.toThrow(/killed/);
    // Cancelled through abort().
    const cancelled = openVideoWriter(join(dir, 'cancelled.mp4'), {
      width: W,
      height: H,
      fps: 30,
      pixFmt: 'yuv420p',
    });
    await cancelled.write(frame);
    await cancelled.abort();
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(path)).toBe(false);
    // Wrong frame size and bad options are refused up front.
    const small = openVideoWriter(join(dir, 'small.mp4'), { width: W, height: H, fps: 30, pixFmt: 'rgb24' });
    await expect(small.write(frame)).rejects.toThrow(/small\.mp4: frame has 115200 bytes, expected 230400/);
    await small.abort();
    expect(() =>
      openVideoWriter(join(dir, 'odd.mp4'), { width: 321, height: H, fps: 30, pixFmt: 'gray' }),
    ).toThrow(/odd\.mp4.*even/);
  });
});
