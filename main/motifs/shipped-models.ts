/**
 * Motif models shipped with the app in native/models/<name>/ (stage1.onnx, stage2.onnx,
 * vocabulary.json, recipe.json), and the one-command recipe that makes the demo model:
 * `npm run build:motif-model` = CMU subjects 01 and 02 (../shared/data) posed as the default body
 * model's joints (capture/cmu-dataset.ts), so the model runs on fits, trained with DEMO_TRAINING.
 * Training is deterministic (train.ts: seeded batches and masks), so the recipe reproduces the files.
 *
 * Installing a shipped model copies its files into a new registry row's folder (store/motif-models.ts)
 * in state 'ready'; `training.shipped` names it, so installing twice returns the first copy.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MotifModelInfo } from '../../preload/api';
import { loadBodyModel } from '../body/load-model';
import { convertCmuMocap } from '../capture/cmu-dataset';
import type { Db } from '../store/db';
import { createMotifModel, listMotifModels, updateMotifModel } from '../store/motif-models';
import { datasetSequences } from './sequences';
import { trainA4Mer } from './train';
import type { A4MerTrainOverrides } from './train-options';
import { TRAIN_PHASES } from './train-options';
import { STAGE1_FILE, STAGE2_FILE, VOCABULARY_FILE, readVocabulary } from './vocabulary';
import { writeFileAtomic } from './train-checkpoint';

export const DEMO_MOTIF_MODEL = 'a4mer-cmu-demo';
export const RECIPE_FILE = 'recipe.json';
const MODEL_FILES = [STAGE1_FILE, STAGE2_FILE, VOCABULARY_FILE, RECIPE_FILE] as const;

/**
 * The demo model's training: the default network and input (5 fps, 30 s windows) with short phases,
 * enough for atoms and motifs that follow the motion's changes; minutes on a laptop CPU.
 */
export const DEMO_TRAINING: A4MerTrainOverrides = {
  steps: { stage1: 400, stage2: 200, joint: 200 },
  seed: 1,
};

export interface MotifModelRecipe {
  name: string;
  command: string;
  data: { kind: 'cmu-mocap'; clips: number; frames: number; fps: number; bodyModel: string };
  training: A4MerTrainOverrides;
  trainSeconds: number;
}

export interface ShippedMotifModel {
  name: string;
  dir: string;
  recipe: MotifModelRecipe;
}

/** Shipped models: every native/models/<name>/ holding all the model files. */
export function listShippedMotifModels(nativeDir: string): ShippedMotifModel[] {
  const root = join(nativeDir, 'models');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && MODEL_FILES.every((f) => existsSync(join(root, e.name, f))))
    .map((e) => {
      const dir = join(root, e.name);
      const file = join(dir, RECIPE_FILE);
      let recipe: MotifModelRecipe;
      try {
        recipe = JSON.parse(readFileSync(file, 'utf8')) as MotifModelRecipe;
      } catch (err) {
        throw new Error(`${file}: not a JSON recipe (${(err as Error).message})`, { cause: err });
      }
      return { name: e.name, dir, recipe };
    });
}

export interface BuildDemoOptions {
  cmuDir: string;
  bodyModelFile: string;
  /** the model folder to (re)write, e.g. native/models/a4mer-cmu-demo */
  out: string;
  training?: A4MerTrainOverrides;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

/** Trains the demo model and writes its folder whole (a temp folder renamed over the old one). */
export async function buildDemoMotifModel(o: BuildDemoOptions): Promise<MotifModelRecipe> {
  const progress = o.onProgress ?? (() => {});
  const training = o.training ?? DEMO_TRAINING;
  progress(0, 'posing the CMU clips as the body model');
  const conv = convertCmuMocap(o.cmuDir, loadBodyModel(o.bodyModelFile), basename(o.bodyModelFile));
  const sequences = datasetSequences(conv.dataset, 'cmu').map((s) => s.sequence);
  const work = `${o.out}.training`;
  const r = await trainA4Mer(sequences, training, {
    dir: work,
    signal: o.signal,
    onProgress: (f, message) => progress(0.02 + 0.97 * f, message),
  });
  const recipe: MotifModelRecipe = {
    name: basename(o.out),
    command: 'npm run build:motif-model',
    data: {
      kind: 'cmu-mocap',
      clips: conv.clips,
      frames: conv.frames,
      fps: conv.dataset.fps,
      bodyModel: basename(o.bodyModelFile),
    },
    training,
    trainSeconds: Math.round(r.trainSeconds),
  };
  const staged = `${o.out}.partial`;
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(staged, { recursive: true });
  for (const f of [STAGE1_FILE, STAGE2_FILE, VOCABULARY_FILE]) copyFileSync(join(work, f), join(staged, f));
  writeFileAtomic(join(staged, RECIPE_FILE), `${JSON.stringify(recipe, null, 2)}\n`);
  rmSync(o.out, { recursive: true, force: true });
  renameSync(staged, o.out);
  rmSync(work, { recursive: true, force: true });
  progress(1, 'done');
  return recipe;
}

/** Registers a shipped model in the library (once): its files copied into a new 'ready' model. */
export async function installShippedMotifModel(
  db: Db,
  nativeDir: string,
  name: string,
): Promise<{ model: MotifModelInfo; installed: boolean }> {
  const shipped = listShippedMotifModels(nativeDir).find((m) => m.name === name);
  if (!shipped) throw new Error(`${join(nativeDir, 'models', name)}: no shipped motif model of that name`);
  const have = (await listMotifModels(db)).find((m) => m.training.shipped === name && m.state === 'ready');
  if (have) return { model: have, installed: false };
  const vocabulary = readVocabulary(shipped.dir); // validates before anything is stored
  const steps = TRAIN_PHASES.map((p) => shipped.recipe.training.steps?.[p] ?? 0);
  const stepsTotal = steps.reduce((a, b) => a + b, 0);
  const { id, dir } = await createMotifModel(db, {
    name,
    config: { ...shipped.recipe.training },
    training: { shipped: name, ...shipped.recipe.data },
    stepsTotal,
  });
  try {
    for (const f of MODEL_FILES) copyFileSync(join(shipped.dir, f), join(dir, f));
  } catch (err) {
    await updateMotifModel(db, id, { state: 'failed', metrics: { error: (err as Error).message } });
    throw new Error(`installing ${name} into ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const model = await updateMotifModel(db, id, {
    state: 'ready',
    stepsDone: stepsTotal,
    metrics: { ...vocabulary.training },
  });
  return { model, installed: true };
}
