// ConvTranspose lowering: the GEMM cols = Wᵀ·X gives, for every output channel m and kernel tap
// (i, j), the contribution of each input pixel; col2im scatters those rows into the output.

// y[m] = bias[m] (0 when bias is 0), then y[m, ih·sh − padTop + i·dh, iw·sw − padLeft + j·dw] +=
// cols[(m·kh + i)·kw + j, ih·W + iw] for taps that land inside the OH×OW output (the rest are
// cropped by the pads). cols is (M·kh·kw) × (H·W) row-major.
export function col2im_f32(cols: usize, y: usize, M: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32, bias: usize): void {
  const plane = <usize>OH * <usize>OW;
  const swB = <usize>sw << 2;
  let c = cols;
  for (let m = 0; m < M; m++) {
    const ym = y + ((<usize>m * plane) << 2);
    const b = f32x4.splat(bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0);
    let p: usize = 0;
    for (; p + 4 <= plane; p += 4) v128.store(ym + (p << 2), b);
    for (; p < plane; p++) store<f32>(ym + (p << 2), f32x4.extract_lane(b, 0));
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const ow0 = j * dw - padLeft;
        // Input columns whose tap lands inside the output row: iw ∈ [lo, hi).
        let lo = 0;
        if (ow0 < 0) lo = (-ow0 + sw - 1) / sw;
        let hi = W;
        if (ow0 + (W - 1) * sw >= OW) hi = OW - 1 - ow0 < 0 ? 0 : (OW - 1 - ow0) / sw + 1;
        for (let ih = 0; ih < H; ih++) {
          const oh = ih * sh - padTop + i * dh;
          if (<u32>oh >= <u32>OH || lo >= hi) continue;
          let s = c + ((<usize>ih * <usize>W + <usize>lo) << 2);
          let d = ym + ((<usize>oh * <usize>OW + <usize>(ow0 + lo * sw)) << 2);
          let iw = lo;
          if (sw == 1) {
            for (; iw + 4 <= hi; iw += 4) { v128.store(d, f32x4.add(v128.load(d), v128.load(s))); s += 16; d += 16; }
          }
          for (; iw < hi; iw++) { store<f32>(d, load<f32>(d) + load<f32>(s)); s += 4; d += swB; }
        }
        c += (<usize>H * <usize>W) << 2;
      }
    }
  }
}
