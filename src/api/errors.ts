/**
 * Every failure tessera reports on purpose is a TesseraError: `code` is stable for programs to
 * branch on, `message` names what was wrong and where (node, op, attribute, input).
 */
export type TesseraErrorCode =
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_OP'
  | 'INVALID_ATTRIBUTE'
  | 'INVALID_FEED'
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'OUT_OF_MEMORY'
  | 'RELEASED'
  | 'WASM_UNAVAILABLE'
  | 'INTERNAL';

/** The one error type the public API throws; branch on `code`, show `message`. */
export class TesseraError extends Error {
  /** Stable machine-readable reason, e.g. 'UNSUPPORTED_OP' or 'INVALID_FEED'. */
  readonly code: TesseraErrorCode;

  constructor(code: TesseraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
    this.code = code;
  }
}

/** Where a node-level error happened, in the words a user can grep their model for. */
export function describeNode(node: { name: string; opType: string; outputs?: readonly string[] }): string {
  if (node.name) return `${node.opType} node '${node.name}'`;
  // Unnamed nodes are common (many exporters leave names empty): the first output names it uniquely.
  const out = node.outputs?.find((o) => o !== '');
  return out ? `${node.opType} node (unnamed, output '${out}')` : `${node.opType} node (unnamed)`;
}

/**
 * What the public API throws for anything that was not a deliberate failure: a TesseraError as is,
 * an engine out of memory (typed array too large, buffer allocation failed, memory.grow refused)
 * as OUT_OF_MEMORY, anything else (a TypeError, a Wasm trap) as INTERNAL. The original stays in
 * `cause`; every INTERNAL is a bug to report.
 */
export function asTesseraError(e: unknown, where: string): TesseraError {
  if (e instanceof TesseraError) return e;
  const err = e instanceof Error ? e : undefined;
  const text = err ? `${err.name}: ${err.message}` : String(e);
  if (err instanceof RangeError && /(typed array length|array buffer allocation|array length|out of memory|Maximum call stack)/i.test(err.message)) {
    const oom = !/call stack/i.test(err.message);
    if (oom) return new TesseraError('OUT_OF_MEMORY', `${where}: the engine could not allocate (${text})`, { cause: e });
  }
  return new TesseraError('INTERNAL', `${where}: unexpected ${text} (a tessera bug; please report it with the model)`, { cause: e });
}
