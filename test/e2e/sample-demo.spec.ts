import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ApiMethod, ApiRequest, ApiResponse } from '../../preload/api';
import { repoRoot, startServer, stopServer, watchPage } from './server';

const screenshotDir = path.join(__dirname, 'screenshots');
let serverUrl = '';
let dataDir = '';
let demo: {
  sessionId: number;
  cameras: number;
  frames: number;
  fitId: number;
  motifModelId: number;
  atoms: number;
  motifs: number;
} | null = null;

/** A call to the server under test, as the web renderer makes it (the token is in the server's URL). */
async function call<M extends ApiMethod>(method: M, req: ApiRequest<M>): Promise<ApiResponse<M>> {
  const url = new URL(serverUrl);
  const res = await fetch(new URL(`/api/${method}`, url.origin), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${url.searchParams.get('token') ?? ''}`,
    },
    body: JSON.stringify(req),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as ApiResponse<M>;
}

/** Records each state the job row inside `container` shows, from now on (fast jobs included). */
async function recordJobStates(page: Page, container: string): Promise<() => Promise<string[]>> {
  await page.evaluate((sel) => {
    const w = window as unknown as { jobStates: string[] };
    w.jobStates = [];
    const look = () => {
      const s = document.querySelector(`${sel} [data-testid="job-row"]`)?.getAttribute('data-state');
      if (s && w.jobStates.at(-1) !== s) w.jobStates.push(s);
    };
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state'],
    });
  }, `[data-testid="${container}"]`);
  return () => page.evaluate(() => (window as unknown as { jobStates: string[] }).jobStates);
}

test.beforeAll(async () => {
  test.setTimeout(300_000);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-demo-'));
  // The README's first command, on a fresh data dir: makes the embedded sample there and imports it.
  const run = spawnSync('npx', ['tsx', 'main/cli/index.ts', '--data-dir', dataDir, '--json', 'demo'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (run.status !== 0) throw new Error(`demo failed (${run.status}):\n${run.stderr}\n${run.stdout}`);
  demo = JSON.parse(run.stdout.trim().split('\n').pop()!) as typeof demo;
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(dataDir));

test('demo puts the embedded sample in the library; a room camera shows the body with keypoints', async ({
  page,
}) => {
  expect(demo).toMatchObject({ cameras: 10 });
  expect(fs.existsSync(path.join(dataDir, 'sample', 'session.json'))).toBe(true);
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  const row = page.getByTestId('session-row');
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await expect(row).toContainText('Embedded sample');
  await row.click();
  const cameras = page.getByTestId('camera-item');
  await expect(cameras).toHaveCount(10, { timeout: 30_000 });

  await cameras.filter({ hasText: 'room-5' }).click();
  const video = page.getByTestId('video');
  const overlay = page.getByTestId('overlay');
  await expect
    .poll(() => video.evaluate((v) => (v as HTMLVideoElement).readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  // Half-way along the walk to the desk, facing room-5: the whole body is in its view.
  const target = '45';
  await page.getByRole('slider', { name: 'Frame' }).fill(target);
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${target} /`);
  await expect(overlay).toHaveAttribute('data-drawn-frame', target, { timeout: 30_000 });
  await expect.poll(async () => Number(await overlay.getAttribute('data-points'))).toBeGreaterThan(15);
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).seeking)).toBe(false);

  // The body is drawn in the video: skin-coloured pixels around the keypoints the overlay shows.
  const skin = await video.evaluate((v) => {
    const el = v as HTMLVideoElement;
    const c = document.createElement('canvas');
    c.width = el.videoWidth;
    c.height = el.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(el, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, gr, b] = [px[i], px[i + 1], px[i + 2]];
      if (r > 150 && r - b > 40 && r > gr && gr > b) n++;
    }
    return n;
  });
  expect(skin).toBeGreaterThan(2000);
  await page.screenshot({ path: path.join(screenshotDir, 'sample-room-camera.png') });
  expect(pageErrors).toEqual([]);
});

test('localizes the foot cameras: detected corners over the video and a per-frame status strip', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  await page.getByTestId('session-row').click();
  await page.getByTestId('camera-item').filter({ hasText: 'foot-left' }).click();
  await expect(page.getByTestId('video')).toBeVisible();
  await page.getByTestId('localize-button').click();
  const strip = page.getByTestId('pose-strip');
  await expect(strip).toBeVisible({ timeout: 120_000 });
  // Most frames get a pose from the boards; the rest are marked, not hidden.
  const ok = Number(await strip.getAttribute('data-ok'));
  expect(ok).toBeGreaterThan(demo!.frames * 0.5);
  const overlay = page.getByTestId('overlay');
  // Early in the walk the left foot camera looks up at two ceiling boards.
  const target = '10';
  await page.getByRole('slider', { name: 'Frame' }).fill(target);
  await expect(overlay).toHaveAttribute('data-drawn-frame', target, { timeout: 30_000 });
  await expect.poll(async () => Number(await overlay.getAttribute('data-points'))).toBeGreaterThan(12);
  await expect(page.getByTestId('pose-status-here')).toContainText(`frame ${target}: ok`);
  await expect
    .poll(() => page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).seeking))
    .toBe(false);
  await page.screenshot({ path: path.join(screenshotDir, 'foot-camera-localized.png') });
  expect(pageErrors).toEqual([]);
});

test("reviews the demo's fit: mesh over a room camera, foot-camera frusta and boards in 3D", async ({
  page,
}) => {
  expect(demo!.fitId).toBeGreaterThan(0);
  const pageErrors = watchPage(page);
  await page.goto(`${serverUrl}#/session/${demo!.sessionId}/fit`);
  await expect(page.getByTestId('fit-stats')).toContainText('ground + foot cameras', { timeout: 30_000 });
  await page.getByTestId('camera-select').selectOption({ label: 'room-5' });
  const video = page.getByTestId('video');
  await expect
    .poll(() => video.evaluate((v) => (v as HTMLVideoElement).readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  const target = '45';
  await page.getByRole('slider', { name: 'Frame' }).fill(target);
  const overlay = page.getByTestId('fit-overlay');
  await expect(overlay).toHaveAttribute('data-frame', target, { timeout: 30_000 });
  await expect.poll(async () => Number(await overlay.getAttribute('data-triangles'))).toBeGreaterThan(1000);
  await expect(page.getByTestId('fit-3d')).toHaveAttribute('data-frame', target, { timeout: 30_000 });
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).seeking)).toBe(false);
  await page.screenshot({ path: path.join(screenshotDir, 'fit-review-sample.png') });
  expect(pageErrors).toEqual([]);
});

test('A4Mer on the sample: tracks from the shipped model, and a new extraction from the UI', async ({
  page,
}) => {
  const { sessionId, motifModelId } = demo!;
  expect(motifModelId).toBeGreaterThan(0);
  const before = (await call('motifProposals', { sessionId }))!;
  expect(before.modelId).toBe(motifModelId);
  expect(before.atoms.length).toBeGreaterThan(0);
  expect(before.motifs.length).toBeGreaterThan(0);
  expect([before.atoms.length, before.motifs.length]).toEqual([demo!.atoms, demo!.motifs]);

  const pageErrors = watchPage(page);
  await page.goto(`${serverUrl}#/session/${sessionId}`);
  await page.getByTestId('camera-item').filter({ hasText: 'room-5' }).click();
  const atoms = page.getByTestId('atom-segment');
  const motifs = page.getByTestId('motif-segment');
  await expect(atoms).toHaveCount(before.atoms.length, { timeout: 30_000 });
  await expect(motifs).toHaveCount(before.motifs.length);
  const panel = page.getByTestId('extract-panel');
  await expect(panel.getByTestId('extract-last')).toHaveAttribute('data-created', before.createdAt);
  await expect(page.getByTestId('extract-reason')).toHaveCount(0);
  // The shipped model is the library's only ready model, so it is the default.
  await expect(page.getByTestId('extract-model')).toHaveValue(String(motifModelId));

  const states = await recordJobStates(page, 'extract-job');
  const started = Date.now();
  await page.getByTestId('extract-motifs').click();
  const row = panel.getByTestId('job-row');
  await expect(row).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
  console.log(`extraction from the UI: ${Date.now() - started} ms`);
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(row).toContainText('motifs-extract');
  const seen = await states();
  expect(seen[0]).toMatch(/^(queued|running)$/);
  expect(seen.at(-1)).toBe('succeeded');

  // The tracks were re-read: the newest proposals, still from the shipped model, still full.
  const after = (await call('motifProposals', { sessionId }))!;
  expect(after.createdAt).not.toBe(before.createdAt);
  expect(after.modelId).toBe(motifModelId);
  await expect(panel.getByTestId('extract-last')).toHaveAttribute('data-created', after.createdAt);
  expect(after.atoms.length).toBeGreaterThan(0);
  await expect(atoms).toHaveCount(after.atoms.length);
  await expect(motifs).toHaveCount(after.motifs.length);
  expect(await atoms.evaluateAll((els) => els.map((e) => Number(e.dataset.start)))).toEqual(
    after.atoms.map((a) => a.start),
  );
  await expect(page.getByTestId('extract-motifs')).toBeEnabled();

  await page.getByRole('slider', { name: 'Frame' }).fill('45');
  await expect(page.getByTestId('frame-counter')).toContainText('Frame 45 /');
  await expect
    .poll(() => page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).readyState), {
      timeout: 30_000,
    })
    .toBeGreaterThanOrEqual(2);
  await expect
    .poll(() => page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).seeking))
    .toBe(false);
  await page.screenshot({ path: path.join(screenshotDir, 'session-motifs.png') });
  expect(pageErrors).toEqual([]);
});

test('models view: the shipped model installed, a tiny training on the sample becomes ready', async ({
  page,
}) => {
  const { sessionId, motifModelId } = demo!;
  const pageErrors = watchPage(page);
  await page.goto(`${serverUrl}#/models`);
  const shipped = page.getByTestId('shipped-row').filter({ hasText: 'a4mer-cmu-demo' });
  await expect(shipped).toBeVisible({ timeout: 30_000 });
  await expect(shipped).toContainText(/clips · [\d,]+ frames at \d+ fps · steps \d+ \/ \d+ \/ \d+/);
  await expect(page.getByTestId('shipped-installed-a4mer-cmu-demo')).toHaveText(
    `installed as #${motifModelId}`,
  );
  await expect(page.getByTestId('install-shipped-a4mer-cmu-demo')).toHaveCount(0);
  await expect(page.locator(`[data-testid="model-row"][data-model="${motifModelId}"]`)).toHaveAttribute(
    'data-state',
    'ready',
  );

  // A call the server refuses shows its message in the form.
  const form = page.getByTestId('train-form');
  await form.getByTestId('train-datasets').fill('/no/such/dataset');
  await form.getByTestId('train-start').click();
  await expect(form.getByTestId('train-error')).toContainText('/no/such/dataset is not a skeleton dataset');
  await form.getByTestId('train-datasets').fill('');
  await expect(form.getByTestId('train-start')).toBeDisabled();

  // The sample's fit, the default network, 2 + 1 + 1 steps.
  await form.getByTestId('train-name').fill('e2e tiny');
  await form.getByTestId(`train-session-${sessionId}`).check();
  for (const [i, n] of ['2', '1', '1'].entries()) await form.getByTestId(`train-steps-${i + 1}`).fill(n);
  const states = await recordJobStates(page, 'train-job');
  const started = Date.now();
  await form.getByTestId('train-start').click();
  await expect(form.getByTestId('train-error')).toHaveCount(0);
  const job = form.getByTestId('job-row');
  await expect(job).toHaveAttribute('data-state', 'succeeded', { timeout: 90_000 });
  console.log(`tiny training from the UI: ${Date.now() - started} ms`);
  const seen = await states();
  expect(seen[0]).toMatch(/^(queued|running)$/);
  expect(seen.at(-1)).toBe('succeeded');

  const trained = (await call('listMotifModels', {})).find((m) => m.name === 'e2e tiny');
  expect(trained).toMatchObject({ state: 'ready', stepsDone: 4, stepsTotal: 4 });
  const row = page.locator(`[data-testid="model-row"][data-model="${trained!.id}"]`);
  await expect(row).toHaveAttribute('data-state', 'ready');
  await expect(row.getByTestId('model-steps')).toHaveText('4 / 4');
  // The trained model is selected: its loss curve as logged.
  await expect(row).toHaveAttribute('aria-selected', 'true');
  const curve = await call('trainingCurve', { modelId: trained!.id });
  expect(curve.steps.length).toBeGreaterThan(0);
  await expect(page.getByTestId('loss-curve')).toHaveAttribute('data-steps', String(curve.steps.length));
  await page.setViewportSize({ width: 1400, height: 1080 });
  await page.screenshot({ path: path.join(screenshotDir, 'models.png') });
  expect(pageErrors).toEqual([]);
});
