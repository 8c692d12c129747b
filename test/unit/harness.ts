// Test harness for the kernels: instantiates a build with an imported memory, a bump allocator
// that writes canary bytes after every buffer, and comparison helpers that return an error
// message instead of throwing, so the same checks run under vitest and in the plain-Node child
// process used for the relaxed-SIMD build (Node 20 needs a flag for it).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WASM = { simd: join(ROOT, 'build', 'kernels.wasm'), relaxed: join(ROOT, 'build', 'kernels-relaxed.wasm') };

/** Builds the Wasm once if a test run starts without it (npm test's pretest normally has). */
export function ensureBuilt(): void {
  if (existsSync(WASM.simd) && existsSync(WASM.relaxed)) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs'), '--quiet'], { cwd: ROOT, stdio: 'inherit' });
}

// Every exported kernel, typed as the runtime binds it: pointers are byte addresses.
export interface Kernels {
  heap_base(): number;
  pack_b_f32(src: number, dst: number, K: number, N: number, ldb: number, transB: number): void;
  pack_b_f32_inplace(p: number, K: number, N: number, visited: number): void;
  pack_b_f32_rows(src: number, dst: number, rows: number, N: number, K: number, k0: number): void;
  pack_b_q8_rows(src: number, dst: number, rows: number, N: number, K: number, k0: number, signed: number, zp: number, zpPerCol: number): number;
  pack_b_i8(src: number, dst: number, K: number, N: number, ldb: number, transB: number, signed: number, zp: number, zpPerCol: number): void;
  pack_a_i8(a: number, lda: number, signed: number, zp: number, zpPerRow: number, ap: number, M: number, K: number): void;
  quantize_pack_a_f32(x: number, ldx: number, ap: number, M: number, K: number, scale: number, zp: number): void;
  quantize_pack_a_rows_f32(x: number, ldx: number, ap: number, M: number, K: number, scales: number, zps: number): void;
  gemm_i16_i32(ap: number, bp: number, c: number, ldc: number, M: number, N: number, K: number): void;
  gemm_i16_dq_f32(ap: number, bp: number, y: number, ldy: number, M: number, N: number, K: number, aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void;
  pack_b_q8(src: number, dst: number, K: number, N: number, ldb: number, transB: number, signed: number, zp: number, zpPerCol: number): number;
  gemv_q8_dq_f32(ap: number, bq: number, y: number, ldy: number, M: number, N: number, K: number, aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void;
  fits_q8(src: number, K: number, N: number, ldb: number, transB: number, signed: number, zp: number, zpPerCol: number): number;
  gemm_q8_i32(ap: number, bq: number, c: number, ldc: number, M: number, N: number, K: number): void;
  gemm_q8_dq_f32(ap: number, bq: number, y: number, ldy: number, M: number, N: number, K: number, aScale: number, wScale: number, bias: number, act: number, actA: number, actB: number, aScales: number): void;
  minmax_f32(x: number, n: number, out: number): void;
  quantize_f32_u8(x: number, y: number, n: number, scale: number, zp: number): void;
  im2row_u8(x: number, dst: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number, pad: number): void;
  pack_a_f32(src: number, lda: number, dst: number, M: number, K: number): void;
  gemm_f32(a: number, lda: number, bp: number, c: number, ldc: number, M: number, N: number, K: number,
    bias: number, biasKind: number, accumulate: number, act: number, alpha: number, beta: number, aPacked?: number): void;
  im2col_packed_f32(x: number, dst: number, C: number, H: number, W: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number): void;
  conv2d_im2col_gemm_f32(x: number, w: number, bias: number, y: number, scratch: number, C: number, H: number, W: number, M: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number,
    ldy: number, act: number, a: number, b: number): void;
  im2col_packed_batch_f32(x: number, dst: number, NB: number, xs: number, C: number, H: number, W: number, kh: number, kw: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number): void;
  conv2d_direct_f32(x: number, w: number, bias: number, y: number, C: number, H: number, W: number, M: number, OH: number, OW: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, act: number, a: number, b: number): void;
  dwconv2d_f32(x: number, w: number, bias: number, y: number, NC: number, C: number, H: number, W: number, OH: number, OW: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, act: number, a: number, b: number): void;
  col2im_f32(cols: number, y: number, M: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, padTop: number, padLeft: number, OH: number, OW: number, bias: number): void;
  unbatch_rows_f32(src: number, dst: number, NB: number, M: number, P: number, ldd: number): void;
  maxpool2d_f32(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, kh: number,
    kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number): void;
  avgpool2d_f32(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, kh: number,
    kw: number, sh: number, sw: number, padTop: number, padLeft: number, padBottom: number, padRight: number,
    countIncludePad: number): void;
  global_avgpool_f32(x: number, y: number, NC: number, HW: number): void;
  global_maxpool_f32(x: number, y: number, NC: number, HW: number): void;
  softmax_f32(x: number, y: number, rows: number, cols: number): void;
  log_softmax_f32(x: number, y: number, rows: number, cols: number): void;
  unary_f32(x: number, y: number, n: number, op: number, a: number, b: number): void;
  binary_f32(a: number, b: number, y: number, op: number, d0: number, d1: number, d2: number, d3: number,
    as0: number, as1: number, as2: number, as3: number, bs0: number, bs1: number, bs2: number, bs3: number): void;
  channel_affine_f32(x: number, y: number, scale: number, shift: number, N: number, C: number, HW: number,
    act: number, a: number, b: number): void;
  layernorm_f32(x: number, y: number, gamma: number, beta: number, rows: number, cols: number, eps: number): void;
  add_layernorm_f32(a: number, b: number, y: number, gamma: number, beta: number, rows: number, cols: number, eps: number): void;
  transpose2d_32(x: number, y: number, rows: number, cols: number): void;
  reduce_f32(x: number, y: number, outer: number, R: number, inner: number, op: number, post: number, scale: number): void;
  compare_f32(a: number, b: number, y: number, op: number, d0: number, d1: number, d2: number, d3: number,
    as0: number, as1: number, as2: number, as3: number, bs0: number, bs1: number, bs2: number, bs3: number): void;
  resize_nearest_32(x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, rows: number, cols: number): void;
  gemv_q4_prep_x(x: number, ldx: number, M: number, K: number, bs: number, xs: number): void;
  gemv_q4_f32(xs: number, M: number, K: number, N: number, bs: number, w: number, scales: number, zp: number, zpKind: number,
    bias: number, y: number, ldy: number, act: number, alpha: number, beta: number): void;
  gemv_q4_prep_x_i8(x: number, ldx: number, M: number, K: number, bs: number, xq: number): void;
  gemv_q4_i8(xq: number, M: number, K: number, N: number, bs: number, w: number, scales: number, zp: number, zpKind: number,
    bias: number, y: number, ldy: number, act: number, alpha: number, beta: number): void;
  q4_group_meta(scales: number, zp: number, zpKind: number, N: number, K: number, bs: number, s4: number, z4: number): void;
  gemv_q4_f32_n4(xs: number, K: number, G: number, bs: number, w: number, s4: number, z4: number, y: number): void;
  gemv_q4_i8_n4(xq: number, K: number, G: number, bs: number, w: number, s4: number, z4: number, y: number): void;
  dequant_q4_panels(w: number, scales: number, zp: number, zpKind: number, K: number, bs: number, n0: number, nc: number, dst: number): void;
  bias_act_rows(y: number, ldy: number, M: number, N: number, bias: number, act: number, alpha: number, beta: number): void;
  q4x_prep_x(x: number, K: number, bs: number, xq: number): void;
  q4x_pack(w: number, N: number, K: number, bs: number, dst: number): void;
  q4x_pack_inplace(w: number, N: number, K: number, bs: number, scratch: number): void;
  q4x_pack_meta(scales: number, zp: number, zpKind: number, N: number, K: number, bs: number, s4: number, z4: number): void;
  gemv_q4x_i8(xq: number, K: number, N: number, bs: number, w: number, s4: number, z4: number, y: number): void;
  gemv_q4x_i8_rows(xq: number, xqStride: number, M: number, K: number, N: number, bs: number, w: number, s4: number, z4: number, y: number, ldy: number): void;
  dequant_q4x_panels(w: number, s4: number, z4: number, K: number, bs: number, n0: number, nc: number, dst: number): void;
  q4x_prep_x16(x: number, K: number, bs: number, xq: number): void;
  gemv_q4x_i16(xq: number, K: number, N: number, bs: number, w: number, s4: number, z4: number, y: number): void;
  gemv_q4x_i16_rows(xq: number, xqStride: number, M: number, K: number, N: number, bs: number, w: number, s4: number, z4: number, y: number, ldy: number): void;
  where_32(c: number, x: number, y: number, o: number, d0: number, d1: number, d2: number, d3: number, cs0: number, cs1: number,
    cs2: number, cs3: number, xs0: number, xs1: number, xs2: number, xs3: number, ys0: number, ys1: number, ys2: number, ys3: number): void;
  attention_f32(q: number, k: number, v: number, mask: number, out: number, scratch: number, B: number, H: number, Sq: number,
    Sk: number, d: number, ldq: number, ldk: number, ldv: number, ldo: number, mb: number, mh: number, mq: number, mk: number, scale: number): void;
  attention_scratch_bytes(Sk: number, d: number): number;
  stft_power_f64(x: number, hop: number, nFrames: number, window: number, N: number, factors: number, nFactors: number,
    tw: number, scratch: number, out: number): void;
  log_mel_norm_f32(x: number, n: number, floor: number, range: number, shift: number, scale: number): void;
  widen_f16_f32(src: number, dst: number, n: number): void;
  convert_i32_f32(src: number, dst: number, n: number): void;
  narrow_f32_f16(src: number, dst: number, n: number): void;
}

const CANARY_BYTES = 64;
const CANARY = 0xa7;

/** A kernel instance over its own memory, with a resettable bump allocator. */
export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly k: Kernels;
  private readonly base: number;
  private top: number;
  private canaries: number[] = [];

  constructor(module: WebAssembly.Module, pages = 1024) {
    this.memory = new WebAssembly.Memory({ initial: pages });
    const inst = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.k = inst.exports as unknown as Kernels;
    this.base = (this.k.heap_base() + 63) & ~63;
    this.top = this.base;
  }

  reset(): void { this.top = this.base; this.canaries = []; }

  /** Allocates n floats (64-byte aligned) followed by canary bytes; contents are NaN-poisoned. */
  alloc(n: number): number {
    const p = this.top;
    const end = p + n * 4;
    if (end + CANARY_BYTES > this.memory.buffer.byteLength) throw new Error('test heap exhausted');
    new Float32Array(this.memory.buffer, p, n).fill(NaN);
    new Uint8Array(this.memory.buffer, end, CANARY_BYTES).fill(CANARY);
    this.canaries.push(end);
    this.top = (end + CANARY_BYTES + 63) & ~63;
    return p;
  }

  put(data: ArrayLike<number>): number {
    const p = this.alloc(data.length);
    new Float32Array(this.memory.buffer, p, data.length).set(data);
    return p;
  }

  get(p: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, p, n).slice(); }

  /** int8 (signed) or uint8 values, one byte each, in a block of their own (int8 weights). */
  putBytes(data: ArrayLike<number>, signed: boolean): number {
    const p = this.alloc(Math.ceil(data.length / 4) + 1);
    (signed ? new Int8Array(this.memory.buffer, p, data.length) : new Uint8Array(this.memory.buffer, p, data.length)).set(data);
    return p;
  }

  /** Error message if any canary byte after any buffer was overwritten. */
  checkCanaries(): string | null {
    const u8 = new Uint8Array(this.memory.buffer);
    for (const c of this.canaries)
      for (let i = 0; i < CANARY_BYTES; i++)
        if (u8[c + i] !== CANARY) return `canary overwritten at byte ${i} after buffer ending at ${c}`;
    return null;
  }
}

const modules = new Map<string, WebAssembly.Module>();
export function loadModule(file: string): WebAssembly.Module {
  let m = modules.get(file);
  if (!m) { m = new WebAssembly.Module(readFileSync(file)); modules.set(file, m); }
  return m;
}

/** Deterministic PRNG (mulberry32, shared with the .mjs generators) so failures reproduce. */
export { rng } from '../../scripts/rng.mjs';

export function randArray(n: number, r: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export interface Tol { rtol: number; atol: number; }

/**
 * First mismatch as a message, or null. Element i passes if |got − want| ≤ atol + rtol·(|want| or
 * mag[i] when a magnitude is given, e.g. Σ|a·b| for a dot product whose sum cancels). NaN must
 * match NaN, infinities must match exactly.
 */
export function compare(got: Float32Array, want: ArrayLike<number>, tol: Tol, mag?: ArrayLike<number>): string | null {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      return `[${i}] got ${g}, want ${w}`;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g === w) continue;
      return `[${i}] got ${g}, want ${w}`;
    }
    const scale = mag ? Math.max(mag[i], Math.abs(w)) : Math.abs(w);
    if (Math.abs(g - w) > tol.atol + tol.rtol * scale) return `[${i}] got ${g}, want ${w} (|Δ|=${Math.abs(g - w).toExponential(2)})`;
  }
  return null;
}
