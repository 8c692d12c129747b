/**
 * A model read in chunks (a file by handle, a fetch body) without ever holding the whole of it: the
 * protobuf wire format is walked as the bytes arrive, the graph's small messages are kept (re-framed
 * into a smaller ModelProto, the "skeleton", that protobufjs decodes as usual) and every large
 * initializer's raw_data is handed to a sink as it streams past — skipped by offset when the source
 * can seek (a file: read later straight into Wasm memory), or copied straight into its Wasm block
 * (a stream). In the skeleton such a field becomes a 12-byte stub naming the sink's entry
 * (`onnx/streamed-raw.ts`). The walk makes the checks `onnx/wire.ts` makes on a buffer, with the
 * byte offset in the file, and never allocates by a length read from the file before checking it
 * against what is left.
 */
import { TesseraError } from '../api/errors.js';
import { type StreamedRaw, stubBytes } from './streamed-raw.js';

/** Where a model's bytes come from, in order. */
export interface ChunkSource {
  /** The next bytes (any length > 0), or undefined at the end. The walker does not keep them. */
  next(): Promise<Uint8Array | undefined>;
  /** Total size, when known (a file, a Content-Length): lets truncation be reported before reading. */
  readonly size?: number;
  /** Moves to an absolute position without reading what lies between (files only). */
  seek?(position: number): void;
}

/** What happens to a large raw_data field: its bytes sunk somewhere, and how to get them again. */
export interface RawSink {
  /**
   * Called when a large raw_data field's header is read, before its bytes. `tensor` is what was
   * read of the TensorProto so far (name, data type: they precede raw_data in files onnx writes).
   * Return how its bytes are taken: 'seek' skips them (the entry reads them later by offset), a
   * writer receives them as they stream past. `where` is 'initializer' for the top-level graph's.
   */
  raw(info: { offset: number; length: number; tensor: TensorHeader; where: 'initializer' | 'nested' }):
    | { kind: 'seek'; entry: StreamedRaw }
    | { kind: 'write'; entry: StreamedRaw; write(bytes: Uint8Array, at: number): void }
    | undefined;
}

/** The fields of a TensorProto read before its raw_data. */
export interface TensorHeader {
  name?: string;
  dataType?: number;
}

export interface WalkResult {
  /** The ModelProto without the large raw_data fields (stubs in their place). */
  skeleton: Uint8Array;
  /** The sunk fields, indexed by their stubs. */
  raws: StreamedRaw[];
  /** Bytes the walk went through (the file's size). */
  bytes: number;
}

/** raw_data fields longer than this are sunk; shorter ones stay in the skeleton. */
export const STREAM_THRESHOLD = 1024;

/** Sub-messages the walk descends into (onnx.proto field numbers); everything else is kept whole. */
const CHILDREN: Record<string, Record<number, string>> = {
  model: { 7: 'graph', 20: 'function' },
  graph: { 1: 'node', 5: 'tensor' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph' },
  function: { 7: 'node' },
  tensor: {},
};

const MAX_DEPTH = 64;

function fail(offset: number, what: string, why: string): never {
  throw new TesseraError('INVALID_MODEL', `The model is not a valid ONNX protobuf: ${why} in ${what} at byte ${offset}`);
}

function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Uint8Array.from(out);
}

/** Buffered reading over a ChunkSource, with absolute positions. */
class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0; // index into buf
  private base = 0; // absolute position of buf[0]
  private ended = false;

  constructor(private readonly src: ChunkSource, private readonly onProgress?: (loaded: number) => void) {}

  get pos(): number { return this.base + this.at; }
  get avail(): number { return this.buf.length - this.at; }

  /** Makes min(n, what is left in the source) bytes contiguous at the cursor. */
  async fill(n: number): Promise<void> {
    if (this.avail >= n || this.ended) return;
    const parts: Uint8Array[] = [this.buf.subarray(this.at)];
    let have = this.avail;
    while (have < n) {
      const c = await this.src.next();
      if (!c) { this.ended = true; break; }
      parts.push(c);
      have += c.length;
      this.onProgress?.(this.pos + have);
    }
    this.base = this.pos;
    this.at = 0;
    this.buf = parts.length === 2 && parts[0]!.length === 0 ? parts[1]! : concat(parts, have);
  }

  /** At the end of the source (after a fill found nothing more). */
  async atEnd(): Promise<boolean> {
    await this.fill(1);
    return this.avail === 0;
  }

  varint(end: number, what: string): number {
    const limit = Math.min(this.buf.length, this.at + (end - this.pos));
    let value = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= limit) fail(this.pos, what, 'truncated varint');
      const byte = this.buf[this.at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return value;
    }
    return fail(this.pos, what, 'varint longer than 10 bytes');
  }

  /** Advances n bytes that are already buffered (fixed-width fields). */
  advance(n: number, what: string, at: number): void {
    if (this.avail < n) fail(at, what, 'truncated field');
    this.at += n;
  }

  /** Appends the buffered bytes [from, pos) to `out`. */
  copySinceInto(from: number, out: Out): void {
    out.append(this.buf, from - this.base, this.at);
  }

  /** Appends the next n bytes, buffered already (avail ≥ n), to `out`. */
  takeBufferedInto(n: number, out: Out): void {
    out.append(this.buf, this.at, this.at + n);
    this.at += n;
  }


  /** The next n bytes, copied (n already checked against what the enclosing message holds). */
  async take(n: number, what: string, at: number): Promise<Uint8Array> {
    if (this.avail >= n) { const out = this.buf.slice(this.at, this.at + n); this.at += n; return out; }
    if (this.src.size === undefined && n > 1 << 20) {
      // Nothing bounds the claimed length yet (a stream of unknown size): allocate for what arrives.
      const parts: Uint8Array[] = [];
      await this.pipe(n, (b) => parts.push(b.slice()), what, at);
      return concat(parts, n);
    }
    const out = new Uint8Array(n);
    let done = 0;
    await this.pipe(n, (b) => { out.set(b, done); done += b.length; }, what, at);
    return out;
  }

  /** Hands the next n bytes to `write` as they come, without buffering them. */
  async pipe(n: number, write: (b: Uint8Array) => void, what: string, at: number): Promise<void> {
    let left = n;
    const first = Math.min(left, this.avail);
    if (first > 0) { write(this.buf.subarray(this.at, this.at + first)); this.at += first; left -= first; }
    while (left > 0) {
      const c = await this.src.next();
      if (!c) { this.ended = true; fail(at, what, `the data ends at byte ${this.pos} with ${left} of its ${n} bytes missing`); }
      this.base = this.pos;
      this.buf = c;
      this.at = Math.min(left, c.length);
      write(c.subarray(0, this.at));
      left -= this.at;
      this.onProgress?.(this.base + c.length);
    }
  }

  /** Skips n bytes: by seeking when the source can, else by reading past them. */
  async skip(n: number, what: string, at: number): Promise<void> {
    if (this.avail >= n) { this.at += n; return; }
    if (this.src.seek) {
      const target = this.pos + n;
      if (this.src.size !== undefined && target > this.src.size) fail(at, what, `the data ends at byte ${this.src.size}, ${target - this.src.size} bytes short`);
      this.src.seek(target);
      this.buf = new Uint8Array(0);
      this.at = 0;
      this.base = target;
      this.onProgress?.(target);
      return;
    }
    await this.pipe(n, () => {}, what, at);
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * The skeleton being rebuilt, in one growing buffer (a typed array per field, joined at the end,
 * held ~10 MB of small objects for BERT-base's 140 KB). A nested message's length precedes it but
 * is known only after it: 5 bytes are reserved for the varint, and the message is moved back over
 * the ones its length did not need (`open` / `close`).
 */
class Out {
  bytes = new Uint8Array(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  append(src: Uint8Array, from = 0, to = src.length): void {
    this.room(to - from);
    this.bytes.set(src.subarray(from, to), this.length);
    this.length += to - from;
  }

  varint(n: number): void {
    this.room(10);
    while (n >= 0x80) { this.bytes[this.length++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
    this.bytes[this.length++] = n;
  }

  /** Reserves a nested message's length; returns where it starts. */
  open(): number {
    this.room(5);
    this.length += 5;
    return this.length - 5;
  }

  /** Writes the length of the message opened at `at` and closes the gap its varint left. */
  close(at: number): void {
    const body = at + 5, size = this.length - body;
    const len = encodeVarint(size);
    this.bytes.copyWithin(at + len.length, body, this.length);
    this.bytes.set(len, at);
    this.length -= 5 - len.length;
  }
}

/**
 * Walks a whole ModelProto from `src`; large raw_data fields go to `sink`. Throws INVALID_MODEL
 * with the byte offset of whatever is malformed or cut short.
 */
export async function walkModel(src: ChunkSource, sink: RawSink, onProgress?: (loaded: number) => void): Promise<WalkResult> {
  const r = new Reader(src, onProgress);
  const raws: StreamedRaw[] = [];
  const top = new Out();

  async function message(kind: string, end: number, out: Out, depth: number, path: string): Promise<void> {
    if (depth > MAX_DEPTH) fail(r.pos, kind, `messages nested deeper than ${MAX_DEPTH}`);
    const header: TensorHeader = {};
    for (;;) {
      // Awaited only when a chunk must be fetched: a promise per field made the walk of BERT-base's
      // 140 KB of small messages cost ~150 ms and ~30 MB of short-lived heap.
      if (end === Infinity) { if (r.avail === 0 && await r.atEnd()) return; }
      else if (r.pos >= end) return;
      const need = Math.min(20, end - r.pos);
      if (r.avail < need) await r.fill(need);
      const at = r.pos;
      const tag = r.varint(end, kind);
      const field = Math.floor(tag / 8), wire = tag & 7;
      if (field === 0) fail(at, kind, 'field number 0');
      const what = `${kind} field ${field}`;
      switch (wire) {
        case 0: {
          const v = r.varint(end, what);
          if (kind === 'tensor' && field === 2) header.dataType = v;
          r.copySinceInto(at, out);
          break;
        }
        case 1: case 5: {
          // The fill of 20 bytes above holds the tag and these 8 or 4 bytes when the data has them.
          const n = wire === 1 ? 8 : 4;
          if (end - r.pos < n) fail(at, what, 'truncated field');
          r.advance(n, what, at);
          r.copySinceInto(at, out);
          break;
        }
        case 2: {
          const len = r.varint(end, what);
          const start = r.pos;
          if (len > end - start) fail(at, what, `length ${len} runs past the end (${end - start} bytes left)`);
          if (src.size !== undefined && len > src.size - start) fail(at, what, `length ${len} runs past the end of the data (${src.size - start} bytes left)`);
          const child = CHILDREN[kind]?.[field];
          if (child) {
            const childPath = kind === 'graph' && field === 5 && path === 'model.graph' ? 'initializer' : `${path}.${child}`;
            out.varint(tag);
            const opened = out.open();
            await message(child, start + len, out, depth + 1, childPath);
            if (r.pos !== start + len) fail(at, what, 'truncated message');
            out.close(opened);
          } else if (kind === 'tensor' && field === 9 && len > STREAM_THRESHOLD) {
            const how = sink.raw({ offset: start, length: len, tensor: header, where: path === 'initializer' ? 'initializer' : 'nested' });
            if (!how) {
              r.copySinceInto(at, out); out.append(await r.take(len, what, at));
            } else {
              raws.push(how.entry);
              if (how.kind === 'seek') { if (r.avail >= len) r.advance(len, what, at); else await r.skip(len, what, at); }
              else { let done = 0; await r.pipe(len, (b) => { how.write(b, done); done += b.length; }, what, at); }
              out.varint(tag); out.varint(12); out.append(stubBytes(raws.length - 1));
            }
          } else {
            r.copySinceInto(at, out);
            const from = out.length;
            if (r.avail >= len) r.takeBufferedInto(len, out);
            else out.append(await r.take(len, what, at));
            if (kind === 'tensor' && field === 8) header.name = new TextDecoder().decode(out.bytes.subarray(from, out.length));
          }
          break;
        }
        default: fail(at, what, `wire type ${wire}`);
      }
    }
  }

  await message('model', src.size ?? Infinity, top, 0, 'model');
  return { skeleton: top.bytes.slice(0, top.length), raws, bytes: r.pos };
}
