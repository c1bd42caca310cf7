import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startServer, stopServer, watchPage } from './server';

let serverUrl = '';
let dataDir = '';

test.beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'motion-studio-e2e-settings-'));
  serverUrl = await startServer(dataDir);
});

test.afterAll(() => stopServer(dataDir));

test('Settings lists the open model and refuses a model file that does not exist', async ({ page }) => {
  const pageErrors = watchPage(page);
  await page.goto(serverUrl);
  await page.getByTestId('settings-link').click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  const rows = page.getByTestId('body-model-row');
  await expect(rows).toHaveCount(1);
  const open = rows.first();
  await expect(open).toHaveAttribute('data-ok', 'true');
  await expect(open).toContainText('13380');
  await expect(open).toContainText('31');

  const missing = path.join(dataDir, 'SMPL_NEUTRAL.npz');
  await page.getByTestId('model-path-smpl').fill(missing);
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('error')).toContainText(`${missing}: cannot read (ENOENT)`);
  await expect(rows).toHaveCount(1);

  await page.getByTestId('model-path-smpl').fill('');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-saved')).toBeVisible();
  // The hash route survives a reload.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(page.getByTestId('body-model-row')).toHaveCount(1);
  fs.mkdirSync(path.join(__dirname, 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(__dirname, 'screenshots', 'settings-view.png') });
  expect(pageErrors).toEqual([]);
});
