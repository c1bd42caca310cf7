import type { JobKind } from '../../preload/api';

/** Messages between the job runner (main thread) and a job worker thread. */
export interface WorkerInput {
  dataDir: string;
  jobId: number;
  kind: JobKind;
  params: Record<string, unknown>;
}

export type ToWorker = { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: number; message: string }
  | { type: 'done'; result: Record<string, unknown> }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; code: string };
