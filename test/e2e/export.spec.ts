import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ExportSeed } from './seed-export';
import { seedExportLibrary } from './seeded-library';
import { startServer, stopServer, watchPage } from './server';

/**
 * The Export dialog on a real library: the Pose2Sim capture (with a stored fit) and an unfitted
 * session, seeded by seed-export.ts before the real server starts; exports go to a temp folder and are
 * checked on disk against their manifest.
 */
const screenshotDir = path.join(__dirname, 'screenshots');

let serverUrl = '';
let tmp = '';
let seed: ExportSeed;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const seeded = seedExportLibrary('motion-studio-export-');
  tmp = seeded.tmp;
  seed = seeded.seed;
  serverUrl = await startServer(seeded.dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(tmp));

/** Every file under `dir`, '/'-separated relative paths, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .sort();
}

/**
 * Records every state the export status shows (and each progress value) from now on, so a job that
 * runs faster than a poll still leaves its queued / running states in the record.
 */
async function recordExportStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { exportStates: string[]; exportProgress: number[] };
    w.exportStates = [];
    w.exportProgress = [];
    const note = () => {
      const status = document.querySelector<HTMLElement>('[data-testid="export-status"]');
      const state = status?.dataset.state;
      if (state && w.exportStates.at(-1) !== state) w.exportStates.push(state);
      const bar = document.querySelector('[data-testid="export-progress"]');
      if (bar) w.exportProgress.push(Number(bar.getAttribute('aria-valuenow')));
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

const recorded = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { exportStates: string[]; exportProgress: number[] };
    return { states: w.exportStates, progress: w.exportProgress };
  });

async function openLibrary(page: Page): Promise<void> {
  await page.goto(serverUrl);
  await expect(page.getByTestId('session-row')).toHaveCount(2);
}

test('exports a ticked session from the dialog: progress, the result, and a manifest whose checksums match', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  await openLibrary(page);
  await expect(page.getByTestId('export-selected')).toBeDisabled();
  await page
    .getByTestId('session-row')
    .filter({ hasText: seed.fitted.name })
    .getByTestId('session-select')
    .check();
  // Ticking does not open the session.
  await expect(page.getByTestId('session-row')).toHaveCount(2);
  await page.getByTestId('export-selected').click();

  const dialog = page.getByTestId('export-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('export-sessions')).toHaveText(seed.fitted.name);
  const formats = dialog.getByTestId('export-format');
  await expect(formats).toHaveCount(7);
  expect(await formats.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.format))).toEqual([
    'amass',
    'bvh',
    'glb',
    'npy',
    'babel',
    'csv',
    'coco',
  ]);
  // Web mode has no native folder dialog: the path is typed.
  await expect(dialog.getByTestId('export-browse')).toHaveCount(0);
  for (const f of ['amass', 'bvh', 'glb', 'npy', 'babel', 'csv', 'coco'])
    await dialog.locator(`[data-testid="export-format"][data-format="${f}"]`).check();
  const out = path.join(tmp, 'dataset');
  await dialog.getByTestId('export-out').fill(out);
  // No split by default; choosing ratios shows their field.
  await expect(dialog.getByTestId('export-split-mode-none')).toBeChecked();
  await expect(dialog.getByTestId('export-split-ratios')).toHaveCount(0);
  await dialog.getByTestId('export-split-mode-ratios').check();
  await dialog.getByTestId('export-split-ratios').fill('train=0.8,test=0.2');

  await recordExportStates(page);
  const t0 = Date.now();
  await dialog.getByTestId('export-submit').click();
  const status = dialog.getByTestId('export-status');
  await expect(status).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
  const seconds = (Date.now() - t0) / 1000;
  const { states, progress } = await recorded(page);
  // Progress was shown (queued, then running with a bar and Cancel), then the result.
  expect(states.at(-1)).toBe('succeeded');
  expect(states.slice(0, -1).length).toBeGreaterThan(0);
  expect(states.slice(0, -1).every((s) => s === 'queued' || s === 'running')).toBe(true);
  expect(progress.length).toBeGreaterThan(0);
  await expect(dialog.getByTestId('export-progress')).toHaveCount(0);
  await expect(dialog.getByTestId('export-error')).toHaveCount(0);

  const manifestPath = path.join(out, 'manifest.json');
  await expect(dialog.getByTestId('export-manifest')).toHaveText(manifestPath);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
    formats: string[];
    files: { path: string; bytes: number; sha256: string }[];
    sessions: { sessionId: number; split: string; fit: { id: number }; frameCount: number }[];
    split: { rule: string };
  };
  await expect(dialog.getByTestId('export-file-count')).toHaveText(String(manifest.files.length));
  // The manifest lists every file but itself, each with its size and a sha256 that matches the bytes.
  expect(manifest.files.map((f) => f.path)).toEqual(filesUnder(out).filter((p) => p !== 'manifest.json'));
  for (const f of manifest.files) {
    const bytes = fs.readFileSync(path.join(out, f.path));
    expect([f.path, bytes.length, createHash('sha256').update(bytes).digest('hex')]).toEqual([
      f.path,
      f.bytes,
      f.sha256,
    ]);
  }
  const seq = seed.fitted.name;
  expect(manifest.files.map((f) => f.path)).toEqual(
    expect.arrayContaining([
      `train/${seq}/${seq}_poses.npz`,
      `train/${seq}/${seq}.bvh`,
      `train/${seq}/${seq}.glb`,
      `train/${seq}/${seq}_joints.npy`,
      `train/${seq}/coco/cam01.json`,
      'train/babel.json',
      'test/annotations.csv',
    ]),
  );
  expect(manifest.formats).toEqual(['amass', 'bvh', 'glb', 'npy', 'babel', 'csv', 'coco']);
  expect(manifest.split.rule).toBe('ratios');
  expect(manifest.sessions).toMatchObject([
    {
      sessionId: seed.fitted.id,
      split: 'train',
      fit: { id: seed.fitted.fitId },
      frameCount: seed.fitted.frameCount,
    },
  ]);
  expect(fs.readFileSync(path.join(out, 'train/annotations.csv'), 'utf8')).toMatch(/,stand,/);
  // Nothing left beside the export (the partial folder was renamed into place).
  expect(fs.readdirSync(tmp).filter((n) => n.startsWith('dataset'))).toEqual(['dataset']);
  await page.screenshot({ path: path.join(screenshotDir, 'export-dialog.png') });
  console.log(
    `export from the dialog: ${manifest.files.length} files, click to result ${seconds.toFixed(1)} s; ` +
      `states ${states.join(' > ')}, progress ${[...new Set(progress)].join(' ')}%`,
  );

  // Closing leaves the job in the library's jobs list.
  await dialog.getByTestId('export-close').click();
  await expect(dialog).toHaveCount(0);
  await expect(
    page
      .locator('[data-testid="job-row"][data-state="succeeded"]')
      .filter({ has: page.locator('.job-kind', { hasText: /^export$/ }) }),
  ).toHaveCount(1);
  expect(pageErrors).toEqual([]);
});

test('a session without a fit cannot be exported as AMASS: the dialog says why and nothing is written', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  await openLibrary(page);
  await page
    .getByTestId('session-row')
    .filter({ hasText: seed.unfitted.name })
    .getByTestId('session-export')
    .click();
  const dialog = page.getByTestId('export-dialog');
  await expect(dialog.getByTestId('export-sessions')).toHaveText(seed.unfitted.name);
  const out = path.join(tmp, 'refused');
  await dialog.locator('[data-testid="export-format"][data-format="amass"]').check();
  await dialog.getByTestId('export-out').fill(out);
  await dialog.getByTestId('export-submit').click();
  await expect(dialog.getByTestId('export-error')).toHaveText(
    `session #${seed.unfitted.id} "${seed.unfitted.name}": has no fit to export as amass ` +
      `(fit it first: studio fit ${seed.unfitted.id})`,
  );
  // Refused at the call: no job, nothing on disk.
  await expect(dialog.getByTestId('export-status')).toHaveCount(0);
  expect(fs.readdirSync(tmp).filter((n) => n.startsWith('refused'))).toEqual([]);

  // Annotations need no fit: the same session exports as BABEL JSON, and the error goes away.
  await dialog.locator('[data-testid="export-format"][data-format="amass"]').uncheck();
  await dialog.locator('[data-testid="export-format"][data-format="babel"]').check();
  await dialog.getByTestId('export-submit').click();
  await expect(dialog.getByTestId('export-status')).toHaveAttribute('data-state', 'succeeded', {
    timeout: 30_000,
  });
  await expect(dialog.getByTestId('export-error')).toHaveCount(0);
  expect(filesUnder(out)).toEqual(['all/babel.json', 'manifest.json']);
  expect(pageErrors).toEqual([]);
});
