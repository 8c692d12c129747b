/**
 * Baseline JPEG through ImageDecoder against PIL's (libjpeg-turbo's) decoding, byte for byte:
 * 4:2:0 at odd sizes and low quality, 4:2:2, 4:4:4 and grayscale (fixtures/jpeg/make.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/index.js';
import { runNode } from '../unit-a/run-node.js';

const DIR = join(__dirname, '../fixtures/jpeg');
const decode = async (bytes: Uint8Array, pixel_format = 'RGB') =>
  (await runNode({ op: 'ImageDecoder', opset: 20, name: 'dec', attrs: { pixel_format }, inputs: [new Tensor('uint8', bytes, [bytes.length])] }))[0]!;

describe('ImageDecoder: baseline JPEG', () => {
  it.each(['420-odd', '422', '444', 'gray', '420-q30'])('%s matches libjpeg-turbo exactly', async (name) => {
    const want = new Uint8Array(readFileSync(join(DIR, `${name}.rgb`)));
    const y = await decode(new Uint8Array(readFileSync(join(DIR, `${name}.jpg`))));
    expect(y.dims[0]! * y.dims[1]! * 3).toBe(want.length);
    expect(Array.from(y.data as Uint8Array)).toEqual(Array.from(want));
  });

  it('refuses progressive JPEG by name', async () => {
    const progressive = Uint8Array.from([0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    await expect(decode(progressive)).rejects.toThrow(/ImageDecoder node 'dec': cannot decode the image: JPEG coding process 0xc2 \(progressive, lossless or arithmetic\) is not supported/);
  });
});
