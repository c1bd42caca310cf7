import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import {
  readSkeletonDataset,
  summarizeSkeletonDataset,
  type SequenceFormat,
  type SkeletonDataset,
  type SkeletonDatasetSummary,
  writeSkeletonDataset,
} from '../capture/skeleton-dataset';
import { convertCmuMocap } from '../capture/cmu-dataset';
import { convertUtKinect } from '../capture/utkinect';
import { loadBodyModel } from '../body/load-model';
import { DEFAULT_MODEL_FILE } from './body-commands';
import { findAppRoot } from './paths';
import type { CliGlobals } from './library-context';
import { Output, progressBar } from './output';

const KINDS = ['utkinect', 'cmu'] as const;

interface ImportFlags {
  out?: string;
  format: string;
  labels?: string;
  model?: string;
  fps: string;
}

interface Converted {
  dataset: SkeletonDataset;
  lines: string[];
  figures: Record<string, unknown>;
}

/** UTKinect (Kinect v1 joints, labelled actions) or CMU ASF/AMC posed as the body model's joints. */
function convert(
  kind: (typeof KINDS)[number],
  path: string,
  o: ImportFlags,
  onProgress: (done: number, total: number, name: string) => void,
): Converted {
  if (kind === 'cmu') {
    const modelFile = resolve(o.model ?? join(findAppRoot(), DEFAULT_MODEL_FILE));
    const fps = Number(o.fps);
    const conv = convertCmuMocap(path, loadBodyModel(modelFile), modelFile, { fps, onProgress });
    return {
      dataset: conv.dataset,
      lines: [`${conv.clips} clips posed as ${modelFile}`],
      figures: { clips: conv.clips, bodyModel: modelFile },
    };
  }
  const conv = convertUtKinect(path, { labelsFile: o.labels, onProgress });
  return {
    dataset: conv.dataset,
    lines: [
      ...conv.warnings.map((w) => `warning: ${w}`),
      `${conv.observedFrames} recorded frames, ${conv.interpolatedFrames} interpolated, ` +
        `${conv.repeatedFrameIds} repeated frame ids dropped; labels from ${conv.labelsFile}`,
    ],
    figures: {
      observedFrames: conv.observedFrames,
      interpolatedFrames: conv.interpolatedFrames,
      repeatedFrameIds: conv.repeatedFrameIds,
      labelsFile: conv.labelsFile,
      warnings: conv.warnings,
    },
  };
}

function describe(s: SkeletonDatasetSummary): string {
  const actions = Object.keys(s.labelCounts).length;
  return (
    `${s.sequences} sequences (${s.subjects.length} subjects), ${s.frames} frames ` +
    `(${(s.seconds / 60).toFixed(1)} min at ${s.fps} fps), ${s.joints} joints, ${s.labels} labels (${actions} actions)`
  );
}

/**
 * `studio dataset import <kind> <path>`: converts a public dataset into the generic labeled skeleton
 * dataset (main/capture/skeleton-dataset.ts); `studio dataset info <dir>`: validates one and summarises it.
 */
export function registerDatasetCommands(program: Command, globals: () => CliGlobals): void {
  const dataset = program
    .command('dataset')
    .description('labeled skeleton datasets (dataset.json + sequences/*.npy|csv + labels.csv)');
  dataset
    .command('import <kind> <path>')
    .description(`convert a dataset into the generic format (kinds: ${KINDS.join(', ')})`)
    .option('--out <dir>', 'output folder (default <data-dir>/datasets/<kind>)')
    .option('--format <npy|csv>', 'sequence file format', 'npy')
    .option(
      '--labels <file>',
      'utkinect: label file (default actionLabel_modified.txt, else actionLabel.txt)',
    )
    .option('--model <file>', `cmu: body model whose joints to pose (default ${DEFAULT_MODEL_FILE})`)
    .option('--fps <n>', 'cmu: frame rate, a divisor of 120', '30')
    .action((kind: string, path: string, o: ImportFlags) => {
      const g = globals();
      const out = new Output(g.json);
      const bar = g.json ? null : progressBar('reading', 1, ' {bar} {value}/{total} | {message}');
      try {
        const t0 = performance.now();
        if (!(KINDS as readonly string[]).includes(kind))
          throw new Error(`unknown dataset kind "${kind}" (available: ${KINDS.join(', ')})`);
        if (o.format !== 'npy' && o.format !== 'csv')
          throw new Error(`--format must be npy or csv, got "${o.format}"`);
        const dir = resolve(o.out ?? join(resolve(g.dataDir), 'datasets', kind));
        const conv = convert(kind as (typeof KINDS)[number], resolve(path), o, (done, total, name) => {
          bar?.setTotal(total + 1);
          bar?.update(done, { message: name });
        });
        const n = conv.dataset.sequences.length;
        bar?.update(n, { message: `writing ${dir}` });
        writeSkeletonDataset(dir, conv.dataset, o.format as SequenceFormat);
        bar?.update(n + 1, { message: 'done' });
        bar?.stop();
        const s = summarizeSkeletonDataset(conv.dataset);
        const elapsedSeconds = (performance.now() - t0) / 1000;
        out.info(`${kind} -> ${dir}: ${describe(s)}`);
        for (const line of conv.lines) out.info(line);
        out.info(`${elapsedSeconds.toFixed(2)} s`);
        out.result({
          out: dir,
          format: o.format,
          sequences: s.sequences,
          frames: s.frames,
          seconds: s.seconds,
          fps: s.fps,
          labels: s.labels,
          actions: s.labelCounts,
          subjects: s.subjects,
          ...conv.figures,
          elapsedSeconds,
        });
      } catch (err) {
        bar?.stop();
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
  dataset
    .command('info <dir>')
    .description('validate a dataset folder and summarise it (sequences, frames, labels, subjects)')
    .action((dir: string) => {
      const out = new Output(globals().json);
      try {
        const d = readSkeletonDataset(resolve(dir));
        const s = summarizeSkeletonDataset(d);
        out.info(`${s.name} (${resolve(dir)}): ${describe(s)}`);
        const counts = Object.entries(s.labelCounts).map(([k, v]) => `${k} ${v}`);
        if (counts.length > 0) out.info(`labels: ${counts.join(', ')}`);
        if (s.subjects.length > 0) out.info(`subjects: ${s.subjects.join(', ')}`);
        out.info(`joints: ${d.joints.join(', ')}`);
        out.result({ dir: resolve(dir), ...s, jointNames: d.joints, labelsMayOverlap: d.labelsMayOverlap });
      } catch (err) {
        out.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}
