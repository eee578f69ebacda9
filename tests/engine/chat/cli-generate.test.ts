// `deepen generate` and `deepen chat` run as a user runs them (a child
// process, from source): the exact-ids contract against transformers' greedy
// decoding, streaming text, a piped chat, and one-line errors.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../unit/host/helpers';
import { readReference } from '../model/reference';
import { llamaTiny, qwenNoTokenizer, repoRoot } from './helpers';

const home = tempDataDir('deepen-cli-chat-');
afterAll(() => home.cleanup());

function deepen(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/native/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DEEPEN_HOME: home.dir, ...env },
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('deepen generate', () => {
  it('--prompt-ids --greedy --ignore-eos --json gives exactly the greedy ids transformers gave', async () => {
    const ref = await readReference('llama-tiny');
    const prompt = ref.inputIds[0].slice(0, 6);
    const r = deepen(['generate', '../shared/fixtures/hf/llama-tiny', '--prompt-ids', prompt.join(','), '--max-new-tokens', '12', '--greedy', '--ignore-eos', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(Object.keys(out).slice(0, 3)).toEqual(['prompt_ids', 'new_ids', 'text']);
    expect(out.prompt_ids).toEqual(prompt);
    expect(out.new_ids).toEqual(ref.greedyIds.slice(-12));
    expect(typeof out.text).toBe('string');
    expect(out.stats).toMatchObject({ promptTokens: 6, generatedTokens: 12 });
  });

  it('streams text to stdout and the speed to stderr; the same seed gives the same text', () => {
    const args = ['generate', llamaTiny, '--prompt', 'Once upon a time', '--max-new-tokens', '20', '--seed', '7', '--temperature', '0.9'];
    const a = deepen(args);
    const b = deepen(args);
    expect(a.code).toBe(0);
    expect(a.stdout.trim().length).toBeGreaterThan(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stderr).toMatch(/20 tokens · first after \d+ ms · prefill \d+ tok\/s \(5 tokens\) · decode [\d.]+ tok\/s · stopped: max_tokens · seed 7/);
  });

  it('refuses bad calls and impossible requests in one line', () => {
    const noPrompt = deepen(['generate', llamaTiny]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toMatch(/Give either --prompt TEXT or --prompt-ids/);
    const badIds = deepen(['generate', llamaTiny, '--prompt-ids', '1,x']);
    expect(badIds.code).toBe(2);
    const missing = deepen(['generate', 'no-such-model', '--prompt', 'hi']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/"no-such-model" is neither a model folder nor a registered model/);
    const tooBig = deepen(['generate', llamaTiny, '--prompt', 'hi'], undefined, { DEEPEN_MEMORY_LIMIT: '32MB' });
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/^deepen generate: llama-tiny needs about .* but only 3\d MiB is free/);
    const noTokenizer = deepen(['generate', qwenNoTokenizer, '--prompt', 'hi']);
    expect(noTokenizer.code).toBe(1);
    expect(noTokenizer.stderr).toMatch(/tokenizer\.json does not exist/);
  });
});

describe('deepen chat', () => {
  it('answers piped lines in turn, takes /system and /exit, and notes completion mode', () => {
    const r = deepen(['chat', llamaTiny, '--max-new-tokens', '8', '--greedy', '--stats'], 'Hello\n/system Be brief.\nHow are you?\n/exit\nnot read\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: This model has no chat template/);
    expect(r.stdout).toMatch(/\(system prompt set; conversation cleared\)/);
    expect(r.stderr.match(/\[8 tokens · first after/g)).toHaveLength(2);
  });

  it('keeps going after a message that does not fit the context', () => {
    const r = deepen(['chat', llamaTiny, '--max-new-tokens', '4', '--greedy'], `${'word '.repeat(400)}\nhi\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/error: The prompt is \d+ tokens long, but this model's context holds 256 tokens/);
    expect(r.stdout.trim().split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(1);
  });

  it('says why a model without a tokenizer cannot chat', () => {
    const r = deepen(['chat', qwenNoTokenizer], 'hi\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^deepen chat: .*tokenizer\.json does not exist/m);
  });
});
