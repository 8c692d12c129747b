/**
 * The committed decoder-only test models (models/decoders/, optimum / transformers.js layout) run
 * in onnxruntime-web and in tessera: a prompt step on a left-padded batch of two (empty past),
 * then one decode step fed the step's own `present` as `past`, as transformers.js drives them.
 *
 * - onnxruntime-web against PyTorch (reference.json, written by export.py from the same weights):
 *   last-position logits within 1e-4 for fp32 files — proves the export itself.
 * - tessera against onnxruntime-web on the same bytes: every logit and every present at an
 *   unpadded position within 1e-4 (fp32), and 8 greedy tokens equal to PyTorch's for each row.
 * - fp16 (float16 I/O and KV), q8 (MatMulInteger, whose integers depend on the float input) and
 *   q4 (MatMulNBits) are held to a tolerance relative to the largest logit, stated per format.
 *
 * A file whose ops tessera does not run yet can be listed in PENDING with what it needs; its
 * tessera half is then skipped (the onnxruntime half still runs). Empty since main has decodek's
 * MatMulNBits and gqa's GroupQueryAttention / (Skip)SimplifiedLayerNormalization: every file runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { halfToFloat } from '../../src/onnx/float-formats.js';
import { ortRun, ortSession } from '../helpers/ort.js';

const root = fileURLToPath(new URL('../../models/decoders/', import.meta.url));

/** file (folder/onnx/name) → what tessera still lacks for it, and where that comes from. */
const PENDING: Record<string, string> = {};

type Format = 'fp32' | 'fp16' | 'q8' | 'q4';
/** optimum: onnx/<file> with position_ids; genai: model builder's <file> at the top, no position_ids. */
interface Case { folder: string; file: string; format: Format; layout?: 'genai' }
const CASES: Case[] = [
  { folder: 'tiny-qwen3', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-qwen3', file: 'model_fp16.onnx', format: 'fp16' },
  { folder: 'tiny-qwen3', file: 'model_quantized.onnx', format: 'q8' },
  { folder: 'tiny-qwen3', file: 'model_q4.onnx', format: 'q4' },
  { folder: 'tiny-llama', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-llama', file: 'model_q4.onnx', format: 'q4' },
  { folder: 'tiny-qwen2', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-gpt2', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-gemma', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-phi3', file: 'model.onnx', format: 'fp32' },
  { folder: 'toy-lm', file: 'model.onnx', format: 'fp32' },
  { folder: 'tiny-llama-genai', file: 'model.onnx', format: 'fp32', layout: 'genai' },
  { folder: 'tiny-llama-genai-int4', file: 'model.onnx', format: 'q4', layout: 'genai' },
];
const pathOf = (c: Case): string => `${root}${c.folder}/${c.layout === 'genai' ? '' : 'onnx/'}${c.file}`;

/**
 * Tolerances, as a fraction of the largest |logit| of the step (fp32: absolute).
 * fp16: activations rounded to 11 bits at every op, ort and tessera round in different places.
 * q8: DynamicQuantizeLinear can put one element a step apart when float inputs differ in the last
 * bit (one step of 8 bits ≈ 0.4-0.8 % of the range) — 2 %, as test/models/int8-tools.test.ts.
 * q4: weights are fixed, activations float: only summation order differs.
 * Against PyTorch, the quantized files are held only to "same order of magnitude" (10–35 %):
 * that is quantization error, not an engine's.
 */
const TOL: Record<Format, { engines: number; torch: number }> = {
  fp32: { engines: 1e-4, torch: 1e-4 },
  fp16: { engines: 1e-2, torch: 1e-2 },
  q8: { engines: 2e-2, torch: 0.1 },
  q4: { engines: 1e-3, torch: 0.35 },
};

interface Step { input_ids: number[][]; attention_mask: number[][]; position_ids: number[][]; logits_last: number[][] }
interface Reference { steps: Step[]; greedy_new_ids: number[][] }
interface Config { num_hidden_layers?: number; n_layer?: number; num_key_value_heads?: number; n_head?: number; head_dim?: number; n_embd?: number }

const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const exists = (path: string): boolean => { try { readFileSync(path); return true; } catch { return false; } };

function geometry(c: Config): { layers: number; kv: number; hd: number } {
  const layers = c.num_hidden_layers ?? c.n_layer!;
  const kv = c.num_key_value_heads ?? c.n_head!;
  const hd = c.head_dim ?? c.n_embd! / c.n_head!;
  return { layers, kv, hd };
}

const ids64 = (rows: number[][]): Tensor => new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

function emptyPast(c: Config, half: boolean): Record<string, Tensor> {
  const { layers, kv, hd } = geometry(c);
  const feeds: Record<string, Tensor> = {};
  for (let i = 0; i < layers; i++) {
    for (const k of ['key', 'value']) {
      feeds[`past_key_values.${i}.${k}`] = half ? new Tensor('float16', new Uint16Array(0), [2, kv, 0, hd]) : new Tensor('float32', new Float32Array(0), [2, kv, 0, hd]);
    }
  }
  return feeds;
}

const floats = (t: { type: string; data: unknown }): Float32Array => t.type === 'float16'
  ? Float32Array.from(t.data as Uint16Array, halfToFloat)
  : t.data as Float32Array;

/** Output tensors as tessera Tensors, so either engine's presents can be fed back. */
function asTensors(out: Record<string, { type: string; data: unknown; dims: readonly number[] }>): Record<string, Tensor> {
  const r: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) r[k] = new Tensor(t.type as 'float32', t.data as Float32Array, [...t.dims]);
  return r;
}

function nextPast(out: Record<string, Tensor>): Record<string, Tensor> {
  const past: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) if (k.startsWith('present.')) past[k.replace('present.', 'past_key_values.')] = t;
  return past;
}

function lastLogits(t: Tensor): Float32Array[] {
  const [B, S, V] = t.dims as number[];
  const d = floats(t);
  return Array.from({ length: B! }, (_, b) => d.subarray(((b * S!) + S! - 1) * V!, ((b * S!) + S!) * V!));
}

/**
 * The values of a [B, S, …] logits or [B, heads, T, d] present tensor at the positions whose
 * attention_mask is 1: a padded query attends to nothing (its row is all float.min, a uniform
 * softmax over rounding noise), so engines may disagree there without either being wrong.
 */
function valid(t: Tensor, mask: number[][], kind: 'logits' | 'present'): number[] {
  const d = floats(t);
  const dims = t.dims as number[];
  const out: number[] = [];
  if (kind === 'logits') {
    const [B, S, V] = dims as [number, number, number];
    for (let b = 0; b < B; b++) {
      const m = mask[b]!.slice(mask[b]!.length - S);
      for (let q = 0; q < S; q++) if (m[q]) for (let v = 0; v < V; v++) out.push(d[(b * S + q) * V + v]!);
    }
  } else {
    const [B, H, T, D] = dims as [number, number, number, number];
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let k = 0; k < T; k++) {
      if (mask[b]![k]) for (let x = 0; x < D; x++) out.push(d[((b * H + h) * T + k) * D + x]!);
    }
  }
  return out;
}

function maxAbs(a: ArrayLike<number>): number { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; }
function worst(a: ArrayLike<number>, b: ArrayLike<number>): number { let w = 0; for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!)); return w; }
function argmax(a: ArrayLike<number>): number { let k = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[k]!) k = i; return k; }

type Run = (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

/** The reference's two steps on one engine: [step] → outputs. */
async function twoSteps(run: Run, ref: Reference, c: Config, half: boolean, positions = true): Promise<Record<string, Tensor>[]> {
  let past = emptyPast(c, half);
  const outs: Record<string, Tensor>[] = [];
  for (const st of ref.steps) {
    const pos: Record<string, Tensor> = positions ? { position_ids: ids64(st.position_ids) } : {};
    const out = await run({ input_ids: ids64(st.input_ids), attention_mask: ids64(st.attention_mask), ...pos, ...past });
    outs.push(out);
    past = nextPast(out);
  }
  return outs;
}

/** Greedy decoding from the reference's prompt, `n` new tokens per row. */
async function greedy(run: Run, ref: Reference, c: Config, n: number, positions = true): Promise<number[][]> {
  const st = ref.steps[0]!;
  const withPos = (f: Record<string, Tensor>): Record<string, Tensor> => { if (!positions) delete f.position_ids; return f; };
  let feeds: Record<string, Tensor> = withPos({ input_ids: ids64(st.input_ids), attention_mask: ids64(st.attention_mask), position_ids: ids64(st.position_ids), ...emptyPast(c, false) });
  let mask = st.attention_mask.map((r) => [...r]);
  let pos = st.position_ids.map((r) => r[r.length - 1]!);
  const got: number[][] = [[], []];
  for (let s = 0; s < n; s++) {
    const out = await run(feeds);
    const next = lastLogits(out.logits!).map(argmax);
    next.forEach((t, b) => got[b]!.push(t));
    mask = mask.map((r) => [...r, 1]);
    pos = pos.map((p) => p + 1);
    feeds = withPos({ input_ids: ids64(next.map((t) => [t])), attention_mask: ids64(mask), position_ids: ids64(pos.map((p) => [p])), ...nextPast(out) });
  }
  return got;
}

const available = CASES.filter((c) => exists(pathOf(c)));

describe.each(available)('$folder $file ($format)', (c) => {
  const { folder, file, format } = c;
  const dir = `${root}${folder}/`;
  const bytes = readFileSync(pathOf(c));
  const positions = c.layout !== 'genai';
  const ref = json<Reference>(`${dir}reference.json`);
  const config = json<Config>(`${dir}config.json`);
  const half = format === 'fp16';
  const pending = PENDING[`${folder}/${file}`];

  it('onnxruntime-web: prompt + decode step match PyTorch', async () => {
    const ort = await ortSession(bytes);
    const outs = await twoSteps(async (f) => asTensors(await ortRun(ort, f)), ref, config, half, positions);
    outs.forEach((out, s) => {
      const want = ref.steps[s]!.logits_last;
      lastLogits(out.logits!).forEach((row, b) => {
        const scale = format === 'fp32' ? 1 : maxAbs(want[b]!);
        expect(worst(row, want[b]!) / scale, `step ${s} row ${b}`).toBeLessThan(TOL[format].torch);
      });
    });
  });

  it.skipIf(pending !== undefined)(`tessera matches onnxruntime-web (logits and presents)${pending ? ` — PENDING: needs ${pending}` : ''}`, async () => {
    const ort = await ortSession(bytes);
    const tess = await InferenceSession.create(bytes);
    const a = await twoSteps(async (f) => asTensors(await ortRun(ort, f)), ref, config, half, positions);
    const b = await twoSteps((f) => tess.run(f), ref, config, half, positions);
    for (let s = 0; s < a.length; s++) {
      const mask = ref.steps[s]!.attention_mask;
      const want = valid(a[s]!.logits!, mask, 'logits'), got = valid(b[s]!.logits!, mask, 'logits');
      expect(b[s]!.logits!.dims).toEqual(a[s]!.logits!.dims);
      const scale = format === 'fp32' ? 1 : maxAbs(want);
      expect(worst(got, want) / scale, `logits, step ${s}`).toBeLessThan(TOL[format].engines);
      for (const name of Object.keys(a[s]!).filter((k) => k.startsWith('present.'))) {
        expect(b[s]![name]!.dims, name).toEqual(a[s]![name]!.dims);
        const pw = valid(a[s]![name]!, mask, 'present'), pg = valid(b[s]![name]!, mask, 'present');
        expect(worst(pg, pw) / (format === 'fp32' ? 1 : Math.max(1, maxAbs(pw))), `${name}, step ${s}`).toBeLessThan(TOL[format].engines);
      }
    }
  });

  it.runIf(format === 'fp32' && pending === undefined)('tessera: 8 greedy tokens equal PyTorch\'s', async () => {
    const tess = await InferenceSession.create(bytes);
    expect(await greedy((f) => tess.run(f), ref, config, ref.greedy_new_ids[0]!.length, positions)).toEqual(ref.greedy_new_ids);
  });
});

describe('one model, two layouts', () => {
  it('tiny-llama (optimum) and tiny-llama-genai (model builder, GroupQueryAttention) give the same logits in onnxruntime-web', async () => {
    const ref = json<Reference>(`${root}tiny-llama-genai/reference.json`);
    const config = json<Config>(`${root}tiny-llama/config.json`);
    const optimum = await ortSession(readFileSync(`${root}tiny-llama/onnx/model.onnx`));
    const genai = await ortSession(readFileSync(`${root}tiny-llama-genai/model.onnx`));
    const a = await twoSteps(async (f) => asTensors(await ortRun(optimum, f)), ref, config, false, true);
    const b = await twoSteps(async (f) => asTensors(await ortRun(genai, f)), ref, config, false, false);
    for (let s = 0; s < a.length; s++) {
      expect(worst(floats(b[s]!.logits!), floats(a[s]!.logits!)), `logits, step ${s}`).toBeLessThan(1e-4);
      expect(worst(floats(b[s]!['present.1.key']!), floats(a[s]!['present.1.key']!)), `present.1.key, step ${s}`).toBeLessThan(1e-4);
    }
  });
});

describe('the generated byte-level BPE tokenizers', () => {
  const folders = ['tiny-qwen3', ...(exists(`${root}toy-lm/tokenizer.json`) ? ['toy-lm'] : [])];
  const texts = ['Hello, world!  A fortune: "You will be hungry again in one hour." -- Confucius\n',
    '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n', 'Ünïcödé → ✓ 日本語 🙂'];
  it.each(folders)('%s: Hugging Face tokenizers (Rust) and @huggingface/tokenizers agree, and decoding round-trips', async (folder) => {
    const path = `${root}${folder}/tokenizer.json`;
    const rust = RustTokenizer.fromFile(path);
    const js = new JsTokenizer(json<object>(path), json<object>(`${root}${folder}/tokenizer_config.json`));
    for (const text of texts) {
      const want = (await rust.encode(text)).getIds();
      expect(js.encode(text).ids, text).toEqual(want);
      expect(await rust.decode(want, false)).toBe(text);
    }
    const special = (await rust.encode('<|im_start|><|im_end|><|endoftext|>')).getIds();
    const cfg = json<{ eos_token_id: number; bos_token_id: number }>(`${root}${folder}/config.json`);
    expect(special).toEqual([cfg.bos_token_id + 1, cfg.eos_token_id, cfg.bos_token_id]);
  });
});
