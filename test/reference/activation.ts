// Scalar float64 references for the activation codes and unary ops (never shipped). They define
// the semantics the kernels approximate in f32.

export const ACT = {
  none: 0, relu: 1, clip: 2, leaky_relu: 3, hard_sigmoid: 4, hard_swish: 5, sigmoid: 6, tanh: 7,
  gelu: 8, gelu_tanh: 9, elu: 10, selu: 11, softplus: 12, mish: 13, silu: 14,
} as const;

export const UNARY = {
  exp: 20, log: 21, sqrt: 22, neg: 23, abs: 24, reciprocal: 25, floor: 26, ceil: 27, round: 28,
  erf: 29, sin: 30, cos: 31, sign: 32, softsign: 33, pow_scalar: 34, affine: 35,
} as const;

/** Typical parameters per code, so every test exercises non-trivial a/b. */
export const ACT_PARAMS: Record<number, [number, number]> = {
  2: [-0.5, 0.75], 3: [0.1, 0], 4: [0.2, 0.5], 10: [1.3, 0], 11: [1.6732632423543772, 1.0507009873554805],
};

/** erf in float64: Maclaurin series below 3, continued fraction for erfc above. */
export function erf(x: number): number {
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let s = 0, p = t;
    for (let n = 0; n < 100; n++) { s += p / (2 * n + 1); p *= (-t * t) / (n + 1); }
    r = (s * 2) / Math.sqrt(Math.PI);
  } else {
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return x < 0 ? -r : r;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export function act(x: number, code: number, a = 0, b = 0): number {
  switch (code) {
    case 0: return x;
    case 1: return Math.max(x, 0);
    case 2: return Math.min(Math.max(x, a), b);
    case 3: return x < 0 ? a * x : x;
    case 4: return Math.max(0, Math.min(1, a * x + b));
    case 5: return x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 6: return sigmoid(x);
    case 7: return Math.tanh(x);
    case 8: return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 9: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 10: return x > 0 ? x : a * Math.expm1(x);
    case 11: return b * (x > 0 ? x : a * Math.expm1(x));
    case 12: return softplus(x);
    case 13: return x * Math.tanh(softplus(x));
    case 14: return x * sigmoid(x);
  }
  throw new Error(`unknown activation ${code}`);
}

/** Round half to even, as ONNX Round. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function unary(x: number, op: number, a = 0, b = 0): number {
  if (op < 20) return act(x, op, a, b);
  switch (op) {
    case 20: return Math.exp(x);
    case 21: return Math.log(x);
    case 22: return Math.sqrt(x);
    case 23: return -x;
    case 24: return Math.abs(x);
    case 25: return 1 / x;
    case 26: return Math.floor(x);
    case 27: return Math.ceil(x);
    case 28: return roundEven(x);
    case 29: return erf(x);
    case 30: return Math.sin(x);
    case 31: return Math.cos(x);
    case 32: return Number.isNaN(x) ? NaN : Math.sign(x);
    case 33: return x / (1 + Math.abs(x));
    case 34: return Math.pow(x, a);
    case 35: return a * x + b;
  }
  throw new Error(`unknown unary op ${op}`);
}

/** Upper bound of |d act/dx| near typical inputs: how much an input error can grow. */
export function actGain(code: number, a: number, b: number): number {
  return 1.2 * Math.max(1, Math.abs(a), Math.abs(b), Math.abs(a * b));
}
