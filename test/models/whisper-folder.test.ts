/**
 * scripts/make-whisper.mjs (Node, writes the tiny/base/small folders) is the same exporter as
 * models/whisper/export.py (Python, wrote the committed micro folder):
 *
 * - its tokenizer rule reproduces micro's tokenizer.json / tokenizer_config.json;
 * - filled with micro's own weights, the micro template (models/whisper/templates/) goes through
 *   the Node ports (untie, merge, fp16, q8, q4 in scripts/whisper-formats.mjs) to the very files
 *   Python wrote: same nodes (type, name, inputs, outputs, attributes) in the same order, inside
 *   the merged decoder's If branches too, and the same initializers byte for byte;
 * - with its own seeded weights, the Node-made micro folder runs in tessera (fp32, q8), so the
 *   fill (sinusoids, tied table, shaped rows) makes a working model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor } from '../../src/index.js';
import { buildOnnx, loadTemplate, makeWhisper, whisperTokenizer } from '../../scripts/make-whisper.mjs';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;
type Graph = onnxProto.onnx.IGraphProto;
const dir = fileURLToPath(new URL('../../models/whisper/micro/', import.meta.url));
const json = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));
const load = (name: string): Model => onnx.ModelProto.decode(readFileSync(`${dir}onnx/${name}`));

/** A graph as comparable data: nodes with attributes (subgraphs recursively), initializers as hex digests. */
function digest(g: Graph): unknown {
  const attr = (a: onnxProto.onnx.IAttributeProto): unknown => ({
    name: a.name, i: Number(a.i ?? 0), f: a.f ?? 0, ints: (a.ints ?? []).map(Number), s: Buffer.from(a.s ?? []).toString(),
    t: a.t ? tensor(a.t) : null, g: a.g ? digest(a.g) : null,
  });
  const tensor = (t: onnxProto.onnx.ITensorProto): unknown => ({
    name: t.name, dataType: t.dataType, dims: (t.dims ?? []).map(Number), raw: Buffer.from(t.rawData ?? []).toString('base64'),
  });
  return {
    nodes: (g.node ?? []).map((n) => ({ op: n.opType, name: n.name, domain: n.domain ?? '', inputs: n.input, outputs: n.output, attrs: (n.attribute ?? []).map(attr).sort((a, b) => String((a as { name: string }).name).localeCompare((b as { name: string }).name)) })),
    initializers: (g.initializer ?? []).map(tensor),
    inputs: (g.input ?? []).map((x) => x.name),
    outputs: (g.output ?? []).map((x) => x.name),
  };
}

/** micro's weights by torch parameter, read back from the committed fp32 files. */
function microWeights(): (param: string, shape: number[]) => Float32Array {
  const meta = json(fileURLToPath(new URL('../../models/whisper/templates/micro.json', import.meta.url))) as { graphs: Record<string, { name: string; param: string; transposed: boolean; dims: number[] }[]> };
  const values = new Map<string, Float32Array>();
  const files: Record<string, string> = { encoder: 'encoder_model.onnx', decoder: 'decoder_model.onnx', decoder_with_past: 'decoder_with_past_model.onnx' };
  for (const [part, file] of Object.entries(files)) {
    const inits = new Map((load(file).graph!.initializer ?? []).map((t) => [t.name, t]));
    for (const e of meta.graphs[part]!) {
      const t = inits.get(e.name);
      if (!t) continue; // proj_out's folded copy: not in the untied file; the embedding is
      const raw = new Uint8Array(t.rawData!);
      const w = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      if (!e.transposed) { values.set(e.param, w); continue; }
      const [r, c] = e.dims as [number, number];
      const back = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) back[j * r + i] = w[i * c + j]!;
      values.set(e.param, back);
    }
  }
  return (param) => { const w = values.get(param); if (!w) throw new Error(`no weight for ${param}`); return w; };
}

describe('scripts/make-whisper.mjs = models/whisper/export.py', () => {
  it('tokenizer rule: micro\'s tokenizer.json and tokenizer_config.json', () => {
    const [tok, cfg] = whisperTokenizer(400, 100);
    expect(tok).toEqual(json(`${dir}tokenizer.json`));
    expect(cfg).toEqual(json(`${dir}tokenizer_config.json`));
  });

  it('the template carries micro\'s config files', () => {
    const meta = json(fileURLToPath(new URL('../../models/whisper/templates/micro.json', import.meta.url))) as Record<string, unknown>;
    expect(meta.config).toEqual(json(`${dir}config.json`));
    expect(meta.generation_config).toEqual(json(`${dir}generation_config.json`));
    expect(meta.preprocessor_config).toEqual(json(`${dir}preprocessor_config.json`));
  });

  it('template + micro\'s weights → the committed ONNX files (nodes and weight bytes), every format', () => {
    const { meta, graphs } = loadTemplate('micro', { weights: microWeights() });
    const files = buildOnnx(meta, graphs) as Record<string, Model>;
    expect(Object.keys(files).sort()).toEqual([
      'decoder_model.onnx', 'decoder_model_merged.onnx', 'decoder_model_merged_fp16.onnx', 'decoder_model_merged_q4.onnx',
      'decoder_model_merged_quantized.onnx', 'decoder_with_past_model.onnx', 'encoder_model.onnx', 'encoder_model_fp16.onnx',
      'encoder_model_q4.onnx', 'encoder_model_quantized.onnx']);
    for (const [name, model] of Object.entries(files)) {
      const want = load(name);
      expect(digest(model.graph!), name).toEqual(digest(want.graph!));
      expect(model.opsetImport.map((o) => `${o.domain}:${Number(o.version)}`).sort(), name).toEqual(want.opsetImport.map((o) => `${o.domain}:${Number(o.version)}`).sort());
    }
  });

  it('--timestamped: template + micro\'s weights → the committed micro-timestamped files (cross_attentions.{i})', () => {
    const { meta, graphs } = loadTemplate('micro', { weights: microWeights(), timestamped: true });
    const files = buildOnnx(meta, graphs, ['fp32']) as Record<string, Model>;
    for (const [name, model] of Object.entries(files)) {
      const want = onnx.ModelProto.decode(readFileSync(`${dir}../micro-timestamped/onnx/${name}`));
      expect(digest(model.graph!), name).toEqual(digest(want.graph!));
      expect(JSON.stringify(model.graph!.output), name).toBe(JSON.stringify(want.graph!.output));
    }
  });

  it('Node-made micro folder (own seeded weights): runs in tessera, fp32 and q8 give the same first greedy id', async () => {
    const out = mkdtempSync(join(tmpdir(), 'whisper-micro-'));
    try {
      makeWhisper('micro', out, { formats: ['fp32', 'q8'], log: () => {} });
      const feats = new Tensor('float32', Float32Array.from({ length: 80 * 3000 }, (_, i) => Math.sin(i * 0.013) * 0.5), [1, 80, 3000]);
      const cfg = json(`${out}/generation_config.json`) as { decoder_start_token_id: number };
      const enc = await InferenceSession.create(readFileSync(`${out}/onnx/encoder_model.onnx`));
      const h = (await enc.run({ input_features: feats })).last_hidden_state!;
      const firstIds: number[] = [];
      for (const s of ['', '_quantized']) {
        const dec = await InferenceSession.create(readFileSync(`${out}/onnx/decoder_model_merged${s}.onnx`));
        const empty: Record<string, Tensor> = {};
        for (let i = 0; i < 2; i++) for (const p of ['decoder', 'encoder']) for (const k of ['key', 'value']) empty[`past_key_values.${i}.${p}.${k}`] = new Tensor('float32', new Float32Array(0), [1, 2, 0, 12]);
        const o = await dec.run({ input_ids: new Tensor('int64', BigInt64Array.of(BigInt(cfg.decoder_start_token_id)), [1, 1]), encoder_hidden_states: h, ...empty, use_cache_branch: new Tensor('bool', Uint8Array.of(0), [1]) });
        const l = o.logits!.data as Float32Array;
        expect(l.every(Number.isFinite)).toBe(true);
        let k = 0; for (let i = 1; i < l.length; i++) if (l[i]! > l[k]!) k = i;
        firstIds.push(k);
      }
      expect(new Set(firstIds).size, `first greedy id per format ${firstIds}`).toBe(1);
    } finally { rmSync(out, { recursive: true, force: true }); }
  }, 60_000);

  it.each(['tiny', 'base', 'small'])('%s template: every weight-less initializer is mapped, with Whisper %s\'s dims', (size) => {
    const meta = json(fileURLToPath(new URL(`../../models/whisper/templates/${size}.json`, import.meta.url))) as {
      config: { d_model: number; vocab_size: number; encoder_layers: number; decoder_ffn_dim: number };
      graphs: Record<string, { name: string; param: string; transposed: boolean; dims: number[] }[]>;
    };
    const want = { tiny: [384, 4, 1536], base: [512, 6, 2048], small: [768, 12, 3072] }[size]!;
    expect([meta.config.d_model, meta.config.encoder_layers, meta.config.decoder_ffn_dim, meta.config.vocab_size]).toEqual([...want, 51865]);
    for (const part of ['encoder', 'decoder', 'decoder_with_past']) {
      const g = onnx.ModelProto.decode(readFileSync(fileURLToPath(new URL(`../../models/whisper/templates/${size}-${part}.onnx`, import.meta.url)))).graph!;
      const mapped = new Map(meta.graphs[part]!.map((e) => [e.name, e]));
      const empty = (g.initializer ?? []).filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT && (t.dims ?? []).length > 0 && (t.rawData ?? []).length === 0);
      expect(empty.map((t) => t.name).sort(), part).toEqual([...mapped.keys()].sort());
      for (const t of empty) expect((t.dims ?? []).map(Number), t.name!).toEqual(mapped.get(t.name!)!.dims);
    }
    const emb = meta.graphs.decoder!.find((e) => e.param === 'model.decoder.embed_tokens.weight' && !e.transposed)!;
    expect(emb.dims).toEqual([51865, want[0]]);
  });
});

