/** Orders nodes so every input is produced before it is read; exporters do not always do so. */
import { TesseraError, describeNode } from '../api/errors.js';
import type { Node } from '../graph/ir.js';

export function topologicalOrder(nodes: readonly Node[], available: ReadonlySet<string>): Node[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => { if (o !== '') producer.set(o, i); }));
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 done
  const order: Node[] = [];
  // Iterative DFS: a deep chain (thousands of nodes) must not overflow the JS stack.
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [i, next] = top;
      const node = nodes[i]!;
      if (next < node.inputs.length) {
        top[1]++;
        const name = node.inputs[next]!;
        if (name === '' || available.has(name)) continue;
        const p = producer.get(name);
        if (p === undefined) {
          throw new TesseraError('INVALID_MODEL', `${describeNode(node)}: input '${name}' is not produced by any node, graph input or initializer`);
        }
        if (state[p] === 1) throw new TesseraError('INVALID_MODEL', `The graph has a cycle through ${describeNode(nodes[p]!)} (value '${name}')`);
        if (state[p] === 0) { state[p] = 1; stack.push([p, 0]); }
      } else {
        state[i] = 2;
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}
