/**
 * Streamers, with transformers.js's contract: the generator calls `put(ids)` once with the prompt
 * ([batch][tokens]) and then once per new token ([[id]]), and `end()` when generation stops (for
 * any reason: EOS, a stop string, max_new_tokens or an abort). `TextStreamer` turns the tokens
 * into text pieces as transformers.js's does: it re-decodes the tokens since the last flush and
 * emits only text that can no longer change (up to the last space, a whole line, or a CJK
 * character), so the pieces concatenate to the decoded text.
 */

/** The base of every streamer: override `put` and `end`. */
export class BaseStreamer {
  /** Receives token ids: the prompt once, then each new token. */
  put(_ids: number[][]): void { throw new Error('BaseStreamer.put must be overridden'); }
  /** Called once when generation ends. */
  end(): void { throw new Error('BaseStreamer.end must be overridden'); }
}

/**
 * What TextStreamer needs of a tokenizer: tessera's `Tokenizer` or a transformers.js-style one
 * (decode options are passed under both spellings: skip_special_tokens and skipSpecialTokens).
 */
export interface StreamerTokenizer {
  /** Token ids → text. */
  decode(ids: readonly number[], options?: { skip_special_tokens?: boolean; skipSpecialTokens?: boolean }): string;
  /** Ids of the special tokens (transformers.js's name). */
  readonly all_special_ids?: readonly number[];
  /** Ids of the special tokens (tessera's Tokenizer's name). */
  readonly allSpecialIds?: readonly number[];
}

/** Options of TextStreamer, named as transformers.js's. */
export interface TextStreamerOptions {
  /** Do not emit the prompt (default false). */
  skip_prompt?: boolean;
  /** Receives each text piece; default: written to stdout in Node, console.log elsewhere. */
  callback_function?: ((text: string) => void) | null;
  /** Receives each new token's ids before decoding. */
  token_callback_function?: ((ids: number[]) => void) | null;
  /** Leave special tokens out of the text (default true). */
  skip_special_tokens?: boolean;
  /** Further options passed to `decode`. */
  decode_kwargs?: Record<string, unknown>;
}

const isCjk = (cp: number) =>
  (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
  (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
  (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);

type ProcessLike = { stdout?: { write(s: string): unknown } };
const defaultWrite = (text: string): void => {
  const proc = (globalThis as { process?: ProcessLike }).process;
  if (proc?.stdout) proc.stdout.write(text);
  else console.log(text);
};

/** Decodes tokens as they come and emits text pieces that will not change (batch size 1). */
export class TextStreamer extends BaseStreamer {
  private tokenCache: number[] = [];
  private printLen = 0;
  private nextIsPrompt = true;
  private readonly skipPrompt: boolean;
  private readonly callback: (text: string) => void;
  private readonly tokenCallback: ((ids: number[]) => void) | null;
  private readonly decodeOptions: { skip_special_tokens: boolean; skipSpecialTokens: boolean } & Record<string, unknown>;
  private readonly specialIds: Set<number>;

  /** `tokenizer`: anything with decode(ids, options); options as transformers.js's TextStreamer. */
  constructor(private readonly tokenizer: StreamerTokenizer, options: TextStreamerOptions = {}) {
    super();
    this.skipPrompt = options.skip_prompt ?? false;
    this.callback = options.callback_function ?? defaultWrite;
    this.tokenCallback = options.token_callback_function ?? null;
    const skip = options.skip_special_tokens ?? true;
    this.decodeOptions = { skip_special_tokens: skip, skipSpecialTokens: skip, ...options.decode_kwargs };
    this.specialIds = new Set(tokenizer.all_special_ids ?? tokenizer.allSpecialIds ?? []);
  }

  /** Takes the prompt, then one token at a time. */
  override put(ids: number[][]): void {
    if (ids.length > 1) throw new Error('TextStreamer only supports batch size 1');
    const isPrompt = this.nextIsPrompt;
    if (isPrompt) {
      this.nextIsPrompt = false;
      if (this.skipPrompt) return;
    }
    const tokens = (ids[0] ?? []).map(Number);
    this.tokenCallback?.(tokens);
    if (tokens.length === 1 && this.specialIds.has(tokens[0]!)) {
      if (this.decodeOptions.skip_special_tokens) return;
      this.flush();
      this.emit(this.tokenizer.decode(tokens, this.decodeOptions));
      return;
    }
    this.tokenCache.push(...tokens);
    const text = this.tokenizer.decode(this.tokenCache, this.decodeOptions);
    let piece: string;
    if (isPrompt || text.endsWith('\n')) {
      piece = text.slice(this.printLen);
      this.tokenCache = [];
      this.printLen = 0;
    } else if (text.length > 0 && isCjk(text.codePointAt(text.length - 1) ?? 0)) {
      piece = text.slice(this.printLen);
      this.printLen += piece.length;
    } else {
      // Up to the last space: a word may still change with the next token.
      piece = text.slice(this.printLen, text.lastIndexOf(' ') + 1);
      this.printLen += piece.length;
    }
    this.emit(piece);
  }

  /** Emits what is left. */
  override end(): void {
    this.flush();
    this.nextIsPrompt = true;
    if (this.callback === defaultWrite && (globalThis as { process?: ProcessLike }).process?.stdout) this.callback('\n');
  }

  private flush(): void {
    if (this.tokenCache.length) this.emit(this.tokenizer.decode(this.tokenCache, this.decodeOptions).slice(this.printLen));
    this.tokenCache = [];
    this.printLen = 0;
  }

  private emit(text: string): void {
    if (text.length > 0) this.callback(text);
  }
}
