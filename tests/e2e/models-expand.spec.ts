// The models workflow in browser mode against a real `deepen serve` (built
// engine + renderer): add the llama-tiny fixture (after a bad folder is
// refused in place), plan on the block diagram with the keyboard, expand, and
// find the new model registered under its parent with its checks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { startServe, type Served } from './serve';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const llamaTiny = path.resolve(root, '../shared/fixtures/hf/llama-tiny');

let served: Served;
let url: string;
let home: string;

test.beforeAll(async () => {
  served = await startServe();
  url = served.url;
  home = served.home;
});

test.afterAll(async () => {
  await served?.dispose();
});

test('add a folder, plan on the block diagram, expand, and open the result with its lineage', async ({ page }) => {
  await page.goto(url);

  // A folder that is not a model is refused where the path was typed.
  await page.getByTestId('add-model-path').fill(path.join(home, 'missing'));
  await page.getByTestId('add-model-submit').click();
  await expect(page.getByTestId('add-model-error')).toContainText('is not a folder');

  await page.getByTestId('add-model-path').fill(llamaTiny);
  await page.getByTestId('add-model-submit').click();
  await expect(page.getByTestId('model-detail-name')).toHaveText('llama-tiny');
  await expect(page.getByTestId('model-facts')).toContainText('4 / 2 (head dim 16)');

  await page.getByTestId('open-in-expand').click();
  // The paper's layout for 8 blocks: 2 groups of 4, new blocks 4 and 9.
  await expect(page.getByTestId('figure-depth')).toContainText('10');
  await expect(page.getByTestId('diagram-new-block')).toHaveCount(2);
  await expect(page.getByTestId('slot-3')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('memory-formula')).toContainText('AdamW m and v');

  // Keyboard: one tab stop for the slots; arrows move, Enter toggles.
  await page.getByTestId('slot-3').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('slot-1')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('slot-1')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('strategy-custom')).toBeChecked();
  await expect(page.getByTestId('figure-depth')).toContainText('11');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('figure-depth')).toContainText('10');

  // Bottom carries the paper's warning; uneven interleaved plans are shown, not refused.
  await page.getByTestId('strategy-bottom').check();
  await expect(page.getByTestId('bottom-warning')).toContainText('29.36');
  await page.getByTestId('strategy-interleaved').check();
  await page.getByTestId('input-groups').fill('3');
  await expect(page.getByTestId('plan-warning')).toContainText('do not split evenly');
  await page.getByTestId('input-groups').fill('2');
  await expect(page.getByTestId('plan-description')).toContainText('new blocks at 4, 9');

  await page.getByTestId('expand-open').click();
  await page.getByTestId('expand-name').fill('tiny pro');
  await expect(page.getByTestId('expand-outdir')).toHaveValue(/models[\\/]tiny-pro$/);
  await page.getByTestId('expand-confirm').click();

  // Success opens the new model on the Models page, under its parent.
  await expect(page.getByTestId('model-detail-name')).toHaveText('tiny pro', { timeout: 60_000 });
  await expect(page.getByTestId('model-lineage')).toContainText('llama-tiny');
  await expect(page.getByTestId('lineage-new-blocks')).toHaveText('4, 9');
  await expect(page.getByTestId('model-checks')).toContainText('copied byte-for-byte');
  await expect(page.getByTestId('model-delta')).toContainText('max |Δlogit|');
  await expect(page.getByTestId('model-row')).toHaveCount(2);

  // Removing keeps the files unless asked.
  await page.getByTestId('remove-model').click();
  await page.getByTestId('remove-confirm').click();
  await expect(page.getByTestId('model-row')).toHaveCount(1);
  expect(fs.existsSync(path.join(home, 'models', 'tiny-pro', 'config.json'))).toBe(true);
});
