import type { JobKind } from '../../preload/api';
import { importSession, removePartialImport, type JobContext } from '../capture/import-session';
import type { Db } from '../store/db';
import { localizeSession } from '../calibration/localize-job';
import { runFitJob } from '../fitting/fit-job';
import { runRefitJob } from '../fitting/refit-window';
import { runMotifExtractJob, type MotifExtractJobParams } from '../motifs/extract-job';
import { cleanupMotifTrainJob, runMotifTrainJob, type MotifTrainJobParams } from '../motifs/train-job';
import { cleanupExportJob, runExportJob } from '../export/export-job';

/** What each job kind does (run inside the worker) and how to undo a run that did not finish. */
export interface JobKindSpec {
  run(db: Db, params: Record<string, unknown>, ctx: JobContext): Promise<Record<string, unknown>>;
  cleanup(db: Db, jobId: number): Promise<void>;
}

export const JOB_KINDS: Record<JobKind, JobKindSpec> = {
  import: {
    run: async (db, params, ctx) => ({ ...(await importSession(db, String(params.path), ctx)) }),
    cleanup: removePartialImport,
  },
  localize: {
    run: async (db, params, ctx) => ({
      ...(await localizeSession(
        db,
        { sessionId: Number(params.sessionId), maxGap: params.maxGap as number | undefined },
        ctx,
      )),
    }),
    // Poses are written in one transaction at the very end: a job that did not finish wrote nothing.
    cleanup: async () => undefined,
  },
  fit: {
    run: async (db, params, ctx) => ({
      ...(await runFitJob(
        db,
        {
          sessionId: Number(params.sessionId),
          ground: params.ground as boolean | undefined,
          footCameras: params.footCameras as boolean | undefined,
          start: params.start as number | undefined,
          count: params.count as number | undefined,
        },
        ctx,
      )),
    }),
    // The fit is stored in one transaction at the very end: a job that did not finish wrote nothing.
    cleanup: async () => undefined,
  },
  refit: {
    run: async (db, params, ctx) => ({
      ...(await runRefitJob(
        db,
        {
          sessionId: Number(params.sessionId),
          baseFitId: Number(params.baseFitId),
          start: Number(params.start),
          count: Number(params.count),
          margin: params.margin as number | undefined,
        },
        ctx,
      )),
    }),
    // The refit is stored in one transaction at the very end: a job that did not finish wrote nothing.
    cleanup: async () => undefined,
  },
  'motifs-train': {
    run: async (db, params, ctx) => ({
      ...(await runMotifTrainJob(db, params as unknown as MotifTrainJobParams, ctx)),
    }),
    // The checkpoint stays (a retry resumes from it); the model is marked failed.
    cleanup: cleanupMotifTrainJob,
  },
  'motifs-extract': {
    run: async (db, params, ctx) => ({
      ...(await runMotifExtractJob(db, params as unknown as MotifExtractJobParams, ctx)),
    }),
    // Proposals are stored in one transaction at the very end: a job that did not finish wrote nothing.
    cleanup: async () => undefined,
  },
  export: {
    run: async (db, params, ctx) => ({ ...(await runExportJob(db, params, ctx)) }),
    // Files go to <out>.partial-<pid> and are renamed into place at the end; cleanup removes leftovers.
    cleanup: cleanupExportJob,
  },
};
