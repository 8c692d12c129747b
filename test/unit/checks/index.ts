// Family → checks. A new family needs an entry here; a new kernel of an existing family only
// needs a line in kernel-table.ts.
import { KERNELS, type Family, type KernelEntry } from '../kernel-table';
import { attentionCases } from './attention';
import { col2imCases, directConvCases, dwconvCases, im2colBatchCases, im2colCases, im2colGemmCases, unbatchCases } from './conv';
import { accuracyCases, binaryCases, softmaxCases, unaryCases } from './elementwise';
import { gemmCases, packACases, packCases } from './gemm';
import { gemmI8Cases, packI8Cases } from './gemm-i8';
import { gemmI16Cases, packAI8Cases, quantizePackACases } from './gemm-i16';
import { im2rowCases, minmaxCases, quantizeCases } from './quant';
import { addLayernormCases, channelAffineCases, layernormCases, transposeCases } from './norm';
import { avgpoolCases, globalPoolCases, maxpoolCases } from './pool';
import { compareCases, whereCases } from './logic';
import { reduceCases } from './reduce';
import { gemvQ4Cases } from './gemv-q4';
import { resizeNearestCases } from './resize';
import { audioCases } from './audio';
import { halfCases } from './half';
import type { Case } from './types';

export type { Case } from './types';

export const CHECKS: Record<Family, (e: KernelEntry) => Case[]> = {
  pack_a: packACases,
  pack_b: packCases,
  gemm: gemmCases,
  im2col: im2colCases,
  im2col_batch: im2colBatchCases,
  unbatch: unbatchCases,
  col2im: col2imCases,
  dwconv: dwconvCases,
  direct_conv: directConvCases,
  maxpool: maxpoolCases,
  avgpool: avgpoolCases,
  global_pool: globalPoolCases,
  softmax: softmaxCases,
  unary: (e) => [...unaryCases(e), ...accuracyCases(e)],
  binary: binaryCases,
  channel_affine: channelAffineCases,
  layernorm: layernormCases,
  add_layernorm: addLayernormCases,
  transpose: transposeCases,
  reduce: reduceCases,
  compare: compareCases,
  where: whereCases,
  resize_nearest: resizeNearestCases,
  pack_b_i8: packI8Cases,
  pack_a_i8: (e) => [...packAI8Cases(), ...gemmI8Cases(e)],
  quantize_pack_a: quantizePackACases,
  gemm_i16: gemmI16Cases,
  minmax: minmaxCases,
  quantize: quantizeCases,
  im2row: im2rowCases,
  attention: attentionCases,
  im2col_gemm: im2colGemmCases,
  gemv_q4: gemvQ4Cases,
  audio: audioCases,
  half: halfCases,
};

export function allCases(): { kernel: KernelEntry; cases: Case[] }[] {
  return KERNELS.map((kernel) => ({ kernel, cases: CHECKS[kernel.family](kernel) }));
}
