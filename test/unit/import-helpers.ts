import { createContext, type AppContext } from '../../main/api/context';
import type { JobInfo } from '../../preload/api';
import { tempDir } from './fixtures';

export async function openTestContext(dataDir = tempDir('studio-lib-')): Promise<AppContext> {
  return createContext({ dataDir, transport: 'web', mediaUrl: (id) => `/media/${id}` });
}

/** Runs an import through the real job runner and worker thread. */
export async function runImport(ctx: AppContext, path: string): Promise<JobInfo> {
  const job = await ctx.runner.submit('import', { path });
  return ctx.runner.waitFor(job.id);
}

export async function rowCounts(ctx: AppContext): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['sessions', 'cameras', 'media', 'tracks', 'chunks']) {
    out[t] = (await ctx.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))!.n;
  }
  return out;
}
