// A streaming RFC 4180 reader for .csv and .tsv: quoted fields may hold the
// delimiter, doubled quotes and line breaks; CRLF or LF line ends. It works on
// bytes (the delimiter, quote and line break are ASCII, so UTF-8 text passes
// through untouched) and decodes each field strictly, so a bad byte is
// reported with its row and column. The first row is the header.
import fs from 'node:fs/promises';
import { CHUNK_BYTES } from './line-reader';
import { decodeUtf8, mb, type RowSink, type SourceOptions } from './source-types';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** a quote inside a quoted field: doubled quote, or the field's end */
  QuoteInQuoted,
}

export interface CsvOptions extends SourceOptions {
  delimiter: string;
  /** the first row names the columns (default true) */
  header?: boolean;
}

export async function readCsvFile(file: string, label: string, opts: CsvOptions, sink: RowSink): Promise<void> {
  if (opts.delimiter.length !== 1 || opts.delimiter.charCodeAt(0) > 0x7f || opts.delimiter === '"' || opts.delimiter === '\n') {
    throw new Error(`The CSV delimiter must be one ASCII character other than a quote or line break, got "${opts.delimiter}".`);
  }
  const delim = opts.delimiter.charCodeAt(0);
  const fh = await fs.open(file, 'r');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let field = Buffer.allocUnsafe(4096);
  let fieldLen = 0;
  let fields: Buffer[] = [];
  let recordBytes = 0;
  let tooLong = false;
  let malformed: string | null = null;
  let state = State.FieldStart as State;
  let line = 1;
  let recordLine = 1;
  let header: string[] | null = opts.header === false ? [] : null;
  let total = 0;

  const append = (src: Buffer, from: number, to: number) => {
    const len = to - from;
    if (len <= 0) return;
    recordBytes += len;
    if (tooLong || recordBytes > opts.maxRecordBytes) {
      tooLong = true;
      return;
    }
    if (fieldLen + len > field.length) {
      const bigger = Buffer.allocUnsafe(Math.max(field.length * 2, fieldLen + len));
      field.copy(bigger, 0, 0, fieldLen);
      field = bigger;
    }
    src.copy(field, fieldLen, from, to);
    fieldLen += len;
  };
  const endField = () => {
    fields.push(tooLong ? Buffer.alloc(0) : Buffer.from(field.subarray(0, fieldLen)));
    fieldLen = 0;
  };
  const endRecord = () => {
    const blank = fields.length === 1 && fields[0].length === 0 && !tooLong && !malformed;
    if (!blank) emitRecord(fields, recordLine);
    fields = [];
    recordBytes = 0;
    tooLong = false;
    malformed = null;
  };
  /** A delimiter or line feed outside quotes: the field ends, and at a line feed the record too. */
  const endFieldAt = (c: number) => {
    endField();
    if (c === LF) {
      endRecord();
      recordLine = ++line;
    }
    state = State.FieldStart;
  };
  const emitRecord = (raw: Buffer[], at: number) => {
    if (tooLong) return sink.problem(at, `the row is longer than the ${mb(opts.maxRecordBytes)} limit for one record: it was not read`, label);
    if (malformed) return sink.problem(at, malformed, label);
    const values: string[] = [];
    for (let i = 0; i < raw.length; i++) {
      const v = decodeUtf8(raw[i]);
      if (v === null) return sink.problem(at, `invalid UTF-8 in column ${header?.[i] ? `"${header[i]}"` : i + 1}: the file is not UTF-8 text (re-save it as UTF-8)`, label);
      values.push(v);
    }
    if (header === null) {
      header = values.map((h, i) => h.trim() || `column${i + 1}`);
      const seen = new Set<string>();
      header = header.map((h) => {
        let name = h;
        for (let k = 2; seen.has(name); k++) name = `${h}_${k}`;
        seen.add(name);
        return name;
      });
      return;
    }
    if (!header.length) header = values.map((_, i) => `column${i + 1}`);
    if (values.length !== header.length) {
      return sink.problem(
        at,
        `the row has ${values.length} field${values.length === 1 ? '' : 's'} but the header has ${header.length} (a ragged row: check for a missing or extra ${label.endsWith('.tsv') ? 'tab' : 'delimiter'} or an unclosed quote)`,
        label,
      );
    }
    const row: Record<string, unknown> = {};
    for (let i = 0; i < values.length; i++) row[header[i]] = values[i];
    sink.row(row, at, label);
  };

  try {
    for (;;) {
      const { bytesRead: n } = await fh.read(chunk, 0, chunk.length, null);
      if (n === 0) break;
      let i = 0;
      if (total === 0 && n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
      total += n;
      let seg = i; // start of field bytes not yet copied out of this chunk
      for (; i < n; i++) {
        const c = chunk[i];
        switch (state) {
          case State.FieldStart:
            if (c === QUOTE) {
              state = State.Quoted;
              seg = i + 1;
            } else if (c === delim || c === LF) {
              endFieldAt(c);
              seg = i + 1;
            } else {
              state = State.Unquoted;
              seg = i;
            }
            break;
          case State.Unquoted:
            if (c === delim || c === LF) {
              // CRLF: the CR belongs to the line end, not the field
              append(chunk, seg, c === LF && i > seg && chunk[i - 1] === CR ? i - 1 : i);
              if (c === LF && i === seg && fieldLen && field[fieldLen - 1] === CR) fieldLen--;
              endFieldAt(c);
              seg = i + 1;
            }
            break;
          case State.Quoted:
            if (c === QUOTE) {
              append(chunk, seg, i);
              state = State.QuoteInQuoted;
            } else if (c === LF) line++;
            break;
          case State.QuoteInQuoted:
            if (c === QUOTE) {
              append(chunk, i, i + 1); // "" is one quote
              state = State.Quoted;
              seg = i + 1;
            } else if (c === delim || c === LF) {
              endFieldAt(c);
              seg = i + 1;
            } else if (c !== CR) {
              malformed ??= `unexpected text after the closing quote of field ${fields.length + 1} (a quote inside a quoted field must be doubled: "")`;
              state = State.Unquoted;
              seg = i;
            }
            break;
        }
      }
      if (state === State.Unquoted || state === State.Quoted) append(chunk, seg, n);
      await sink.tick(total);
    }
  } finally {
    await fh.close();
  }
  if (state === State.Quoted) {
    sink.problem(recordLine, 'a quoted field opened in this row is never closed: the rest of the file was read as one field', label);
  } else if (state !== State.FieldStart || fields.length || fieldLen) {
    if (state === State.Unquoted && fieldLen && field[fieldLen - 1] === CR) fieldLen--;
    endField();
    endRecord();
  }
}
