/** Builds small ONNX models in tests (no Python at test time) with onnx-proto's encoder. */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DT = onnx.TensorProto.DataType;

export type Dims = (number | string)[];

export function valueInfo(name: string, elemType: number, dims?: Dims): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: number[], raw = true): onnxProto.onnx.ITensorProto {
  return raw
    ? { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) }
    : { name, dims, dataType: DT.FLOAT, floatData: values };
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: DT.INT64, int64Data: values };
}

type AttrValue = number | string | number[] | onnxProto.onnx.ITensorProto | { floats: number[] };

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name = ''): onnxProto.onnx.INodeProto {
  const T = onnx.AttributeProto.AttributeType;
  const attribute = Object.entries(attrs).map(([k, v]): onnxProto.onnx.IAttributeProto => {
    if (typeof v === 'string') return { name: k, type: T.STRING, s: new TextEncoder().encode(v) };
    if (typeof v === 'number') return Number.isInteger(v) ? { name: k, type: T.INT, i: v } : { name: k, type: T.FLOAT, f: v };
    if (Array.isArray(v)) return { name: k, type: T.INTS, ints: v };
    if ('floats' in v) return { name: k, type: T.FLOATS, floats: v.floats };
    return { name: k, type: T.TENSOR, t: v };
  });
  return { opType, input: inputs, output: outputs, attribute, name };
}

export interface ModelSpec {
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  opset?: number;
  extraOpsets?: { domain: string; version: number }[];
}

export function model(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'tessera-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }, ...(spec.extraOpsets ?? [])],
    graph: {
      name: 'test',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
  }).finish();
}
