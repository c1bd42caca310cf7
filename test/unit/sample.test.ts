import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CameraCalibration } from '../../preload/api';
import { CharucoBoardDetector, type BoardSpec } from '../../main/calibration/charuco-board';
import { loadOpenCv } from '../../main/calibration/opencv';
import { readNpz } from '../../main/body/npz';
import { FFMPEG_PATH } from '../../main/capture/ffmpeg';
import { manifestSchema } from '../../main/capture/manifest';
import { makeSample, type SampleSummary } from '../../main/capture/sample/make-sample';
import { mpjpeMm, posedJoints } from '../../main/fitting/joint-error';
import { fitSequence } from '../../main/fitting/fit-sequence';
import { sampleFitInput } from '../../main/fitting/sample-input';
import { projectPoint } from '../../main/geometry/camera';
import { getSession } from '../../main/store/sessions';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './fixtures';
import { openTestContext, runImport } from './import-helpers';

const NATIVE = join(REPO_ROOT, 'native');

interface GroundTruthJson {
  frames: number;
  keypointNoiseSigmaPx: number;
  cameras: Array<{
    name: string;
    role: string;
    calibration?: CameraCalibration;
    intrinsics?: CameraCalibration;
  }>;
  boards: BoardSpec[];
  keypoints: { names: string[] };
  mounts: { name: string; offset: number[] }[];
}

function keypointFile(dir: string, cam: string, f: number): number[] {
  const path = join(dir, 'keypoints', cam, `${cam}_${String(f).padStart(12, '0')}_keypoints.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { people: Array<{ pose_keypoints_2d: number[] }> })
    .people[0].pose_keypoints_2d;
}

/** Every n-th frame of a video as 8-bit grey images, decoded by ffmpeg. */
function greyFrames(video: string, width: number, height: number, every: number): Uint8Array[] {
  const r = spawnSync(
    FFMPEG_PATH,
    [
      '-v',
      'error',
      '-i',
      video,
      '-vf',
      `select=not(mod(n\\,${every}))`,
      '-vsync',
      '0',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ],
    { maxBuffer: 1 << 30 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${video}: ${r.stderr.toString()}`);
  const size = width * height;
  return Array.from(
    { length: r.stdout.length / size },
    (_, i) => new Uint8Array(r.stdout.buffer, r.stdout.byteOffset + i * size, size),
  );
}

describe('embedded sample capture session', () => {
  let dir: string;
  let summary: SampleSummary;
  let gt: GroundTruthJson;

  beforeAll(async () => {
    dir = join(tempDir('studio-sample-'), 'sample');
    summary = await makeSample(dir, { nativeDir: NATIVE, seed: 1 });
    gt = JSON.parse(readFileSync(join(dir, 'ground_truth.json'), 'utf8')) as GroundTruthJson;
  }, 240_000);
  afterAll(() => cleanupTempDirs());

  it('writes 8 room and 2 foot cameras, boards, keypoints and a valid session.json', () => {
    expect(summary).toMatchObject({ cameras: 10, roomCameras: 8, footCameras: 2, fps: 30 });
    expect(summary.frames).toBeGreaterThan(500);
    expect(summary.boards).toBeGreaterThanOrEqual(6);
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')));
    const roles = manifest.cameras.map((c) => c.role);
    expect(roles.filter((r) => r === 'room')).toHaveLength(8);
    expect(roles).toContain('foot-left');
    expect(roles).toContain('foot-right');
    const boards = manifest.boards ?? [];
    const ceiling = boards.filter((b) => b.pose.t[2] > 2.5);
    const floor = boards.filter((b) => b.pose.t[2] < 0.01);
    const underDesk = boards.filter((b) => b.pose.t[2] > 0.5 && b.pose.t[2] < 0.8);
    expect(ceiling.length).toBeGreaterThanOrEqual(4);
    expect(floor).toHaveLength(1);
    expect(underDesk).toHaveLength(1);
    for (const c of manifest.cameras) expect(existsSync(join(dir, c.video!))).toBe(true);
    expect(readdirSync(join(dir, 'keypoints', 'room-1'))).toHaveLength(summary.frames);
    // Some keypoints are hidden (by the desk and the body) but most are seen.
    expect(summary.occludedShare).toBeGreaterThan(0.05);
    expect(summary.occludedShare).toBeLessThan(0.6);
    // The desk hides the legs from most of the cameras that see the subject for much of the 14 s there.
    expect(summary.legsHiddenFrames).toBeGreaterThan(8 * summary.fps);
  });

  it('stored keypoints are the ground truth reprojected plus noise of the configured sigma', () => {
    const arrays = readNpz(join(dir, 'ground_truth.npz'));
    const world = arrays.keypoints3d.data;
    const K = gt.keypoints.names.length;
    const px = new Float64Array(2);
    let sum = 0;
    let n = 0;
    for (const cam of gt.cameras.filter((c) => c.role === 'room')) {
      const visible = arrays[`visible_${cam.name.replace('-', '_')}`].data;
      for (let f = 0; f < gt.frames; f += 5) {
        const kp = keypointFile(dir, cam.name, f);
        for (let k = 0; k < K; k++) {
          if (kp[k * 3 + 2] === 0) continue;
          expect(visible[f * K + k]).toBe(1);
          projectPoint(cam.calibration!, world.subarray((f * K + k) * 3, (f * K + k) * 3 + 3), px);
          sum += Math.hypot(kp[k * 3] - px[0], kp[k * 3 + 1] - px[1]);
          n++;
        }
      }
    }
    expect(gt.keypointNoiseSigmaPx).toBe(2);
    expect(n).toBeGreaterThan(5000);
    // E|N(0, s^2 I_2)| = s sqrt(pi / 2) = 2.5 px for s = 2.
    expect(sum / n).toBeGreaterThan(1);
    expect(sum / n).toBeLessThan(3);
  });

  it('OpenCV finds a ChArUco board in at least half of the foot-camera frames', async () => {
    const cv = await loadOpenCv();
    const detectors = gt.boards.map((b) => new CharucoBoardDetector(cv, b));
    const poses = readNpz(join(dir, 'ground_truth.npz'));
    const every = 6;
    try {
      for (const cam of gt.cameras.filter((c) => c.role !== 'room')) {
        const { width, height, K, dist } = cam.intrinsics!;
        const frames = greyFrames(join(dir, 'videos', `${cam.name}.mp4`), width, height, every);
        const P = poses[`${cam.name.replace('-', '_')}_pose`].data;
        let hits = 0;
        frames.forEach((data, i) => {
          const f = i * every;
          const cal = {
            width,
            height,
            K,
            dist,
            R: Array.from(P.subarray(f * 12, f * 12 + 9)),
            t: Array.from(P.subarray(f * 12 + 9, f * 12 + 12)),
          };
          // Try the boards whose centre the ground truth puts in the image.
          const found = detectors.some((d) => {
            const s = d.spec;
            const c = [s.squaresX * s.squareLength * 0.5, s.squaresY * s.squareLength * 0.5];
            const R = s.pose.R;
            const X = [0, 1, 2].map((r) => R[r * 3] * c[0] + R[r * 3 + 1] * c[1] + s.pose.t[r]);
            const px = projectPoint(cal, X, new Float64Array(2));
            if (!(px[0] >= -50 && px[0] < width + 50 && px[1] >= -50 && px[1] < height + 50)) return false;
            return d.detect({ width, height, data }).ids.length >= 4;
          });
          if (found) hits++;
        });
        expect(frames.length).toBeGreaterThan(summary.frames / every - 2);
        console.log(`${cam.name}: a board detected in ${hits} of ${frames.length} sampled frames`);
        expect(
          hits / frames.length,
          `${cam.name}: ${hits} of ${frames.length} frames`,
        ).toBeGreaterThanOrEqual(0.5);
      }
    } finally {
      detectors.forEach((d) => d.delete());
    }
  }, 180_000);

  it('the same seed gives byte-identical keypoint files, another seed does not', async () => {
    const again = join(tempDir('studio-sample-'), 'sample');
    await makeSample(again, { nativeDir: NATIVE, seed: 1, videos: false });
    const other = join(tempDir('studio-sample-'), 'sample');
    await makeSample(other, { nativeDir: NATIVE, seed: 2, videos: false });
    for (const cam of ['room-1', 'room-5']) {
      for (const f of [0, 100, 300]) {
        const name = join('keypoints', cam, `${cam}_${String(f).padStart(12, '0')}_keypoints.json`);
        expect(readFileSync(join(again, name))).toEqual(readFileSync(join(dir, name)));
        expect(readFileSync(join(other, name)).equals(readFileSync(join(dir, name)))).toBe(false);
      }
    }
    expect(readFileSync(join(again, 'ground_truth.npz'))).toEqual(
      readFileSync(join(dir, 'ground_truth.npz')),
    );
  }, 240_000);

  it('refuses a folder that is not empty and leaves it as it was', async () => {
    const busy = tempDir('studio-sample-busy-');
    writeFileSync(join(busy, 'notes.txt'), 'keep me');
    await expect(makeSample(busy, { nativeDir: NATIVE })).rejects.toThrow(/not empty/);
    expect(readdirSync(busy)).toEqual(['notes.txt']);
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('imports as a studio session with its cameras, roles, keypoints and boards', async () => {
    const ctx = await openTestContext();
    try {
      const job = await runImport(ctx, dir);
      expect(job.state, job.error ?? '').toBe('succeeded');
      const s = (await getSession(ctx.db, Number(job.result!.sessionId)))!;
      expect(s.format).toBe('studio');
      expect(s.cameraCount).toBe(10);
      expect(
        s.cameras.filter((c) => c.role === 'room').every((c) => c.keypoints?.frameCount === summary.frames),
      ).toBe(true);
      expect(s.cameras.find((c) => c.role === 'foot-left')?.video?.frameCount).toBe(summary.frames);
      const meta = await ctx.db.get<{ meta: string }>('SELECT meta FROM sessions WHERE id = ?', [s.id]);
      const stored = JSON.parse(meta!.meta) as { boards: BoardSpec[]; groundTruth: string };
      expect(stored.boards).toHaveLength(summary.boards);
      expect(stored.groundTruth).toBe(join(dir, 'ground_truth.json'));
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it('the body fit follows the sample on its first 120 frames and recovers the foot-camera mounts', async () => {
    const model = join(NATIVE, 'models', 'anny-cmu31.npz');
    const input = sampleFitInput(dir, model, 120);
    const fit = await fitSequence(input);
    const truth = readNpz(join(dir, 'ground_truth.npz'));
    const fitted = posedJoints(input.model, fit.betas, fit.theta, fit.transl);
    expect(mpjpeMm(fitted, truth.joints.data as Float32Array, input.model.jointNames)).toBeLessThan(30);
    expect(fit.stats.maxPenetrationMm).toBeLessThan(5);
    expect(fit.mounts.map((m) => m.camera).sort()).toEqual(['foot-left', 'foot-right']);
    for (const m of fit.mounts) {
      const g = gt.mounts.find((x) => x.name === m.camera)!;
      const offsetErrMm = Math.hypot(...m.offset.map((o, i) => o - g.offset[i])) * 1000;
      expect(offsetErrMm).toBeLessThan(15);
    }
  }, 120_000);
});
