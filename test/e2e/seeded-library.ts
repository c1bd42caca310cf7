import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExportSeed } from './seed-export';
import { repoRoot } from './server';

const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');

/**
 * A temp folder with a library seeded by seed-export.ts (the real Pose2Sim import, a camera-only
 * session, a stored fit and two segments), made in a child process before the server opens it.
 */
export function seedExportLibrary(prefix: string): { tmp: string; dataDir: string; seed: ExportSeed } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(tmp, 'data');
  const out = execFileSync('npx', ['tsx', 'test/e2e/seed-export.ts', dataDir, sampleDir, tmp], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  return { tmp, dataDir, seed: JSON.parse(out.trim().split('\n').pop()!) as ExportSeed };
}
