import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CameraCalibration } from '../../preload/api';
import { loadBodyModel } from '../body/load-model';
import { readNpz } from '../body/npz';
import { listOpenPoseFolder, readOpenPoseFolder } from '../capture/openpose';
import type { FitInput } from './types';

interface SampleSessionJson {
  fps: number;
  subject: { betas: number[] };
  cameras: {
    name: string;
    role: 'room' | 'foot-left' | 'foot-right';
    calibration: CameraCalibration;
    keypoints?: { layout: string; dir: string };
  }[];
}

/**
 * The embedded sample as a FitInput straight from its folder, without a library: room keypoints from
 * the OpenPose files, the subject's betas, and the ground-truth foot-camera poses standing in for PnP
 * (weight 1). For benchmarks and tests of the fit alone; the real pipeline reads the store (fit-job.ts).
 */
export function sampleFitInput(dir: string, modelFile: string, frames?: number): FitInput {
  const session = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as SampleSessionJson;
  const gt = readNpz(join(dir, 'ground_truth.npz'));
  const model = loadBodyModel(modelFile);
  const rooms = session.cameras.filter((c) => c.role === 'room' && c.keypoints);
  const read = rooms.map((c) => readOpenPoseFolder(listOpenPoseFolder(join(dir, c.keypoints!.dir)), 25));
  const F = Math.min(frames ?? Infinity, ...read.map((r) => r.frames));
  const views = rooms.map((c, i) => ({
    name: c.name,
    calibration: c.calibration,
    layout: c.keypoints!.layout,
    keypoints: read[i].data.slice(0, F * 75),
  }));
  const footCameras = session.cameras
    .filter((c): c is typeof c & { role: 'foot-left' | 'foot-right' } => c.role !== 'room')
    .map((c) => {
      const key = `${c.name.replace('-', '_')}_pose`;
      if (!gt[key]) throw new Error(`${join(dir, 'ground_truth.npz')}: no ${key}`);
      return {
        name: c.name,
        role: c.role,
        calibration: c.calibration,
        poses: Float32Array.from(gt[key].data as ArrayLike<number>).slice(0, F * 12),
        weights: new Float32Array(F).fill(1),
      };
    });
  return {
    model,
    fps: session.fps,
    firstFrame: 0,
    frameCount: F,
    betas: Float64Array.from(session.subject.betas),
    views,
    footCameras,
  };
}
