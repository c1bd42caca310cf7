import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { frameCounter, repoRoot, startServer, stopServer, watchPage } from './server';
import { FFMPEG_PATH as ffmpegPath } from '../../main/capture/ffmpeg';

const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');
const screenshotDir = path.join(__dirname, 'screenshots');

let serverUrl = '';
let dataDir = '';

test.beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-e2e-'));
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(dataDir));

test('imports the Pose2Sim sample and steps through frames with keypoints drawn', async ({ page }) => {
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  await expect(page.getByRole('heading', { name: 'Motion Studio' })).toBeVisible();

  await page.getByTestId('import-path').fill(sampleDir);
  await page.getByTestId('import-button').click();
  await expect(page.getByTestId('session-row')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.locator('[data-testid="job-row"][data-state="succeeded"]')).toHaveCount(1, {
    timeout: 60_000,
  });
  await page.screenshot({ path: path.join(screenshotDir, 'library-view.png') });

  await page.getByTestId('session-row').first().click();
  const cameras = page.getByTestId('camera-item');
  await expect(cameras).toHaveCount(4, { timeout: 30_000 });
  const thumbs = page.getByTestId('camera-thumb');
  await expect(thumbs).toHaveCount(4, { timeout: 30_000 });
  // Every thumbnail decoded: the smallest naturalWidth is above zero.
  await expect
    .poll(
      () => thumbs.evaluateAll((imgs) => Math.min(...imgs.map((i) => (i as HTMLImageElement).naturalWidth))),
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);

  await cameras.filter({ hasText: 'cam01' }).click();
  const video = page.getByTestId('video');
  const overlay = page.getByTestId('overlay');
  // HAVE_CURRENT_DATA: the first frame is decoded and shown, so the overlay has its geometry.
  await expect
    .poll(() => video.evaluate((v) => (v as HTMLVideoElement).readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  await expect(overlay).toHaveAttribute('data-drawn-frame', '0', { timeout: 30_000 });

  await page.getByTestId('play').click();
  await expect.poll(() => video.evaluate((v) => !(v as HTMLVideoElement).paused)).toBe(true);
  await page.waitForTimeout(1000);
  await page.getByTestId('play').click();
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).paused)).toBe(true);
  // Let the pause settle (the snap to mid-frame and its 'seeked'), then read a stable counter.
  await page.waitForTimeout(300);
  const before = await frameCounter(page);
  expect(before.frame, 'playback should have advanced').toBeGreaterThan(0);
  expect(before.total).toBeGreaterThan(5);
  let start = before.frame;
  // Playback may have run to the end on a slow machine; step back so five steps forward fit.
  while (start + 5 > before.total - 1) {
    await page.keyboard.press('ArrowLeft');
    start--;
  }
  await expect(page.getByTestId('frame-counter')).toHaveText(`Frame ${start} / ${before.total}`);

  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  const target = String(start + 5);
  await expect(page.getByTestId('frame-counter')).toHaveText(`Frame ${target} / ${before.total}`);
  await expect(overlay).toHaveAttribute('data-frame', target);
  await expect(overlay).toHaveAttribute('data-drawn-frame', target);
  await expect.poll(async () => Number(await overlay.getAttribute('data-points'))).toBeGreaterThan(10);
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).seeking)).toBe(false);

  // The picture on screen is exactly frame `target`: closer to ffmpeg's decode of that frame than to its neighbours.
  // Both sides average whole 20x20 pixel blocks (canvas at native size here, ffmpeg's area filter there), so
  // what remains between them is the picture, not two different scaling filters.
  const shown = await video.evaluate((v) => {
    const el = v as HTMLVideoElement;
    const c = document.createElement('canvas');
    c.width = el.videoWidth;
    c.height = el.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(el, 0, 0);
    const rgba = g.getImageData(0, 0, c.width, c.height).data;
    const bw = 54;
    const bh = 96;
    const sx = c.width / bw;
    const sy = c.height / bh;
    const grey = new Array<number>(bw * bh).fill(0);
    const count = new Array<number>(bw * bh).fill(0);
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = 4 * (y * c.width + x);
        const k = Math.min(bh - 1, Math.floor(y / sy)) * bw + Math.min(bw - 1, Math.floor(x / sx));
        grey[k] += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
        count[k]++;
      }
    }
    return grey.map((g2, k) => g2 / count[k]);
  });
  const distance = (frame: number) => {
    const ref = ffmpegFrameGrey(path.join(sampleDir, 'videos', 'cam01.mp4'), frame, 54, 96);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(ref[i] - shown[i]);
    return sum / ref.length;
  };
  const t = Number(target);
  const here = distance(t);
  console.log(
    `frame ${t}: grey distance ${here.toFixed(2)}, neighbours ${distance(t - 1).toFixed(2)} / ${distance(t + 1).toFixed(2)}`,
  );
  expect(here).toBeLessThan(distance(t - 1));
  expect(here).toBeLessThan(distance(t + 1));

  await page.screenshot({ path: path.join(screenshotDir, 'session-view.png') });
  expect(pageErrors).toEqual([]);
});

/** Frame `n` decoded by the bundled ffmpeg, scaled and converted to 8-bit grey. */
function ffmpegFrameGrey(file: string, n: number, w: number, h: number): Uint8Array {
  const out = spawnSync(
    ffmpegPath,
    [
      '-v',
      'error',
      '-i',
      file,
      '-vf',
      `select=eq(n\\,${n}),scale=${w}:${h}:flags=area,format=gray`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-',
    ],
    { maxBuffer: 1 << 20 },
  );
  if (out.status !== 0 || out.stdout.length !== w * h) throw new Error(`ffmpeg frame ${n}: ${out.stderr}`);
  return new Uint8Array(out.stdout);
}

test('importing a folder that does not exist shows an error naming it', async ({ page }) => {
  const pageErrors = watchPage(page);
  const missing = path.join(os.tmpdir(), `motion-studio-missing-${Date.now()}`);
  await page.goto(serverUrl);
  await page.getByTestId('import-path').fill(missing);
  await page.getByTestId('import-button').click();
  await expect(page.getByTestId('error')).toContainText(missing, { timeout: 30_000 });
  expect(pageErrors).toEqual([]);
});
