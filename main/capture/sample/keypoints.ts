import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CameraCalibration } from '../../../preload/api';
import { projectPoint } from '../../geometry/camera';
import { KEYPOINT_LAYOUTS } from '../keypoint-layouts';
import { Rng } from './rng';

/**
 * The sample's 2D detections: ground-truth keypoints projected through each room camera's real lens,
 * plus Gaussian pixel noise, a detector-like confidence, random dropouts, and nothing where the
 * z-buffer says the point is hidden (by the body itself or the desk) or outside the image. Written as
 * OpenPose JSON, one file per frame. Every keypoint draws the same four random numbers whatever
 * happens to it, so a file's bytes depend only on the seed.
 */

export interface KeypointNoise {
  seed: number;
  sigma: number;
  dropout: number;
}

export interface KeypointStats {
  files: number;
  occludedShare: number;
  legsHiddenFrames: number;
}

export function keypointDir(camera: string): string {
  return join('keypoints', camera);
}

export function writeKeypointFiles(
  root: string,
  cameras: { name: string; calibration: CameraCalibration }[],
  world: Float64Array,
  visibility: Uint8Array[],
  K: number,
  frames: number,
  noise: KeypointNoise,
): KeypointStats {
  const px = new Float64Array(2);
  let files = 0;
  let hidden = 0;
  let total = 0;
  const names = KEYPOINT_LAYOUTS.BODY_25;
  const ankles = [names.indexOf('LAnkle'), names.indexOf('RAnkle')];
  const neck = names.indexOf('Neck');
  // Per frame: cameras that see the person (the neck) and of those, how many see neither ankle.
  const seeing = new Int32Array(frames);
  const anklesHidden = new Int32Array(frames);
  cameras.forEach((cam, c) => {
    const dir = join(root, keypointDir(cam.name));
    mkdirSync(dir, { recursive: true });
    const rng = new Rng(noise.seed * 7919 + c * 104729 + 17);
    const vis = visibility[c];
    const { width, height } = cam.calibration;
    for (let f = 0; f < frames; f++) {
      const values: string[] = [];
      if (vis[f * K + neck]) {
        seeing[f]++;
        if (ankles.every((a) => !vis[f * K + a])) anklesHidden[f]++;
      }
      for (let k = 0; k < K; k++) {
        const gx = rng.gaussian();
        const gy = rng.gaussian();
        const drop = rng.next() < noise.dropout;
        const conf = 0.55 + 0.4 * rng.next();
        projectPoint(cam.calibration, world.subarray((f * K + k) * 3, (f * K + k) * 3 + 3), px);
        const u = px[0] + noise.sigma * gx;
        const v = px[1] + noise.sigma * gy;
        const inside = Number.isFinite(u) && u >= 0 && v >= 0 && u < width && v < height;
        total++;
        if (!vis[f * K + k]) hidden++;
        if (!inside || drop || !vis[f * K + k]) values.push('0', '0', '0');
        else values.push(u.toFixed(3), v.toFixed(3), conf.toFixed(3));
      }
      const json = `{"version":1.3,"people":[{"person_id":[-1],"pose_keypoints_2d":[${values.join(',')}]}]}\n`;
      writeFileSync(join(dir, `${cam.name}_${String(f).padStart(12, '0')}_keypoints.json`), json);
      files++;
    }
  });
  let legsHiddenFrames = 0;
  for (let f = 0; f < frames; f++) if (seeing[f] > 0 && anklesHidden[f] > seeing[f] / 2) legsHiddenFrames++;
  return { files, occludedShare: total ? hidden / total : 0, legsHiddenFrames };
}
