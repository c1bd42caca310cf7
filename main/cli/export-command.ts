import type { Command } from 'commander';
import { resolve } from 'node:path';
import { splitFromParams, type ExportJobParams } from '../export/export-job';
import { EXPORT_FORMATS, parseFormats } from '../export/formats';
import { preflightExport, type ExportResult } from '../export/run-export';
import { resolveSessionArg, withLibrary, type CliGlobals } from './library-context';
import { followJob } from './output';

interface ExportOptions {
  format: string;
  out: string;
  split?: string;
  splitSeed?: string;
  splitSubjects?: string;
  fit: string[];
  force: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function idList(flag: string, values: string[]): number[] {
  return values.map((v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${flag}: "${v}" is not an id >= 1`);
    return Number(v);
  });
}

/** `studio export <sessions...> --format <f> --out <dir>`: the 'export' job with a progress bar; Ctrl-C cancels it. */
export function registerExportCommand(program: Command, globals: () => CliGlobals): void {
  program
    .command('export <sessions...>')
    .description(
      'export sessions (ids or folders) as a dataset, with a manifest.json of provenance and checksums',
    )
    .requiredOption('--format <formats>', `comma list of ${EXPORT_FORMATS.join(', ')}, or all`)
    .requiredOption('--out <dir>', 'destination folder (missing or empty, unless --force)')
    .option('--split <ratios>', 'split by subject with ratios, e.g. train=0.8,val=0.1,test=0.1')
    .option('--split-seed <n>', 'with --split: shuffle subjects with this seed (default: subject name order)')
    .option('--split-subjects <lists>', 'split by explicit subject lists, e.g. "train:alice,bob;test:carol"')
    .option(
      '--fit <id>',
      "use this fit version (repeatable; default: each session's newest fit)",
      collect,
      [],
    )
    .option('--force', 'replace a non-empty destination folder', false)
    .action((sessions: string[], o: ExportOptions) =>
      withLibrary(globals(), async (ctx, out) => {
        // Everything the job checks is checked here first, so bad input fails before a job is queued.
        const formats = parseFormats(o.format);
        if (o.splitSeed !== undefined && !/^-?\d+$/.test(o.splitSeed))
          throw new Error(`--split-seed: "${o.splitSeed}" is not an integer`);
        const params: ExportJobParams = {
          sessionIds: [],
          formats,
          out: resolve(o.out),
          ...(o.split === undefined ? {} : { split: o.split }),
          ...(o.splitSeed === undefined ? {} : { splitSeed: Number(o.splitSeed) }),
          ...(o.splitSubjects === undefined ? {} : { splitSubjects: o.splitSubjects }),
          ...(o.fit.length === 0 ? {} : { fitIds: idList('--fit', o.fit) }),
          force: o.force,
        };
        for (const s of sessions) params.sessionIds.push(await resolveSessionArg(ctx, s));
        await preflightExport(ctx.db, { ...params, split: splitFromParams(params) });
        const job = await ctx.runner.submit('export', { ...params });
        out.info(
          `export job #${job.id}: ${params.sessionIds.length} session(s) as ${formats.join(', ')} to ${params.out}`,
        );
        const cancel = () => void ctx.runner.cancel(job.id).catch(() => undefined);
        process.once('SIGINT', cancel);
        let done;
        try {
          done = out.json ? await ctx.runner.waitFor(job.id) : await followJob(ctx, job.id);
        } finally {
          process.off('SIGINT', cancel);
        }
        if (done.state !== 'succeeded') {
          out.error(done.error ?? `export job #${done.id} ended ${done.state}`);
          return 1;
        }
        const r = done.result as unknown as ExportResult;
        const bytes = r.files.reduce((n, f) => n + f.bytes, 0);
        for (const s of r.sessions)
          out.info(
            `  ${s.split}/${s.sequence}: session #${s.sessionId}, fit ${s.fitId === null ? '-' : `#${s.fitId}`}`,
          );
        out.info(
          `${r.out}: ${r.files.length} files, ${(bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s; manifest ${r.manifest}`,
        );
        out.result({ jobId: done.id, ...r });
        return 0;
      }),
    );
}
