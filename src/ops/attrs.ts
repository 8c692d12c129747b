/** Typed, validated access to a node's attributes. */
import { TesseraError, describeNode } from '../api/errors.js';
import type { AttributeValue, ConstTensor, Graph, Node } from '../graph/ir.js';

export class Attrs {
  constructor(private readonly node: Node) {}

  has(name: string): boolean { return this.node.attributes.has(name); }

  private get<T extends AttributeValue['type']>(name: string, type: T): Extract<AttributeValue, { type: T }>['value'] | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return undefined;
    // Older exporters write an int where a float is expected; accept that one widening.
    if (a.type !== type && !(type === 'float' && a.type === 'int')) {
      throw this.error(name, `must be of type ${type}, got ${a.type}`);
    }
    return a.value as never;
  }

  int(name: string, fallback: number): number { return this.get(name, 'int') ?? fallback; }
  intOpt(name: string): number | undefined { return this.get(name, 'int'); }
  float(name: string, fallback: number): number { return this.get(name, 'float') ?? fallback; }
  floatOpt(name: string): number | undefined { return this.get(name, 'float'); }
  string(name: string, fallback: string): string { return this.get(name, 'string') ?? fallback; }
  ints(name: string): number[] | undefined { return this.get(name, 'ints'); }
  floats(name: string): number[] | undefined { return this.get(name, 'floats'); }
  strings(name: string): string[] | undefined { return this.get(name, 'strings'); }
  tensor(name: string): ConstTensor | undefined { return this.get(name, 'tensor'); }
  graph(name: string): Graph | undefined { return this.get(name, 'graph'); }

  /** One of a fixed set of string values, or an error naming the attribute and the choices. */
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const v = this.string(name, fallback);
    if (!(choices as readonly string[]).includes(v)) {
      throw this.error(name, `value '${v}' is not supported (expected one of ${choices.map((c) => `'${c}'`).join(', ')})`);
    }
    return v as T;
  }

  error(name: string, what: string): TesseraError {
    return new TesseraError('INVALID_ATTRIBUTE', `${describeNode(this.node)}: attribute '${name}' ${what}`);
  }
}
