// The workbench in browser mode, as a user sees it: every page, a real job
// reaching 100%, a failing job, a cancelled job, a wrong token and a closed
// engine each with a clear message, and a database that stays consistent.
import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import { callEngine, jobsOnDisk, startServe, type Served } from './serve';

const shots = 'test-results/screenshots';
fs.mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

let served: Served;
test.beforeAll(async () => {
  served = await startServe();
});
test.afterAll(async () => {
  await served?.dispose();
});

test('a wrong or missing token is refused with a message saying what to open', async ({ page }) => {
  const wrong = await page.goto(`${served.origin}/?token=not-the-token`);
  expect(wrong?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('needs the access token');
  const none = await page.goto(`${served.origin}/`);
  expect(none?.status()).toBe(401);
});

test('every page opens from the navigation and says what it is for', async ({ page }) => {
  await page.goto(served.url);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  for (const name of ['models', 'expand', 'datasets', 'train', 'chat', 'jobs', 'settings']) {
    await page.getByTestId(`nav-${name}`).click();
    await expect(page).toHaveURL(new RegExp(`#/${name}`));
    await expect(page.locator('main')).not.toBeEmpty();
    await expect(page.locator('main h1').first()).toBeVisible();
    await shot(page, `page-${name}`);
  }
  await page.getByTestId('nav-settings').click();
  await expect(page.locator('main')).toContainText('1.30.0'); // ONNX Runtime version from engine.info
  await expect(page.getByTestId('provider-cpu')).toBeVisible();
});

test('the self-test job runs from the Jobs page and its progress reaches 100%', async ({ page }) => {
  await page.goto(served.url);
  await page.getByTestId('nav-jobs').click();
  await page.getByTestId('selftest-button').click();
  const row = page.getByTestId('job-row').first();
  await expect(row.getByTestId('state-badge')).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
  await expect(row.getByTestId('job-progress')).toHaveAttribute('aria-valuenow', '100');
  await shot(page, 'jobs-selftest-succeeded');
  await row.click();
  await expect(page.getByTestId('job-log')).toContainText('cpu: the graph ran and gave the right sum');
  await shot(page, 'job-detail-succeeded');
});

test('a failing job shows the engine message', async ({ page }) => {
  // CUDA is never installed by `npm install`: a self-test on it fails for a real reason.
  const { jobId } = await callEngine(served, 'engine.selftest', { providers: ['cuda'] });
  await page.goto(served.url);
  await page.goto(`${served.origin}/#/jobs/${jobId}`);
  await expect(page.getByTestId('state-badge').first()).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
  await expect(page.getByTestId('job-error')).toContainText('failed on every provider: cuda');
  await shot(page, 'job-detail-failed');
});

test('a running job is cancelled from the Jobs page', async ({ page }) => {
  const { jobId } = await callEngine(served, 'engine.selftest', { providers: ['cpu'], benchmarkMs: 120_000 });
  await page.goto(served.url);
  await page.getByTestId('nav-jobs').click();
  const row = page.locator(`[data-testid="job-row"][data-id="${jobId}"]`);
  await expect(row.getByTestId('state-badge')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  await expect.poll(async () => Number(await row.getByTestId('job-progress').getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
  await row.getByTestId('job-cancel').click();
  await expect(row.getByTestId('state-badge')).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
  await shot(page, 'jobs-cancelled');
  await page.goto(`${served.origin}/#/jobs/${jobId}`);
  await expect(page.getByTestId('job-error')).toContainText(/cancelled/i);
});

test('the database lists every job in a final state, as a restarted app would', async () => {
  const jobs = jobsOnDisk(served.home);
  expect(jobs.length).toBeGreaterThanOrEqual(3);
  for (const j of jobs) expect(['succeeded', 'failed', 'cancelled']).toContain(j.state);
});

test('a closed engine is shown as such, not as a frozen page', async ({ page }) => {
  const own = await startServe();
  try {
    await page.goto(own.url);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    await own.stop();
    await expect(page.getByTestId('connection-error')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('connection-error')).toContainText(/not reachable/i);
    await shot(page, 'engine-closed');
  } finally {
    await own.dispose();
  }
});
