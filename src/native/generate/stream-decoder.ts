// Incremental detokenization for streaming. Decoding token by token and
// concatenating is wrong twice over: a character can span several tokens
// (byte-fallback `<0xF0><0x9F><0xA6><0x99>` in SentencePiece vocabularies,
// partial UTF-8 bytes in byte-level BPE), and decoders change text depending on
// context (SentencePiece's Strip decoder drops the leading space of whatever
// comes first). So we decode a small window twice — the tokens already shown
// (`prefix`) and the same window plus the new ones (`full`) — and emit the part
// of `full` past `prefix`. While `full` ends in U+FFFD the last character is
// still incomplete: we wait for more tokens instead of showing a broken glyph.
// (This is the prefix/read offset scheme used by text-generation-inference.)

export type DecodeFn = (ids: number[]) => string;

const REPLACEMENT_CHAR = '\uFFFD';

export class StreamDecoder {
  private readonly ids: number[] = [];
  /** Start of the window decoded for context. */
  private prefixOffset = 0;
  /** Tokens before this index have been emitted. */
  private readOffset = 0;
  private emitted = '';

  constructor(private readonly decode: DecodeFn) {}

  /** Adds one token; returns the text it completes (often '', e.g. mid-character). */
  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.decodeRange(this.prefixOffset, this.readOffset);
    const fullText = this.decodeRange(this.prefixOffset, this.ids.length);
    if (fullText.length <= prefixText.length || fullText.endsWith(REPLACEMENT_CHAR)) return '';
    const delta = fullText.slice(prefixText.length);
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.emitted += delta;
    return delta;
  }

  /**
   * Text still held back at the end of generation. A trailing U+FFFD is only
   * left here when the model really produced an incomplete byte sequence.
   */
  flush(): string {
    if (this.readOffset === this.ids.length) return '';
    const prefixText = this.decodeRange(this.prefixOffset, this.readOffset);
    const fullText = this.decodeRange(this.prefixOffset, this.ids.length);
    this.prefixOffset = this.readOffset = this.ids.length;
    const delta = fullText.length > prefixText.length ? fullText.slice(prefixText.length) : '';
    this.emitted += delta;
    return delta;
  }

  /** Everything emitted so far (by push and flush). */
  get text(): string {
    return this.emitted;
  }

  get tokenIds(): readonly number[] {
    return this.ids;
  }

  private decodeRange(start: number, end: number): string {
    return end > start ? this.decode(this.ids.slice(start, end)) : '';
  }
}
