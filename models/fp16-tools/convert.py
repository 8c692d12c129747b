"""A small re-implementation of onnxconverter-common's `float16.convert_float_to_float16`
(the classic algorithm, as in onnxconverter-common <= 1.13 and onnxruntime's transformers
optimizer `--float16` before its own fork). The package is not installable here (no pip), so
this reproduces what it writes into a model, quirks included:

- shape inference first (`onnx.shape_inference.infer_shapes`), so value_info covers the graph;
- keep_io_types: for every float graph input i a Cast(to=FLOAT16) named `graph_input_cast{i}`
  writing `graph_input_cast_{i}`; for every float graph output i a Cast(to=FLOAT) named
  `graph_output_cast{i}` reading `graph_output_cast_{i}`. These Casts are APPENDED to the node
  list, so the graph is no longer in topological order (onnxruntime sorts; so must we);
- breadth-first over the graph and its subgraphs: float initializers, Constant/attribute tensors,
  and float inputs/outputs/value_info become float16; values are clamped first (|x| in
  (0, min_positive_val) -> ±min_positive_val, |x| > max_finite_val finite -> ±max_finite_val);
- Cast nodes with to=FLOAT (1) are retargeted to FLOAT16 (10);
- nodes whose op is in DEFAULT_OP_BLOCK_LIST (or whose name is in node_block_list) stay float32:
  each float16 input gets Cast(to=FLOAT) `{node}_input_cast{i}` -> `{node}_input_cast_{i}`, each
  float16 output is renamed `{node}_output_cast_{i}` and Cast(to=FLOAT16) `{node}_output_cast{i}`
  back to the original name. Initializers feeding a blocked node are still converted (and Cast
  back), as the tool does. These Casts are appended too.

Usage: /usr/bin/python3 models/fp16-tools/convert.py   (writes the models listed in MODELS)
"""
import itertools
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_OP_BLOCK_LIST = [
    'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer',
    'FeatureVectorizer', 'Imputer', 'LabelEncoder', 'LinearClassifier', 'LinearRegressor',
    'Normalizer', 'OneHotEncoder', 'SVMClassifier', 'SVMRegressor', 'Scaler',
    'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK',
    'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample']

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def to_half(a, min_positive_val, max_finite_val):
    a = np.asarray(a, dtype=np.float32)
    a = np.where((0 < a) & (a < min_positive_val), min_positive_val, a)
    a = np.where((-min_positive_val < a) & (a < 0), -min_positive_val, a)
    a = np.where((max_finite_val < a) & (a < np.inf), max_finite_val, a)
    a = np.where((-np.inf < a) & (a < -max_finite_val), -max_finite_val, a)
    return a.astype(np.float16)


def tensor_to_half(t, lo, hi):
    """In place, the way the tool does it: float_data -> int32_data bit patterns, raw_data -> raw halves."""
    if t.data_type != FLOAT:
        return
    t.data_type = FLOAT16
    if t.float_data:
        h = to_half(np.array(t.float_data), lo, hi)
        t.int32_data[:] = [int(b) for b in h.view(np.uint16)]
        t.float_data[:] = []
    if t.raw_data:
        t.raw_data = to_half(np.frombuffer(t.raw_data, dtype='<f4'), lo, hi).tobytes()


def convert_float_to_float16(model, min_positive_val=1e-7, max_finite_val=1e4, keep_io_types=False,
                             op_block_list=None, node_block_list=None):
    model = onnx.shape_inference.infer_shapes(model)
    op_block = set(DEFAULT_OP_BLOCK_LIST if op_block_list is None else op_block_list)
    node_block = set(node_block_list or [])
    g0 = model.graph
    rename, skip_io, io_casts, half_values, blocked = {}, set(), set(), set(), []

    if keep_io_types:
        for i, vi in enumerate(g0.input):
            if vi.type.tensor_type.elem_type == FLOAT:
                out, name = f'graph_input_cast_{i}', f'graph_input_cast{i}'
                rename[vi.name] = out
                skip_io.add(vi.name)
                nv = g0.value_info.add(); nv.CopyFrom(vi); nv.name = out
                nv.type.tensor_type.elem_type = FLOAT16
                g0.node.append(helper.make_node('Cast', [vi.name], [out], to=FLOAT16, name=name))
                half_values.add(out); io_casts.add(name)
        for i, vi in enumerate(g0.output):
            if vi.type.tensor_type.elem_type == FLOAT:
                inp, name = f'graph_output_cast_{i}', f'graph_output_cast{i}'
                rename[vi.name] = inp
                skip_io.add(vi.name)
                nv = g0.value_info.add(); nv.CopyFrom(vi); nv.name = inp
                nv.type.tensor_type.elem_type = FLOAT16
                g0.node.append(helper.make_node('Cast', [inp], [vi.name], to=FLOAT, name=name))
                half_values.add(inp); io_casts.add(name)

    queue = [g0]
    while queue:
        nxt = []
        for g in queue:
            for n in g.node:
                if n.name in io_casts:
                    continue
                n.input[:] = [rename.get(x, x) for x in n.input]
                n.output[:] = [rename.get(x, x) for x in n.output]
                if n.op_type in op_block or n.name in node_block:
                    blocked.append(n)
                    continue
                if n.op_type == 'Cast':
                    for a in n.attribute:
                        if a.name == 'to' and a.i == FLOAT:
                            a.i = FLOAT16
                for a in n.attribute:
                    if a.HasField('g'):
                        nxt.append(a.g)
                    nxt.extend(a.graphs)
                    if a.HasField('t'):
                        tensor_to_half(a.t, min_positive_val, max_finite_val)
                    for t in a.tensors:
                        tensor_to_half(t, min_positive_val, max_finite_val)
            for t in g.initializer:
                if t.data_type == FLOAT:
                    tensor_to_half(t, min_positive_val, max_finite_val)
                    half_values.add(t.name)
            for vi in itertools.chain(g.input, g.output, g.value_info):
                if vi.type.tensor_type.elem_type == FLOAT and vi.name not in skip_io:
                    vi.type.tensor_type.elem_type = FLOAT16
                    half_values.add(vi.name)
        queue = nxt

    # Blocked nodes keep float32: Casts around them (added to the top graph, as the tool does), with
    # value_info copied from the float16 one and retyped to float.
    infos = {vi.name: vi for g in [g0] for vi in itertools.chain(g.input, g.output, g.value_info)}
    for t in g0.initializer:
        infos.setdefault(t.name, helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))

    def float_info(name, like):
        nv = g0.value_info.add()
        if like in infos:
            nv.CopyFrom(infos[like])
        else:
            nv.CopyFrom(helper.make_tensor_value_info(name, FLOAT, None))
        nv.name = name
        nv.type.tensor_type.elem_type = FLOAT

    for n in blocked:
        for i, x in enumerate(n.input):
            if x in half_values:
                out, name = f'{n.name}_input_cast_{i}', f'{n.name}_input_cast{i}'
                float_info(out, x)
                g0.node.append(helper.make_node('Cast', [x], [out], to=FLOAT, name=name))
                n.input[i] = out
        for i, y in enumerate(n.output):
            if y in half_values:
                inp, name = f'{n.name}_output_cast_{i}', f'{n.name}_output_cast{i}'
                float_info(inp, y)
                g0.node.append(helper.make_node('Cast', [inp], [y], to=FLOAT16, name=name))
                n.output[i] = inp
    return model


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# (source, output stem, clear output dim names first). torch exported resize-op11's six outputs with
# one shared set of dim names although their sizes differ. onnxruntime ignores that on graph outputs,
# but the tool copies those value_infos onto inner tensors (the output Casts' inputs), where
# onnxruntime trusts them and fails ("Shape mismatch attempting to re-use buffer"). So they are
# cleared before converting; the float16 conversion itself is untouched.
MODELS = [
    ('mnist/mnist-cnn.onnx', 'mnist-cnn', False),
    ('bert/tiny-random.onnx', 'bert-tiny', False),
    ('zoo/resize-op11.onnx', 'resize-op11', True),
    ('zoo/det-op11.onnx', 'det-op11', False),
    ('zoo/rec-gru-op13.onnx', 'rec-gru-op13', False),
    ('mobile-det/mobile-det.onnx', 'mobile-det', False),
]


def name_nodes(model):
    """Unnamed nodes would give the block-list Casts clashing names; name them as exporters do."""
    for k, n in enumerate(model.graph.node):
        if not n.name:
            n.name = f'{n.op_type}_{k}'


if __name__ == '__main__':
    for src, stem, clear_output_dims in MODELS:
        for keep in (False, True):
            m = onnx.load(os.path.join(ROOT, src))
            name_nodes(m)
            if clear_output_dims:
                for vi in m.graph.output:
                    for d in vi.type.tensor_type.shape.dim:
                        d.ClearField('dim_param')
            out = convert_float_to_float16(m, keep_io_types=keep)
            path = os.path.join(HERE, f'{stem}-fp16{"-keepio" if keep else ""}.onnx')
            onnx.save(out, path)
            ops = {}
            for n in out.graph.node:
                ops[n.op_type] = ops.get(n.op_type, 0) + 1
            print(f'{os.path.basename(path)}: {os.path.getsize(path)} bytes, {ops.get("Cast", 0)} Casts')
