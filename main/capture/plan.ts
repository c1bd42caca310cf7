import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ImportError } from './errors';
import { readManifestPlan } from './manifest';
import { listOpenPoseFolder } from './openpose';
import type { CameraPlan, SessionPlan } from './session-plan';
import { parseQca } from './qualisys';
import { layoutNames } from './keypoint-layouts';
import { resolveInside } from './paths';

export const MANIFEST_FILE = 'session.json';

/**
 * The canonical path of a session folder (symlinks and `..` resolved): the identity a session's
 * source_path is stored and compared under.
 */
export function sessionRoot(folder: string): string {
  const path = resolve(folder);
  let isDir: boolean;
  let root: string;
  try {
    isDir = statSync(path).isDirectory();
    root = realpathSync(path);
  } catch {
    throw new ImportError(path, 'folder does not exist', 'not-found');
  }
  if (!isDir) throw new ImportError(root, 'is not a folder');
  return root;
}

/** Decides the folder's format and resolves every file it names. Reads metadata only, writes nothing. */
export function planSession(folder: string): SessionPlan {
  const root = sessionRoot(folder);
  if (existsSync(join(root, MANIFEST_FILE))) return readManifestPlan(root, MANIFEST_FILE);
  const qca = findCalibration(root);
  if (!qca) {
    throw new ImportError(
      root,
      `no calibration found: expected ${MANIFEST_FILE} or a Pose2Sim Qualisys calibration (*.qca.txt) in the folder or its calibration/ subfolder`,
    );
  }
  return planPose2Sim(root, qca);
}

function findCalibration(root: string): string | null {
  for (const dir of [root, join(root, 'calibration'), join(root, 'calib')]) {
    if (!existsSync(dir)) continue;
    const hit = readdirSync(dir).find((n) => n.toLowerCase().endsWith('.qca.txt'));
    if (hit) return join(dir, hit);
  }
  return null;
}

/** Camera number in a name like cam_01, cam01.mp4 or cam01_json. */
function cameraNumber(name: string): number | null {
  const m = /(\d+)/.exec(basename(name));
  return m ? Number(m[1]) : null;
}

/** Pose2Sim project layout: Calib*.qca.txt, videos/camNN.*, pose/camNN_json/, Config.toml. */
function planPose2Sim(root: string, qcaPath: string): SessionPlan {
  const cams = parseQca(readFileSync(qcaPath, 'utf8'), qcaPath);
  const layout = poseModel(root);
  const jointNames = layoutNames(layout);
  if (!jointNames)
    throw new ImportError(join(root, 'Config.toml'), `pose_model "${layout}" is not a known keypoint layout`);

  const videoDir = join(root, 'videos');
  const videos = existsSync(videoDir)
    ? readdirSync(videoDir).filter((n) => /\.(mp4|m4v|mov|webm|mkv|avi)$/i.test(n))
    : [];
  const poseDir = join(root, 'pose');
  const poseFolders = existsSync(poseDir) ? readdirSync(poseDir).filter((n) => /_json$/i.test(n)) : [];

  const cameras = cams.map((cam): CameraPlan => {
    const num = cameraNumber(cam.serial);
    const name = num === null ? cam.serial : `cam${String(num).padStart(2, '0')}`;
    const video = videos.find((v) => cameraNumber(v) === num);
    const pose = poseFolders.find((p) => cameraNumber(p) === num);
    return {
      name,
      role: 'room',
      calibration: cam.calibration,
      videoPath: video ? resolveInside(root, join('videos', video), qcaPath) : null,
      keypoints: pose
        ? { layout, jointNames, folder: listOpenPoseFolder(resolveInside(root, join('pose', pose), qcaPath)) }
        : null,
    };
  });
  if (videos.length > 0 && cameras.every((c) => c.videoPath === null)) {
    throw new ImportError(
      videoDir,
      `no video matches the calibrated cameras (${cams.map((c) => c.serial).join(', ')})`,
    );
  }
  return { root, name: basename(root), format: 'pose2sim', cameras };
}

/** Reads `pose_model` from Pose2Sim's Config.toml; BODY_25B is Pose2Sim's default. */
function poseModel(root: string): string {
  const config = join(root, 'Config.toml');
  if (!existsSync(config)) return 'BODY_25B';
  const m = /^\s*pose_model\s*=\s*['"]([^'"]+)['"]/m.exec(readFileSync(config, 'utf8'));
  return m ? m[1].toUpperCase() : 'BODY_25B';
}
