// com.microsoft GroupQueryAttention against onnxruntime-web: prompts and decode steps, MHA and GQA
// head ratios, rotary (plain and interleaved), packed QKV, batch 2 with different lengths, local
// windows, softcap and smooth softmax, head sizes 64 and 128.
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../../src/index.js';
import { expectClose, msModel, rand, ropeCaches, runBoth, type MsInput } from './ms-node.js';

interface Case {
  name: string;
  B: number; S: number; H: number; KVH: number; D: number;
  /** Past buffer length (0: no past inputs). */
  P: number;
  /** seqlens_k + 1 per batch entry (the total length of each). */
  lens: number[];
  rotary?: 0 | 1 | 2; // 0 none, 1 halves, 2 interleaved
  packed?: boolean;
  window?: number;
  softcap?: number;
  smooth?: boolean;
  rdim?: number;
}

async function check(c: Case): Promise<void> {
  const { B, S, H, KVH, D, P } = c;
  const T = Math.max(...c.lens);
  const seed = c.name.length * 7919;
  const inputs: MsInput[] = [];
  if (c.packed) {
    inputs.push(new Tensor('float32', rand(B * S * (H + 2 * KVH) * D, seed), [B, S, (H + 2 * KVH) * D]), '', '');
  } else {
    inputs.push(new Tensor('float32', rand(B * S * H * D, seed), [B, S, H * D]));
    inputs.push(new Tensor('float32', rand(B * S * KVH * D, seed + 1), [B, S, KVH * D]));
    inputs.push(new Tensor('float32', rand(B * S * KVH * D, seed + 2), [B, S, KVH * D]));
  }
  if (P > 0) {
    // Rows past each entry's live length hold garbage that must never be read.
    inputs.push(new Tensor('float32', rand(B * KVH * P * D, seed + 3, -2, 2), [B, KVH, P, D]));
    inputs.push(new Tensor('float32', rand(B * KVH * P * D, seed + 4, -2, 2), [B, KVH, P, D]));
  } else inputs.push('', '');
  inputs.push(new Tensor('int32', Int32Array.from(c.lens, (l) => l - 1), [B]));
  inputs.push(new Tensor('int32', Int32Array.of(T), [1]));
  if (c.rotary) inputs.push(...ropeCaches(Math.max(T, P) + 3, (c.rdim ?? D) / 2));
  const attrs: Record<string, number> = { num_heads: H, kv_num_heads: KVH };
  if (c.rotary) { attrs.do_rotary = 1; attrs.rotary_interleaved = c.rotary === 2 ? 1 : 0; }
  if (c.window) attrs.local_window_size = c.window;
  if (c.softcap) attrs.softcap = c.softcap;
  if (c.smooth) attrs.smooth_softmax = 1;
  const [mine, ref] = await runBoth('GroupQueryAttention', inputs, attrs, 3);
  // First prompts with right padding: rows past an entry's length are padding (not compared).
  const first = S > 1 && S === T;
  const validRow = (i: number, rowLen: number) => {
    const b = Math.floor(i / (S * rowLen)), s = Math.floor(i / rowLen) % S;
    return !first || s < c.lens[b]!;
  };
  expectClose(mine[0]!, ref[0]!, 'output', 1e-5, 1e-6, (i) => validRow(i, H * D));
  const Lp = Math.max(T, P);
  const live = (i: number) => {
    const b = Math.floor(i / (KVH * Lp * D)), pos = Math.floor(i / D) % Lp;
    return pos < (first ? c.lens[b]! : c.lens[b]!);
  };
  expectClose(mine[1]!, ref[1]!, 'present_key', 1e-5, 1e-6, live);
  expectClose(mine[2]!, ref[2]!, 'present_value', 1e-5, 1e-6, live);
}

const cases: Case[] = [
  { name: 'prompt MHA d64', B: 1, S: 5, H: 4, KVH: 4, D: 64, P: 0, lens: [5] },
  { name: 'prompt GQA 4:1 d128 rotary', B: 1, S: 7, H: 8, KVH: 2, D: 128, P: 0, lens: [7], rotary: 1 },
  { name: 'prompt GQA 2:1 interleaved, packed QKV', B: 1, S: 6, H: 4, KVH: 2, D: 64, P: 0, lens: [6], rotary: 2, packed: true },
  { name: 'prompt batch 2 right padding', B: 2, S: 6, H: 4, KVH: 2, D: 64, P: 0, lens: [6, 3], rotary: 1 },
  { name: 'decode concat past, batch 2 lengths differ', B: 2, S: 1, H: 4, KVH: 2, D: 64, P: 6, lens: [7, 4] },
  { name: 'decode max-length past (shared-buffer layout), rotary interleaved', B: 2, S: 1, H: 8, KVH: 2, D: 128, P: 16, lens: [9, 5], rotary: 2 },
  { name: 'decode MHA past 1', B: 1, S: 1, H: 2, KVH: 2, D: 64, P: 1, lens: [2], rotary: 1 },
  { name: 'decode long past d128 GQA 8:1', B: 1, S: 1, H: 8, KVH: 1, D: 128, P: 40, lens: [33], rotary: 1 },
  { name: 'subsequent prompt over past', B: 1, S: 3, H: 4, KVH: 2, D: 64, P: 8, lens: [7], rotary: 1 },
  { name: 'local window prompt', B: 1, S: 8, H: 4, KVH: 2, D: 64, P: 0, lens: [8], window: 3 },
  { name: 'local window decode', B: 2, S: 1, H: 4, KVH: 2, D: 64, P: 12, lens: [11, 6], window: 4, rotary: 1 },
  { name: 'softcap', B: 1, S: 4, H: 2, KVH: 1, D: 64, P: 0, lens: [4], softcap: 1.5 },
  { name: 'smooth softmax decode', B: 1, S: 1, H: 2, KVH: 1, D: 64, P: 5, lens: [5], smooth: true },
  { name: 'partial rotary (r = 16 of 48)', B: 1, S: 3, H: 2, KVH: 1, D: 48, P: 0, lens: [3], rotary: 1, rdim: 16 },
];

describe('com.microsoft GroupQueryAttention vs onnxruntime-web', () => {
  for (const c of cases) it(c.name, () => check(c));
});

describe('GroupQueryAttention refusals name the node and what is wrong', () => {
  const B = 1, S = 1, H = 4, KVH = 2, D = 16, P = 4;
  const q = new Tensor('float32', rand(H * D, 1), [B, S, H * D]);
  const kv = new Tensor('float32', rand(KVH * D, 2), [B, S, KVH * D]);
  const past = new Tensor('float32', rand(KVH * P * D, 3), [B, KVH, P, D]);
  const tot = new Tensor('int32', Int32Array.of(P), [1]);
  const inputs = (seq: number) => [q, kv, kv, past, past, new Tensor('int32', Int32Array.of(seq), [1]), tot] as MsInput[];
  const feeds = (seq: number) => Object.fromEntries(inputs(seq).flatMap((x, i) => (x instanceof Tensor ? [[`in${i}`, x]] : [])));
  async function refusal(attrs: Record<string, number>, seq = 3, extra: MsInput[] = []): Promise<unknown> {
    const s = await InferenceSession.create(msModel('GroupQueryAttention', [...inputs(seq), ...extra], attrs, 3));
    try {
      await s.run({ ...feeds(seq), ...Object.fromEntries(extra.flatMap((x, i) => (x instanceof Tensor ? [[`in${7 + i}`, x]] : []))) });
      return undefined;
    } catch (e) { return e; } finally { await s.release(); }
  }
  it('attributes', async () => {
    expect(await refusal({ num_heads: 3, kv_num_heads: 2 })).toMatchObject({ code: 'INVALID_ATTRIBUTE', message: expect.stringMatching(/GroupQueryAttention node 'n'.*'num_heads'/) });
    expect(await refusal({ num_heads: H, kv_num_heads: KVH, qk_output: 1 })).toMatchObject({ code: 'INVALID_ATTRIBUTE', message: expect.stringMatching(/'n'.*'qk_output'/) });
    expect(await refusal({ num_heads: H, kv_num_heads: KVH, local_window_size: 0 })).toMatchObject({ code: 'INVALID_ATTRIBUTE', message: expect.stringMatching(/'local_window_size'/) });
    expect(await refusal({ num_heads: H, kv_num_heads: KVH, do_rotary: 1 })).toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(/'n'.*cos_cache/) });
  });
  it('position_ids input, seqlens_k past the cache', async () => {
    const [cos, sin] = ropeCaches(8, D / 2);
    const pid = new Tensor('int64', BigInt64Array.of(0n), [1, 1]);
    expect(await refusal({ num_heads: H, kv_num_heads: KVH, do_rotary: 1 }, 3, [cos, sin, pid])).toMatchObject({ code: 'UNSUPPORTED_OP', message: expect.stringMatching(/'n'.*position_ids/) });
    expect(await refusal({ num_heads: H, kv_num_heads: KVH }, 9)).toMatchObject({ code: 'INVALID_FEED', message: expect.stringMatching(/'n'.*seqlens_k\[0\] = 9/) });
  });
});

// onnxruntime-web takes head sizes that are multiples of 16 only; the kernel's 4-column and
// single-column tails (head size 20, 6) and a group of 3 heads (a pair, then one) are checked
// against a float64 reference of the same semantics instead.
describe('GroupQueryAttention head-size tails vs a float64 reference', () => {
  for (const D of [20, 6]) {
    it(`head size ${D}, 3 query heads per KV head, window 4, prompt over a past`, async () => {
      const B = 1, S = 3, H = 6, KVH = 2, P = 8, G = H / KVH, len = 7, past = len - S, window = 4;
      const q = rand(S * H * D, 31), k = rand(S * KVH * D, 32), v = rand(S * KVH * D, 33);
      const pk = rand(KVH * P * D, 34), pv = rand(KVH * P * D, 35);
      const s = await InferenceSession.create(msModel('GroupQueryAttention', [
        new Tensor('float32', q, [B, S, H * D]), new Tensor('float32', k, [B, S, KVH * D]), new Tensor('float32', v, [B, S, KVH * D]),
        new Tensor('float32', pk, [B, KVH, P, D]), new Tensor('float32', pv, [B, KVH, P, D]),
        new Tensor('int32', Int32Array.of(len - 1), [1]), { const: new Tensor('int32', Int32Array.of(len), [1]) },
      ], { num_heads: H, kv_num_heads: KVH, local_window_size: window }, 3));
      const feeds = { in0: new Tensor('float32', q, [B, S, H * D]), in1: new Tensor('float32', k, [B, S, KVH * D]), in2: new Tensor('float32', v, [B, S, KVH * D]),
        in3: new Tensor('float32', pk, [B, KVH, P, D]), in4: new Tensor('float32', pv, [B, KVH, P, D]), in5: new Tensor('int32', Int32Array.of(len - 1), [1]) };
      const out = (await s.run(feeds)).out0!.data as Float32Array;
      await s.release();
      // Cache rows: past rows then the new ones at past … past + S − 1.
      const K = (h: number, j: number, c: number) => (j < past ? pk[(h * P + j) * D + c]! : k[((j - past) * KVH + h) * D + c]!);
      const V = (h: number, j: number, c: number) => (j < past ? pv[(h * P + j) * D + c]! : v[((j - past) * KVH + h) * D + c]!);
      let worst = 0;
      for (let t = 0; t < S; t++) {
        const hi = past + t + 1, lo = Math.max(0, hi - window);
        for (let h = 0; h < H; h++) {
          const kvh = Math.floor(h / G);
          const sc = [] as number[];
          for (let j = lo; j < hi; j++) {
            let d = 0;
            for (let c = 0; c < D; c++) d += q[(t * H + h) * D + c]! * K(kvh, j, c);
            sc.push(d / Math.sqrt(D));
          }
          const m = Math.max(...sc), e = sc.map((x) => Math.exp(x - m)), z = e.reduce((a, b) => a + b, 0);
          for (let c = 0; c < D; c++) {
            let y = 0;
            for (let j = lo; j < hi; j++) y += (e[j - lo]! / z) * V(kvh, j, c);
            worst = Math.max(worst, Math.abs(out[(t * H + h) * D + c]! - y));
          }
        }
      }
      expect(worst).toBeLessThan(2e-6);
    });
  }
});
