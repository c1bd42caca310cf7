import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../main/capture/errors';
import { importSession, type JobContext } from '../../main/capture/import-session';
import { type SkeletonDataset, writeSkeletonDataset } from '../../main/capture/skeleton-dataset';
import { runFitJob } from '../../main/fitting/fit-job';
import { runMotifExtractJob } from '../../main/motifs/extract-job';
import { type MotifTrainJobParams, runMotifTrainJob } from '../../main/motifs/train-job';
import type { A4MerTrainOverrides } from '../../main/motifs/train-options';
import type { Db } from '../../main/store/db';
import { insertJob } from '../../main/store/jobs';
import { openLibrary } from '../../main/store/library';
import { getMotifModel, listMotifModels, readTrainingCurve } from '../../main/store/motif-models';
import { readMotifProposals } from '../../main/store/motif-proposals';
import { TINY_A4MER_NET } from './motif-fixtures';
import { cleanupTempDirs, POSE2SIM, tempDir } from './fixtures';

afterAll(cleanupTempDirs);

const net = TINY_A4MER_NET;
/** Tiny A4Mer (8-wide networks, 8 s windows), a checkpoint every 2 steps. */
const TINY: A4MerTrainOverrides = {
  input: { windowFrames: 40 },
  stage1: net,
  stage2: net,
  batch: 2,
  trainStride: 20,
  checkpointEvery: 2,
  logEvery: 1,
  seed: 3,
};
const STEPS = [4, 2, 2];

/** A Kinect-named skeleton swinging its hands along changing curves: 3 sequences of 30 s at 15 fps. */
function syntheticDataset(): SkeletonDataset {
  const joints = [
    'HipLeft',
    'HipRight',
    'ShoulderLeft',
    'ShoulderRight',
    'ShoulderCenter',
    'HandLeft',
    'HandRight',
  ];
  const rest = [
    [0.1, 0, 0.9],
    [-0.1, 0, 0.9],
    [0.2, 0, 1.4],
    [-0.2, 0, 1.4],
    [0, 0, 1.45],
  ];
  const fps = 15;
  const frames = 450;
  const sequences = [0, 1, 2].map((s) => {
    const positions = new Float32Array(frames * joints.length * 3);
    for (let t = 0; t < frames; t++) {
      const time = t / fps;
      const mode = Math.floor(time / (2 + s)) % 3; // the motion changes every few seconds
      const w = [1.5, 3, 0.7][mode];
      const hands = [
        [0.3, 0.2 * Math.sin(w * time), 1.1 + 0.3 * Math.cos(w * time)],
        [-0.3, 0.2 * Math.cos(w * time + mode), 1.1 + 0.2 * Math.sin(2 * w * time)],
      ];
      [...rest, ...hands].forEach((p, j) => {
        const o = (t * joints.length + j) * 3;
        positions[o] = p[0] + 0.05 * time; // walking slowly along x
        positions[o + 1] = p[1];
        positions[o + 2] = p[2];
      });
    }
    return { name: `seq${s}`, subject: `s${s}`, frames, positions };
  });
  return { name: 'synthetic', fps, joints, sequences, labels: [] };
}

async function setupLibrary(): Promise<{ db: Db; dataset: string }> {
  const db = await openLibrary(tempDir());
  const dataset = join(tempDir(), 'synthetic');
  writeSkeletonDataset(dataset, syntheticDataset());
  return { db, dataset };
}

async function context(db: Db, kind: 'import' | 'fit' | 'motifs-train' | 'motifs-extract', jobId?: number) {
  const abort = new AbortController();
  const progress: number[] = [];
  const ctx: JobContext = {
    jobId: jobId ?? (await insertJob(db, kind, {})),
    signal: abort.signal,
    progress: (f) => progress.push(f),
  };
  return { ctx, abort, progress };
}

describe('motifs-train job', () => {
  const setup = setupLibrary();

  it('registers the model first, trains it to ready with a curve and the summary as metrics', async () => {
    const { db, dataset } = await setup;
    const { ctx, progress } = await context(db, 'motifs-train');
    const params: MotifTrainJobParams = { name: 'tiny', datasets: [dataset], steps: STEPS, overrides: TINY };
    const r = await runMotifTrainJob(db, params, ctx);
    expect(r.sequences).toBe(3);
    expect(r.resumedFrom).toBeNull();
    const m = (await getMotifModel(db, r.modelId))!;
    expect([m.name, m.state, m.jobId, m.stepsDone, m.stepsTotal]).toEqual(['tiny', 'ready', ctx.jobId, 8, 8]);
    expect(m.metrics.sequences).toBe(3);
    expect(typeof m.metrics.codes).toBe('number');
    expect(m.training).toEqual({ datasets: [dataset], sessionIds: [] });
    const curve = (await readTrainingCurve(db, r.modelId))!;
    expect(curve.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(curve.series.loss.every(Number.isFinite)).toBe(true);
    expect(progress.at(-1)).toBeGreaterThan(0.9);
  }, 60_000);

  it('leaves the checkpoint on cancel, marks the model failed, and a retry of the job resumes to ready', async () => {
    const { db, dataset } = await setup;
    const first = await context(db, 'motifs-train');
    const params: MotifTrainJobParams = { datasets: [dataset], steps: STEPS, overrides: TINY };
    first.ctx.progress = (f) => f > 0.3 && first.abort.abort();
    await expect(runMotifTrainJob(db, params, first.ctx)).rejects.toBeInstanceOf(CancelledError);
    const cancelled = (await listMotifModels(db)).find((m) => m.state !== 'ready')!;
    expect([cancelled.state, cancelled.metrics.error]).toEqual([
      'failed',
      'cancelled; retry the job to resume',
    ]);
    const retry = await context(db, 'motifs-train', first.ctx.jobId);
    const r = await runMotifTrainJob(db, params, retry.ctx);
    expect(r.resumedFrom).not.toBeNull();
    expect(r.resumedFrom!.step + (r.resumedFrom!.phase === 'stage1' ? 0 : 4)).toBeGreaterThan(0);
    const m = (await getMotifModel(db, r.modelId))!;
    expect([m.state, m.jobId, m.stepsDone]).toEqual(['ready', first.ctx.jobId, 8]);
    expect((await readTrainingCurve(db, r.modelId))!.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  }, 60_000);

  it('names the problem: no data, bad steps, joints that differ', async () => {
    const { db, dataset } = await setup;
    const { ctx } = await context(db, 'motifs-train');
    await expect(runMotifTrainJob(db, {}, ctx)).rejects.toThrow(/no data/);
    await expect(runMotifTrainJob(db, { datasets: [dataset], steps: [1, 0] }, ctx)).rejects.toThrow(
      /steps \[1, 0\]/,
    );
    await expect(runMotifTrainJob(db, { sessionIds: [999] }, ctx)).rejects.toThrow(/session #999/);
  });
});

/** The real Pose2Sim capture: a 30-frame fit, a tiny model on it, extraction into proposals. */
describe('motifs-extract job on a fitted session', () => {
  const setup = (async () => {
    const { db, dataset } = await setupLibrary();
    const { sessionId } = await importSession(db, POSE2SIM, (await context(db, 'import')).ctx);
    return { db, dataset, sessionId };
  })();

  it('trains on the session fit and stores proposals with the provider; errors name the problem', async () => {
    const { db, dataset, sessionId } = await setup;
    const extract = async (modelId?: number) =>
      runMotifExtractJob(
        db,
        { sessionId, modelId, providers: ['cpu'] },
        (await context(db, 'motifs-extract')).ctx,
      );
    await expect(
      runMotifExtractJob(db, { sessionId: 999 }, (await context(db, 'motifs-extract')).ctx),
    ).rejects.toThrow(/session #999 does not exist/);
    await expect(extract()).rejects.toThrow(/has no fit/);

    const fit = await runFitJob(db, { sessionId, ground: false, count: 30 }, (await context(db, 'fit')).ctx);
    await expect(extract()).rejects.toThrow(/no motif model is ready/);
    const sessionOverrides: A4MerTrainOverrides = {
      ...TINY,
      input: { fps: 30, windowFrames: 16 },
      trainStride: 8,
    };
    const trained = await runMotifTrainJob(
      db,
      { sessionIds: [sessionId], steps: STEPS, overrides: sessionOverrides, backend: 'cpu' },
      (await context(db, 'motifs-train')).ctx,
    );
    // A model trained on other joints (the synthetic Kinect names).
    const other = await runMotifTrainJob(
      db,
      { datasets: [dataset], steps: STEPS, overrides: TINY },
      (await context(db, 'motifs-train')).ctx,
    );
    await expect(extract(other.modelId)).rejects.toThrow(
      /has joints \(.*LeftUpLeg.*\) but motif model #\d+ .*HipLeft/,
    );
    await expect(
      runMotifTrainJob(
        db,
        { datasets: [dataset], sessionIds: [sessionId], overrides: TINY, steps: STEPS },
        (await context(db, 'motifs-train')).ctx,
      ),
    ).rejects.toThrow(/must share joint names/);

    const r = await extract(trained.modelId);
    expect([r.provider, r.fitId, r.modelId]).toEqual(['cpu', fit.fitId, trained.modelId]);
    expect(r.atoms).toBeGreaterThan(0);
    const p = (await readMotifProposals(db, sessionId))!;
    expect([p.provider, p.modelId, p.atoms.length, p.motifs.length]).toEqual([
      'cpu',
      trained.modelId,
      r.atoms,
      r.motifs,
    ]);
    // Atoms tile the fitted frames, in session frames.
    expect(p.atoms[0].start).toBe(fit.firstFrame);
    expect(p.atoms.at(-1)!.end).toBe(fit.firstFrame + fit.frameCount);
  }, 120_000);
});
