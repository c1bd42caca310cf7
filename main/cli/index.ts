#!/usr/bin/env node
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImportResult, JobInfo } from '../../preload/api';
import type { AppContext } from '../api/context';
import { APP_VERSION } from '../api/handlers';
import { sessionRoot } from '../capture/plan';
import { listJobs } from '../store/jobs';
import { listFits } from '../store/fits';
import { FOOT_POSE_TRACK } from '../calibration/localize-job';
import { defaultDataDir } from '../store/library';
import { findSessionBySource, getSession, listSessions } from '../store/sessions';
import { followJob, Output } from './output';
import { resolveSessionArg, withLibrary } from './library-context';
import { startServer } from '../server/server';
import { registerBodyCommands } from './body-commands';
import { registerCalibrateCommands } from './calibrate-commands';
import { registerDatasetCommands } from './dataset-commands';
import { registerExportCommand } from './export-command';
import { registerFitCommands } from './fit-commands';
import { DEMO_MOTIF_MODEL, installShippedMotifModel } from '../motifs/shipped-models';
import { readMotifProposals } from '../store/motif-proposals';
import { registerMotifsCommands } from './motifs-commands';
import { type MotifsEvalFlags, registerMotifsEvalOptions, runMotifsEval } from './motifs-eval-command';
import { registerSampleCommands, runEvalFit, runEvalLocalize, runSampleMake } from './sample-commands';
import { registerSettingsCommands } from './settings-commands';

interface GlobalOpts {
  dataDir: string;
  json: boolean;
}

const program = new Command()
  .name('studio')
  .description('Motion Studio: import, review and annotate multi-camera human motion captures')
  .version(APP_VERSION)
  .option('--data-dir <dir>', 'library folder (default ~/.motion-studio)', defaultDataDir())
  .option('--json', 'print one JSON object as the last line of stdout', false);

const globals = (): GlobalOpts => program.opts<GlobalOpts>();

/** Opens the library, runs `fn`, closes, and exits with its code; errors become a clear message. */
function withContext(fn: (ctx: AppContext, out: Output) => Promise<number>): Promise<never> {
  return withLibrary(globals(), fn);
}

/** Whether any foot camera of the session has a stored localisation. */
async function hasFootPoses(ctx: AppContext, sessionId: number): Promise<boolean> {
  const row = await ctx.db.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM tracks WHERE session_id = ? AND kind = ?',
    [sessionId, FOOT_POSE_TRACK],
  );
  return (row?.n ?? 0) > 0;
}

function finishJob(job: JobInfo, out: Output): number {
  if (job.state === 'succeeded') return 0;
  out.error(job.error ?? `job #${job.id} ended ${job.state}`);
  return 1;
}

function printImport(out: Output, r: ImportResult): void {
  out.info(
    `session #${r.sessionId}: ${r.cameras} cameras, video frames [${r.videoFrames.join(', ')}], ` +
      `keypoint frames [${r.keypointFrames.join(', ')}]`,
  );
  out.result(r);
}

program
  .command('serve')
  .description('serve the studio UI and API on 127.0.0.1 (web mode)')
  .option('--port <n>', 'port (0 = random)', '0')
  .action(async (o: { port: string }) => {
    const out = new Output(globals().json);
    const server = await startServer({ dataDir: resolve(globals().dataDir), port: Number(o.port) });
    out.info(`Motion Studio serving ${server.ctx.dataDir}\nOpen ${server.url}`);
    out.result({ url: server.url, port: server.port, token: server.token, dataDir: server.ctx.dataDir });
    const stop = () => void server.close().finally(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('import <dir>')
  .description('import a capture session folder (Pose2Sim layout or session.json)')
  .action((dir: string) =>
    withContext(async (ctx, out) => {
      const job = await ctx.runner.submit('import', { path: resolve(dir) });
      out.info(`import job #${job.id}: ${resolve(dir)}`);
      const done = await followJob(ctx, job.id);
      if (done.state === 'succeeded') printImport(out, done.result as unknown as ImportResult);
      return finishJob(done, out);
    }),
  );

program
  .command('sessions')
  .description('list the sessions in the library')
  .action(() =>
    withContext(async (ctx, out) => {
      const sessions = await listSessions(ctx.db);
      for (const s of sessions) {
        out.info(
          `#${s.id}\t${s.name}\t${s.format}\t${s.cameraCount} cameras\t${s.frameCount} frames @ ${s.fps} fps`,
        );
      }
      if (sessions.length === 0) out.info('no sessions');
      out.result({ sessions });
      return 0;
    }),
  );

const jobs = program.command('jobs').description('list, retry or cancel jobs');
jobs
  .command('list', { isDefault: true })
  .option('--limit <n>', 'how many', '50')
  .action((o: { limit: string }) =>
    withContext(async (ctx, out) => {
      const list = await listJobs(ctx.db, Number(o.limit));
      for (const j of list) {
        out.info(
          `#${j.id}\t${j.kind}\t${j.state}\t${Math.round(j.progress * 100)}%\t${j.error ?? j.message}`,
        );
      }
      out.result({ jobs: list });
      return 0;
    }),
  );
jobs
  .command('retry <id>')
  .description('run a failed, cancelled or interrupted job again')
  .action((id: string) =>
    withContext(async (ctx, out) => {
      const job = await ctx.runner.retry(Number(id));
      const done = await followJob(ctx, job.id);
      if (done.state === 'succeeded' && done.kind === 'import')
        printImport(out, done.result as unknown as ImportResult);
      else out.result(done);
      return finishJob(done, out);
    }),
  );
jobs
  .command('cancel <id>')
  .description('cancel a queued or interrupted job (and remove its partial data)')
  .action((id: string) =>
    withContext(async (ctx, out) => {
      const job = await ctx.runner.cancel(Number(id));
      out.info(`job #${job.id} ${job.state}`);
      out.result(job);
      return 0;
    }),
  );

program
  .command('demo [dir]')
  .description(
    'make the embedded sample in the data dir if missing (or take [dir]), import it, localise its foot cameras, fit the body, extract motifs with the shipped demo model and summarise',
  )
  .action((dir: string | undefined) =>
    withContext(async (ctx, out) => {
      const folder = resolve(dir ?? join(ctx.dataDir, 'sample'));
      if (!dir && !existsSync(join(folder, 'session.json'))) {
        out.info(`making the embedded sample in ${folder}`);
        const made = await runSampleMake(folder, { seed: 1, sigma: 2, threads: 2 });
        out.info(`sample made in ${made.seconds.toFixed(1)} s`);
      }
      let sessionId = (await findSessionBySource(ctx.db, sessionRoot(folder)))?.id;
      if (sessionId === undefined) {
        const job = await ctx.runner.submit('import', { path: folder });
        const done = await followJob(ctx, job.id);
        if (done.state !== 'succeeded') return finishJob(done, out);
        sessionId = Number(done.result?.sessionId);
      } else {
        out.info(`already in the library as session #${sessionId}`);
      }
      const s = (await getSession(ctx.db, sessionId))!;
      out.info(`${s.name} (${s.format}): ${s.cameraCount} cameras, ${s.frameCount} frames at ${s.fps} fps`);
      for (const c of s.cameras) {
        out.info(
          `  ${c.name}: ${c.video ? `${c.video.width}x${c.video.height} ${c.video.frameCount} frames` : 'no video'}, ` +
            `${c.keypoints ? `${c.keypoints.frameCount} keypoint frames (${c.keypoints.layout})` : 'no keypoints'}`,
        );
      }
      // The main job on the sample: foot cameras localised, then the body fitted (each once per library).
      if (!(await hasFootPoses(ctx, sessionId))) {
        const done = await followJob(ctx, (await ctx.runner.submit('localize', { sessionId })).id);
        if (done.state !== 'succeeded') return finishJob(done, out);
      }
      let fit = (await listFits(ctx.db, sessionId))[0];
      if (!fit) {
        const done = await followJob(ctx, (await ctx.runner.submit('fit', { sessionId })).id);
        if (done.state !== 'succeeded') return finishJob(done, out);
        fit = (await listFits(ctx.db, sessionId))[0];
      }
      out.info(
        `fit #${fit.id} (${fit.label}): ${fit.frameCount} frames, median reprojection ` +
          `${fit.stats.medianReprojectionPx.toFixed(2)} px, max penetration ${fit.stats.maxPenetrationMm.toFixed(1)} mm, ` +
          `${fit.stats.flaggedFrames} flagged, ${fit.stats.framesPerSecond.toFixed(1)} frames/s`,
      );
      // A4Mer on the fit: the shipped demo model (installed once), atoms and motifs as a proposal track.
      const { model: motifModel } = await installShippedMotifModel(ctx.db, ctx.nativeDir, DEMO_MOTIF_MODEL);
      let proposals = await readMotifProposals(ctx.db, sessionId);
      if (!proposals || proposals.modelId !== motifModel.id) {
        const job = await ctx.runner.submit('motifs-extract', { sessionId, modelId: motifModel.id });
        const done = await followJob(ctx, job.id);
        if (done.state !== 'succeeded') return finishJob(done, out);
        proposals = (await readMotifProposals(ctx.db, sessionId))!;
      }
      const families = new Set(proposals.motifs.map((m) => m.family)).size;
      out.info(
        `motifs (model #${motifModel.id} ${motifModel.name}, ${proposals.provider}): ${proposals.atoms.length} atoms, ` +
          `${proposals.motifs.length} motifs in ${families} families`,
      );
      out.info(`library: ${ctx.libraryPath}`);
      out.result({
        sessionId,
        fitId: fit.id,
        motifModelId: motifModel.id,
        atoms: proposals.atoms.length,
        motifs: proposals.motifs.length,
        motifFamilies: families,
        motifProvider: proposals.provider,
        medianReprojectionPx: fit.stats.medianReprojectionPx,
        cameras: s.cameraCount,
        frames: s.frameCount,
        fps: s.fps,
        keypointFrames: s.cameras.map((c) => c.keypoints?.frameCount ?? 0),
        videoFrames: s.cameras.map((c) => c.video?.frameCount ?? 0),
        library: ctx.libraryPath,
      });
      return 0;
    }),
  );

program
  .command('localize <session>')
  .description('localise the foot cameras of a session (id or folder) from its ChArUco boards, per frame')
  .option('--max-gap <n>', 'longest gap bridged by interpolation, frames', '5')
  .action((session: string, o: { maxGap: string }) =>
    withContext(async (ctx, out) => {
      const sessionId = await resolveSessionArg(ctx, session);
      const job = await ctx.runner.submit('localize', { sessionId, maxGap: Number(o.maxGap) });
      const done = await followJob(ctx, job.id);
      if (done.state === 'succeeded') {
        const r = done.result as {
          cameras: Array<{
            name: string;
            frames: number;
            counts: Record<string, number>;
            msPerFrame: number;
          }>;
        };
        for (const c of r.cameras) {
          const counts = Object.entries(c.counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          out.info(`${c.name}: ${c.frames} frames: ${counts} (${c.msPerFrame.toFixed(1)} ms/frame)`);
        }
        out.result(done.result);
      }
      return finishJob(done, out);
    }),
  );

program
  .command('eval <name>')
  .description(
    "evaluate a stage against the embedded sample's ground truth (localize, fit), or motifs (--dataset)",
  )
  .option('--sample <dir>', 'sample folder (default <data-dir>/sample, made if missing)')
  .action(async (name: string, o: { sample?: string } & MotifsEvalFlags) => {
    const out = new Output(globals().json);
    try {
      if (name === 'motifs') return await runMotifsEval(o, globals());
      if (name !== 'localize' && name !== 'fit')
        throw new Error(`unknown evaluation "${name}" (available: localize, fit, motifs)`);
      const dir = resolve(o.sample ?? join(resolve(globals().dataDir), 'sample'));
      if (!existsSync(join(dir, 'ground_truth.json'))) {
        out.info(`making the embedded sample in ${dir}`);
        await runSampleMake(dir, { seed: 1, sigma: 2, threads: 2 });
      }
      if (name === 'fit') {
        const e = await runEvalFit(dir);
        out.info(
          `MPJPE ${e.mpjpeMm.toFixed(1)} mm (PA ${e.paMpjpeMm.toFixed(1)} mm) over ${e.frames} frames; ` +
            `median reprojection ${e.medianReprojectionPx.toFixed(2)} px; ${e.framesPerSecond.toFixed(1)} frames/s`,
        );
        out.info(
          `leg-occlusion stretch (${e.occludedFrames} frames): foot joints ${e.occludedFootErrMm.with.toFixed(1)} mm ` +
            `with foot cameras, ${e.occludedFootErrMm.without.toFixed(1)} mm without`,
        );
        out.info(
          `max penetration ${e.maxPenetrationMm.with.toFixed(1)} mm with the ground term, ` +
            `${e.maxPenetrationMm.without.toFixed(1)} mm without`,
        );
        out.result(e);
        return;
      }
      const e = await runEvalLocalize(dir);
      for (const c of e.cameras)
        out.info(
          `${c.camera}: ${c.framesWithPose}/${c.frames} frames with a pose; rotation median ${c.rotMedianDeg.toFixed(3)} deg, ` +
            `position median ${c.posMedianMm.toFixed(2)} mm over ${c.scored} frames with >= 6 corners`,
        );
      out.result({
        framesWithPose: e.framesWithPose,
        frames: e.frames,
        rotMedianDeg: e.rotMedianDeg,
        posMedianMm: e.posMedianMm,
        ambiguousAcceptedOver5Deg: e.ambiguousAcceptedOver5Deg,
        msPerFrame: e.msPerFrame,
      });
    } catch (err) {
      out.error((err as Error).message);
      process.exitCode = 1;
    }
  });

registerBodyCommands(program, () => globals().json);
registerCalibrateCommands(program, () => globals().json);
registerSampleCommands(program, () => globals().json);
registerSettingsCommands(program, globals);
registerFitCommands(program, globals);
registerDatasetCommands(program, globals);
registerMotifsCommands(program, globals);
registerExportCommand(program, globals);
registerMotifsEvalOptions(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
});
