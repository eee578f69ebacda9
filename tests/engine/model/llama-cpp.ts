// Greedy generation with node-llama-cpp (llama.cpp's prebuilt CPU binary) on a
// GGUF file: the interoperability check of our exporter.
import { getLlama, type Llama, type Token } from 'node-llama-cpp';

let llama: Promise<Llama> | null = null;
const instance = () => (llama ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' as never }));

export async function llamaCppGreedy(file: string, prompt: number[], newTokens: number): Promise<number[]> {
  const model = await (await instance()).loadModel({ modelPath: file });
  // One thread: llama.cpp's workers spin while waiting, which on a shared 2-core CI
  // runner turned 12 tokens of a tiny model into a minute.
  const context = await model.createContext({ contextSize: 256, sequences: 1, threads: 1 });
  try {
    const seq = context.getSequence();
    const out: number[] = [];
    for await (const token of seq.evaluate(prompt as Token[], { temperature: 0, yieldEogToken: true })) {
      out.push(token as number);
      if (out.length >= newTokens) break;
    }
    return out;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
