/** Model bytes → the onnx-proto message the quantizers rewrite, with the same errors for both. */
import onnxProto from 'onnx-proto';
import { TesseraError } from '../api/errors.js';

const { onnx } = onnxProto;

/**
 * Decodes ONNX model bytes for rewriting and returns the model with its graph.
 * @throws TesseraError INVALID_MODEL when the bytes are not an ONNX model or it has no graph.
 */
export function decodeModelForRewrite(modelBytes: Uint8Array): { model: onnxProto.onnx.ModelProto; graph: onnxProto.onnx.GraphProto } {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (e) {
    throw new TesseraError('INVALID_MODEL', `The model is not a valid ONNX protobuf: ${(e as Error).message}`, { cause: e });
  }
  const graph = model.graph as onnxProto.onnx.GraphProto | null;
  if (!graph) throw new TesseraError('INVALID_MODEL', 'The model has no graph (is this an ONNX file?)');
  return { model, graph };
}
