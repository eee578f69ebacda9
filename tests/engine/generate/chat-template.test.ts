import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatFormatter, loadChatFormatter, loadChatTemplateSource, type ChatMessage } from '../../../src/native/generate/chat-template';
import { TextTokenizer } from '../../../src/native/generate/tokenizer';
import { tokenizerDirs, tokenizerReference, type ReferenceChat, tempModelDirs } from './fixture-paths';
import { thrownBy } from '../../expect-error';

describe('reference chats (transformers apply_chat_template, add_generation_prompt=True)', () => {
  for (const name of ['llama3', 'qwen3'] as const) {
    it(`${name} renders character for character`, async () => {
      const dir = tokenizerDirs[name];
      const tok = await TextTokenizer.fromDir(dir);
      const chat = await loadChatFormatter(dir, tok.templateTokens, tok.config);
      const ref = tokenizerReference[`${name}.chat`] as ReferenceChat;
      const out = chat.render(ref.messages as ChatMessage[], { addGenerationPrompt: true });
      expect(out.mode).toBe('chat');
      expect(out.addSpecialTokens).toBe(false);
      expect(out.text).toBe(ref.rendered_with_generation_prompt);
      // Encoded without extra specials, the prompt starts with exactly one BOS where the model has one.
      const ids = tok.encode(out.text, { addSpecialTokens: out.addSpecialTokens });
      if (tok.bosId !== null) expect(ids.filter((id) => id === tok.bosId)).toHaveLength(1);
    });
  }
});

describe('template sources and failures', () => {
  const modelDir = tempModelDirs('deepen-chat-');
  const msgs: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'The sky is' },
    { role: 'assistant', content: ' blue.' },
    { role: 'user', content: ' Grass is' },
  ];
  const render = (f: ChatFormatter, m: ChatMessage[] = msgs) => f.render(m);

  it('a model without a template chats in plain completion mode, with a note naming the folder', async () => {
    const f = await loadChatFormatter(tokenizerDirs.llama2, {});
    expect(f.hasTemplate).toBe(false);
    const out = render(f);
    expect(out.mode).toBe('completion');
    expect(out.addSpecialTokens).toBe(true);
    expect(out.text).toBe('Be brief.\n\nThe sky is blue. Grass is');
    expect(out.note).toMatch(/plain completion mode/);
    expect(out.note).toContain(tokenizerDirs.llama2);
  });

  it('chat_template.jinja wins over tokenizer_config.json; a named list yields "default"', async () => {
    const both = modelDir('both', { 'chat_template.jinja': 'JINJA', 'tokenizer_config.json': JSON.stringify({ chat_template: 'CONFIG' }) });
    expect((await loadChatTemplateSource(both))?.text).toBe('JINJA');
    const list = modelDir('list', {
      'tokenizer_config.json': JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'TOOLS' }, { name: 'default', template: 'DEFAULT' }] }),
    });
    expect(await loadChatTemplateSource(list)).toMatchObject({ text: 'DEFAULT', name: 'default' });
    const processor = modelDir('processor', { 'chat_template.json': JSON.stringify({ chat_template: 'PROC' }) });
    expect((await loadChatTemplateSource(processor))?.text).toBe('PROC');
  });

  it('a template that does not parse: bad_file naming the file and the parse error', async () => {
    const dir = modelDir('unparsable', { 'tokenizer_config.json': JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }' }) });
    const f = await loadChatFormatter(dir, {});
    const err = thrownBy(() => f.check());
    expect(err.code).toBe('bad_file');
    expect(err.message).toContain(path.join(dir, 'tokenizer_config.json'));
    expect(err.message).toMatch(/could not be parsed/);
    expect(err.details?.templateError).toEqual(expect.any(String));
    expect(thrownBy(() => render(f)).code).toBe('bad_file');
  });

  it('a template that fails while rendering: bad_file with the template error', async () => {
    const dir = modelDir('runtime', { 'tokenizer_config.json': JSON.stringify({ chat_template: '{{ messages[0].content | no_such_filter }}' }) });
    const err = thrownBy(() => render(new ChatFormatter(dir, { text: '{{ messages[0].content | no_such_filter }}', file: path.join(dir, 'tokenizer_config.json') }, {})));
    expect(err.code).toBe('bad_file');
    expect(err.message).toMatch(/failed to render/);
    expect(err.message).toContain('no_such_filter');
    expect(err.message).toContain(dir);
  });

  it("the template's raise_exception becomes a bad_request saying what it refused", () => {
    const tpl = "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok";
    const f = new ChatFormatter('/models/gemma', { text: tpl, file: '/models/gemma/tokenizer_config.json' }, {});
    const err = thrownBy(() => render(f));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('System role not supported');
    expect(err.message).toContain('/models/gemma');
    expect(render(f, msgs.slice(1)).text).toBe('ok');
  });

  it('passes special tokens, generation prompt flag, strftime_now and extra variables; accepts {% generation %}', () => {
    const tpl =
      '{{ bos_token }}{{ strftime_now("%d %b %Y") }}|{% for m in messages %}{% if m.role == "assistant" %}{%- generation -%} [{{ m.content }}] {%- endgeneration -%}' +
      '{% else %}{{ m.content }}{% endif %}{% endfor %}{% if add_generation_prompt %}>>{% endif %}{% if enable_thinking is defined and not enable_thinking %}/nothink{% endif %}';
    const f = new ChatFormatter('/m', { text: tpl, file: '/m/chat_template.jinja' }, { bos_token: '<s>' });
    const now = () => new Date(2024, 6, 26);
    expect(f.render(msgs.slice(1), { now }).text).toBe('<s>26 Jul 2024|The sky is[ blue.] Grass is>>');
    expect(f.render(msgs.slice(1), { now, addGenerationPrompt: false, variables: { enable_thinking: false } }).text).toBe('<s>26 Jul 2024|The sky is[ blue.] Grass is/nothink');
  });
});
