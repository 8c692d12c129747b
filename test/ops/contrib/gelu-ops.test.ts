/**
 * com.microsoft Gelu, BiasGelu, FastGelu, QuickGelu against onnxruntime-web (which registers them
 * in its wasm build), and BiasAdd — which onnxruntime-web does not register (no CPU kernel) —
 * against a float64 reference written here.
 */
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/api/errors.js';
import { f32, feedsOf, konst, msModel, runTessera, worstVsOrt, type MsSpec } from './encoder-harness.js';

describe('com.microsoft GELU family vs onnxruntime-web', () => {
  const x = f32([2, 5, 19], 1, -5, 5), bias = f32([19], 2), x1 = f32([37], 3, -4, 4);
  const cases: [string, MsSpec][] = [
    ['Gelu, odd sizes', { op: 'Gelu', inputs: [x] }],
    ['Gelu, 1-D', { op: 'Gelu', inputs: [x1] }],
    ['BiasGelu, batch 2', { op: 'BiasGelu', inputs: [x, bias] }],
    ['BiasGelu, constant bias', { op: 'BiasGelu', inputs: [x, konst(bias)] }],
    ['FastGelu without bias', { op: 'FastGelu', inputs: [x] }],
    ['FastGelu with bias', { op: 'FastGelu', inputs: [x, konst(bias)] }],
    ['QuickGelu, default alpha', { op: 'QuickGelu', inputs: [x] }],
    ['QuickGelu, alpha 1.25', { op: 'QuickGelu', inputs: [x], attrs: { alpha: 1.25 } }],
    ['QuickGelu, alpha −0.5', { op: 'QuickGelu', inputs: [x1], attrs: { alpha: -0.5 } }],
  ];
  for (const [name, spec] of cases) {
    it(name, async () => {
      expect((await worstVsOrt(spec)).out0).toBeLessThan(2e-6);
    });
  }
});

describe('com.microsoft BiasAdd vs a float64 reference (onnxruntime-web has no kernel for it)', () => {
  it('x + bias + skip over [2, 7, 13]', async () => {
    const x = f32([2, 7, 13], 4), b = f32([13], 5), s = f32([2, 7, 13], 6);
    const spec: MsSpec = { op: 'BiasAdd', inputs: [x, konst(b), s] };
    const y = (await runTessera(msModel(spec), feedsOf(spec))).out0!;
    const X = x.data as Float32Array, B = b.data as Float32Array, S = s.data as Float32Array, Y = y.data as Float32Array;
    expect([...y.dims]).toEqual([2, 7, 13]);
    for (let i = 0; i < X.length; i++) expect(Math.abs(Y[i]! - (X[i]! + B[i % 13]! + S[i]!))).toBeLessThan(1e-6);
  });
});

describe('bad inputs and attributes', () => {
  const refuse = async (spec: MsSpec, code: string, ...words: string[]) => {
    const err = await runTessera(msModel(spec), feedsOf(spec)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).code).toBe(code);
    for (const w of words) expect((err as Error).message).toContain(w);
  };
  it('QuickGelu alpha of the wrong type names the node and attribute', () =>
    refuse({ op: 'QuickGelu', inputs: [f32([4], 1)], attrs: { alpha: 'big' }, name: 'qg' }, 'INVALID_ATTRIBUTE', "'qg'", "'alpha'"));
  it('an attribute the op does not have is refused', () =>
    refuse({ op: 'FastGelu', inputs: [f32([4], 1)], attrs: { approximate: 'tanh' }, name: 'fg' }, 'INVALID_ATTRIBUTE', "'fg'", "'approximate'"));
  it('BiasGelu with a bias that is not the last axis', () =>
    refuse({ op: 'BiasGelu', inputs: [f32([3, 4], 1), f32([3], 2)], name: 'bg' }, 'SHAPE_MISMATCH', "'bg'", 'bias'));
  it('a com.microsoft op tessera lacks is refused at create with its name', () =>
    refuse({ op: 'LongformerAttention', inputs: [f32([1, 4, 8], 1)], name: 'lf' }, 'UNSUPPORTED_OP', 'com.microsoft.LongformerAttention'));
  it('BiasAdd with a skip of another shape', () =>
    refuse({ op: 'BiasAdd', inputs: [f32([1, 3, 4], 1), f32([4], 2), f32([1, 2, 4], 3)], name: 'ba' }, 'SHAPE_MISMATCH', "'ba'", 'skip'));
});
