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
                             op_block_list=None, node_block_list=None, track_initializers=False,
                             always_float_inputs=None):
    """track_initializers=True is onnxruntime's transformers fork (`float16.py` there, used by
    `optimizer.py --float16` and optimum): a float initializer read only by blocked nodes stays
    float32 (no Cast); one read by any float16 node is converted. always_float_inputs maps an op to
    the input indices that stay float32 in an unblocked node (Cast to float before them), e.g.
    {'Resize': [2]} with Resize taken off the block list: float16 X, float32 scales, as the spec
    requires and as later onnxruntime versions convert it."""
    model = onnx.shape_inference.infer_shapes(model)
    op_block = set(DEFAULT_OP_BLOCK_LIST if op_block_list is None else op_block_list)
    node_block = set(node_block_list or [])
    always_float = always_float_inputs or {}
    g0 = model.graph
    rename, skip_io, io_casts, half_values, blocked = {}, set(), set(), set(), []
    partial = []  # (node, float32 input indices) for unblocked nodes with always-float inputs
    users = {}  # float initializer name -> [tensor, read by a float16 node?, read by a float32 node?]

    if keep_io_types:
        # A float16 twin of each float graph input (Cast after it) and output (Cast before it),
        # which the rest of the graph reads or writes instead.
        for kind, values in (('input', g0.input), ('output', g0.output)):
            for i, vi in enumerate(values):
                if vi.type.tensor_type.elem_type != FLOAT:
                    continue
                twin, name = f'graph_{kind}_cast_{i}', f'graph_{kind}_cast{i}'
                rename[vi.name] = twin
                skip_io.add(vi.name)
                nv = g0.value_info.add(); nv.CopyFrom(vi); nv.name = twin
                nv.type.tensor_type.elem_type = FLOAT16
                if kind == 'input':
                    g0.node.append(helper.make_node('Cast', [vi.name], [twin], to=FLOAT16, name=name))
                else:
                    g0.node.append(helper.make_node('Cast', [twin], [vi.name], to=FLOAT, name=name))
                half_values.add(twin); io_casts.add(name)

    queue = [g0]
    while queue:
        nxt = []
        for g in queue:
            if track_initializers:
                for t in g.initializer:
                    if t.data_type == FLOAT:
                        users[t.name] = [t, False, False]
            for n in g.node:
                if n.name in io_casts:
                    continue
                n.input[:] = [rename.get(x, x) for x in n.input]
                n.output[:] = [rename.get(x, x) for x in n.output]
                is_blocked = n.op_type in op_block or n.name in node_block
                keep32 = [] if is_blocked else always_float.get(n.op_type, [])
                for i, x in enumerate(n.input):
                    if x in users:
                        users[x][2 if is_blocked or i in keep32 else 1] = True
                if keep32:
                    partial.append((n, keep32))
                if is_blocked:
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
            if not track_initializers:
                for t in g.initializer:
                    if t.data_type == FLOAT:
                        tensor_to_half(t, min_positive_val, max_finite_val)
                        half_values.add(t.name)
            for vi in itertools.chain(g.input, g.output, g.value_info):
                if vi.type.tensor_type.elem_type == FLOAT and vi.name not in skip_io:
                    vi.type.tensor_type.elem_type = FLOAT16
                    half_values.add(vi.name)
                seq = vi.type.sequence_type.elem_type.tensor_type if vi.type.HasField('sequence_type') else None
                if seq is not None and seq.elem_type == FLOAT and vi.name not in skip_io:
                    seq.elem_type = FLOAT16
                    half_values.add(vi.name)
        queue = nxt
    # onnxruntime's fork: convert only the initializers some float16 node reads.
    for t, read_by_half, _ in users.values():
        if read_by_half:
            tensor_to_half(t, min_positive_val, max_finite_val)
            half_values.add(t.name)

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

    def cast_input_to_float(n, i):
        x = n.input[i]
        out, name = f'{n.name}_input_cast_{i}', f'{n.name}_input_cast{i}'
        float_info(out, x)
        g0.node.append(helper.make_node('Cast', [x], [out], to=FLOAT, name=name))
        n.input[i] = out

    for n, keep32 in partial:
        for i in keep32:
            if i < len(n.input) and n.input[i] in half_values:
                cast_input_to_float(n, i)
    for n in blocked:
        for i, x in enumerate(n.input):
            if x in half_values:
                cast_input_to_float(n, i)
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
    ('fp16-tools/mixed.onnx', 'mixed', False),  # made by make_mixed.py
]


def constants_to_initializers(model):
    """Constant nodes (tensor `value`) become initializers, as onnxruntime's optimizer saves them
    before its `--float16` step; torch exports keep them as nodes."""
    g = model.graph
    keep = []
    for n in g.node:
        if n.op_type == 'Constant' and len(n.attribute) == 1 and n.attribute[0].name == 'value':
            t = TensorProto(); t.CopyFrom(n.attribute[0].t); t.name = n.output[0]
            g.initializer.append(t)
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)


def name_nodes(model):
    """Unnamed nodes would give the block-list Casts clashing names; name them as exporters do."""
    for k, n in enumerate(model.graph.node):
        if not n.name:
            n.name = f'{n.op_type}_{k}'


# Variants: (suffix, keyword arguments). The classic tool with and without keep_io_types; onnxruntime's
# fork (its defaults 5.96e-8 / 65504, float32 initializers kept for blocked nodes); and Resize taken
# off the block list with its scales kept float32.
ORT = dict(min_positive_val=5.96e-08, max_finite_val=65504.0, track_initializers=True, fold_constants=True)
RESIZE_FP16 = dict(ORT, op_block_list=[o for o in DEFAULT_OP_BLOCK_LIST if o != 'Resize'],
                   always_float_inputs={'Resize': [2]})
VARIANTS = {
    '': dict(keep_io_types=False),
    '-keepio': dict(keep_io_types=True),
    '-ort-keepio': dict(ORT, keep_io_types=True),
    '-resize16': dict(RESIZE_FP16, keep_io_types=False),
}
# Which variants each model gets (the 1.7 MB mobile-det only the two classic ones).
MODEL_VARIANTS = {
    'mnist-cnn': ['', '-keepio'],
    'bert-tiny': ['', '-keepio', '-ort-keepio'],
    'resize-op11': ['', '-keepio', '-ort-keepio', '-resize16'],
    'det-op11': ['', '-keepio', '-ort-keepio', '-resize16'],
    'rec-gru-op13': ['', '-keepio'],
    'mobile-det': ['', '-keepio'],
    'mixed': ['', '-keepio', '-ort-keepio'],
}

if __name__ == '__main__':
    for src, stem, clear_output_dims in MODELS:
        for suffix in MODEL_VARIANTS[stem]:
            m = onnx.load(os.path.join(ROOT, src))
            name_nodes(m)
            if clear_output_dims:
                for vi in m.graph.output:
                    for d in vi.type.tensor_type.shape.dim:
                        d.ClearField('dim_param')
            kw = dict(VARIANTS[suffix])
            if kw.pop('fold_constants', False):
                constants_to_initializers(m)
            out = convert_float_to_float16(m, **kw)
            path = os.path.join(HERE, f'{stem}-fp16{suffix}.onnx')
            onnx.save(out, path)
            casts = sum(n.op_type == 'Cast' for n in out.graph.node)
            f32 = sum(t.data_type == FLOAT for t in out.graph.initializer)
            print(f'{os.path.basename(path)}: {os.path.getsize(path)} bytes, {casts} Casts, {f32} float32 initializers')
