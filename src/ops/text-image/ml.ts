/**
 * A few ai.onnx.ml ops: LabelEncoder, Binarizer, ArrayFeatureExtractor (lookups and comparisons)
 * and TreeEnsemble (tree walks in JavaScript). String inputs or outputs run at plan time (inputs known then).
 */
import { TesseraError } from '../../api/errors.js';
import { shapeSize } from '../../api/tensor.js';
import type { ConstTensor, DType } from '../../graph/ir.js';
import type { OpContext, OpDef } from '../types.js';
import { requireDtype } from '../util.js';
import { allocValues, knownValues, toElement } from '../values.js';

const ML = 'ai.onnx.ml';

/** keys_*, values_* or default_* as a list, with its element type. */
function listAttr(ctx: OpContext, prefix: string): { dtype: DType; list: unknown[] } | undefined {
  const a = ctx.attrs;
  const t: ConstTensor | undefined = a.tensor(`${prefix}_tensor`);
  if (t) return { dtype: t.dtype, list: Array.from(t.data as ArrayLike<unknown>) };
  const plural = prefix === 'default' ? '' : 's';
  const s = prefix === 'default' ? (a.has('default_string') ? [a.string('default_string', '')] : undefined) : a.strings(`${prefix}_strings`);
  if (s) return { dtype: 'string', list: s };
  const ints = prefix === 'default' ? (a.has('default_int64') ? [a.int('default_int64', 0)] : undefined) : a.ints(`${prefix}_int64${plural}`);
  if (ints) return { dtype: 'int64', list: ints.map(BigInt) };
  const floats = prefix === 'default' ? (a.has('default_float') ? [a.float('default_float', 0)] : undefined) : a.floats(`${prefix}_floats`);
  if (floats) return { dtype: 'float32', list: floats };
  return undefined;
}

const keyOf = (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : `${typeof v === 'bigint' ? Number(v) : v}`);

const labelEncoder: OpDef = {
  opType: 'LabelEncoder', domain: ML, since: 2,
  attributes: ['keys_strings', 'keys_int64s', 'keys_floats', 'keys_tensor', 'values_strings', 'values_int64s', 'values_floats', 'values_tensor',
    'default_string', 'default_int64', 'default_float', 'default_tensor'],
  prepare(ctx) {
    const x = ctx.input(0);
    const keys = listAttr(ctx, 'keys'), values = listAttr(ctx, 'values');
    if (!keys) throw ctx.attrs.error('keys_strings', '(or keys_int64s, keys_floats, keys_tensor) is required');
    if (!values) throw ctx.attrs.error('values_strings', '(or values_int64s, values_floats, values_tensor) is required');
    if (keys.list.length !== values.list.length) throw ctx.attrs.error('values_strings', `has ${values.list.length} entries for ${keys.list.length} keys`);
    const dtype = values.dtype;
    const fallback = listAttr(ctx, 'default')?.list[0] ?? (dtype === 'string' ? '_Unused' : dtype === 'int64' ? -1n : dtype === 'float32' ? -0 : 0);
    const map = new Map(keys.list.map((k, i) => [keyOf(k), values.list[i]]));
    const n = shapeSize(x.dims);
    const encode = (X: ArrayLike<unknown>, Y: { [i: number]: unknown }) => {
      for (let i = 0; i < n; i++) Y[i] = toElement(dtype, (map.get(keyOf(X[i])) ?? fallback) as number | bigint | string);
    };
    if (x.dtype === 'string' || dtype === 'string') {
      const v = knownValues(ctx);
      if (!v) ctx.fail('string tensors live outside Wasm memory: tessera runs LabelEncoder on strings only when its input is known at plan time', 'UNSUPPORTED_OP');
      const y = allocValues(dtype, n);
      encode(v![0] as ArrayLike<unknown>, y as never);
      return { outputs: [{ dtype, dims: [...x.dims] }], dataFree: true, evaluate: () => [y] };
    }
    return {
      outputs: [{ dtype, dims: [...x.dims] }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(dtype, bd.outputs[0]!, n);
        return () => encode(vx(), vy() as never);
      },
    };
  },
};

const binarizer: OpDef = {
  opType: 'Binarizer', domain: ML, since: 1, attributes: ['threshold'],
  prepare(ctx) {
    const x = ctx.input(0);
    requireDtype(ctx, 0, ['float32', 'float64', 'int32', 'int64']);
    const th = ctx.attrs.float('threshold', 0), n = shapeSize(x.dims);
    const one = x.dtype === 'int64' ? 1n : 1, zero = x.dtype === 'int64' ? 0n : 0;
    return {
      outputs: [{ dtype: x.dtype, dims: [...x.dims] }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, n), vy = bd.view(x.dtype, bd.outputs[0]!, n);
        return () => { const X = vx(), Y = vy(); for (let i = 0; i < n; i++) Y[i] = (Number(X[i]) > th ? one : zero) as never; };
      },
    };
  },
};

const arrayFeatureExtractor: OpDef = {
  opType: 'ArrayFeatureExtractor', domain: ML, since: 1, attributes: [],
  prepare(ctx) {
    const x = ctx.input(0), y = ctx.input(1);
    if (y.dtype !== 'int64') ctx.fail(`indices must be int64, got ${y.dtype}`, 'INVALID_MODEL');
    if (x.dtype === 'string') ctx.fail('string input is not supported', 'UNSUPPORTED_OP');
    const C = x.dims[x.dims.length - 1] ?? 1, k = shapeSize(y.dims);
    const rows = C === 0 ? 0 : shapeSize(x.dims) / C;
    const outDims = x.dims.length <= 1 ? [1, k] : [...x.dims.slice(0, -1), k];
    const label = `ArrayFeatureExtractor node '${ctx.node.name}'`;
    return {
      outputs: [{ dtype: x.dtype, dims: outDims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, rows * C), vi = bd.view('int64', bd.inputs[1]!, k), vy = bd.view(x.dtype, bd.outputs[0]!, rows * k);
        return () => {
          const X = vx(), I = vi(), Y = vy();
          for (let j = 0; j < k; j++) {
            const c = Number(I[j]);
            if (!(c >= 0 && c < C)) throw new TesseraError('INVALID_FEED', `${label}: index ${c} is out of range for ${C} features`);
            for (let r = 0; r < rows; r++) Y[r * k + j] = X[r * C + c]!;
          }
        };
      },
    };
  },
};

/** TreeEnsemble (ai.onnx.ml 5): tree walks per row, leaves summed/averaged/min/max per target. */
const treeEnsemble: OpDef = {
  opType: 'TreeEnsemble', domain: ML, since: 5,
  attributes: ['aggregate_function', 'leaf_targetids', 'leaf_weights', 'membership_values', 'n_targets', 'nodes_falseleafs', 'nodes_falsenodeids',
    'nodes_featureids', 'nodes_hitrates', 'nodes_missing_value_tracks_true', 'nodes_modes', 'nodes_splits', 'nodes_trueleafs', 'nodes_truenodeids',
    'post_transform', 'tree_roots'],
  prepare(ctx) {
    const x = ctx.input(0), a = ctx.attrs;
    requireDtype(ctx, 0, ['float32', 'float64']);
    if (x.dims.length !== 2) ctx.fail(`X must be [N, F], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const nums = (name: string) => { const t = a.tensor(name); return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined; };
    const req = <T>(name: string, v: T | undefined): T => { if (v === undefined) throw a.error(name, 'is required'); return v; };
    const modes = req('nodes_modes', nums('nodes_modes')), splits = req('nodes_splits', nums('nodes_splits'));
    const feat = req('nodes_featureids', a.ints('nodes_featureids')), tIds = req('nodes_truenodeids', a.ints('nodes_truenodeids'));
    const fIds = req('nodes_falsenodeids', a.ints('nodes_falsenodeids'));
    const tLeaf = a.ints('nodes_trueleafs') ?? [], fLeaf = a.ints('nodes_falseleafs') ?? [];
    const missingTrue = a.ints('nodes_missing_value_tracks_true') ?? [];
    const leafTarget = req('leaf_targetids', a.ints('leaf_targetids')), leafWeight = req('leaf_weights', nums('leaf_weights'));
    const roots = req('tree_roots', a.ints('tree_roots')), T = a.int('n_targets', 1);
    const agg = a.int('aggregate_function', 1), post = a.int('post_transform', 0);
    if (post !== 0) throw a.error('post_transform', `${post} is not supported (tessera implements NONE)`);
    if (agg < 0 || agg > 3) throw a.error('aggregate_function', `must be 0..3, got ${agg}`);
    // Each MEMBER node's set, from the NaN-separated membership_values.
    const members = new Map<number, Set<number>>();
    const mv = nums('membership_values') ?? [];
    let at = 0;
    modes.forEach((m, i) => {
      if (m !== 6) return;
      const set = new Set<number>();
      while (at < mv.length && !Number.isNaN(mv[at]!)) set.add(mv[at++]!);
      at++;
      members.set(i, set);
    });
    const test = (i: number, v: number): boolean => {
      if (Number.isNaN(v) && missingTrue[i]) return true;
      const sp = splits[i]!;
      switch (modes[i]) {
        case 0: return v <= sp;
        case 1: return v < sp;
        case 2: return v >= sp;
        case 3: return v > sp;
        case 4: return v === sp;
        case 5: return v !== sp;
        case 6: return members.get(i)!.has(v);
        default: throw a.error('nodes_modes', `value ${modes[i]} is not a node mode`);
      }
    };
    const [N, F] = x.dims as [number, number];
    return {
      outputs: [{ dtype: x.dtype, dims: [N, T] }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, N * F), vy = bd.view(x.dtype, bd.outputs[0]!, N * T);
        const acc = new Float64Array(T), hits = new Uint32Array(T);
        return () => {
          const X = vx() as Float32Array, Y = vy() as Float32Array;
          for (let r = 0; r < N; r++) {
            acc.fill(0); hits.fill(0);
            for (const root of roots) {
              let node = root, leaf = -1;
              for (let guard = 0; guard <= modes.length && leaf < 0; guard++) {
                const go = test(node, X[r * F + feat[node]!]!);
                const next = go ? tIds[node]! : fIds[node]!;
                if (go ? tLeaf[node] : fLeaf[node]) leaf = next; else node = next;
              }
              if (leaf < 0) throw new Error(`TreeEnsemble node '${ctx.node.name}': a tree does not reach a leaf`);
              const t = leafTarget[leaf]!, w = leafWeight[leaf]!;
              acc[t] = hits[t] === 0 ? w : agg === 2 ? Math.min(acc[t]!, w) : agg === 3 ? Math.max(acc[t]!, w) : acc[t]! + w;
              hits[t]!++;
            }
            for (let t = 0; t < T; t++) Y[r * T + t] = agg === 0 ? acc[t]! / roots.length : acc[t]!;
          }
        };
      },
    };
  },
};

export const mlOps: OpDef[] = [labelEncoder, binarizer, arrayFeatureExtractor, treeEnsemble];
