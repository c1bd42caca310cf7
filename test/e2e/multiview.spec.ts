import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ExportSeed } from './seed-export';
import { seedExportLibrary } from './seeded-library';
import { startServer, stopServer, watchPage } from './server';

/**
 * All views: every camera of the Pose2Sim capture and the 3D fit on one timeline. The library is seeded
 * by seed-export.ts (the real import and a stored fit of frames [5, 29)) before the real server starts.
 */
const screenshotDir = path.join(__dirname, 'screenshots');
const FPS = 60;

let serverUrl = '';
let tmp = '';
let seed: ExportSeed;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const seeded = seedExportLibrary('motion-studio-multiview-');
  tmp = seeded.tmp;
  seed = seeded.seed;
  serverUrl = await startServer(seeded.dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(tmp));

/** Each camera tile's reported frame and its video's currentTime * fps, by camera name. */
function tileFrames(page: Page): Promise<{ name: string; frame: number; videoFrame: number }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="view-tile"]')].map((tile) => {
      const name = tile.dataset.camera ?? '';
      const readout = tile.querySelector<HTMLElement>(`[data-testid="view-frame-${name}"]`);
      const video = tile.querySelector<HTMLVideoElement>('video')!;
      return {
        name,
        frame: readout?.dataset.frame ? Number(readout.dataset.frame) : NaN,
        videoFrame: video.currentTime * 60,
      };
    }),
  );
}

/** Waits until every tile reports `frame` (within one) and its video sits on it; returns the reports. */
async function expectAllOn(page: Page, frame: number) {
  await expect
    .poll(async () => (await tileFrames(page)).every((t) => Math.abs(t.frame - frame) <= 1), {
      timeout: 10_000,
    })
    .toBe(true);
  const tiles = await tileFrames(page);
  for (const t of tiles) {
    expect(Math.abs(t.frame - frame), `${t.name} reports frame ${t.frame}`).toBeLessThanOrEqual(1);
    expect(Math.abs(t.videoFrame - frame), `${t.name} video at ${t.videoFrame / FPS} s`).toBeLessThanOrEqual(
      1,
    );
  }
  return tiles;
}

/** The 3D tile's readout and the frame its canvas last drew a body for. */
async function expect3dOn(page: Page, frame: number) {
  await expect(page.getByTestId('view-frame-3d')).toHaveAttribute('data-frame', String(frame), {
    timeout: 10_000,
  });
  await expect(page.getByTestId('view-tile-3d').getByTestId('fit-3d')).toHaveAttribute(
    'data-frame',
    String(frame),
  );
}

test('every camera and the 3D fit follow one timeline: seek, step, play, pause, open a camera', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  const sessionId = seed.fitted.id;
  await page.goto(`${serverUrl}#/session/${sessionId}`);
  await page.getByTestId('all-views').click();
  await expect(page).toHaveURL(new RegExp(`#/session/${sessionId}/views`));

  // Every camera with a video is a tile, and the fit's 3D canvas is there too.
  const tiles = page.getByTestId('view-tile');
  await expect(tiles).toHaveCount(4, { timeout: 20_000 });
  const names = await tiles.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.camera ?? ''));
  for (const name of names) await expect(page.getByTestId(`view-frame-${name}`)).toBeVisible();
  await expect(page.getByTestId('view-tile-3d').getByTestId('fit-3d')).toBeVisible();
  await expect(page.getByTestId('view-video').first()).toHaveAttribute('preload', 'metadata');
  await expectAllOn(page, 0);

  // Seek with the slider: every tile, every video and the 3D body land on the frame.
  const slider = page.getByTestId('multiview-slider');
  await slider.fill('12');
  await expectAllOn(page, 12);
  await expect3dOn(page, 12);
  // Keypoints are drawn over the tiles for that frame.
  await expect(page.getByTestId('view-overlay').first()).toHaveAttribute('data-drawn-frame', '12');
  const points = Number(await page.getByTestId('view-overlay').first().getAttribute('data-points'));
  expect(points).toBeGreaterThan(0);

  // Step with the arrow key (focus off the slider, so the window shortcut does it): all move by one.
  await page.locator('h1').click();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('frame-counter')).toHaveAttribute('data-frame', '13');
  await expectAllOn(page, 13);
  await expect3dOn(page, 13);
  await page.keyboard.press('ArrowLeft');
  await expectAllOn(page, 12);
  await expect3dOn(page, 12);

  // Play ~0.6 s and pause: all on the same frame again, further on.
  const play = page.getByTestId('multiview-play');
  await play.click();
  await expect(play).toHaveText('Pause');
  // While playing, every video presents frames past the start (each tile follows the master clock).
  await expect
    .poll(async () => (await tileFrames(page)).every((t) => t.frame > 12), { timeout: 5_000 })
    .toBe(true);
  await page.waitForTimeout(400);
  const playingSpread = (await tileFrames(page)).map((t) => t.frame);
  console.log(`frames while playing: ${playingSpread.join(', ')}`);
  await play.click();
  await expect(play).toHaveText('Play');
  const paused = Number(await page.getByTestId('frame-counter').getAttribute('data-frame'));
  expect(paused).toBeGreaterThan(12);
  const after = await expectAllOn(page, paused);
  const reported = after.map((t) => t.frame);
  expect(Math.max(...reported) - Math.min(...reported)).toBeLessThanOrEqual(1);
  // Past the fit's last frame the 3D says so; inside it, it shows the paused frame.
  const fitEnd = seed.fitted.firstFrame + seed.fitted.frameCount;
  if (paused < fitEnd) await expect3dOn(page, paused);
  else await expect(page.getByTestId('view-frame-3d')).toHaveText(`Frame ${paused} · not fitted`);
  // Back into the fit: the 3D follows a seek again.
  await slider.fill('20');
  await expectAllOn(page, 20);
  await expect3dOn(page, 20);
  await page.screenshot({ path: path.join(screenshotDir, 'multiview.png') });

  // A tile opens its camera alone at the same frame.
  const last = names[names.length - 1];
  await page.locator(`[data-testid="view-tile"][data-camera="${last}"] .view-stage`).click();
  await expect(page).toHaveURL(new RegExp(`#/session/${sessionId}\\?frame=20&camera=\\d+`));
  await expect(page.locator(`[data-testid="camera-item"][data-camera="${last}"]`)).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expect(page.getByTestId('frame-counter')).toContainText('Frame 20 /');
  expect(pageErrors).toEqual([]);
});
