// Chat in browser mode against a real `deepen serve`: llama-tiny and its
// expanded copy loaded from the model picker (with progress), compared side
// by side under greedy sampling (equal answers, each with its own tokens/s),
// a long answer stopped, a user turn edited and answered again, and a refusal
// shown in the chat; then the same server answering the OpenAI endpoint.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { callEngine, startServe, type Served } from './serve';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const llamaTiny = path.resolve(root, '../shared/fixtures/hf/llama-tiny');

let served: Served;
let baseId: string;
let expandedName: string;

test.beforeAll(async () => {
  served = await startServe();
  const base = await callEngine(served, 'models.add', { path: llamaTiny });
  baseId = base.id;
  const { plan, suggestedName } = await callEngine(served, 'models.plan', { modelId: base.id, strategy: 'interleaved', add: 2 });
  expandedName = suggestedName;
  const { jobId } = await callEngine(served, 'models.expand', { modelId: base.id, plan, name: suggestedName });
  for (let i = 0; i < 120; i++) {
    const job = await callEngine(served, 'jobs.get', { id: jobId });
    if (job.state === 'succeeded') return;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`expand ${job.state}: ${job.error?.message}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('expand did not finish');
});

test.afterAll(async () => {
  await served?.dispose();
});

const option = (page: Page, name: string) => page.locator(`[data-testid=model-option]:has(.name:text-is("${name}"))`);

test('compare base and expanded, stop, edit, and see refusals in the chat', async ({ page }) => {
  await page.goto(served.url);
  await page.goto(`${served.origin}/#/chat`);
  await expect(page.getByTestId('chat-page')).toBeVisible();

  // Nothing loaded: the chat says so instead of sending.
  await option(page, 'llama-tiny').getByTestId('model-use').check();
  await expect(page.getByTestId('not-loaded-hint')).toContainText('llama-tiny is not loaded');
  await page.getByTestId('composer-input').fill('hello');
  await page.getByTestId('send').click();
  await expect(page.getByTestId('chat-error')).toContainText('llama-tiny is not loaded. Load it in the model picker');

  for (const name of ['llama-tiny', expandedName]) {
    await option(page, name).getByTestId('model-use').check();
    await option(page, name).getByTestId('model-load').click();
  }
  await expect(option(page, 'llama-tiny')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(option(page, expandedName)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(option(page, 'llama-tiny').getByTestId('model-memory')).toContainText(/CPU · fp32 · ctx 256 · [\d.]+ MB/);
  await expect(page.getByTestId('compare-badge')).toHaveText('Compare 2');
  await expect(page.getByTestId('completion-note')).toHaveCount(2);

  await page.getByTestId('sampling-preset-precise').click();
  await page.getByTestId('sampling-maxTokens').fill('24');
  await page.getByTestId('sampling-maxTokens').dispatchEvent('change');
  await page.getByTestId('composer-input').fill('Once upon a time');
  await page.getByTestId('send').click();
  const done = page.locator('[data-testid=answer][data-state=done]');
  await expect(done).toHaveCount(2);
  const [a, b] = await page.getByTestId('answer-text').allInnerTexts();
  expect(a.length).toBeGreaterThan(0);
  expect(b).toBe(a); // expansion preserved the function: the same greedy answer
  await expect(page.getByTestId('answer-tps')).toHaveCount(2);
  for (const tps of await page.getByTestId('answer-tps').allInnerTexts()) expect(tps).toMatch(/^[\d.]+ tok\/s$/);
  await expect(page.getByTestId('conversation-item').first()).toContainText('Once upon a time');

  // Edit the user turn: both answers are replaced.
  await page.getByTestId('message-user').hover();
  await page.getByTestId('message-edit').click();
  await page.getByTestId('edit-input').fill('In a land far away');
  await page.getByTestId('edit-send').click();
  await expect(page.getByTestId('message-user')).toContainText('In a land far away');
  await expect(page.locator('[data-testid=answer][data-state=done]')).toHaveCount(2);

  // One model, a long answer, stopped.
  await option(page, expandedName).getByTestId('model-use').uncheck();
  await page.getByTestId('sampling-maxTokens').fill('240');
  await page.getByTestId('sampling-maxTokens').dispatchEvent('change');
  await page.getByTestId('composer-input').fill('Tell me a long story');
  await page.getByTestId('send').click();
  await page.getByTestId('stop').click();
  await expect(page.locator('[data-testid=answer][data-state=cancelled]')).toHaveCount(1);
  await expect(page.getByTestId('send')).toBeVisible();

  // Search finds the edited turn.
  await page.getByTestId('conversation-search').fill('far away');
  await expect(page.getByTestId('search-hit')).toHaveCount(1);
});

test('the same server answers /v1/chat/completions as SSE behind the token', async ({ request }) => {
  await callEngine(served, 'chat.load', { modelId: baseId });
  await expect.poll(async () => (await callEngine(served, 'chat.models', {})).find((m: { modelId: string }) => m.modelId === baseId)?.state, { timeout: 60_000 }).toBe('ready');
  const unauthorized = await request.get(`${served.origin}/v1/models`, { headers: { authorization: 'Bearer nope' } });
  expect(unauthorized.status()).toBe(401);
  const res = await request.post(`${served.origin}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${served.token}` },
    data: { model: 'llama-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 6, temperature: 0, stream: true },
  });
  expect(res.status()).toBe(200);
  const body = await res.text();
  expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  expect(body).toContain('"finish_reason":"length"');
});
