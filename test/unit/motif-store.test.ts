import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { MotifSegment } from '../../preload/api';
import type { Db } from '../../main/store/db';
import { openLibrary } from '../../main/store/library';
import {
  appendTrainingLog,
  createMotifModel,
  dataDirOf,
  deleteMotifModel,
  findMotifModelByJob,
  getMotifModel,
  listMotifModels,
  readTrainingCurve,
  updateMotifModel,
} from '../../main/store/motif-models';
import { familyOccurrences, readMotifProposals, saveMotifProposals } from '../../main/store/motif-proposals';
import { deleteSession } from '../../main/store/sessions';
import { cleanupTempDirs, insertSession, tempDir } from './fixtures';

let db: Db;
let dataDir: string;

beforeEach(async () => {
  if (db) await db.close();
  dataDir = tempDir('studio-motifs-');
  db = await openLibrary(dataDir);
});
afterAll(async () => {
  await db.close();
  cleanupTempDirs();
});

const makeSession = (name: string, frames = 300): Promise<number> => insertSession(db, { name, frames });

const count = async (sql: string, params: (string | number)[] = []) =>
  (await db.get<{ n: number }>(sql, params))!.n;

const newModel = (name = 'small', stepsTotal = 100) =>
  createMotifModel(db, {
    name,
    config: { atoms: { minLength: 2 }, kMeans: 64 },
    training: { sessions: [1] },
    stepsTotal,
  });

/** Atoms tiling [0, 10 n) in pieces of 10, and motifs of two atoms each with families 0, 1, 0, 1, ... */
function track(n: number, shift = 0): { atoms: MotifSegment[]; motifs: MotifSegment[] } {
  const atoms = Array.from({ length: n }, (_, i) => ({
    start: 10 * i,
    end: 10 * i + 10,
    code: (i + shift) % 7,
  }));
  const motifs = Array.from({ length: n / 2 }, (_, i) => ({
    start: 20 * i,
    end: 20 * i + 20,
    pattern: i % 3 === 2 ? -1 : i % 3,
    family: i % 2,
  }));
  return { atoms, motifs };
}

describe('motif model registry', () => {
  it('creates a model with its folder under the data dir, kept relative in the library', async () => {
    const a = await newModel('first', 500);
    expect(a.dir).toBe(join(dataDir, 'models', `a4mer-${a.id}`));
    expect(existsSync(a.dir)).toBe(true);
    expect(dataDirOf(db)).toBe(dataDir);
    const raw = await db.get<{ dir: string }>('SELECT dir FROM motif_models WHERE id = ?', [a.id]);
    expect(raw!.dir).toBe(`models/a4mer-${a.id}`);

    const m = (await getMotifModel(db, a.id))!;
    expect(m).toMatchObject({
      id: a.id,
      name: 'first',
      state: 'training',
      config: { atoms: { minLength: 2 }, kMeans: 64 },
      training: { sessions: [1] },
      metrics: {},
      stepsDone: 0,
      stepsTotal: 500,
      dir: a.dir,
      jobId: null,
    });
    expect(Date.parse(m.createdAt)).toBeGreaterThan(0);

    // Moving the whole data dir keeps the registry valid: the folder is found in the new place.
    writeFileSync(join(a.dir, 'stage1.onnx'), 'onnx bytes');
    await db.close();
    const moved = join(tempDir('studio-moved-'), 'data');
    renameSync(dataDir, moved);
    db = await openLibrary(moved);
    const again = (await getMotifModel(db, a.id))!;
    expect(again.dir).toBe(join(moved, 'models', `a4mer-${a.id}`));
    expect(readdirSync(again.dir)).toEqual(['stage1.onnx']);
  });

  it('updates state, progress and metrics (merged), lists newest first, and refuses bad updates', async () => {
    const a = await newModel('a');
    const b = await createMotifModel(db, {
      name: 'b',
      config: {},
      training: {},
      stepsTotal: 10,
      jobId: null,
    });
    expect(b.id).toBeGreaterThan(a.id);
    await updateMotifModel(db, a.id, { stepsDone: 40, metrics: { loss: 0.5, local: 0.4 } });
    const done = await updateMotifModel(db, a.id, {
      state: 'ready',
      stepsDone: 100,
      metrics: { loss: 0.2, knnTop1: 0.7 },
    });
    expect(done).toMatchObject({
      state: 'ready',
      stepsDone: 100,
      metrics: { loss: 0.2, local: 0.4, knnTop1: 0.7 },
    });
    expect((await listMotifModels(db)).map((m) => [m.name, m.state])).toEqual([
      ['b', 'training'],
      ['a', 'ready'],
    ]);
    expect((await updateMotifModel(db, b.id, { stepsTotal: 20 })).stepsTotal).toBe(20);

    await expect(updateMotifModel(db, 999, { stepsDone: 1 })).rejects.toThrow(
      'motif model #999 does not exist',
    );
    await expect(updateMotifModel(db, a.id, { stepsDone: -1 })).rejects.toThrow(
      `motif model #${a.id}: stepsDone -1 is not an integer >= 0`,
    );
    await expect(updateMotifModel(db, a.id, { state: 'done' as never })).rejects.toThrow(
      /state "done" is not one of/,
    );
    await expect(newModel('', 1)).rejects.toThrow('the name is empty');
    await expect(newModel('x', 1.5)).rejects.toThrow('stepsTotal 1.5 is not an integer >= 0');
    expect(await count('SELECT COUNT(*) AS n FROM motif_models')).toBe(2);
  });

  it('finds the model a training job made', async () => {
    const { lastID: jobId } = await db.run(
      `INSERT INTO jobs (kind, state, params, created_at, updated_at) VALUES ('fit', 'running', '{}', 'now', 'now')`,
    );
    const made = await createMotifModel(db, { name: 'job', config: {}, training: {}, stepsTotal: 1, jobId });
    expect((await findMotifModelByJob(db, jobId))!.id).toBe(made.id);
    expect(await findMotifModelByJob(db, jobId + 1)).toBeUndefined();
  });

  it('logs the training curve: steps in order, re-logged steps replaced, missing columns NaN', async () => {
    const { id } = await newModel();
    await appendTrainingLog(db, id, [
      { step: 0, values: { loss: 2, local: 1.5 } },
      { step: 10, values: { loss: 1.5, local: 1.1 } },
      { step: 20, values: { loss: 1.2, local: 0.9 } },
    ]);
    // A resumed run re-logs step 20 and adds an evaluation column at step 30; a diverged NaN is kept.
    await appendTrainingLog(db, id, [
      { step: 20, values: { loss: 1.25, local: 0.95 } },
      { step: 30, values: { loss: NaN, local: 0.8, knnTop1: 0.6 } },
    ]);
    const curve = (await readTrainingCurve(db, id))!;
    expect(curve.modelId).toBe(id);
    expect(curve.steps).toEqual([0, 10, 20, 30]);
    expect(curve.series.loss).toEqual([2, 1.5, 1.25, NaN]);
    expect(curve.series.local).toEqual([1.5, 1.1, 0.95, 0.8]);
    expect(curve.series.knnTop1).toEqual([NaN, NaN, NaN, 0.6]);
    expect(Object.keys(curve.series)).toEqual(['loss', 'local', 'knnTop1']);

    expect(await readTrainingCurve(db, 999)).toBeUndefined();
    const empty = await newModel('empty');
    expect(await readTrainingCurve(db, empty.id)).toEqual({ modelId: empty.id, steps: [], series: {} });
    await expect(appendTrainingLog(db, 999, [{ step: 0, values: { loss: 1 } }])).rejects.toThrow(
      'training log of motif model #999: no such model',
    );
    await expect(
      appendTrainingLog(db, id, [
        { step: 40, values: { loss: 1 } },
        { step: 50, values: { loss: '1' as never } },
      ]),
    ).rejects.toThrow(`training log of motif model #${id}: rows[1].values.loss is not a number`);
    expect((await readTrainingCurve(db, id))!.steps).toEqual([0, 10, 20, 30]);
  });
});

describe('motif proposals', () => {
  it('round-trips atoms and motifs; the newest save wins, a model replaces only its own set', async () => {
    const s = await makeSession('walk');
    const a = await newModel('a');
    const b = await newModel('b');
    expect(await readMotifProposals(db, s)).toBeUndefined();

    const first = track(8);
    await saveMotifProposals(db, { sessionId: s, modelId: a.id, provider: 'cpu', ...first });
    const read = (await readMotifProposals(db, s))!;
    expect(read).toMatchObject({ sessionId: s, modelId: a.id, provider: 'cpu', ...first });
    expect(Date.parse(read.createdAt)).toBeGreaterThan(0);

    const fromB = track(4, 3);
    await saveMotifProposals(db, { sessionId: s, modelId: b.id, provider: 'cuda', ...fromB });
    expect((await readMotifProposals(db, s))!).toMatchObject({ modelId: b.id, provider: 'cuda', ...fromB });
    // Model a's set is kept and still readable by naming the model.
    expect((await readMotifProposals(db, s, a.id))!.atoms).toEqual(first.atoms);

    // Saving from a again replaces a's set and makes it the newest.
    const second = track(6, 1);
    await saveMotifProposals(db, { sessionId: s, modelId: a.id, provider: 'webgpu', ...second });
    expect((await readMotifProposals(db, s))!).toMatchObject({
      modelId: a.id,
      provider: 'webgpu',
      ...second,
    });
    expect(await count('SELECT COUNT(*) AS n FROM motif_proposals WHERE session_id = ?', [s])).toBe(2);
    expect(
      await count('SELECT COUNT(*) AS n FROM motif_segments WHERE session_id = ? AND model_id = ?', [
        s,
        a.id,
      ]),
    ).toBe(6 + 3);
    expect(await readMotifProposals(db, s, 999)).toBeUndefined();
  });

  it('stores nothing from a failing save, and says which segment is wrong', async () => {
    const s = await makeSession('walk', 100);
    const { id } = await newModel();
    const good = track(4);
    await saveMotifProposals(db, { sessionId: s, modelId: id, provider: 'cpu', ...good });

    const save = (atoms: MotifSegment[], motifs: MotifSegment[], sessionId = s, modelId = id) =>
      saveMotifProposals(db, { sessionId, modelId, provider: 'cpu', atoms, motifs });
    const where = `motif proposals of session #${s} from model #${id}`;
    const bad = track(4);
    bad.motifs[1] = { start: 20, end: 20, pattern: 0, family: 1 };
    await expect(save(bad.atoms, bad.motifs)).rejects.toThrow(`${where}: motifs[1] has end 20 <= start 20`);
    const nan = track(4);
    nan.atoms[2] = { start: NaN, end: 30, code: 1 };
    await expect(save(nan.atoms, nan.motifs)).rejects.toThrow(
      `${where}: atoms[2] has start NaN, not a frame index`,
    );
    const overlap = track(4);
    overlap.atoms[3] = { start: 25, end: 40, code: 0 };
    await expect(save(overlap.atoms, overlap.motifs)).rejects.toThrow(
      `${where}: atoms[3] starts at 25, before the previous one ends (30)`,
    );
    await expect(save([{ start: 90, end: 101, code: 0 }], [])).rejects.toThrow(
      `${where}: atoms[0] ends at 101, past the session's 100 frames`,
    );
    await expect(save([{ start: 0, end: 5 }], [])).rejects.toThrow(`${where}: atoms[0] has code undefined`);
    await expect(save([], [{ start: 0, end: 5, pattern: -2, family: 0 }])).rejects.toThrow(
      `${where}: motifs[0] has pattern -2, not an integer >= -1`,
    );
    await expect(save([], [{ start: 0, end: 5, pattern: 1 }])).rejects.toThrow(
      `${where}: motifs[0] has family undefined`,
    );
    await expect(save([], [], 999)).rejects.toThrow('session #999 does not exist');
    await expect(save([], [], s, 999)).rejects.toThrow('model #999 does not exist');

    // The earlier set is untouched: not removed by the failed replacements, nothing half-written.
    expect((await readMotifProposals(db, s))!).toMatchObject({ modelId: id, ...good });
    expect(await count('SELECT COUNT(*) AS n FROM motif_segments')).toBe(4 + 2);
  });

  it('lists every occurrence of a family across sessions, with session names', async () => {
    const s1 = await makeSession('walk');
    const s2 = await makeSession('jump');
    const a = await newModel('a');
    const b = await newModel('b');
    await saveMotifProposals(db, { sessionId: s1, modelId: a.id, provider: 'cpu', ...track(8) });
    await saveMotifProposals(db, { sessionId: s2, modelId: a.id, provider: 'cpu', ...track(4) });
    // Another model's family 1 is another family.
    await saveMotifProposals(db, { sessionId: s2, modelId: b.id, provider: 'cpu', ...track(10) });
    expect(await familyOccurrences(db, a.id, 1)).toEqual([
      { sessionId: s1, sessionName: 'walk', start: 20, end: 40 },
      { sessionId: s1, sessionName: 'walk', start: 60, end: 80 },
      { sessionId: s2, sessionName: 'jump', start: 20, end: 40 },
    ]);
    expect(await familyOccurrences(db, a.id, 0)).toHaveLength(2 + 1);
    expect(await familyOccurrences(db, b.id, 1)).toHaveLength(2);
    expect(await familyOccurrences(db, a.id, 7)).toEqual([]);
    // Only motifs (20 frames here) are family hits, never atoms (10 frames).
    expect((await familyOccurrences(db, b.id, 0)).every((o) => o.end - o.start === 20)).toBe(true);
  });

  it('deleting a session removes its proposals; deleting a model removes its rows, files and proposals', async () => {
    const s1 = await makeSession('walk');
    const s2 = await makeSession('jump');
    const a = await newModel('a');
    const b = await newModel('b');
    writeFileSync(join(a.dir, 'checkpoint-100.bin'), new Uint8Array(16));
    await appendTrainingLog(db, a.id, [{ step: 0, values: { loss: 1 } }]);
    for (const sessionId of [s1, s2])
      for (const m of [a, b])
        await saveMotifProposals(db, { sessionId, modelId: m.id, provider: 'cpu', ...track(4) });

    expect(await deleteSession(db, s1)).toBe(true);
    expect(await readMotifProposals(db, s1)).toBeUndefined();
    expect(await count('SELECT COUNT(*) AS n FROM motif_proposals WHERE session_id = ?', [s1])).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM motif_segments WHERE session_id = ?', [s1])).toBe(0);
    expect(await familyOccurrences(db, a.id, 1)).toEqual([
      { sessionId: s2, sessionName: 'jump', start: 20, end: 40 },
    ]);

    expect(await deleteMotifModel(db, b.id)).toBe(true);
    expect(existsSync(b.dir)).toBe(false);
    expect(await getMotifModel(db, b.id)).toBeUndefined();
    // s2's newest set was b's; now a's is what is left.
    expect((await readMotifProposals(db, s2))!.modelId).toBe(a.id);
    expect(await count('SELECT COUNT(*) AS n FROM motif_segments WHERE model_id = ?', [b.id])).toBe(0);

    expect(await deleteMotifModel(db, a.id)).toBe(true);
    expect(existsSync(a.dir)).toBe(false);
    expect(await readMotifProposals(db, s2)).toBeUndefined();
    for (const table of ['motif_models', 'motif_training_log', 'motif_proposals', 'motif_segments'])
      expect(await count(`SELECT COUNT(*) AS n FROM ${table}`), table).toBe(0);
    expect(await deleteMotifModel(db, a.id)).toBe(false);
    // Ids are never reused, so a new model never meets an old folder or stale references.
    expect((await newModel('c')).id).toBe(b.id + 1);
  });

  it('saves and reads an hour of proposals quickly', async () => {
    const frames = 30 * 3600;
    const s = await makeSession('hour', frames);
    const { id } = await newModel();
    const atoms = Array.from({ length: frames / 15 }, (_, i) => ({
      start: 15 * i,
      end: 15 * i + 15,
      code: i % 512,
    }));
    const motifs = Array.from({ length: frames / 45 }, (_, i) => ({
      start: 45 * i,
      end: 45 * i + 45,
      pattern: i % 100,
      family: i % 20,
    }));
    const t0 = performance.now();
    await saveMotifProposals(db, { sessionId: s, modelId: id, provider: 'cpu', atoms, motifs });
    const t1 = performance.now();
    const read = (await readMotifProposals(db, s))!;
    const t2 = performance.now();
    const family = await familyOccurrences(db, id, 3);
    const t3 = performance.now();
    console.log(
      `hour of proposals (${atoms.length} atoms, ${motifs.length} motifs): save ${(t1 - t0).toFixed(0)} ms, ` +
        `read ${(t2 - t1).toFixed(0)} ms, family ${(t3 - t2).toFixed(1)} ms`,
    );
    expect(read.atoms).toHaveLength(atoms.length);
    expect(read.motifs[100]).toEqual(motifs[100]);
    expect(family).toHaveLength(motifs.length / 20);
    expect(t1 - t0).toBeLessThan(3000);
  });
});
