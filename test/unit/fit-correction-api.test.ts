import { apiCaller } from './api-caller';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type WebServer } from '../../main/server/server';
import type {
  BadFrameRange,
  FitComparisonBlock,
  FitPick,
  FitSummary,
  JobInfo,
  SessionDetail,
  UserKeypoint,
} from '../../preload/api';
import { POSE2SIM, cleanupTempDirs, insertSession, tempDir } from './fixtures';

/**
 * The fit-correction calls through the real web server and dispatch (HTTP, schemas, handlers, store,
 * job runner) on the real Pose2Sim capture with a short real fit: store refusals arrive as not-found /
 * bad-input with the store's message, every write announces libraryChanged 'fit-corrected' for its
 * session (a refused one announces nothing), and a refit job runs to a new version that differs from
 * its base only in the window.
 */

let server: WebServer;
let base: string;
let events: { event: string; payload: unknown }[] = [];
let sessionId: number;
let other: number;
let cam01: { id: number; joints: number };
let fit: FitSummary;
const FIT_START = 10;
const FIT_COUNT = 12;

const { call, ok } = apiCaller(() => ({ base, token: server.token }));

/** The refusal as [status, code, message]. */
async function refused(method: string, body: unknown): Promise<[number, string, string]> {
  const r = await call(method, body);
  return [r.status, r.body.code, r.body.message];
}

async function waitForJob(job: JobInfo, seconds = 60): Promise<JobInfo> {
  for (let i = 0; i < seconds * 20 && ['queued', 'running'].includes(job.state); i++) {
    await new Promise((r) => setTimeout(r, 50));
    job = await ok<JobInfo>('getJob', { jobId: job.id });
  }
  return job;
}

const corrected = () =>
  events
    .filter((e) => e.event === 'libraryChanged')
    .map((e) => e.payload as { reason: string; sessionId?: number })
    .filter((p) => p.reason === 'fit-corrected')
    .map((p) => p.sessionId);

beforeAll(async () => {
  server = await startServer({ dataDir: tempDir('studio-fit-correction-api-') });
  base = `http://127.0.0.1:${server.port}`;
  server.ctx.subscribe((event, payload) => events.push({ event, payload }));
  const imported = await waitForJob(await ok<JobInfo>('importSession', { path: POSE2SIM }));
  expect(imported.state, imported.error ?? '').toBe('succeeded');
  sessionId = Number(imported.result!.sessionId);
  const session = await ok<SessionDetail>('getSession', { sessionId });
  const c = session.cameras.find((k) => k.name === 'cam01')!;
  cam01 = { id: c.id, joints: c.keypoints!.jointNames.length };
  const fitJob = await waitForJob(
    await ok<JobInfo>('fitSession', { sessionId, ground: false, start: FIT_START, count: FIT_COUNT }),
  );
  expect(fitJob.state, fitJob.error ?? '').toBe('succeeded');
  fit = (await ok<FitSummary[]>('listFits', { sessionId }))[0];
  // A second ready session (no cameras, no fit) straight in SQL, for cross-session refusals.
  other = await insertSession(server.ctx.db, { name: 'other', frames: 50 });
}, 120_000);
beforeEach(() => {
  events = [];
});
afterAll(async () => {
  await server.close();
  cleanupTempDirs();
});

describe('fit-correction calls', () => {
  it('marks, lists and removes bad ranges, announcing each write and refusing bad ones', async () => {
    const a = await ok<BadFrameRange>('markBadRange', { sessionId, start: 12, end: 18, note: 'arm' });
    const b = await ok<BadFrameRange>('markBadRange', { sessionId, start: 2, end: 4 });
    expect(a).toMatchObject({ sessionId, start: 12, end: 18, note: 'arm' });
    const list = await ok<BadFrameRange[]>('listBadRanges', { sessionId });
    expect(list.map((r) => [r.id, r.start, r.end])).toEqual([
      [b.id, 2, 4],
      [a.id, 12, 18],
    ]);
    expect(await ok<BadFrameRange>('removeBadRange', { sessionId, rangeId: b.id })).toMatchObject({
      start: 2,
    });
    expect(corrected()).toEqual([sessionId, sessionId, sessionId]);

    events = [];
    const where = `session #${sessionId} (pose2sim-balancing)`;
    expect(await refused('markBadRange', { sessionId, start: 9, end: 9 })).toEqual([
      422,
      'bad-input',
      `${where}: bad range [9, 9) is empty`,
    ]);
    expect(await refused('markBadRange', { sessionId: 9999, start: 1, end: 2 })).toEqual([
      404,
      'not-found',
      'session #9999 does not exist',
    ]);
    expect(await refused('removeBadRange', { sessionId, rangeId: b.id })).toEqual([
      404,
      'not-found',
      `${where}: bad range #${b.id} does not exist`,
    ]);
    const shape = await refused('markBadRange', { sessionId, start: -1, end: 2 });
    expect(shape.slice(0, 2)).toEqual([400, 'invalid-request']);
    expect(shape[2]).toMatch(/markBadRange: start/);
    expect(corrected()).toEqual([]);
    await ok('removeBadRange', { sessionId, rangeId: a.id });
  });

  it('sets, lists and removes user keypoints, refusing another session camera and a bad joint', async () => {
    const kp = await ok<UserKeypoint>('setUserKeypoint', {
      sessionId,
      cameraId: cam01.id,
      frame: 15,
      joint: 4,
      u: 321.5,
      v: 123.25,
    });
    expect(kp).toMatchObject({ sessionId, cameraId: cam01.id, frame: 15, joint: 4, u: 321.5, v: 123.25 });
    expect(kp.confidence).toBe(1);
    await ok('setUserKeypoint', { sessionId, cameraId: cam01.id, frame: 40, joint: 0, u: 1, v: 2 });
    const inRange = await ok<UserKeypoint[]>('listUserKeypoints', { sessionId, start: 10, count: 10 });
    expect(inRange.map((k) => [k.frame, k.joint])).toEqual([[15, 4]]);
    expect((await ok<UserKeypoint[]>('listUserKeypoints', { sessionId })).map((k) => k.frame)).toEqual([
      15, 40,
    ]);
    const removed = await ok<UserKeypoint>('removeUserKeypoint', {
      sessionId,
      cameraId: cam01.id,
      frame: 40,
      joint: 0,
    });
    expect([removed.u, removed.v]).toEqual([1, 2]);
    expect(corrected()).toEqual([sessionId, sessionId, sessionId]);

    events = [];
    expect(
      await refused('setUserKeypoint', {
        sessionId: other,
        cameraId: cam01.id,
        frame: 1,
        joint: 0,
        u: 1,
        v: 1,
      }),
    ).toEqual([
      404,
      'not-found',
      `session #${other} (other): camera #${cam01.id} is not a camera of the session`,
    ]);
    const badJoint = await refused('setUserKeypoint', {
      sessionId,
      cameraId: cam01.id,
      frame: 15,
      joint: cam01.joints,
      u: 1,
      v: 1,
    });
    expect(badJoint.slice(0, 2)).toEqual([422, 'bad-input']);
    expect(badJoint[2]).toMatch(`joint ${cam01.joints} is not one of the layout's ${cam01.joints} keypoints`);
    expect(
      (await refused('removeUserKeypoint', { sessionId, cameraId: cam01.id, frame: 40, joint: 0 }))[0],
    ).toBe(404);
    expect((await refused('setUserKeypoint', { sessionId, cameraId: cam01.id, frame: 1, joint: 0 }))[0]).toBe(
      400,
    );
    expect(corrected()).toEqual([]);
  });

  it('refits a window as a new version that differs from its base only there, and compares them', async () => {
    expect(
      await refused('refitWindow', { sessionId, baseFitId: fit.id, start: FIT_START + 8, count: 10 }),
    ).toEqual([
      422,
      'bad-input',
      `refit window [${FIT_START + 8}, ${FIT_START + 18}) is not within fit #${fit.id}'s frames [${FIT_START}, ${FIT_START + FIT_COUNT})`,
    ]);
    expect(
      await refused('refitWindow', { sessionId: other, baseFitId: fit.id, start: 12, count: 3 }),
    ).toEqual([404, 'not-found', `fit #${fit.id} belongs to session #${sessionId}, not #${other}`]);
    expect((await refused('refitWindow', { sessionId, baseFitId: 9999, start: 12, count: 3 }))[0]).toBe(404);

    // The user keypoint of the test above (frame 15) is inside the window [13, 18).
    const job = await ok<JobInfo>('refitWindow', { sessionId, baseFitId: fit.id, start: 13, count: 5 });
    expect([job.kind, job.params]).toEqual(['refit', { sessionId, baseFitId: fit.id, start: 13, count: 5 }]);
    const t0 = performance.now();
    const done = await waitForJob(job);
    console.log(`refit of 5 frames through the API: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(done.state, done.error ?? '').toBe('succeeded');
    expect(events.some((e) => e.event === 'jobProgress')).toBe(true);
    const fits = await ok<FitSummary[]>('listFits', { sessionId });
    expect(fits.map((f) => f.id)).toEqual([Number(done.result!.fitId), fit.id]);
    expect(fits[0]).toMatchObject({ label: `refit of #${fit.id} frames 13–17`, firstFrame: FIT_START });

    const cmp = await ok<FitComparisonBlock>('compareFits', { fitA: fit.id, fitB: fits[0].id });
    expect([cmp.sessionId, cmp.fitA, cmp.fitB, cmp.start, cmp.count]).toEqual([
      sessionId,
      fit.id,
      fits[0].id,
      FIT_START,
      FIT_COUNT,
    ]);
    expect(cmp.mpjpeMm).toHaveLength(FIT_COUNT);
    cmp.mpjpeMm.forEach((mm, i) => {
      const f = FIT_START + i;
      if (f < 13 || f >= 18) expect(mm, `frame ${f}`).toBe(0);
      else expect(mm, `frame ${f}`).toBeGreaterThan(0);
    });
    expect(cmp.summary.maxFrame).toBeGreaterThanOrEqual(13);
    expect(cmp.summary.maxFrame).toBeLessThan(18);
    expect(cmp.summary.maxMm).toBe(Math.max(...(cmp.mpjpeMm as number[])));
    expect(cmp.summary.medianMm).toBe(0);
    expect(cmp.summary.differMm).toBe(10);
    expect(cmp.quality.fields).toEqual(fit.qualityFields);
    expect(cmp.quality.a).toHaveLength(FIT_COUNT * fit.qualityFields.length);
    const part = await ok<FitComparisonBlock>('compareFits', {
      fitA: fit.id,
      fitB: fits[0].id,
      start: 14,
      count: 2,
    });
    expect([part.start, part.count, part.mpjpeMm]).toEqual([14, 2, cmp.mpjpeMm.slice(4, 6)]);
    expect(await refused('compareFits', { fitA: fit.id, fitB: fits[0].id, start: 100, count: 5 })).toEqual([
      422,
      'bad-input',
      `session #${sessionId}: fits #${fit.id} and #${fits[0].id} share no frame in the range`,
    ]);
    expect(await refused('compareFits', { fitA: fit.id, fitB: 9999 })).toEqual([
      404,
      'not-found',
      'fit #9999 does not exist',
    ]);
  }, 120_000);

  it('picks the exported version, falls back to the newest, and refuses a fit of another session', async () => {
    const fits = await ok<FitSummary[]>('listFits', { sessionId });
    expect(fits.length).toBeGreaterThanOrEqual(2);
    const newest = fits[0];
    expect(await ok<FitPick>('pickedFit', { sessionId })).toEqual({ sessionId, fit: newest, picked: false });
    expect(await ok<FitPick>('pickFit', { sessionId, fitId: fit.id })).toEqual({
      sessionId,
      fit,
      picked: true,
    });
    expect(await ok<FitPick>('pickedFit', { sessionId })).toMatchObject({
      fit: { id: fit.id },
      picked: true,
    });
    expect(corrected()).toEqual([sessionId]);

    events = [];
    expect(await refused('pickFit', { sessionId: other, fitId: fit.id })).toEqual([
      404,
      'not-found',
      `session #${other} (other): fit #${fit.id} is a fit of session #${sessionId}, not of this session`,
    ]);
    expect((await refused('pickFit', { sessionId, fitId: 9999 }))[0]).toBe(404);
    expect((await refused('pickedFit', { sessionId: 9999 }))[0]).toBe(404);
    expect(corrected()).toEqual([]);
    expect(await ok<FitPick>('pickedFit', { sessionId: other })).toEqual({
      sessionId: other,
      fit: null,
      picked: false,
    });

    expect(await ok<FitPick>('pickFit', { sessionId, fitId: null })).toMatchObject({
      fit: { id: newest.id },
      picked: false,
    });
    expect(corrected()).toEqual([sessionId]);
  });
});
