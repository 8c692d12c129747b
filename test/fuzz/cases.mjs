/**
 * Fuzz cases, a pure function of (seed, id): mutated real models (truncation, bit flips, junk,
 * huge varints, duplicated fields) and hand-made pathological graphs. Same seed, same bytes.
 */
import onnxProto from 'onnx-proto';
import { rng } from '../../scripts/rng.mjs';

const { onnx } = onnxProto;
const F = onnx.TensorProto.DataType.FLOAT;


const HUGE_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 2^64 - 1
  [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // over-long
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], // unterminated
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], // 2^40
];

function mutate(src, r) {
  const pick = (n) => Math.floor(r() * n);
  const kind = pick(7);
  const b = Array.from(src);
  const at = pick(b.length + 1);
  switch (kind) {
    case 0: return { what: `truncate@${at}`, bytes: Uint8Array.from(b.slice(0, at)) };
    case 1: {
      const n = 1 + pick(8);
      for (let i = 0; i < n; i++) { const p = pick(b.length); b[p] ^= 1 << pick(8); }
      return { what: `flip×${n}`, bytes: Uint8Array.from(b) };
    }
    case 2: {
      const n = 1 + pick(32);
      const junk = Array.from({ length: n }, () => pick(256));
      if (r() < 0.5) b.splice(at, 0, ...junk); else b.splice(at, n, ...junk);
      return { what: `junk×${n}@${at}`, bytes: Uint8Array.from(b) };
    }
    case 3: {
      const v = HUGE_VARINTS[pick(HUGE_VARINTS.length)];
      // Either a bare varint, or a field tag (length-delimited or varint) followed by it.
      const tag = r() < 0.5 ? [] : [((1 + pick(20)) << 3) | (r() < 0.5 ? 2 : 0)];
      b.splice(at, 0, ...tag, ...v);
      return { what: `varint@${at}`, bytes: Uint8Array.from(b) };
    }
    case 4: {
      const from = pick(b.length), len = 1 + pick(Math.min(4096, b.length - from));
      b.splice(at, 0, ...b.slice(from, from + len));
      return { what: `dup[${from}+${len}]@${at}`, bytes: Uint8Array.from(b) };
    }
    case 5: {
      // Overwrite a byte that looks like a length prefix with a larger one.
      for (let tries = 0; tries < 50; tries++) {
        const p = pick(b.length - 1);
        if ((b[p] & 7) === 2 && b[p + 1] < 0x80) { b[p + 1] = Math.min(0x7f, b[p + 1] + 1 + pick(40)); return { what: `len+@${p}`, bytes: Uint8Array.from(b) }; }
      }
      return { what: 'noop', bytes: Uint8Array.from(b) };
    }
    default: {
      const n = 2 + pick(6);
      for (let i = 0; i < n; i++) b[pick(b.length)] = pick(256);
      return { what: `bytes×${n}`, bytes: Uint8Array.from(b) };
    }
  }
}

const vi = (name, dims = [2]) => ({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
const model = (graph, opset = 17, extra = {}) => onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph, ...extra }).finish();
const relu = (i, o, name = '') => ({ opType: 'Relu', input: [i], output: [o], name });

/** Hand-made graphs, each wrong (or odd) in one way. */
export const PATHOLOGICAL = [
  ['empty file', () => new Uint8Array(0)],
  ['no graph', () => onnx.ModelProto.encode({ irVersion: 8 }).finish()],
  ['cycle', () => model({ node: [{ opType: 'Add', input: ['x', 'b'], output: ['a'] }, relu('a', 'b')], input: [vi('x')], output: [vi('b')] })],
  ['self-loop', () => model({ node: [{ opType: 'Add', input: ['x', 'y'], output: ['y'] }], input: [vi('x')], output: [vi('y')] })],
  ['__proto__ names', () => model({ name: '__proto__', node: [relu('__proto__', 'constructor', '__proto__'), relu('constructor', 'toString', 'hasOwnProperty')], input: [vi('__proto__')], output: [vi('toString')] }, 17, { metadataProps: [{ key: '__proto__', value: '{"polluted":1}' }, { key: 'constructor', value: 'x' }] })],
  ['10k-node chain', () => model({ node: Array.from({ length: 10000 }, (_, i) => relu(i ? `v${i - 1}` : 'x', `v${i}`)).reverse(), input: [vi('x')], output: [vi('v9999')] })],
  ['zero-sized tensors', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [0, 3], dataType: F, rawData: new Uint8Array(0) }], input: [vi('x', [0, 3])], output: [vi('y', [0, 3])] })],
  ['missing value', () => model({ node: [relu('nope', 'y')], input: [vi('x')], output: [vi('y')] })],
  ['duplicate value', () => model({ node: [relu('x', 'y'), relu('x', 'y')], input: [vi('x')], output: [vi('y')] })],
  ['output never produced', () => model({ node: [relu('x', 'y')], input: [vi('x')], output: [vi('z')] })],
  ['initializer data short', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [2], dataType: F, rawData: new Uint8Array(4) }], input: [vi('x')], output: [vi('y')] })],
  ['initializer 2^40 elements', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [2 ** 20, 2 ** 20], dataType: F, rawData: new Uint8Array(4) }], input: [vi('x')], output: [vi('y')] })],
  ['negative dim', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [-2], dataType: F, floatData: [1, 2] }], input: [vi('x')], output: [vi('y')] })],
  ['overflowing dims', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: ['9223372036854775807', '9223372036854775807'], dataType: F, floatData: [1] }], input: [vi('x')], output: [vi('y')] })],
  ['input 2^40 elements', () => model({ node: [relu('x', 'y')], input: [vi('x', [2 ** 20, 2 ** 20])], output: [vi('y')] })],
  ['external data', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [2], dataType: F, dataLocation: 1, externalData: [{ key: 'location', value: '/etc/passwd' }] }], input: [vi('x')], output: [vi('y')] })],
  ['unknown domain', () => onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }, { domain: 'com.evil', version: 1 }], graph: { node: [{ opType: 'Relu', domain: 'com.evil', input: ['x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] } }).finish()],
  ['unknown op', () => model({ node: [{ opType: 'Frobnicate', input: ['x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] })],
  ['opset 10000', () => model({ node: [relu('x', 'y')], input: [vi('x')], output: [vi('y')] }, 10000)],
  ['Reshape to 2^40', () => model({ node: [{ opType: 'Reshape', input: ['x', 's'], output: ['y'] }], initializer: [{ name: 's', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [2 ** 20, 2 ** 20] }], input: [vi('x')], output: [vi('y')] })],
  ['Expand to 2^40', () => model({ node: [{ opType: 'Expand', input: ['x', 's'], output: ['y'] }], initializer: [{ name: 's', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [2 ** 20, 2 ** 20] }], input: [vi('x', [1])], output: [vi('y')] })],
  ['ConstantOfShape 2^40', () => model({ node: [{ opType: 'ConstantOfShape', input: ['s'], output: ['y'] }], initializer: [{ name: 's', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [2 ** 20, 2 ** 20] }], input: [], output: [vi('y')] })],
  ['no nodes, input is output', () => model({ node: [], input: [vi('x')], output: [vi('x')] })],
  ['empty names', () => model({ node: [relu('', '')], input: [vi('x')], output: [vi('x')] })],
  ['attribute type mismatch', () => model({ node: [{ opType: 'Softmax', input: ['x'], output: ['y'], attribute: [{ name: 'axis', type: 3, s: new Uint8Array([1]) }] }], input: [vi('x')], output: [vi('y')] })],
  ['unknown attribute', () => model({ node: [{ opType: 'Relu', input: ['x'], output: ['y'], attribute: [{ name: 'bogus', type: 2, i: 1 }] }], input: [vi('x')], output: [vi('y')] })],
  ['int8 dtype mismatch', () => model({ node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', dims: [2], dataType: onnx.TensorProto.DataType.INT8, int32Data: [1, 2] }], input: [vi('x')], output: [vi('y')] })],
  // Valid graphs of the ops with the most shape logic; past the first round their bytes get mutated.
  ['Attention GQA causal, float mask', () => model({ node: [{ opType: 'Attention', input: ['q', 'k', 'v', 'm'], output: ['y', '', '', 'qk'], attribute: [{ name: 'is_causal', type: 2, i: 1 }, { name: 'softcap', type: 1, f: 3 }, { name: 'qk_matmul_output_mode', type: 2, i: 2 }] }], input: [vi('q', [1, 4, 3, 2]), vi('k', [1, 2, 5, 2]), vi('v', [1, 2, 5, 2]), vi('m', [3, 4])], output: [vi('y'), vi('qk')] }, 23)],
  ['LSTM bidirectional', () => model({ node: [{ opType: 'LSTM', input: ['x', 'w', 'r'], output: ['y', 'h', 'c'], attribute: [{ name: 'hidden_size', type: 2, i: 2 }, { name: 'direction', type: 3, s: new TextEncoder().encode('bidirectional') }] }], input: [vi('x', [3, 1, 2]), vi('w', [2, 8, 2]), vi('r', [2, 8, 2])], output: [vi('y'), vi('h'), vi('c')] }, 14)],
  ['GridSample cubic reflection', () => model({ node: [{ opType: 'GridSample', input: ['x', 'g'], output: ['y'], attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('cubic') }, { name: 'padding_mode', type: 3, s: new TextEncoder().encode('reflection') }] }], input: [vi('x', [1, 1, 3, 3]), vi('g', [1, 2, 2, 2])], output: [vi('y')] }, 20)],
  ['SoftmaxCrossEntropyLoss ignore_index', () => model({ node: [{ opType: 'SoftmaxCrossEntropyLoss', input: ['x', 't'], output: ['y', 'lp'], attribute: [{ name: 'ignore_index', type: 2, i: 1 }] }], initializer: [{ name: 't', dims: [2, 2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 1, 2, 1] }], input: [vi('x', [2, 3, 2])], output: [vi('y'), vi('lp')] }, 13)],
  ['ImageDecoder garbage', () => model({ node: [{ opType: 'ImageDecoder', input: ['b'], output: ['y'] }], initializer: [{ name: 'b', dims: [12], dataType: onnx.TensorProto.DataType.UINT8, rawData: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13]) }], input: [], output: [vi('y')] }, 20)],
];

/** Case `id` of a campaign: every 10th is a pathological graph, the rest mutate the corpus. */
export function makeCase(seed, id, corpus) {
  const r = rng((seed * 0x9e3779b1 + id) >>> 0);
  if (id % 10 === 0) {
    const [what, make] = PATHOLOGICAL[(id / 10) % PATHOLOGICAL.length];
    const bytes = make();
    // Past the first round, mutate the hand-made ones too.
    if (id / 10 < PATHOLOGICAL.length || bytes.length === 0) return { what, bytes };
    const m = mutate(bytes, r);
    return { what: `${what} ${m.what}`, bytes: m.bytes };
  }
  const src = corpus[Math.floor(r() * corpus.length)];
  let m = mutate(src.bytes, r);
  // Sometimes stack a second mutation.
  if (r() < 0.25) { const m2 = mutate(m.bytes, r); m = { what: `${m.what}+${m2.what}`, bytes: m2.bytes }; }
  return { what: `${src.file.split('/').slice(-2).join('/')} ${m.what}`, bytes: m.bytes };
}
