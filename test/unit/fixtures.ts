import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const SHARED_DATA = resolve(REPO_ROOT, '..', 'shared', 'data');
export const POSE2SIM = join(SHARED_DATA, 'pose2sim-balancing');

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

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
