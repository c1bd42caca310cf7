import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { MotifModelInfo, TrainingCurve } from '../../preload/api';
import type { Db } from './db';

/**
 * The A4Mer model registry (migration 5): one `motif_models` row per model (config, what it was
 * trained on, latest metrics, progress) plus its training log, and a folder of files (checkpoints,
 * stage ONNX files) under the data dir. The row keeps that folder relative to the data dir, so a
 * moved data dir stays valid; the data dir is the folder of the library file (library.ts puts
 * `library.sqlite` at its top), so every function here needs only the Db.
 */

export type MotifModelState = MotifModelInfo['state'];
const STATES: readonly MotifModelState[] = ['training', 'ready', 'failed'];

/** Where model folders live, relative to the data dir. */
export const MOTIF_MODELS_FOLDER = 'models';

/** A model as the registry holds it: the API's info plus its folder (absolute) and the job that made it. */
export interface MotifModelRecord extends MotifModelInfo {
  dir: string;
  jobId: number | null;
}

export interface NewMotifModel {
  name: string;
  config: Record<string, unknown>;
  training: Record<string, unknown>;
  stepsTotal: number;
  /** The training job that creates it, so a resumed job finds its model (findMotifModelByJob). */
  jobId?: number | null;
}

export interface MotifModelUpdate {
  state?: MotifModelState;
  /** Shallow-merged over the stored metrics (a key set to null is kept as null). */
  metrics?: Record<string, unknown>;
  stepsDone?: number;
  /** For a resumed run that trains longer than first planned. */
  stepsTotal?: number;
}

interface ModelRow {
  id: number;
  name: string;
  job_id: number | null;
  created_at: string;
  state: MotifModelState;
  config: string;
  training: string;
  metrics: string;
  steps_done: number;
  steps_total: number;
  dir: string;
}

/** The data dir of a library: the folder of its library file. */
export function dataDirOf(db: Db): string {
  return dirname(resolve(db.path));
}

/** Absolute folder of a relative `dir` column; refuses anything that would leave the models folder. */
function absoluteModelDir(db: Db, rel: string, modelId: number): string {
  const root = join(dataDirOf(db), MOTIF_MODELS_FOLDER);
  const abs = resolve(dataDirOf(db), ...rel.split('/'));
  const inside = relative(root, abs);
  if (inside === '' || inside.startsWith('..') || inside.includes(sep))
    throw new Error(`${db.path}: motif model #${modelId} has folder "${rel}", which is not under ${root}`);
  return abs;
}

function parseJson(db: Db, r: ModelRow, column: 'config' | 'training' | 'metrics'): Record<string, unknown> {
  try {
    return JSON.parse(r[column]) as Record<string, unknown>;
  } catch {
    throw new Error(`${db.path}: motif model #${r.id}: its stored ${column} is not JSON`);
  }
}

function toInfo(db: Db, r: ModelRow): MotifModelInfo {
  return {
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    state: r.state,
    config: parseJson(db, r, 'config'),
    training: parseJson(db, r, 'training'),
    metrics: parseJson(db, r, 'metrics'),
    stepsDone: r.steps_done,
    stepsTotal: r.steps_total,
  };
}

function toRecord(db: Db, r: ModelRow): MotifModelRecord {
  return { ...toInfo(db, r), dir: absoluteModelDir(db, r.dir, r.id), jobId: r.job_id };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSteps(where: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: ${what} ${n} is not an integer >= 0`);
}

/**
 * Registers a new model in state 'training' and makes its folder `<dataDir>/models/a4mer-<id>/`
 * (a leftover folder of that name belongs to no row and is emptied). Row and folder are made in one
 * transaction: if the folder cannot be made, no row is stored.
 */
export async function createMotifModel(db: Db, m: NewMotifModel): Promise<{ id: number; dir: string }> {
  const where = `new motif model "${m.name}"`;
  if (typeof m.name !== 'string' || m.name.trim() === '') throw new Error(`${where}: the name is empty`);
  if (!isPlainObject(m.config)) throw new Error(`${where}: config is not an object`);
  if (!isPlainObject(m.training)) throw new Error(`${where}: training is not an object`);
  checkSteps(where, 'stepsTotal', m.stepsTotal);
  return db.transaction(async () => {
    const { lastID: id } = await db.run(
      `INSERT INTO motif_models (name, job_id, created_at, state, config, training, steps_total, dir)
       VALUES (?, ?, ?, 'training', ?, ?, ?, '')`,
      [
        m.name,
        m.jobId ?? null,
        new Date().toISOString(),
        JSON.stringify(m.config),
        JSON.stringify(m.training),
        m.stepsTotal,
      ],
    );
    const rel = `${MOTIF_MODELS_FOLDER}/a4mer-${id}`;
    await db.run('UPDATE motif_models SET dir = ? WHERE id = ?', [rel, id]);
    const dir = absoluteModelDir(db, rel, id);
    try {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new Error(`${dir}: cannot make the folder of motif model #${id} (${(err as Error).message})`, {
        cause: err,
      });
    }
    return { id, dir };
  });
}

/** Updates progress, state and metrics in one transaction (metrics merge over the stored ones). */
export async function updateMotifModel(db: Db, id: number, u: MotifModelUpdate): Promise<MotifModelRecord> {
  const where = `motif model #${id}`;
  if (u.state !== undefined && !STATES.includes(u.state))
    throw new Error(`${where}: state "${String(u.state)}" is not one of ${STATES.join(', ')}`);
  if (u.metrics !== undefined && !isPlainObject(u.metrics))
    throw new Error(`${where}: metrics is not an object`);
  if (u.stepsDone !== undefined) checkSteps(where, 'stepsDone', u.stepsDone);
  if (u.stepsTotal !== undefined) checkSteps(where, 'stepsTotal', u.stepsTotal);
  return db.transaction(async () => {
    const row = await db.get<ModelRow>('SELECT * FROM motif_models WHERE id = ?', [id]);
    if (!row) throw new Error(`${where} does not exist`);
    const next: ModelRow = {
      ...row,
      state: u.state ?? row.state,
      metrics: u.metrics ? JSON.stringify({ ...parseJson(db, row, 'metrics'), ...u.metrics }) : row.metrics,
      steps_done: u.stepsDone ?? row.steps_done,
      steps_total: u.stepsTotal ?? row.steps_total,
    };
    await db.run(
      'UPDATE motif_models SET state = ?, metrics = ?, steps_done = ?, steps_total = ? WHERE id = ?',
      [next.state, next.metrics, next.steps_done, next.steps_total, id],
    );
    return toRecord(db, next);
  });
}

/**
 * Appends logged steps to a model's training curve in one transaction. A step logged again (a run
 * resumed from an earlier checkpoint) replaces the earlier row. Non-finite values are stored as null
 * and read back as NaN.
 */
export async function appendTrainingLog(
  db: Db,
  id: number,
  rows: { step: number; values: Record<string, number> }[],
): Promise<void> {
  const where = `training log of motif model #${id}`;
  for (const [i, r] of rows.entries()) {
    checkSteps(where, `rows[${i}].step`, r.step);
    if (!isPlainObject(r.values)) throw new Error(`${where}: rows[${i}].values is not an object`);
    for (const [k, v] of Object.entries(r.values))
      if (typeof v !== 'number') throw new Error(`${where}: rows[${i}].values.${k} is not a number`);
  }
  if (rows.length === 0) return;
  await db.transaction(async () => {
    if (!(await db.get('SELECT 1 FROM motif_models WHERE id = ?', [id])))
      throw new Error(`${where}: no such model`);
    const stmt = db.prepare(
      'INSERT OR REPLACE INTO motif_training_log (model_id, step, vals) VALUES (?, ?, ?)',
    );
    try {
      for (const r of rows) await stmt.run([id, r.step, JSON.stringify(r.values)]);
    } finally {
      await stmt.finalize();
    }
  });
}

/**
 * The training curve by step; a column missing at a step is NaN there (NaN crosses JSON as null).
 * Columns in order of first appearance. Undefined when the model does not exist.
 */
export async function readTrainingCurve(db: Db, id: number): Promise<TrainingCurve | undefined> {
  if (!(await db.get('SELECT 1 FROM motif_models WHERE id = ?', [id]))) return undefined;
  const rows = await db.all<{ step: number; vals: string }>(
    'SELECT step, vals FROM motif_training_log WHERE model_id = ? ORDER BY step',
    [id],
  );
  const steps = rows.map((r) => r.step);
  const series: Record<string, number[]> = {};
  rows.forEach((r, i) => {
    const vals = JSON.parse(r.vals) as Record<string, number | null>;
    for (const [k, v] of Object.entries(vals)) {
      series[k] ??= new Array<number>(rows.length).fill(NaN);
      series[k][i] = v ?? NaN;
    }
  });
  return { modelId: id, steps, series };
}

/** Every model, newest first. */
export async function listMotifModels(db: Db): Promise<MotifModelInfo[]> {
  const rows = await db.all<ModelRow>('SELECT * FROM motif_models ORDER BY id DESC');
  return rows.map((r) => toInfo(db, r));
}

export async function getMotifModel(db: Db, id: number): Promise<MotifModelRecord | undefined> {
  const row = await db.get<ModelRow>('SELECT * FROM motif_models WHERE id = ?', [id]);
  return row ? toRecord(db, row) : undefined;
}

/** The newest model a job created (a resumed training job finds its model here instead of making another). */
export async function findMotifModelByJob(db: Db, jobId: number): Promise<MotifModelRecord | undefined> {
  const row = await db.get<ModelRow>('SELECT * FROM motif_models WHERE job_id = ? ORDER BY id DESC LIMIT 1', [
    jobId,
  ]);
  return row ? toRecord(db, row) : undefined;
}

/**
 * Deletes a model: its row, training log and every session's proposals from it (one transaction,
 * by cascade), then its folder. Rows go first, so a folder that cannot be removed is left as an
 * orphan (an Error names it) rather than a listed model without files. False when there was no model.
 */
export async function deleteMotifModel(db: Db, id: number): Promise<boolean> {
  const row = await db.get<ModelRow>('SELECT * FROM motif_models WHERE id = ?', [id]);
  if (!row) return false;
  const dir = absoluteModelDir(db, row.dir, id);
  const { changes } = await db.transaction(() => db.run('DELETE FROM motif_models WHERE id = ?', [id]));
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    throw new Error(
      `${dir}: motif model #${id} was deleted but its folder was not (${(err as Error).message})`,
      { cause: err },
    );
  }
  return changes > 0;
}
