// The datasets domain of the contract: import, browse, edit, split, export
// and inspect training data kept in the engine's SQLite database.
import { event, method } from './define';
import type { JobStarted } from './jobs';

/** `text`: pretraining documents; `instruction`: prompt/response; `chat`: role/content turns. */
export type DatasetKind = 'text' | 'instruction' | 'chat';
export type DatasetSplit = 'train' | 'eval';
/** `importing` and `deleting` datasets are hidden from lists and refused by readers. */
export type DatasetState = 'importing' | 'ready' | 'deleting';
export type ImportFormat = 'text' | 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'folder';
/** How a .txt/.md file becomes records: the whole file, each blank-line-separated paragraph, or each line. */
export type TextSplitMode = 'file' | 'paragraph' | 'line';
/** What a malformed line does to an import: skip it (and report it) or stop, leaving the database as it was. */
export type OnError = 'skip' | 'abort';

export interface ChatTurn {
  role: string;
  content: string;
}

export type RecordContent =
  | { kind: 'text'; text: string }
  | { kind: 'instruction'; system?: string; instruction: string; input?: string; output: string }
  | { kind: 'chat'; messages: ChatTurn[] };

/**
 * How the fields of one row (a JSON object, a CSV row, a parquet row) become a
 * record. Field names may be dotted paths into nested objects ("meta.body").
 */
export type FieldMapping =
  | { kind: 'text'; text: string }
  | { kind: 'instruction'; instruction: string; input?: string; output: string; system?: string }
  | {
      kind: 'chat';
      /** the field holding the list of turns */
      messages: string;
      /** key of a turn's role (default "role"; ShareGPT: "from") */
      role?: string;
      /** key of a turn's text (default "content"; ShareGPT: "value") */
      content?: string;
      /** a field with a system prompt to put first, if any */
      system?: string;
    };

export interface DatasetSummary {
  id: string;
  name: string;
  kind: DatasetKind;
  state: DatasetState;
  /** where it was imported from (a file or folder path) */
  source: string;
  createdAt: number;
  updatedAt: number;
  records: number;
  /** sum of the records' lengths in characters (UTF-16 code units of the displayed text) */
  characters: number;
  trainRecords: number;
  evalRecords: number;
  /** fraction of records in the eval split, and the seed that chose them */
  evalRatio: number;
  splitSeed: number;
  /**
   * records not yet in the full-text search index: an import commits its
   * records first (browsable at once) and a `dataset-index` job indexes them
   * for search after; searches cover the other records meanwhile
   */
  unindexedRecords: number;
}

/** A line or row that was not imported, and why. */
export interface SkippedLine {
  file: string;
  /** 1-based line (text, JSONL, CSV) or row (parquet, JSON array element) number */
  line: number;
  reason: string;
}

export interface ImportReport {
  datasetId: string;
  name: string;
  format: ImportFormat;
  kind: DatasetKind;
  mapping: FieldMapping | null;
  /** records imported */
  records: number;
  /** lines/rows not imported because they were malformed (count) */
  skipped: number;
  /** the first skipped lines with their reasons (at most 1000 are kept) */
  skippedLines: SkippedLine[];
  /** records whose normalized content equals an earlier record's */
  duplicates: number;
  duplicatesDropped: boolean;
  /** records MinHash judged near-identical to an earlier one (only with nearDedupe) */
  nearDuplicates: number;
  bytes: number;
  ms: number;
}

export interface TokenizerCache {
  /** identifies tokenizer + chat template; counts are reused across models sharing them */
  tokenizerId: string;
  label: string;
  modelDir: string;
  /** records of this dataset with a cached count */
  counted: number;
}

export interface DatasetDetail extends DatasetSummary {
  lastImport: ImportReport | null;
  tokenizers: TokenizerCache[];
  /** the `dataset-index` job indexing this dataset's records for search now, if any */
  searchIndexJobId: string | null;
}

export interface RecordFilter {
  /** full-text search: words (all must occur), "quoted phrases", prefix* */
  query?: string;
  split?: DatasetSplit;
  minChars?: number;
  maxChars?: number;
}

export interface RecordRow {
  id: number;
  split: DatasetSplit;
  chars: number;
  /** the start of the record's text, for tables */
  preview: string;
  /** line or row in the source file */
  line: number | null;
  /** file within an imported folder */
  origin: string | null;
}

export interface RecordDetail extends RecordRow {
  datasetId: string;
  content: RecordContent;
  /** the record as plain text (what search and lengths use) */
  text: string;
}

export interface RecordPageParams {
  datasetId: string;
  filter?: RecordFilter;
  /** keyset paging: rows with id > after (ascending) */
  after?: number;
  /** keyset paging: rows with id < before (returned ascending) */
  before?: number;
  /** jump to a position (used when the scrollbar is dragged far); ignored with after/before */
  offset?: number;
  limit?: number;
}

export interface RecordPage {
  rows: RecordRow[];
  /** more rows exist past the last one (or before the first, with `before`) */
  hasMore: boolean;
}

export interface HistogramBin {
  from: number;
  /** exclusive */
  to: number;
  count: number;
}

export interface DatasetStats {
  records: number;
  characters: number;
  trainRecords: number;
  evalRecords: number;
  minChars: number;
  maxChars: number;
  meanChars: number;
  medianChars: number;
  /** records whose normalized content repeats an earlier record's */
  duplicates: number;
  /** bins over length, in tokens when counts are cached for the tokenizer, else characters */
  histogram: { unit: 'chars' | 'tokens'; bins: HistogramBin[] };
  seqLen: number | null;
  /** records longer than seqLen: exact in tokens when cached, else estimated at 4 characters a token */
  overSeqLen: { count: number; exact: boolean } | null;
  tokens: { tokenizerId: string; counted: number; total: number; min: number; max: number; mean: number } | null;
}

export interface PreviewParams {
  path: string;
  format?: ImportFormat;
  mapping?: FieldMapping;
  kind?: DatasetKind;
  textSplit?: TextSplitMode;
  /** CSV only: the field delimiter (default "," for .csv, tab for .tsv) */
  delimiter?: string;
  /** folder only: file extensions to take, e.g. [".py", ".ts"] */
  extensions?: string[];
  limit?: number;
}

export interface ImportPreview {
  path: string;
  format: ImportFormat;
  bytes: number;
  /** folder imports: matching files */
  files: number | null;
  /** fields seen in the first rows (JSON keys, CSV header, parquet columns) */
  fields: string[];
  /** the kind and mapping the import will use unless told otherwise; null when nothing fits */
  kind: DatasetKind | null;
  mapping: FieldMapping | null;
  /** the first rows as read (strings shortened) */
  raw: unknown[];
  /** the same rows as records, with the mapping applied */
  records: (RecordContent | null)[];
  problems: SkippedLine[];
  /** why no mapping was found, or what the user should check */
  note: string | null;
}

export interface ImportParams extends Omit<PreviewParams, 'limit'> {
  name: string;
  onError?: OnError;
  /** drop exact duplicates (same normalized content); duplicates are counted either way */
  dedupe?: boolean;
  /** also find near-duplicates with MinHash (Jaccard of 5-word shingles ≥ threshold, default 0.8) and drop them when dedupe is on */
  nearDedupe?: boolean | { threshold: number };
  evalRatio?: number;
  seed?: number;
  /** records (lines) longer than this are reported and skipped (default 16 MiB) */
  maxRecordBytes?: number;
}

export interface RenderedToken {
  id: number;
  text: string;
  /** the token is a training target (assistant text, or any text for pretraining records) */
  loss: boolean;
}

/** A record as the model sees it: rendered with the model's chat template and tokenized. */
export interface RenderedRecord {
  mode: 'text' | 'chat' | 'completion';
  note: string | null;
  text: string;
  tokens: RenderedToken[];
  total: number;
  lossTokens: number;
  /** index of the first token cut off by the sequence length, or null */
  truncatedAt: number | null;
}

export const datasetMethods = {
  'datasets.list': method<Record<string, never>, DatasetSummary[]>(),
  'datasets.get': method<{ id: string }, DatasetDetail>(),
  'datasets.rename': method<{ id: string; name: string }, DatasetSummary>(),
  /** removes the dataset and its records (a job: large datasets take a while) */
  'datasets.delete': method<{ id: string }, JobStarted>(),
  'datasets.preview': method<PreviewParams, ImportPreview>(),
  'datasets.import': method<ImportParams, JobStarted & { datasetId: string }>(),
  /**
   * makes sure the dataset's records are being indexed for search: the running
   * `dataset-index` job, a new one when some records are not indexed, or null
   * when search already covers every record
   */
  'datasets.index': method<{ datasetId: string }, { jobId: string | null }>(),
  'datasets.records': method<RecordPageParams, RecordPage>(),
  /** counts matching records; with `limit`, stops there (a search for a common word can match most of a million records) */
  'datasets.count': method<{ datasetId: string; filter?: RecordFilter; limit?: number }, { count: number; capped: boolean }>(),
  'datasets.record.get': method<{ id: number }, RecordDetail>(),
  'datasets.record.update': method<{ id: number; content?: RecordContent; split?: DatasetSplit }, RecordDetail>(),
  'datasets.record.delete': method<{ id: number }, void>(),
  /** deletes every record matching a filter (at least one criterion) */
  'datasets.deleteWhere': method<{ datasetId: string; filter: RecordFilter }, JobStarted>(),
  'datasets.stats': method<{ datasetId: string; tokenizerId?: string; seqLen?: number; bins?: number }, DatasetStats>(),
  /** reassigns train/eval from each record's content hash and the seed: the same content lands in the same split on every import */
  'datasets.split': method<{ datasetId: string; evalRatio: number; seed?: number }, JobStarted>(),
  'datasets.export': method<{ datasetId: string; path: string; filter?: RecordFilter }, JobStarted>(),
  /** counts tokens of every record with a model's tokenizer and chat template, caching them */
  'datasets.countTokens': method<{ datasetId: string; modelDir: string }, JobStarted>(),
  'datasets.render': method<{ recordId: number; modelDir: string; seqLen?: number }, RenderedRecord>(),
};

export const datasetEvents = {
  /** a dataset or its records changed outside a job (jobs report through job.updated) */
  'datasets.changed': event<{ datasetId: string | null; reason: 'created' | 'renamed' | 'deleted' | 'records' | 'indexed' }>(),
};
