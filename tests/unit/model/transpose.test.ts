// The tiled transpose that packs projection weights must equal the plain
// definition for every shape, including ones that are not tile multiples.
import { expect, test } from 'vitest';
import { transposeInto } from '../../../src/native/model/weights';

test.each([
  [1, 1],
  [3, 70],
  [37, 33],
  [64, 64],
  [100, 7],
])('a (%i, %i) matrix written as columns of a wider one equals the plain transpose', (rows, cols) => {
  const w = Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
  const col = 5;
  const stride = rows + 9;
  const out = new Float32Array(cols * stride).fill(-1);
  transposeInto(w, rows, cols, out, stride, col);
  const expected = new Float32Array(cols * stride).fill(-1);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) expected[k * stride + col + r] = w[r * cols + k];
  expect(out).toEqual(expected);
});
