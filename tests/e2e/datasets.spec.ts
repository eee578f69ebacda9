// The datasets workflow in browser mode against a real `deepen serve`: import
// a chat file (preview, detected mapping, a bad line skipped and reported),
// scroll the virtualized table, search, edit a record, statistics, split,
// delete by filter, export, and delete the dataset.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startServe, type Served } from './serve';

let served: Served;

test.beforeAll(async () => {
  served = await startServe();
});

test.afterAll(async () => {
  await served?.dispose();
});

test('import, browse, search, edit, split, delete by filter, export and delete a dataset', async ({ page }) => {
  const src = path.join(served.home, 'chats.jsonl');
  const rows = Array.from({ length: 3000 }, (_, i) =>
    JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `${i % 2 ? 'odd' : 'even'} answer ${'x'.repeat(i % 300)}` }] }),
  );
  rows.splice(10, 0, '{"messages": oops}');
  fs.writeFileSync(src, rows.join('\n') + '\n');

  await page.goto(served.url);
  await page.getByTestId('nav-datasets').click();
  await expect(page.getByTestId('empty-datasets')).toBeVisible();
  await page.getByTestId('import-dataset-empty').click();

  // Preview: format and mapping detected, the bad line reported before importing.
  await page.getByTestId('import-path').fill(src);
  await page.getByTestId('import-preview').click();
  await expect(page.getByTestId('import-detected')).toHaveAttribute('data-format', 'jsonl');
  await expect(page.getByTestId('import-detected')).toHaveAttribute('data-kind', 'chat');
  await expect(page.getByTestId('mapping-messages')).toHaveValue('messages');
  await expect(page.getByTestId('import-problems')).toContainText('chats.jsonl:11: not valid JSON');
  await page.getByTestId('import-name').fill('Chats');
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('import-job')).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('import-report-records')).toHaveText('3,000');
  await expect(page.getByTestId('import-report-skipped')).toHaveText('1');
  await expect(page.getByTestId('import-report')).toContainText('chats.jsonl:11');
  await expect(page.getByTestId('import-report-search')).toBeVisible();
  await page.getByTestId('import-done').click();

  await expect(page.getByTestId('dataset-name')).toHaveText('Chats');
  await expect(page.getByTestId('dataset-records')).toHaveText('3,000');

  // Virtualized: only the rows in view exist; the last row is reachable by scrolling.
  const viewport = page.getByTestId('records-viewport');
  await expect(viewport).toHaveAttribute('data-total', '3000');
  await expect(page.getByTestId('record-row').first()).toBeVisible();
  expect(await page.getByTestId('record-row').count()).toBeLessThan(80);
  await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('[data-testid="record-row"][data-index="2999"]')).toBeVisible();
  await viewport.evaluate((el) => (el.scrollTop = 0));

  // Search (once the index job that follows the import is done), then open and edit a matching record.
  await expect(page.getByTestId('search-coverage')).toBeHidden({ timeout: 30_000 });
  await page.getByTestId('records-search').fill('odd');
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '1500');
  const first = page.getByTestId('record-row').first();
  await expect(first).toContainText('odd answer');
  await first.click();
  await expect(page.getByTestId('record-dialog')).toBeVisible();
  await page.getByTestId('record-turn').nth(1).locator('textarea').fill('a rewritten reply about durians');
  await page.getByTestId('record-save').click();
  await expect(page.getByTestId('record-dialog')).toBeHidden();
  await page.getByTestId('records-search').fill('durians');
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '1');
  await expect(page.getByTestId('record-row').first()).toContainText('rewritten reply');

  // Statistics with a histogram.
  await page.getByTestId('records-search').fill('');
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '3000');
  await page.getByTestId('dataset-tab-stats').click();
  await expect(page.getByTestId('stat-records')).toHaveText('3,000');
  await expect(page.getByTestId('histogram-bar').first()).toBeVisible();

  // Split 10% into eval.
  await page.getByTestId('split-dataset').click();
  await page.getByTestId('split-percent').fill('10');
  await page.getByTestId('split-start').click();
  await expect(page.getByTestId('split-dialog').getByTestId('dataset-job-done')).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press('Escape');
  await page.getByTestId('dataset-tab-records').click();
  await page.getByTestId('records-split').selectOption('eval');
  const evalCount = () => page.getByTestId('records-count').getAttribute('data-count').then(Number);
  await expect.poll(evalCount).toBeLessThan(400);
  expect(await evalCount()).toBeGreaterThan(200);
  await page.getByTestId('records-split').selectOption('');

  // Delete every "even" record by filter.
  await page.getByTestId('records-search').fill('even');
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '1500');
  await page.getByTestId('delete-matching').click();
  await page.getByTestId('delete-matching-confirm').click();
  await expect(page.getByTestId('delete-matching-dialog').getByTestId('dataset-job-done')).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('dataset-records')).toHaveText('1,500');
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '0');
  await page.getByTestId('records-search').fill('');
  // the search is applied after a pause in typing; the export offers the filter then in force
  await expect(page.getByTestId('records-count')).toHaveAttribute('data-count', '1500');

  // Export what is left.
  const out = path.join(served.home, 'out.jsonl');
  await page.getByTestId('export-dataset').click();
  await page.getByTestId('export-path').fill(out);
  await page.getByTestId('export-start').click();
  await expect(page.getByTestId('export-dialog').getByTestId('dataset-job-done')).toBeVisible({ timeout: 60_000 });
  await page.keyboard.press('Escape');
  expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1500);

  // Delete the dataset.
  await page.getByTestId('delete-dataset').click();
  await page.getByTestId('delete-dataset-confirm').click();
  await expect(page.getByTestId('empty-datasets')).toBeVisible();
});
