import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BoardSpec } from '../../main/calibration/charuco-board';
import type { Db } from '../../main/store/db';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const SHARED_DATA = resolve(REPO_ROOT, '..', 'shared', 'data');
export const POSE2SIM = join(SHARED_DATA, 'pose2sim-balancing');

/**
 * The OpenCV tutorial ChArUco board of the real photos in charuco-opencv (5 x 7, 4 cm / 2 cm,
 * DICT_6X6_250), as the spec file shipped in native/boards describes it, named 'tutorial'.
 */
export const TUTORIAL_BOARD: BoardSpec = {
  ...(JSON.parse(
    readFileSync(join(REPO_ROOT, 'native', 'boards', 'opencv-tutorial-5x7.json'), 'utf8'),
  ) as BoardSpec),
  name: 'tutorial',
};

const made: string[] = [];

export function tempDir(prefix = 'studio-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A writable copy of the real Pose2Sim capture, for tests that damage it. */
export function copyPose2Sim(): string {
  const dir = join(tempDir('studio-capture-'), 'pose2sim-balancing');
  cpSync(POSE2SIM, dir, { recursive: true });
  return dir;
}

/**
 * A copy of the real capture whose cameras' 100 keypoint files are repeated (cycling) up to `frames`
 * per camera, so an import lasts long enough to be cancelled or killed midway.
 */
export function copyPose2SimWithFrames(frames: number): string {
  const dir = copyPose2Sim();
  for (const cam of ['cam01', 'cam02', 'cam03', 'cam04']) {
    const folder = join(dir, 'pose', `${cam}_json`);
    const originals = readdirSync(folder)
      .sort()
      .map((n) => readFileSync(join(folder, n)));
    for (let f = originals.length; f < frames; f++) {
      writeFileSync(
        join(folder, `${cam}.${String(f).padStart(5, '0')}.json`),
        originals[f % originals.length],
      );
    }
  }
  return dir;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface SqlSession {
  name: string;
  frames?: number;
  fps?: number;
  meta?: object;
}

let inserted = 0;

/**
 * A ready session row straight in SQL (no import, no media): what store and API tests need when only the
 * row matters. source_path is /nowhere/<name>-<n> (unique, as the schema requires), format 'test'.
 */
export async function insertSession(db: Db, s: SqlSession): Promise<number> {
  const { lastID } = await db.run(
    `INSERT INTO sessions (name, source_path, format, state, fps_num, fps_den, frame_count, created_at, meta)
     VALUES (?, ?, 'test', 'ready', ?, 1, ?, 'now', ?)`,
    [s.name, `/nowhere/${s.name}-${++inserted}`, s.fps ?? 30, s.frames ?? 100, JSON.stringify(s.meta ?? {})],
  );
  return lastID;
}
