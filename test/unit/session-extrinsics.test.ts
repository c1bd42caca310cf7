import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../main/api/context';
import {
  applySessionExtrinsics,
  computeSessionExtrinsics,
  extrinsicsChange,
  type SessionExtrinsics,
} from '../../main/calibration/session-extrinsics';
import { makeSample } from '../../main/capture/sample/make-sample';
import type { CameraCalibration } from '../../preload/api';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './fixtures';
import { openTestContext, runImport } from './import-helpers';

/**
 * The embedded sample imported into a temp library: its 8 room cameras placed from frame 0 of their
 * videos by the floor board, against the ground-truth calibrations the sample was rendered with.
 */

let dir: string;
let ctx: AppContext;
let sessionId: number;
let truth: Map<string, CameraCalibration>;
let result: SessionExtrinsics;

/** A sample from $STUDIO_SAMPLE_DIR when it holds one, else made here (~35 s on 2 cores). */
async function sampleDir(): Promise<string> {
  const env = process.env.STUDIO_SAMPLE_DIR;
  if (
    env &&
    ['session.json', 'ground_truth.json', 'videos/room-1.mp4'].every((f) => existsSync(join(env, f)))
  )
    return resolve(env);
  const made = join(tempDir('studio-sample-'), 'sample');
  await makeSample(made, { nativeDir: join(REPO_ROOT, 'native') });
  return made;
}

async function storedCalibrations(): Promise<Map<string, CameraCalibration>> {
  const rows = await ctx.db.all<{ name: string; calibration: string }>(
    'SELECT name, calibration FROM cameras WHERE session_id = ? ORDER BY idx',
    [sessionId],
  );
  return new Map(rows.map((r) => [r.name, JSON.parse(r.calibration) as CameraCalibration]));
}

beforeAll(async () => {
  dir = await sampleDir();
  const gt = JSON.parse(readFileSync(join(dir, 'ground_truth.json'), 'utf8')) as {
    cameras: { name: string; role: string; calibration?: CameraCalibration }[];
  };
  truth = new Map(gt.cameras.filter((c) => c.role === 'room').map((c) => [c.name, c.calibration!]));
  ctx = await openTestContext();
  const job = await runImport(ctx, dir);
  if (job.state !== 'succeeded') throw new Error(`import failed: ${job.error}`);
  sessionId = Number(job.result?.sessionId);
  result = await computeSessionExtrinsics(ctx.db, sessionId);
}, 240_000);

afterAll(async () => {
  await ctx?.close();
  cleanupTempDirs();
});

describe('calibrate extrinsics of a library session', () => {
  it('places every room camera that sees the floor board within 1 cm and 0.3 deg of the ground truth', () => {
    expect(result).toMatchObject({ sessionId, board: 'floor', frame: 0, worldFrame: 'board-pose' });
    // Room cameras only (no foot camera), each either placed or listed as not seeing the board.
    const names = [...result.cameras, ...result.unseen].map((c) => c.name).sort();
    expect(names).toEqual([...truth.keys()].sort());
    expect(result.cameras.length).toBeGreaterThanOrEqual(6);
    for (const cam of result.cameras) {
      const d = extrinsicsChange(cam, truth.get(cam.name)!);
      expect(d.centreMm, cam.name).toBeLessThan(10);
      expect(d.rotationDeg, cam.name).toBeLessThan(0.3);
      // The stored calibration is the ground truth: the reported change says the same.
      expect(cam.change!.centreMm, cam.name).toBeCloseTo(d.centreMm, 6);
      expect(cam.change!.rotationDeg, cam.name).toBeCloseTo(d.rotationDeg, 6);
      expect(cam.corners, cam.name).toBeGreaterThanOrEqual(12);
      expect(cam.rms, cam.name).toBeLessThan(0.5);
    }
    for (const u of result.unseen) expect(u.reason).toMatch(/board "floor"|no video/);
    expect(result.seconds).toBeLessThan(10);
  });

  it('names a missing --board, a frame past the end and a missing session', async () => {
    await expect(computeSessionExtrinsics(ctx.db, sessionId, { board: 'no-such-board' })).rejects.toThrow(
      new RegExp(`session #${sessionId} \\(.*\\) has no board "no-such-board" \\(boards: .*floor`),
    );
    await expect(computeSessionExtrinsics(ctx.db, sessionId, { frame: 100_000 })).rejects.toThrow(
      /camera room-1: frame 100000 is past the end of .*room-1\.mp4 \(\d+ frames\)/,
    );
    await expect(computeSessionExtrinsics(ctx.db, 9999)).rejects.toThrow('session #9999 does not exist');
  });

  it('the CLI prints the result as JSON and writes nothing without --apply', async () => {
    const before = await storedCalibrations();
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'main/cli/index.ts', '--data-dir', ctx.dataDir, '--json'].concat([
        'calibrate',
        'extrinsics',
        dir,
        '--board',
        'floor',
      ]),
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as SessionExtrinsics & { applied: number };
    expect(out.sessionId).toBe(sessionId);
    expect(out.applied).toBe(0);
    expect(out.cameras.map((c) => c.name)).toEqual(result.cameras.map((c) => c.name));
    expect(run.stderr).toContain('nothing written');
    expect(await storedCalibrations()).toEqual(before);
  });

  it('--apply replaces the stored R, t (and nothing else); without it nothing changes', async () => {
    // Knock room-2 5 cm off its true place in the library.
    const moved = {
      ...truth.get('room-2')!,
      t: truth.get('room-2')!.t.map((v, i) => v + (i === 0 ? 0.05 : 0)),
    };
    await ctx.db.run('UPDATE cameras SET calibration = ? WHERE session_id = ? AND name = ?', [
      JSON.stringify(moved),
      sessionId,
      'room-2',
    ]);
    const before = await storedCalibrations();
    const dry = await computeSessionExtrinsics(ctx.db, sessionId);
    const room2 = dry.cameras.find((c) => c.name === 'room-2')!;
    expect(room2.change!.centreMm).toBeGreaterThan(40);
    expect(room2.change!.centreMm).toBeLessThan(60);
    expect(await storedCalibrations()).toEqual(before);

    expect(await applySessionExtrinsics(ctx.db, dry)).toBe(dry.cameras.length);
    const after = await storedCalibrations();
    for (const cam of dry.cameras) {
      const stored = after.get(cam.name)!;
      expect(stored.R).toEqual(cam.R);
      expect(stored.t).toEqual(cam.t);
      const { R: _R, t: _t, ...lens } = before.get(cam.name)!;
      expect(stored).toMatchObject(lens);
    }
    expect(after.get('room-2')!.t).not.toEqual(moved.t);
    // Placed again from the stored result: nothing left to change.
    const again = await computeSessionExtrinsics(ctx.db, sessionId);
    for (const cam of again.cameras) expect(cam.change!.centreMm, cam.name).toBeLessThan(0.01);
  });
});
