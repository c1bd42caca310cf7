import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import type { ApiMethod, ApiRequest, ApiResponse } from '../../preload/api';
import type { SeededSession } from './seed-motifs';
import { repoRoot, startServer, stopServer, watchPage } from './server';

/**
 * Annotation editing on real data: the Pose2Sim capture imported with the CLI, motif proposals seeded
 * by seed-motifs.ts (no extraction job), the real server and Chromium. Segments are created by a drag
 * and by painting while the video plays, moved by their edges and by frame nudges, split, merged,
 * relabelled, deleted, undone and redone with the mouse and the keyboard; a reload shows the same
 * segments as the API and keeps the history; naming a motif family and accepting its proposals in
 * bulk makes segments whose source is that family.
 */
const sampleDir = path.resolve(repoRoot, '../shared/data/pose2sim-balancing');
const screenshotDir = path.join(__dirname, 'screenshots');

let serverUrl = '';
let tmp = '';
let session: SeededSession;

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

test.beforeAll(async () => {
  test.setTimeout(120_000);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-annotations-'));
  const dataDir = path.join(tmp, 'data');
  const tsx = (...args: string[]) =>
    execFileSync('npx', ['tsx', ...args], { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' });
  tsx('main/cli/index.ts', '--data-dir', dataDir, 'import', sampleDir);
  const seed = JSON.parse(tsx('test/e2e/seed-motifs.ts', dataDir).trim().split('\n').pop()!) as {
    sessions: SeededSession[];
  };
  session = seed.sessions[0];
  serverUrl = await startServer(dataDir);
  fs.mkdirSync(screenshotDir, { recursive: true });
});

test.afterAll(() => stopServer(tmp));

async function openSession(page: Page): Promise<void> {
  await page.goto(serverUrl);
  await page.getByTestId('session-row').filter({ hasText: session.name }).click();
  await waitForVideo(page);
}

async function waitForVideo(page: Page): Promise<void> {
  await expect
    .poll(() => page.getByTestId('video').evaluate((v) => (v as HTMLVideoElement).readyState), {
      timeout: 30_000,
    })
    .toBeGreaterThanOrEqual(2);
}

const tier = (page: Page, name: string) => page.locator(`[data-testid="tier-row"][data-tier="${name}"]`);

/** Screen x of a frame's middle, or of the boundary before frame `b`, on a tier's track. */
async function trackGeometry(track: Locator, frames: number) {
  const box = (await track.boundingBox())!;
  return {
    y: box.y + box.height / 2,
    mid: (f: number) => box.x + ((f + 0.5) * box.width) / frames,
    edge: (b: number) => box.x + (b * box.width) / frames,
  };
}

async function drag(page: Page, x0: number, x1: number, y: number): Promise<void> {
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, y, { steps: 3 });
  await page.mouse.move(x1, y, { steps: 3 });
  await page.mouse.up();
}

/** [start, end, label] of a tier's segments as drawn. */
const drawn = (segs: Locator): Promise<[number, number, string][]> =>
  segs.evaluateAll((els) =>
    els.map((e): [number, number, string] => [
      Number(e.dataset.start),
      Number(e.dataset.end),
      e.dataset.label ?? '',
    ]),
  );

/** [start, end, label] of a tier's segments as the library holds them. */
async function stored(name: string): Promise<[number, number, string][]> {
  const list = await call('listAnnotations', { sessionId: session.id });
  return list.tiers.find((t) => t.name === name)!.annotations.map((a) => [a.start, a.end, a.label]);
}

test('create, move, split, merge, relabel, delete, undo and redo; all of it persists', async ({ page }) => {
  const pageErrors = watchPage(page);
  const N = session.frameCount;
  await openSession(page);
  const timeline = page.getByTestId('annotation-timeline');
  await expect(page.getByTestId('tier-row')).toHaveCount(2);
  await expect(timeline).toHaveAttribute('data-active-tier', 'action');
  const action = tier(page, 'action');
  const segs = action.getByTestId('annotation-segment');
  // Re-measured before each use: the timeline grows (a tier, a panel) and the player above it gives way.
  const geometry = () => trackGeometry(action.getByTestId('tier-track'), N);
  let at = await geometry();
  const expectSegs = (want: [number, number, string][]) => expect.poll(() => drawn(segs)).toEqual(want);

  // Create by dragging over frames 10..30 (both included).
  await page.getByTestId('ann-brush-label').fill('walk');
  await drag(page, at.mid(10), at.mid(30), at.y);
  await expectSegs([[10, 31, 'walk']]);
  await expect(segs.first()).toHaveAttribute('data-source', 'user');
  await expect(segs.first()).toHaveAttribute('aria-pressed', 'true');

  // Paint while playing: hold P from frame 50 while the video plays.
  await page.getByTestId('ann-brush-label').fill('sway');
  await page.getByRole('slider', { name: 'Frame' }).fill('50');
  await action.getByTestId('tier-name').click(); // focus off the fields: shortcuts are off while typing
  await page.keyboard.press('Space');
  await page.keyboard.down('p');
  await expect.poll(async () => Number(await timeline.getAttribute('data-frame'))).toBeGreaterThan(62);
  await page.keyboard.up('p');
  await page.keyboard.press('Space');
  await expect(segs).toHaveCount(2);
  const [, [p0, p1, pLabel]] = await drawn(segs);
  console.log(`painted while playing: [${p0}, ${p1})`);
  expect(pLabel).toBe('sway');
  expect(p0).toBeGreaterThanOrEqual(50);
  expect(p1 - p0).toBeGreaterThan(8);
  expect(await stored('action')).toEqual(await drawn(segs));

  at = await geometry();
  // Move: drag the end edge to 40, the start edge to 5; then nudge the start later and the end later.
  await drag(page, at.edge(31) - 2, at.edge(40), at.y);
  await expectSegs([
    [10, 40, 'walk'],
    [p0, p1, 'sway'],
  ]);
  await drag(page, at.edge(10) + 2, at.edge(5), at.y);
  await expect(segs.first()).toHaveAttribute('data-start', '5');
  await segs.first().click({ position: { x: 60, y: 5 } });
  await page.keyboard.press('.');
  await page.keyboard.press('Shift+Period');
  await expectSegs([
    [6, 41, 'walk'],
    [p0, p1, 'sway'],
  ]);

  at = await geometry();
  // Split at the playhead: S (a click on the segment puts the playhead there), then the toolbar button.
  await page.mouse.click(at.mid(20), at.y);
  await expect(page.getByTestId('frame-counter')).toContainText('Frame 20 /');
  await page.keyboard.press('s');
  await page.mouse.click(at.mid(30), at.y);
  await page.getByTestId('ann-split').click();
  await expectSegs([
    [6, 20, 'walk'],
    [20, 30, 'walk'],
    [30, 41, 'walk'],
    [p0, p1, 'sway'],
  ]);

  // Merge with the next: M, then the toolbar button.
  at = await geometry();
  await page.mouse.click(at.mid(25), at.y);
  await page.keyboard.press('m');
  await expectSegs([
    [6, 20, 'walk'],
    [20, 41, 'walk'],
    [p0, p1, 'sway'],
  ]);
  await page.mouse.click(at.mid(8), at.y);
  await page.getByTestId('ann-merge').click();
  await expectSegs([
    [6, 41, 'walk'],
    [p0, p1, 'sway'],
  ]);

  // Delete (key) and undo (toolbar); jump between segments and boundaries.
  at = await geometry();
  await page.mouse.click(at.mid(p0 + 1), at.y);
  await page.keyboard.press('Delete');
  await expectSegs([[6, 41, 'walk']]);
  await page.getByTestId('ann-undo').click();
  await expectSegs([
    [6, 41, 'walk'],
    [p0, p1, 'sway'],
  ]);
  await action.getByTestId('tier-name').click();
  await page.keyboard.press('Home');
  await page.keyboard.press(']');
  await expect(page.getByTestId('frame-counter')).toContainText('Frame 6 /');
  await page.keyboard.press(']');
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${p0} /`);
  await page.keyboard.press('Shift+BracketRight');
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${Math.min(p1, N - 1)} /`);
  await page.keyboard.press('[');
  await expect(page.getByTestId('frame-counter')).toContainText(`Frame ${p0} /`);
  await page.keyboard.press('Shift+BracketLeft');
  await expect(page.getByTestId('frame-counter')).toContainText('Frame 41 /');

  // Relabel: double-click -> free text; L -> the picker again.
  await segs.first().dblclick();
  await page.getByTestId('label-input').fill('stride');
  await page.keyboard.press('Enter');
  await expect(segs.first()).toHaveAttribute('data-label', 'stride');
  await page.keyboard.press('l');
  await expect(page.getByTestId('label-picker')).toBeVisible();
  await page.getByTestId('label-input').fill('step');
  await page.getByTestId('label-apply').click();
  await expect(segs.first()).toHaveAttribute('data-label', 'step');

  // Undo and redo with the keyboard and the toolbar.
  await page.keyboard.press('Control+z');
  await expect(segs.first()).toHaveAttribute('data-label', 'stride');
  await page.getByTestId('ann-undo').click();
  await expect(segs.first()).toHaveAttribute('data-label', 'walk');
  await page.getByTestId('ann-redo').click();
  await expect(segs.first()).toHaveAttribute('data-label', 'stride');
  await page.keyboard.press('Control+Shift+Z');
  await expect(segs.first()).toHaveAttribute('data-label', 'step');
  await expect(page.getByTestId('ann-redo')).toBeDisabled();
  await page.keyboard.press('Control+z');
  await expect(segs.first()).toHaveAttribute('data-label', 'stride');
  await expect(timeline).toHaveAttribute('data-history', 'undo redo');

  // Shortcuts stay off while typing: an S in the label field splits nothing.
  await page.getByTestId('ann-brush-label').fill('');
  await page.getByTestId('ann-brush-label').press('s');
  await expect(page.getByTestId('ann-brush-label')).toHaveValue('s');
  expect(await drawn(segs)).toHaveLength(2);

  // The sheet lists every shortcut; Escape closes it.
  await action.getByTestId('tier-name').click();
  await page.keyboard.press('?');
  const sheet = page.getByTestId('shortcut-sheet');
  await expect(sheet).toBeVisible();
  await expect(sheet.locator('[data-testid="shortcut-row"][data-action]')).toHaveCount(18);
  await expect(sheet).toContainText('Ctrl+Shift+Z');
  await page.keyboard.press('Escape');
  await expect(sheet).toBeHidden();

  // A vocabulary made in the UI: two labels with colours, reordered.
  await page.getByTestId('ann-vocabularies').click();
  const editor = page.getByTestId('vocabulary-editor');
  await editor.getByTestId('vocabulary-new-name').fill('gait');
  await editor.getByTestId('vocabulary-create').click();
  await expect(editor.getByTestId('vocabulary-labels')).toHaveAttribute('data-vocabulary', 'gait');
  for (const [name, colour, description] of [
    ['stance', '#e15759', 'both feet down'],
    ['swing', '#59c27a', 'one foot moves'],
  ]) {
    await editor.getByTestId('label-new-name').fill(name);
    await editor.getByTestId('label-new-colour').fill(colour);
    await editor.getByTestId('label-new-description').fill(description);
    await editor.getByTestId('label-add').click();
    await expect(editor.locator(`[data-testid="vocabulary-label"][data-label="${name}"]`)).toHaveAttribute(
      'data-colour',
      colour,
    );
  }
  await editor.getByRole('button', { name: 'Move stance down' }).click();
  await expect
    .poll(() => editor.getByTestId('vocabulary-label').evaluateAll((els) => els.map((e) => e.dataset.label)))
    .toEqual(['swing', 'stance']);
  await editor.getByRole('button', { name: 'Close the vocabularies' }).click();
  const gaitVocabulary = (await call('listVocabularies', {})).find((v) => v.name === 'gait')!;
  expect(gaitVocabulary.labels.map((l) => [l.name, l.colour, l.description])).toEqual([
    ['swing', '#59c27a', 'one foot moves'],
    ['stance', '#e15759', 'both feet down'],
  ]);

  // A tier with that vocabulary, added in the UI; a drag makes a segment of its first label, in its colour.
  await page.getByTestId('add-tier-name').fill('gait');
  await page.getByTestId('add-tier-vocabulary').selectOption({ label: 'gait' });
  await page.getByTestId('add-tier-submit').click();
  const gait = tier(page, 'gait');
  await expect(gait).toHaveAttribute('data-kind', 'free');
  const g = await trackGeometry(gait.getByTestId('tier-track'), N);
  await drag(page, g.mid(0), g.mid(15), g.y);
  const swing = gait.getByTestId('annotation-segment');
  await expect(swing).toHaveAttribute('data-label', 'swing');
  expect(await swing.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(89, 194, 122)');

  // Reload: the same segments as the library holds, and the history is still there (redo, then undo).
  const before = { action: await drawn(segs), gait: await drawn(swing) };
  await page.reload();
  await waitForVideo(page);
  await expect.poll(() => drawn(segs)).toEqual(before.action);
  expect(await drawn(swing)).toEqual(before.gait);
  expect(await stored('action')).toEqual(before.action);
  expect(await stored('gait')).toEqual(before.gait);
  await expect(page.getByTestId('ann-undo')).toBeEnabled();
  await page.keyboard.press('Control+z');
  await expect(swing).toHaveCount(0);
  await page.keyboard.press('Control+y');
  await expect(swing).toHaveCount(1);
  const history = await call('annotationHistory', { sessionId: session.id });
  console.log(`history: ${history.entries.map((e) => `${e.op}:${e.state}`).join(' ')}`);
  expect(history.entries.filter((e) => e.state === 'abandoned').map((e) => e.op)).toEqual([
    'relabel',
    'delete',
  ]);
  expect(pageErrors).toEqual([]);
});

test('name a motif family, then accept its proposals in bulk: segments sourced from the family', async ({
  page,
}) => {
  const pageErrors = watchPage(page);
  await openSession(page);
  // The family with the most occurrences in the session.
  const counts = new Map<number, number>();
  for (const m of session.motifs) counts.set(m.family!, (counts.get(m.family!) ?? 0) + 1);
  const family = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const occurrences = session.motifs.filter((m) => m.family === family);
  const existing = (await call('listAnnotations', { sessionId: session.id })).tiers.find(
    (t) => t.name === 'action',
  )!.annotations;
  const free = occurrences.filter((o) => !existing.some((a) => a.start < o.end && o.start < a.end));
  expect(free.length).toBeGreaterThan(0);

  await page.locator(`[data-testid="family-chip"][data-family="${family}"]`).click();
  await page.getByTestId('name-family').click();
  await page.getByTestId('name-family-label').fill('balance');
  await page.getByTestId('name-family-submit').click();
  await expect(page.getByTestId('name-family-result')).toContainText(
    `${occurrences.length} proposals made for ${occurrences.length} occurrences`,
  );
  const panel = page.getByTestId('proposals-panel');
  await expect(panel.getByTestId('proposal-row')).toHaveCount(occurrences.length);
  const action = tier(page, 'action');
  await expect(action.getByTestId('proposal-ghost')).toHaveCount(occurrences.length);

  await panel.getByTestId('proposals-accept-all').click();
  const fromFamily = action.locator('[data-testid="annotation-segment"][data-source="motif-family"]');
  await expect(fromFamily).toHaveCount(free.length);
  expect(await drawn(fromFamily)).toEqual(free.map((o) => [o.start, o.end, 'balance']));
  await expect(fromFamily.first()).toHaveAttribute('title', new RegExp(`motif family F${family} of model #`));
  // Those overlapping a segment stay pending, and the panel says why.
  const overlapping = occurrences.length - free.length;
  await expect(panel.getByTestId('proposal-row')).toHaveCount(overlapping);
  if (overlapping > 0) await expect(panel.getByTestId('proposals-skipped')).toContainText('overlaps');
  const list = await call('listAnnotations', { sessionId: session.id });
  const sourced = list.tiers
    .find((t) => t.name === 'action')!
    .annotations.filter((a) => a.source.kind === 'motif-family');
  expect(sourced.map((a) => [a.start, a.end, a.source])).toEqual(
    free.map((o) => [o.start, o.end, expect.objectContaining({ kind: 'motif-family', family })]),
  );
  await page.screenshot({ path: path.join(screenshotDir, 'annotations.png') });

  // One undo reverts the bulk accept: the proposals are pending again.
  await page.keyboard.press('Control+z');
  await expect(fromFamily).toHaveCount(0);
  await expect(panel.getByTestId('proposal-row')).toHaveCount(occurrences.length);
  await page.keyboard.press('Control+Shift+z');
  await expect(fromFamily).toHaveCount(free.length);
  if (overlapping > 0) {
    await panel.getByTestId('proposals-reject-all').click();
    await expect(panel).toBeHidden();
  }
  expect(pageErrors).toEqual([]);
});
