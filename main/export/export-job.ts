import type { ExportSessionsRequest } from '../../preload/api';
import { rmSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { JobContext } from '../capture/import-session';
import type { Db } from '../store/db';
import { getJob } from '../store/jobs';
import { runExport, type ExportResult } from './run-export';
import { parseSplitRatios, parseSplitSubjects, type SplitSpec } from './splits';
import { partialFolders } from './staging';

/**
 * The 'export' job: params as the CLI and the API send them (JSON), checked here, then runExport with
 * the job's progress and cancel signal. A run that stops early has already removed its partial
 * folder; cleanup also removes any `<out>.partial-*` a killed worker left behind.
 */

/** The API's request, except that `formats` may also be one comma list or 'all' (the CLI's flag). */
export type ExportJobParams = Omit<ExportSessionsRequest, 'formats'> & { formats: string | string[] };

/** The split spec of the params: ratios or subject lists, not both. */
export function splitFromParams(
  p: Pick<ExportJobParams, 'split' | 'splitSeed' | 'splitSubjects'>,
): SplitSpec | undefined {
  if (p.split !== undefined && p.splitSubjects !== undefined)
    throw new Error('export: give --split (ratios) or --split-subjects (lists), not both');
  if (p.splitSeed !== undefined && p.split === undefined)
    throw new Error('export: --split-seed needs --split (ratios)');
  if (p.split !== undefined) return parseSplitRatios(p.split, p.splitSeed);
  if (p.splitSubjects !== undefined) return parseSplitSubjects(p.splitSubjects);
  return undefined;
}

function checkParams(p: Record<string, unknown>): ExportJobParams {
  const ids = p.sessionIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => Number.isInteger(i) && i > 0))
    throw new Error(`export: sessionIds ${JSON.stringify(ids)} is not a list of session ids`);
  if (typeof p.out !== 'string' || !isAbsolute(p.out))
    throw new Error(`export: out ${JSON.stringify(p.out)} is not an absolute folder path`);
  const fitIds = p.fitIds;
  if (fitIds !== undefined && !(Array.isArray(fitIds) && fitIds.every((i) => Number.isInteger(i) && i > 0)))
    throw new Error(`export: fitIds ${JSON.stringify(fitIds)} is not a list of fit ids`);
  for (const k of ['split', 'splitSubjects'] as const)
    if (p[k] !== undefined && typeof p[k] !== 'string') throw new Error(`export: ${k} is not text`);
  if (p.splitSeed !== undefined && !Number.isInteger(p.splitSeed))
    throw new Error(`export: splitSeed ${JSON.stringify(p.splitSeed)} is not an integer`);
  return p as unknown as ExportJobParams;
}

export async function runExportJob(
  db: Db,
  params: Record<string, unknown>,
  ctx: JobContext,
): Promise<ExportResult> {
  const p = checkParams(params);
  return runExport(
    db,
    {
      sessionIds: p.sessionIds,
      formats: p.formats,
      out: p.out,
      split: splitFromParams(p),
      fitIds: p.fitIds,
      force: p.force === true,
    },
    { signal: ctx.signal, progress: ctx.progress },
  );
}

/** Removes what an unfinished export job left: `<out>.partial-*` beside its destination. */
export async function cleanupExportJob(db: Db, jobId: number): Promise<void> {
  const out = (await getJob(db, jobId))?.params.out;
  if (typeof out !== 'string' || !isAbsolute(out)) return;
  for (const dir of partialFolders(out)) rmSync(dir, { recursive: true, force: true });
}
