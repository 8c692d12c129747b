// A conv-heavy model made in memory for the bench (no file, no Python): four 3×3 convolutions with
// ReLU on a 3×96×96 image, then a 1024-wide fully connected layer. Large GEMMs, so it shows what
// threads can do where MNIST's small ones cannot. Deterministic weights.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const F = onnx.TensorProto.DataType.FLOAT;

function weights(name, dims, seed, scale) {
  const n = dims.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; v[i] = (s / 2 ** 32 - 0.5) * scale; }
  return { name, dims, dataType: F, rawData: new Uint8Array(v.buffer) };
}
const attr = (name, ints) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
const info = (name, dims) => ({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

export function convnetModel() {
  const layers = [[3, 32, 1], [32, 64, 2], [64, 64, 1], [64, 128, 2]]; // [in, out, stride]
  const nodes = [], inits = [];
  let x = 'x';
  layers.forEach(([c, m, s], i) => {
    inits.push(weights(`w${i}`, [m, c, 3, 3], 11 + i, 2 / Math.sqrt(c * 9)), weights(`b${i}`, [m], 21 + i, 0.1));
    nodes.push({ opType: 'Conv', input: [x, `w${i}`, `b${i}`], output: [`c${i}`], attribute: [attr('pads', [1, 1, 1, 1]), attr('strides', [s, s])] });
    nodes.push({ opType: 'Relu', input: [`c${i}`], output: [`r${i}`] });
    x = `r${i}`;
  });
  nodes.push({ opType: 'GlobalAveragePool', input: [x], output: ['g'] });
  nodes.push({ opType: 'Flatten', input: ['g'], output: ['f'] });
  inits.push(weights('wf', [128, 1024], 31, 0.1), weights('bf', [1024], 32, 0.1));
  nodes.push({ opType: 'Gemm', input: ['f', 'wf', 'bf'], output: ['y'] });
  return onnx.ModelProto.encode({
    irVersion: 8, producerName: 'tessera-bench', opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'convnet', node: nodes, initializer: inits, input: [info('x', [1, 3, 96, 96])], output: [info('y', [1, 1024])] },
  }).finish();
}

export function convnetFeeds() {
  const data = new Float32Array(3 * 96 * 96);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 255;
  return { x: { type: 'float32', data, dims: [1, 3, 96, 96] } };
}
