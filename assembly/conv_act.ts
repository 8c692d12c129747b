// The convolution kernels' activation epilogue. act_f32x4 is one shared out-of-line function, and
// a call per output vector costs more than a 3×3 depthwise window itself (V8 spills every live
// v128 around a call): the cheap activations a conv net fuses (none, ReLU, Clip/ReLU6,
// HardSwish, HardSigmoid, LeakyReLU) are expanded inline here, the rest still go through it.
import { ACT_CLIP, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_LEAKY_RELU, ACT_NONE, ACT_RELU, act_f32x4, madd } from './activation';

// @ts-ignore: decorator
@inline export function conv_act_f32x4(v: v128, act: i32, a: f32, b: f32): v128 {
  if (act == ACT_NONE) return v;
  const zero = f32x4.splat(0);
  if (act == ACT_RELU) return f32x4.max(v, zero);
  if (act == ACT_CLIP) return f32x4.min(f32x4.max(v, f32x4.splat(a)), f32x4.splat(b));
  if (act == ACT_HARD_SWISH) {
    const h = f32x4.min(f32x4.max(madd(v, f32x4.splat(<f32>(1.0 / 6.0)), f32x4.splat(0.5)), zero), f32x4.splat(1));
    return f32x4.mul(v, h);
  }
  if (act == ACT_HARD_SIGMOID) return f32x4.min(f32x4.max(madd(v, f32x4.splat(a), f32x4.splat(b)), zero), f32x4.splat(1));
  if (act == ACT_LEAKY_RELU) return v128.bitselect(f32x4.mul(v, f32x4.splat(a)), v, f32x4.lt(v, zero));
  return act_f32x4(v, act, a, b);
}
