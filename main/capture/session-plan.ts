import type { CameraCalibration, CameraRole } from '../../preload/api';
import type { OpenPoseFolder } from './openpose';

export interface CameraPlan {
  name: string;
  role: CameraRole;
  calibration: CameraCalibration;
  videoPath: string | null;
  keypoints: { layout: string; jointNames: readonly string[]; folder: OpenPoseFolder } | null;
}

/** Everything an import will read, resolved and checked before anything is written. */
export interface SessionPlan {
  root: string;
  name: string;
  format: 'pose2sim' | 'studio';
  cameras: CameraPlan[];
  /** session.json's boards, subject and ground-truth path (absolute), stored with the session */
  meta?: { boards?: unknown[]; subject?: Record<string, unknown>; groundTruth?: string };
}
