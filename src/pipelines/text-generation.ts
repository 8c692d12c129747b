/**
 * The 'text-generation' pipeline, shaped like transformers.js v4's: built from a model folder
 * (local path, URL base or hub repository id) holding tokenizer.json, tokenizer_config.json,
 * generation_config.json and onnx/model{_fp16,_quantized,_q4}.onnx; called with a prompt or a chat
 * (messages), it returns `[{ generated_text }]` — for a chat, the conversation with the assistant's
 * reply appended. `stream()` yields text pieces as they are decoded. Generation runs on
 * GenerationSession (src/generation/session.ts): KV cache resident in Wasm memory where the graph
 * allows. Where there is no filesystem (Workers), it is built from parts instead: the model's bytes
 * and the folder's JSON files as objects.
 */
import { TesseraError } from '../api/errors.js';
import type { GenerationConfig } from '../generation/config.js';
import { GenerationSession, type GenerationSessionOptions } from '../generation/session.js';
import { BaseStreamer, TextStreamer } from '../generation/streamers.js';
import { type ModelFolderOptions, openModelFolder, readTextFile } from '../platform/model-folder.js';
import type { ChatMessage } from '../text/chat-template.js';
import { Tokenizer } from '../text/tokenizer.js';

/** Weight formats, named and filed as transformers.js names them. */
export type TextGenerationDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

const FILE_SUFFIX: Record<TextGenerationDtype, string> = {
  fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4',
};

/** Options of `pipeline('text-generation', folder, options)`. */
export interface TextGenerationPipelineOptions extends ModelFolderOptions, Omit<GenerationSessionOptions, 'onProgress' | 'cache'> {
  /** Which weights: onnx/model.onnx (fp32, default), model_fp16.onnx, model_quantized.onnx (q8), model_q4.onnx, … */
  dtype?: TextGenerationDtype;
  /** The model file's name without `.onnx` and the dtype suffix (default 'model'). */
  model_file_name?: string;
}

/** Per-call options: generation options plus what the pipeline does with text. */
export interface TextGenerationCallOptions extends GenerationConfig {
  /** Include the prompt in generated_text (default true for text; a chat always returns the conversation). */
  return_full_text?: boolean;
  /** Add the tokenizer's special tokens to a text prompt (default: tokenizer_config's add_bos_token/add_eos_token). */
  add_special_tokens?: boolean;
}

/** One result: the text, or for a chat the conversation with the reply appended. */
export interface TextGenerationOutput {
  /** Generated text (with the prompt unless return_full_text is false), or the chat. */
  generated_text: string | ChatMessage[];
}

type Input = string | ChatMessage[];

/**
 * The model folder as parts, for runtimes without a filesystem (Workers bundle the files as modules):
 * `{ model: bytes, tokenizer: tokenizer.json or a Tokenizer, tokenizer_config, config, generation_config }`.
 */
export interface TextGenerationPartsInput {
  /** The decoder's ONNX bytes (optimum layout), or a path / URL to it. */
  model: Uint8Array | ArrayBuffer | string | URL;
  /** tokenizer.json (text or parsed), or a Tokenizer already built. */
  tokenizer: Tokenizer | string | object;
  /** tokenizer_config.json (text or parsed): chat template, special tokens, add_bos_token. */
  tokenizer_config?: string | object;
  /** config.json, parsed (eos_token_id when generation_config has none). */
  config?: { eos_token_id?: number | number[] } & Record<string, unknown>;
  /** generation_config.json, parsed: the default generation options. */
  generation_config?: GenerationConfig;
}

/** The pipeline: call it, or `stream()` it. */
export interface TextGenerationPipeline {
  /** Generates for one prompt or chat → [{ generated_text }]; for a list → one such array per item. */
  (input: Input, options?: TextGenerationCallOptions): Promise<TextGenerationOutput[]>;
  (inputs: Input[], options?: TextGenerationCallOptions): Promise<TextGenerationOutput[][]>;
  /** The new text of one prompt or chat, piece by piece; breaking out of the loop stops generation. */
  stream(input: Input, options?: TextGenerationCallOptions): AsyncIterableIterator<string>;
  /** 'text-generation'. */
  readonly task: 'text-generation';
  /** The tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The generation session (token ids in, token ids out; `kvCache` says which cache path runs). */
  readonly model: GenerationSession;
  /** Frees the model's memory. */
  dispose(): Promise<void>;
}

/** Builds the pipeline from a model folder, URL base or hub repository id, or from the folder's parts. */
export async function textGenerationPipeline(location: string | URL | TextGenerationPartsInput, options: TextGenerationPipelineOptions = {}): Promise<TextGenerationPipeline> {
  if (typeof location !== 'string' && !(location instanceof URL)) return fromParts(location, options);
  const { host, revision, cache, onProgress, dtype = 'fp32', model_file_name = 'model', ...sessionOptions } = options;
  if (!(dtype in FILE_SUFFIX)) throw new TesseraError('INVALID_ARGUMENT', `text-generation: unknown dtype '${dtype}'; one of ${Object.keys(FILE_SUFFIX).join(', ')}`);
  const folderOptions = { host, revision, cache, onProgress };
  const folder = await openModelFolder(location, folderOptions);
  const tokenizer = await Tokenizer.fromPretrained(location, folderOptions);
  const parse = (text: string | undefined, file: string) => {
    try { return text === undefined ? {} : JSON.parse(text); } catch { throw new TesseraError('INVALID_ARGUMENT', `text-generation: ${folder.locate(file)} is not valid JSON`); }
  };
  const genConfig = parse(await readTextFile(folder, 'generation_config.json'), 'generation_config.json') as GenerationConfig;
  const modelConfig = parse(await readTextFile(folder, 'config.json'), 'config.json') as { eos_token_id?: number | number[] };
  const tokConfig = parse(await readTextFile(folder, 'tokenizer_config.json'), 'tokenizer_config.json') as { add_bos_token?: boolean; add_eos_token?: boolean };
  const file = `${model_file_name}${FILE_SUFFIX[dtype]}.onnx`;
  let model: GenerationSession | undefined;
  for (const candidate of [`onnx/${file}`, file]) {
    if (folder.kind === 'local') {
      if (!(await folder.read(candidate))) continue; // (a local read is cheap next to a session load)
      model = await GenerationSession.create(folder.locate(candidate), { ...sessionOptions, cache });
    } else {
      const bytes = await folder.read(candidate);
      if (!bytes) continue;
      const data = await folder.read(`${candidate}_data`);
      model = await GenerationSession.create(bytes, { ...sessionOptions, cache, externalData: data ? [{ path: `${file}_data`, data }] : sessionOptions.externalData });
    }
    break;
  }
  if (!model) throw new TesseraError('INVALID_ARGUMENT', `text-generation: no ${file} in ${folder.locate('onnx/')} or ${folder.locate('')} (dtype '${dtype}')`);
  const defaults: GenerationConfig = {
    ...genConfig,
    eos_token_id: genConfig.eos_token_id ?? modelConfig.eos_token_id ?? tokenizer.eosTokenId ?? null,
    pad_token_id: genConfig.pad_token_id ?? tokenizer.padTokenId ?? null,
  };
  return makePipeline(tokenizer, model, defaults, !!(tokConfig.add_bos_token || tokConfig.add_eos_token));
}

async function fromParts(parts: TextGenerationPartsInput, options: TextGenerationPipelineOptions): Promise<TextGenerationPipeline> {
  const where = "pipeline('text-generation', { model, tokenizer, … })";
  if (!parts || typeof parts !== 'object') throw new TesseraError('INVALID_ARGUMENT', `${where}: pass a model folder path, URL or repository id, or { model, tokenizer, tokenizer_config?, config?, generation_config? }`);
  const { model: bytes, tokenizer: tok, tokenizer_config, config = {}, generation_config = {} } = parts;
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer || typeof bytes === 'string' || bytes instanceof URL)) {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: model must be the ONNX file's bytes (Uint8Array or ArrayBuffer), a path or a URL`);
  }
  if (tok == null || (typeof tok !== 'string' && typeof tok !== 'object')) throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer must be tokenizer.json (text or object) or a Tokenizer`);
  const tokenizer = tok instanceof Tokenizer ? tok : Tokenizer.fromJSON(tok, tokenizer_config);
  let tokConfig: { add_bos_token?: boolean; add_eos_token?: boolean };
  try {
    tokConfig = typeof tokenizer_config === 'string' ? JSON.parse(tokenizer_config) : tokenizer_config ?? {};
  } catch {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: tokenizer_config is not valid JSON`);
  }
  const { host: _h, revision: _r, cache, onProgress: _p, dtype: _d, model_file_name: _m, ...sessionOptions } = options;
  const model = await GenerationSession.create(bytes, { ...sessionOptions, cache });
  const defaults: GenerationConfig = {
    ...generation_config,
    eos_token_id: generation_config.eos_token_id ?? config.eos_token_id ?? tokenizer.eosTokenId ?? null,
    pad_token_id: generation_config.pad_token_id ?? tokenizer.padTokenId ?? null,
  };
  return makePipeline(tokenizer, model, defaults, !!(tokConfig.add_bos_token || tokConfig.add_eos_token));
}

function makePipeline(tokenizer: Tokenizer, model: GenerationSession, defaults: GenerationConfig, addSpecial: boolean): TextGenerationPipeline {
  const isChat = (x: unknown): x is ChatMessage[] => Array.isArray(x) && x.every((m) => m && typeof m === 'object' && 'role' in m);
  const decode = (ids: readonly number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  const encode = (input: Input, options: TextGenerationCallOptions): number[] => {
    if (isChat(input)) return tokenizer.encode(tokenizer.applyChatTemplate(input, { tokenize: false, addGenerationPrompt: true }), { addSpecialTokens: false });
    if (typeof input !== 'string') throw new TesseraError('INVALID_ARGUMENT', 'text-generation: the input must be a string, a chat (an array of { role, content }) or an array of those');
    return tokenizer.encode(input, { addSpecialTokens: options.add_special_tokens ?? addSpecial });
  };

  const run = async (inputs: Input[], options: TextGenerationCallOptions): Promise<TextGenerationOutput[][]> => {
    const { return_full_text, add_special_tokens: _a, ...config } = options;
    const prompts = inputs.map((x) => encode(x, options));
    const stops = config.stop_strings == null ? [] : (Array.isArray(config.stop_strings) ? config.stop_strings : [config.stop_strings]);
    const longestStop = Math.max(0, ...stops.map((s) => s.length));
    const stop = stops.length ? (_b: number, seq: readonly number[], promptLength: number) => {
      // Only the tail can hold a stop string that the last token completed.
      const tail = decode(seq.slice(Math.max(promptLength, seq.length - longestStop - 8)));
      return stops.some((s) => tail.includes(s));
    } : undefined;
    const outs = await model.generate(prompts, { ...defaults, ...config }, { stop });
    return outs.map((seq, i) => {
      const input = inputs[i]!;
      if (isChat(input)) return [{ generated_text: [...input, { role: 'assistant', content: decode(seq.slice(prompts[i]!.length)) }] }];
      const full = decode(seq);
      if (return_full_text === false) return [{ generated_text: full.slice(decode(prompts[i]!).length) }];
      return [{ generated_text: full }];
    });
  };

  const call = (async (input: Input | Input[], options: TextGenerationCallOptions = {}) => {
    const batch = Array.isArray(input) && !isChat(input);
    const results = await run(batch ? (input as Input[]) : [input as Input], options);
    return batch ? results : results[0]!;
  }) as TextGenerationPipeline;

  const stream = (input: Input, options: TextGenerationCallOptions = {}): AsyncIterableIterator<string> => {
    const pieces: string[] = [];
    let wake: (() => void) | undefined;
    let finished = false, failure: unknown;
    const stopper = new AbortController();
    const onAbort = () => stopper.abort();
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) stopper.abort();
    const streamer = new TextStreamer(tokenizer, {
      skip_prompt: true,
      callback_function: (text) => { pieces.push(text); wake?.(); },
    });
    const user = options.streamer;
    const tee = user ? new (class extends BaseStreamer {
      override put(ids: number[][]) { streamer.put(ids); user.put(ids); }
      override end() { streamer.end(); user.end(); }
    })() : streamer;
    const done = run([input], { ...options, streamer: tee, signal: stopper.signal }).then(
      () => { finished = true; wake?.(); },
      (e) => { failure = e; finished = true; wake?.(); },
    ).finally(() => options.signal?.removeEventListener('abort', onAbort));
    const iterator: AsyncIterableIterator<string> = {
      async next() {
        for (;;) {
          if (pieces.length) return { value: pieces.shift()!, done: false };
          if (finished) {
            if (failure) throw failure;
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
        }
      },
      async return() {
        stopper.abort();
        await done;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() { return iterator; },
    };
    return iterator;
  };

  return Object.assign(call, {
    stream,
    task: 'text-generation' as const,
    tokenizer,
    model,
    dispose: () => model.release(),
  });
}
