/**
 * `com.microsoft` EmbedLayerNormalization: BERT's embedding block as onnxruntime's optimizer fuses
 * it. Per token, word[input_id] + position[position_id] (+ segment[segment_id]) is gathered in
 * JavaScript into the embedding_sum output or scratch (rows are copied with TypedArray.set, the
 * adds are one pass), then layernorm_f32 normalises all rows in one kernel call. mask_index is the
 * number of 1s in each mask row (the key lengths the Attention op reads), or zeros without a mask.
 * An id outside its table is an INVALID_FEED error naming the node, never a read out of bounds.
 */
import { TesseraError, describeNode } from '../../api/errors.js';
import type { OpDef } from '../types.js';
import { requireDtype } from '../util.js';

type Ints = Int32Array;

const embedLayerNorm: OpDef = {
  opType: 'EmbedLayerNormalization', domain: 'com.microsoft', since: 1, attributes: ['epsilon', 'mask_index_type'],
  optionalOutputs: true,
  prepare(ctx) {
    requireDtype(ctx, 0, ['int32']);
    const ids = ctx.input(0), seg = ctx.inputs[1], mask = ctx.inputs[7], pos = ctx.inputs[8];
    const word = ctx.input(2), position = ctx.input(3), segTable = ctx.inputs[4];
    const gamma = ctx.input(5), beta = ctx.input(6);
    const eps = ctx.attrs.float('epsilon', 1e-12);
    if (!(eps >= 0) || !Number.isFinite(eps)) throw ctx.attrs.error('epsilon', `must be a finite number ≥ 0, got ${eps}`);
    const mit = ctx.attrs.int('mask_index_type', 1);
    if (mit !== 0 && mit !== 1) throw ctx.attrs.error('mask_index_type', `must be 0 (none) or 1 (1-D mask_index), got ${mit}`);
    if (ids.dims.length !== 2) ctx.fail(`input_ids '${ids.name}' must be 2-D [batch, sequence], got [${ids.dims}]`, 'SHAPE_MISMATCH');
    const [B, S] = ids.dims as [number, number];
    for (const i of [2, 3, 5]) requireDtype(ctx, i, ['float32']);
    if (word.dims.length !== 2) ctx.fail(`word_embedding '${word.name}' must be 2-D [vocab, hidden], got [${word.dims}]`, 'SHAPE_MISMATCH');
    const H = word.dims[1]!;
    const table = (t: typeof word, what: string) => {
      if (t.dims.length !== 2 || t.dims[1] !== H) ctx.fail(`${what} '${t.name}' must be 2-D [rows, ${H}], got [${t.dims}]`, 'SHAPE_MISMATCH');
      return t.dims[0]!;
    };
    const V = word.dims[0]!, P = table(position, 'position_embedding');
    if (!!seg !== !!segTable) ctx.fail('segment_ids and segment_embedding must be given together', 'INVALID_MODEL');
    const G = segTable ? (requireDtype(ctx, 4, ['float32']), table(segTable, 'segment_embedding')) : 0;
    requireDtype(ctx, 6, ['float32']);
    for (const t of [gamma, beta]) if (t.dims.length !== 1 || t.dims[0] !== H) ctx.fail(`'${t.name}' must be 1-D [${H}], got [${t.dims}]`, 'SHAPE_MISMATCH');
    const same2d = (t: typeof word, i: number, what: string) => {
      requireDtype(ctx, i, ['int32']);
      if (t.dims.length !== 2 || t.dims[0] !== B || t.dims[1] !== S) ctx.fail(`${what} '${t.name}' must be [${B}, ${S}] like input_ids, got [${t.dims}]`, 'SHAPE_MISMATCH');
    };
    if (seg) same2d(seg, 1, 'segment_ids');
    if (mask) same2d(mask, 7, 'mask');
    let posPerBatch = true;
    if (pos) {
      requireDtype(ctx, 8, ['int32']);
      const ok = pos.dims.length === 2 && pos.dims[1] === S && (pos.dims[0] === B || pos.dims[0] === 1);
      if (!ok) ctx.fail(`position_ids '${pos.name}' must be [${B}, ${S}] or [1, ${S}], got [${pos.dims}]`, 'SHAPE_MISMATCH');
      posPerBatch = pos.dims[0] === B && B !== 1;
    } else if (S > P) {
      ctx.fail(`sequence length ${S} exceeds the ${P} rows of position_embedding '${position.name}'`, 'SHAPE_MISMATCH');
    }
    const wanted = (i: number) => (ctx.node.outputs[i] ?? '') !== '';
    const rows = B * S, n = rows * H;
    const sumBytes = wanted(2) ? 0 : Math.ceil(n * 4 / 16) * 16;
    const label = describeNode(ctx.node);
    return {
      outputs: [
        { dtype: 'float32' as const, dims: [B, S, H] },
        { dtype: 'int32' as const, dims: [B] },
        { dtype: 'float32' as const, dims: [B, S, H] },
      ].slice(0, Math.max(1, ctx.node.outputs.length)),
      scratchBytes: sumBytes || undefined,
      build(b) {
        const k = b.k, G0 = b.inputs[5]!, B0 = b.inputs[6]!, Y = b.outputs[0]!;
        const sumPtr = wanted(2) ? b.outputs[2]! : b.scratch;
        const v = {
          ids: b.view('int32', b.inputs[0]!, rows), seg: seg ? b.view('int32', b.inputs[1]!, rows) : undefined,
          mask: mask ? b.view('int32', b.inputs[7]!, rows) : undefined, pos: pos ? b.view('int32', b.inputs[8]!, posPerBatch ? rows : S) : undefined,
          word: b.view('float32', b.inputs[2]!, V * H), position: b.view('float32', b.inputs[3]!, P * H),
          segTable: segTable ? b.view('float32', b.inputs[4]!, G * H) : undefined,
          sum: b.view('float32', sumPtr, n), maskIndex: wanted(1) ? b.view('int32', b.outputs[1]!, B) : undefined,
        };
        const bad = (what: string, id: number, at: number, size: number) =>
          new TesseraError('INVALID_FEED', `${label}: ${what} ${id} at position ${at} is outside its embedding table of ${size} rows`);
        return () => {
          const I = v.ids() as Ints, Sg = v.seg?.() as Ints | undefined, Pp = v.pos?.() as Ints | undefined;
          const W = v.word() as Float32Array, Pe = v.position() as Float32Array, Ge = v.segTable?.() as Float32Array | undefined;
          const sum = v.sum() as Float32Array;
          for (let t = 0; t < rows; t++) {
            const w = I[t]!, s = t % S;
            const p = Pp ? Pp[posPerBatch ? t : s]! : s;
            if (!(w >= 0 && w < V)) throw bad('input id', w, t, V);
            if (!(p >= 0 && p < P)) throw bad('position id', p, t, P);
            const o = t * H, wo = w * H, po = p * H;
            if (Sg && Ge) {
              const g = Sg[t]!;
              if (!(g >= 0 && g < G)) throw bad('segment id', g, t, G);
              const go = g * H;
              // The same order of float32 adds as onnxruntime: (word + position) + segment.
              for (let i = 0; i < H; i++) sum[o + i] = Math.fround(W[wo + i]! + Pe[po + i]!) + Ge[go + i]!;
            } else {
              for (let i = 0; i < H; i++) sum[o + i] = W[wo + i]! + Pe[po + i]!;
            }
          }
          k.layernorm_f32(sumPtr, Y, G0, B0, rows, H, eps);
          const mi = v.maskIndex?.() as Ints | undefined;
          if (mi) {
            const M = v.mask?.() as Ints | undefined;
            for (let bi = 0; bi < B; bi++) {
              let c = 0;
              if (M) for (let s = 0; s < S; s++) if (M[bi * S + s] === 1) c++;
              mi[bi] = c;
            }
          }
        };
      },
    };
  },
};

/** EmbedLayerNormalization, for src/ops/contrib/index.ts. */
export const contribEmbedLayerNormOps: readonly OpDef[] = [embedLayerNorm];
