// Convolution lowering: im2col written straight into the packed-B panel format, so a conv is one
// gemm_f32(W[Co×K], panels, …) with per-row bias and a fused activation — no unpacked K×N
// matrix is ever materialised and no second packing pass runs.

// Row k = (c·kh + i)·kw + j, column n = oh·OW + ow; panel p = n/8 holds float
// [p·K·8 + k·8 + n%8]. Out-of-image taps (padding) and columns past N are written as 0.
export function im2col_packed_f32(x: usize, dst: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32): void {
  const K = C * kh * kw;
  const N = OH * OW;
  if (K <= 0 || N <= 0) return;
  const panelStride = <usize>K << 5; // bytes between the same row of consecutive panels
  let k = 0;
  for (let c = 0; c < C; c++) {
    const xc = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Walk the N columns of row k; `lane` counts 0..7 inside a panel so the destination
        // advances by 4 bytes, then jumps to the next panel.
        const rowBase = dst + (<usize>k << 5);
        let d = rowBase;
        let lane = 0;
        const iw0 = j * dw - padLeft;
        // Output columns whose tap lands inside the row: ow ∈ [owLo, owHi).
        let owLo = 0;
        if (iw0 < 0) owLo = (-iw0 + sw - 1) / sw;
        let owHi = OW;
        if (iw0 + (OW - 1) * sw >= W) owHi = W - 1 - iw0 < 0 ? 0 : (W - 1 - iw0) / sw + 1;
        if (owLo > owHi) owLo = owHi;
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - padTop + i * dh;
          if (<u32>ih >= <u32>H) {
            for (let ow = 0; ow < OW; ow++) {
              store<f32>(d, 0);
              d += 4; if (++lane == 8) { lane = 0; d += panelStride - 32; }
            }
            continue;
          }
          const xr = xc + ((<usize>ih * <usize>W) << 2);
          let ow = 0;
          for (; ow < owLo; ow++) {
            store<f32>(d, 0);
            d += 4; if (++lane == 8) { lane = 0; d += panelStride - 32; }
          }
          let s = xr + (<usize>(iw0 + owLo * sw) << 2);
          const sB = <usize>sw << 2;
          for (; ow < owHi; ow++) {
            store<f32>(d, load<f32>(s));
            s += sB;
            d += 4; if (++lane == 8) { lane = 0; d += panelStride - 32; }
          }
          for (; ow < OW; ow++) {
            store<f32>(d, 0);
            d += 4; if (++lane == 8) { lane = 0; d += panelStride - 32; }
          }
        }
        // Zero the padding lanes of the last (partial) panel.
        for (; lane != 0 && lane < 8; lane++) { store<f32>(d, 0); d += 4; }
        k++;
      }
    }
  }
}
