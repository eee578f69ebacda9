// Errors that cross the transport. A DeepenError carries a machine code (for
// code paths and tests) and a message written for the user: what went wrong,
// naming the file or value, and what to do next.

export const errorCodes = [
  'bad_request', // a parameter is missing or malformed
  'not_found', // a model, dataset, job or file does not exist
  'conflict', // the target already exists or is in use
  'bad_file', // a file exists but its contents are invalid (safetensors, config, tokenizer, dataset)
  'unsupported', // a model type, dtype, op or feature we do not handle
  'out_of_disk',
  'out_of_memory',
  'cancelled',
  'unauthorized',
  'engine_closed', // the engine process went away
  'provider_failed', // an execution provider failed to initialise
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class DeepenError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DeepenError';
    this.code = code;
    this.details = details;
  }
  toInfo(): ErrorInfo {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
  static fromInfo(info: ErrorInfo): DeepenError {
    return new DeepenError(errorCodes.includes(info.code) ? info.code : 'internal', info.message, info.details);
  }
}

/** Any thrown value as ErrorInfo; unknown errors keep their message but become `internal`. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof DeepenError) return err.toInfo();
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: unknown; message: unknown };
    if (code === 'ENOSPC') return { code: 'out_of_disk', message: `The disk is full: ${String(message)}. Free some space and try again.` };
    if (code === 'ENOMEM') return { code: 'out_of_memory', message: `Out of memory: ${String(message)}. Close other models or pick a smaller one.` };
    if (typeof code === 'string' && (errorCodes as readonly string[]).includes(code)) {
      return { code: code as ErrorCode, message: String((err as { message: unknown }).message) };
    }
  }
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
