/**
 * A cheap walk over protobuf wire format before protobufjs decodes anything: every tag and varint
 * ends within 10 bytes, every length prefix fits in what is left, wire types are the four ONNX
 * uses. It descends into the messages that hold most of a model (graph, node, attribute, tensor),
 * so a corrupt file is refused with the byte offset and field where it breaks, and no length read
 * from the file is ever trusted for an allocation.
 */
import { TesseraError } from '../api/errors.js';

/** Field numbers that hold sub-messages, per message kind (onnx.proto). */
const CHILDREN: Record<string, Record<number, string>> = {
  model: { 7: 'graph', 8: 'opset', 14: 'kv', 20: 'function' },
  graph: { 1: 'node', 5: 'tensor', 11: 'value', 12: 'value', 13: 'value', 14: 'kv' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph' },
  function: { 7: 'node' },
};

const MAX_DEPTH = 64;

function fail(offset: number, what: string, why: string): never {
  throw new TesseraError('INVALID_MODEL', `The model is not a valid ONNX protobuf: ${why} in ${what} at byte ${offset}`);
}

function varint(b: Uint8Array, pos: number, end: number, what: string): [number, number] {
  let value = 0, scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail(pos, what, 'truncated varint');
    const byte = b[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [value, pos];
  }
  return fail(pos, what, 'varint longer than 10 bytes');
}

export function checkWire(b: Uint8Array, start = 0, end = b.length, kind = 'model', depth = 0): void {
  if (depth > MAX_DEPTH) fail(start, kind, `messages nested deeper than ${MAX_DEPTH}`);
  let pos = start;
  while (pos < end) {
    const at = pos;
    let tag: number;
    [tag, pos] = varint(b, pos, end, kind);
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (field === 0) fail(at, kind, 'field number 0');
    switch (wire) {
      case 0: pos = varint(b, pos, end, `${kind} field ${field}`)[1]; break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        let len: number;
        [len, pos] = varint(b, pos, end, `${kind} field ${field}`);
        if (len > end - pos) fail(at, `${kind} field ${field}`, `length ${len} runs past the end (${end - pos} bytes left)`);
        const child = CHILDREN[kind]?.[field];
        if (child && CHILDREN[child]) checkWire(b, pos, pos + len, child, depth + 1);
        pos += len;
        break;
      }
      default: fail(at, `${kind} field ${field}`, `wire type ${wire}`);
    }
    if (pos > end) fail(at, `${kind} field ${field}`, 'truncated field');
  }
}
