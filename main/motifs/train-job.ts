/**
 * The A4Mer training job ('motifs-train'): a registry row first (store/motif-models.ts), then the
 * training library (skeleton-dataset folders and/or the newest fit of sessions, all with the same joint
 * names), then trainA4Mer into the model's folder with progress -> the job, log rows -> the training
 * curve, steps done -> the row; at the end state 'ready' and the run's summary as metrics.
 *
 * Durable: a retry of the same job finds its model (findMotifModelByJob) and resumes from the last
 * checkpoint; `modelId` resumes a model another job started (its stored data and options). A cancelled
 * or failed run marks the model 'failed' (metrics.error says why) and leaves its checkpoint.
 *
 * Job params beside the API's request: `overrides` (A4MerTrainOverrides: network sizes, window length,
 * batch, checkpoint period ... for tests and tools; not exposed in the API) and `backend` ('wasm' | 'cpu').
 */
import { resolve } from 'node:path';
import { CancelledError } from '../capture/errors';
import type { JobContext } from '../capture/import-session';
import { readSkeletonDataset } from '../capture/skeleton-dataset';
import type { Db } from '../store/db';
import { sessionFitSequence } from './session-sequence';
import {
  appendTrainingLog,
  createMotifModel,
  findMotifModelByJob,
  getMotifModel,
  type MotifModelRecord,
  updateMotifModel,
} from '../store/motif-models';
import type { A4MerSequence } from './preprocess';
import { datasetSequences } from './sequences';
import { trainA4Mer } from './train';
import { type A4MerTrainOverrides, resolveTrainOptions, TRAIN_PHASES } from './train-options';

export interface MotifTrainJobParams {
  name?: string;
  /** skeleton-dataset folders (absolute, or relative to the working folder) */
  datasets?: string[];
  sessionIds?: number[];
  /** N1, N2, N3 */
  steps?: number[];
  /** continue this model (its stored data and options) instead of making a new one */
  modelId?: number;
  /** not in the API: training options under `steps` (see the file comment) */
  overrides?: A4MerTrainOverrides;
  backend?: 'wasm' | 'cpu';
}

export interface MotifTrainJobResult {
  modelId: number;
  name: string;
  dir: string;
  sequences: number;
  joints: number;
  resumedFrom: { phase: string; step: number } | null;
  trainSeconds: number;
  summary: Record<string, number | string>;
}

/** What the registry row stores under `training`: enough to rebuild the library on resume. */
interface TrainingData {
  datasets: string[];
  sessionIds: number[];
}

/** Every sequence of the training library; an Error names the first source whose joints differ. */
async function trainingLibrary(db: Db, data: TrainingData): Promise<A4MerSequence[]> {
  const out: A4MerSequence[] = [];
  for (const dir of data.datasets)
    out.push(...datasetSequences(readSkeletonDataset(dir), dir).map((s) => s.sequence));
  for (const id of data.sessionIds) out.push((await sessionFitSequence(db, id)).sequence);
  if (out.length === 0) throw new Error('motif training: no data (give datasets and/or sessions)');
  const names = out[0].names.join(', ');
  const other = out.find((s) => s.names.join(', ') !== names);
  if (other)
    throw new Error(
      `motif training: all sequences must share joint names; '${out[0].source}' has (${names}) but ` +
        `'${other.source}' has (${other.names.join(', ')})`,
    );
  return out;
}

/** N1,N2,N3 -> steps overrides; an Error names a bad list. */
export function stepsOverride(steps: number[] | undefined): A4MerTrainOverrides['steps'] {
  if (steps === undefined) return undefined;
  if (steps.length !== 3 || !steps.every((n) => Number.isInteger(n) && n >= 1))
    throw new Error(`motif training: steps [${steps.join(', ')}] must be three integers >= 1 (N1, N2, N3)`);
  return { stage1: steps[0], stage2: steps[1], joint: steps[2] };
}

/** The model this run trains: the job's own (a retry), the named one, or a new row. */
async function modelOfJob(
  db: Db,
  params: MotifTrainJobParams,
  jobId: number,
): Promise<{ model: MotifModelRecord; resume: boolean }> {
  const own = await findMotifModelByJob(db, jobId);
  if (own) return { model: own, resume: true };
  if (params.modelId !== undefined) {
    const named = await getMotifModel(db, params.modelId);
    if (!named) throw new Error(`motif model #${params.modelId} does not exist`);
    if (named.state === 'ready')
      throw new Error(`motif model #${named.id} (${named.name}) is already trained`);
    return { model: named, resume: true };
  }
  const overrides: A4MerTrainOverrides = {
    ...params.overrides,
    steps: { ...params.overrides?.steps, ...stepsOverride(params.steps) },
  };
  const options = resolveTrainOptions(overrides); // validates before any row is made
  const training: TrainingData = {
    datasets: (params.datasets ?? []).map((d) => resolve(d)),
    sessionIds: params.sessionIds ?? [],
  };
  if (training.datasets.length + training.sessionIds.length === 0)
    throw new Error('motif training: no data (give datasets and/or sessions)');
  const name = params.name?.trim() || `a4mer ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  const stepsTotal = TRAIN_PHASES.reduce((n, p) => n + options.steps[p], 0);
  const { id } = await createMotifModel(db, {
    name,
    jobId,
    config: { ...overrides, steps: options.steps, backend: params.backend ?? 'wasm' },
    training: { ...training },
    stepsTotal,
  });
  return { model: (await getMotifModel(db, id))!, resume: false };
}

/** Runs (or resumes) a training job; see the file comment. */
export async function runMotifTrainJob(
  db: Db,
  params: MotifTrainJobParams,
  ctx: JobContext,
): Promise<MotifTrainJobResult> {
  ctx.progress(0, 'registering the model');
  const { model, resume } = await modelOfJob(db, params, ctx.jobId);
  const { backend, ...overrides } = model.config as A4MerTrainOverrides & { backend?: 'wasm' | 'cpu' };
  const training = model.training as unknown as TrainingData;
  try {
    if (model.state !== 'training') await updateMotifModel(db, model.id, { state: 'training' });
    ctx.progress(0, resume ? `resuming model #${model.id}` : `reading the data of model #${model.id}`);
    const sequences = await trainingLibrary(db, training);
    await updateMotifModel(db, model.id, {
      metrics: { error: null, sequences: sequences.length, joints: sequences[0].names.length },
    });
    const result = await trainA4Mer(
      sequences,
      { ...overrides, resume },
      {
        dir: model.dir,
        signal: ctx.signal,
        backend,
        onProgress: (f, message) => ctx.progress(Math.min(f, 0.999), message),
        log: async (rows) => {
          await appendTrainingLog(db, model.id, rows);
          const done = Math.max(...rows.map((r) => r.step)) + 1;
          await updateMotifModel(db, model.id, { stepsDone: done });
        },
      },
    );
    await updateMotifModel(db, model.id, {
      state: 'ready',
      stepsDone: model.stepsTotal,
      metrics: { ...result.summary },
    });
    return {
      modelId: model.id,
      name: model.name,
      dir: model.dir,
      sequences: sequences.length,
      joints: sequences[0].names.length,
      resumedFrom: result.resumedFrom,
      trainSeconds: result.trainSeconds,
      summary: result.summary,
    };
  } catch (err) {
    const error =
      err instanceof CancelledError ? 'cancelled; retry the job to resume' : (err as Error).message;
    await updateMotifModel(db, model.id, { state: 'failed', metrics: { error } }).catch(() => undefined);
    throw err;
  }
}

/** Job cleanup: the model of a job that will not run on is 'failed'; its checkpoint stays for a retry. */
export async function cleanupMotifTrainJob(db: Db, jobId: number): Promise<void> {
  const model = await findMotifModelByJob(db, jobId);
  if (model?.state === 'training')
    await updateMotifModel(db, model.id, { state: 'failed', metrics: { error: 'cancelled' } });
}
