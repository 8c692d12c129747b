/** Builds the OpContext a node's `prepare` sees. */
import { TesseraError, describeNode } from '../api/errors.js';
import type { Node } from '../graph/ir.js';
import { Attrs } from '../ops/attrs.js';
import type { InputInfo, OpContext, OpDef } from '../ops/types.js';

export function makeContext(node: Node, def: OpDef, opset: number, inputs: (InputInfo | undefined)[], threads = 1,
  memory: 'default' | 'low' = 'default'): OpContext {
  const allowed = def.attributes;
  for (const name of node.attributes.keys()) {
    if (!allowed.includes(name)) {
      throw new TesseraError('INVALID_ATTRIBUTE',
        `${describeNode(node)}: attribute '${name}' is not supported by tessera's ${node.opType} (opset ${opset}; it understands ${allowed.length ? allowed.join(', ') : 'no attributes'})`);
    }
  }
  const fail = (message: string, code: TesseraError['code'] = 'INVALID_MODEL'): never => {
    throw new TesseraError(code, `${describeNode(node)}: ${message}`);
  };
  return {
    node,
    opset,
    inputs,
    threads,
    memory,
    attrs: new Attrs(node),
    input(i: number): InputInfo {
      const x = inputs[i];
      if (!x) fail(`input ${i} is required but missing`);
      return x!;
    },
    fail,
  };
}

/** Input info whose `value` is read lazily (only ops that need a constant's contents pay for it). */
export function inputInfo(name: string, dtype: InputInfo['dtype'], dims: number[], read?: () => InputInfo['value'], constant = false): InputInfo {
  let cached: InputInfo['value'];
  let done = false;
  return {
    name,
    dtype,
    dims,
    constant,
    get value() {
      if (!read) return undefined;
      if (!done) { cached = read(); done = true; }
      return cached;
    },
  };
}
