import path from 'node:path';
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { DeepenError } from '../../shared/errors';
import { readJsonObjectIfExists, readTextIfExists, type JsonObject } from './model-files';
import { strftime } from './strftime';

// Turning a conversation into the prompt text a model was trained on, with the
// model's own Jinja chat template, rendered the way transformers'
// `apply_chat_template` does: the template sees `messages`,
// `add_generation_prompt`, the special-token strings (bos_token, eos_token, ...)
// and the helpers `raise_exception` and `strftime_now`. A model without a
// template (base and freshly expanded models) is chatted with in plain
// completion mode, and the caller shows the note we return.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

export interface RenderedPrompt {
  text: string;
  /** 'chat': the model's template; 'completion': plain running text, no template. */
  mode: 'chat' | 'completion';
  /**
   * Whether encoding should add the tokenizer's BOS/EOS. Templates write them
   * themselves (transformers tokenizes a rendered chat without them).
   */
  addSpecialTokens: boolean;
  /** For the user, in completion mode. */
  note?: string;
}

export interface RenderOptions {
  /** Append the opening of the assistant's turn (default true). */
  addGenerationPrompt?: boolean;
  /** More template variables, e.g. `{ enable_thinking: false }` for Qwen 3, or `tools`. */
  variables?: Record<string, unknown>;
  /** Clock for `strftime_now` (tests pin it). */
  now?: () => Date;
}

export interface TemplateSource {
  text: string;
  /** File it came from, for messages. */
  file: string;
  /** Name within a list of named templates, if it came from one. */
  name?: string;
}

/** Raised by the template's own `raise_exception(...)`: the template refuses this conversation. */
class TemplateRefusal extends Error {}

export class ChatFormatter {
  private compiled: Template | null = null;

  constructor(
    readonly modelDir: string,
    readonly source: TemplateSource | null,
    /** Special-token strings passed to the template (TextTokenizer.templateTokens). */
    private readonly tokens: Record<string, string | string[]>,
  ) {}

  get hasTemplate(): boolean {
    return this.source !== null;
  }

  /** The note shown when a model has no template. */
  get completionNote(): string {
    return (
      `This model has no chat template (none in ${path.join(this.modelDir, 'tokenizer_config.json')} and no chat_template.jinja), ` +
      'so it runs in plain completion mode: the conversation is sent as one running text and the model continues it. ' +
      'Base and freshly expanded models usually have no template; instruction-tuned models do.'
    );
  }

  render(messages: readonly ChatMessage[], opts: RenderOptions = {}): RenderedPrompt {
    if (!this.source) return { text: completionText(messages), mode: 'completion', addSpecialTokens: true, note: this.completionNote };
    const template = this.compile(this.source);
    const now = opts.now ?? (() => new Date());
    const variables: Record<string, unknown> = {
      ...templateGlobals(now),
      ...this.tokens,
      ...opts.variables,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts.addGenerationPrompt ?? true,
    };
    try {
      return { text: renderWith(template, variables), mode: 'chat', addSpecialTokens: false };
    } catch (err) {
      throw this.renderError(err);
    }
  }

  /** Parses the template now, so a broken one is reported when the model loads rather than on the first message. */
  check(): void {
    if (this.source) this.compile(this.source);
  }

  private compile(source: TemplateSource): Template {
    if (this.compiled) return this.compiled;
    try {
      this.compiled = new Template(rewriteGenerationBlocks(source.text));
    } catch (err) {
      throw new DeepenError(
        'bad_file',
        `The chat template${source.name ? ` "${source.name}"` : ''} in ${source.file} could not be parsed: ${(err as Error).message}. ` +
          'Fix the template there, or remove it to chat with the model in plain completion mode.',
        { modelDir: this.modelDir, file: source.file, templateError: (err as Error).message },
      );
    }
    return this.compiled;
  }

  private renderError(err: unknown): DeepenError {
    const message = err instanceof Error ? err.message : String(err);
    const details = { modelDir: this.modelDir, file: this.source?.file, templateError: message };
    if (err instanceof TemplateRefusal) {
      return new DeepenError(
        'bad_request',
        `The chat template of the model in ${this.modelDir} refused this conversation: "${message}". ` +
          'Change the conversation to what the template accepts (for example remove the system prompt, or let user and assistant turns alternate) and send again.',
        details,
      );
    }
    return new DeepenError(
      'bad_file',
      `The chat template in ${this.source?.file ?? this.modelDir} failed to render: ${message}. ` +
        'The template may use a Jinja feature Deepen does not support, or expect message fields it was not given; fix the template or remove it to use plain completion mode.',
      details,
    );
  }
}

/**
 * Finds the model's chat template. Order as in transformers: a
 * `chat_template.jinja` file wins over `chat_template` in tokenizer_config.json;
 * processors' `chat_template.json` comes last. A list of named templates yields
 * `default` (or the first, when none is called that).
 */
export async function loadChatTemplateSource(modelDir: string, tokenizerConfig?: JsonObject | null): Promise<TemplateSource | null> {
  const jinjaFile = path.join(modelDir, 'chat_template.jinja');
  const jinja = await readTextIfExists(jinjaFile);
  if (jinja !== null && jinja.trim()) return { text: jinja, file: jinjaFile };

  const configFile = path.join(modelDir, 'tokenizer_config.json');
  const config = tokenizerConfig !== undefined ? tokenizerConfig : await readJsonObjectIfExists(configFile, 'tokenizer config');
  const fromConfig = pickTemplate(config?.chat_template, configFile);
  if (fromConfig) return fromConfig;

  const jsonFile = path.join(modelDir, 'chat_template.json');
  const json = await readJsonObjectIfExists(jsonFile, 'chat template file');
  return pickTemplate(json?.chat_template, jsonFile);
}

export async function loadChatFormatter(modelDir: string, tokens: Record<string, string | string[]>, tokenizerConfig?: JsonObject | null): Promise<ChatFormatter> {
  return new ChatFormatter(modelDir, await loadChatTemplateSource(modelDir, tokenizerConfig), tokens);
}

function pickTemplate(value: unknown, file: string): TemplateSource | null {
  if (typeof value === 'string') return value.trim() ? { text: value, file } : null;
  if (!Array.isArray(value)) {
    if (value !== undefined && value !== null) {
      throw new DeepenError('bad_file', `chat_template in ${file} should be a string or a list of {name, template}, but is ${typeof value}. Fix or remove it.`, { file });
    }
    return null;
  }
  const named = value.filter((t): t is { name: string; template: string } => !!t && typeof t === 'object' && typeof t.template === 'string');
  const chosen = named.find((t) => t.name === 'default') ?? named[0];
  return chosen ? { text: chosen.template, file, name: String(chosen.name) } : null;
}

/**
 * The names transformers' Jinja environment defines. We set them ourselves
 * instead of using Template.render, whose built-in globals cannot be replaced:
 * its `raise_exception` throws a plain Error we could not tell from a template
 * bug, and its `strftime_now` formats in the machine's locale (see strftime.ts).
 */
function templateGlobals(now: () => Date): Record<string, unknown> {
  return {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range: pythonRange,
    raise_exception: (message: unknown) => {
      throw new TemplateRefusal(String(message));
    },
    strftime_now: (format: unknown) => strftime(now(), String(format)),
  };
}

function renderWith(template: Template, variables: Record<string, unknown>): string {
  const env = new Environment();
  for (const [name, value] of Object.entries(variables)) if (value !== undefined) env.set(name, value);
  const result = new Interpreter(env).run(template.parsed) as { value: unknown };
  return String(result.value);
}

/** Python's range(stop) / range(start, stop[, step]). */
function pythonRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/**
 * transformers' Jinja environment has a `{% generation %}` block that marks
 * assistant text for training masks; rendering a prompt, it is a plain
 * pass-through. @huggingface/jinja does not know the tag, so we turn it into
 * an always-true `if`, keeping any whitespace-control dashes.
 */
function rewriteGenerationBlocks(text: string): string {
  return text.replace(/\{%(-?)\s*generation\s*(-?)%\}/g, '{%$1 if true $2%}').replace(/\{%(-?)\s*endgeneration\s*(-?)%\}/g, '{%$1 endif $2%}');
}

/**
 * Plain completion mode: the system prompt, a blank line, then the turns as one
 * running text. Each reply was generated as the continuation of the text before
 * it, so turns are joined without separators.
 */
function completionText(messages: readonly ChatMessage[]): string {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const turns = messages.filter((m) => m.role !== 'system').map((m) => m.content).join('');
  return system ? `${system}\n\n${turns}` : turns;
}
