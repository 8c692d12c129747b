import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/api/tensor.js';
import {
  bfloat16ToFloat, e8m0ToFloat, floatToBfloat16, floatToE8M0, floatToHalf, floatToMiniFloat, floatToSubByteInt, halfToFloat,
  type MiniFloatType, miniFloatToFloat, packSubByte, unpackSubByte,
} from '../../src/onnx/float-formats.js';

describe('float16', () => {
  it('rounds to nearest even, with subnormals, overflow, infinities and NaN', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65519)).toBe(0x7bff); // below the midpoint to 65536
    expect(floatToHalf(65520)).toBe(0x7c00); // the midpoint: ties to even, which is infinity
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even mantissa (up)
    expect(floatToHalf(2 ** -24)).toBe(1); // smallest subnormal
    expect(floatToHalf(2 ** -25)).toBe(0); // half of it: tie to even (0)
    expect(floatToHalf(3 * 2 ** -25)).toBe(2);
    expect(floatToHalf(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
    expect(floatToHalf(-Infinity)).toBe(0xfc00);
    expect(halfToFloat(floatToHalf(NaN))).toBeNaN();
  });

  it('round-trips every half', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v)) continue;
      expect(floatToHalf(v)).toBe(h);
    }
  });
});

describe('bfloat16', () => {
  it('is the top half of a float32, rounded to nearest even', () => {
    expect(floatToBfloat16(1)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBfloat16(-Infinity)).toBe(0xff80);
    expect(bfloat16ToFloat(floatToBfloat16(NaN))).toBeNaN();
    expect(bfloat16ToFloat(0x4049)).toBeCloseTo(3.140625, 6);
    expect(floatToBfloat16(3.4e38)).toBe(0x7f80); // rounds past the largest finite to infinity
  });
});

describe('float8', () => {
  const types: MiniFloatType[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1'];
  it.each(types)('%s: every finite code round-trips', (type) => {
    const codes = type === 'float4e2m1' ? 16 : 256;
    for (let c = 0; c < codes; c++) {
      const v = miniFloatToFloat(type, c);
      if (!Number.isFinite(v)) continue; // (-0 is finite and keeps its sign bit)
      expect(floatToMiniFloat(type, v), `${type} code ${c} (${v})`).toBe(c);
    }
  });

  it('knows the ranges and specials of each format', () => {
    expect(miniFloatToFloat('float8e4m3fn', 0x7e)).toBe(448);
    expect(miniFloatToFloat('float8e4m3fn', 0x7f)).toBeNaN();
    expect(miniFloatToFloat('float8e4m3fnuz', 0x7f)).toBe(240);
    expect(miniFloatToFloat('float8e4m3fnuz', 0x80)).toBeNaN();
    expect(miniFloatToFloat('float8e5m2', 0x7b)).toBe(57344);
    expect(miniFloatToFloat('float8e5m2', 0x7c)).toBe(Infinity);
    expect(miniFloatToFloat('float8e5m2fnuz', 0x7f)).toBe(57344);
    expect(miniFloatToFloat('float8e4m3fn', 1)).toBe(2 ** -9); // smallest subnormal
    expect(miniFloatToFloat('float4e2m1', 0x7)).toBe(6);
  });

  it('saturates or overflows as the saturate attribute says', () => {
    expect(floatToMiniFloat('float8e4m3fn', 464)).toBe(0x7e); // tie between 448 and (NaN) 480 → even
    expect(floatToMiniFloat('float8e4m3fn', 470)).toBe(0x7e);
    expect(floatToMiniFloat('float8e4m3fn', 470, false)).toBe(0x7f);
    expect(floatToMiniFloat('float8e4m3fn', -Infinity)).toBe(0xfe);
    expect(floatToMiniFloat('float8e4m3fn', Infinity, false)).toBe(0x7f);
    expect(floatToMiniFloat('float8e5m2', 1e6)).toBe(0x7b);
    expect(floatToMiniFloat('float8e5m2', 1e6, false)).toBe(0x7c);
    expect(floatToMiniFloat('float8e5m2', -Infinity, false)).toBe(0xfc);
    expect(floatToMiniFloat('float8e4m3fnuz', 1e6, false)).toBe(0x80);
    expect(floatToMiniFloat('float8e4m3fnuz', -1e-9)).toBe(0); // no negative zero
    expect(floatToMiniFloat('float8e5m2', NaN)).toBe(0x7e);
    expect(floatToMiniFloat('float4e2m1', 1e9, false)).toBe(0x7); // float4 always saturates
    expect(floatToMiniFloat('float4e2m1', 2.5)).toBe(0x4); // tie between 2 and 3 → even code
  });
});

describe('float8e8m0', () => {
  it('is a power of two chosen by round_mode, clamped or NaN outside the range', () => {
    expect(e8m0ToFloat(127)).toBe(1);
    expect(e8m0ToFloat(0)).toBe(2 ** -127);
    expect(e8m0ToFloat(0xff)).toBeNaN();
    expect(floatToE8M0(1)).toBe(127);
    expect(floatToE8M0(1.1)).toBe(128); // up (default)
    expect(floatToE8M0(1.1, true, 'down')).toBe(127);
    expect(floatToE8M0(1.4, true, 'nearest')).toBe(127);
    expect(floatToE8M0(1.5, true, 'nearest')).toBe(128);
    expect(floatToE8M0(-4)).toBe(129); // the sign is dropped
    expect(floatToE8M0(0)).toBe(0);
    expect(floatToE8M0(2 ** -140)).toBe(0);
    expect(floatToE8M0(3e38)).toBe(0xfe); // 2^128 would be needed: saturates
    expect(floatToE8M0(3e38, false)).toBe(0xff);
    expect(floatToE8M0(Infinity)).toBe(0xfe);
    expect(floatToE8M0(NaN)).toBe(0xff);
  });
});

describe('sub-byte integers', () => {
  it('truncate and wrap like the other integer casts', () => {
    expect(floatToSubByteInt('int4', 7.9)).toBe(7);
    expect(floatToSubByteInt('int4', 8)).toBe(-8);
    expect(floatToSubByteInt('int4', -9)).toBe(7);
    expect(floatToSubByteInt('uint4', 16)).toBe(0);
    expect(floatToSubByteInt('uint2', -1)).toBe(3);
    expect(floatToSubByteInt('int2', 2)).toBe(-2);
    expect(floatToSubByteInt('uint4', NaN)).toBe(0);
  });

  it('pack low nibble first and unpack with sign extension', () => {
    const values = [1, -2, 7, -8, 0];
    const packed = packSubByte(values, 4);
    expect(Array.from(packed)).toEqual([0xe1, 0x87, 0x00]);
    expect(Array.from(unpackSubByte(packed, 5, 4, true))).toEqual(values);
    expect(Array.from(unpackSubByte(packSubByte([3, 0, 1, 2, 3], 2), 5, 2, false))).toEqual([3, 0, 1, 2, 3]);
  });

  it('Tensor accepts onnxruntime-web packed int4 and keeps one element per byte', () => {
    const t = new Tensor("int4", new Uint8Array([0xe1, 0x87, 0x00]) as never, [5]);
    expect(Array.from(t.data)).toEqual([1, -2, 7, -8, 0]);
    const u = new Tensor('uint4', new Uint8Array([1, 2, 3]), [3]); // already one per byte
    expect(Array.from(u.data)).toEqual([1, 2, 3]);
  });
});
