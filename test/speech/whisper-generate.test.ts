// whisperGenerate + decodeAsr against transformers.js v4 on the committed micro Whisper folder:
// the same features (transformers.js's own processor, so this test isolates generation), the
// same token ids from model.generate and the same { text, chunks } from its tokenizer's
// _decode_asr. transformers.js runs on onnxruntime-node (its Node default).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import { Tensor } from '../../src/api/tensor.js';
import { decodeAsr } from '../../src/speech/decode-asr.js';
import { whisperConfig, whisperGenerate, type WhisperGenerationOptions } from '../../src/speech/whisper-generate.js';
import { WhisperModel } from '../../src/speech/whisper-model.js';
import { Tokenizer } from '../../src/text/tokenizer.js';

const root = fileURLToPath(new URL('../../models/whisper/', import.meta.url));
const dir = `${root}micro/`;
const json = (f: string) => JSON.parse(readFileSync(dir + f, 'utf8')) as Record<string, unknown>;

function tone(seconds: number): Float32Array {
  const a = new Float32Array(16000 * seconds);
  for (let i = 0; i < a.length; i++) a[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.31) + 0.05 * Math.sin(i * 0.0021);
  return a;
}

type Tjs = { processor: (a: Float32Array) => Promise<{ input_features: { data: Float32Array; dims: number[] } }>; model: { generate(o: object): Promise<{ tolist(): bigint[][] }> }; tokenizer: { _decode_asr(c: object[], o: object): [string, object] } };

describe('Whisper generation equals transformers.js v4 (micro)', () => {
  let tjs: Tjs, model: WhisperModel, tokenizer: Tokenizer;
  const config = json('config.json'), gen = json('generation_config.json');
  beforeAll(async () => {
    const t = await import('@huggingface/transformers');
    t.env.allowRemoteModels = false;
    t.env.localModelPath = root;
    tjs = await t.pipeline('automatic-speech-recognition', 'micro', { dtype: 'fp32' }) as unknown as Tjs;
    model = await WhisperModel.create({ encoder: `${dir}onnx/encoder_model.onnx`, decoder: `${dir}onnx/decoder_model_merged.onnx` }, { max_source_positions: 1500, max_target_positions: 448 });
    tokenizer = await Tokenizer.fromPretrained(dir);
  }, 60_000);
  afterAll(async () => { await model?.release(); });

  const cases: [string, WhisperGenerationOptions][] = [
    ['greedy, 40 new tokens', { max_new_tokens: 40 }],
    ['forced language and task', { language: 'french', task: 'translate', max_new_tokens: 30 }],
    ['timestamps, 60 new tokens', { return_timestamps: true, max_new_tokens: 60 }],
    ['timestamps, seek passes to max_length', { return_timestamps: true }],
  ];
  for (const [name, opts] of cases) {
    it(name, async () => {
      const f = (await tjs.processor(tone(7))).input_features;
      const theirs = (await tjs.model.generate({ inputs: f, ...opts })).tolist()[0]!.map(Number);
      const cfg = whisperConfig(config, gen, opts as Record<string, unknown>);
      const ours = await whisperGenerate(model, new Tensor('float32', f.data, [...f.dims]), cfg, opts, config.vocab_size as number);
      expect(ours).toEqual(theirs);
      expect(ours.length).toBeGreaterThan(4);
      const windows = [{ tokens: ours, stride: [7, 0, 0] as [number, number, number] }];
      const rt = !!opts.return_timestamps;
      const [text, optional] = tjs.tokenizer._decode_asr(windows.map((w) => ({ ...w, tokens: w.tokens.map(BigInt) })), { time_precision: 0.02, return_timestamps: rt, force_full_sequences: false });
      expect(decodeAsr({ decode: (ids) => tokenizer.decode(ids), allSpecialIds: tokenizer.allSpecialIds, tokenToId: (t) => tokenizer.tokenToId(t) }, windows, { returnTimestamps: rt, timePrecision: 0.02 })).toEqual({ text, ...optional });
    }, 60_000);
  }
});
