import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../main/api/context';
import { readOpenPoseFolder } from '../../main/capture/openpose';
import { planSession } from '../../main/capture/plan';
import { cameraCentre, projectPoint } from '../../main/geometry/camera';
import { triangulatePoint } from '../../main/geometry/triangulate';
import { getSession } from '../../main/store/sessions';
import { findTrack, readTrack } from '../../main/store/tracks';
import type { CameraCalibration, ImportResult, SessionDetail } from '../../preload/api';
import { cleanupTempDirs, POSE2SIM } from './fixtures';
import { openTestContext, runImport } from './import-helpers';

/** Camera positions straight from the qca text, read with a regex, not with the importer's parser. */
function rawCameraPositionsMm(): { serial: string; xyz: number[] }[] {
  const text = readFileSync(join(POSE2SIM, 'Calib.qca.txt'), 'utf8');
  const out: { serial: string; xyz: number[] }[] = [];
  for (const m of text.matchAll(/serial="([^"]+)"[\s\S]*?<transform([^>]*)\/>/g)) {
    const attr = (k: string) => Number(new RegExp(`\\s${k}="([^"]+)"`).exec(m[2])![1]);
    out.push({ serial: m[1], xyz: [attr('x'), attr('y'), attr('z')] });
  }
  return out;
}

describe('Pose2Sim import of the real capture', () => {
  let ctx: AppContext;
  let result: ImportResult;
  let session: SessionDetail;

  beforeAll(async () => {
    ctx = await openTestContext();
    const job = await runImport(ctx, POSE2SIM);
    expect(job.state, job.error ?? '').toBe('succeeded');
    result = job.result as unknown as ImportResult;
    session = (await getSession(ctx.db, result.sessionId))!;
  });
  afterAll(async () => {
    await ctx.close();
    cleanupTempDirs();
  });

  it('imports 4 cameras with their 100-frame videos and keypoints', () => {
    expect(result.cameras).toBe(4);
    expect(result.videoFrames).toEqual([100, 100, 100, 100]);
    expect(result.keypointFrames).toEqual([100, 100, 100, 100]);
    expect(session.cameras.map((c) => c.name)).toEqual(['cam01', 'cam02', 'cam03', 'cam04']);
    expect(session.fps).toBe(60);
    for (const c of session.cameras) {
      expect([1080, 1088]).toContain(c.video?.width);
      expect(c.keypoints?.layout).toBe('BODY_25B');
      expect(c.calibration.width).toBe(1088);
      expect(c.calibration.height).toBe(1920);
    }
  });

  it('stores camera centres that match the raw Qualisys positions within 1 mm', () => {
    const raw = rawCameraPositionsMm();
    expect(raw).toHaveLength(4);
    raw.forEach((r, i) => {
      const C = cameraCentre(session.cameras[i].calibration);
      for (let k = 0; k < 3; k++) expect(Math.abs(C[k] * 1000 - r.xyz[k])).toBeLessThan(1);
    });
  });

  it('stores rotations with the camera looking towards the capture volume (OpenCV z forward)', () => {
    for (const cam of session.cameras) {
      const C = cameraCentre(cam.calibration);
      // Optical axis in world = third row of R; it must point from the camera towards the room centre, and down.
      const z = cam.calibration.R.slice(6, 9);
      const toCentre = [-C[0], -C[1], 1 - C[2]];
      const cos = (z[0] * toCentre[0] + z[1] * toCentre[1] + z[2] * toCentre[2]) / Math.hypot(...toCentre);
      expect(cos).toBeGreaterThan(0.7);
    }
  });

  it('stores the keypoint chunks exactly as the JSON files say', async () => {
    const cam = session.cameras[1];
    const track = (await findTrack(ctx.db, session.id, cam.id, 'keypoints2d'))!;
    const data = await readTrack(ctx.db, track);
    const json = JSON.parse(readFileSync(join(POSE2SIM, 'pose', 'cam02_json', 'cam02.0042.json'), 'utf8'));
    const kp: number[] = json.people[0].pose_keypoints_2d;
    for (let i = 0; i < 75; i++) {
      const v = data[42 * 75 + i];
      if (Number.isNaN(v)) expect(kp[i - (i % 3) + 2]).toBe(0);
      else expect(v).toBeCloseTo(kp[i], 3);
    }
  });

  it('reprojects triangulated keypoints into every view, far better than a wrong axis convention', () => {
    const plan = planSession(POSE2SIM);
    const kps = plan.cameras.map((c) => readOpenPoseFolder(c.keypoints!.folder, 25).data);
    const stored = session.cameras.map((c) => c.calibration);
    // The same data with the Qualisys camera axes left unflipped (y up, z backward): a wrong conversion.
    const unflipped: CameraCalibration[] = stored.map((c) => {
      const R = [c.R[0], c.R[1], c.R[2], -c.R[3], -c.R[4], -c.R[5], -c.R[6], -c.R[7], -c.R[8]];
      const C = cameraCentre(c);
      const t = [0, 1, 2].map((r) => -(R[3 * r] * C[0] + R[3 * r + 1] * C[1] + R[3 * r + 2] * C[2]));
      return { ...c, R, t };
    });
    const medianError = (cals: CameraCalibration[]) => {
      const errs: number[] = [];
      const px = new Float64Array(8);
      const w = new Float64Array(4);
      const X = new Float64Array(3);
      const p = new Float64Array(2);
      for (let f = 0; f < 100; f += 10) {
        for (let j = 0; j < 25; j++) {
          let ok = true;
          for (let c = 0; c < 4; c++) {
            const b = f * 75 + j * 3;
            px[2 * c] = kps[c][b];
            px[2 * c + 1] = kps[c][b + 1];
            w[c] = kps[c][b + 2];
            ok &&= w[c] > 0.5;
          }
          if (!ok) continue;
          triangulatePoint(cals, px, w, X);
          for (let c = 0; c < 4; c++) {
            projectPoint(cals[c], X, p);
            errs.push(Number.isFinite(p[0]) ? Math.hypot(p[0] - px[2 * c], p[1] - px[2 * c + 1]) : 1e4);
          }
        }
      }
      errs.sort((a, b) => a - b);
      return { median: errs[errs.length >> 1], p90: errs[Math.floor(errs.length * 0.9)], n: errs.length };
    };
    const good = medianError(stored);
    const bad = medianError(unflipped);
    expect(good.n).toBeGreaterThan(200);
    // OpenPose on this capture is noisy (Pose2Sim itself allows 20 px); the conversion is what is tested.
    expect(good.median).toBeLessThan(20);
    expect(good.p90).toBeLessThan(35);
    expect(bad.median).toBeGreaterThan(10 * good.median);
  });
});
