/**
 * The optimizer update ops of ai.onnx.preview.training (Adagrad, Momentum, Adam): one step of the
 * update rule over any number of tensors, element-wise in float64. Inference engines rarely need
 * them, but they are plain arithmetic and ONNX tests them.
 */
import { shapeSize } from '../../api/tensor.js';
import type { OpContext, OpDef, Prepared } from '../types.js';
import { requireDtype } from '../util.js';

const DOMAIN = 'ai.onnx.preview.training';

/**
 * Inputs R, T, then `groups` runs of n tensors each (X…, G…, state…); outputs the X run and every
 * state run. `step(r, t, x, g, states)` updates `states` in place and returns the new x.
 */
function optimizer(ctx: OpContext, groups: number, step: (r: number, t: number, x: number, g: number, s: number[]) => number): Prepared {
  const count = ctx.inputs.length - 2;
  if (count <= 0 || count % groups !== 0) ctx.fail(`expects R, T and ${groups} equally long runs of tensors, got ${ctx.inputs.length} inputs`);
  const n = count / groups;
  if (ctx.node.outputs.length !== n * (groups - 1)) ctx.fail(`expects ${n * (groups - 1)} outputs, got ${ctx.node.outputs.length}`);
  const ins = Array.from({ length: count }, (_, i) => ctx.input(2 + i));
  ins.forEach((x, i) => {
    requireDtype(ctx, 2 + i, ['float32', 'float64']);
    if (x.dims.join() !== ins[i % n]!.dims.join()) ctx.fail(`input ${2 + i} ('${x.name}') has shape [${x.dims}], expected [${ins[i % n]!.dims}]`, 'SHAPE_MISMATCH');
  });
  // Outputs: X_new for every tensor, then each state run (skipping G).
  const outputs = [...ins.slice(0, n), ...ins.slice(2 * n)].map((x) => ({ dtype: x.dtype, dims: [...x.dims] }));
  return {
    outputs,
    build: (bd) => {
      const vr = bd.view(ctx.input(0).dtype, bd.inputs[0]!, 1), vt = bd.view(ctx.input(1).dtype, bd.inputs[1]!, 1);
      const vin = ins.map((x, i) => bd.view(x.dtype, bd.inputs[2 + i]!, shapeSize(x.dims)));
      const vout = outputs.map((o, i) => bd.view(o.dtype, bd.outputs[i]!, shapeSize(o.dims)));
      const states = new Array<number>(groups - 2).fill(0);
      return () => {
        const r = Number(vr()[0]), t = Number(vt()[0]);
        for (let k = 0; k < n; k++) {
          const X = vin[k]!(), G = vin[n + k]!(), Xo = vout[k]!();
          const S = states.map((_, j) => vin[(2 + j) * n + k]!()), So = states.map((_, j) => vout[(1 + j) * n + k]!());
          for (let i = 0; i < X.length; i++) {
            for (let j = 0; j < states.length; j++) states[j] = S[j]![i] as number;
            Xo[i] = step(r, t, X[i] as number, G[i] as number, states);
            for (let j = 0; j < states.length; j++) So[j]![i] = states[j]!;
          }
        }
      };
    },
  };
}

const adagrad: OpDef = {
  opType: 'Adagrad', domain: DOMAIN, since: 1, attributes: ['decay_factor', 'epsilon', 'norm_coefficient'],
  prepare(ctx) {
    const decay = ctx.attrs.float('decay_factor', 0), eps = ctx.attrs.float('epsilon', 0), norm = ctx.attrs.float('norm_coefficient', 0);
    return optimizer(ctx, 3, (r, t, x, g, s) => {
      const rate = r / (1 + t * decay), gr = norm * x + g;
      s[0] = s[0]! + gr * gr;
      return x - (rate * gr) / (Math.sqrt(s[0]) + eps);
    });
  },
};

const momentum: OpDef = {
  opType: 'Momentum', domain: DOMAIN, since: 1, attributes: ['alpha', 'beta', 'mode', 'norm_coefficient'],
  prepare(ctx) {
    for (const a of ['alpha', 'beta', 'norm_coefficient']) if (!ctx.attrs.has(a)) throw ctx.attrs.error(a, 'is required');
    const alpha = ctx.attrs.float('alpha', 0), beta = ctx.attrs.float('beta', 0), norm = ctx.attrs.float('norm_coefficient', 0);
    const mode = ctx.attrs.oneOf('mode', ['standard', 'nesterov'], 'standard');
    return optimizer(ctx, 3, (r, t, x, g, s) => {
      const gr = norm * x + g;
      s[0] = alpha * s[0]! + (t > 0 ? beta : 1) * gr;
      return mode === 'standard' ? x - r * s[0] : x - r * (gr + alpha * s[0]);
    });
  },
};

const adam: OpDef = {
  opType: 'Adam', domain: DOMAIN, since: 1, attributes: ['alpha', 'beta', 'epsilon', 'norm_coefficient', 'norm_coefficient_post'],
  prepare(ctx) {
    const a = ctx.attrs;
    const alpha = a.float('alpha', 0.9), beta = a.float('beta', 0.999), eps = a.float('epsilon', 1e-6);
    const norm = a.float('norm_coefficient', 0), post = a.float('norm_coefficient_post', 0);
    return optimizer(ctx, 4, (r, t, x, g, s) => {
      const gr = norm * x + g;
      s[0] = alpha * s[0]! + (1 - alpha) * gr;
      s[1] = beta * s[1]! + (1 - beta) * gr * gr;
      const rate = t > 0 ? (r * Math.sqrt(1 - beta ** t)) / (1 - alpha ** t) : r;
      return (1 - post) * (x - (rate * s[0]) / (Math.sqrt(s[1]) + eps));
    });
  },
};

export const trainingOps: OpDef[] = [adagrad, momentum, adam];
