import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { AppContext } from '../../main/api/context';
import type { BodyModel } from '../../main/body/model';
import { fitConfig, fitLabel } from '../../main/fitting/config';
import { loadFitModel, OPEN_MODEL } from '../../main/fitting/fit-scene';
import type { FitResult } from '../../main/fitting/types';
import { acceptProposals, proposeFamilyLabel } from '../../main/store/annotation-proposals';
import { createAnnotation, ensureDefaultTiers } from '../../main/store/annotations';
import { saveFit } from '../../main/store/fits';
import { createMotifModel } from '../../main/store/motif-models';
import { saveMotifProposals } from '../../main/store/motif-proposals';
import { REPO_ROOT, copyPose2Sim, insertSession } from './fixtures';
import { openTestContext, runImport } from './import-helpers';

/**
 * A tiny real library for the export tests: the real Pose2Sim capture imported as session
 * "balance-alice" (100 frames at 60 fps, 4 cameras with BODY_25B keypoints, no subject name), and
 * "balance-bob" (60 fps, no cameras, subject "bob" in its meta) and "unfitted" (no fit) straight in
 * SQL. alice and bob have stored fits of non-trivial poses, shape and path (frames [5, 29) and
 * [0, 16)); alice also gets user segments (one straddling the fit's start, one with a comma and
 * quotes, one outside the fit) and an accepted motif-family segment.
 */

export const NATIVE = join(REPO_ROOT, 'native');
/** The frame of alice's fit whose root rotation is 90 degrees about world z: BVH's Euler gimbal lock. */
export const GIMBAL_FRAME = 7;

export interface ExportLibrary {
  ctx: AppContext;
  model: BodyModel;
  alice: number;
  bob: number;
  noFit: number;
  fits: Record<'alice' | 'bob', { id: number; result: FitResult; firstFrame: number }>;
  motifModelId: number;
}

/** Deterministic pseudo-random numbers in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** frames x J x 3 axis-angles up to ~0.6 rad per joint, a path walking along x at 1 m/s and 6 betas. */
export function syntheticFit(model: BodyModel, frames: number, seed: number, gimbalFrame = -1): FitResult {
  const J = model.numJoints;
  const rand = noise(seed);
  const theta = new Float32Array(frames * J * 3).map(() => 0.6 * rand());
  if (gimbalFrame >= 0) theta.set([0, 0, Math.PI / 2], gimbalFrame * J * 3);
  const transl = new Float32Array(frames * 3).map((_, i) =>
    i % 3 === 0 ? (i / 3) * 0.02 : i % 3 === 1 ? 0.1 * rand() : 0.02 * rand(),
  );
  const fields = ['maxPenetrationMm', 'flags'];
  const config = fitConfig();
  return {
    betas: Float64Array.from({ length: model.numBetas }, (_, b) => [0.5, -0.3, 0.2, 0.1, -0.4, 0.3][b] ?? 0),
    theta,
    transl,
    qualityFields: fields,
    quality: new Float32Array(frames * fields.length).fill(1),
    mounts: [],
    stats: { medianReprojectionPx: 2, maxPenetrationMm: 0, flaggedFrames: 0, framesPerSecond: 50 },
    config,
  };
}

async function importCopy(ctx: AppContext, name: string): Promise<number> {
  const copy = copyPose2Sim();
  const dir = join(dirname(copy), name);
  renameSync(copy, dir);
  const job = await runImport(ctx, dir);
  if (job.state !== 'succeeded') throw new Error(`import of ${dir}: ${job.error}`);
  return Number(job.result!.sessionId);
}

export async function buildExportLibrary(): Promise<ExportLibrary> {
  const ctx = await openTestContext();
  const db = ctx.db;
  const model = loadFitModel(join(NATIVE, OPEN_MODEL));
  const alice = await importCopy(ctx, 'balance-alice');
  const session = (name: string, fps: number, frames: number, meta: object) =>
    insertSession(db, { name, fps, frames, meta });
  const bob = await session('balance-bob', 60, 100, { subject: { name: 'bob' } });
  const noFit = await session('unfitted', 30, 10, {});
  const save = async (sessionId: number, firstFrame: number, result: FitResult) => ({
    id: await saveFit(db, sessionId, null, result, {
      bodyModel: OPEN_MODEL,
      jointNames: model.jointNames,
      firstFrame,
      frameCount: result.transl.length / 3,
      label: fitLabel(result.config),
    }),
    result,
    firstFrame,
  });
  const fits = {
    alice: await save(alice, 5, syntheticFit(model, 24, 1, GIMBAL_FRAME)),
    bob: await save(bob, 0, syntheticFit(model, 16, 2)),
  };
  const [action, motif] = await ensureDefaultTiers(db, alice);
  await createAnnotation(db, action.id, 0, 8, 'stand');
  await createAnnotation(db, action.id, 10, 20, 'reach, "left"');
  await createAnnotation(db, action.id, 40, 50, 'sit');
  const m = await createMotifModel(db, { name: 'tiny a4mer', config: {}, training: {}, stepsTotal: 1 });
  await saveMotifProposals(db, {
    sessionId: alice,
    modelId: m.id,
    provider: 'cpu',
    atoms: [],
    motifs: [{ start: 20, end: 28, pattern: 0, family: 0 }],
  });
  const proposed = await proposeFamilyLabel(db, {
    modelId: m.id,
    family: 0,
    label: 'sway',
    tierName: motif.name,
  });
  await acceptProposals(
    db,
    proposed.created.map((p) => p.id),
  );
  return { ctx, model, alice, bob, noFit, fits, motifModelId: m.id };
}

/** Every file under `dir`, '/'-separated relative paths, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
