/**
 * String and text ops: StringConcat, StringSplit, StringNormalizer, RegexFullMatch, TfIdfVectorizer.
 * String tensors live in JavaScript, never in Wasm memory, so string ops run at plan time and need
 * their inputs known then: a constant, or a graph input (the plan is keyed by its value).
 */
import type { OpContext, OpDef, Prepared } from '../types.js';
import { broadcastShapes, broadcastStrides } from '../util.js';
import { requireKnownStrings } from '../values.js';
import { gatherStrided } from '../shape/tensor.js';

function requireStrings(ctx: OpContext, ...inputs: number[]): void {
  for (const i of inputs) {
    const x = ctx.input(i);
    if (x.dtype !== 'string') ctx.fail(`input ${i} ('${x.name}') must be a string tensor, got ${x.dtype}`, 'INVALID_MODEL');
  }
}

/** Equal on string tensors (opset 19+), at plan time like the other string ops. */
export function prepareStringEqual(ctx: OpContext): Prepared {
  requireStrings(ctx, 0, 1);
  if (ctx.opset < 19) ctx.fail(`compares strings only from opset 19 (the model imports ${ctx.opset})`, 'UNSUPPORTED_OP');
  const a = ctx.input(0), b = ctx.input(1);
  const out = broadcastShapes(ctx, [a.dims, b.dims]);
  const [va, vb] = requireKnownStrings(ctx) as string[][];
  const xa = gatherStrided(va!, 0, out, broadcastStrides(a.dims, out));
  const xb = gatherStrided(vb!, 0, out, broadcastStrides(b.dims, out));
  return { outputs: [{ dtype: 'bool', dims: out }], dataFree: true, evaluate: () => [Uint8Array.from(xa, (s, i) => (s === xb[i] ? 1 : 0))] };
}

const stringConcat: OpDef = {
  opType: 'StringConcat', since: 20, attributes: [],
  prepare(ctx) {
    requireStrings(ctx, 0, 1);
    const a = ctx.input(0), b = ctx.input(1);
    const out = broadcastShapes(ctx, [a.dims, b.dims]);
    const [va, vb] = requireKnownStrings(ctx) as string[][];
    const xa = gatherStrided(va!, 0, out, broadcastStrides(a.dims, out));
    const xb = gatherStrided(vb!, 0, out, broadcastStrides(b.dims, out));
    return { outputs: [{ dtype: 'string', dims: out }], dataFree: true, evaluate: () => [xa.map((s, i) => s + xb[i]!)] };
  },
};

/** Python's str.split: on `sep`, or on runs of whitespace when there is none; at most `max` splits. */
function pySplit(s: string, sep: string | undefined, max: number): string[] {
  const limit = max < 0 ? Infinity : max;
  if (sep !== undefined) {
    const parts: string[] = [];
    let rest = s;
    while (parts.length < limit) {
      const i = rest.indexOf(sep);
      if (i < 0) break;
      parts.push(rest.slice(0, i));
      rest = rest.slice(i + sep.length);
    }
    parts.push(rest);
    return parts;
  }
  const parts: string[] = [];
  let rest = s.replace(/^\s+/, '');
  while (rest.length > 0) {
    if (parts.length >= limit) { parts.push(rest); break; }
    const m = /\s+/.exec(rest);
    if (!m) { parts.push(rest); break; }
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  return parts;
}

const stringSplit: OpDef = {
  opType: 'StringSplit', since: 20, attributes: ['delimiter', 'maxsplit'],
  prepare(ctx) {
    requireStrings(ctx, 0);
    const x = ctx.input(0);
    const delim = ctx.attrs.string('delimiter', '');
    const max = ctx.attrs.intOpt('maxsplit');
    if (max !== undefined && max < 0) throw ctx.attrs.error('maxsplit', `must be non-negative, got ${max}`);
    const [v] = requireKnownStrings(ctx) as string[][];
    const split = v!.map((s) => pySplit(s, delim === '' ? undefined : delim, max ?? -1));
    const width = Math.max(0, ...split.map((p) => p.length));
    const subs = split.flatMap((p) => [...p, ...new Array<string>(width - p.length).fill('')]);
    const lengths = BigInt64Array.from(split, (p) => BigInt(p.length));
    return {
      outputs: [{ dtype: 'string', dims: [...x.dims, width] }, { dtype: 'int64', dims: [...x.dims] }],
      dataFree: true,
      evaluate: () => [subs, lengths],
    };
  },
};

const stringNormalizer: OpDef = {
  opType: 'StringNormalizer', since: 10, attributes: ['case_change_action', 'is_case_sensitive', 'locale', 'stopwords'],
  prepare(ctx) {
    requireStrings(ctx, 0);
    const x = ctx.input(0);
    const action = ctx.attrs.oneOf('case_change_action', ['NONE', 'LOWER', 'UPPER'], 'NONE');
    const sensitive = ctx.attrs.int('is_case_sensitive', 0) === 1;
    const locale = ctx.attrs.string('locale', 'en_US');
    if (!/^en(_|$)/.test(locale)) throw ctx.attrs.error('locale', `'${locale}' is not supported (tessera folds case with JavaScript's locale-independent rules)`);
    const stop = new Set((ctx.attrs.strings('stopwords') ?? []).map((w) => (sensitive ? w : w.toLowerCase())));
    const twoD = x.dims.length === 2;
    if (!(x.dims.length === 1 || (twoD && x.dims[0] === 1))) ctx.fail(`input must be [C] or [1, C], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const [v] = requireKnownStrings(ctx) as string[][];
    let kept = v!.filter((s) => !stop.has(sensitive ? s : s.toLowerCase()));
    kept = kept.map((s) => (action === 'LOWER' ? s.toLowerCase() : action === 'UPPER' ? s.toUpperCase() : s));
    // Everything filtered out leaves one empty string, as the spec asks.
    if (kept.length === 0) kept = [''];
    const dims = twoD ? [1, kept.length] : [kept.length];
    return { outputs: [{ dtype: 'string', dims }], dataFree: true, evaluate: () => [kept] };
  },
};

const regexFullMatch: OpDef = {
  opType: 'RegexFullMatch', since: 20, attributes: ['pattern'],
  prepare(ctx) {
    requireStrings(ctx, 0);
    const x = ctx.input(0);
    if (!ctx.attrs.has('pattern')) throw ctx.attrs.error('pattern', 'is required');
    const pattern = ctx.attrs.string('pattern', '');
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch (e) {
      throw ctx.attrs.error('pattern', `'${pattern}' is not a regular expression JavaScript accepts (${(e as Error).message})`);
    }
    const [v] = requireKnownStrings(ctx) as string[][];
    const out = Uint8Array.from(v!, (s) => (re.test(s) ? 1 : 0));
    return { outputs: [{ dtype: 'bool', dims: [...x.dims] }], dataFree: true, evaluate: () => [out] };
  },
};

/**
 * TfIdfVectorizer: counts the pool's n-grams (min..max length, with up to max_skip_count skipped
 * tokens between items) in each row, then TF, IDF (presence · weight) or TFIDF (count · weight).
 * Unigrams count once per position whatever the skip.
 */
const tfIdfVectorizer: OpDef = {
  opType: 'TfIdfVectorizer', since: 9,
  attributes: ['max_gram_length', 'max_skip_count', 'min_gram_length', 'mode', 'ngram_counts', 'ngram_indexes', 'pool_int64s', 'pool_strings', 'weights'],
  prepare(ctx) {
    const x = ctx.input(0), a = ctx.attrs;
    if (!['int32', 'int64', 'string'].includes(x.dtype)) ctx.fail(`input must be int32, int64 or string, got ${x.dtype}`, 'UNSUPPORTED_OP');
    if (x.dims.length !== 1 && x.dims.length !== 2) ctx.fail(`input must be [C] or [N, C], got [${x.dims}]`, 'SHAPE_MISMATCH');
    const minN = a.int('min_gram_length', 1), maxN = a.int('max_gram_length', 1), skip = a.int('max_skip_count', 0);
    if (minN < 1 || maxN < minN) throw a.error('min_gram_length', `and max_gram_length must satisfy 1 ≤ min ≤ max, got ${minN} and ${maxN}`);
    const mode = a.oneOf('mode', ['TF', 'IDF', 'TFIDF'], 'TF');
    const counts = a.ints('ngram_counts') ?? [], indexes = a.ints('ngram_indexes') ?? [];
    const pool: (string | number)[] | undefined = a.strings('pool_strings') ?? a.ints('pool_int64s');
    if (!pool) throw a.error('pool_int64s', 'or pool_strings is required');
    const weights = a.floats('weights');
    // Map each pool n-gram (as a key) to its output column.
    const column = new Map<string, number>();
    let g = 0;
    for (let k = 0; k < counts.length; k++) {
      const start = counts[k]!, end = k + 1 < counts.length ? counts[k + 1]! : pool.length, len = k + 1;
      for (let p = start; p + len <= end; p += len, g++) {
        if (g >= indexes.length) throw a.error('ngram_indexes', `has ${indexes.length} entries, fewer than the pool's n-grams`);
        column.set(`${len}:${pool.slice(p, p + len).join('\u0000')}`, indexes[g]!);
      }
    }
    const width = Math.max(0, ...indexes) + 1;
    const rows = x.dims.length === 2 ? x.dims[0]! : 1, C = x.dims[x.dims.length - 1]!;
    const outDims = x.dims.length === 2 ? [rows, width] : [width];
    const vectorize = (X: ArrayLike<unknown>, Y: Float32Array) => {
      Y.fill(0);
      for (let r = 0; r < rows; r++) {
        const row = Array.from({ length: C }, (_, i) => String(X[r * C + i]));
        for (let i = 0; i < C; i++) {
          for (let n = minN; n <= maxN; n++) {
            for (let s = 0; s <= (n === 1 ? 0 : skip); s++) {
              const last = i + (n - 1) * (s + 1);
              if (last >= C) break;
              const gram: string[] = [];
              for (let j = 0; j < n; j++) gram.push(row[i + j * (s + 1)]!);
              const col = column.get(`${n}:${gram.join('\u0000')}`);
              if (col !== undefined) Y[r * width + col]! += 1;
            }
          }
        }
      }
      if (mode !== 'TF') {
        for (let i = 0; i < Y.length; i++) {
          const w = weights?.[indexes.indexOf(i % width)] ?? 1;
          Y[i] = mode === 'IDF' ? (Y[i]! > 0 ? w : 0) : Y[i]! * w;
        }
      }
    };
    if (x.dtype === 'string') {
      const [v] = requireKnownStrings(ctx) as string[][];
      const y = new Float32Array(rows * width);
      vectorize(v!, y);
      return { outputs: [{ dtype: 'float32', dims: outDims }], dataFree: true, evaluate: () => [y] };
    }
    return {
      outputs: [{ dtype: 'float32', dims: outDims }],
      build: (bd) => {
        const vx = bd.view(x.dtype, bd.inputs[0]!, rows * C), vy = bd.view('float32', bd.outputs[0]!, rows * width);
        return () => vectorize(vx(), vy() as Float32Array);
      },
    };
  },
};

export const stringOps: OpDef[] = [stringConcat, stringSplit, stringNormalizer, regexFullMatch, tfIdfVectorizer];
