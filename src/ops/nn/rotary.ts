/**
 * RotaryEmbedding (opset 23): rotates pairs of each head's first rotary_embedding_dim features by
 * per-position angles from cos/sin caches — the halves (x[i], x[i + r/2]) by default, adjacent
 * pairs (x[2i], x[2i+1]) when interleaved. Input [B, H, S, D] or [B, S, H·D] (num_heads given);
 * caches are indexed by position_ids [B, S] or, without them, already [B, S, r/2]. float32 runs the
 * `rotary_rows_f32` kernel that com.microsoft RotaryEmbedding and GroupQueryAttention use
 * (assembly/gqa.ts); float16/float64 compute in double here.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpDef } from '../types.js';
import { FLOAT_TYPES, readFloats, writeFloats } from '../float-io.js';
import { product, requireDtype } from '../util.js';

const rotary: OpDef = {
  opType: 'RotaryEmbedding', since: 23, attributes: ['interleaved', 'num_heads', 'rotary_embedding_dim'],
  prepare(ctx) {
    requireDtype(ctx, 0, FLOAT_TYPES);
    const x = ctx.input(0), cos = ctx.input(1), sin = ctx.input(2), pos = ctx.inputs[3];
    for (const c of [cos, sin]) if (c.dtype !== x.dtype) ctx.fail(`'${c.name}' has type ${c.dtype}, the input ${x.dtype}`);
    const interleaved = ctx.attrs.int('interleaved', 0);
    if (interleaved !== 0 && interleaved !== 1) throw ctx.attrs.error('interleaved', `must be 0 or 1, got ${interleaved}`);
    const rank = x.dims.length;
    if (rank !== 3 && rank !== 4) ctx.fail(`input must be 3-D [B, S, H·D] or 4-D [B, H, S, D], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const B = x.dims[0]!;
    let H: number, S: number, D: number;
    const heads = ctx.attrs.int('num_heads', 0);
    if (rank === 3) {
      if (heads < 1 || x.dims[2]! % heads !== 0) throw ctx.attrs.error('num_heads', heads < 1 ? 'is required for a 3-D input' : `${heads} does not divide the hidden size ${x.dims[2]}`);
      H = heads; S = x.dims[1]!; D = x.dims[2]! / H;
    } else {
      [, H, S, D] = x.dims as [number, number, number, number];
      if (heads !== 0 && heads !== H) throw ctx.attrs.error('num_heads', `is ${heads} but the input has ${H} heads`);
    }
    const r = ctx.attrs.int('rotary_embedding_dim', 0) || D;
    if (r < 0 || r > D || r % 2 !== 0) throw ctx.attrs.error('rotary_embedding_dim', `must be an even number up to the head size ${D}, got ${r}`);
    const half = r / 2;
    if (pos) {
      requireDtype(ctx, 3, ['int64', 'int32']);
      if (pos.dims.length !== 2 || pos.dims[0] !== B || pos.dims[1] !== S) ctx.fail(`position_ids (input 3, '${pos.name}') must have shape [${B}, ${S}], got [${pos.dims}]`, 'SHAPE_MISMATCH');
    }
    for (const c of [cos, sin]) {
      const ok = pos ? c.dims.length === 2 && c.dims[1] === half : c.dims.length === 3 && c.dims[0] === B && c.dims[1] === S && c.dims[2] === half;
      if (!ok) ctx.fail(`'${c.name}' must have shape ${pos ? `[max_position, ${half}]` : `[${B}, ${S}, ${half}]`}, got [${c.dims}]`, 'SHAPE_MISMATCH');
    }
    const maxPos = pos ? cos.dims[0]! : 0, n = product(x.dims), cn = product(cos.dims);
    // Element offset of (b, h, s, 0) in either layout.
    const at = rank === 4 ? (b: number, h: number, s: number) => ((b * H + h) * S + s) * D : (b: number, h: number, s: number) => ((b * S + s) * H + h) * D;
    if (x.dtype === 'float32') {
      const posBytes = Math.ceil((B * S * 4) / 64) * 64;
      return {
        outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
        scratchBytes: posBytes,
        build(bd) {
          const xp = bd.inputs[0]!, yp = bd.outputs[0]!, cp = bd.inputs[1]!, sp = bd.inputs[2]!, posP = bd.scratch;
          const pv = pos ? bd.view(pos.dtype, bd.inputs[3]!, B * S) : undefined, rows = bd.view('int32', posP, B * S);
          return () => {
            const P = pv?.(), R = rows() as Int32Array;
            for (let i = 0; i < B * S; i++) {
              const row = P ? Number(P[i]!) : i;
              if (P && !(row >= 0 && row < maxPos)) throw new TesseraError('INVALID_FEED', `${describeNode(ctx.node)}: position id ${row} is outside the cache of ${maxPos} positions`);
              R[i] = row;
            }
            if (rank === 3) bd.k.rotary_rows_f32(xp, H * D, D, yp, H * D, D, B * S, H, D, cp, sp, posP, r, interleaved);
            else for (let b = 0; b < B; b++) {
              const o = b * H * S * D * 4;
              bd.k.rotary_rows_f32(xp + o, D, S * D, yp + o, D, S * D, S, H, D, cp, sp, posP + b * S * 4, r, interleaved);
            }
          };
        },
      };
    }
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build(bd) {
        const xv = bd.view(x.dtype, bd.inputs[0]!, n), yv = bd.view(x.dtype, bd.outputs[0]!, n);
        const cv = bd.view(cos.dtype, bd.inputs[1]!, cn), sv = bd.view(sin.dtype, bd.inputs[2]!, cn);
        const pv = pos ? bd.view(pos.dtype, bd.inputs[3]!, B * S) : undefined;
        const X = new Float64Array(n), Y = new Float64Array(n), C = new Float64Array(cn), Sn = new Float64Array(cn);
        return () => {
          readFloats(x.dtype, xv(), X); readFloats(cos.dtype, cv(), C); readFloats(sin.dtype, sv(), Sn);
          Y.set(X);
          const P = pv?.();
          for (let b = 0; b < B; b++) {
            for (let s = 0; s < S; s++) {
              let row = b * S + s;
              if (P) {
                row = Number(P[b * S + s]!);
                if (!(row >= 0 && row < maxPos)) throw new TesseraError('INVALID_FEED', `${describeNode(ctx.node)}: position id ${row} is outside the cache of ${maxPos} positions`);
              }
              const co = row * half;
              for (let h = 0; h < H; h++) {
                const o = at(b, h, s);
                for (let i = 0; i < half; i++) {
                  const i1 = interleaved ? o + 2 * i : o + i, i2 = interleaved ? i1 + 1 : i1 + half;
                  const c = C[co + i]!, si = Sn[co + i]!, x1 = X[i1]!, x2 = X[i2]!;
                  Y[i1] = c * x1 - si * x2;
                  Y[i2] = si * x1 + c * x2;
                }
              }
            }
          }
          writeFloats(x.dtype, Y, yv());
        };
      },
    };
  },
};

export const rotaryOps: readonly OpDef[] = [rotary];
