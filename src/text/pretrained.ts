// Reading a tokenizer's files from a model folder (local path, URL base or hub repository id):
// tokenizer.json (required), tokenizer_config.json and special_tokens_map.json (optional). The
// special tokens map fills in role tokens the config leaves out, as transformers does.

import { TesseraError } from '../api/errors.js';
import { openModelFolder, readTextFile, type ModelFolderOptions } from '../platform/model-folder.js';
import { parseJsonObject } from './hf-core.js';

/** Where `Tokenizer.fromPretrained` reads from: the hub, a revision, the cache, progress. */
export type TokenizerPretrainedOptions = ModelFolderOptions;

/** The parsed files, ready for Tokenizer.fromJSON. */
export interface TokenizerFiles {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** Reads and parses the tokenizer files of a folder; errors name the file and the folder. */
export async function readTokenizerFiles(location: string | URL, options: TokenizerPretrainedOptions = {}): Promise<TokenizerFiles> {
  const where = 'Tokenizer.fromPretrained';
  const folder = await openModelFolder(location, options);
  const [jsonText, configText, mapText] = await Promise.all([
    readTextFile(folder, 'tokenizer.json'),
    readTextFile(folder, 'tokenizer_config.json'),
    readTextFile(folder, 'special_tokens_map.json'),
  ]);
  if (jsonText === undefined) {
    throw new TesseraError('INVALID_ARGUMENT', `${where}: there is no ${folder.locate('tokenizer.json')} (tessera reads tokenizers from tokenizer.json; a folder with only vocab.txt can use BertTokenizer.fromVocab)`);
  }
  const json = parseJsonObject(jsonText, folder.locate('tokenizer.json'), where);
  const config = configText === undefined ? {} : parseJsonObject(configText, folder.locate('tokenizer_config.json'), where);
  if (mapText !== undefined) {
    const map = parseJsonObject(mapText, folder.locate('special_tokens_map.json'), where);
    for (const [key, value] of Object.entries(map)) if (config[key] === undefined) config[key] = value;
  }
  return { json, config };
}
