/** Model quantization: dynamic int8 (weights quantized offline, activations per run). */
export { quantizeDynamic, quantizeWeight } from './dynamic.js';
export type { QuantizeDynamicOptions, QuantizeDynamicReport } from './dynamic.js';
