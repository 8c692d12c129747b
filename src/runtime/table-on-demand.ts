/**
 * A large Gather table left in the model file and read a row at a time, on first use (Node, a
 * model loaded by path). Its heap block is reserved at load but not written: Wasm memory that was
 * never touched costs no physical memory, so a 30,522-row vocabulary of which a run reads 128 rows
 * costs those 128 rows, not the table (BERT-base's word embeddings: 94 MB of its int8 file's 205).
 * Rows stay once read (a bitmap says which), so the table becomes resident as the inputs reach it
 * — at most its size, as before — and a row is read from the file once per session. The file is
 * kept open for the session's lifetime and checked for changes on every read (docs/memory.md).
 */
import { TesseraError } from '../api/errors.js';

/** Reads `dest.length` bytes of the table's stored bytes from byte `at` of them. */
export type ReadTableBytes = (dest: Uint8Array, at: number) => void;

export class TableOnDemand {
  private readonly loaded: Uint8Array;
  /** Rows read so far (memory tests, docs). */
  rowsRead = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    readonly ptr: number,
    readonly rows: number,
    readonly rowBytes: number,
    private readonly read: ReadTableBytes,
    private readonly name: string,
  ) {
    this.loaded = new Uint8Array(Math.ceil(rows / 8));
  }

  /** Makes rows `first` … `first + count − 1` present in the block (reads the missing ones, adjacent ones together). */
  ensure(first: number, count = 1): void {
    const { loaded } = this;
    let run = -1;
    for (let r = first; r <= first + count; r++) {
      const missing = r < first + count && (loaded[r >> 3]! & (1 << (r & 7))) === 0;
      if (missing && run < 0) run = r;
      if (!missing && run >= 0) { this.readRows(run, r - run); run = -1; }
    }
  }

  /** Every row (something read the table as a whole: folding, a copy). */
  ensureAll(): void { this.ensure(0, this.rows); }

  private readRows(first: number, count: number): void {
    if (first < 0 || first + count > this.rows) throw new TesseraError('INTERNAL', `rows ${first}…${first + count - 1} of table '${this.name}' (${this.rows} rows)`);
    const bytes = count * this.rowBytes;
    this.read(new Uint8Array(this.memory.buffer, this.ptr + first * this.rowBytes, bytes), first * this.rowBytes);
    for (let r = first; r < first + count; r++) this.loaded[r >> 3] = this.loaded[r >> 3]! | (1 << (r & 7));
    this.rowsRead += count;
  }
}
