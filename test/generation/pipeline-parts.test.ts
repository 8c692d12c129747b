// pipeline('text-generation', { model, tokenizer, … }): the folder's files as in-memory parts (what a
// Worker bundles), giving the same text as the folder form.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TesseraError, pipeline } from '../../src/index.js';

const dir = join(__dirname, '../../models/decoders/toy-lm');
const json = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;

describe("pipeline('text-generation') from parts", () => {
  it('builds from bytes + JSON objects and generates what the folder form generates', async () => {
    const folder = await pipeline('text-generation', dir);
    const parts = await pipeline('text-generation', {
      model: new Uint8Array(readFileSync(join(dir, 'onnx/model.onnx'))),
      tokenizer: json('tokenizer.json'),
      tokenizer_config: json('tokenizer_config.json'),
      config: json('config.json'),
      generation_config: json('generation_config.json'),
    });
    try {
      expect(parts.model.kvCache).toBe('resident');
      const opts = { max_new_tokens: 12, do_sample: false };
      expect(await parts('Love is', opts)).toEqual(await folder('Love is', opts));
      const chat = [{ role: 'user', content: 'Tell me a fortune.' }];
      expect(await parts(chat, opts)).toEqual(await folder(chat, opts));
      // A Tokenizer instance works too; the defaults (eos) still come from the parts.
      const withTok = await pipeline('text-generation', { model: readFileSync(join(dir, 'onnx/model.onnx')).buffer as ArrayBuffer, tokenizer: folder.tokenizer, generation_config: json('generation_config.json') as never });
      expect(await withTok('Love is', opts)).toEqual(await folder('Love is', opts));
      await withTok.dispose();
    } finally {
      await folder.dispose();
      await parts.dispose();
    }
  });

  it('names what is wrong with the parts', async () => {
    await expect(pipeline('text-generation', { model: 5 as never, tokenizer: {} })).rejects.toThrow(/model must be the ONNX file's bytes/);
    await expect(pipeline('text-generation', { model: new Uint8Array(4), tokenizer: null as never })).rejects.toThrow(TesseraError);
    const tokenizer = json('tokenizer.json');
    await expect(pipeline('text-generation', { model: new Uint8Array(4), tokenizer, tokenizer_config: '{oops' })).rejects.toThrow(TesseraError);
  });
});
