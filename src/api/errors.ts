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

export class TesseraError extends Error {
  readonly code: TesseraErrorCode;

  constructor(code: TesseraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
    this.code = code;
  }
}

/** Where a node-level error happened, in the words a user can grep their model for. */
export function describeNode(node: { name: string; opType: string }): string {
  return node.name ? `${node.opType} node '${node.name}'` : `${node.opType} node (unnamed)`;
}
