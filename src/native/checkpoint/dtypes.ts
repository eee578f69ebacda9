// Tensor element types we read and write. Names are the safetensors spellings.
// Expansion copies bytes, so any of these survives unchanged (a bf16 model
// stays bf16: the LLaMA Pro authors' script cast everything to float16).

export const dtypeBytes = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
} as const;

export type Dtype = keyof typeof dtypeBytes;

export const supportedDtypes = Object.keys(dtypeBytes) as Dtype[];

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(dtypeBytes, value);
}

/** Element count of a shape; null when it exceeds what a JS number holds exactly. */
export function elementCount(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** HF config `dtype`/`torch_dtype` spelling of a safetensors dtype. */
export function torchDtypeName(dtype: Dtype): string {
  switch (dtype) {
    case 'F32':
      return 'float32';
    case 'F16':
      return 'float16';
    case 'BF16':
      return 'bfloat16';
    case 'I64':
      return 'int64';
    case 'I32':
      return 'int32';
    case 'U8':
      return 'uint8';
    case 'BOOL':
      return 'bool';
  }
}
