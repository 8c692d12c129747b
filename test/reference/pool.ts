// Scalar pooling references with ONNX semantics.

export interface PoolShape {
  NC: number; H: number; W: number; OH: number; OW: number; kh: number; kw: number; sh: number; sw: number;
  dh: number; dw: number; padTop: number; padLeft: number; padBottom: number; padRight: number;
}

export function maxpool(x: Float32Array, s: PoolShape): Float32Array {
  const y = new Float32Array(s.NC * s.OH * s.OW);
  for (let p = 0; p < s.NC; p++)
    for (let oh = 0; oh < s.OH; oh++)
      for (let ow = 0; ow < s.OW; ow++) {
        let m = -Infinity;
        for (let i = 0; i < s.kh; i++)
          for (let j = 0; j < s.kw; j++) {
            const ih = oh * s.sh - s.padTop + i * s.dh, iw = ow * s.sw - s.padLeft + j * s.dw;
            if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) m = Math.max(m, x[(p * s.H + ih) * s.W + iw]);
          }
        y[(p * s.OH + oh) * s.OW + ow] = m;
      }
  return y;
}

export function avgpool(x: Float32Array, s: PoolShape, countIncludePad: boolean): Float32Array {
  const y = new Float32Array(s.NC * s.OH * s.OW);
  for (let p = 0; p < s.NC; p++)
    for (let oh = 0; oh < s.OH; oh++)
      for (let ow = 0; ow < s.OW; ow++) {
        let sum = 0, cnt = 0;
        for (let i = 0; i < s.kh; i++)
          for (let j = 0; j < s.kw; j++) {
            const ih = oh * s.sh - s.padTop + i, iw = ow * s.sw - s.padLeft + j;
            const inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
            const inPadded = ih >= -s.padTop && ih < s.H + s.padBottom && iw >= -s.padLeft && iw < s.W + s.padRight;
            if (inside) sum += x[(p * s.H + ih) * s.W + iw];
            if (countIncludePad ? inPadded : inside) cnt++;
          }
        y[(p * s.OH + oh) * s.OW + ow] = cnt > 0 ? sum / cnt : 0;
      }
  return y;
}

export function globalPool(x: Float32Array, NC: number, HW: number, kind: 'avg' | 'max'): Float32Array {
  const y = new Float32Array(NC);
  for (let p = 0; p < NC; p++) {
    let acc = kind === 'avg' ? 0 : -Infinity;
    for (let i = 0; i < HW; i++) acc = kind === 'avg' ? acc + x[p * HW + i] : Math.max(acc, x[p * HW + i]);
    y[p] = kind === 'avg' ? (HW > 0 ? acc / HW : 0) : acc;
  }
  return y;
}
