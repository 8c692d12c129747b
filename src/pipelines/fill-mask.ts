/**
 * fill-mask, as transformers.js returns it: for each [MASK], the top_k tokens by probability
 * (softmax over the vocabulary at that position), each with the sequence it completes.
 *
 * The model is any BERT-style masked LM exported to ONNX (inputs input_ids, attention_mask and
 * optionally token_type_ids; output logits [batch, seq, vocab]). By default the session is built
 * with selectRows, so the MLM head runs only on the [MASK] rows.
 */
import { TesseraError } from '../api/errors.js';
import { InferenceSession, type SessionOptions } from '../api/session.js';
import { Tensor } from '../api/tensor.js';
import { selectRows } from '../graph/passes/select-rows.js';
import { BertTokenizer } from '../text/bert-tokenizer.js';
import { type ModelConfig, type PipelineBase, type PipelineParts, type PipelineTokenizer, checkTopK, makePipeline, textFeeds, textList } from './base.js';
import { type PipelineOptions, type SessionFactory, guard, loadParts } from './load.js';

/** One candidate for one [MASK], as transformers.js returns it. */
export interface FillMaskResult {
  /** Probability of this token at the mask (softmax over the whole vocabulary). */
  score: number;
  /** Token id. */
  token: number;
  /** The vocabulary entry ('##s' for a continuation piece). */
  token_str: string;
  /** The input with this mask filled in, decoded without special tokens. */
  sequence: string;
}

/** Options of one fill-mask call. */
export interface FillMaskOptions {
  /** How many candidates per mask. Default 5. */
  top_k?: number;
}

/**
 * The object form of `pipeline('fill-mask', {…})`: a model plus a tokenizer (or vocab.txt text),
 * optionally config.json parsed.
 */
export interface FillMaskPipelineOptions {
  /** An ONNX model: bytes, a path (Node) or a URL. */
  model: Uint8Array | ArrayBuffer | string | URL;
  /** vocab.txt's text (uncased, as bert-base-uncased) … */
  vocab?: string;
  /** … or a tokenizer (Tokenizer, or BertTokenizer.fromJSON(tokenizer.json)). */
  tokenizer?: PipelineTokenizer;
  /** config.json, parsed. Default {}. */
  config?: ModelConfig;
  /**
   * Run the MLM head on the [MASK] rows only. 'auto' (default): when selectRows finds the head,
   * else the graph as exported; true: require it (a TesseraError otherwise); false: never.
   */
  selectRows?: boolean | 'auto';
  /** Longest input in tokens, specials included (longer inputs are truncated). Default: the tokenizer's. */
  maxLength?: number;
  /** Passed to InferenceSession.create. */
  sessionOptions?: SessionOptions;
}

/** `pipeline('fill-mask', folderOrRepo, options)`: where the folder is read from, plus fill-mask's own switches. */
export interface HubOptions extends PipelineOptions {
  /** As FillMaskPipelineOptions.selectRows. */
  selectRows?: boolean | 'auto';
  /** As FillMaskPipelineOptions.maxLength. */
  maxLength?: number;
}

/** One text's results: a list, or a list per [MASK] when the text has several. */
type PerText = FillMaskResult[] | FillMaskResult[][];

/** `await unmasker(text | texts, { top_k })`; `unmask` is the same function. */
export type FillMaskCall = {
  (texts: string, options?: FillMaskOptions): Promise<PerText>;
  (texts: string[], options?: FillMaskOptions): Promise<PerText[]>;
};

/** The fill-mask callable: `await unmasker(text)`, with `unmask` and `release` kept from the first API. */
export type FillMaskPipeline = FillMaskCall & PipelineBase & {
  /** The same function as the pipeline itself (the API before pipelines were callable). */
  readonly unmask: FillMaskCall;
  /** Same as dispose(): frees the session's Wasm memory; later calls fail with code RELEASED. */
  release(): Promise<void>;
};

const ROWS = 'row_indices';

/** A session factory that applies selectRows to the MLM head, reporting whether it could. */
function selectRowsFactory(mode: boolean | 'auto'): { create: SessionFactory; used: () => boolean } {
  let useRows = mode !== false;
  const create: SessionFactory = (model, options) => InferenceSession.createRewritten(model, options, useRows ? (m) => {
    try {
      selectRows(m, { output: 'logits', rowsInput: ROWS });
    } catch (e) {
      // selectRows refuses before touching the graph, so the model runs as exported.
      if (mode !== 'auto' || !(e instanceof TesseraError && e.message.startsWith('selectRows:'))) throw e;
      useRows = false;
    }
  } : undefined);
  return { create, used: () => useRows };
}

/** Loads a fill-mask pipeline from a folder path, URL or hub repository id. */
export async function fillMaskFromFolder(task: string, location: string | URL, options: HubOptions = {}): Promise<FillMaskPipeline> {
  const rows = selectRowsFactory(options.selectRows ?? 'auto');
  const parts = await loadParts(task, location, options, rows.create);
  return guard(parts, () => fillMask(task, parts, rows.used(), options.maxLength));
}

/** The first, object-taking constructor; `pipeline('fill-mask', {…})` calls it. */
export const FillMaskPipeline = {
  /**
   * Loads the model and tokenizer and checks the model's inputs and 'logits' output.
   * @throws TesseraError INVALID_ARGUMENT without a model or a vocab/tokenizer, INVALID_MODEL when
   * the model lacks input_ids, attention_mask or logits, and whatever InferenceSession.create throws.
   */
  async create(options: FillMaskPipelineOptions, task = 'fill-mask'): Promise<FillMaskPipeline> {
    const tokenizer = options.tokenizer ?? (options.vocab !== undefined ? BertTokenizer.fromVocab(options.vocab) : undefined);
    if (!tokenizer) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): pass a tokenizer or a vocab (vocab.txt's text)`);
    if (options.model === undefined) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): pass a model (bytes, a path or a URL)`);
    const rows = selectRowsFactory(options.selectRows ?? 'auto');
    const session = await rows.create(options.model, options.sessionOptions ?? {});
    const parts = { session, tokenizer, config: options.config ?? {} };
    return guard(parts, () => fillMask(task, parts, rows.used(), options.maxLength));
  },
};

/**
 * Wraps parts as the fill-mask callable. For each text, the top_k tokens at its [MASK], best first;
 * a text with several masks gets one list per mask (transformers.js v4 predicts only the first).
 */
export function fillMask(task: string, parts: PipelineParts, useRows: boolean, maxLength?: number): FillMaskPipeline {
  const { session, tokenizer } = parts;
  // A model the pipeline cannot use is refused here (the caller releases its session).
  for (const name of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(name)) throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model has no '${name}' input (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes('logits')) throw new TesseraError('INVALID_MODEL', `pipeline('${task}'): the model has no 'logits' output (outputs: ${session.outputNames.join(', ')})`);
  // Without tokenizer_config.json a Tokenizer knows no mask token by role: try the usual names.
  const maskId = tokenizer.maskTokenId ?? tokenizer.tokenToId?.('[MASK]') ?? tokenizer.tokenToId?.('<mask>');
  if (maskId === undefined) throw new TesseraError('INVALID_ARGUMENT', `pipeline('${task}'): the tokenizer has no mask token`);
  const rowsInput = useRows ? ROWS : undefined;

  async function call(texts: string | string[], { top_k = 5 }: FillMaskOptions = {}): Promise<unknown> {
    const list = textList(task, texts);
    checkTopK(task, top_k, false);
    const enc = tokenizer.encodeBatch(list, { padding: true, truncation: true, ...(maxLength ? { maxLength } : {}) });
    const seq = enc.input_ids.dims[1]!;
    const ids = enc.input_ids.data as BigInt64Array;
    const mask = BigInt(maskId!);

    // Flat positions (b·seq + s) of every [MASK], text by text.
    const masks: number[][] = list.map((text, b) => {
      const rows: number[] = [];
      for (let s = 0; s < seq; s++) if (ids[b * seq + s] === mask) rows.push(b * seq + s);
      if (!rows.length) throw new TesseraError('INVALID_ARGUMENT', `${task}: no [MASK] token in ${JSON.stringify(text)}${maxLength ? ` (within the first ${maxLength} tokens)` : ''}`);
      return rows;
    });
    const flat = masks.flat();

    const feeds = textFeeds(session, enc);
    if (rowsInput) feeds[rowsInput] = new Tensor('int64', BigInt64Array.from(flat, BigInt), [flat.length]);
    const logits = (await session.run(feeds, ['logits'])).logits!;
    const data = logits.data as Float32Array;
    const width = logits.dims[logits.dims.length - 1]!;
    // With selectRows the output holds the mask rows in order; otherwise every row.
    const rowStart = (flatRow: number, k: number) => (rowsInput ? k : flatRow) * width;

    let k = 0;
    const results = masks.map((rows, b) => {
      const perMask = rows.map((flatRow) => {
        const best = topSoftmax(data, rowStart(flatRow, k++), width, top_k);
        return best.map(({ token, score }) => {
          const filled = Array.from(ids.subarray(b * seq, (b + 1) * seq), Number);
          filled[flatRow - b * seq] = token;
          return {
            score, token,
            token_str: tokenizer.decode([token], { skipSpecialTokens: false }),
            sequence: tokenizer.decode(filled, { skipSpecialTokens: true }),
          };
        });
      });
      return perMask.length === 1 ? perMask[0]! : perMask;
    });
    return typeof texts === 'string' ? results[0] : results;
  }
  const fn = call as FillMaskCall;
  return makePipeline(task, parts, fn, { unmask: fn, release: () => session.release() });
}

/** The k largest softmax probabilities of one row, best first (ties: lower id first). */
function topSoftmax(data: Float32Array, start: number, width: number, k: number): { token: number; score: number }[] {
  let max = -Infinity;
  for (let i = 0; i < width; i++) max = Math.max(max, data[start + i]!);
  let sum = 0;
  for (let i = 0; i < width; i++) sum += Math.exp(data[start + i]! - max);
  const top: number[] = [];
  for (let i = 0; i < width; i++) {
    const v = data[start + i]!;
    if (top.length === k && v <= data[start + top[k - 1]!]!) continue;
    let j = Math.min(top.length, k - 1);
    top[j] = i;
    while (j > 0 && data[start + top[j - 1]!]! < v) { top[j] = top[j - 1]!; top[j - 1] = i; j--; }
  }
  return top.map((i) => ({ token: i, score: Math.exp(data[start + i]! - max) / sum }));
}

