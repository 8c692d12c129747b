/**
 * Scaled dot-product attention in float64, the plain way (full score rows, max-subtracted softmax):
 * the reference for assembly/attention.ts. Layout as the kernel: rows of [B, S, ld], head h in
 * columns h·d …; mask element (b, h, i, j) at b·mb + h·mh + i·mq + j·mk.
 */
export interface AttentionArgs {
  B: number; H: number; Sq: number; Sk: number; d: number;
  ldq: number; ldk: number; ldv: number; ldo: number;
  mask?: ArrayLike<number>; mb: number; mh: number; mq: number; mk: number; scale: number;
}

export function attention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array, a: AttentionArgs): void {
  const s = new Float64Array(a.Sk);
  for (let b = 0; b < a.B; b++)
    for (let h = 0; h < a.H; h++)
      for (let i = 0; i < a.Sq; i++) {
        const qo = (b * a.Sq + i) * a.ldq + h * a.d;
        let m = -Infinity;
        for (let j = 0; j < a.Sk; j++) {
          const ko = (b * a.Sk + j) * a.ldk + h * a.d;
          let dot = 0;
          for (let c = 0; c < a.d; c++) dot += q[qo + c]! * k[ko + c]!;
          s[j] = dot * a.scale + (a.mask ? a.mask[b * a.mb + h * a.mh + i * a.mq + j * a.mk]! : 0);
          m = Math.max(m, s[j]!);
        }
        let sum = 0;
        for (let j = 0; j < a.Sk; j++) sum += (s[j] = Math.exp(s[j]! - m));
        const oo = (b * a.Sq + i) * a.ldo + h * a.d;
        for (let c = 0; c < a.d; c++) {
          let acc = 0;
          for (let j = 0; j < a.Sk; j++) acc += s[j]! * v[(b * a.Sk + j) * a.ldv + h * a.d + c]!;
          out[oo + c] = acc / sum;
        }
      }
}
