/**
 * Einsum, general: any number of operands, repeated labels (diagonals), ellipsis broadcasting,
 * implicit outputs. Evaluated as one loop nest over the output labels and the summed labels, with a
 * per-operand stride for every label (a repeated label sums its strides). float64 accumulation.
 */
import { shapeSize } from '../../api/tensor.js';
import { floatToHalf, halfToFloat } from './cast.js';
import { packedBFloats } from '../../runtime/kernels.js';
import { stridedCopy } from '../shape/copy.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype, stridesOf } from '../util.js';
import { isBig } from '../values.js';

interface Parsed { terms: string[][]; out: string[] }

/** Labels per operand with `...` expanded to digits '0'…, right-aligned across operands. */
function parse(ctx: OpContext, equation: string, ranks: number[]): Parsed {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const raw = lhs.split(',');
  if (raw.length !== ranks.length) throw ctx.attrs.error('equation', `'${equation}' names ${raw.length} operands, the node has ${ranks.length}`);
  const bad = (why: string) => ctx.attrs.error('equation', `'${equation}': ${why}`);
  let ell = 0;
  const split = raw.map((t, i) => {
    const parts = t.split('...');
    if (parts.length > 2) throw bad('more than one ellipsis in an operand');
    const letters = parts.join('');
    if (!/^[a-zA-Z]*$/.test(letters)) throw bad(`operand ${i} has characters other than letters`);
    const e = ranks[i]! - letters.length;
    if (parts.length === 1 ? e !== 0 : e < 0) throw bad(`operand ${i} has ${letters.length} labels but rank ${ranks[i]}`);
    ell = Math.max(ell, e);
    return { parts, e };
  });
  const ellLabels = (e: number) => Array.from({ length: e }, (_, k) => String(ell - e + k));
  const terms = split.map(({ parts, e }) => (parts.length === 1 ? [...parts[0]!] : [...parts[0]!, ...ellLabels(e), ...parts[1]!]));
  let out: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const t of terms) for (const l of t) if (/[a-zA-Z]/.test(l)) counts.set(l, (counts.get(l) ?? 0) + 1);
    out = [...ellLabels(ell), ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    const parts = rhs.split('...');
    if (parts.length > 2) throw bad('more than one ellipsis in the output');
    out = parts.length === 1 ? [...parts[0]!] : [...parts[0]!, ...ellLabels(ell), ...parts[1]!];
    const all = new Set(terms.flat());
    for (const l of out) if (/[a-zA-Z]/.test(l) && !all.has(l)) throw bad(`output label '${l}' appears in no operand`);
    if (new Set(out).size !== out.length) throw bad('an output label repeats');
  }
  return { terms, out };
}

const einsum: OpDef = {
  opType: 'Einsum', since: 12, attributes: ['equation'],
  prepare(ctx) {
    const ins = ctx.inputs.map((_, i) => ctx.input(i));
    if (ins.length === 0) ctx.fail('needs at least one input');
    const dtype = ins[0]!.dtype;
    requireDtype(ctx, 0, ['float32', 'float64', 'float16', 'int32', 'int64', 'uint32', 'uint64']);
    for (const x of ins) if (x.dtype !== dtype) ctx.fail(`inputs mix ${dtype} and ${x.dtype}`);
    if (!ctx.attrs.has('equation')) throw ctx.attrs.error('equation', 'is required');
    const { terms, out } = parse(ctx, ctx.attrs.string('equation', ''), ins.map((x) => x.dims.length));
    // The size of every label; 1 broadcasts (ellipsis dims only, as numpy allows).
    const size = new Map<string, number>();
    terms.forEach((t, i) => t.forEach((l, k) => {
      const d = ins[i]!.dims[k]!, have = size.get(l);
      if (have === undefined || have === 1) size.set(l, d);
      else if (d !== have && d !== 1) ctx.fail(`label '${l}' has sizes ${have} and ${d}`, 'SHAPE_MISMATCH');
      else if (d === 1 && !/[0-9]/.test(l) && have !== 1) ctx.fail(`label '${l}' has sizes ${have} and 1`, 'SHAPE_MISMATCH');
    }));
    const summed = [...size.keys()].filter((l) => !out.includes(l));
    const loop = [...out, ...summed];
    const dims = loop.map((l) => size.get(l)!);
    const strides = terms.map((t, i) => {
      const own = stridesOf(ins[i]!.dims);
      return loop.map((l) => t.reduce((acc, tl, k) => acc + (tl === l && ins[i]!.dims[k] !== 1 ? own[k]! : 0), 0));
    });
    const outDims = out.map((l) => size.get(l)!);
    const nOut = shapeSize(outDims), nSum = shapeSize(summed.map((l) => size.get(l)!));
    const fast = dtype === 'float32' ? gemmPlan(terms, out, size, ins.map((x) => x.dims)) : undefined;
    if (fast) return fast;
    const big = isBig(dtype), half = dtype === 'float16';
    const m = ins.length, rank = loop.length, outRank = out.length;
    return {
      outputs: [{ dtype, dims: outDims }],
      build: (bd) => {
        const views = ins.map((x, i) => bd.view(x.dtype, bd.inputs[i]!, shapeSize(x.dims)));
        const vy = bd.view(dtype, bd.outputs[0]!, nOut);
        const idx = new Array<number>(rank).fill(0), pos = new Array<number>(m).fill(0);
        return () => {
          const arrs = views.map((v) => v()), Y = vy();
          idx.fill(0); pos.fill(0);
          for (let o = 0; o < nOut; o++) {
            let acc: number | bigint = big ? 0n : 0;
            for (let s = 0; s < nSum; s++) {
              let p: number | bigint = big ? 1n : 1;
              for (let k = 0; k < m; k++) {
                const v = arrs[k]![pos[k]!]!;
                p = big ? (p as bigint) * (v as bigint) : (p as number) * (half ? halfToFloat(v as number) : (v as number));
              }
              acc = big ? (acc as bigint) + (p as bigint) : (acc as number) + (p as number);
              // Advance the summed labels (the innermost loops).
              for (let d = rank - 1; d >= outRank; d--) {
                for (let k = 0; k < m; k++) pos[k]! += strides[k]![d]!;
                if (++idx[d]! < dims[d]!) break;
                for (let k = 0; k < m; k++) pos[k]! -= strides[k]![d]! * dims[d]!;
                idx[d] = 0;
              }
            }
            Y[o] = (half ? floatToHalf(acc as number) : big ? BigInt.asIntN(64, acc as bigint) : acc) as never;
            for (let d = outRank - 1; d >= 0; d--) {
              for (let k = 0; k < m; k++) pos[k]! += strides[k]![d]!;
              if (++idx[d]! < dims[d]!) break;
              for (let k = 0; k < m; k++) pos[k]! -= strides[k]![d]! * dims[d]!;
              idx[d] = 0;
            }
          }
        };
      },
    };
  },
};

/**
 * Two float32 operands without diagonals, broadcasting or labels summed inside one operand: a
 * batched GEMM. A is copied to [batch, M, K], B to [batch, K, N] (strided copies), each batch runs
 * pack_b + gemm_f32, and the [batch, M, N] result is copied to the output's label order.
 */
function gemmPlan(terms: string[][], out: string[], size: Map<string, number>, dims: number[][]): Prepared | undefined {
  if (terms.length !== 2) return undefined;
  const [ta, tb] = terms as [string[], string[]];
  if (new Set(ta).size !== ta.length || new Set(tb).size !== tb.length) return undefined;
  for (const [t, d] of [[ta, dims[0]!], [tb, dims[1]!]] as const) if (t.some((l, k) => d[k] !== size.get(l))) return undefined;
  const inA = new Set(ta), inB = new Set(tb), inOut = new Set(out);
  if ([...ta, ...tb].some((l) => !inOut.has(l) && !(inA.has(l) && inB.has(l)))) return undefined;
  const batch = out.filter((l) => inA.has(l) && inB.has(l));
  const ms = out.filter((l) => inA.has(l) && !inB.has(l));
  const ns = out.filter((l) => inB.has(l) && !inA.has(l));
  const ks = ta.filter((l) => inB.has(l) && !inOut.has(l));
  const sz = (ls: string[]) => ls.reduce((p, l) => p * size.get(l)!, 1);
  const Bt = sz(batch), M = sz(ms), N = sz(ns), K = sz(ks);
  const stridesIn = (t: string[], d: number[], ls: string[]) => {
    const st = stridesOf(d);
    return ls.map((l) => st[t.indexOf(l)]!);
  };
  const aOrder = [...batch, ...ms, ...ks], bOrder = [...batch, ...ks, ...ns], yOrder = [...batch, ...ms, ...ns];
  const ySt = stridesOf(yOrder.map((l) => size.get(l)!));
  const outDims = out.map((l) => size.get(l)!);
  const outStrides = out.map((l) => ySt[yOrder.indexOf(l)]!);
  const yDirect = out.every((l, i) => l === yOrder[i]);
  const nA = Bt * M * K, nB = Bt * K * N, nY = Bt * M * N, packed = packedBFloats(K, N);
  return {
    outputs: [{ dtype: 'float32', dims: outDims }],
    scratchBytes: (nA + nB + packed + (yDirect ? 0 : nY)) * 4 || undefined,
    build: (bd) => {
      const [A, B, Y] = [bd.inputs[0]!, bd.inputs[1]!, bd.outputs[0]!];
      const sA = bd.scratch, sB = sA + nA * 4, sP = sB + nB * 4, sY = yDirect ? Y : sP + packed * 4;
      const copyA = stridedCopy(bd, 'float32', A, nA, 0, sA, aOrder.map((l) => size.get(l)!), stridesIn(ta, dims[0]!, aOrder));
      const copyB = stridedCopy(bd, 'float32', B, nB, 0, sB, bOrder.map((l) => size.get(l)!), stridesIn(tb, dims[1]!, bOrder));
      const copyY = yDirect ? undefined : stridedCopy(bd, 'float32', sY, nY, 0, Y, outDims, outStrides);
      const k = bd.k;
      return () => {
        if (nY === 0) return;
        copyA(); copyB();
        for (let b = 0; b < Bt; b++) {
          if (K === 0) { new Float32Array(bd.memory.buffer, sY + b * M * N * 4, M * N).fill(0); continue; }
          k.pack_b_f32(sB + b * K * N * 4, sP, K, N, N, 0);
          k.gemm_f32(sA + b * M * K * 4, K, sP, sY + b * M * N * 4, N, M, N, K, 0, 0, 0, 0, 0, 0);
        }
        copyY?.();
      };
    },
  };
}

export const einsumOps: OpDef[] = [einsum];
