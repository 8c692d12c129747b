/**
 * Runs plans: copy the feeds into their arena slots, call every step, copy the outputs out. One
 * arena per session, sized for the largest plan so far; plans are cached by input shape.
 */
import { TesseraError } from '../api/errors.js';
import { Tensor, type TensorType, shapeSize } from '../api/tensor.js';
import type { Engine } from '../runtime/engine.js';
import { copyOut, viewOf } from '../runtime/memory.js';
import type { LoadedGraph } from './load.js';
import { type Plan, type PlanFeed, createPlan } from './plan.js';

const MAX_CACHED_PLANS = 8;
const MAX_VALUE_DEP_SHAPES = 256;

export class Executor {
  private readonly plans = new Map<string, Plan>();
  /** Shapes whose plans depend on feed values, and which feeds those are. */
  private readonly valueDeps = new Map<string, number[]>();
  private arena = { ptr: 0, bytes: 0 };
  /** Plans made so far (text generation checks that decoding does not re-plan per token). */
  plansMade = 0;

  constructor(private readonly graph: LoadedGraph, private readonly engine: Engine) {}

  /** The plan for these input shapes, from the cache or made now. */
  planFor(feeds: readonly PlanFeed[]): Plan {
    const shapeKey = feeds.map((f) => `${f.dtype}[${f.dims.join(',')}]`).join(';');
    const deps = this.valueDeps.get(shapeKey);
    let key = deps ? valueKey(shapeKey, feeds, deps) : shapeKey;
    let plan = this.plans.get(key);
    if (plan) {
      // Refresh its place in the LRU order.
      this.plans.delete(key);
      this.plans.set(key, plan);
      return plan;
    }
    plan = createPlan(this.graph, this.engine, feeds);
    this.plansMade++;
    if (plan.valueDeps.length) {
      // Bounded like the plans: a long life of ever-new shapes must not grow this map forever.
      if (this.valueDeps.size >= MAX_VALUE_DEP_SHAPES) this.valueDeps.delete(this.valueDeps.keys().next().value!);
      this.valueDeps.set(shapeKey, plan.valueDeps);
      key = valueKey(shapeKey, feeds, plan.valueDeps);
    }
    this.plans.set(key, plan);
    if (this.plans.size > MAX_CACHED_PLANS) {
      const [oldKey, old] = this.plans.entries().next().value as [string, Plan];
      this.plans.delete(oldKey);
      old.release(this.engine);
    }
    return plan;
  }

  /**
   * Builds a plan's steps without running them: what its first run would pay once (weights packed
   * into persistent blocks, caches allocated) is paid now.
   */
  build(plan: Plan): void {
    plan.stepsAt(this.engine, this.ensureArena(plan.arenaBytes));
  }

  /**
   * Runs a plan; with `timings`, also records each step's wall time in milliseconds. `into[i]`, when
   * given, is a Tensor that output i is written into (and returned) instead of a new one. With
   * `wanted`, only the outputs it marks are copied out (the others come back undefined): a run that
   * fetches a subset pays for no other output's copy.
   */
  run(plan: Plan, feeds: readonly Tensor[], timings?: number[], into?: readonly (Tensor | undefined)[], wanted?: readonly boolean[]): (Tensor | undefined)[] {
    const base = this.ensureArena(plan.arenaBytes);
    const memory = this.engine.memory;
    plan.inputs.forEach((io, i) => {
      const t = feeds[i]!;
      if (t.size === 0 || io.dtype === 'string') return; // strings stay in JS: string ops read them at plan time
      viewOf(memory, io.dtype, plan.inputAddress(i, base), t.size).set(t.data as never);
    });
    const steps = plan.stepsAt(this.engine, base);
    if (timings) {
      for (const step of steps) {
        const t = performance.now();
        step();
        timings.push(performance.now() - t);
      }
    } else {
      for (const step of steps) step();
    }
    return plan.outputs.map((o, i) => {
      if (wanted && !wanted[i]) return undefined;
      const target = into?.[i];
      if (target) return copyInto(target, o.name, o.dtype, o.dims, memory, plan.address(o.ref, base));
      if (o.dtype === 'string') {
        if (o.ref.kind !== 'const' || !o.ref.c.strings) throw new TesseraError('INTERNAL', `string output '${o.name}' is not constant`);
        return new Tensor('string', o.ref.c.strings.slice(), o.dims);
      }
      const n = shapeSize(o.dims);
      const data = n === 0 ? viewOf(memory, o.dtype, 0, 0).slice() : copyOut(memory, o.dtype, plan.address(o.ref, base), n);
      return new Tensor(o.dtype as Exclude<TensorType, 'string'>, data as never, o.dims);
    });
  }

  private ensureArena(bytes: number): number {
    if (bytes <= this.arena.bytes) return this.arena.ptr;
    if (this.arena.bytes) this.engine.heap.release(this.arena.ptr);
    this.arena = { ptr: this.engine.heap.alloc(bytes, 'the activation arena'), bytes };
    return this.arena.ptr;
  }

  release(): void {
    for (const p of this.plans.values()) p.release(this.engine);
    this.plans.clear();
  }
}

/** An output written into the caller's Tensor, which must have its type and dims. */
function copyInto(t: Tensor, name: string, dtype: string, dims: readonly number[], memory: WebAssembly.Memory, ptr: number): Tensor {
  if (dtype === 'string') throw new TesseraError('INVALID_ARGUMENT', `fetches['${name}']: string outputs are returned as new tensors; pass null`);
  if (t.type !== dtype || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new TesseraError('INVALID_ARGUMENT', `fetches['${name}'] is ${t.type} [${t.dims}], but this run's output is ${dtype} [${dims}]`);
  }
  const n = shapeSize(dims);
  if (n > 0) (t.data as Float32Array).set(viewOf(memory, dtype as never, ptr, n) as Float32Array);
  return t;
}

function valueKey(shapeKey: string, feeds: readonly PlanFeed[], deps: readonly number[]): string {
  // Strings may hold the separators themselves: JSON keeps ['a,b'] and ['a', 'b'] apart.
  const text = (d: PlanFeed['data']) => (Array.isArray(d) ? JSON.stringify(d) : Array.from(d as ArrayLike<unknown>, String).join(','));
  return `${shapeKey}|${deps.map((i) => text(feeds[i]!.data)).join('|')}`;
}
