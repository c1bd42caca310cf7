import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { SeededSession } from './seed-motifs';
import { frameCounter, repoRoot, startServer, stopServer, watchPage } from './server';

/**
 * The A4Mer UI on real data: the Pose2Sim capture imported twice (a copy under another name, so
 * families recur across the library) with the CLI, proposals and models written by seed-motifs.ts
 * through the real store (no extraction job exists yet), then the real server and Chromium.
 */
const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');
const screenshotDir = path.join(__dirname, 'screenshots');

interface Seed {
  modelId: number;
  runningModelId: number;
  curveSteps: number;
  sessions: SeededSession[];
}

let serverUrl = '';
let tmp = '';
let seed: Seed;

function studio(...args: string[]): string {
  return execFileSync('npx', ['tsx', ...args], { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' });
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-motifs-'));
  const dataDir = path.join(tmp, 'data');
  const take2 = path.join(tmp, 'balancing-take2');
  fs.cpSync(sampleDir, take2, { recursive: true });
  for (const dir of [sampleDir, take2]) studio('main/cli/index.ts', '--data-dir', dataDir, 'import', dir);
  const out = studio('test/e2e/seed-motifs.ts', dataDir);
  seed = JSON.parse(out.trim().split('\n').pop()!) as Seed;
  expect(seed.sessions).toHaveLength(2);
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(tmp));

function seeded(name: string): SeededSession {
  const s = seed.sessions.find((x) => x.name === name);
  if (!s) throw new Error(`no seeded session named ${name}`);
  return s;
}

async function openSession(page: Page, name: string): Promise<void> {
  await page.goto(serverUrl);
  await page.getByTestId('session-row').filter({ hasText: name }).click();
  await expect
    .poll(() => page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).readyState), {
      timeout: 30_000,
    })
    .toBeGreaterThanOrEqual(2);
}

/** The video's paused flag and the frame counter, read together. */
async function playerState(page: Page): Promise<{ paused: boolean; frame: number }> {
  const paused = await page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).paused);
  return { paused, frame: (await frameCounter(page)).frame };
}

test('timeline under the video: segments as stored, a click seeks, the playhead follows', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  const s = seeded('pose2sim-balancing');
  await openSession(page, s.name);

  const timeline = page.getByTestId('motif-timeline');
  await expect(timeline).toBeVisible();
  const atoms = page.getByTestId('atom-segment');
  const motifs = page.getByTestId('motif-segment');
  await expect(atoms).toHaveCount(s.atoms.length);
  await expect(motifs).toHaveCount(s.motifs.length);
  expect(await atoms.evaluateAll((els) => els.map((e) => Number(e.dataset.start)))).toEqual(
    s.atoms.map((a) => a.start),
  );
  expect(await motifs.evaluateAll((els) => els.map((e) => Number(e.dataset.family)))).toEqual(
    s.motifs.map((m) => m.family),
  );
  // Segments are laid out in proportion to their frames: the last motif ends at the track's right edge.
  const track = (await page.locator('.motif-track-motif').boundingBox())!;
  const last = (await motifs.last().boundingBox())!;
  expect(
    Math.abs(last.x + last.width - (track.x + (track.width * s.motifs.at(-1)!.end) / s.frameCount)),
  ).toBeLessThan(2);
  // Same family, same colour; the label names the family.
  const m0 = s.motifs[0];
  const twin = s.motifs.findIndex((m, i) => i > 0 && m.family === m0.family);
  expect(twin).toBeGreaterThan(0);
  const bg = (i: number) => motifs.nth(i).evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(await bg(twin)).toBe(await bg(0));
  await expect(motifs.first()).toHaveText(`F${m0.family}`);
  await expect(motifs.first()).toHaveAttribute('aria-label', /family F\d+: frames \d+–\d+/);
  await expect(atoms.nth(2)).toHaveAttribute('title', new RegExp(`code ${s.atoms[2].code}`));

  // A click on a motif seeks to its start: the frame counter, the playhead and the readout follow.
  const target = s.motifs[3];
  expect((await frameCounter(page)).frame).not.toBe(target.start);
  await motifs.nth(3).click();
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${target.start} /`);
  await expect(timeline).toHaveAttribute('data-frame', String(target.start));
  await expect(motifs.nth(3)).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('motif-readout')).toContainText(`motif F${target.family}`);

  // An atom too, and from the keyboard: arrows move along the track, Enter seeks.
  await atoms.nth(5).click();
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${s.atoms[5].start} /`);
  await page.keyboard.press('ArrowRight');
  await expect(atoms.nth(6)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${s.atoms[6].start} /`);

  // Playback moves the playhead with the player.
  await atoms.first().click();
  await page.getByTestId('play').click();
  await expect.poll(async () => Number(await timeline.getAttribute('data-frame'))).toBeGreaterThan(10);
  await page.getByTestId('play').click();
  await expect.poll(async () => (await playerState(page)).paused).toBe(true);
  await page.waitForTimeout(300);
  const { frame } = await frameCounter(page);
  await expect(timeline).toHaveAttribute('data-frame', String(frame));
  expect(pageErrors).toEqual([]);
});

test('a family lists its occurrences across the library and plays them', async ({ page }) => {
  const pageErrors = watchPage(page);
  const here = seeded('pose2sim-balancing');
  const other = seeded('balancing-take2');
  // A family found in both sessions.
  const family = here.motifs.map((m) => m.family!).find((f) => other.motifs.some((m) => m.family === f))!;
  const all = seed.sessions
    .slice()
    .sort((a, b) => a.id - b.id)
    .flatMap((s) => s.motifs.filter((m) => m.family === family).map((m) => ({ session: s, ...m })));
  await openSession(page, here.name);
  // Media events do not bubble; a capturing listener on the window counts every start of playback.
  await page.evaluate(() => {
    const w = window as unknown as { plays: number };
    w.plays = 0;
    window.addEventListener('play', () => w.plays++, true);
  });

  await page.locator(`[data-testid="family-chip"][data-family="${family}"]`).click();
  const panel = page.getByTestId('family-panel');
  await expect(panel).toBeVisible();
  const items = panel.getByTestId('occurrence-item');
  await expect(items).toHaveCount(all.length);
  expect(
    await items.evaluateAll((els) =>
      els.map((e) => `${e.dataset.session}:${e.dataset.start}-${e.dataset.end}`),
    ),
  ).toEqual(all.map((o) => `${o.session.id}:${o.start}-${o.end}`));
  await expect(items.filter({ hasText: other.name }).first()).toContainText(/\d+ frames · 0\.\d\d s/);
  // The family's motifs stand out in the track.
  await expect(page.locator('.motif-seg-motif.selected')).toHaveCount(
    here.motifs.filter((m) => m.family === family).length,
  );
  await page.screenshot({ path: path.join(screenshotDir, 'motif-timeline.png') });

  // Play an occurrence in the other session: the view follows the link, plays from its start and stops at its end.
  const o = all.find((x) => x.session.id === other.id)!;
  const occurrence = panel.locator(
    `[data-testid="occurrence-item"][data-session="${other.id}"][data-start="${o.start}"]`,
  );
  await occurrence.getByTestId('occurrence-play').click();
  await expect(page).toHaveURL(new RegExp(`#/session/${other.id}\\?frame=${o.start}&end=${o.end}`));
  await expect(page.locator('h1')).toHaveText(other.name);
  await expect(page.getByTestId('family-panel')).toBeVisible();
  await expect.poll(() => playerState(page), { timeout: 30_000 }).toEqual({ paused: true, frame: o.end - 1 });
  expect(await page.evaluate(() => (window as unknown as { plays: number }).plays)).toBeGreaterThanOrEqual(1);
  await expect(
    page.locator(`[data-testid="occurrence-item"][data-session="${other.id}"][data-start="${o.start}"]`),
  ).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('motif-timeline')).toHaveAttribute('data-frame', String(o.end - 1));

  // Looping: the clip plays again and again inside its frames until the user pauses.
  await page.getByTestId('loop').check();
  await page
    .locator(`[data-testid="occurrence-item"][data-session="${other.id}"][data-start="${o.start}"]`)
    .getByTestId('occurrence-play')
    .click();
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    await page.waitForTimeout(250);
    const st = await playerState(page);
    expect(st.paused, 'a looping clip keeps playing').toBe(false);
    seen.push(st.frame);
  }
  console.log(`looping ${o.start}–${o.end - 1}: frames seen ${seen.join(', ')}`);
  for (const f of seen) {
    expect(f).toBeGreaterThanOrEqual(o.start);
    expect(f).toBeLessThan(o.end);
  }
  await page.getByTestId('play').click();
  await expect.poll(async () => (await playerState(page)).paused).toBe(true);

  // Play all: each occurrence in turn, across both sessions, ending paused on the last one's last frame.
  await page.getByTestId('loop').uncheck();
  const playsBefore = await page.evaluate(() => (window as unknown as { plays: number }).plays);
  await page.getByTestId('play-all').click();
  const end = all.at(-1)!;
  await expect(page).toHaveURL(
    new RegExp(`#/session/${end.session.id}\\?frame=${end.start}&end=${end.end}`),
    {
      timeout: 60_000,
    },
  );
  await expect
    .poll(() => playerState(page), { timeout: 30_000 })
    .toEqual({ paused: true, frame: end.end - 1 });
  const plays = (await page.evaluate(() => (window as unknown as { plays: number }).plays)) - playsBefore;
  expect(plays).toBeGreaterThanOrEqual(all.length);
  expect(pageErrors).toEqual([]);
});

test('models view: the registry and a drawn loss curve', async ({ page }) => {
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  await page.getByTestId('models-link').click();
  await expect(page).toHaveURL(/#\/models$/);
  await expect(page.getByTestId('models-view')).toBeVisible();
  const rows = page.getByTestId('model-row');
  await expect(rows).toHaveCount(2);
  const ready = page.locator(`[data-testid="model-row"][data-model="${seed.modelId}"]`);
  await expect(ready).toHaveAttribute('data-state', 'ready');
  await expect(ready.getByTestId('model-steps')).toHaveText('400 / 400');
  await expect(ready).toContainText('sequences 2');
  await expect(
    page.locator(`[data-testid="model-row"][data-model="${seed.runningModelId}"]`).getByTestId('model-steps'),
  ).toHaveText('120 / 400');

  await ready.click();
  await expect(ready).toHaveAttribute('aria-selected', 'true');
  const curve = page.getByTestId('loss-curve');
  await expect(curve).toHaveAttribute('data-steps', String(seed.curveSteps));
  await expect(curve).toHaveAttribute('data-series', 'loss,local,global');
  // The loss line is drawn: pixels of its colour (#3d8bfd) on the plot's canvas.
  const lossPixels = () =>
    curve.locator('canvas').evaluate((c) => {
      const el = c as HTMLCanvasElement;
      const px = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4)
        if (Math.abs(px[i] - 61) + Math.abs(px[i + 1] - 139) + Math.abs(px[i + 2] - 253) < 60) n++;
      return n;
    });
  await expect.poll(lossPixels).toBeGreaterThan(300);
  await page.screenshot({ path: path.join(screenshotDir, 'models-view.png') });
  // On a log scale the plot is rebuilt and still drawn.
  await page.getByLabel('Log scale').check();
  await expect.poll(lossPixels).toBeGreaterThan(300);
  expect(pageErrors).toEqual([]);
});
