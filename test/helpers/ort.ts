/** onnxruntime-web as the oracle: same model bytes, same feeds, one thread. */
import * as ort from 'onnxruntime-web';
import type { Tensor } from '../../src/api/tensor.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

export async function ortRun(session: ort.InferenceSession, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const f: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(t.type as never, t.data as never, [...t.dims]);
  return session.run(f);
}
