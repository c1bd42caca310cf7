import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestJsonSchema } from '../../main/capture/manifest';
import { planSession } from '../../main/capture/plan';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './fixtures';

const calibration = {
  width: 640,
  height: 480,
  K: [500, 0, 320, 0, 500, 240, 0, 0, 1],
  dist: [],
  R: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  t: [0, 0, 0],
};
const board = (name: string, firstMarkerId: number) => ({
  name,
  dictionary: 'DICT_4X4_250',
  squaresX: 4,
  squaresY: 3,
  squareLength: 0.3,
  markerLength: 0.22,
  legacyPattern: false,
  firstMarkerId,
  pose: { R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 2.6] },
});

function session(extra: Record<string, unknown>): string {
  const dir = tempDir('studio-manifest-');
  writeFileSync(
    join(dir, 'session.json'),
    JSON.stringify({ version: 1, cameras: [{ name: 'a', calibration }], ...extra }),
  );
  return dir;
}

describe('session.json', () => {
  afterAll(() => cleanupTempDirs());

  it('the committed JSON Schema is the one the importer validates with', () => {
    const committed = JSON.parse(
      readFileSync(join(REPO_ROOT, 'native', 'schemas', 'session.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(manifestJsonSchema())));
  });

  it('carries boards, subject and ground truth into the plan', () => {
    const dir = session({
      boards: [board('c1', 0), board('c2', 6)],
      subject: { name: 'S02', betas: [0, 0.1] },
    });
    writeFileSync(join(dir, 'gt.json'), '{}');
    writeFileSync(
      join(dir, 'session.json'),
      JSON.stringify({
        ...JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')),
        groundTruth: 'gt.json',
      }),
    );
    const plan = planSession(dir);
    expect(plan.meta?.boards).toHaveLength(2);
    expect(plan.meta?.subject).toEqual({ name: 'S02', betas: [0, 0.1] });
    expect(plan.meta?.groundTruth).toBe(join(plan.root, 'gt.json'));
  });

  it('rejects overlapping marker ids, duplicate boards, a bad dictionary and escaping paths, naming the file', () => {
    expect(() => planSession(session({ boards: [board('c1', 0), board('c2', 5)] }))).toThrow(
      /session\.json.*"c2" reuses marker ids of board "c1"/,
    );
    expect(() => planSession(session({ boards: [board('c1', 0), board('c1', 6)] }))).toThrow(
      /board name "c1" appears twice/,
    );
    expect(() => planSession(session({ boards: [{ ...board('c1', 0), dictionary: 'DICT_9X9' }] }))).toThrow(
      /session\.json.*boards\.0\.dictionary/,
    );
    expect(() => planSession(session({ groundTruth: '../../etc/passwd' }))).toThrow(
      /session\.json.*outside|escapes/,
    );
    expect(() => planSession(session({ groundTruth: 'missing.json' }))).toThrow(
      /session\.json \(groundTruth\): path "missing\.json" does not exist/,
    );
  });
});
