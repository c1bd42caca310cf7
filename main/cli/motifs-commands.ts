import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import type { JobInfo } from '../../preload/api';
import { dispatch } from '../api/handlers';
import type { MotifExtractJobResult } from '../motifs/extract-job';
import type { MotifTrainJobResult } from '../motifs/train-job';
import { TRAIN_PHASES } from '../motifs/train-options';
import { buildDemoMotifModel, DEMO_MOTIF_MODEL } from '../motifs/shipped-models';
import { DEFAULT_MODEL_FILE } from './body-commands';
import { DEFAULT_STEPS, parseSteps } from './motifs-eval-command';
import { followJob, Output, progressBar } from './output';
import { findAppRoot } from './paths';
import { resolveSessionArg, withLibrary, type CliGlobals as Globals } from './library-context';
import type { AppContext } from '../api/context';

interface TrainOptions {
  dataset: string[];
  session: string[];
  name?: string;
  steps?: string;
  model?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function idOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name}: "${value}" is not an id >= 1`);
  return Number(value);
}

/** Follows a job (a bar on stderr, or quietly with --json); the finished job, or null after printing why. */
async function runJob(ctx: AppContext, out: Output, job: JobInfo): Promise<JobInfo | null> {
  const done = out.json ? await ctx.runner.waitFor(job.id) : await followJob(ctx, job.id);
  if (done.state === 'succeeded') return done;
  out.error(done.error ?? `${done.kind} job #${done.id} ended ${done.state}`);
  return null;
}

/** `studio motifs train` and `studio motifs extract <session>`. */
export function registerMotifsCommands(program: Command, globals: () => Globals): void {
  const motifs = program.command('motifs').description('A4Mer action atoms and motifs');
  motifs
    .command('train')
    .description("train an A4Mer model on skeleton datasets and/or sessions' newest fits (same joints)")
    .option('--dataset <dir>', 'a labeled skeleton dataset folder (repeatable)', collect, [])
    .option('--session <id>', 'a session (id or folder) with a fit (repeatable)', collect, [])
    .option('--name <name>', 'the model name')
    .option('--steps <n1,n2,n3>', `training steps of stage 1, stage 2, joint (default ${DEFAULT_STEPS})`)
    .option('--model <id>', 'resume this unfinished model from its checkpoint')
    .action((o: TrainOptions) =>
      withLibrary(globals(), async (ctx, out) => {
        const sessionIds: number[] = [];
        for (const s of o.session) sessionIds.push(await resolveSessionArg(ctx, s));
        const parsed = o.steps === undefined ? undefined : parseSteps(o.steps);
        const steps = parsed && TRAIN_PHASES.map((p) => parsed[p]);
        const modelId = idOption('model', o.model);
        const job = (await dispatch(ctx, 'trainMotifModel', {
          ...(o.dataset.length > 0 ? { datasets: o.dataset } : {}),
          ...(sessionIds.length > 0 ? { sessionIds } : {}),
          ...(o.name === undefined ? {} : { name: o.name }),
          ...(steps === undefined ? {} : { steps }),
          ...(modelId === undefined ? {} : { modelId }),
        })) as JobInfo;
        out.info(`motifs-train job #${job.id}`);
        const done = await runJob(ctx, out, job);
        if (!done) return 1;
        const r = done.result as unknown as MotifTrainJobResult;
        const s = r.summary;
        out.info(
          `model #${r.modelId} (${r.name}): ${r.sequences} sequences, ${r.joints} joints, ` +
            `${Math.round(r.trainSeconds)} s` +
            (r.resumedFrom ? `, resumed at ${r.resumedFrom.phase} step ${r.resumedFrom.step}` : ''),
        );
        out.info(
          `summary: ${Object.entries(s)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
        out.info(`files: ${r.dir}`);
        out.result({ ...r, jobId: done.id });
        return 0;
      }),
    );
  motifs
    .command('extract <session>')
    .description("extract atoms and motifs from a session's newest fit as a proposal track")
    .option('--model <id>', 'the model (default: the newest ready one)')
    .action((session: string, o: { model?: string }) =>
      withLibrary(globals(), async (ctx, out) => {
        const sessionId = await resolveSessionArg(ctx, session);
        const modelId = idOption('model', o.model);
        const job = (await dispatch(ctx, 'extractMotifs', {
          sessionId,
          ...(modelId === undefined ? {} : { modelId }),
        })) as JobInfo;
        out.info(`motifs-extract job #${job.id}: session #${sessionId}`);
        const done = await runJob(ctx, out, job);
        if (!done) return 1;
        const r = done.result as unknown as MotifExtractJobResult;
        out.info(
          `session #${r.sessionId} (fit #${r.fitId}) with model #${r.modelId}: ${r.atoms} atoms, ` +
            `${r.motifs} motifs in ${r.families} families, provider ${r.provider}`,
        );
        out.result({ ...r, jobId: done.id });
        return 0;
      }),
    );
  motifs
    .command('build-demo-model')
    .description(
      `the recipe of the shipped demo model: CMU 01 + 02 posed as the body model, trained into native/models/${DEMO_MOTIF_MODEL}`,
    )
    .option('--cmu <dir>', 'CMU ASF/AMC folder', join(findAppRoot(), '..', 'shared', 'data', 'cmu-mocap'))
    .option('--model <file>', 'body model', join(findAppRoot(), DEFAULT_MODEL_FILE))
    .option('--out <dir>', 'model folder', join(findAppRoot(), 'native', 'models', DEMO_MOTIF_MODEL))
    .action(async (o: { cmu: string; model: string; out: string }) => {
      const out = new Output(globals().json);
      const bar = out.json ? null : progressBar('starting');
      try {
        const recipe = await buildDemoMotifModel({
          cmuDir: resolve(o.cmu),
          bodyModelFile: resolve(o.model),
          out: resolve(o.out),
          onProgress: (f, message) => bar?.update(Math.round(f * 100), { message }),
        });
        bar?.stop();
        out.info(
          `${resolve(o.out)}: ${recipe.data.clips} clips, ${recipe.data.frames} frames, ` +
            `trained in ${recipe.trainSeconds} s`,
        );
        out.result({ dir: resolve(o.out), ...recipe });
      } catch (err) {
        bar?.stop();
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}
