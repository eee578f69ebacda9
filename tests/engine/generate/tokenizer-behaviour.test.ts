import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../../src/native/generate/tokenizer';
import { tokenizerDirs, tempModelDirs } from './fixture-paths';
import { rejectionOf } from '../../expect-error';

const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8'));
const llama2Json = readJson(path.join(tokenizerDirs.llama2, 'tokenizer.json'));
const llama2Config = readJson(path.join(tokenizerDirs.llama2, 'tokenizer_config.json'));


describe('special tokens and configs', () => {
  let llama2: TextTokenizer;
  let llama3: TextTokenizer;
  let qwen3: TextTokenizer;
  beforeAll(async () => {
    [llama2, llama3, qwen3] = await Promise.all([tokenizerDirs.llama2, tokenizerDirs.llama3, tokenizerDirs.qwen3].map((d) => TextTokenizer.fromDir(d)));
  });

  it('reads BOS/EOS from the configs', () => {
    expect(llama2.bosId).toBe(1);
    expect(llama2.eosIds).toEqual([2]); // generation_config, config and tokenizer_config agree
    expect(llama3.bosToken).toBe('<|begin_of_text|>');
    expect(llama3.eosIds).toEqual([128001]);
    expect(llama3.endOfTurnIds).toEqual(expect.arrayContaining([128009, 128001])); // <|eot_id|>, <|end_of_text|>
    expect(qwen3.bosId).toBeNull();
    expect(qwen3.eosIds).toEqual([151645]);
    expect(qwen3.endOfTurnIds).toEqual(expect.arrayContaining([151645, 151643])); // <|im_end|>, <|endoftext|>
    expect(qwen3.templateTokens.eos_token).toBe('<|im_end|>');
  });

  it('generation_config.json eos lists come first and are merged with the others', () => {
    const tok = TextTokenizer.fromObjects({ tokenizerJson: llama2Json, tokenizerConfig: llama2Config, generationConfig: { eos_token_id: [5, 2] }, modelConfig: { eos_token_id: 9 } });
    expect(tok.eosIds).toEqual([5, 2, 9]);
  });

  it('add_bos_token / add_eos_token in tokenizer_config.json override the post-processor, as in transformers', () => {
    const noBos = TextTokenizer.fromObjects({ tokenizerJson: llama2Json, tokenizerConfig: { ...llama2Config, add_bos_token: false } });
    expect(noBos.encode('Hello world!')).toEqual([22557, 1526, 28808]);
    const withEos = TextTokenizer.fromObjects({ tokenizerJson: llama2Json, tokenizerConfig: { ...llama2Config, add_eos_token: true } });
    expect(withEos.encode('Hello world!')).toEqual([1, 22557, 1526, 28808, 2]);
    expect(withEos.encode('Hello world!', { addSpecialTokens: false })).toEqual([22557, 1526, 28808]);
    // Without the keys, tokenizer.json's post-processor decides.
    const { add_bos_token: _b, add_eos_token: _e, ...bare } = llama2Config;
    expect(TextTokenizer.fromObjects({ tokenizerJson: llama2Json, tokenizerConfig: bare }).encode('Hello world!')).toEqual([1, 22557, 1526, 28808]);
  });

  it('does not "clean up" spaces before punctuation for BPE models, as transformers 5 does', () => {
    // Llama 3's tokenizer_config.json sets clean_up_tokenization_spaces: true;
    // transformers 5 ignores it for BPE, the JS library alone would not.
    for (const tok of [llama2, llama3, qwen3]) {
      const text = 'Hello world . Is it ? I do n\'t know !';
      expect(tok.decode(tok.encode(text, { addSpecialTokens: false }))).toBe(text);
    }
    expect(llama3.decode(llama3.encode('a .', { addSpecialTokens: false }), { cleanUpSpaces: true })).toBe('a.');
  });

  it('skips special tokens on request and ignores ids past the vocabulary', () => {
    const ids = llama2.encode('Hi');
    expect(llama2.decode([...ids, 2])).toBe('<s> Hi</s>');
    expect(llama2.decode([...ids, 2], { skipSpecialTokens: true })).toBe('Hi');
    expect(qwen3.decode([9707, 151700, 151935])).toBe('Hello'); // Qwen's embedding rows past its 151669 tokens
    expect(llama2.decode([])).toBe('');
    expect(llama2.isSpecial(2)).toBe(true);
    expect(llama2.isSpecial(22557)).toBe(false);
  });
});

describe('missing or broken tokenizer files', () => {
  const modelDir = tempModelDirs('deepen-tok-');

  it('no tokenizer.json: not_found, naming the file and what to do', async () => {
    const dir = modelDir('empty', { 'config.json': '{}' });
    const err = await rejectionOf(TextTokenizer.fromDir(dir));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain(path.join(dir, 'tokenizer.json'));
    expect(err.message).toMatch(/copy it from the model's Hugging Face repository/);
  });

  it('truncated tokenizer.json: bad_file, naming the file', async () => {
    const text = fs.readFileSync(path.join(tokenizerDirs.llama2, 'tokenizer.json'), 'utf8');
    const dir = modelDir('truncated', { 'tokenizer.json': text.slice(0, 5000) });
    const err = await rejectionOf(TextTokenizer.fromDir(dir));
    expect(err.code).toBe('bad_file');
    expect(err.message).toContain(path.join(dir, 'tokenizer.json'));
    expect(err.message).toMatch(/not valid JSON/);
  });

  it('valid JSON that is no tokenizer, or an unknown component: a clear error', async () => {
    const noModel = await rejectionOf(TextTokenizer.fromDir(modelDir('nomodel', { 'tokenizer.json': '{"version":"1.0"}' })));
    expect(noModel.code).toBe('bad_file');
    expect(noModel.message).toMatch(/no tokenizer model/);
    const strange = { ...llama2Json, normalizer: { type: 'Telepathy' } };
    const unknown = await rejectionOf(TextTokenizer.fromDir(modelDir('unknown', { 'tokenizer.json': JSON.stringify(strange) })));
    expect(unknown.code).toBe('unsupported');
    expect(unknown.message).toContain('Telepathy');
    const array = await rejectionOf(TextTokenizer.fromDir(modelDir('array', { 'tokenizer.json': '[1,2]' })));
    expect(array.code).toBe('bad_file');
  });

  it('a broken tokenizer_config.json is reported, a missing one is fine', async () => {
    const tokText = fs.readFileSync(path.join(tokenizerDirs.llama2, 'tokenizer.json'), 'utf8');
    const broken = await rejectionOf(TextTokenizer.fromDir(modelDir('badconfig', { 'tokenizer.json': tokText, 'tokenizer_config.json': '{"bos_token": ' })));
    expect(broken.code).toBe('bad_file');
    expect(broken.message).toContain('tokenizer_config.json');
    const tok = await TextTokenizer.fromDir(modelDir('noconfig', { 'tokenizer.json': tokText }));
    expect(tok.encode('Hello world!')).toEqual([1, 22557, 1526, 28808]);
  });
});
