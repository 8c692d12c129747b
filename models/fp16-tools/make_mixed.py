"""Builds models/fp16-tools/mixed.onnx (float32, opset 13) for convert.py: the parts of the float16
conversion that the exported models do not reach. Deterministic (numpy seed 5).

- initializers and a Constant stored as float_data (not raw_data), which the tool rewrites as
  float16 bit patterns in int32_data; a weight below 1e-7 and one above 1e4 (clamped);
- an If whose branches hold float ops and a Constant, and a Loop whose body adds an outer-scope
  float value (subgraph value_info, inputs and outputs retyped; outer names renamed by keep_io_types);
- Cast(to=FLOAT) of an int64 input (retargeted to FLOAT16);
- blocked ops with float inputs: TopK, CumSum, Max, Min, Range (Casts around them).
Input x float [n, 8], k int64 [1] (TopK's k), steps int64 [] (Loop trip count).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h

rng = np.random.default_rng(5)


def ftensor(name, arr):
    # float_data storage, as older exporters and onnx.helper (raw=False) write it
    return h.make_tensor(name, TP.FLOAT, arr.shape, arr.astype(np.float32).flatten().tolist())


w = rng.normal(0, 0.5, (8, 8)).astype(np.float32)
w[0, 0], w[1, 1] = 3e-8, 2e4  # clamped to 1e-7 and 1e4 by the classic tool
b = rng.normal(0, 0.5, (8,)).astype(np.float32)

then_g = h.make_graph(
    [h.make_node('Constant', [], ['tc'], value=ftensor('tcv', np.array([1.5], np.float32))),
     h.make_node('Mul', ['m', 'tc'], ['t_out']), h.make_node('Tanh', ['t_out'], ['then_y'])],
    'then', [], [h.make_tensor_value_info('then_y', TP.FLOAT, None)])
else_g = h.make_graph(
    [h.make_node('Sigmoid', ['m'], ['else_y'])],
    'else', [], [h.make_tensor_value_info('else_y', TP.FLOAT, None)])
body = h.make_graph(
    [h.make_node('Identity', ['cond_in'], ['cond_out']),
     h.make_node('Mul', ['acc_in', 'half'], ['scaled']),
     h.make_node('Add', ['scaled', 'b'], ['acc_out'])],
    'body',
    [h.make_tensor_value_info('iter', TP.INT64, []), h.make_tensor_value_info('cond_in', TP.BOOL, []),
     h.make_tensor_value_info('acc_in', TP.FLOAT, None)],
    [h.make_tensor_value_info('cond_out', TP.BOOL, []), h.make_tensor_value_info('acc_out', TP.FLOAT, None)])

nodes = [
    h.make_node('MatMul', ['x', 'w'], ['mm'], name='matmul'),
    h.make_node('Add', ['mm', 'b'], ['m'], name='bias'),
    h.make_node('ReduceSum', ['m'], ['total'], keepdims=0, name='total'),
    h.make_node('Greater', ['total', 'zero'], ['positive'], name='positive'),
    h.make_node('If', ['positive'], ['branch'], then_branch=then_g, else_branch=else_g, name='if'),
    h.make_node('Constant', [], ['true'], value=h.make_tensor('tv', TP.BOOL, [], [True]), name='true'),
    h.make_node('Loop', ['steps', 'true', 'branch'], ['looped'], body=body, name='loop'),
    h.make_node('Cast', ['steps'], ['steps_f'], to=TP.FLOAT, name='steps_to_float'),
    h.make_node('Mul', ['looped', 'steps_f'], ['lf'], name='times_steps'),
    h.make_node('TopK', ['lf', 'k'], ['top', 'top_i'], axis=1, name='topk'),
    h.make_node('CumSum', ['top', 'axis1'], ['cum'], name='cumsum'),
    h.make_node('Max', ['cum', 'lo'], ['hi_part'], name='max'),
    h.make_node('Min', ['hi_part', 'hi'], ['clipped'], name='min'),
    h.make_node('Constant', [], ['rstart'], value=ftensor('rs', np.array(0.25, np.float32)), name='rstart'),
    h.make_node('Constant', [], ['rdelta'], value=ftensor('rd', np.array(0.5, np.float32)), name='rdelta'),
    h.make_node('Cast', ['k'], ['kf1'], to=TP.FLOAT, name='k_to_float'),
    h.make_node('Squeeze', ['kf1'], ['kf'], name='k_scalar'),
    h.make_node('Mul', ['kf', 'rdelta'], ['rlimit0'], name='rlimit'),
    h.make_node('Add', ['rlimit0', 'rstart'], ['rlimit1'], name='rlimit_plus'),
    h.make_node('Range', ['rstart', 'rlimit1', 'rdelta'], ['ramp'], name='range'),
    h.make_node('Add', ['clipped', 'ramp'], ['y'], name='out'),
]
graph = h.make_graph(
    nodes, 'mixed',
    [h.make_tensor_value_info('x', TP.FLOAT, ['n', 8]), h.make_tensor_value_info('k', TP.INT64, [1]),
     h.make_tensor_value_info('steps', TP.INT64, [])],
    [h.make_tensor_value_info('y', TP.FLOAT, ['n', 'k']), h.make_tensor_value_info('top_i', TP.INT64, ['n', 'k'])],
    [ftensor('w', w), ftensor('b', b), ftensor('zero', np.array(0, np.float32)),
     ftensor('half', np.array([0.5], np.float32)), ftensor('lo', np.array([-2.0], np.float32)),
     ftensor('hi', np.array([6.0], np.float32)), h.make_tensor('axis1', TP.INT64, [], [1])])
model = h.make_model(graph, opset_imports=[h.make_opsetid('', 13)], producer_name='fp16-tools')
model.ir_version = 7
onnx.checker.check_model(model, full_check=True)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mixed.onnx'))
