// What a test expects to fail: the DeepenError a promise rejects with, or a
// function throws. Anything else, success included, fails the test.
import { expect } from 'vitest';
import { DeepenError } from '../src/shared/errors';

export async function rejectionOf(p: Promise<unknown>): Promise<DeepenError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(DeepenError);
    return err as DeepenError;
  }
  throw new Error('expected a DeepenError, but the promise resolved');
}

export function thrownBy(fn: () => unknown): DeepenError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(DeepenError);
    return err as DeepenError;
  }
  throw new Error('expected a DeepenError, but nothing was thrown');
}
