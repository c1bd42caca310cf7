import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraCalibration, CameraRole } from '../../preload/api';
import { createWorkspace, evaluateBody } from '../../main/body/lbs';
import type { BodyModel } from '../../main/body/model';
import { FOOT_POSE_FIELDS, FOOT_POSE_TRACK, POSE_STATUS_CODES } from '../../main/calibration/localize-job';
import { fitConfig, fitLabel } from '../../main/fitting/config';
import { footPoseWeights, readFitInput } from '../../main/fitting/fit-job';
import {
  boardOuterCorners,
  computeFitFrame,
  computeFitScene,
  loadFitModel,
  OPEN_MODEL,
} from '../../main/fitting/fit-scene';
import type { FitResult } from '../../main/fitting/types';
import { projectPoint } from '../../main/geometry/camera';
import type { Db } from '../../main/store/db';
import {
  fitTrackKind,
  getFit,
  listFits,
  readFitPose,
  readFitPoses,
  readFitQuality,
  saveFit,
} from '../../main/store/fits';
import { openLibrary } from '../../main/store/library';
import { deleteSession } from '../../main/store/sessions';
import { writeTrack } from '../../main/store/tracks';
import { REPO_ROOT, cleanupTempDirs, insertSession, tempDir } from './fixtures';

const NATIVE = join(REPO_ROOT, 'native');
const FRAMES = 10;
const FIRST = 3;
const FIELDS = ['reprojRms:cam', 'maxPenetrationMm', 'flags'];

/** A room camera 4 m south of the origin at 1.5 m, looking north (+y), with real-lens distortion. */
const SOUTH: CameraCalibration = {
  width: 1088,
  height: 1920,
  K: [1600, 0, 540, 0, 1600, 960, 0, 0, 1],
  dist: [-0.05, 0.13, 0.001, 0.0005, 0],
  R: [1, 0, 0, 0, 0, -1, 0, 1, 0],
  t: [0, 1.5, 4],
};
/** The same place looking south, away from the body. */
const AWAY: CameraCalibration = { ...SOUTH, R: [-1, 0, 0, 0, 0, -1, 0, -1, 0], t: [0, 1.5, -4] };
const FOOT: CameraCalibration = { ...SOUTH, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };
/** A 6 x 4 board of 0.1 m squares lying on the floor at (1, 2), rotated 90 degrees about z. */
const FLOOR_BOARD = {
  name: 'floor',
  dictionary: 'DICT_4X4_50',
  squaresX: 6,
  squaresY: 4,
  squareLength: 0.1,
  markerLength: 0.07,
  legacyPattern: false,
  firstMarkerId: 0,
  pose: { R: [0, -1, 0, 1, 0, 0, 0, 0, 1], t: [1, 2, 0] },
};

interface CamSpec {
  name: string;
  role?: CameraRole;
  calibration?: CameraCalibration;
  keypoints?: { layout: string; joints: number; first: number; frames: number };
}

let db: Db;
let model: BodyModel;
let made = 0;

/** A ready session with cameras (and keypoint tracks of value 1000 f + 10 j + channel), straight in SQL. */
async function makeSession(cams: CamSpec[], meta: object = {}, frameCount = 12): Promise<number[]> {
  return db.transaction(async () => {
    const sessionId = await insertSession(db, { name: `s${++made}`, frames: frameCount, meta });
    const ids = [sessionId];
    for (const [i, c] of cams.entries()) {
      const { lastID } = await db.run(
        'INSERT INTO cameras (session_id, idx, name, role, calibration) VALUES (?, ?, ?, ?, ?)',
        [sessionId, i, c.name, c.role ?? 'room', JSON.stringify(c.calibration ?? SOUTH)],
      );
      ids.push(lastID);
      const k = c.keypoints;
      if (!k) continue;
      const data = new Float32Array(k.frames * k.joints * 3).map((_, n) => {
        const f = Math.floor(n / (k.joints * 3));
        return 1000 * f + 10 * Math.floor(n / 3 - f * k.joints) + (n % 3);
      });
      const names = Array.from({ length: k.joints }, (_, j) => `j${j}`);
      await writeTrack(
        db,
        {
          sessionId,
          cameraId: lastID,
          kind: 'keypoints2d',
          layout: k.layout,
          names,
          frameShape: [k.joints, 3],
          firstFrame: k.first,
        },
        data,
      );
    }
    return ids;
  });
}

/** A synthetic fit: small deterministic poses walking along x, a NaN in the quality. */
function syntheticResult(frames = FRAMES, ground = true): FitResult {
  const J = model.numJoints;
  const theta = new Float32Array(frames * J * 3).map((_, i) => 0.3 * Math.sin(0.7 * i));
  const transl = new Float32Array(frames * 3).map((_, i) => (i % 3 === 0 ? 0.1 * (i / 3) : 0.01 * (i % 3)));
  const quality = new Float32Array(frames * FIELDS.length).map((_, i) => i + 0.5);
  quality[4] = NaN;
  return {
    betas: Float64Array.from({ length: model.numBetas }, (_, b) => 0.1 * b),
    theta,
    transl,
    qualityFields: FIELDS,
    quality,
    mounts: [
      {
        camera: 'foot',
        joint: 'LeftFoot',
        R: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        offset: [0, 0.05, 0.02],
        frames: 7,
      },
    ],
    stats: { medianReprojectionPx: 3.25, maxPenetrationMm: 1.5, flaggedFrames: 2, framesPerSecond: 40 },
    config: fitConfig({ ground }),
  };
}

function meta(frames = FRAMES, result = syntheticResult(frames)) {
  return {
    bodyModel: OPEN_MODEL,
    jointNames: model.jointNames,
    firstFrame: FIRST,
    frameCount: frames,
    label: fitLabel(result.config),
  };
}

const count = async (sql: string, params: (string | number)[] = []) =>
  (await db.get<{ n: number }>(sql, params))!.n;

beforeAll(async () => {
  db = await openLibrary(tempDir());
  model = loadFitModel(join(NATIVE, OPEN_MODEL));
});
afterAll(async () => {
  await db.close();
  cleanupTempDirs();
});

describe('fit versions in the store', () => {
  it('stores a fit whole and reads poses and quality back by session frame', async () => {
    const [sessionId] = await makeSession([{ name: 'cam' }]);
    const result = syntheticResult();
    const fitId = await saveFit(db, sessionId, null, result, meta());
    const fit = (await getFit(db, fitId))!;
    expect(fit).toMatchObject({
      sessionId,
      label: 'ground + foot cameras',
      bodyModel: OPEN_MODEL,
      firstFrame: FIRST,
      frameCount: FRAMES,
      qualityFields: FIELDS,
      stats: { medianReprojectionPx: 3.25, flaggedFrames: 2, mounts: result.mounts },
    });
    expect(fit.betas).toEqual(Array.from(result.betas));
    expect(fit.config).toEqual(JSON.parse(JSON.stringify(result.config)));

    const J3 = model.numJoints * 3;
    const pose = (await readFitPose(db, fit, FIRST + 4))!;
    expect(Array.from(pose.theta)).toEqual(Array.from(result.theta.subarray(4 * J3, 5 * J3)));
    expect(Array.from(pose.transl)).toEqual(Array.from(result.transl.subarray(12, 15)));
    expect(await readFitPose(db, fit, FIRST - 1)).toBeUndefined();
    expect(await readFitPose(db, fit, FIRST + FRAMES)).toBeUndefined();
    // A range reaching before and after the fit is clipped to it.
    const all = await readFitPoses(db, fit, 0, 100);
    expect([all.start, all.count]).toEqual([FIRST, FRAMES]);
    expect(Array.from(all.transl)).toEqual(Array.from(result.transl));

    const q = await readFitQuality(db, fit, FIRST + 1, 2);
    expect(q).toEqual({ start: FIRST + 1, count: 2, fields: FIELDS, data: [3.5, null, 5.5, 6.5, 7.5, 8.5] });
    expect((await readFitQuality(db, fit, 0, FIRST + 1)).count).toBe(1);
  });

  it('lists versions newest first, and a deleted session takes its fits and their tracks along', async () => {
    const [sessionId] = await makeSession([{ name: 'cam' }]);
    const [other] = await makeSession([{ name: 'cam' }]);
    const first = await saveFit(db, sessionId, null, syntheticResult(), meta());
    const second = await saveFit(db, sessionId, null, syntheticResult(FRAMES, false), {
      ...meta(),
      label: fitLabel(fitConfig({ ground: false })),
    });
    const kept = await saveFit(db, other, null, syntheticResult(), meta());
    const list = await listFits(db, sessionId);
    expect(list.map((f) => f.id)).toEqual([second, first]);
    expect(list.map((f) => f.label)).toEqual(['no ground + foot cameras', 'ground + foot cameras']);

    const tracksOf = (id: number) =>
      count('SELECT COUNT(*) AS n FROM tracks WHERE kind IN (?, ?, ?)', [
        fitTrackKind(id, 'theta'),
        fitTrackKind(id, 'transl'),
        fitTrackKind(id, 'quality'),
      ]);
    expect(await tracksOf(first)).toBe(3);
    // Deleting one fit row removes its tracks (trigger) and nothing of the other fits.
    await db.run('DELETE FROM fits WHERE id = ?', [first]);
    expect(await tracksOf(first)).toBe(0);
    expect(await tracksOf(second)).toBe(3);

    const chunksBefore = await count('SELECT COUNT(*) AS n FROM chunks');
    expect(await deleteSession(db, sessionId)).toBe(true);
    expect(await count('SELECT COUNT(*) AS n FROM fits WHERE session_id = ?', [sessionId])).toBe(0);
    expect(await tracksOf(second)).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM chunks')).toBe(chunksBefore - 3);
    expect(await getFit(db, kept)).toBeDefined();
    expect(await tracksOf(kept)).toBe(3);
  });

  it('stores nothing of a fit whose arrays do not match its frames', async () => {
    const [sessionId] = await makeSession([{ name: 'cam' }]);
    const fitsBefore = await count('SELECT COUNT(*) AS n FROM fits');
    const tracksBefore = await count('SELECT COUNT(*) AS n FROM tracks');
    const bad = syntheticResult();
    // theta and transl are fine and get written; the quality then fails the frame count.
    bad.quality = bad.quality.subarray(0, (FRAMES - 1) * FIELDS.length);
    await expect(saveFit(db, sessionId, null, bad, meta())).rejects.toThrow(
      `fit of session #${sessionId}: quality has 27 values, expected 10 frames x 3 = 30`,
    );
    expect(await count('SELECT COUNT(*) AS n FROM fits')).toBe(fitsBefore);
    expect(await count('SELECT COUNT(*) AS n FROM tracks')).toBe(tracksBefore);
    expect(await listFits(db, sessionId)).toEqual([]);
  });
});

describe('fit review', () => {
  const decode = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };

  it('poses the stored fit at a frame and projects it with the camera distortion', async () => {
    const [sessionId, camId, awayId] = await makeSession([
      { name: 'cam', calibration: SOUTH },
      { name: 'away', calibration: AWAY },
    ]);
    const result = syntheticResult();
    const fit = (await getFit(db, await saveFit(db, sessionId, null, result, meta())))!;
    const frame = FIRST + 2;
    const out = await computeFitFrame(db, NATIVE, fit, frame, {
      id: camId,
      role: 'room',
      calibration: SOUTH,
    });
    const J3 = model.numJoints * 3;
    const expected = new Float32Array(model.numVertices * 3);
    const ws = createWorkspace(model);
    evaluateBody(
      model,
      ws,
      {
        betas: result.betas,
        theta: result.theta.subarray(2 * J3, 3 * J3),
        transl: result.transl.subarray(6, 9),
      },
      expected,
    );
    const vertices = decode(out.vertices);
    const joints = decode(out.joints);
    expect(Array.from(vertices)).toEqual(Array.from(expected));
    expect(Array.from(joints)).toEqual(Array.from(Float32Array.from(ws.joints)));
    expect(out.quality).toEqual([6.5, 7.5, 8.5]);

    const projected = decode(out.projected!.joints);
    expect(projected.length).toBe(model.numJoints * 2);
    const px = new Float64Array(2);
    for (let j = 0; j < model.numJoints; j++) {
      projectPoint(SOUTH, joints.subarray(j * 3, j * 3 + 3), px);
      expect(projected[j * 2]).toBeCloseTo(px[0], 2);
      expect(projected[j * 2 + 1]).toBeCloseTo(px[1], 2);
      expect(px[0]).toBeGreaterThan(0);
      expect(px[0]).toBeLessThan(SOUTH.width);
    }
    expect(decode(out.projected!.vertices).length).toBe(model.numVertices * 2);
    // Everything is behind the camera that looks away.
    const away = await computeFitFrame(db, NATIVE, fit, frame, {
      id: awayId,
      role: 'room',
      calibration: AWAY,
    });
    expect(decode(away.projected!.joints).every(Number.isNaN)).toBe(true);
  });

  it("describes the scene: topology, cameras, boards' outer corners and a floor around them", async () => {
    const [sessionId] = await makeSession(
      [{ name: 'cam' }, { name: 'foot', role: 'foot-left', calibration: FOOT }],
      { boards: [FLOOR_BOARD] },
    );
    const fit = (await getFit(db, await saveFit(db, sessionId, null, syntheticResult(), meta())))!;
    const scene = (await computeFitScene(db, NATIVE, fit))!;
    const faces = Buffer.from(scene.faces, 'base64');
    expect(faces.byteLength).toBe(model.faces.byteLength);
    expect(new Uint32Array(faces.buffer, faces.byteOffset, faces.byteLength / 4)).toEqual(model.faces);
    expect(scene.parents).toEqual(Array.from(model.parents));
    expect(scene.jointNames).toEqual(model.jointNames);
    expect(scene.cameras.map((c) => [c.name, c.role])).toEqual([
      ['cam', 'room'],
      ['foot', 'foot-left'],
    ]);
    // Board x (0.6 m) runs along world +y, board y (0.4 m) along world -x.
    expect(scene.boards).toEqual([{ name: 'floor', corners: boardOuterCorners(FLOOR_BOARD) }]);
    expect(scene.boards[0].corners.map((v) => Number(v.toFixed(9)))).toEqual([
      1, 2, 0, 1, 2.6, 0, 0.6, 2.6, 0, 0.6, 2, 0,
    ]);
    // Camera at y = -4, board up to y = 2.6, path x up to 0.9; 0.5 m margin.
    const [x0, y0, x1, y1] = scene.floor;
    expect(y0).toBeCloseTo(-4.5, 6);
    expect(y1).toBeCloseTo(3.1, 6);
    expect(x0).toBeCloseTo(-0.5, 6);
    expect(x1).toBeCloseTo(1.5, 6);
  });
});

describe('fit input', () => {
  const FOOT_ROWS: [keyof typeof POSE_STATUS_CODES, number][] = [
    ['ok', 2],
    ['interpolated', NaN],
    ['ok', 4],
    ['ambiguous', 3],
    ['none', NaN],
    ['ok', 0],
  ];
  const footTrack = () => {
    const n = FOOT_POSE_FIELDS.length;
    const rows = new Float32Array(FOOT_ROWS.length * n).fill(NaN);
    FOOT_ROWS.forEach(([status, rms], i) => {
      if (status !== 'none') rows.set([1, 0, 0, 0, 1, 0, 0, 0, 1, i, 0, 1], i * n);
      rows[i * n + 12] = rms;
      rows[i * n + 14] = POSE_STATUS_CODES[status];
    });
    return rows;
  };
  // ok: 1 / (1 + (rms / 2)^2); interpolated: a quarter of that with the larger rms around it (4 px).
  const WEIGHTS = [0.5, 0.25 / 5, 0.2, 0, 0, 1];

  it('weights foot poses by PnP quality and leaves NaN poses where the weight is 0', () => {
    const { poses, weights } = footPoseWeights(footTrack());
    expect(Array.from(weights).map((w) => Number(w.toFixed(6)))).toEqual(WEIGHTS);
    for (const [i, w] of WEIGHTS.entries()) {
      const pose = Array.from(poses.subarray(i * 12, i * 12 + 12));
      if (w === 0) expect(pose.every(Number.isNaN)).toBe(true);
      else expect(pose).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, i, 0, 1]);
    }
  });

  it('reads keypoints by session frame, the subject and the localised foot cameras', async () => {
    const kp = { layout: 'BODY_25', joints: 25, first: 2, frames: 8 };
    const [sessionId, , , footId] = await makeSession(
      [
        { name: 'a', keypoints: kp },
        { name: 'b', keypoints: kp },
        { name: 'foot', role: 'foot-left', calibration: FOOT },
        { name: 'right', role: 'foot-right', calibration: FOOT },
      ],
      {
        subject: { bodyModel: 'anny-cmu31', betas: Array.from({ length: model.numBetas }, (_, b) => b / 10) },
      },
    );
    await db.transaction(() =>
      writeTrack(
        db,
        {
          sessionId,
          cameraId: footId,
          kind: FOOT_POSE_TRACK,
          layout: 'foot-pose-v1',
          names: FOOT_POSE_FIELDS,
          frameShape: [FOOT_POSE_FIELDS.length],
        },
        footTrack(),
      ),
    );
    const dflt = await readFitInput(db, { sessionId }, NATIVE);
    expect([dflt.input.firstFrame, dflt.input.frameCount, dflt.input.fps]).toEqual([2, 8, 30]);
    expect(dflt.bodyModel).toBe(OPEN_MODEL);
    expect(Array.from(dflt.input.betas!)).toEqual(Array.from({ length: model.numBetas }, (_, b) => b / 10));

    const { input, notes } = await readFitInput(db, { sessionId, start: 0, count: 6 }, NATIVE);
    expect(input.views.map((v) => [v.name, v.layout])).toEqual([
      ['a', 'BODY_25'],
      ['b', 'BODY_25'],
    ]);
    // Session frames 0 and 1 precede the keypoints; frame 2 is the track's first (value 1000 f + 10 j + c).
    const k = input.views[0].keypoints;
    expect(k.length).toBe(6 * 25 * 3);
    expect(k.subarray(0, 2 * 75).every(Number.isNaN)).toBe(true);
    expect(Array.from(k.subarray(2 * 75 + 3 * 7, 2 * 75 + 3 * 8))).toEqual([70, 71, 72]);
    expect(k[3 * 75]).toBe(1000);
    expect(input.footCameras.map((c) => [c.name, c.role])).toEqual([['foot', 'foot-left']]);
    expect(Array.from(input.footCameras[0].weights).map((w) => Number(w.toFixed(6)))).toEqual(WEIGHTS);
    expect(notes).toEqual(['foot camera right is not localised; fitted without it']);
    expect((await readFitInput(db, { sessionId, footCameras: false }, NATIVE)).input.footCameras).toEqual([]);
  });

  it('refuses bad input with the session and the problem', async () => {
    await expect(readFitInput(db, { sessionId: 999 }, NATIVE)).rejects.toThrow('session #999 does not exist');
    const [bare] = await makeSession([{ name: 'cam' }]);
    await expect(readFitInput(db, { sessionId: bare }, NATIVE)).rejects.toThrow(
      `session #${bare} (s${made}) has no room camera with 2D keypoints`,
    );
    const [mixed] = await makeSession([
      { name: 'a', keypoints: { layout: 'BODY_25', joints: 25, first: 0, frames: 4 } },
      { name: 'b', keypoints: { layout: 'COCO', joints: 18, first: 0, frames: 4 } },
    ]);
    await expect(readFitInput(db, { sessionId: mixed }, NATIVE)).rejects.toThrow(
      /room cameras have different keypoint layouts \(a BODY_25, b COCO\)/,
    );
    const kp = { layout: 'BODY_25', joints: 25, first: 0, frames: 4 };
    const [ok] = await makeSession([{ name: 'a', keypoints: kp }], {
      subject: { bodyModel: 'no-such-model' },
    });
    await expect(readFitInput(db, { sessionId: ok, start: 10, count: 5 }, NATIVE)).rejects.toThrow(
      `session #${ok} (s${made}): frames [10, 15) are outside the session's frames [0, 12)`,
    );
    await expect(readFitInput(db, { sessionId: ok }, NATIVE)).rejects.toThrow(
      /its subject's body model "no-such-model" is not in/,
    );
  });
});
