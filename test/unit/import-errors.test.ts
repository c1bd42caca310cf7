import {
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../main/api/context';
import { cleanupTempDirs, copyPose2Sim, POSE2SIM, tempDir } from './fixtures';
import { openTestContext, rowCounts, runImport } from './import-helpers';

const EMPTY = { sessions: 0, cameras: 0, media: 0, tracks: 0, chunks: 0 };

describe('bad input is refused with a clear error and leaves nothing behind', () => {
  let ctx: AppContext;
  beforeEach(async () => {
    ctx = await openTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });
  afterAll(() => cleanupTempDirs());

  async function expectFailure(path: string, fileInMessage: string, problem: RegExp) {
    const job = await runImport(ctx, path);
    expect(job.state).toBe('failed');
    expect(job.error).toContain(fileInMessage);
    expect(job.error).toMatch(problem);
    expect(await rowCounts(ctx)).toEqual(EMPTY);
  }

  it('folder without calibration', async () => {
    const dir = copyPose2Sim();
    rmSync(join(dir, 'Calib.qca.txt'));
    await expectFailure(dir, dir, /no calibration found/);
  });

  it('missing folder', async () => {
    const dir = join(tempDir(), 'nope');
    await expectFailure(dir, dir, /does not exist/);
  });

  it('truncated mp4', async () => {
    const dir = copyPose2Sim();
    const video = join(dir, 'videos', 'cam03.mp4');
    truncateSync(video, Math.floor(statSync(video).size / 2));
    await expectFailure(dir, video, /cannot read video|truncated|damaged/);
  });

  it('keypoint JSON with NaN', async () => {
    const dir = copyPose2Sim();
    const file = join(dir, 'pose', 'cam04_json', 'cam04.0057.json');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/"pose_keypoints_2d":\[[-\d.]+/, '"pose_keypoints_2d":[NaN'),
    );
    // cam04 is the last camera: cameras 1-3 are already written when this file is read.
    await expectFailure(dir, file, /malformed JSON/);
  });

  it('keypoint JSON with a wrong array length', async () => {
    const dir = copyPose2Sim();
    const file = join(dir, 'pose', 'cam04_json', 'cam04.0090.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.people[0].pose_keypoints_2d = doc.people[0].pose_keypoints_2d.slice(0, 72);
    writeFileSync(file, JSON.stringify(doc));
    await expectFailure(dir, file, /has 72 values, expected 75/);
  });

  it('keypoint JSON with null in place of a number', async () => {
    const dir = copyPose2Sim();
    const file = join(dir, 'pose', 'cam02_json', 'cam02.0003.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.people[0].pose_keypoints_2d[4] = null;
    writeFileSync(file, JSON.stringify(doc));
    await expectFailure(dir, file, /pose_keypoints_2d\[4\] is null/);
  });

  it('a manifest path that escapes the session folder', async () => {
    const dir = copyPose2Sim();
    const manifest = {
      version: 1,
      cameras: [
        { name: 'cam01', video: 'videos/cam01.mp4', calibration: { qca: 'Calib.qca.txt', serial: 'cam_01' } },
        { name: 'cam02', video: '../../etc/passwd', calibration: { qca: 'Calib.qca.txt', serial: 'cam_02' } },
      ],
    };
    writeFileSync(join(dir, 'session.json'), JSON.stringify(manifest));
    await expectFailure(dir, join(dir, 'session.json'), /escapes the session folder/);
  });

  it('a manifest symlink that leads outside the session folder', async () => {
    const dir = copyPose2Sim();
    symlinkSync(join(POSE2SIM, 'videos', 'cam01.mp4'), join(dir, 'outside.mp4'));
    const manifest = {
      version: 1,
      cameras: [
        { name: 'cam01', video: 'outside.mp4', calibration: { qca: 'Calib.qca.txt', serial: 'cam_01' } },
      ],
    };
    writeFileSync(join(dir, 'session.json'), JSON.stringify(manifest));
    await expectFailure(dir, join(dir, 'session.json'), /links outside the session folder/);
  });

  it('a second import of the same folder is refused and keeps the first intact', async () => {
    const dir = copyPose2Sim();
    const first = await runImport(ctx, dir);
    expect(first.state).toBe('succeeded');
    const before = await rowCounts(ctx);
    // Same folder through another spelling of its path.
    renameSync(dir, dir + '-moved');
    renameSync(dir + '-moved', dir);
    const second = await runImport(ctx, join(dir, '.', 'pose', '..'));
    expect(second.state).toBe('failed');
    expect(second.error).toContain(dir);
    expect(second.error).toMatch(/already imported as session #\d+/);
    expect(await rowCounts(ctx)).toEqual(before);
  });
});
