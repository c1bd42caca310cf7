import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { KNN_DEFAULTS } from '../motifs/eval-metrics';
import {
  evaluateMotifModel,
  evaluateMotifs,
  MOTIF_EVAL_METHODS,
  trainEvalModel,
} from '../motifs/eval-motifs';
import {
  A4MER_TRAIN_DEFAULTS,
  type A4MerTrainOverrides,
  TRAIN_PHASES,
  type TrainPhase,
} from '../motifs/train-options';
import { Output, progressBar } from './output';

export interface MotifsEvalFlags {
  dataset?: string;
  steps?: string;
  seed?: string;
  resume?: boolean;
  trainOnly?: string;
  train?: string;
  knnCenter?: boolean;
  model?: string;
}

/** Adds the options of `studio eval motifs` to the program's `eval <name>` command (registered before). */
export function registerMotifsEvalOptions(program: Command): void {
  const evalCommand = program.commands.find((c) => c.name() === 'eval');
  if (!evalCommand)
    throw new Error('registerMotifsEvalOptions: the `eval <name>` command is not registered yet');
  evalCommand
    .option('--dataset <dir>', 'motifs: labeled skeleton dataset folder (generic format)')
    .option(
      '--steps <n1,n2,n3>',
      `motifs: training steps of stage 1, stage 2, joint (default ${DEFAULT_STEPS})`,
    )
    .option('--seed <n>', 'motifs: training seed', '1')
    .option('--resume', 'motifs: continue the trainings in the work folder (finished ones are reused)')
    .option(
      '--train <json>',
      'motifs: training overrides for both learned methods, e.g. \'{"optim":{"stage2":{"loss":{"alpha":0.5}}}}\' (tune on the validation figure, never the test subjects)',
    )
    .option(
      '--model <dir>',
      'motifs: score this trained model folder on the dataset (same split and k-NN), no training',
    )
    .option('--knn-center', "motifs: centre every method's rows on the gallery mean before the k-NN")
    .option(
      '--train-only <a4mer|jepa>',
      'motifs: only train that method into the work folder (run both at once, then score with --resume)',
    );
}

/** The default training steps as `--steps` spells them: "N1,N2,N3". */
export const DEFAULT_STEPS = TRAIN_PHASES.map((p) => A4MER_TRAIN_DEFAULTS.steps[p]).join(',');

/** "60,30,30" -> {stage1, stage2, joint}; an Error names the flag and the value. */
export function parseSteps(text: string): Record<TrainPhase, number> {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1))
    throw new Error(`--steps must be three integers >= 1 like ${DEFAULT_STEPS}, got "${text}"`);
  const [stage1, stage2, joint] = parts.map(Number);
  return { stage1, stage2, joint };
}

/** --train's JSON object of training overrides (train-options.ts validates the fields). */
export function parseTrainOverrides(text: string): A4MerTrainOverrides {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`--train must be a JSON object of training options: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`--train must be a JSON object of training options, got ${JSON.stringify(value)}`);
  return value as A4MerTrainOverrides;
}

/**
 * `studio eval motifs --dataset <dir>`: trains A4Mer and its JEPA ablation on the training subjects,
 * scores a4mer / jepa / raw / clip (main/motifs/eval-motifs.ts). Models go to
 * <data-dir>/motif-eval/<dataset name>/{a4mer,jepa}.
 */
export async function runMotifsEval(
  flags: MotifsEvalFlags,
  g: { dataDir: string; json: boolean },
): Promise<void> {
  const out = new Output(g.json);
  if (!flags.dataset)
    throw new Error('eval motifs needs --dataset <dir> (a labeled skeleton dataset folder)');
  const dir = resolve(flags.dataset);
  const steps = flags.steps ? parseSteps(flags.steps) : undefined;
  const seed = Number(flags.seed ?? '1');
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${flags.seed}"`);
  const workDir = join(resolve(g.dataDir), 'motif-eval', dir.split(/[\\/]/).pop() ?? 'dataset');
  const bar = g.json ? null : progressBar('reading the dataset');
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  const options = {
    train: flags.train === undefined ? undefined : parseTrainOverrides(flags.train),
    steps,
    seed,
    workDir,
    resume: flags.resume ?? false,
    knn: { ...KNN_DEFAULTS, center: flags.knnCenter ?? KNN_DEFAULTS.center },
    signal: controller.signal,
    onProgress: (f: number, message: string) => bar?.update(Math.round(f * 100), { message }),
  };
  try {
    if (flags.model !== undefined) {
      const r = await evaluateMotifModel(dir, resolve(flags.model), options);
      bar?.stop();
      for (const [view, f] of Object.entries(r.views))
        out.info(
          `${view.padEnd(6)} k-NN top-1 ${(100 * f.knnTop1).toFixed(1)}% (validation ` +
            `${(100 * r.validation[view as keyof typeof r.validation].knnTop1).toFixed(1)}%), ` +
            `sl ${f.sl.toFixed(1)} frames, boundary F1 ${f.boundaryF1.toFixed(3)}`,
        );
      const d = r.direction;
      out.info(
        `played backwards (token cosine; two different segments for scale): atoms ${d.atomReversed.toFixed(3)} ` +
          `(${d.atomOther.toFixed(3)}), motifs ${d.motifReversed.toFixed(3)} (${d.motifOther.toFixed(3)})`,
      );
      out.result(r);
      return;
    }
    if (flags.trainOnly !== undefined) {
      if (flags.trainOnly !== 'a4mer' && flags.trainOnly !== 'jepa')
        throw new Error(`--train-only must be a4mer or jepa, got "${flags.trainOnly}"`);
      const t = await trainEvalModel(dir, flags.trainOnly, options);
      bar?.stop();
      out.info(`${flags.trainOnly}: trained in ${t.trainSeconds.toFixed(0)} s into ${t.dir}`);
      out.result({ method: flags.trainOnly, ...t });
      return;
    }
    const r = await evaluateMotifs(dir, options);
    bar?.stop();
    out.info(`${r.dataset}: ${r.split.rule}; ${r.frames.gallery} gallery / ${r.frames.queries} query frames`);
    for (const m of MOTIF_EVAL_METHODS) {
      const f = r.methods[m];
      out.info(
        `${m.padEnd(6)} k-NN top-1 ${(100 * f.knnTop1).toFixed(1)}% top-3 ${(100 * f.knnTop3).toFixed(1)}%, ` +
          `sl ${f.sl.toFixed(1)} frames, boundary F1 ${f.boundaryF1.toFixed(3)}, purity ${f.purity.toFixed(3)}`,
      );
    }
    out.info(
      `validation (leave-one-training-subject-out k-NN top-1): ${Object.entries(r.validation)
        .map(([m, v]) => `${m} ${(100 * v.knnTop1).toFixed(1)}%`)
        .join(', ')}`,
    );
    for (const [name, f] of Object.entries(r.diagnostics))
      out.info(`(${name}: k-NN top-1 ${(100 * f.knnTop1).toFixed(1)}%, sl ${f.sl.toFixed(1)} frames)`);
    out.info(
      `training ${r.trainSeconds.toFixed(0)} s, total ${r.evalSeconds.toFixed(0)} s; models in ${workDir}`,
    );
    out.result(r);
  } finally {
    bar?.stop();
    process.off('SIGINT', stop);
  }
}
