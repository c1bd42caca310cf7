import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../main/capture/errors';
import { OPEN_MODEL } from '../../main/fitting/fit-scene';
import {
  preflightExport,
  runExport,
  type ExportRequest,
  type ExportResult,
} from '../../main/export/run-export';
import { assignSplits, parseSplitRatios, parseSplitSubjects, splitCounts } from '../../main/export/splits';
import { clearFitPick, markBadRange, pickFit } from '../../main/store/fit-corrections';
import { saveFit } from '../../main/store/fits';
import type { JobInfo } from '../../preload/api';
import {
  buildExportLibrary,
  type ExportLibrary,
  listFiles,
  NATIVE,
  sha256File,
  syntheticFit,
} from './export-fixtures';
import { REPO_ROOT, cleanupTempDirs, insertSession, tempDir } from './fixtures';

let lib: ExportLibrary;

beforeAll(async () => {
  lib = await buildExportLibrary();
});
afterAll(async () => {
  await lib.ctx.close();
  cleanupTempDirs();
});

const freshOut = () => join(tempDir('studio-export-'), 'dataset');
const exportWith = (req: Omit<ExportRequest, 'out'> & { out?: string }, signal?: AbortSignal) =>
  runExport(lib.ctx.db, { out: freshOut(), ...req }, { nativeDir: NATIVE, signal });

/** Nothing at `out` and no partial or set-aside folder beside it. */
function expectNothingLeft(out: string): void {
  expect(existsSync(out)).toBe(false);
  const parent = dirname(out);
  if (existsSync(parent) && statSync(parent).isDirectory())
    expect(readdirSync(parent).filter((n) => n.includes('.partial-') || n.includes('.old-'))).toEqual([]);
}

/** Key-sorted JSON built independently of the exporter's canonicalJson. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

describe('splits by subject', () => {
  const subjects = ['e', 'a', 'd', 'c', 'b', 'f', 'g', 'h', 'i', 'j'];

  it('cuts subjects in name order by largest remainders, or shuffled by a seed, the same every time', () => {
    expect(splitCounts(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(splitCounts(3, [0.8, 0.1, 0.1])).toEqual([3, 0, 0]);
    expect(splitCounts(5, [1, 1, 1])).toEqual([2, 2, 1]);
    const byName = assignSplits(subjects, parseSplitRatios('train=0.8,val=0.1,test=0.1'));
    expect([...byName].filter(([, s]) => s !== 'train').sort()).toEqual([
      ['i', 'val'],
      ['j', 'test'],
    ]);
    const seeded = assignSplits(subjects, parseSplitRatios('train=8,val=1,test=1', 7));
    expect(assignSplits([...subjects].reverse(), parseSplitRatios('train=8,val=1,test=1', 7))).toEqual(
      seeded,
    );
    expect([...seeded.values()].filter((s) => s === 'train')).toHaveLength(8);
    expect(assignSplits(subjects, parseSplitRatios('train=8,val=1,test=1', 8))).not.toEqual(seeded);
  });

  it('takes explicit lists and refuses bad specs with the reason', () => {
    const lists = parseSplitSubjects('train:a,b,c,d,e,f,g,h; test:i,j');
    expect(assignSplits(subjects, lists).get('j')).toBe('test');
    expect(() => assignSplits([...subjects, 'k', 'l'], lists)).toThrow(
      '--split-subjects: subject(s) "k", "l" are in no split (splits: train, test)',
    );
    expect(() => parseSplitSubjects('train:a;test:a')).toThrow('subject "a" is in "train" and in "test"');
    expect(() => parseSplitRatios('train=0.8,train=0.2')).toThrow('split "train" is given twice');
    expect(() => parseSplitRatios('train=0.8,val')).toThrow('"val" is not name=ratio');
    expect(() => parseSplitRatios('a/b=1')).toThrow('split name "a/b" is not letters, digits, _ or -');
  });
});

describe('an export', () => {
  let first: ExportResult;
  let second: ExportResult;
  const epoch = '1700000000';

  beforeAll(async () => {
    const req = {
      sessionIds: [lib.bob, lib.alice],
      formats: 'all',
      split: parseSplitSubjects('train:balance-alice;test:bob'),
    };
    process.env.SOURCE_DATE_EPOCH = epoch;
    try {
      first = await exportWith(req);
      second = await exportWith({ ...req, sessionIds: [lib.alice, lib.bob] });
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
  });

  it('writes every format into split folders and a manifest whose checksums match the files', () => {
    const files = listFiles(first.out);
    expect(files).toEqual([
      'manifest.json',
      'test/annotations.csv',
      'test/babel.json',
      'test/balance-bob/balance-bob.bvh',
      'test/balance-bob/balance-bob.glb',
      'test/balance-bob/balance-bob_joints.npy',
      'test/balance-bob/balance-bob_poses.npz',
      'train/annotations.csv',
      'train/babel.json',
      'train/balance-alice/balance-alice.bvh',
      'train/balance-alice/balance-alice.glb',
      'train/balance-alice/balance-alice_joints.npy',
      'train/balance-alice/balance-alice_poses.npz',
      ...['cam01', 'cam02', 'cam03', 'cam04'].map((c) => `train/balance-alice/coco/${c}.json`),
    ]);
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(
      files.filter((f) => f !== 'manifest.json'),
    );
    for (const f of manifest.files) {
      expect(statSync(join(first.out, f.path)).size).toBe(f.bytes);
      expect(sha256File(join(first.out, f.path))).toBe(f.sha256);
    }
    expect(first.files).toEqual(manifest.files);
  });

  it('records the provenance: app version, fits and config hashes, motif models, subjects and splits', () => {
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8'));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(manifest.app).toEqual({ name: 'motion-studio', version: pkg.version });
    expect(manifest.exportedAt).toBe('2023-11-14T22:13:20.000Z');
    expect(manifest.split).toEqual({
      rule: 'subjects',
      lists: [
        { name: 'train', subjects: ['balance-alice'] },
        { name: 'test', subjects: ['bob'] },
      ],
      splits: {
        train: { subjects: ['balance-alice'], sequences: ['balance-alice'] },
        test: { subjects: ['bob'], sequences: ['balance-bob'] },
      },
    });
    const [alice, bob] = manifest.sessions;
    const config = lib.fits.alice.result.config;
    expect(alice).toMatchObject({
      sessionId: lib.alice,
      sequence: 'balance-alice',
      subject: 'balance-alice',
      split: 'train',
      fps: 60,
      firstFrame: 5,
      frameCount: 24,
      fit: {
        id: lib.fits.alice.id,
        bodyModel: OPEN_MODEL,
        configHash: createHash('sha256').update(sortedJson(config)).digest('hex'),
      },
      motifModels: [{ id: lib.motifModelId, name: 'tiny a4mer' }],
      annotations: {
        tiers: 2,
        segments: 3,
        clipped: 1,
        dropped: 1,
        bySource: { user: 2, 'motif-family': 1 },
      },
    });
    expect(bob).toMatchObject({
      subject: 'bob',
      split: 'test',
      fit: { id: lib.fits.bob.id },
      motifModels: [],
    });
    expect(bob.annotations.segments).toBe(0);
    expect(manifest.bodyModels[OPEN_MODEL]).toMatchObject({
      name: lib.model.name,
      joints: lib.model.jointNames,
      sha256: sha256File(join(NATIVE, OPEN_MODEL)),
    });
  });

  it('is byte-identical when repeated, and without SOURCE_DATE_EPOCH differs only in exportedAt', async () => {
    const files = listFiles(first.out);
    expect(listFiles(second.out)).toEqual(files);
    for (const f of files)
      expect(readFileSync(join(second.out, f)).equals(readFileSync(join(first.out, f))), f).toBe(true);

    const third = await exportWith({
      sessionIds: [lib.alice, lib.bob],
      formats: 'all',
      split: parseSplitSubjects('train:balance-alice;test:bob'),
    });
    const [a, c] = [first, third].map((r) => JSON.parse(readFileSync(r.manifest, 'utf8')));
    expect(Date.parse(c.exportedAt)).toBeGreaterThan(Date.now() - 60_000);
    delete a.exportedAt;
    delete c.exportedAt;
    expect(c).toEqual(a);
    for (const f of files.filter((x) => x !== 'manifest.json'))
      expect(readFileSync(join(third.out, f)).equals(readFileSync(join(first.out, f))), f).toBe(true);
  });

  it('splits by ratios in subject order, and exports annotations of a session without a fit', async () => {
    const r = await exportWith({
      sessionIds: [lib.alice, lib.bob, lib.noFit],
      formats: 'babel,csv',
      split: parseSplitRatios('train=0.34,val=0.33,test=0.33'),
    });
    // Subjects in name order: balance-alice, bob, unfitted.
    expect(r.sessions.map((s) => [s.sequence, s.split, s.fitId])).toEqual([
      ['balance-alice', 'train', lib.fits.alice.id],
      ['balance-bob', 'val', lib.fits.bob.id],
      ['unfitted', 'test', null],
    ]);
    const babel = JSON.parse(readFileSync(join(r.out, 'test', 'babel.json'), 'utf8'));
    expect(babel.unfitted).toMatchObject({ frames: 10, fps: 30, first_session_frame: 0, feat_p: null });
  });
});

describe('bad input leaves nothing behind', () => {
  it('refuses a session without a fit, an unknown format and an unknown session, naming them', async () => {
    const out = freshOut();
    await expect(
      exportWith({ sessionIds: [lib.alice, lib.noFit], formats: 'amass,babel', out }),
    ).rejects.toThrow(
      `session #${lib.noFit} "unfitted": has no fit to export as amass (fit it first: studio fit ${lib.noFit})`,
    );
    expectNothingLeft(out);
    // The CLI's check before it queues a job says the same.
    await expect(
      preflightExport(lib.ctx.db, { sessionIds: [lib.alice, lib.noFit], formats: 'bvh', out }),
    ).rejects.toThrow(`session #${lib.noFit} "unfitted": has no fit to export as bvh`);
    await expect(exportWith({ sessionIds: [lib.alice], formats: 'amass,fbx', out })).rejects.toThrow(
      'unknown export format "fbx" (known: amass, bvh, glb, npy, babel, csv, coco, all)',
    );
    await expect(exportWith({ sessionIds: [lib.alice, 999], formats: 'bvh', out })).rejects.toThrow(
      'session #999 does not exist',
    );
    expectNothingLeft(out);
  });

  it('refuses an output folder that cannot be written (its parent is a regular file)', async () => {
    const file = join(tempDir('studio-export-'), 'plain.txt');
    writeFileSync(file, 'not a folder');
    const out = join(file, 'dataset');
    await expect(exportWith({ sessionIds: [lib.alice], formats: 'npy', out })).rejects.toThrow(
      `${out}: cannot write the export folder here (${file} is not a folder)`,
    );
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
    expect(readdirSync(dirname(file))).toEqual(['plain.txt']);
  });

  it('keeps a non-empty folder unless forced, and then replaces it whole', async () => {
    const out = freshOut();
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const refusal = `${out}: exists and is not empty (use --force to replace it)`;
    await expect(exportWith({ sessionIds: [lib.alice], formats: 'csv', out })).rejects.toThrow(refusal);
    await expect(
      preflightExport(lib.ctx.db, { sessionIds: [lib.alice], formats: 'csv', out }),
    ).rejects.toThrow(refusal);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    await exportWith({ sessionIds: [lib.alice], formats: 'csv', out, force: true });
    expect(listFiles(out)).toEqual(['all/annotations.csv', 'manifest.json']);
    expect(readdirSync(dirname(out))).toEqual(['dataset']);
  });

  it('exports the version picked for export, else the newest', async () => {
    const newer = syntheticFit(lib.model, 4, 9);
    const fitId = await saveFit(lib.ctx.db, lib.bob, null, newer, {
      bodyModel: 'models/anny-cmu31.npz',
      jointNames: lib.model.jointNames,
      firstFrame: lib.fits.bob.firstFrame,
      frameCount: 4,
      label: 'newer',
    });
    const fitOf = async (): Promise<number | null> =>
      (
        await runExport(
          lib.ctx.db,
          { sessionIds: [lib.bob], formats: 'npy', out: freshOut() },
          { nativeDir: NATIVE },
        )
      ).sessions[0].fitId;
    expect(await fitOf()).toBe(fitId);
    // Bad frame ranges go to the manifest in sequence frames, merged and clipped.
    const f0 = lib.fits.bob.firstFrame;
    await markBadRange(lib.ctx.db, lib.bob, f0 + 1, f0 + 2);
    await markBadRange(lib.ctx.db, lib.bob, f0 + 2, f0 + 100);
    const marked = await runExport(
      lib.ctx.db,
      { sessionIds: [lib.bob], formats: 'npy', out: freshOut() },
      { nativeDir: NATIVE },
    );
    expect(JSON.parse(readFileSync(marked.manifest, 'utf8')).sessions[0].badFrames).toEqual([[1, 4]]);
    await pickFit(lib.ctx.db, lib.bob, lib.fits.bob.id);
    expect(await fitOf()).toBe(lib.fits.bob.id);
    await clearFitPick(lib.ctx.db, lib.bob);
    await lib.ctx.db.run('DELETE FROM fits WHERE id = ?', [fitId]);
  });

  it('removes the partial folder when a session fails after others were written', async () => {
    const broken = await insertSession(lib.ctx.db, { name: 'zz-broken', fps: 60, frames: 20 });
    const result = syntheticFit(lib.model, 4, 3);
    await saveFit(lib.ctx.db, broken, null, result, {
      bodyModel: 'models/missing.npz',
      jointNames: lib.model.jointNames,
      firstFrame: 0,
      frameCount: 4,
      label: 'broken',
    });
    const out = freshOut();
    const seen: string[] = [];
    const run = runExport(
      lib.ctx.db,
      { sessionIds: [lib.alice, broken], formats: 'npy', out },
      { nativeDir: NATIVE, progress: (_f, m) => seen.push(m) },
    );
    await expect(run).rejects.toThrow(join(NATIVE, 'models', 'missing.npz') + ': cannot read the body model');
    expect(seen).toContain('balance-alice: npy');
    expectNothingLeft(out);
  });

  it('leaves nothing when cancelled midway, directly or as a job', async () => {
    const abort = new AbortController();
    const out = freshOut();
    const run = runExport(
      lib.ctx.db,
      { sessionIds: [lib.alice, lib.bob], formats: 'all', out },
      { nativeDir: NATIVE, signal: abort.signal, progress: (_f, m) => m.endsWith(': glb') && abort.abort() },
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expectNothingLeft(out);

    const jobOut = freshOut();
    const job = await lib.ctx.runner.submit('export', {
      sessionIds: [lib.alice, lib.bob],
      formats: 'all',
      out: jobOut,
    });
    const cancelOnProgress = (j: JobInfo) => {
      if (j.id !== job.id || j.state !== 'running' || j.progress === 0) return;
      lib.ctx.runner.events.off('job', cancelOnProgress);
      void lib.ctx.runner.cancel(job.id);
    };
    lib.ctx.runner.events.on('job', cancelOnProgress);
    const done = await lib.ctx.runner.waitFor(job.id);
    expect(done.state).toBe('cancelled');
    expectNothingLeft(jobOut);
  });
});

describe('studio export (CLI)', () => {
  it('runs the export job and prints the files and manifest as JSON', () => {
    const out = freshOut();
    const run = spawnSync(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [
        join(REPO_ROOT, 'main', 'cli', 'index.ts'),
        '--data-dir',
        lib.ctx.dataDir,
        '--json',
        'export',
        String(lib.alice),
        String(lib.bob),
        '--format',
        'csv,npy',
        '--out',
        out,
        '--split',
        'train=0.5,test=0.5',
      ],
      { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
    );
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ out, manifest: join(out, 'manifest.json'), formats: ['npy', 'csv'] });
    expect(result.files.map((f: { path: string }) => f.path)).toEqual([
      'test/annotations.csv',
      'test/balance-bob/balance-bob_joints.npy',
      'train/annotations.csv',
      'train/balance-alice/balance-alice_joints.npy',
    ]);
    expect(JSON.parse(readFileSync(result.manifest, 'utf8')).exportedAt).toBe('1970-01-01T00:00:00.000Z');
  });
});
