// Hugging Face `config.json` → one normalized ModelConfig for every family we
// support. The inference engine builds its ONNX graphs from ModelConfig alone,
// so this type is a contract: add fields, do not rename or repurpose them.
//
// Two layouts exist in the wild:
//   transformers 4.x: rope_theta, rope_scaling {rope_type|type, factor, …}, torch_dtype
//   transformers 5.x: rope_parameters {rope_theta, rope_type, factor, …}, dtype
// Defaults for absent optional fields follow each family's transformers config class.
import { DeepenError } from '../../shared/errors';

export const supportedModelTypes = ['llama', 'mistral', 'qwen2', 'qwen3'] as const;
export type ModelType = (typeof supportedModelTypes)[number];

export type RopeType = 'default' | 'linear' | 'dynamic' | 'llama3' | 'yarn' | 'longrope';

export interface RopeConfig {
  type: RopeType;
  /** base θ of the inverse frequencies θ^(-2i/d) */
  theta: number;
  /** context scaling factor (linear, dynamic, llama3, yarn); 1 when unscaled */
  factor: number;
  /** the context length the model was pre-trained with (llama3, yarn, dynamic) */
  originalMaxPositionEmbeddings?: number;
  /** llama3 */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** yarn */
  betaFast?: number;
  betaSlow?: number;
  attentionFactor?: number;
  mscale?: number;
  mscaleAllDim?: number;
  truncate?: boolean;
  /** fraction of head_dim that is rotated (1 for all supported families) */
  partialRotaryFactor: number;
}

export type LayerType = 'full_attention' | 'sliding_attention';

export interface ModelConfig {
  modelType: ModelType;
  architectures: string[];
  /** which `config.json` layout the file used; expansion writes the same one back */
  layout: '4.x' | '5.x';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  /** decoder blocks, `num_hidden_layers` */
  numLayers: number;
  numHeads: number;
  /** key/value heads (GQA); equals numHeads without GQA */
  numKvHeads: number;
  /** per-head dimension; q_proj is [numHeads·headDim, hidden], k/v_proj [numKvHeads·headDim, hidden] */
  headDim: number;
  rmsNormEps: number;
  hiddenAct: string;
  rope: RopeConfig;
  maxPositionEmbeddings: number;
  /** lm_head shares model.embed_tokens.weight (no lm_head.weight in the file) */
  tieWordEmbeddings: boolean;
  /** q_proj, k_proj, v_proj have biases (qwen2 always; llama/qwen3 when `attention_bias`) */
  attentionBias: boolean;
  /** o_proj has a bias (llama/qwen3 `attention_bias`); it must be zeroed with o_proj.weight in new blocks */
  attentionOutputBias: boolean;
  /** gate_proj, up_proj, down_proj have biases (llama `mlp_bias`) */
  mlpBias: boolean;
  /** per-head RMSNorm of q and k before RoPE (qwen3: self_attn.q_norm / k_norm, weight [headDim]) */
  qkNorm: boolean;
  /** the sliding-window size in effect, null when no layer uses one */
  slidingWindow: number | null;
  /** attention kind of each layer (length numLayers); from `layer_types` when given, else derived */
  layerTypes: LayerType[];
  /** qwen2/qwen3: layers below this index use full attention when sliding is on; null elsewhere */
  maxWindowLayers: number | null;
  bosTokenId: number | null;
  /** may hold several ids (Llama 3 lists three) */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** the dtype config.json names (`dtype` or `torch_dtype`), e.g. "bfloat16"; null if absent */
  dtype: string | null;
}

export interface ParsedConfig {
  config: ModelConfig;
  /** the JSON object as read, kept so writers can change only what they must */
  raw: Record<string, unknown>;
}

const familyDefaults: Record<ModelType, { maxPositionEmbeddings: number; rmsNormEps: number; ropeTheta: number; tie: boolean; headDim?: number }> = {
  llama: { maxPositionEmbeddings: 2048, rmsNormEps: 1e-6, ropeTheta: 10000, tie: false },
  mistral: { maxPositionEmbeddings: 4096 * 32, rmsNormEps: 1e-6, ropeTheta: 10000, tie: false },
  qwen2: { maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, ropeTheta: 10000, tie: false },
  // Qwen3Config's head_dim defaults to 128 regardless of hidden_size
  qwen3: { maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, ropeTheta: 10000, tie: false, headDim: 128 },
};

class Fields {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly file: string,
  ) {}

  fail(field: string, what: string): never {
    throw new DeepenError('bad_file', `${this.file}: "${field}" ${what}. Fix config.json or re-download the model.`, { file: this.file, field });
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  requiredInt(key: string): number {
    if (!this.has(key)) this.fail(key, 'is missing (required)');
    return this.positiveInt(key, this.raw[key]);
  }

  optionalInt(key: string, fallback: number): number {
    return this.has(key) ? this.positiveInt(key, this.raw[key]) : fallback;
  }

  positiveInt(key: string, v: unknown): number {
    if (!Number.isSafeInteger(v) || (v as number) <= 0) this.fail(key, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  }

  number(key: string, v: unknown, fallback: number): number {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  tokenId(key: string): number | null {
    const v = this.raw[key];
    if (v === undefined || v === null) return null;
    if (Array.isArray(v)) return v.length ? this.tokenIdValue(key, v[0]) : null;
    return this.tokenIdValue(key, v);
  }

  tokenIds(key: string): number[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    return (Array.isArray(v) ? v : [v]).map((x) => this.tokenIdValue(key, x));
  }

  private tokenIdValue(key: string, v: unknown): number {
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(key, `must be a token id (a non-negative integer), got ${JSON.stringify(v)}`);
    return v as number;
  }
}

/** Parses a config.json object; `file` names it in error messages. */
export function parseHfConfig(json: unknown, file = 'config.json'): ParsedConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DeepenError('bad_file', `${file} is not a JSON object. Re-download the model's config.json.`, { file });
  }
  const raw = json as Record<string, unknown>;
  const f = new Fields(raw, file);
  const modelType = raw.model_type;
  if (modelType === undefined || modelType === null) f.fail('model_type', `is missing (required; supported: ${supportedModelTypes.join(', ')})`);
  if (typeof modelType !== 'string' || !(supportedModelTypes as readonly string[]).includes(modelType)) {
    throw new DeepenError(
      'unsupported',
      `${file}: model_type ${JSON.stringify(modelType)} is not supported. Deepen expands and trains these Llama-family types: ${supportedModelTypes.join(', ')}.`,
      { file, field: 'model_type', modelType, supported: [...supportedModelTypes] },
    );
  }
  const type = modelType as ModelType;
  const defaults = familyDefaults[type];

  const vocabSize = f.requiredInt('vocab_size');
  const hiddenSize = f.requiredInt('hidden_size');
  const intermediateSize = f.requiredInt('intermediate_size');
  const numLayers = f.requiredInt('num_hidden_layers');
  const numHeads = f.requiredInt('num_attention_heads');
  const numKvHeads = f.optionalInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) f.fail('num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  const headDim = f.optionalInt('head_dim', defaults.headDim ?? Math.floor(hiddenSize / numHeads));
  if (!f.has('head_dim') && defaults.headDim === undefined && hiddenSize % numHeads !== 0) {
    f.fail('hidden_size', `(${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`);
  }

  // Attention/MLP biases differ by family (see each transformers modeling file).
  const attentionBiasFlag = type === 'llama' || type === 'qwen3' ? f.bool('attention_bias', false) : false;
  const attentionBias = type === 'qwen2' ? true : attentionBiasFlag;
  const attentionOutputBias = attentionBiasFlag;
  const mlpBias = type === 'llama' ? f.bool('mlp_bias', false) : false;

  const { slidingWindow, layerTypes, maxWindowLayers } = parseAttentionLayout(f, type, numLayers);
  const dtypeValue = raw.dtype ?? raw.torch_dtype;
  const architectures = Array.isArray(raw.architectures) ? raw.architectures.filter((a): a is string => typeof a === 'string') : [];

  const config: ModelConfig = {
    modelType: type,
    architectures,
    layout: raw.rope_parameters !== undefined || (raw.dtype !== undefined && raw.torch_dtype === undefined) ? '5.x' : '4.x',
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: f.number('rms_norm_eps', raw.rms_norm_eps, defaults.rmsNormEps),
    hiddenAct: typeof raw.hidden_act === 'string' ? raw.hidden_act : 'silu',
    rope: parseRope(f, defaults.ropeTheta),
    maxPositionEmbeddings: f.optionalInt('max_position_embeddings', defaults.maxPositionEmbeddings),
    tieWordEmbeddings: f.bool('tie_word_embeddings', defaults.tie),
    attentionBias,
    attentionOutputBias,
    mlpBias,
    qkNorm: type === 'qwen3',
    slidingWindow,
    layerTypes,
    maxWindowLayers,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
    padTokenId: f.tokenId('pad_token_id'),
    dtype: typeof dtypeValue === 'string' ? dtypeValue : null,
  };
  return { config, raw };
}

function parseAttentionLayout(f: Fields, type: ModelType, numLayers: number): Pick<ModelConfig, 'slidingWindow' | 'layerTypes' | 'maxWindowLayers'> {
  const raw = f.raw;
  // MistralConfig defaults sliding_window to 4096 when the key is absent (null means "none").
  const given = raw.sliding_window === undefined && type === 'mistral' ? 4096 : raw.sliding_window;
  const window = given === undefined || given === null ? null : f.positiveInt('sliding_window', given);
  let maxWindowLayers: number | null = null;
  // Llama has no sliding-window attention at all; a stray key there means nothing.
  let effectiveWindow = type === 'llama' ? null : window;
  if (type === 'qwen2' || type === 'qwen3') {
    // Qwen configs carry a sliding_window even when use_sliding_window is false.
    if (!f.bool('use_sliding_window', false)) effectiveWindow = null;
    if (f.has('max_window_layers')) {
      const v = raw.max_window_layers;
      if (!Number.isSafeInteger(v) || (v as number) < 0) f.fail('max_window_layers', `must be a non-negative integer, got ${JSON.stringify(v)}`);
      maxWindowLayers = v as number;
    }
  }
  let layerTypes: LayerType[];
  if (raw.layer_types !== undefined && raw.layer_types !== null) {
    const lt = raw.layer_types;
    if (!Array.isArray(lt) || lt.length !== numLayers) f.fail('layer_types', `must list one entry per layer (${numLayers}), got ${Array.isArray(lt) ? lt.length : JSON.stringify(lt)}`);
    for (const t of lt) if (t !== 'full_attention' && t !== 'sliding_attention') f.fail('layer_types', `has an unknown entry ${JSON.stringify(t)}`);
    layerTypes = lt as LayerType[];
  } else if (effectiveWindow !== null) {
    // Mistral slides in every layer; Qwen only from max_window_layers up.
    const from = type === 'mistral' ? 0 : (maxWindowLayers ?? 0);
    layerTypes = Array.from({ length: numLayers }, (_, i) => (i >= from ? 'sliding_attention' : 'full_attention'));
  } else {
    layerTypes = Array.from({ length: numLayers }, () => 'full_attention');
  }
  const slides = layerTypes.includes('sliding_attention');
  if (slides && window === null) f.fail('sliding_window', 'is missing but layer_types has sliding_attention layers');
  return { slidingWindow: slides ? window : null, layerTypes, maxWindowLayers };
}

function parseRope(f: Fields, defaultTheta: number): RopeConfig {
  const raw = f.raw;
  // 5.x: rope_parameters (possibly keyed by layer type); 4.x: rope_theta + rope_scaling.
  let params: Record<string, unknown> = {};
  let source = 'rope_scaling';
  if (isObject(raw.rope_parameters)) {
    source = 'rope_parameters';
    const rp = raw.rope_parameters;
    params = isObject(rp.full_attention) ? rp.full_attention : rp;
  } else if (raw.rope_parameters !== undefined && raw.rope_parameters !== null) {
    f.fail('rope_parameters', 'must be an object');
  } else if (isObject(raw.rope_scaling)) {
    params = raw.rope_scaling;
  } else if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    f.fail('rope_scaling', 'must be an object or null');
  }
  const theta = f.number(`${source}.rope_theta`, params.rope_theta ?? raw.rope_theta, defaultTheta);
  const typeValue = params.rope_type ?? params.type ?? 'default';
  const known: RopeType[] = ['default', 'linear', 'dynamic', 'llama3', 'yarn', 'longrope'];
  if (typeof typeValue !== 'string' || !(known as string[]).includes(typeValue)) {
    throw new DeepenError('unsupported', `${f.file}: RoPE type ${JSON.stringify(typeValue)} is not supported (supported: ${known.join(', ')}).`, {
      file: f.file,
      field: `${source}.rope_type`,
    });
  }
  const num = (key: string) => (params[key] === undefined || params[key] === null ? undefined : f.number(`${source}.${key}`, params[key], 0));
  const rope: RopeConfig = {
    type: typeValue as RopeType,
    theta,
    factor: num('factor') ?? 1,
    partialRotaryFactor: f.number('partial_rotary_factor', params.partial_rotary_factor ?? raw.partial_rotary_factor, 1),
  };
  const optional: [keyof RopeConfig, string][] = [
    ['originalMaxPositionEmbeddings', 'original_max_position_embeddings'],
    ['lowFreqFactor', 'low_freq_factor'],
    ['highFreqFactor', 'high_freq_factor'],
    ['betaFast', 'beta_fast'],
    ['betaSlow', 'beta_slow'],
    ['attentionFactor', 'attention_factor'],
    ['mscale', 'mscale'],
    ['mscaleAllDim', 'mscale_all_dim'],
  ];
  for (const [key, jsonKey] of optional) {
    const v = num(jsonKey);
    if (v !== undefined) (rope as unknown as Record<string, number>)[key] = v;
  }
  if (typeof params.truncate === 'boolean') rope.truncate = params.truncate;
  if (rope.type === 'llama3' && (rope.lowFreqFactor === undefined || rope.highFreqFactor === undefined || rope.originalMaxPositionEmbeddings === undefined)) {
    f.fail(source, 'of type llama3 needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings');
  }
  return rope;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
