import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBodyModel } from '../../main/body/load-model';
import { convertCmuMocap } from '../../main/capture/cmu-dataset';
import { datasetSequences } from '../../main/motifs/sequences';
import { extractMotifs } from '../../main/motifs/extract';
import {
  DEMO_MOTIF_MODEL,
  installShippedMotifModel,
  listShippedMotifModels,
  RECIPE_FILE,
} from '../../main/motifs/shipped-models';
import { VOCABULARY_FILE } from '../../main/motifs/vocabulary';
import { openLibrary } from '../../main/store/library';
import { getMotifModel, listMotifModels } from '../../main/store/motif-models';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './fixtures';

afterAll(cleanupTempDirs);

const NATIVE = join(REPO_ROOT, 'native');
const MODEL_FILE = join(NATIVE, 'models', 'anny-cmu31.npz');
const SAMPLE_CMU = join(NATIVE, 'sample', 'cmu');

/** A CMU folder with subject 02's skeleton and one clip (02_02: ~3.5 s of walking). */
function cmuFolder(): string {
  const dir = join(tempDir(), '02');
  mkdirSync(dir, { recursive: true });
  for (const f of ['02.asf', '02_02.amc']) copyFileSync(join(SAMPLE_CMU, f), join(dir, f));
  return join(dir, '..');
}

describe('CMU motion as the body model joints (dataset import cmu)', () => {
  const model = loadBodyModel(MODEL_FILE);
  const conv = convertCmuMocap(cmuFolder(), model, 'anny-cmu31.npz', { fps: 30 });
  const seq = conv.dataset.sequences[0];
  const J = model.numJoints;

  it("has the model's joint names, one sequence per clip, the subject from its folder", () => {
    expect(conv.dataset.joints).toEqual(model.jointNames);
    expect(conv.dataset.parents).toEqual(Array.from(model.parents));
    expect([conv.clips, seq.name, seq.subject, conv.dataset.labels]).toEqual([1, '02_02', '02', []]);
    // 120 fps mocap every 4th frame.
    const amcFrames = readFileSync(join(SAMPLE_CMU, '02_02.amc'), 'utf8').match(/^\d+\s*$/gm)!.length;
    expect(seq.frames).toBe(Math.ceil(amcFrames / 4));
  });

  it('is a rigid skeleton standing on the floor (bone lengths constant, lowest joint near z = 0)', () => {
    let minZ = Infinity;
    for (let j = 1; j < J; j++) {
      const p = model.parents[j];
      const len = (t: number): number =>
        Math.hypot(
          ...[0, 1, 2].map((a) => seq.positions[(t * J + j) * 3 + a] - seq.positions[(t * J + p) * 3 + a]),
        );
      const l0 = len(0);
      for (let t = 1; t < seq.frames; t++) expect(Math.abs(len(t) - l0)).toBeLessThan(1e-3);
    }
    for (let t = 0; t < seq.frames; t++)
      for (let j = 0; j < J; j++) minZ = Math.min(minZ, seq.positions[(t * J + j) * 3 + 2]);
    // Joint centres sit a few centimetres above the soles.
    expect(minZ).toBeGreaterThan(0);
    expect(minZ).toBeLessThan(0.12);
  });

  it('refuses a frame rate that does not divide 120 and a folder without clips', () => {
    expect(() => convertCmuMocap(cmuFolder(), model, 'm', { fps: 7 })).toThrow(/fps 7 does not divide/);
    expect(() => convertCmuMocap(tempDir(), model, 'm')).toThrow(/no CMU \.amc clips/);
  });

  it('the shipped demo model extracts atoms and motifs covering the clip', async () => {
    const [s] = datasetSequences(conv.dataset);
    const r = await extractMotifs(join(NATIVE, 'models', DEMO_MOTIF_MODEL), s.sequence, {
      providers: ['cpu'],
    });
    expect(r.provider).toBe('cpu');
    expect(r.atoms.length).toBeGreaterThan(1);
    expect(r.motifs.length).toBeGreaterThan(0);
    expect(r.motifs.length).toBeLessThanOrEqual(r.atoms.length);
    expect([r.motifs[0].start, r.motifs.at(-1)!.end]).toEqual([0, seq.frames]);
    for (let i = 1; i < r.motifs.length; i++) expect(r.motifs[i].start).toBe(r.motifs[i - 1].end);
  });
});

describe('shipped motif models', () => {
  it('lists the demo model with its one-command recipe', () => {
    const demo = listShippedMotifModels(NATIVE).find((m) => m.name === DEMO_MOTIF_MODEL)!;
    expect(demo.recipe.command).toBe('npm run build:motif-model');
    expect(demo.recipe.data.kind).toBe('cmu-mocap');
    expect(demo.recipe.data.clips).toBeGreaterThan(20);
  });

  it('installs into the library once, as a ready model with identical files', async () => {
    const db = await openLibrary(tempDir());
    try {
      const first = await installShippedMotifModel(db, NATIVE, DEMO_MOTIF_MODEL);
      expect([first.installed, first.model.state, first.model.training.shipped]).toEqual([
        true,
        'ready',
        DEMO_MOTIF_MODEL,
      ]);
      expect(first.model.stepsDone).toBe(first.model.stepsTotal);
      const record = (await getMotifModel(db, first.model.id))!;
      for (const f of [VOCABULARY_FILE, RECIPE_FILE, 'stage1.onnx', 'stage2.onnx'])
        expect(readFileSync(join(record.dir, f))).toEqual(
          readFileSync(join(NATIVE, 'models', DEMO_MOTIF_MODEL, f)),
        );
      const second = await installShippedMotifModel(db, NATIVE, DEMO_MOTIF_MODEL);
      expect([second.installed, second.model.id]).toEqual([false, first.model.id]);
      expect(await listMotifModels(db)).toHaveLength(1);
    } finally {
      await db.close();
    }
  });

  it('refuses an unknown name and a damaged model, storing nothing', async () => {
    const native = tempDir();
    const broken = join(native, 'models', 'broken');
    mkdirSync(broken, { recursive: true });
    for (const f of [VOCABULARY_FILE, RECIPE_FILE, 'stage1.onnx', 'stage2.onnx'])
      copyFileSync(join(NATIVE, 'models', DEMO_MOTIF_MODEL, f), join(broken, f));
    writeFileSync(join(broken, VOCABULARY_FILE), '{"format": "a4mer-vocabulary/1", "input": ');
    const db = await openLibrary(tempDir());
    try {
      await expect(installShippedMotifModel(db, native, 'nope')).rejects.toThrow(
        /no shipped motif model of that name/,
      );
      await expect(installShippedMotifModel(db, native, 'broken')).rejects.toThrow(/vocabulary\.json/);
      expect(await listMotifModels(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
