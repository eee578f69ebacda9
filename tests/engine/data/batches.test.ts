// Packed token batches for the trainer, with a byte-level tokenizer (id =
// byte, 256 = BOS, 257 = EOS): shapes, packing, loss only on assistant
// tokens, seeded shuffles, and a dataset deleted while a run reads it.
import { afterAll, describe, expect, it } from 'vitest';
import { streamBatches, type TokenBatch } from '../../../src/native/data/batches';
import { markDatasetDeleting } from '../../../src/native/data/datasets';
import { plainChatTemplate, renderRecord, tokenizeSegments, type TokenEncoder } from '../../../src/native/data/record-render';
import { importFile, world } from '../../unit/data/dataset-helpers';

const BOS = 256;
const EOS = 257;
const bytes: TokenEncoder = { encode: (text, opts) => [...(opts?.addSpecialTokens ? [BOS] : []), ...Buffer.from(text)] };
const decode = (ids: ArrayLike<number>) => Buffer.from(Array.from(ids).filter((i) => i < 256)).toString();

const w = world('deepen-batches-');
afterAll(() => w.cleanup());

async function collect(it: AsyncGenerator<TokenBatch>) {
  const out: TokenBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('rendering with loss masks', () => {
  it('puts loss on the assistant reply and its end-of-turn text only', () => {
    const r = renderRecord({ kind: 'chat', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }, { role: 'user', content: 'more' }, { role: 'assistant', content: 'ok' }] }, plainChatTemplate);
    expect(r.segments).toEqual([
      { text: '<|user|>\nhi\n<|assistant|>\n', loss: false },
      { text: 'yo\n', loss: true },
      { text: '<|user|>\nmore\n<|assistant|>\n', loss: false },
      { text: 'ok\n', loss: true },
    ]);
    const t = tokenizeSegments(r, bytes, EOS);
    expect(t.ids[0]).toBe(BOS);
    expect(decode(t.ids.filter((_, i) => t.loss[i] === 1))).toBe('yo\nok\n');
  });

  it('falls back to finding replies in the text when a template rewrites earlier turns', () => {
    const rewriting = {
      render: (messages: readonly { role: string; content: string }[], opts?: { addGenerationPrompt?: boolean }) => ({
        // drops every assistant turn but the last, like templates that strip past reasoning
        text: messages.map((m, i) => (m.role === 'assistant' && i < messages.length - 1 ? '' : `[${m.role}]${m.content}`)).join('') + (opts?.addGenerationPrompt ? '[assistant]' : ''),
        mode: 'chat' as const,
        addSpecialTokens: false,
      }),
    };
    const r = renderRecord({ kind: 'chat', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'first' }, { role: 'user', content: 'b' }, { role: 'assistant', content: 'second' }] }, rewriting);
    expect(r.segments.filter((s) => s.loss).map((s) => s.text)).toEqual(['second']);
  });

  it('treats pretraining text as all loss, ending with EOS', () => {
    const t = tokenizeSegments(renderRecord({ kind: 'text', text: 'abc' }, null), bytes, EOS);
    expect(t.ids).toEqual([BOS, 97, 98, 99, EOS]);
    expect(Array.from(t.loss)).toEqual([0, 1, 1, 1, 1]);
  });
});

describe('streamBatches', () => {
  it('packs documents into [B, T] batches covering every token once, position 0 of a row never a target', async () => {
    const docs = Array.from({ length: 50 }, (_, i) => ({ text: `document number ${i} ${'z'.repeat(i)}` }));
    const { datasetId } = await importFile(w, { path: w.file('docs.jsonl', docs.map((d) => JSON.stringify(d)).join('\n')) });
    const batches = await collect(streamBatches(w.db, { datasetId, batchSize: 4, seqLen: 32, encoder: bytes, eosId: EOS }));
    const expected = docs.reduce((n, d) => n + Buffer.byteLength(d.text) + 2, 0);
    expect(batches.reduce((n, b) => n + b.tokens, 0)).toBe(expected);
    for (const b of batches) {
      expect(b.inputIds).toBeInstanceOf(Int32Array);
      expect(b.inputIds.length).toBe(4 * 32);
      for (let r = 0; r < 4; r++) expect(b.lossMask[r * 32]).toBe(0);
      for (let i = 0; i < b.inputIds.length; i++) if (!b.attentionMask[i]) expect(b.lossMask[i]).toBe(0);
    }
    const all = batches.flatMap((b) => Array.from(b.inputIds.slice(0, b.tokens)));
    expect(decode(all)).toBe(docs.map((d) => d.text).join(''));
    expect(batches.at(-1)!.recordsRead).toBe(50);
  });

  it('gives each instruction record its own row without packing, loss on the answer only, cut at T', async () => {
    const rows = [
      { instruction: 'Capital of France?', output: 'Paris' },
      { instruction: 'x'.repeat(100), output: 'cut off' },
    ];
    const { datasetId } = await importFile(w, { path: w.file('inst.jsonl', rows.map((d) => JSON.stringify(d)).join('\n')) });
    const [b] = await collect(streamBatches(w.db, { datasetId, batchSize: 2, seqLen: 64, encoder: bytes, eosId: EOS, packing: false, template: plainChatTemplate }));
    const row = (r: number, arr: ArrayLike<number>) => Array.from(arr).slice(r * 64, r * 64 + 64);
    const ids0 = row(0, b.inputIds);
    const loss0 = row(0, b.lossMask);
    expect(decode(ids0.filter((_, i) => loss0[i] === 1))).toBe('Paris\n');
    expect(row(1, b.attentionMask).every((a) => a === 1)).toBe(true); // the long prompt fills the row
    expect(row(1, b.lossMask).every((l) => l === 0)).toBe(true); // its answer was cut off
  });

  it('shuffles reproducibly by seed and epoch, and drops a last partial batch when asked', async () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({ text: `d${i}` }));
    const { datasetId } = await importFile(w, { path: w.file('shuf.jsonl', docs.map((d) => JSON.stringify(d)).join('\n')) });
    const order = async (seed: number, epoch = 0) => decode((await collect(streamBatches(w.db, { datasetId, batchSize: 1, seqLen: 400, encoder: bytes, eosId: EOS, shuffle: { seed, epoch } })))[0].inputIds);
    expect(await order(1)).toBe(await order(1));
    expect(await order(1)).not.toBe(await order(2));
    expect(await order(1, 1)).not.toBe(await order(1, 0));
    const full = await collect(streamBatches(w.db, { datasetId, batchSize: 1, seqLen: 16, encoder: bytes, eosId: EOS, dropLast: true }));
    expect(full.every((b) => b.attentionMask.every((a) => a === 1))).toBe(true);
  });

  it('refuses to start on a deleted or empty split, and stops with a clear message when the dataset is deleted mid-run', async () => {
    const docs = Array.from({ length: 2000 }, (_, i) => ({ text: `row ${i} ${'y'.repeat(50)}` }));
    const { datasetId } = await importFile(w, { path: w.file('del.jsonl', docs.map((d) => JSON.stringify(d)).join('\n')), name: 'to-delete' });
    await expect(collect(streamBatches(w.db, { datasetId, split: 'eval', batchSize: 1, seqLen: 8, encoder: bytes }))).rejects.toThrow(/"to-delete" has no eval records/);
    const run = streamBatches(w.db, { datasetId, batchSize: 2, seqLen: 64, encoder: bytes, eosId: EOS });
    await run.next();
    markDatasetDeleting(w.db, datasetId, null);
    await expect(collect(run)).rejects.toThrow(/"to-delete" was deleted while this run was reading it \(after \d+ of 2000 records\)/);
    await expect(collect(streamBatches(w.db, { datasetId, batchSize: 1, seqLen: 8, encoder: bytes }))).rejects.toThrow(/No dataset with id/);
  });
});
