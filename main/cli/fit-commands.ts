import type { Command } from 'commander';
import type { FitSummary, JobInfo } from '../../preload/api';
import { dispatch } from '../api/handlers';
import type { FitJobResult } from '../fitting/fit-job';
import { getFit } from '../store/fits';
import { followJob, type Output } from './output';
import { resolveSessionArg, withLibrary, type CliGlobals as Globals } from './library-context';

interface FitCommandOptions {
  ground: boolean;
  footcam: boolean;
  start?: string;
  count?: string;
}

function frameOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new Error(`--${name}: "${value}" is not a whole number >= ${min}`);
  return Number(value);
}

const fmt = (v: number | null | undefined, digits: number) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a';

function printFit(out: Output, fit: FitSummary, r: FitJobResult): void {
  const s = fit.stats;
  out.info(
    `fit #${fit.id} of session #${fit.sessionId} (${fit.label}): frames [${fit.firstFrame}, ` +
      `${fit.firstFrame + fit.frameCount}), views ${r.views.join(', ')}` +
      (r.footCameras.length > 0 ? `, foot cameras ${r.footCameras.join(', ')}` : ''),
  );
  out.info(
    `median reprojection ${fmt(s.medianReprojectionPx, 2)} px (${fmt(s.medianKeptReprojectionPx ?? NaN, 2)} px over ` +
      `the views the triangulation kept), max penetration ${fmt(s.maxPenetrationMm, 1)} mm, ` +
      `${s.flaggedFrames} flagged frames, ${fmt(s.framesPerSecond, 1)} frames/s`,
  );
  const cal = s.keypointCalibration;
  if (cal) {
    const moved = [...cal.adjust].sort((a, b) => b.shiftMm - a.shiftMm).slice(0, 5);
    out.info(
      `keypoints calibrated on ${cal.frames} frames; largest moves: ` +
        moved.map((a) => `${a.keypoint} ${fmt(a.shiftMm, 0)} mm`).join(', '),
    );
  }
  for (const m of s.mounts ?? [])
    out.info(
      `mount ${m.camera} on ${m.joint}: offset [${m.offset.map((v) => fmt(v, 3)).join(', ')}] m over ${m.frames} frames`,
    );
  for (const note of r.notes) out.info(`note: ${note}`);
}

/** `studio fit <session>`: fits the body to a session as a new fit version and prints its summary. */
export function registerFitCommands(program: Command, globals: () => Globals): void {
  program
    .command('fit <session>')
    .description('fit the body model to a session (id or folder) as a new fit version')
    .option('--no-ground', 'without the ground-intersection term')
    .option('--no-footcam', 'without the foot-camera term')
    .option('--start <n>', 'first session frame to fit (default: the first keypoint frame)')
    .option('--count <n>', 'frames to fit (default: up to the last keypoint frame)')
    .action((session: string, o: FitCommandOptions) =>
      withLibrary(globals(), async (ctx, out) => {
        const sessionId = await resolveSessionArg(ctx, session);
        const start = frameOption('start', o.start, 0);
        const count = frameOption('count', o.count, 1);
        const job = (await dispatch(ctx, 'fitSession', {
          sessionId,
          ...(o.ground ? {} : { ground: false }),
          ...(o.footcam ? {} : { footCameras: false }),
          ...(start === undefined ? {} : { start }),
          ...(count === undefined ? {} : { count }),
        })) as JobInfo;
        out.info(`fit job #${job.id}: session #${sessionId}`);
        // The bar goes to stderr; with --json the run stays quiet apart from the final line.
        const done = out.json ? await ctx.runner.waitFor(job.id) : await followJob(ctx, job.id);
        if (done.state !== 'succeeded') {
          out.error(done.error ?? `fit job #${done.id} ended ${done.state}`);
          return 1;
        }
        const r = done.result as unknown as FitJobResult;
        const fit = await getFit(ctx.db, r.fitId);
        if (!fit) throw new Error(`fit job #${done.id} succeeded but fit #${r.fitId} is not in the library`);
        printFit(out, fit, r);
        out.result({ ...fit, jobId: done.id, notes: r.notes });
        return 0;
      }),
    );
}
