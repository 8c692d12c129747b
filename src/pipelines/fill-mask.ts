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
import { platform } from '../platform/platform.js';
import { BertTokenizer } from '../text/bert-tokenizer.js';

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

/** Options of one `unmask` call. */
export interface FillMaskOptions {
  /** How many candidates per mask. Default 5. */
  top_k?: number;
}

/** What `FillMaskPipeline.create` needs: a model plus either `vocab` or `tokenizer`. */
export interface FillMaskPipelineOptions {
  /** An ONNX model: bytes, a path (Node) or a URL. */
  model: Uint8Array | ArrayBuffer | string | URL;
  /** vocab.txt's text (uncased, as bert-base-uncased) … */
  vocab?: string;
  /** … or a tokenizer (e.g. BertTokenizer.fromJSON(tokenizer.json)). */
  tokenizer?: BertTokenizer;
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

/** Where a Hugging Face repository is read from, as `<host>/<repo>/resolve/<revision>/<file>`. */
export interface HubOptions extends Omit<FillMaskPipelineOptions, 'model' | 'vocab' | 'tokenizer'> {
  /** Default 'https://huggingface.co'. */
  host?: string;
  /** Default 'main'. */
  revision?: string;
  /** The ONNX file inside the repository. Default 'onnx/model.onnx' (transformers.js' layout). */
  modelFile?: string;
  /** Download progress of the model file. */
  onProgress?: SessionOptions['onProgress'];
  /** As SessionOptions.cache; applies to the tokenizer files too. */
  cache?: SessionOptions['cache'];
}

const ROWS = 'row_indices';

/** Predicts the tokens behind [MASK] with a BERT-style masked LM. Build with `create` or `pipeline`. */
export class FillMaskPipeline {
  /** The task name, as transformers.js' pipelines carry it. */
  readonly task = 'fill-mask';

  private constructor(
    /** The session running the model (built with selectRows unless that was turned off). */
    readonly session: InferenceSession,
    /** The tokenizer that encodes inputs and decodes predictions. */
    readonly tokenizer: BertTokenizer,
    private readonly rowsInput: string | undefined,
    private readonly maxLength: number | undefined,
  ) {}

  /**
   * Loads the model and tokenizer and checks the model's inputs and 'logits' output.
   * @throws TesseraError INVALID_ARGUMENT without a model or a vocab/tokenizer, INVALID_MODEL when
   * the model lacks input_ids, attention_mask or logits, and whatever InferenceSession.create throws.
   */
  static async create(options: FillMaskPipelineOptions): Promise<FillMaskPipeline> {
    const tokenizer = options.tokenizer ?? (options.vocab !== undefined ? BertTokenizer.fromVocab(options.vocab) : undefined);
    if (!tokenizer) throw new TesseraError('INVALID_ARGUMENT', "pipeline('fill-mask'): pass a tokenizer or a vocab (vocab.txt's text)");
    if (options.model === undefined) throw new TesseraError('INVALID_ARGUMENT', "pipeline('fill-mask'): pass a model (bytes, a path or a URL)");
    const mode = options.selectRows ?? 'auto';
    let useRows = mode !== false;
    const session = await InferenceSession.createRewritten(options.model, options.sessionOptions ?? {}, useRows ? (m) => {
      try {
        selectRows(m, { output: 'logits', rowsInput: ROWS });
      } catch (e) {
        // selectRows refuses before touching the graph, so the model runs as exported.
        if (mode !== 'auto' || !(e instanceof TesseraError && e.message.startsWith('selectRows:'))) throw e;
        useRows = false;
      }
    } : undefined);
    // A model the pipeline cannot use must not keep its session's Wasm memory alive.
    const refuse = async (why: string): Promise<never> => {
      await session.release();
      throw new TesseraError('INVALID_MODEL', `pipeline('fill-mask'): ${why}`);
    };
    for (const name of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(name)) await refuse(`the model has no '${name}' input (inputs: ${session.inputNames.join(', ')})`);
    }
    if (!session.outputNames.includes('logits')) await refuse(`the model has no 'logits' output (outputs: ${session.outputNames.join(', ')})`);
    return new FillMaskPipeline(session, tokenizer, useRows ? ROWS : undefined, options.maxLength);
  }

  /** One text: a list per [MASK] when there are several, else one list. Several texts: one entry each. */
  async unmask(texts: string, options?: FillMaskOptions): Promise<FillMaskResult[] | FillMaskResult[][]>;
  async unmask(texts: string[], options?: FillMaskOptions): Promise<Array<FillMaskResult[] | FillMaskResult[][]>>;
  async unmask(texts: string | string[], { top_k = 5 }: FillMaskOptions = {}): Promise<unknown> {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string')) {
      throw new TesseraError('INVALID_ARGUMENT', 'fill-mask: pass a string or a non-empty array of strings');
    }
    if (!Number.isInteger(top_k) || top_k < 1) throw new TesseraError('INVALID_ARGUMENT', `fill-mask: top_k must be a positive integer, got ${top_k}`);
    const enc = this.tokenizer.encodeBatch(list, { padding: true, ...(this.maxLength ? { maxLength: this.maxLength, truncation: true } : {}) });
    const seq = enc.input_ids.dims[1]!;
    const ids = enc.input_ids.data as BigInt64Array;
    const maskId = BigInt(this.tokenizer.maskTokenId);

    // Flat positions (b·seq + s) of every [MASK], text by text.
    const masks: number[][] = list.map((text, b) => {
      const rows: number[] = [];
      for (let s = 0; s < seq; s++) if (ids[b * seq + s] === maskId) rows.push(b * seq + s);
      if (!rows.length) throw new TesseraError('INVALID_ARGUMENT', `fill-mask: no [MASK] token in ${JSON.stringify(text)}${this.maxLength ? ` (within the first ${this.maxLength} tokens)` : ''}`);
      return rows;
    });
    const flat = masks.flat();

    const feeds: Record<string, Tensor> = { input_ids: enc.input_ids, attention_mask: enc.attention_mask };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = enc.token_type_ids;
    if (this.rowsInput) feeds[this.rowsInput] = new Tensor('int64', BigInt64Array.from(flat, BigInt), [flat.length]);
    const logits = (await this.session.run(feeds, ['logits'])).logits!;
    const data = logits.data as Float32Array;
    const width = logits.dims[logits.dims.length - 1]!;
    // With selectRows the output holds the mask rows in order; otherwise every row.
    const rowStart = (flatRow: number, k: number) => (this.rowsInput ? k : flatRow) * width;

    let k = 0;
    const results = masks.map((rows, b) => {
      const perMask = rows.map((flatRow) => {
        const best = topSoftmax(data, rowStart(flatRow, k++), width, top_k);
        return best.map(({ token, score }) => {
          const filled = Array.from(ids.subarray(b * seq, (b + 1) * seq), Number);
          filled[flatRow - b * seq] = token;
          return {
            score, token,
            token_str: this.tokenizer.idToToken(token) ?? '',
            sequence: this.tokenizer.decode(filled),
          };
        });
      });
      return perMask.length === 1 ? perMask[0]! : perMask;
    });
    return typeof texts === 'string' ? results[0] : results;
  }

  /** Frees the session's Wasm memory; later `unmask` calls fail with code RELEASED. */
  async release(): Promise<void> {
    await this.session.release();
  }
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

/** Loads `<host>/<repo>/resolve/<revision>/…`: the ONNX file, then tokenizer.json or vocab.txt. */
export async function fillMaskFromHub(repo: string, options: HubOptions = {}): Promise<FillMaskPipeline> {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo)) throw new TesseraError('INVALID_ARGUMENT', `pipeline('fill-mask'): '${repo}' is not a repository name like 'org/model'`);
  const host = (options.host ?? 'https://huggingface.co').replace(/\/+$/, '');
  const base = `${host}/${repo}/resolve/${encodeURIComponent(options.revision ?? 'main')}/`;
  const { host: _h, revision: _r, modelFile = 'onnx/model.onnx', onProgress, cache, ...rest } = options;
  const read = (file: string) => platform.readModel(base + file, { cache }).then((b) => new TextDecoder().decode(b));
  let tokenizer: BertTokenizer;
  try {
    tokenizer = BertTokenizer.fromJSON(await read('tokenizer.json'));
  } catch (jsonError) {
    // Only a missing tokenizer.json falls back to vocab.txt; a broken one is reported as is.
    if (!(jsonError instanceof TesseraError && /HTTP 404/.test(jsonError.message))) throw jsonError;
    try {
      tokenizer = BertTokenizer.fromVocab(await read('vocab.txt'));
    } catch (vocabError) {
      throw new TesseraError('INVALID_ARGUMENT', `pipeline('fill-mask', '${repo}'): no tokenizer at ${base}tokenizer.json (${(jsonError as Error).message}) nor ${base}vocab.txt (${(vocabError as Error).message})`, { cause: vocabError });
    }
  }
  return FillMaskPipeline.create({ ...rest, model: base + modelFile, tokenizer, sessionOptions: { ...rest.sessionOptions, onProgress, cache } });
}
