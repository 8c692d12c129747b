/**
 * feature-extraction, as transformers.js v4 runs it (pipelines/feature-extraction.js): tokenize
 * with padding and truncation, run, take last_hidden_state (else logits, else token_embeddings),
 * pool ('none' | 'mean' | 'cls'/'first_token' | 'eos'/'last_token'), L2-normalise if asked.
 * The result is one Tensor: [batch, seq, dim] unpooled, [batch, dim] pooled.
 */
import { TesseraError } from '../api/errors.js';
import { Tensor } from '../api/tensor.js';
import { type PipelineBase, type PipelineParts, checkTextModel, makePipeline, textFeeds, textList } from './base.js';
import { meanPool, normalizeRows } from './math.js';

/** Options of one feature-extraction call (transformers.js' names and defaults). */
export interface FeatureExtractionOptions {
  /** 'none' (default): every token's vector; 'mean': masked mean; 'cls'/'first_token'; 'eos'/'last_token'. */
  pooling?: 'none' | 'mean' | 'cls' | 'first_token' | 'eos' | 'last_token';
  /** Divide each vector by its L2 norm. Default false. */
  normalize?: boolean;
}

/** `await extractor(texts, options)` → a float32 Tensor. */
export type FeatureExtractionPipeline = ((texts: string | string[], options?: FeatureExtractionOptions) => Promise<Tensor<'float32'>>) & PipelineBase;

const OUTPUTS = ['last_hidden_state', 'logits', 'token_embeddings'] as const;
const POOLINGS = ['none', 'mean', 'cls', 'first_token', 'eos', 'last_token'];

/** Wraps loaded parts as the feature-extraction callable; checks the model's inputs and outputs. */
export function featureExtraction(task: string, parts: PipelineParts): FeatureExtractionPipeline {
  const output = checkTextModel(task, parts.session, OUTPUTS);
  const { session, tokenizer } = parts;
  const call = async (texts: string | string[], options: FeatureExtractionOptions = {}): Promise<Tensor<'float32'>> => {
    const { pooling = 'none', normalize = false } = options;
    if (!POOLINGS.includes(pooling)) throw new TesseraError('INVALID_ARGUMENT', `${task}: pooling '${String(pooling)}' is not one of ${POOLINGS.join(', ')}`);
    const list = textList(task, texts);
    const enc = tokenizer.encodeBatch(list, { padding: true, truncation: true });
    const result = (await session.run(textFeeds(session, enc), [output]))[output]!;
    if (result.type !== 'float32' || result.dims.length !== 3) {
      throw new TesseraError('INVALID_MODEL', `${task}: the model's '${output}' is ${result.type} [${result.dims.join(', ')}], not float32 [batch, seq, dim]`);
    }
    const [batch, seq, dim] = result.dims as [number, number, number];
    const hidden = result.data as Float32Array;
    let data: Float32Array;
    let dims: number[];
    if (pooling === 'none') {
      data = hidden;
      dims = [batch, seq, dim];
    } else if (pooling === 'mean') {
      data = meanPool(hidden, enc.attention_mask.data as BigInt64Array, batch, seq, dim);
      dims = [batch, dim];
    } else {
      // transformers.js slices position 0 or seq-1 of the padded batch, padding or not.
      const at = pooling === 'cls' || pooling === 'first_token' ? 0 : seq - 1;
      data = new Float32Array(batch * dim);
      for (let b = 0; b < batch; b++) data.set(hidden.subarray((b * seq + at) * dim, (b * seq + at + 1) * dim), b * dim);
      dims = [batch, dim];
    }
    if (normalize) normalizeRows(data, dim);
    return new Tensor('float32', data, dims);
  };
  return makePipeline(task, parts, call, {});
}
