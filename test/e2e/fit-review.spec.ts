import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Locator } from '@playwright/test';
import { repoRoot, startServer, stopServer, watchPage } from './server';

const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');
const screenshotDir = path.join(__dirname, 'screenshots');

let serverUrl = '';
let dataDir = '';

test.beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-fit-'));
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(dataDir));

/** Pixels of a 2D canvas with some opacity (what an overlay has drawn). */
function paintedPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((c) => {
    const el = c as HTMLCanvasElement;
    const px = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n;
  });
}

/**
 * Pixels of the WebGL canvas unlike its top-left corner (the background), and how many look like the
 * body's skin colour; readable because the renderer keeps its drawing buffer.
 */
function scenePixels(canvas: Locator): Promise<{ changed: number; body: number }> {
  return canvas.evaluate((c) => {
    const el = c as HTMLCanvasElement;
    const copy = document.createElement('canvas');
    copy.width = el.width;
    copy.height = el.height;
    const g = copy.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(el, 0, 0);
    const px = g.getImageData(0, 0, copy.width, copy.height).data;
    const [r0, g0, b0] = [px[0], px[1], px[2]];
    let changed = 0;
    let body = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, gr, b] = [px[i], px[i + 1], px[i + 2]];
      if (Math.abs(r - r0) + Math.abs(gr - g0) + Math.abs(b - b0) > 30) changed++;
      // The mesh's skin tone under white light keeps its channel ratios; frusta, boards and the
      // skeleton's pink do not have them.
      if (r > 80 && gr / r > 0.55 && gr / r < 0.8 && b / r > 0.4 && b / r < 0.72) body++;
    }
    return { changed, body };
  });
}

test('fits the Pose2Sim capture from the UI and reviews it: overlay, 3D, quality curve, flagged frames', async ({
  page,
}) => {
  test.setTimeout(600_000);
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  await page.getByTestId('import-path').fill(sampleDir);
  await page.getByTestId('import-button').click();
  await expect(page.locator('[data-testid="job-row"][data-state="succeeded"]')).toHaveCount(1, {
    timeout: 60_000,
  });
  await page.getByTestId('session-row').first().click();

  // No fit yet: start one from the session's side bar (Pose2Sim has no foot cameras: that box is off).
  await expect(page.getByTestId('fit-button')).toBeEnabled({ timeout: 30_000 });
  await expect(page.getByTestId('fit-footcams')).toBeDisabled();
  await expect(page.getByTestId('fit-ground')).toBeChecked();
  await page.getByTestId('fit-button').click();
  const fitJob = page.getByTestId('fit-job').getByTestId('job-row');
  await expect(fitJob).toBeVisible({ timeout: 30_000 });
  await expect(fitJob).toHaveAttribute('data-state', /succeeded|failed|cancelled/, { timeout: 480_000 });
  await expect(fitJob).toHaveAttribute('data-state', 'succeeded');
  await expect(page.getByTestId('review-fit')).toContainText('1 version', { timeout: 30_000 });

  await page.getByTestId('review-fit').click();
  await expect(page).toHaveURL(/#\/session\/\d+\/fit$/);
  await expect(page.getByTestId('fit-stats')).toContainText('median reprojection');
  await page.getByTestId('camera-select').selectOption({ label: 'cam01' });

  const video = page.getByTestId('video');
  await expect
    .poll(() => video.evaluate((v) => (v as HTMLVideoElement).readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);
  const overlay = page.getByTestId('fit-overlay');
  await expect(overlay).toHaveAttribute('data-frame', /\d+/, { timeout: 30_000 });
  await expect.poll(async () => Number(await overlay.getAttribute('data-triangles'))).toBeGreaterThan(1000);
  expect(await paintedPixels(overlay)).toBeGreaterThan(2000);
  // The detector's keypoints stay drawn above the mesh.
  await expect
    .poll(async () => Number(await page.getByTestId('overlay').getAttribute('data-points')))
    .toBeGreaterThan(5);

  const scene = page.getByTestId('fit-3d');
  await expect(scene).toHaveAttribute('data-vertices', /^[1-9]\d*$/, { timeout: 30_000 });
  await expect.poll(async () => (await scenePixels(scene)).body, { timeout: 30_000 }).toBeGreaterThan(500);
  const pixels = await scenePixels(scene);
  console.log(`3D view: ${pixels.changed} non-background pixels, ${pixels.body} body-coloured`);
  expect(pixels.changed).toBeGreaterThan(5000);
  expect(pixels.body).toBeGreaterThan(500);

  // A click three quarters along the quality curve jumps there: readout, player and overlay follow.
  const readout = page.getByTestId('frame-readout');
  const before = Number(await readout.getAttribute('data-frame'));
  const plot = page.getByTestId('quality-curve').locator('.u-over');
  const box = (await plot.boundingBox())!;
  await plot.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
  await expect.poll(async () => Number(await readout.getAttribute('data-frame'))).not.toBe(before);
  const target = Number(await readout.getAttribute('data-frame'));
  const frames = Number(await page.getByTestId('quality-curve').getAttribute('data-frames'));
  expect(target).toBeGreaterThan(frames * 0.5);
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${target} /`);
  await expect(overlay).toHaveAttribute('data-frame', String(target), { timeout: 30_000 });
  await expect(scene).toHaveAttribute('data-frame', String(target), { timeout: 30_000 });

  // Step to a flagged frame when the fit flagged any.
  const flagged = Number(await page.getByTestId('quality-curve').getAttribute('data-flagged'));
  console.log(
    `fit: ${frames} frames, ${flagged} flagged; ${(await page.getByTestId('fit-stats').innerText()).replace(/\s*\n\s*/g, ' · ')}`,
  );
  if (flagged > 0) {
    const step = (await page.getByTestId('next-flagged').isEnabled()) ? 'next-flagged' : 'prev-flagged';
    await page.getByTestId(step).click();
    await expect(readout).not.toHaveAttribute('data-flags', '0');
    await expect(readout).toContainText('flagged:');
    const f = await readout.getAttribute('data-frame');
    await expect(overlay).toHaveAttribute('data-frame', f!, { timeout: 30_000 });
  }

  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).seeking)).toBe(false);
  await page
    .locator('.fit-video .stage')
    .screenshot({ path: path.join(screenshotDir, 'fit-overlay-cam01.png') });
  await page.locator('.fit-3d').screenshot({ path: path.join(screenshotDir, 'fit-3d.png') });
  await page.screenshot({ path: path.join(screenshotDir, 'fit-review.png') });
  expect(pageErrors).toEqual([]);
});
