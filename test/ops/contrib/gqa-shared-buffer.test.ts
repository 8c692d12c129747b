// GroupQueryAttention with present_key/present_value bound to past_key/past_value's memory (the
// shared-buffer mode a generation runtime uses): the op prepared and built directly over a kernel
// heap with outputs 1 and 2 at inputs 3 and 4's addresses. Several decode steps run in place; each
// is compared with onnxruntime-web on the same cache (its concat mode gives the same live rows),
// and every cache row past the live ones must still hold its sentinel: the step wrote only the
// new tokens' rows.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { TesseraError } from '../../../src/api/errors.js';
import { Attrs } from '../../../src/ops/attrs.js';
import type { AttributeValue, Node } from '../../../src/graph/ir.js';
import type { Bound, InputInfo, OpContext } from '../../../src/ops/types.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { groupQueryAttentionOps } from '../../../src/ops/contrib/group-query-attention.js';
import { Heap, WASM, ensureBuilt, loadModule } from '../../unit/harness.js';
import { expectClose, rand, ropeCaches, runBoth } from './ms-node.js';

const B = 2, H = 8, KVH = 2, D = 64, M = 12;
const SENTINEL = 12345;

function context(attrs: Record<string, number>, infos: (InputInfo | undefined)[]): OpContext {
  const map = new Map<string, AttributeValue>(Object.entries(attrs).map(([k, v]) => [k, { type: 'int', value: v }]));
  const node: Node = { name: 'gqa', opType: 'GroupQueryAttention', domain: 'com.microsoft', inputs: infos.map((x) => x?.name ?? ''), outputs: ['o', 'pk', 'pv'], attributes: map };
  return {
    node, opset: 1, inputs: infos, attrs: new Attrs(node),
    input(i) { const x = infos[i]; if (!x) throw new Error(`input ${i}`); return x; },
    fail(m, code) { throw new TesseraError(code ?? 'INVALID_MODEL', m); },
  };
}

const info = (name: string, t: Tensor): InputInfo => ({ name, dtype: t.type as InputInfo['dtype'], dims: [...t.dims], value: t.data as never, constant: false });

describe('GroupQueryAttention in place (present shares past)', () => {
  it('decode steps write only the new rows and match onnxruntime-web', async () => {
    ensureBuilt();
    const heap = new Heap(loadModule(WASM.simd));
    const f32 = () => new Float32Array(heap.memory.buffer);
    const cacheN = B * KVH * M * D;
    const pk = heap.alloc(cacheN), pv = heap.alloc(cacheN);
    // Live rows of a first "prompt" (lens 3 and 5), sentinels elsewhere.
    let lens = [3, 5];
    const kInit = rand(cacheN, 11), vInit = rand(cacheN, 12);
    for (let i = 0; i < cacheN; i++) {
      const b = Math.floor(i / (KVH * M * D)), pos = Math.floor(i / D) % M;
      f32()[pk / 4 + i] = pos < lens[b]! ? kInit[i]! : SENTINEL;
      f32()[pv / 4 + i] = pos < lens[b]! ? vInit[i]! : SENTINEL;
    }
    const [cos, sin] = ropeCaches(M, D / 2);
    const cosP = heap.put(cos.data as Float32Array), sinP = heap.put(sin.data as Float32Array);
    const attrs = { num_heads: H, kv_num_heads: KVH, do_rotary: 1 };
    for (let step = 0; step < 3; step++) {
      lens = lens.map((l) => l + 1);
      const T = Math.max(...lens);
      const q = new Tensor('float32', rand(B * H * D, 100 + step), [B, 1, H * D]);
      const k = new Tensor('float32', rand(B * KVH * D, 200 + step), [B, 1, KVH * D]);
      const v = new Tensor('float32', rand(B * KVH * D, 300 + step), [B, 1, KVH * D]);
      const past = () => new Tensor('float32', f32().slice(pk / 4, pk / 4 + cacheN), [B, KVH, M, D]);
      const pastV = () => new Tensor('float32', f32().slice(pv / 4, pv / 4 + cacheN), [B, KVH, M, D]);
      const seq = new Tensor('int32', Int32Array.from(lens, (l) => l - 1), [B]);
      const tot = new Tensor('int32', Int32Array.of(T), [1]);
      const pkT = past(), pvT = pastV();
      const [, ref] = await runBoth('GroupQueryAttention', [q, k, v, pkT, pvT, seq, tot, cos, sin], attrs, 3);

      const ctx = context(attrs, [info('q', q), info('k', k), info('v', v), info('pk', pkT), info('pv', pvT), info('seq', seq), info('tot', tot), info('cos', cos), info('sin', sin)]);
      const prepared = groupQueryAttentionOps[0]!.prepare(ctx);
      expect(prepared.outputs[1]!.dims).toEqual([B, KVH, M, D]);
      const qP = heap.put(q.data as Float32Array), kP = heap.put(k.data as Float32Array), vP = heap.put(v.data as Float32Array);
      const seqP = heap.alloc(B);
      new Int32Array(heap.memory.buffer, seqP, B).set(seq.data as Int32Array);
      const totP = heap.alloc(1);
      new Int32Array(heap.memory.buffer, totP, 1)[0] = T;
      const out = heap.alloc(B * H * D), scratch = heap.alloc(prepared.scratchBytes! / 4);
      const bound: Bound = {
        k: heap.k as unknown as Kernels, memory: heap.memory,
        inputs: [qP, kP, vP, pk, pv, seqP, totP, cosP, sinP], outputs: [out, pk, pv], scratch,
        view: (dtype, ptr, n) => () => (dtype === 'int32' ? new Int32Array(heap.memory.buffer, ptr, n) : new Float32Array(heap.memory.buffer, ptr, n)),
        persistent: () => { throw new Error('unused'); },
      };
      prepared.build!(bound)();
      const mine = (p: number, n: number, dims: number[]) => new Tensor('float32', f32().slice(p / 4, p / 4 + n), dims);
      expectClose(mine(out, B * H * D, [B, 1, H * D]), ref[0]!, `step ${step} output`);
      const live = (i: number) => Math.floor(i / D) % M < lens[Math.floor(i / (KVH * M * D))]!;
      expectClose(mine(pk, cacheN, [B, KVH, M, D]), ref[1]!, `step ${step} present_key`, 1e-5, 1e-6, live);
      expectClose(mine(pv, cacheN, [B, KVH, M, D]), ref[2]!, `step ${step} present_value`, 1e-5, 1e-6, live);
      for (let i = 0; i < cacheN; i++) {
        if (!live(i) && (f32()[pk / 4 + i] !== SENTINEL || f32()[pv / 4 + i] !== SENTINEL)) expect.fail(`step ${step}: cache element ${i} past the live rows was written`);
      }
      expect(heap.checkCanaries()).toBeNull();
    }
  });
});
