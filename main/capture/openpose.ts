import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImportError, throwIfAborted } from './errors';

/** One camera's OpenPose output folder: one `<prefix>.<frame>.json` (or `_<frame>_keypoints.json`) per frame. */
export interface OpenPoseFolder {
  dir: string;
  /** Sorted by frame index. */
  files: { frame: number; path: string }[];
}

const FRAME_NUMBER = /(\d+)(?:_keypoints)?\.json$/i;

export function listOpenPoseFolder(dir: string): OpenPoseFolder {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ImportError(
      dir,
      `cannot list keypoint folder (${(err as NodeJS.ErrnoException).code ?? err})`,
      'not-found',
    );
  }
  const files: { frame: number; path: string }[] = [];
  const seen = new Map<number, string>();
  for (const name of names) {
    if (!name.toLowerCase().endsWith('.json')) continue;
    const m = FRAME_NUMBER.exec(name);
    if (!m) throw new ImportError(join(dir, name), 'keypoint file name has no frame number');
    const frame = Number(m[1]);
    const other = seen.get(frame);
    if (other) throw new ImportError(join(dir, name), `frame ${frame} already given by ${other}`);
    seen.set(frame, name);
    files.push({ frame, path: join(dir, name) });
  }
  if (files.length === 0) throw new ImportError(dir, 'no OpenPose JSON files in the keypoint folder');
  files.sort((a, b) => a.frame - b.frame);
  return { dir, files };
}

/**
 * Parses every frame into one frame-major Float32Array of (x, y, confidence) per joint, frames from
 * the first to the last file's index. Missing frames and undetected joints (OpenPose writes 0, 0, 0)
 * become NaN, NaN, 0. With several people in a frame the most confident one is kept.
 */
export function readOpenPoseFolder(
  folder: OpenPoseFolder,
  joints: number,
  onFrame?: (done: number, total: number) => void,
  signal?: AbortSignal,
): { firstFrame: number; frames: number; data: Float32Array } {
  const firstFrame = folder.files[0].frame;
  const frames = folder.files[folder.files.length - 1].frame - firstFrame + 1;
  const per = joints * 3;
  const data = new Float32Array(frames * per);
  for (let i = 0; i < frames; i++) {
    for (let j = 0; j < joints; j++) {
      data[i * per + 3 * j] = NaN;
      data[i * per + 3 * j + 1] = NaN;
    }
  }
  folder.files.forEach((f, n) => {
    if (n % 32 === 0) throwIfAborted(signal);
    const kp = readOpenPoseFrame(f.path, joints);
    if (kp) {
      const base = (f.frame - firstFrame) * per;
      for (let j = 0; j < joints; j++) {
        const x = kp[3 * j];
        const y = kp[3 * j + 1];
        const c = kp[3 * j + 2];
        if (c > 0 || x !== 0 || y !== 0) {
          data[base + 3 * j] = x;
          data[base + 3 * j + 1] = y;
          data[base + 3 * j + 2] = c;
        }
      }
    }
    onFrame?.(n + 1, folder.files.length);
  });
  return { firstFrame, frames, data };
}

/** Returns the chosen person's flat keypoints, or null when the frame has nobody. */
export function readOpenPoseFrame(path: string, joints: number): number[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ImportError(path, `malformed JSON (${(err as Error).message})`);
  }
  const people = (doc as { people?: unknown })?.people;
  if (!Array.isArray(people))
    throw new ImportError(path, 'no "people" array (not an OpenPose keypoint file)');
  let best: number[] | null = null;
  let bestScore = -Infinity;
  people.forEach((person, p) => {
    const kp = (person as { pose_keypoints_2d?: unknown })?.pose_keypoints_2d;
    if (!Array.isArray(kp)) throw new ImportError(path, `people[${p}] has no pose_keypoints_2d array`);
    if (kp.length !== joints * 3) {
      throw new ImportError(
        path,
        `people[${p}].pose_keypoints_2d has ${kp.length} values, expected ${joints * 3} (${joints} keypoints x 3)`,
      );
    }
    let score = 0;
    for (let i = 0; i < kp.length; i++) {
      const v = kp[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ImportError(
          path,
          `people[${p}].pose_keypoints_2d[${i}] is ${JSON.stringify(v)}, not a finite number`,
        );
      }
      if (i % 3 === 2) score += v;
    }
    if (score > bestScore) {
      bestScore = score;
      best = kp as number[];
    }
  });
  return best;
}

export function cameraNameFromFolder(dir: string): string {
  return basename(dir).replace(/_json$/i, '');
}
