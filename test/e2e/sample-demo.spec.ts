import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { repoRoot, startServer, stopServer, watchPage } from './server';

const screenshotDir = path.join(__dirname, 'screenshots');
let serverUrl = '';
let dataDir = '';
let demo: { sessionId: number; cameras: number; frames: number; fitId: number } | null = null;

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

test.afterAll(() => {
  stopServer();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

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
  await page.getByLabel('Frame').fill(target);
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
  await page.getByLabel('Frame').fill(target);
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
  await page.getByLabel('Frame').fill(target);
  const overlay = page.getByTestId('fit-overlay');
  await expect(overlay).toHaveAttribute('data-frame', target, { timeout: 30_000 });
  await expect.poll(async () => Number(await overlay.getAttribute('data-triangles'))).toBeGreaterThan(1000);
  await expect(page.getByTestId('fit-3d')).toHaveAttribute('data-frame', target, { timeout: 30_000 });
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).seeking)).toBe(false);
  await page.screenshot({ path: path.join(screenshotDir, 'fit-review-sample.png') });
  expect(pageErrors).toEqual([]);
});
