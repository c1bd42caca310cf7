import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import type {
  FitPick,
  FitSummary,
  JobInfo,
  KeypointBlock,
  SessionDetail,
  UserKeypoint,
} from '../../preload/api';
import { repoRoot, startServer, stopServer, watchPage } from './server';

/**
 * Fit correction in the review, on the real Pose2Sim capture with a short real fit made through the
 * API before the page opens: mark a bad range on the frame strip, drag a detected joint in cam01 to add
 * a user keypoint, re-fit around it (a refit job: a new version), compare the two versions, and pick
 * one for export, persisted across a reload.
 */
const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');
const screenshotDir = path.join(__dirname, 'screenshots');
const FIT_START = 0;
const FIT_COUNT = 60;
/** The corrected frame: its refit window is [10, 41). */
const FRAME = 25;

let serverUrl = '';
let dataDir = '';
let sessionId = 0;
let baseFitId = 0;

/** A call of the API from the test (the token is the server URL's). */
async function api<T>(method: string, body: unknown): Promise<T> {
  const url = new URL(serverUrl);
  const res = await fetch(`${url.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${url.searchParams.get('token')}` },
    body: JSON.stringify(body),
  });
  const out = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(`${method}: ${res.status} ${out.message}`);
  return out;
}

async function finished(job: JobInfo): Promise<JobInfo> {
  for (let i = 0; i < 1200 && ['queued', 'running'].includes(job.state); i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = await api<JobInfo>('getJob', { jobId: job.id });
  }
  if (job.state !== 'succeeded') throw new Error(`${job.kind} job #${job.id}: ${job.state} ${job.error}`);
  return job;
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-fit-correction-'));
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
  const t0 = Date.now();
  const imported = await finished(await api<JobInfo>('importSession', { path: sampleDir }));
  sessionId = Number(imported.result!.sessionId);
  const fitted = await finished(
    await api<JobInfo>('fitSession', { sessionId, ground: false, start: FIT_START, count: FIT_COUNT }),
  );
  baseFitId = Number(fitted.result!.fitId);
  console.log(`setup (import + ${FIT_COUNT}-frame fit through the API): ${(Date.now() - t0) / 1000} s`);
});

test.afterAll(() => stopServer(dataDir));

/** Screen x (page pixels) of the middle of `frame` on the frame strip. */
async function stripX(strip: Locator, frame: number): Promise<{ x: number; y: number }> {
  const box = (await strip.boundingBox())!;
  return { x: box.x + ((frame - FIT_START + 0.5) / FIT_COUNT) * box.width, y: box.y + box.height / 2 };
}

async function seek(page: Page, frame: number): Promise<void> {
  const at = await stripX(page.getByTestId('fit-frame-strip'), frame);
  await page.mouse.click(at.x, at.y);
  await expect(page.getByTestId('frame-readout')).toHaveAttribute('data-frame', String(frame));
}

test('marks a bad range, drags a joint, re-fits around it, compares and picks the version to export', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const t0 = Date.now();
  const pageErrors = watchPage(page);
  const session = await api<SessionDetail>('getSession', { sessionId });
  const cam = session.cameras.find((c) => c.name === 'cam01')!;
  await page.goto(`${serverUrl}#/session/${sessionId}/fit`);
  await expect(page.getByTestId('fit-stats')).toContainText('median reprojection', { timeout: 30_000 });
  await page.getByTestId('camera-select').selectOption({ label: 'cam01' });
  const video = page.getByTestId('video');
  await expect
    .poll(() => video.evaluate((v) => (v as HTMLVideoElement).readyState), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2);

  // (a) A drag on the strip over frames 12..15 selects them; "Mark bad" stores [12, 16).
  const strip = page.getByTestId('fit-frame-strip');
  const from = await stripX(strip, 12);
  const to = await stripX(strip, 15);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('strip-selection')).toHaveAttribute('data-start', '12');
  await expect(page.getByTestId('strip-selection')).toHaveAttribute('data-end', '16');
  await page.getByTestId('mark-bad').click();
  const badRow = page.getByTestId('bad-range');
  await expect(badRow).toHaveCount(1);
  await expect(badRow).toHaveAttribute('data-start', '12');
  expect(
    (await api<{ start: number; end: number }[]>('listBadRanges', { sessionId })).map((r) => [
      r.start,
      r.end,
    ]),
  ).toEqual([[12, 16]]);

  // (b) At frame 25, drag cam01's right wrist 40 px right and 30 px up: a user keypoint at the drop.
  await seek(page, FRAME);
  const layer = page.getByTestId('keypoint-drag-layer');
  await expect(layer).toHaveAttribute('data-frame', String(FRAME));
  await expect.poll(async () => Number(await layer.getAttribute('data-handles'))).toBeGreaterThan(5);
  const block = await api<KeypointBlock>('keypoints', {
    sessionId,
    cameraId: cam.id,
    start: FRAME,
    count: 1,
  });
  const joint = cam.keypoints!.jointNames.indexOf('RWrist');
  const [u0, v0] = [block.data[joint * 3]!, block.data[joint * 3 + 1]!];
  const box = (await layer.boundingBox())!;
  const [W, H] = [cam.video!.width, cam.video!.height];
  // object-fit: contain, as overlay.ts maps it.
  const scale = Math.min(box.width / W, box.height / H);
  const [ox, oy] = [box.x + (box.width - W * scale) / 2, box.y + (box.height - H * scale) / 2];
  const grab = { x: ox + u0 * scale, y: oy + v0 * scale };
  const drop = { x: grab.x + 40, y: grab.y - 30 };
  await page.mouse.move(grab.x, grab.y);
  await page.mouse.down();
  await expect(layer).toHaveAttribute('data-dragging', String(joint));
  await page.mouse.move(drop.x, drop.y, { steps: 8 });
  await page.mouse.up();
  await expect(layer).toHaveAttribute('data-user-points', '1');
  await expect(page.getByTestId('user-keypoint')).toHaveCount(1);
  const [kp] = await api<UserKeypoint[]>('listUserKeypoints', { sessionId });
  expect([kp.cameraId, kp.frame, kp.joint, kp.confidence]).toEqual([cam.id, FRAME, joint, 1]);
  const expected = [(drop.x - ox) / scale, (drop.y - oy) / scale];
  console.log(
    `user keypoint at (${kp.u.toFixed(1)}, ${kp.v.toFixed(1)}), drop at (${expected.map((e) => e.toFixed(1))})`,
  );
  expect(Math.abs(kp.u - expected[0])).toBeLessThan(3);
  expect(Math.abs(kp.v - expected[1])).toBeLessThan(3);

  // (c) Re-fit around frame 25: frames 10..40 as a new version, which the review then shows.
  await expect(page.getByTestId('refit-button')).toContainText('10–40');
  await page.getByTestId('refit-button').click();
  const job = page.getByTestId('refit-job').getByTestId('job-row');
  await expect(job).toHaveAttribute('data-state', /succeeded|failed|cancelled/, { timeout: 60_000 });
  await expect(job).toHaveAttribute('data-state', 'succeeded');
  await expect(page.getByTestId('fit-version')).toHaveCount(2);
  const fits = await api<FitSummary[]>('listFits', { sessionId });
  const refitId = fits[0].id;
  expect(fits[0].label).toBe(`refit of #${baseFitId} frames 10–40`);
  await expect(page.getByTestId('fit-select')).toHaveValue(String(refitId));

  // (d) Compare base (A) and refit (B): a curve and a summary, differing only in the window.
  await expect(page.getByTestId('compare-button')).toContainText(`#${baseFitId} ↔ #${refitId}`);
  await page.getByTestId('compare-button').click();
  const summary = page.getByTestId('compare-summary');
  await expect(summary).toContainText('frames > 1 cm');
  await expect(summary).toContainText('median');
  await expect(page.getByTestId('compare-curve').locator('canvas')).toHaveCount(1);
  expect(Number(await summary.getAttribute('data-max'))).toBeGreaterThan(0);
  const [first, last] = [
    Number(await summary.getAttribute('data-differ-first')),
    Number(await summary.getAttribute('data-differ-last')),
  ];
  console.log(`versions differ in frames ${first}–${last}: ${await summary.innerText()}`);
  expect(first).toBeGreaterThanOrEqual(10);
  expect(last).toBeLessThanOrEqual(40);
  expect(first).toBeLessThanOrEqual(FRAME);
  expect(last).toBeGreaterThanOrEqual(FRAME);

  // (e) Use the base version for export; the pick survives a reload.
  const baseRow = page.locator(`[data-testid="fit-version"][data-fit="${baseFitId}"]`);
  await expect(page.locator(`[data-testid="fit-version"][data-fit="${refitId}"]`)).toHaveAttribute(
    'data-exported',
    'newest',
  );
  await baseRow.getByTestId('use-for-export').click();
  await expect(baseRow).toHaveAttribute('data-exported', 'picked');
  expect((await api<FitPick>('pickedFit', { sessionId })).fit?.id).toBe(baseFitId);
  await expect(page.getByTestId('fit-frame-strip')).toHaveAttribute('data-bad', '1');
  await page.screenshot({ path: path.join(screenshotDir, 'fit-correction.png') });
  await page.reload();
  await expect(page.locator(`[data-testid="fit-version"][data-fit="${baseFitId}"]`)).toHaveAttribute(
    'data-exported',
    'picked',
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('bad-range')).toHaveCount(1);
  await expect(page.getByTestId('user-keypoint')).toHaveCount(1);
  console.log(`fit correction UI: ${(Date.now() - t0) / 1000} s`);
  expect(pageErrors).toEqual([]);
});
