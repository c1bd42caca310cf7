import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { manifestJsonSchema } from '../capture/manifest';
import { makeSample, type SampleSummary } from '../capture/sample/make-sample';
import { evaluateLocalization, type LocalizationEval } from '../calibration/eval-localize';
import { evaluateFit, type FitEval } from '../fitting/eval-fit';
import { Output, progressBar } from './output';
import { findAppRoot } from './paths';

/** Runs the sample generator with a progress bar on stderr; Ctrl-C cancels cleanly. */
export async function runSampleMake(
  dir: string,
  opts: { seed: number; sigma: number; threads: number },
): Promise<SampleSummary> {
  const bar = progressBar('starting');
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    return await makeSample(dir, {
      nativeDir: join(findAppRoot(), 'native'),
      seed: opts.seed,
      sigma: opts.sigma,
      threads: opts.threads,
      signal: abort.signal,
      onProgress: (f, message) => bar.update(Math.round(f * 100), { message }),
    });
  } finally {
    process.off('SIGINT', onSigint);
    bar.stop();
  }
}

/** Localises the sample's foot videos and scores them against its ground truth, with a progress bar. */
export async function runEvalLocalize(dir: string): Promise<LocalizationEval> {
  const bar = progressBar('starting');
  try {
    return await evaluateLocalization(dir, {}, (f, message) => bar.update(Math.round(f * 100), { message }));
  } finally {
    bar.stop();
  }
}

/** The fit evaluation with a progress bar (import, localisation and three fits of the sample). */
export async function runEvalFit(dir: string): Promise<FitEval> {
  const bar = progressBar('starting');
  try {
    return await evaluateFit(dir, (f, message) => bar.update(Math.round(f * 100), { message }));
  } finally {
    bar.stop();
  }
}

export function registerSampleCommands(program: Command, json: () => boolean): void {
  program
    .command('schema')
    .description('print the JSON Schema of session.json')
    .action(() => {
      process.stdout.write(JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
    });
  const sample = program.command('sample').description('the embedded sample capture session');
  sample
    .command('make <dir>')
    .description('generate the sample (room and foot videos, keypoints, ground truth) into <dir>')
    .option('--seed <n>', 'random seed', '1')
    .option('--sigma <px>', '2D keypoint noise, pixels', '2')
    .option('--threads <n>', 'render threads', '2')
    .action(async (dir: string, o: { seed: string; sigma: string; threads: string }) => {
      const out = new Output(json());
      try {
        const s = await runSampleMake(resolve(dir), {
          seed: Number(o.seed),
          sigma: Number(o.sigma),
          threads: Number(o.threads),
        });
        out.info(
          `${s.dir}: ${s.cameras} cameras (${s.roomCameras} room, ${s.footCameras} foot), ${s.frames} frames at ${s.fps} fps, ` +
            `${s.boards} boards, ${s.keypointFiles} keypoint files in ${s.seconds.toFixed(1)} s`,
        );
        out.result(s);
      } catch (err) {
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}
