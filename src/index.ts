/** tessera for Node: ONNX models on hand-written Wasm SIMD kernels. */
import { installNodePlatform } from './platform/node.js';

installNodePlatform();

export * from './public.js';
