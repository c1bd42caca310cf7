import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../preload/api';
import { cleanupTempDirs, copyPose2Sim, copyPose2SimWithFrames, POSE2SIM } from './fixtures';
import { openTestContext, rowCounts, runImport } from './import-helpers';

describe('durable jobs', () => {
  afterAll(() => cleanupTempDirs());

  it('cancels a running import through its AbortSignal and removes what it wrote', async () => {
    const dir = copyPose2SimWithFrames(3000);
    const ctx = await openTestContext();
    const job = await ctx.runner.submit('import', { path: dir });
    const progressed = new Promise<void>((resolve) => {
      const on = (j: JobInfo) => {
        if (j.id === job.id && j.progress > 0.3) {
          ctx.runner.events.off('job', on);
          resolve();
        }
      };
      ctx.runner.events.on('job', on);
    });
    await progressed;
    await ctx.runner.cancel(job.id);
    const done = await ctx.runner.waitFor(job.id);
    expect(done.state).toBe('cancelled');
    expect(await rowCounts(ctx)).toEqual({ sessions: 0, cameras: 0, media: 0, tracks: 0, chunks: 0 });
    await ctx.close();
  });

  it('retries a failed import after the input is fixed, on the same job row', async () => {
    const dir = copyPose2Sim();
    const file = join(dir, 'pose', 'cam03_json', 'cam03.0010.json');
    writeFileSync(file, '{"people": [');
    const ctx = await openTestContext();
    const failed = await runImport(ctx, dir);
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain(file);
    cpSync(join(POSE2SIM, 'pose', 'cam03_json', 'cam03.0010.json'), file);
    await ctx.runner.retry(failed.id);
    const done = await ctx.runner.waitFor(failed.id);
    expect(done.state).toBe('succeeded');
    expect(await rowCounts(ctx)).toMatchObject({ sessions: 1, cameras: 4, media: 4, tracks: 4 });
    expect((await ctx.db.all('SELECT id FROM jobs')).length).toBe(1);
    await ctx.close();
  });

  it('refuses to retry a job that has not ended badly', async () => {
    const ctx = await openTestContext();
    const dir = copyPose2Sim();
    rmSync(join(dir, 'videos'), { recursive: true });
    const ok = await runImport(ctx, dir);
    expect(ok.state).toBe('succeeded');
    await expect(ctx.runner.retry(ok.id)).rejects.toThrow(/only failed, cancelled or interrupted/);
    await ctx.close();
  });
});
