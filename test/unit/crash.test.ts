import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Db } from '../../main/store/db';
import { libraryPath, openLibrary } from '../../main/store/library';
import { cleanupTempDirs, copyPose2SimWithFrames, REPO_ROOT, tempDir } from './fixtures';

const FRAMES_PER_CAMERA = 4000;

function studio(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'main/cli/index.ts'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function count(db: Db, sql: string): Promise<number> {
  return (await db.get<{ n: number }>(sql))!.n;
}

describe('an import killed with SIGKILL', () => {
  afterAll(() => cleanupTempDirs());

  it('leaves a sound library, an interrupted job, and a retry that completes without duplicates', async () => {
    const capture = copyPose2SimWithFrames(FRAMES_PER_CAMERA);
    const dataDir = tempDir('studio-crash-');
    const child = studio(['import', capture, '--data-dir', dataDir, '--json']);
    const exited = new Promise<number | null>((r) =>
      child.on('exit', (_code, signal) => r(signal ? 1 : _code)),
    );

    // Wait until at least one camera's keypoints are committed but the session is not finished, then kill.
    let partialTracks = 0;
    for (let i = 0; i < 600 && partialTracks === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      try {
        const db = await Db.open(libraryPath(dataDir));
        db.configureBusyTimeout(1000);
        partialTracks = await count(
          db,
          `SELECT COUNT(*) AS n FROM tracks t JOIN sessions s ON s.id = t.session_id WHERE s.state = 'importing'`,
        ).catch(() => 0);
        await db.close();
      } catch {
        // library not created yet
      }
    }
    expect(partialTracks).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited;

    const db = await openLibrary(dataDir);
    const check = await db.all<{ integrity_check: string }>('PRAGMA integrity_check');
    expect(check.map((r) => r.integrity_check)).toEqual(['ok']);
    expect(await count(db, `SELECT COUNT(*) AS n FROM sessions WHERE state = 'ready'`)).toBe(0);
    expect(await count(db, `SELECT COUNT(*) AS n FROM sessions WHERE state = 'importing'`)).toBe(1);
    await db.close();

    // The next studio process marks the dead process's job interrupted.
    const listed = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'main/cli/index.ts', 'jobs', '--data-dir', dataDir, '--json'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    const jobs = JSON.parse(listed.stdout.trim().split('\n').pop()!).jobs as { id: number; state: string }[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0].state).toBe('interrupted');

    const retry = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'main/cli/index.ts',
        'jobs',
        'retry',
        String(jobs[0].id),
        '--data-dir',
        dataDir,
        '--json',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(retry.status, retry.stderr).toBe(0);
    const result = JSON.parse(retry.stdout.trim().split('\n').pop()!);
    expect(result.keypointFrames).toEqual([4000, 4000, 4000, 4000]);

    const after = await openLibrary(dataDir);
    expect(await count(after, 'SELECT COUNT(*) AS n FROM sessions')).toBe(1);
    expect(await count(after, `SELECT COUNT(*) AS n FROM sessions WHERE state = 'ready'`)).toBe(1);
    expect(await count(after, 'SELECT COUNT(*) AS n FROM cameras')).toBe(4);
    expect(await count(after, 'SELECT COUNT(*) AS n FROM media')).toBe(4);
    expect(await count(after, 'SELECT COUNT(*) AS n FROM tracks')).toBe(4);
    expect(await count(after, 'SELECT COUNT(*) AS n FROM chunks')).toBe(
      4 * Math.ceil(FRAMES_PER_CAMERA / 256),
    );
    expect(await count(after, 'SELECT COUNT(*) AS n FROM jobs')).toBe(1);
    expect(await count(after, `SELECT COUNT(*) AS n FROM jobs WHERE state = 'succeeded'`)).toBe(1);
    await after.close();
  }, 120_000);
});
