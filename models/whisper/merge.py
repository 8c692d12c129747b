"""
decoder_model + decoder_with_past_model → decoder_model_merged, written as optimum's
merge_decoders(strict=False) writes it (optimum/onnx/graph_transformations.py; re-implemented
here, optimum is not installable):

- outputs unified: decoder_with_past lacks present.{i}.encoder.key/value (the cross-attention
  caches are constant after the first step), so its branch gets a Constant for each, an empty
  tensor of the decoder output's shape with the first dynamic axis 0 and any further dynamic
  axis 1 (here [0, heads, 1, head_dim]), inserted at the same output position; every branch
  output takes the decoder's value_info;
- inputs: the decoder's, then decoder_with_past's not yet seen, then `use_cache_branch` bool [1];
- initializers: equal data (same type, dims and bytes) across both graphs is stored once at the
  top level, renamed `{name}_merged_{k}`; scalars and 1-D int32/int64 initializers stay inside
  their branch;
- one node: If(use_cache_branch) named `optimum::if`, then = with_past, else = no_past.
"""
import copy
import hashlib
from collections import defaultdict

import onnx
from onnx import helper, numpy_helper


def _kept_in_branch(t):
    return len(t.dims) == 0 or (len(t.dims) == 1 and t.data_type in (6, 7))


def _shape(vi):
    return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]


def _unify_outputs(dec, past):
    have = {o.name for o in past.graph.output}
    outs = list(past.graph.output)
    by_name = {o.name: o for o in outs}
    new = []
    for o in dec.graph.output:
        if o.name in have:
            new.append(helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, _shape(o)))
            continue
        dims, first = [], None
        for d in _shape(o):
            if isinstance(d, str) and first is None:
                dims.append(0)
                first = True
            elif isinstance(d, str):
                dims.append(1)
            else:
                dims.append(d)
        value = helper.make_tensor('const_tensor', o.type.tensor_type.elem_type, dims, [])
        past.graph.node.append(helper.make_node('Constant', [], [o.name], name=f'Constant_{len(past.graph.node) + 1}', value=value))
        new.append(helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, _shape(o)))
    del by_name
    del past.graph.output[:]
    past.graph.output.extend(new)


def _dedup(models, suffix='merged'):
    groups = defaultdict(list)
    for i, m in enumerate(models):
        for t in m.graph.initializer:
            if _kept_in_branch(t):
                continue
            digest = hashlib.sha512(numpy_helper.to_array(t).tobytes()).hexdigest()
            groups[(t.data_type, digest, tuple(t.dims))].append((t.name, i))
    rename, used = {}, defaultdict(int)
    for members in groups.values():
        common = members[-1][0]
        k = used[common]
        used[common] += 1
        for key in members:
            rename[key] = f'{common}_{suffix}_{k}'
    for i, m in enumerate(models):
        for n in m.graph.node:
            for j, x in enumerate(n.input):
                if (x, i) in rename:
                    n.input[j] = rename[(x, i)]
    shared, seen = [], set()
    for i, m in enumerate(models):
        for t in m.graph.initializer:
            key = (t.name, i)
            if key in rename and rename[key] not in seen:
                seen.add(rename[key])
                t2 = copy.deepcopy(t)
                t2.name = rename[key]
                shared.append(t2)
    return shared


def _toposort(graph):
    """Nodes in dependency order, otherwise in file order. onnxruntime sorts a main graph but
    requires sorted subgraphs, and the fp16 tool appends its edge Casts at the end."""
    ready = {x.name for x in graph.input} | {t.name for t in graph.initializer} | {''}
    todo, done = list(graph.node), []
    while todo:
        rest = []
        for n in todo:
            if all(x in ready for x in n.input):
                done.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(todo):
            raise RuntimeError(f'cycle or missing input at {rest[0].name}')
        todo = rest
    nodes = [copy.deepcopy(n) for n in done]
    del graph.node[:]
    graph.node.extend(nodes)


def merge_decoders(decoder, decoder_with_past):
    dec, past = copy.deepcopy(decoder), copy.deepcopy(decoder_with_past)
    _toposort(dec.graph)
    _toposort(past.graph)
    _unify_outputs(dec, past)
    inputs, names = [], set()
    for m in (dec, past):
        for x in m.graph.input:
            if x.name not in names:
                names.add(x.name)
                inputs.append(x)
    shared = _dedup([dec, past])
    no_past = helper.make_graph(dec.graph.node, 'no_past', [], dec.graph.output,
                                [t for t in dec.graph.initializer if _kept_in_branch(t)])
    with_past = helper.make_graph(past.graph.node, 'with_past', [], past.graph.output,
                                  [t for t in past.graph.initializer if _kept_in_branch(t)])
    use_cache = helper.make_tensor_value_info('use_cache_branch', onnx.TensorProto.BOOL, [1])
    node = helper.make_node('If', ['use_cache_branch'], [o.name for o in no_past.output], name='optimum::if',
                            then_branch=with_past, else_branch=no_past)
    graph = helper.make_graph([node], 'merged', inputs + [use_cache], no_past.output, shared)
    opsets, domains = [], set()
    for o in list(dec.opset_import) + list(past.opset_import):
        if o.domain not in domains:
            opsets.append(o)
            domains.add(o.domain)
    model = helper.make_model(graph, producer_name='optimum-onnx', opset_imports=opsets)
    model.ir_version = 8  # optimum writes 9; onnx 1.12 here checks up to 8
    return model
