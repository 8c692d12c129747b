/**
 * The operator registry: op definitions gathered from each family's exported list (no import side
 * effects), looked up by domain, type and the model's opset.
 */
import { TesseraError, describeNode } from '../api/errors.js';
import type { Node } from '../graph/ir.js';
import type { OpDef } from './types.js';
import { withWidening } from './widen.js';

export class OpRegistry {
  private readonly byKey = new Map<string, OpDef[]>();

  constructor(defs: readonly OpDef[]) {
    for (const d of defs) {
      const key = `${d.domain ?? ''}:${d.opType}`;
      const list = this.byKey.get(key) ?? [];
      list.push(d);
      list.sort((a, b) => b.since - a.since);
      this.byKey.set(key, list);
    }
  }

  /** The newest definition whose `since` is at most the model's opset for the op's domain. */
  find(node: Node, opsets: ReadonlyMap<string, number>): { def: OpDef; opset: number } | string {
    const list = this.byKey.get(`${node.domain}:${node.opType}`);
    if (!list) {
      return node.domain ? `op ${node.domain}.${node.opType} is not supported (domain '${node.domain}')` : `op ${node.opType} is not supported`;
    }
    const opset = opsets.get(node.domain);
    if (opset === undefined) return `the model imports no opset for domain '${node.domain}'`;
    const def = list.find((d) => d.since <= opset);
    if (!def) return `op ${node.opType} at opset ${opset} is not supported (tessera implements it from opset ${list[list.length - 1]!.since})`;
    return { def: withWidening(def), opset };
  }

  /** Every node must be runnable: one error listing all that are not, at create time. */
  check(nodes: readonly Node[], opsets: ReadonlyMap<string, number>): void {
    const problems: string[] = [];
    for (const n of nodes) {
      const found = this.find(n, opsets);
      if (typeof found === 'string') {
        problems.push(`${describeNode(n)}: ${found}`);
        continue;
      }
      for (const a of n.attributes.keys()) {
        if (!found.def.attributes.includes(a)) {
          throw new TesseraError('INVALID_ATTRIBUTE',
            `${describeNode(n)}: attribute '${a}' is not supported by tessera's ${n.opType} (it understands ${found.def.attributes.join(', ') || 'no attributes'})`);
        }
      }
    }
    if (problems.length) {
      const shown = problems.slice(0, 20).join('\n  ');
      const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
      throw new TesseraError('UNSUPPORTED_OP', `The model uses operators tessera cannot run:\n  ${shown}${more}\n`
        + 'The operators and opsets tessera supports are listed by supportedOps() and in docs/operators.md; '
        + '`npx tessera inspect model.onnx` lists every node it cannot run.');
    }
  }

  opTypes(): string[] {
    return [...this.byKey.keys()].map((k) => k.replace(/^:/, '')).sort();
  }
}
