// RoPE frequency variants, checked against their defining properties.
import { describe, expect, test } from 'vitest';
import type { ModelConfig, RopeConfig } from '../../../src/native/checkpoint/hf-config';
import { ropeFrequencies, ropeTable } from '../../../src/native/model/rope';

const config = (rope: Partial<RopeConfig>, headDim = 128, maxPos = 4096): ModelConfig =>
  ({ headDim, maxPositionEmbeddings: maxPos, modelType: 'llama', rope: { type: 'default', theta: 10000, factor: 1, partialRotaryFactor: 1, ...rope } }) as ModelConfig;

const close = (a: number, b: number, rel = 1e-6) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.abs(b) + 1e-12);

describe('ropeFrequencies', () => {
  test('default: θ^(-2i/d)', () => {
    const { invFreq, attentionFactor } = ropeFrequencies(config({ theta: 500000 }), 1);
    expect(invFreq.length).toBe(64);
    expect(invFreq[0]).toBe(1);
    close(invFreq[10], 500000 ** (-20 / 128));
    expect(attentionFactor).toBe(1);
  });

  test('linear divides every frequency by the factor', () => {
    const d = ropeFrequencies(config({}), 1).invFreq;
    const l = ropeFrequencies(config({ type: 'linear', factor: 4 }), 1).invFreq;
    d.forEach((x, i) => close(l[i], x / 4));
  });

  test('dynamic NTK is the default up to max_position_embeddings, then raises the base', () => {
    const c = config({ type: 'dynamic', factor: 2 }, 64, 256);
    const d = ropeFrequencies(config({}, 64, 256), 1).invFreq;
    expect(Array.from(ropeFrequencies(c, 256).invFreq)).toEqual(Array.from(d));
    const longer = ropeFrequencies(c, 512).invFreq;
    const base = 10000 * (2 * 2 - 1) ** (64 / 62);
    close(longer[5], base ** (-10 / 64));
    expect(longer[5]).toBeLessThan(d[5]);
  });

  test('llama3 keeps high frequencies, divides low ones by the factor, smooths between', () => {
    const rope = { type: 'llama3' as const, theta: 500000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const d = ropeFrequencies(config({ theta: 500000 }), 1).invFreq;
    const l = ropeFrequencies(config(rope), 1).invFreq;
    let high = 0;
    let low = 0;
    for (let i = 0; i < d.length; i++) {
      const wavelen = (2 * Math.PI) / d[i];
      if (wavelen < 8192 / 4) {
        expect(l[i]).toBe(d[i]);
        high++;
      } else if (wavelen > 8192) {
        close(l[i], d[i] / 8);
        low++;
      } else {
        expect(l[i]).toBeLessThanOrEqual(d[i]);
        expect(l[i]).toBeGreaterThanOrEqual(Math.fround(d[i] / 8));
      }
    }
    expect(high).toBeGreaterThan(0);
    expect(low).toBeGreaterThan(0);
  });

  test('yarn: extrapolates high frequencies, interpolates low ones, scales attention', () => {
    const c = config({ type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 4096 });
    const d = ropeFrequencies(config({}), 1).invFreq;
    const { invFreq, attentionFactor } = ropeFrequencies(c, 1);
    close(attentionFactor, 0.1 * Math.log(4) + 1);
    close(invFreq[0], d[0]);
    close(invFreq[63], d[63] / 4);
    const m = ropeFrequencies(config({ type: 'yarn', factor: 4, mscale: 1, mscaleAllDim: 1 }), 1);
    expect(m.attentionFactor).toBe(1);
  });
});

test('ropeTable: rows per position, both layouts, scaled by the attention factor', () => {
  const f = { invFreq: Float64Array.from([1, 0.5]), attentionFactor: 2 };
  const half = ropeTable(f, 3, 2, false);
  expect(half.cos.length).toBe(4);
  close(half.cos[0], 2 * Math.cos(3), 1e-6);
  close(half.sin[3], 2 * Math.sin(4 * 0.5), 1e-6);
  const full = ropeTable(f, 3, 2, true);
  expect(Array.from(full.cos.subarray(0, 2))).toEqual(Array.from(full.cos.subarray(2, 4)));
});
