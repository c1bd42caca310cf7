import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CameraCalibration } from '../../../preload/api';
import type { BoardSpec } from '../../calibration/charuco-board';
import { KEYPOINT_LAYOUTS } from '../keypoint-layouts';
import type { BodyModel } from '../../body/model';
import { encodeNpz } from '../../body/npz';
import type { PoseSequence } from '../../body/retarget';
import type { SessionManifest } from '../manifest';
import type { SampleFrames } from './frames';
import { keypointDir } from './keypoints';
import { SAMPLE_CLIPS } from './motion';
import { FOOT_INTRINSICS, type FootMount } from './scene';

export const GROUND_TRUTH_JSON = 'ground_truth.json';
export const GROUND_TRUTH_NPZ = 'ground_truth.npz';

type Camera = { name: string; calibration: CameraCalibration };

/**
 * ground_truth.npz: per-frame arrays (betas, theta, transl, joints, keypoints3d, foot camera poses);
 * ground_truth.json: everything else (calibrations, boards, mounts, model, motion sources, noise).
 */
export function writeGroundTruth(
  root: string,
  gt: {
    model: BodyModel;
    modelFile: string;
    seq: PoseSequence;
    frames: SampleFrames;
    rooms: Camera[];
    mounts: FootMount[];
    boards: BoardSpec[];
    layout: string;
    seed: number;
    sigma: number;
    visibility: Uint8Array[];
  },
): void {
  const { seq, model, frames } = gt;
  const F = seq.frames;
  const J = model.numJoints;
  const K = frames.numKeypoints;
  const arrays = {
    betas: { dtype: 'f4', shape: [seq.betas.length], data: seq.betas },
    theta: { dtype: 'f4', shape: [F, J, 3], data: seq.theta },
    transl: { dtype: 'f4', shape: [F, 3], data: seq.transl },
    joints: { dtype: 'f4', shape: [F, J, 3], data: frames.joints },
    keypoints3d: { dtype: 'f8', shape: [F, K, 3], data: frames.keypoints },
    ...Object.fromEntries(
      gt.mounts.map((m, i) => [
        `${m.name.replace('-', '_')}_pose`,
        { dtype: 'f8', shape: [F, 12], data: frames.footPoses[i] },
      ]),
    ),
    ...Object.fromEntries(
      gt.rooms.map((c, i) => [
        `visible_${c.name.replace('-', '_')}`,
        { dtype: 'u1', shape: [F, K], data: gt.visibility[i] },
      ]),
    ),
  };
  writeFileSync(join(root, GROUND_TRUTH_NPZ), encodeNpz(arrays));
  const json = {
    version: 1,
    fps: seq.fps,
    frames: F,
    seed: gt.seed,
    keypointNoiseSigmaPx: gt.sigma,
    arrays: GROUND_TRUTH_NPZ,
    arrayNotes: {
      theta: 'axis-angle per joint, local (SMPL convention), model joint order',
      transl: 'added to every posed vertex and joint (smplx transl)',
      foot_pose: 'world -> camera per frame: R (9, row-major) then t (3)',
      visible:
        'room camera saw the keypoint (z-buffer and image bounds); keypoints files also drop some at random',
    },
    model: {
      file: gt.modelFile,
      name: model.name,
      jointNames: model.jointNames,
      betaNames: model.betaNames,
      upAxis: model.upAxis,
    },
    keypoints: { layout: gt.layout, names: KEYPOINT_LAYOUTS[gt.layout] },
    cameras: [
      ...gt.rooms.map((c) => ({ name: c.name, role: 'room', calibration: c.calibration })),
      ...gt.mounts.map((m) => ({ name: m.name, role: m.role, intrinsics: FOOT_INTRINSICS })),
    ],
    mounts: gt.mounts,
    boards: gt.boards,
    motion: { source: 'CMU subject 02', clips: SAMPLE_CLIPS },
  };
  writeFileSync(join(root, GROUND_TRUTH_JSON), JSON.stringify(json, null, 1) + '\n');
}

export function writeManifest(
  root: string,
  m: {
    rooms: Camera[];
    mounts: FootMount[];
    boards: BoardSpec[];
    layout: string;
    fps: number;
    model: BodyModel;
    modelFile: string;
  },
): SessionManifest {
  const manifest: SessionManifest = {
    version: 1,
    name: 'Embedded sample: CMU subject 02 at the desk',
    fps: m.fps,
    cameras: [
      ...m.rooms.map((c) => ({
        name: c.name,
        role: 'room' as const,
        video: `videos/${c.name}.mp4`,
        calibration: c.calibration,
        keypoints: { format: 'openpose' as const, layout: m.layout, dir: keypointDir(c.name) },
      })),
      // Foot cameras move: their extrinsics here are the identity; per-frame poses come from localisation.
      ...m.mounts.map((mt) => ({
        name: mt.name,
        role: mt.role,
        video: `videos/${mt.name}.mp4`,
        calibration: { ...FOOT_INTRINSICS, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] },
      })),
    ],
    boards: m.boards,
    subject: {
      name: 'CMU subject 02',
      bodyModel: basename(m.modelFile, '.npz'),
      betas: Array.from({ length: m.model.numBetas }, () => 0),
    },
    groundTruth: GROUND_TRUTH_JSON,
  };
  writeFileSync(join(root, 'session.json'), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}
