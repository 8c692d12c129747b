/**
 * ONNX ModelProto bytes → tessera's IR. Decoding is onnx-proto's generated protobufjs code; this
 * file checks what it hands back and turns it into plain data, naming the place of every problem.
 */
import onnxProto from 'onnx-proto';
import { TesseraError } from '../api/errors.js';
import type { AttributeValue, Dim, Graph, Model, Node, ValueInfo } from '../graph/ir.js';
import { normalizeDomain } from '../graph/ir.js';
import { dtypeFromOnnx } from './dtype.js';
import { type LongLike, toSafeNumber } from './long.js';
import { type TensorProtoLike, decodeTensorProto } from './tensor-proto.js';
import { checkWire } from './wire.js';
import type { ExternalFiles } from './external-data.js';
import type { StreamedRaw } from './streamed-raw.js';

const { onnx } = onnxProto;

export interface DecodeOptions {
  /** Where tensors stored outside the model are read from (external data). */
  externalFiles?: ExternalFiles;
  /** The raw_data fields a streamed load took out of the skeleton (onnx/stream-walk.ts). */
  streamed?: readonly StreamedRaw[];
}

export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  if (bytes.length === 0) throw new TesseraError('INVALID_MODEL', 'The model is empty (0 bytes)');
  // A streamed skeleton was checked, with file offsets, as it was read.
  if (!options.streamed) checkWire(bytes);
  let proto: onnxProto.onnx.ModelProto;
  try {
    // A plain Uint8Array view, never a Node Buffer: protobufjs makes empty bytes fields with
    // `new buf.constructor(0)`, which for a Buffer is the deprecated `Buffer()` (a DEP0005 warning).
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    proto = onnx.ModelProto.decode(view);
  } catch (e) {
    throw new TesseraError('INVALID_MODEL', `The model is not a valid ONNX protobuf: ${(e as Error).message}`, { cause: e });
  }
  if (!proto.graph) throw new TesseraError('INVALID_MODEL', 'The model has no graph (is this an ONNX file?)');
  const opsets = new Map<string, number>();
  for (const o of proto.opsetImport ?? []) {
    opsets.set(normalizeDomain(o.domain ?? ''), toSafeNumber(o.version as LongLike, 'opset_import version'));
  }
  // IR version 3 and older models may omit opset_import; ONNX then means opset 1.
  if (!opsets.has('')) opsets.set('', 1);
  const metadata = new Map<string, string>();
  for (const p of proto.metadataProps ?? []) metadata.set(String(p.key ?? ''), String(p.value ?? ''));
  return {
    irVersion: toSafeNumber((proto.irVersion ?? 0) as LongLike, 'ir_version'),
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    opsets,
    graph: decodeGraph(proto.graph, 'graph', options),
    metadata,
  };
}

function decodeGraph(g: onnxProto.onnx.IGraphProto, where: string, files: DecodeOptions): Graph {
  const initializers = new Map<string, ReturnType<typeof decodeTensorProto>>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (!name) throw new TesseraError('INVALID_MODEL', `${where}: an initializer has no name`);
    if (initializers.has(name)) throw new TesseraError('INVALID_MODEL', `${where}: initializer '${name}' is defined twice`);
    initializers.set(name, decodeTensorProto(t as TensorProtoLike, `initializer`, files.externalFiles, files.streamed));
  }
  if ((g.sparseInitializer ?? []).length > 0) {
    throw new TesseraError('UNSUPPORTED_OP', `${where}: sparse initializers are not supported`);
  }
  const nodes = (g.node ?? []).map((n, i) => decodeNode(n, i, where, files));
  return {
    name: g.name ?? '',
    nodes,
    inputs: (g.input ?? []).map((v) => decodeValueInfo(v, `${where} input`)),
    outputs: (g.output ?? []).map((v) => decodeValueInfo(v, `${where} output`)),
    initializers,
  };
}

function decodeValueInfo(v: onnxProto.onnx.IValueInfoProto, where: string): ValueInfo {
  const name = v.name ?? '';
  if (!name) throw new TesseraError('INVALID_MODEL', `${where} has no name`);
  const tt = v.type?.tensorType;
  if (!tt) return { name, dtype: undefined, shape: undefined };
  const dtype = tt.elemType ? dtypeFromOnnx(tt.elemType) : undefined;
  let shape: Dim[] | undefined;
  if (tt.shape) {
    shape = (tt.shape.dim ?? []).map((d): Dim => {
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== undefined && d.dimValue !== null) {
        const n = toSafeNumber(d.dimValue as LongLike, `${where} '${name}' dim`);
        // Some exporters write 0 or -1 for "unknown"; treat those as symbolic.
        return n > 0 ? n : undefined;
      }
      return undefined;
    });
  }
  return { name, dtype, shape };
}

function decodeNode(n: onnxProto.onnx.INodeProto, index: number, where: string, files: DecodeOptions): Node {
  const opType = n.opType ?? '';
  const name = n.name ?? '';
  const label = `${where} node #${index}${name ? ` '${name}'` : ''}`;
  if (!opType) throw new TesseraError('INVALID_MODEL', `${label} has no op_type`);
  const attributes = new Map<string, AttributeValue>();
  for (const a of n.attribute ?? []) {
    const an = a.name ?? '';
    if (!an) throw new TesseraError('INVALID_MODEL', `${label} (${opType}) has an attribute with no name`);
    attributes.set(an, decodeAttribute(a, `${label} (${opType}) attribute '${an}'`, files));
  }
  return {
    name,
    opType,
    domain: normalizeDomain(n.domain ?? ''),
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes,
  };
}

const T = onnx.AttributeProto.AttributeType;

function decodeAttribute(a: onnxProto.onnx.IAttributeProto, where: string, files: DecodeOptions): AttributeValue {
  let type = a.type ?? 0;
  if (type === T.UNDEFINED) type = guessAttributeType(a);
  switch (type) {
    case T.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case T.INT: return { type: 'int', value: toSafeNumber((a.i ?? 0) as LongLike, where) };
    case T.STRING: return { type: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case T.TENSOR:
      if (!a.t) throw new TesseraError('INVALID_MODEL', `${where}: tensor attribute has no tensor`);
      return { type: 'tensor', value: decodeTensorProto(a.t as TensorProtoLike, where, files.externalFiles, files.streamed) };
    case T.GRAPH:
      if (!a.g) throw new TesseraError('INVALID_MODEL', `${where}: graph attribute has no graph`);
      return { type: 'graph', value: decodeGraph(a.g, `${where} subgraph`, files) };
    case T.FLOATS: return { type: 'floats', value: [...(a.floats ?? [])] };
    case T.INTS: return { type: 'ints', value: (a.ints ?? []).map((v) => toSafeNumber(v as LongLike, where)) };
    case T.STRINGS: return { type: 'strings', value: (a.strings ?? []).map((s) => new TextDecoder().decode(s)) };
    case T.TENSORS: return { type: 'tensors', value: (a.tensors ?? []).map((t) => decodeTensorProto(t as TensorProtoLike, where, files.externalFiles, files.streamed)) };
    case T.GRAPHS: return { type: 'graphs', value: (a.graphs ?? []).map((g) => decodeGraph(g, `${where} subgraph`, files)) };
    default:
      throw new TesseraError('UNSUPPORTED_OP', `${where}: attribute type ${type} (sparse tensors / type protos) is not supported`);
  }
}

/** Pre-IR-3 models leave `type` unset; the populated field tells what it is. */
function guessAttributeType(a: onnxProto.onnx.IAttributeProto): number {
  if ((a.floats ?? []).length) return T.FLOATS;
  if ((a.ints ?? []).length) return T.INTS;
  if ((a.strings ?? []).length) return T.STRINGS;
  if ((a.tensors ?? []).length) return T.TENSORS;
  if ((a.graphs ?? []).length) return T.GRAPHS;
  if (a.t) return T.TENSOR;
  if (a.g) return T.GRAPH;
  if (a.s && a.s.length) return T.STRING;
  if (a.i !== undefined && a.i !== null && toSafeNumber(a.i as LongLike, 'attr') !== 0) return T.INT;
  return T.FLOAT;
}
