// The models domain of the contract: the registry of local Hugging Face
// model folders, their summaries and lineage, and block expansion (plan on
// the Expand page, write in a job). Types here are plain data shared by the
// engine and the renderer; the engine's own types (src/native/checkpoint)
// have the same shape.
import { event, method } from './define';
import type { JobStarted } from './jobs';

export type ModelFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3';
export type ExpandStrategy = 'interleaved' | 'top' | 'bottom' | 'custom';
export type TrainPrecision = 'fp32' | 'bf16' | 'fp16';

/** What `models.inspect` and the Models page show about a checkpoint. */
export interface ModelSummary {
  family: ModelFamily;
  architectures: string[];
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tiedEmbeddings: boolean;
  attentionBias: boolean;
  qkNorm: boolean;
  /** every parameter stored (tied embeddings counted once) */
  paramsTotal: number;
  paramsPerBlock: number;
  /** parameters of each block, for the block diagram */
  blockParams: number[];
  embeddingParams: number;
  /** 0 when tied to the embeddings */
  lmHeadParams: number;
  finalNormParams: number;
  /** the dtype holding most bytes, HF spelling ("bfloat16") */
  dtype: string;
  dtypeBytes: Record<string, number>;
  weightsBytes: number;
  sizeOnDisk: number;
  shards: number;
  tokenizer: boolean;
  chatTemplate: boolean;
  configLayout: '4.x' | '5.x';
}

export interface PlanInsertion {
  /** old block the copy goes after; -1 = below block 0 */
  after: number;
  /** old block whose weights it copies */
  source: number;
  /** its index in the expanded model */
  newIndex: number;
}

export interface PlanLayer {
  index: number;
  source: number;
  isNew: boolean;
}

/** An expansion plan as data: the engine rebuilds it from `insertions` before writing. */
export interface ExpansionPlan {
  strategy: ExpandStrategy;
  baseLayers: number;
  added: number;
  newDepth: number;
  insertions: PlanInsertion[];
  layers: PlanLayer[];
  oldToNew: number[];
  newBlockIndices: number[];
  groups?: { first: number; last: number }[];
  warnings: string[];
  description: string;
}

/** The numerical check after expansion: expanded logits must equal the base's. */
export interface PreservationCheck {
  state: 'pending' | 'passed' | 'failed' | 'unavailable';
  /** max |expanded logit − base logit| over the probe batch; null until it ran */
  maxAbsDiff: number | null;
  /** the bound `passed` was judged against */
  tolerance: number | null;
  message: string;
  checkedAt: number | null;
}

export interface ModelLineage {
  kind: 'expanded' | 'trained';
  /** null when the parent was removed from the registry */
  parentId: string | null;
  /** kept so the tree still reads after the parent is removed */
  parentName: string;
  parentPath: string;
  plan?: ExpansionPlan;
  newBlockIndices?: number[];
  jobId?: string;
  runId?: string;
}

export interface ModelRecord {
  id: string;
  name: string;
  /** absolute folder path */
  path: string;
  addedAt: number;
  summary: ModelSummary;
  lineage: ModelLineage | null;
  /** expanded models: the numerical check run after writing */
  preservation: PreservationCheck | null;
  /** expanded models: the byte-by-byte check run after writing */
  structural: StructuralCheck | null;
  /** false when the folder has gone since it was added */
  present: boolean;
}

export interface InspectResult {
  path: string;
  summary: ModelSummary;
  warnings: string[];
}

export interface PlanParams {
  modelId: string;
  strategy: ExpandStrategy;
  /** interleaved/top/bottom: blocks to add; interleaved may give `groups` instead */
  add?: number;
  /** interleaved: N, the number of groups (add = groups × copies) */
  groups?: number;
  /** interleaved: P, copies after each group's last block (default 1) */
  copies?: number;
  /** custom: one copy after each listed old block, copying it; -1 = below block 0 */
  positions?: number[];
  /** custom, fuller form: choose what each copy copies */
  insertions?: { after: number; source?: number }[];
  /** activation term of the memory estimate: tokens per sequence (default 2048) */
  seqLen?: number;
  /** activation term: sequences per step (default 1) */
  batch?: number;
}

export interface MemoryEstimate {
  precision: TrainPrecision;
  weightsBytes: number;
  gradientsBytes: number;
  /** AdamW m and v, fp32 */
  optimizerBytes: number;
  /** fp32 master copy of the trainable weights (bf16/fp16 only) */
  masterBytes: number;
  activationsBytes: number;
  totalBytes: number;
}

export interface PlanFigures {
  baseDepth: number;
  newDepth: number;
  added: number;
  paramsBase: number;
  paramsTotal: number;
  /** the new blocks: what post-pretraining trains */
  paramsTrainable: number;
  diskBytes: number;
  /** the dtype the model is stored in; its precision is marked `stored` */
  storedPrecision: TrainPrecision | null;
  memory: MemoryEstimate[];
  /** the formula in words, one line each, shown beside the numbers */
  formula: string[];
  /** what the activation term assumes */
  assumptions: string[];
}

export interface PlanResult {
  plan: ExpansionPlan;
  figures: PlanFigures;
  /** e.g. "llama-tiny-pro-10L" */
  suggestedName: string;
  suggestedOutDir: string;
}

export interface ExpandParams {
  modelId: string;
  plan: ExpansionPlan;
  /** name in the registry; defaults to the folder name */
  name?: string;
  /** a folder that must not exist yet; defaults to <data>/models/<name> */
  outDir?: string;
}

export interface StructuralCheck {
  ok: boolean;
  tensorsCopied: number;
  tensorsZeroed: number;
}

/** What a finished `expand` job returns (JobDetail.result). */
export interface ExpandJobOutcome {
  /** null when registration failed (the folder is still there; add it by hand) */
  modelId: string | null;
  baseDir: string;
  outDir: string;
  plan: ExpansionPlan;
  newDepth: number;
  newBlockIndices: number[];
  bytesWritten: number;
  seconds: number;
  /** the byte-by-byte check; null when it was turned off */
  verify: (StructuralCheck & { problems: string[] }) | null;
  preservation: PreservationCheck;
  warnings: string[];
}

export const modelMethods = {
  'models.list': method<Record<string, never>, ModelRecord[]>(),
  'models.get': method<{ id: string }, ModelRecord>(),
  'models.add': method<{ path: string; name?: string }, ModelRecord>(),
  'models.remove': method<{ id: string; deleteFiles?: boolean }, { id: string; filesDeleted: boolean }>(),
  'models.rename': method<{ id: string; name: string }, ModelRecord>(),
  'models.inspect': method<{ path: string }, InspectResult>(),
  'models.plan': method<PlanParams, PlanResult>(),
  'models.expand': method<ExpandParams, JobStarted>(),
};

export const modelEvents = {
  /** a model was added, renamed, re-checked or removed (`removed` true) */
  'model.changed': event<{ id: string; removed?: boolean }>(),
};
