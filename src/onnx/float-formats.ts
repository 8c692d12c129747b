/**
 * The small float and integer formats ONNX stores, as pure bit ↔ number conversions: float16,
 * bfloat16, the four float8 formats, float4e2m1, and the clamping sub-byte integers (int4, uint4,
 * int2, uint2). Values live in tessera as their bits (Uint16Array / Uint8Array, one element per
 * array slot); compute happens in float32 or float64 after widening with these.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round-to-nearest-even float → half bits, as numpy and onnxruntime do. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** bfloat16 is the top half of a float32. */
export function bfloat16ToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** Round-to-nearest-even float → bfloat16 bits; NaN stays a (quiet) NaN. */
export function floatToBfloat16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if (Number.isNaN(f32[0])) return ((x >>> 16) & 0x8000) | 0x7fc0;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

/**
 * A minifloat: sign, `exp` exponent bits, `man` mantissa bits. `fn`: no infinities, the all-ones
 * pattern is NaN; `uz`: no negative zero, 0x80 is the only NaN.
 */
interface MiniFloat {
  exp: number;
  man: number;
  bias: number;
  /** Has IEEE infinities and NaNs at the top exponent. */
  ieee: boolean;
  /** 0x80 (sign bit alone) is NaN and there is no -0. */
  uz: boolean;
  /** Where NaN goes when the format has none (float4e2m1): the largest magnitude. */
  noNaN?: boolean;
}

const FORMATS = {
  float8e4m3fn: { exp: 4, man: 3, bias: 7, ieee: false, uz: false },
  float8e4m3fnuz: { exp: 4, man: 3, bias: 8, ieee: false, uz: true },
  float8e5m2: { exp: 5, man: 2, bias: 15, ieee: true, uz: false },
  float8e5m2fnuz: { exp: 5, man: 2, bias: 16, ieee: false, uz: true },
  float4e2m1: { exp: 2, man: 1, bias: 1, ieee: false, uz: false, noNaN: true },
} satisfies Record<string, MiniFloat>;

export type MiniFloatType = keyof typeof FORMATS;

interface Codec {
  /** Bits → value, for every code. */
  decode: Float32Array;
  /** Non-negative finite values in code order (code i has magnitude `magnitudes[i]`). */
  magnitudes: number[];
  signBit: number;
  nan: number;
  /** The bits of +infinity, when the format has one. */
  inf: number | undefined;
  f: MiniFloat;
}

const codecs = new Map<MiniFloatType, Codec>();

function codec(type: MiniFloatType): Codec {
  let c = codecs.get(type);
  if (c) return c;
  const f: MiniFloat = FORMATS[type];
  const bits = 1 + f.exp + f.man, signBit = 1 << (bits - 1), topExp = (1 << f.exp) - 1;
  const decode = new Float32Array(1 << bits);
  const magnitudes: number[] = [];
  for (let code = 0; code < 1 << bits; code++) {
    const neg = (code & signBit) !== 0, e = (code >> f.man) & topExp, m = code & ((1 << f.man) - 1);
    let v: number;
    if (f.uz && code === signBit) v = NaN;
    else if (f.ieee && e === topExp) v = m ? NaN : Infinity;
    else if (!f.ieee && !f.uz && !f.noNaN && e === topExp && m === (1 << f.man) - 1) v = NaN;
    else v = e === 0 ? m * 2 ** (1 - f.bias - f.man) : (1 + m / (1 << f.man)) * 2 ** (e - f.bias);
    decode[code] = neg ? -v : v;
    if (!neg && Number.isFinite(v)) magnitudes.push(v);
  }
  // The NaN ONNX writes: 0x80 for uz formats, 0x7f for e4m3fn, 0x7e for e5m2 (a quiet NaN), and
  // float4e2m1, which has none, takes -0's pattern.
  const nan = f.uz || f.noNaN ? signBit : f.ieee ? (topExp << f.man) | (1 << (f.man - 1)) : signBit - 1;
  c = { decode, magnitudes, signBit, nan, inf: f.ieee ? topExp << f.man : undefined, f };
  codecs.set(type, c);
  return c;
}

export function miniFloatToFloat(type: MiniFloatType, bits: number): number {
  return codec(type).decode[bits & (codec(type).decode.length - 1)]!;
}

/**
 * Round-to-nearest-even float → minifloat bits, as ONNX's Cast. `saturate` (ONNX's default)
 * clamps out-of-range values and infinities to the largest finite value; without it they become
 * infinity where the format has one and NaN otherwise. float4e2m1 always saturates.
 */
export function floatToMiniFloat(type: MiniFloatType, v: number, saturate = true): number {
  const c = codec(type);
  const { magnitudes: mags, signBit } = c;
  if (Number.isNaN(v)) return c.nan;
  f32[0] = v;
  v = f32[0]!; // Cast rounds from the float32 value
  const sign = u32[0]! >>> 31 ? signBit : 0;
  const a = Math.abs(v);
  const max = mags[mags.length - 1]!, top = mags.length - 1;
  const overflow = (): number => {
    if (saturate || c.f.noNaN) return sign | top;
    return c.inf !== undefined ? sign | c.inf : c.f.uz ? c.nan : sign | c.nan;
  };
  if (a === Infinity) return overflow();
  let code: number;
  if (a >= max) {
    // One step above the largest finite value: halfway rounds to even like any other step.
    const step = max - mags[top - 1]!;
    const mid = max + step / 2;
    code = a < mid || (a === mid && (top & 1) === 0) ? top : -1;
  } else {
    let lo = 0, hi = top;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (mags[mid]! <= a) lo = mid; else hi = mid;
    }
    const dl = a - mags[lo]!, dh = mags[hi]! - a;
    code = dl < dh ? lo : dh < dl ? hi : (lo & 1) === 0 ? lo : hi;
  }
  if (code < 0) return overflow();
  // The uz formats have no negative zero.
  if (code === 0 && c.f.uz) return 0;
  return sign | code;
}

/** float8e8m0: an exponent only (a power-of-two scale), 2^(bits − 127); 0xff is NaN. */
export function e8m0ToFloat(bits: number): number {
  return (bits & 0xff) === 0xff ? NaN : 2 ** ((bits & 0xff) - 127);
}

export type E8M0RoundMode = 'up' | 'down' | 'nearest';

/**
 * float → float8e8m0 as ONNX's Cast: the sign is dropped, the power of two is chosen by
 * `round_mode` ('up', the default: the smallest power ≥ |x|; 'down'; 'nearest', halfway up), and
 * what falls outside [2^-127, 2^127] clamps, or (without `saturate`) overflows to NaN.
 */
export function floatToE8M0(v: number, saturate = true, roundMode: E8M0RoundMode = 'up'): number {
  if (Number.isNaN(v)) return 0xff;
  f32[0] = Math.abs(v);
  const a = f32[0]!;
  if (a === Infinity) return saturate ? 0xfe : 0xff;
  if (a === 0) return 0;
  const bits = u32[0]!, exp = bits >>> 23, mant = bits & 0x7fffff;
  // floor(log2 a) and where a sits between 2^e and 2^(e+1) (a fraction in [0, 1)).
  let e: number, frac: number;
  if (exp === 0) {
    e = Math.floor(Math.log2(mant)) - 149;
    frac = mant / 2 ** (e + 149) - 1;
  } else {
    e = exp - 127;
    frac = mant / 0x800000;
  }
  let code = e + 127;
  if (frac > 0 && (roundMode === 'up' || (roundMode === 'nearest' && frac >= 0.5))) code++;
  if (code < 0) return 0;
  if (code > 0xfe) return saturate ? 0xfe : 0xff;
  return code;
}

export type SubByteIntType = 'int4' | 'uint4' | 'int2' | 'uint2';

export const SUB_BYTE_RANGE: Record<SubByteIntType, [number, number]> = {
  int4: [-8, 7], uint4: [0, 15], int2: [-2, 1], uint2: [0, 3],
};

/**
 * number → int4/uint4/int2/uint2 as ONNX's Cast does for every integer target: truncate toward
 * zero, then wrap to the width (two's complement), like int8.
 */
export function floatToSubByteInt(type: SubByteIntType, v: number): number {
  if (!Number.isFinite(v)) return 0;
  const [lo, hi] = SUB_BYTE_RANGE[type];
  const span = hi - lo + 1;
  const t = Math.trunc(v);
  return ((((t - lo) % span) + span) % span) + lo;
}

/** Bits per element of the formats packed several to a byte in ONNX files. */
export function packedBits(type: string): number | undefined {
  if (type === 'int4' || type === 'uint4' || type === 'float4e2m1') return 4;
  if (type === 'int2' || type === 'uint2') return 2;
  return undefined;
}

/**
 * Unpacks `n` sub-byte elements (low bits first, as ONNX stores them) into one per byte;
 * signed types are sign-extended.
 */
export function unpackSubByte(bytes: ArrayLike<number>, n: number, bits: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  const per = 8 / bits, mask = (1 << bits) - 1, shiftBack = 32 - bits;
  for (let i = 0; i < n; i++) {
    const v = (bytes[(i / per) | 0]! >> ((i % per) * bits)) & mask;
    out[i] = signed ? (v << shiftBack) >> shiftBack : v;
  }
  return out;
}

/** The inverse of unpackSubByte: ceil(n · bits / 8) bytes. */
export function packSubByte(values: ArrayLike<number>, bits: number): Uint8Array {
  const per = 8 / bits, mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / per));
  for (let i = 0; i < values.length; i++) out[(i / per) | 0]! |= (values[i]! & mask) << ((i % per) * bits);
  return out;
}
