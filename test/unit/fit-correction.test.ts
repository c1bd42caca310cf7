import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FitSummary } from '../../preload/api';
import { compileKeypointMap } from '../../main/body/landmarks';
import { CancelledError } from '../../main/capture/errors';
import { importSession, type JobContext } from '../../main/capture/import-session';
import {
  createBodyLayout,
  createBodyState,
  evaluateBodyState,
  setRootRef,
} from '../../main/fitting/body-state';
import { compareFits, DIFFER_MM } from '../../main/fitting/compare-fits';
import { fitConfig } from '../../main/fitting/config';
import { runFitJob } from '../../main/fitting/fit-job';
import { loadFitModel, OPEN_MODEL } from '../../main/fitting/fit-scene';
import { priorFileFor } from '../../main/fitting/fit-sequence';
import { adjustedKeypointMap } from '../../main/fitting/keypoint-calibration';
import { sequenceFromPoses } from '../../main/fitting/fit-sequence-state';
import { loadPosePrior } from '../../main/fitting/prior/pose-prior';
import { REFIT_ITERATIONS, refitLabel, runRefitJob } from '../../main/fitting/refit-window';
import { USER_KEYPOINT_WEIGHT } from '../../main/fitting/user-keypoints';
import { projectPoint } from '../../main/geometry/camera';
import type { Db } from '../../main/store/db';
import {
  badRangeUnion,
  clearFitPick,
  listBadRanges,
  listUserKeypoints,
  markBadRange,
  pickedFit,
  pickFit,
  removeBadRange,
  removeUserKeypoint,
  setUserKeypoint,
} from '../../main/store/fit-corrections';
import { getFit, listFits, readFitPoses, readFitTrack, saveFit } from '../../main/store/fits';
import { insertJob } from '../../main/store/jobs';
import { openLibrary } from '../../main/store/library';
import { getSession } from '../../main/store/sessions';
import { POSE2SIM, REPO_ROOT, cleanupTempDirs, insertSession, tempDir } from './fixtures';

const NATIVE = join(REPO_ROOT, 'native');
/** The base fit: 30 frames of the real Pose2Sim capture (4 cameras, BODY_25B). */
const FIT_START = 10;
const FIT_COUNT = 30;
/** The corrected frame and the refit window around it (frame +- 6). */
const CORRECTED = 25;
const WIN_START = 19;
const WIN_COUNT = 13;

let db: Db;
let sessionId: number;
let cam: { id: number; name: string; jointNames: string[] };
let base: FitSummary;

const ctx = async (
  kind: 'import' | 'fit' | 'refit',
  signal = new AbortController().signal,
): Promise<JobContext> => ({
  jobId: await insertJob(db, kind, {}),
  signal,
  progress: () => undefined,
});

/** A bare ready session (no cameras) straight in SQL, for cross-session checks. */
const bareSession = (): Promise<number> => insertSession(db, { name: 'bare', frames: 5 });

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  db = await openLibrary(tempDir());
  ({ sessionId } = await importSession(db, POSE2SIM, await ctx('import')));
  const c = (await getSession(db, sessionId))!.cameras.find((k) => k.name === 'cam01')!;
  cam = { id: c.id, name: c.name, jointNames: c.keypoints!.jointNames };
  const r = await runFitJob(db, { sessionId, start: FIT_START, count: FIT_COUNT }, await ctx('fit'));
  base = (await getFit(db, r.fitId))!;
}, 60_000);
afterAll(async () => {
  await db.close();
  cleanupTempDirs();
});

describe('fit corrections in the store', () => {
  it('marks, lists and removes bad frame ranges, refusing bad ones with the session named', async () => {
    const a = await markBadRange(db, sessionId, 40, 50, 'arm through the body');
    const b = await markBadRange(db, sessionId, 5, 8);
    const c = await markBadRange(db, sessionId, 45, 60);
    expect(a).toMatchObject({ sessionId, start: 40, end: 50, note: 'arm through the body' });
    expect((await listBadRanges(db, sessionId)).map((r) => [r.id, r.start, r.end, r.note])).toEqual([
      [b.id, 5, 8, ''],
      [a.id, 40, 50, 'arm through the body'],
      [c.id, 45, 60, ''],
    ]);
    expect(badRangeUnion(await listBadRanges(db, sessionId))).toEqual([
      [5, 8],
      [40, 60],
    ]);
    const where = `session #${sessionId} (pose2sim-balancing)`;
    await expect(markBadRange(db, sessionId, 30, 30)).rejects.toThrow(
      `${where}: bad range [30, 30) is empty`,
    );
    await expect(markBadRange(db, sessionId, -1, 3)).rejects.toThrow(`${where}: bad range start -1 is not`);
    await expect(markBadRange(db, sessionId, 90, 5000)).rejects.toThrow(
      /bad range end 5000 is not a frame of the session's \d+ frames/,
    );
    await expect(markBadRange(db, 999, 1, 2)).rejects.toThrow('session #999 does not exist');
    expect(await removeBadRange(db, sessionId, c.id)).toMatchObject({ start: 45, end: 60 });
    await expect(removeBadRange(db, sessionId, c.id)).rejects.toThrow(
      `${where}: bad range #${c.id} does not exist`,
    );
    expect((await listBadRanges(db, sessionId)).map((r) => r.id)).toEqual([b.id, a.id]);
    for (const r of await listBadRanges(db, sessionId)) await removeBadRange(db, sessionId, r.id);
  });

  it('stores one user keypoint per camera, frame and joint, replacing on re-add', async () => {
    const first = await setUserKeypoint(db, sessionId, {
      cameraId: cam.id,
      frame: 3,
      joint: 4,
      u: 100,
      v: 200,
    });
    expect(first).toMatchObject({
      sessionId,
      cameraId: cam.id,
      frame: 3,
      joint: 4,
      u: 100,
      v: 200,
      confidence: 1,
    });
    await setUserKeypoint(db, sessionId, {
      cameraId: cam.id,
      frame: 3,
      joint: 4,
      u: 110.5,
      v: 190,
      confidence: 0.7,
    });
    await setUserKeypoint(db, sessionId, { cameraId: cam.id, frame: 9, joint: 0, u: 1, v: 2 });
    await setUserKeypoint(db, sessionId, { cameraId: cam.id, frame: 1, joint: 2, u: 3, v: 4 });
    const all = await listUserKeypoints(db, sessionId);
    expect(all.map((k) => [k.frame, k.joint, k.u, k.v, k.confidence])).toEqual([
      [1, 2, 3, 4, 1],
      [3, 4, 110.5, 190, 0.7],
      [9, 0, 1, 2, 1],
    ]);
    expect((await listUserKeypoints(db, sessionId, { start: 2, count: 7 })).map((k) => k.frame)).toEqual([3]);
    expect((await listUserKeypoints(db, sessionId, { start: 3 })).map((k) => k.frame)).toEqual([3, 9]);

    // Bad input names the session, camera, frame and joint, and changes nothing.
    const where = `session #${sessionId} (pose2sim-balancing)`;
    const J = cam.jointNames.length;
    const bad = async (kp: Parameters<typeof setUserKeypoint>[2], message: string | RegExp) =>
      expect(setUserKeypoint(db, sessionId, kp)).rejects.toThrow(message);
    await bad(
      { cameraId: cam.id, frame: 3, joint: J, u: 1, v: 1 },
      `${where}, camera cam01, frame 3: joint ${J} is not`,
    );
    await bad(
      { cameraId: cam.id, frame: 3, joint: 1, u: NaN, v: 1 },
      `camera cam01, frame 3, joint 1: pixel (NaN, 1)`,
    );
    await bad(
      { cameraId: cam.id, frame: 3, joint: 1, u: 1, v: 1, confidence: 1.5 },
      'confidence 1.5 is not in (0, 1]',
    );
    await bad(
      { cameraId: cam.id, frame: 3, joint: 1, u: 1, v: 1, confidence: 0 },
      'confidence 0 is not in (0, 1]',
    );
    await bad(
      { cameraId: cam.id, frame: 100000, joint: 1, u: 1, v: 1 },
      `${where}, camera cam01: frame 100000 is not`,
    );
    const other = await bareSession();
    const { lastID: stranger } = await db.run(
      `INSERT INTO cameras (session_id, idx, name, role, calibration) VALUES (?, 0, 'elsewhere', 'room', '{}')`,
      [other],
    );
    await bad(
      { cameraId: stranger, frame: 3, joint: 1, u: 1, v: 1 },
      `${where}: camera #${stranger} is not a camera`,
    );
    const { lastID: foot } = await db.run(
      `INSERT INTO cameras (session_id, idx, name, role, calibration) VALUES (?, 9, 'footcam', 'foot-left', '{}')`,
      [sessionId],
    );
    await bad(
      { cameraId: foot, frame: 3, joint: 1, u: 1, v: 1 },
      `${where}: camera footcam has no 2D keypoints`,
    );
    await db.run('DELETE FROM cameras WHERE id = ?', [foot]);
    expect(await listUserKeypoints(db, sessionId)).toEqual(all);

    expect(await removeUserKeypoint(db, sessionId, { cameraId: cam.id, frame: 3, joint: 4 })).toMatchObject({
      u: 110.5,
    });
    await expect(removeUserKeypoint(db, sessionId, { cameraId: cam.id, frame: 3, joint: 4 })).rejects.toThrow(
      `${where}: no user keypoint of camera #${cam.id} at frame 3, joint 4`,
    );
    for (const k of await listUserKeypoints(db, sessionId)) await removeUserKeypoint(db, sessionId, k);
    expect(await listUserKeypoints(db, sessionId)).toEqual([]);
  });

  it('exports the picked fit, else the newest, and refuses a fit of another session', async () => {
    const other = await bareSession();
    expect(await pickedFit(db, other)).toBeUndefined();
    const theirs = await saveFit(
      db,
      other,
      null,
      {
        betas: new Float64Array(base.betas.length),
        theta: new Float32Array(31 * 3),
        transl: new Float32Array(3),
        qualityFields: ['flags'],
        quality: new Float32Array(1),
        mounts: [],
        stats: { medianReprojectionPx: 1, maxPenetrationMm: 0, flaggedFrames: 0, framesPerSecond: 1 },
        config: fitConfig(),
      },
      {
        bodyModel: OPEN_MODEL,
        jointNames: Array.from({ length: 31 }, (_, j) => `j${j}`),
        firstFrame: 0,
        frameCount: 1,
        label: 'x',
      },
    );
    const newest = (await listFits(db, sessionId))[0];
    expect(await pickedFit(db, sessionId)).toEqual({ ...newest, picked: false });
    await expect(pickFit(db, sessionId, theirs)).rejects.toThrow(
      `session #${sessionId} (pose2sim-balancing): fit #${theirs} is a fit of session #${other}, not of this session`,
    );
    await expect(pickFit(db, sessionId, 99999)).rejects.toThrow('fit #99999 does not exist');
    await expect(pickFit(db, 999, base.id)).rejects.toThrow('session #999 does not exist');
    expect(await pickedFit(db, sessionId)).toMatchObject({ id: newest.id, picked: false });

    const older = await runFitJob(db, { sessionId, start: 0, count: 3, ground: false }, await ctx('fit'));
    expect((await pickedFit(db, sessionId))!.id).toBe(older.fitId);
    await pickFit(db, sessionId, base.id);
    expect(await pickedFit(db, sessionId)).toMatchObject({ id: base.id, picked: true });
    expect(await clearFitPick(db, sessionId)).toBe(true);
    expect((await pickedFit(db, sessionId))!.id).toBe(older.fitId);
    // A deleted picked fit drops its pick: the newest is exported again.
    await pickFit(db, sessionId, older.fitId);
    await db.run('DELETE FROM fits WHERE id = ?', [older.fitId]);
    expect(await pickedFit(db, sessionId)).toMatchObject({ id: newest.id, picked: false });
  }, 30_000);
});

describe('refit around a user keypoint', () => {
  const J = 31;
  /** Session frame `frame` of a fit: keypoint k (as the fit's keypoint calibration maps it) projected into cam01. */
  async function projectedKeypoint(fit: FitSummary, frame: number, k: number): Promise<[number, number]> {
    const model = loadFitModel(join(NATIVE, fit.bodyModel));
    const prior = loadPosePrior(priorFileFor(model.file));
    const cal = fit.stats.keypointCalibration;
    const map = cal ? adjustedKeypointMap(model, compileKeypointMap(model, 'BODY_25B'), cal) : 'BODY_25B';
    const layout = createBodyLayout(model, prior.joints, map, [], prior.fixedJoints);
    const p = await readFitPoses(db, fit, frame, 1);
    const seq = sequenceFromPoses(layout, p.theta, p.transl);
    const state = createBodyState(layout, fit.betas);
    setRootRef(state, seq.rootR);
    evaluateBodyState(state, seq.x, false);
    const px = new Float64Array(2);
    const calibration = (await getSession(db, sessionId))!.cameras.find((c) => c.id === cam.id)!.calibration;
    projectPoint(calibration, state.keypoints.subarray(k * 3, k * 3 + 3), px);
    return [px[0], px[1]];
  }

  it('pulls the joint to the user keypoint in the window only, as a new version', async () => {
    const k = cam.jointNames.indexOf('RWrist');
    const before = await projectedKeypoint(base, CORRECTED, k);
    // The user drags the wrist 80 px right and 60 px up: 100 px, far beyond the detections' robust
    // loss (sigma 20 px), under which it would not pull at all.
    const target: [number, number] = [before[0] + 80, before[1] - 60];
    await setUserKeypoint(db, sessionId, {
      cameraId: cam.id,
      frame: CORRECTED,
      joint: k,
      u: target[0],
      v: target[1],
    });
    const basePoses = await readFitPoses(db, base, base.firstFrame, base.frameCount);
    const baseQuality = await readFitTrack(db, base, 'quality', base.firstFrame, base.frameCount);

    const t0 = performance.now();
    const r = await runRefitJob(
      db,
      { sessionId, baseFitId: base.id, start: WIN_START, count: WIN_COUNT },
      await ctx('refit'),
      NATIVE,
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(r.userKeypoints).toBe(1);
    const refit = (await getFit(db, r.fitId))!;
    expect(refit.label).toBe(refitLabel(base.id, WIN_START, WIN_COUNT));
    expect(refit.label).toBe(`refit of #${base.id} frames 19–31`);
    expect(refit.config.refit).toEqual({
      baseFitId: base.id,
      start: WIN_START,
      count: WIN_COUNT,
      margin: 1,
      userKeypoints: 1,
      userKeypointWeight: USER_KEYPOINT_WEIGHT,
      iterations: REFIT_ITERATIONS,
    });
    expect(refit.config.weights).toEqual(base.config.weights);
    expect([refit.firstFrame, refit.frameCount, refit.betas]).toEqual([
      base.firstFrame,
      base.frameCount,
      base.betas,
    ]);

    const after = await projectedKeypoint(refit, CORRECTED, k);
    const dBefore = Math.hypot(before[0] - target[0], before[1] - target[1]);
    const dAfter = Math.hypot(after[0] - target[0], after[1] - target[1]);
    console.log(
      `refit of ${WIN_COUNT} frames in ${seconds.toFixed(2)} s (${r.solver.iterations} LM iterations, ` +
        `${r.solver.termination}): RWrist in cam01 ${dBefore.toFixed(1)} px -> ${dAfter.toFixed(1)} px from the user keypoint`,
    );
    expect(dBefore).toBeCloseTo(100, 3);
    expect(dAfter).toBeLessThan(5);

    // Outside the window: bit-identical to the base fit; inside: changed.
    const poses = await readFitPoses(db, refit, refit.firstFrame, refit.frameCount);
    const quality = await readFitTrack(db, refit, 'quality', refit.firstFrame, refit.frameCount);
    const S = base.qualityFields.length;
    const rows = (a: Float32Array, per: number, s: number, e: number) =>
      bytes(a.subarray((s - base.firstFrame) * per, (e - base.firstFrame) * per));
    const end = WIN_START + WIN_COUNT;
    const baseEnd = base.firstFrame + base.frameCount;
    for (const [a, b, per] of [
      [poses.theta, basePoses.theta, J * 3],
      [poses.transl, basePoses.transl, 3],
      [quality.data, baseQuality.data, S],
    ] as const) {
      expect(rows(a, per, base.firstFrame, WIN_START).equals(rows(b, per, base.firstFrame, WIN_START))).toBe(
        true,
      );
      expect(rows(a, per, end, baseEnd).equals(rows(b, per, end, baseEnd))).toBe(true);
      expect(rows(a, per, CORRECTED, CORRECTED + 1).equals(rows(b, per, CORRECTED, CORRECTED + 1))).toBe(
        false,
      );
    }
    // Stats of the whole new version: flags counted from its quality rows, the median over every frame.
    const flags = Array.from({ length: refit.frameCount }, (_, f) => quality.data[f * S + S - 1]);
    expect(refit.stats.flaggedFrames).toBe(flags.filter((v) => v !== 0).length);
    expect(Math.abs(refit.stats.medianReprojectionPx - base.stats.medianReprojectionPx)).toBeLessThan(0.5);
    // The base fit is unchanged.
    expect(await getFit(db, base.id)).toEqual(base);
    const again = await readFitPoses(db, base, base.firstFrame, base.frameCount);
    expect(bytes(again.theta).equals(bytes(basePoses.theta))).toBe(true);

    // Compare: identical fits differ nowhere; the refit differs in the window only.
    const same = await compareFits(db, base.id, base.id, {}, NATIVE);
    expect([same.start, same.count]).toEqual([base.firstFrame, base.frameCount]);
    expect(Array.from(same.mpjpeMm).every((v) => v === 0)).toBe(true);
    expect(same.summary).toMatchObject({ maxMm: 0, medianMm: 0, framesOver1cm: 0, ranges: [] });
    const cmp = await compareFits(db, base.id, refit.id, {}, NATIVE);
    for (let f = 0; f < cmp.count; f++) {
      const frame = cmp.start + f;
      if (frame < WIN_START || frame >= end) expect(cmp.mpjpeMm[f]).toBe(0);
    }
    expect(cmp.mpjpeMm[CORRECTED - cmp.start]).toBeGreaterThan(1);
    expect(cmp.summary.maxFrame).toBeGreaterThanOrEqual(WIN_START);
    expect(cmp.summary.maxFrame).toBeLessThan(end);
    for (const [s, e] of cmp.summary.ranges) {
      expect(s).toBeGreaterThanOrEqual(WIN_START);
      expect(e).toBeLessThanOrEqual(end);
    }
    expect(cmp.summary.framesOver1cm).toBe(Array.from(cmp.mpjpeMm).filter((v) => v > DIFFER_MM).length);
    expect(cmp.quality.fields).toEqual(base.qualityFields);
    expect(bytes(cmp.quality.a).equals(bytes(baseQuality.data))).toBe(true);
    expect(bytes(cmp.quality.b).equals(bytes(quality.data))).toBe(true);
    console.log(
      `compare #${base.id} vs #${refit.id}: max ${cmp.summary.maxMm.toFixed(1)} mm at frame ${cmp.summary.maxFrame}, ` +
        `median ${cmp.summary.medianMm.toFixed(1)} mm, ${cmp.summary.framesOver1cm} frames over 1 cm`,
    );
  }, 60_000);

  it('stores nothing when cancelled, and refuses windows and fits it cannot refit', async () => {
    const fitsBefore = (await listFits(db, sessionId)).map((f) => f.id);
    const abort = new AbortController();
    const job = runRefitJob(
      db,
      { sessionId, baseFitId: base.id, start: WIN_START, count: WIN_COUNT },
      {
        ...(await ctx('refit', abort.signal)),
        progress: (_, m) => m.startsWith('refitting') && abort.abort(),
      },
      NATIVE,
    );
    await expect(job).rejects.toBeInstanceOf(CancelledError);
    expect((await listFits(db, sessionId)).map((f) => f.id)).toEqual(fitsBefore);

    // Free edges (margin 0): still a version that differs from the base fit only in the window.
    const free = await runRefitJob(
      db,
      { sessionId, baseFitId: base.id, start: WIN_START, count: WIN_COUNT, margin: 0 },
      await ctx('refit'),
      NATIVE,
    );
    expect((await getFit(db, free.fitId))!.config.refit).toMatchObject({ margin: 0, userKeypoints: 1 });
    const edges = await compareFits(db, base.id, free.fitId, {}, NATIVE);
    expect(edges.summary.ranges.every(([s, e]) => s >= WIN_START && e <= WIN_START + WIN_COUNT)).toBe(true);
    expect(edges.mpjpeMm[WIN_START - 1 - edges.start]).toBe(0);
    expect(edges.mpjpeMm[WIN_START + WIN_COUNT - edges.start]).toBe(0);
    await db.run('DELETE FROM fits WHERE id = ?', [free.fitId]);

    const where = `session #${sessionId} (pose2sim-balancing)`;
    const refit = (p: Partial<Parameters<typeof runRefitJob>[1]>) =>
      runRefitJob(
        db,
        { sessionId, baseFitId: base.id, start: WIN_START, count: WIN_COUNT, ...p },
        { jobId: 0, signal: abort.signal, progress: () => undefined },
        NATIVE,
      );
    await expect(refit({ start: 35, count: 10 })).rejects.toThrow(
      `${where}: refit window [35, 45) is not within fit #${base.id}'s frames [10, 40)`,
    );
    await expect(refit({ baseFitId: 99999 })).rejects.toThrow(`${where}: fit #99999 does not exist`);
    await expect(refit({ margin: 3 })).rejects.toThrow('refit margin 3 must be 0');
    const other = await bareSession();
    await expect(refit({ sessionId: other })).rejects.toThrow(
      `fit #${base.id} is a fit of session #${sessionId}`,
    );
    expect((await listFits(db, sessionId)).map((f) => f.id)).toEqual(fitsBefore);
  }, 30_000);
});
