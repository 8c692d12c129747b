/** Model quantization: dynamic int8 (weights quantized offline, activations per run) and 4-bit weight-only (MatMulNBits). */
export { quantizeDynamic, quantizeWeight } from './dynamic.js';
export type { QuantizeDynamicOptions, QuantizeDynamicReport } from './dynamic.js';
export { quantizeInt4, quantizeInt4Weight } from './int4.js';
export type { QuantizeInt4Options, Int4Weight } from './int4.js';
