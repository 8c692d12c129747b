/**
 * The oracle for generation: onnxruntime-web driving the same model file step by step as
 * transformers.js does (attention_mask and position_ids grown in JavaScript, every present copied
 * out and fed back as past), greedy. Batch 1.
 */
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export async function ortGreedy(bytes: Uint8Array, prompt: number[], maxNew: number, eos: number[] = []): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const pasts = s.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = (s as unknown as { inputMetadata?: { name: string; shape: (number | string)[]; type?: string }[] }).inputMetadata;
  const shapeOf = (n: string) => meta?.find((m) => m.name === n)?.shape;
  const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), dims);
  let feeds: Record<string, ort.Tensor> = {};
  for (const n of pasts) {
    const sh = shapeOf(n)!;
    const half = meta?.find((m) => m.name === n)?.type === 'float16';
    feeds[n] = half ? new ort.Tensor('float16', new Uint16Array(0), [1, sh[1] as number, 0, sh[3] as number])
      : new ort.Tensor('float32', new Float32Array(0), [1, sh[1] as number, 0, sh[3] as number]);
  }
  const seq = [...prompt];
  let ids = prompt, past = 0;
  for (let step = 0; step < maxNew; step++) {
    const S = ids.length;
    feeds.input_ids = i64(ids, [1, S]);
    if (s.inputNames.includes('attention_mask')) feeds.attention_mask = i64(new Array(past + S).fill(1), [1, past + S]);
    if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(Array.from({ length: S }, (_, i) => past + i), [1, S]);
    const out = await s.run(feeds);
    const raw = out.logits!;
    const logits = raw.type === 'float16' ? Float32Array.from(raw.data as Uint16Array, halfToFloat) : raw.data as Float32Array;
    const V = out.logits!.dims[2]!;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(S - 1) * V + v]! > logits[(S - 1) * V + best]!) best = v;
    seq.push(best);
    const next: Record<string, ort.Tensor> = {};
    for (const n of pasts) next[n] = out[n.replace('past_key_values', 'present')]!;
    feeds = next;
    past += S;
    ids = [best];
    if (eos.includes(best)) break;
  }
  await s.release();
  return seq;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
