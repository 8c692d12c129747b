// int32 → float32 for whole arrays: the Cast after ConvInteger / MatMulInteger in dynamically
// quantized exports (Whisper's int8 conv stems: 384–512 channels × 3,000 positions per window),
// which a per-element JavaScript loop took ~10 ms a window for. f32x4.convert_i32x4_s rounds to
// nearest even, as JavaScript's store of an int32 into a Float32Array does: the same values.
export function convert_i32_f32(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.convert_i32x4_s(v128.load(src + o)));
    v128.store(dst + o, f32x4.convert_i32x4_s(v128.load(src + o, 16)), 16);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<i32>(src + (<usize>i << 2)));
}
