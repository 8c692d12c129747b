/**
 * String ops: StringConcat, StringSplit, StringNormalizer, RegexFullMatch. String tensors live in
 * JavaScript, never in Wasm memory, so these run at plan time and need their inputs known then: a
 * constant, or a graph input (the plan is keyed by its value).
 */
import type { OpContext, OpDef } from './types.js';
import { broadcastShapes, broadcastStrides } from './util.js';
import { requireKnownStrings } from './values.js';
import { gatherStrided } from './tensor.js';

function requireStrings(ctx: OpContext, ...inputs: number[]): void {
  for (const i of inputs) {
    const x = ctx.input(i);
    if (x.dtype !== 'string') ctx.fail(`input ${i} ('${x.name}') must be a string tensor, got ${x.dtype}`, 'INVALID_MODEL');
  }
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

export const stringOps: OpDef[] = [stringConcat, stringSplit, stringNormalizer, regexFullMatch];
