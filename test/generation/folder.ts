/**
 * A model folder for the pipeline tests, written to a temporary directory: the tiny fixture
 * decoder (vocabulary 96) with a character-level BPE tokenizer of 96 tokens (3 specials, newline,
 * and ' ' … '{'), a ChatML-style chat template and a generation_config.json with two EOS ids.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

export function makeFolder(model = 'tiny-llama', generationConfig: Record<string, unknown> = { eos_token_id: [0, 2] }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-gen-'));
  mkdirSync(join(dir, 'onnx'));
  copyFileSync(fileURLToPath(new URL(`../../models/generation/${model}.onnx`, import.meta.url)), join(dir, 'onnx', 'model.onnx'));
  const chars = ['\n', ...Array.from({ length: 92 }, (_, i) => String.fromCharCode(32 + i))];
  const vocab: Record<string, number> = {};
  SPECIALS.forEach((t, i) => { vocab[t] = i; });
  chars.forEach((c, i) => { vocab[c] = i + 3; });
  const tokenizer = {
    version: '1.0',
    truncation: null, padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null, pre_tokenizer: null, post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({
    eos_token: '<|im_end|>', pad_token: '<|endoftext|>', model_max_length: 512,
    chat_template: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
  }));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(generationConfig));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', vocab_size: 96 }));
  return dir;
}
