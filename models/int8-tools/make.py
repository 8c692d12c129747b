"""
Int8 models made the way the common tools make them, without those tools (onnxruntime's Python
package is not installable here). A small re-implementation of the graph patterns that
onnxruntime.quantization writes (onnxruntime/python/tools/quantization: onnx_quantizer.py,
qdq_quantizer.py, quant_utils.py, operators/{matmul,conv,gather,softmax,activation}.py):

quantize_dynamic (QOperator "IntegerOps" registry: MatMul, Conv, Gather; Gemm is NOT in it and
stays float, as in onnxruntime):
  MatMul  x ─DynamicQuantizeLinear→ (x_q u8, x_scale, x_zp)   [one per tensor, shared by readers]
          W → W_quantized (QInt8 symmetric / QUInt8 asymmetric; per_channel: per column, axis 1)
          MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast(float) → Mul(·, Mul(x_scale, W_scale))
          (an activation as B gets its own DynamicQuantizeLinear, u8 × u8)
  Conv    same with ConvInteger; weights per tensor (ConvInteger takes scalar zero points);
          bias → Reshape [1,-1,1,1] → Add
  Gather  float initializer table → uint8 asymmetric (the activation type), Gather on it,
          DequantizeLinear after
  reduce_range: weights in 7 bits (u8 0..127, s8 -64..64); opset < 10 is bumped to 11.

quantize_static, QDQ format (MinMax calibration):
  activations: QuantizeLinear → DequantizeLinear pair per tensor (u8 or s8, asymmetric, scalar
  scale/zp); weights: int8 symmetric initializer → DequantizeLinear (per_channel: axis 0 for Conv
  and for Gemm with transB=1, else 1); biases: int32 = round(b / (x_scale·w_scale)), zp 0,
  DequantizeLinear (axis 0 when per channel); Relu after Conv/Gemm is removed (the producer's
  output takes its range, zero point at qmin clamps); MaxPool's output shares its input's
  parameters; Softmax's output is fixed at scale 1/256 (zp 0 for u8, -128 for s8).

Run: /usr/bin/python3 models/int8-tools/make.py   (writes the .onnx files beside this script)
"""
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
NP = {'uint8': np.uint8, 'int8': np.int8}
ONNX_T = {'uint8': TensorProto.UINT8, 'int8': TensorProto.INT8}


# ---- quant_utils -------------------------------------------------------------------------------

def qrange(qtype, reduce_range=False, symmetric=False):
    """get_qmin_qmax_for_qType."""
    if qtype == 'uint8':
        return (0, 127) if reduce_range else (0, 255)
    if reduce_range:
        return (-64, 64)
    return (-127, 127) if symmetric else (-128, 127)


def scale_zp(rmin, rmax, qmin, qmax, symmetric):
    """compute_scale_zp: the range always holds 0; symmetric makes it ±absmax."""
    rmin = np.minimum(np.asarray(rmin, np.float32), 0)
    rmax = np.maximum(np.asarray(rmax, np.float32), 0)
    if symmetric:
        a = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -a, a
    scale = (rmax.astype(np.float64) - rmin) / (qmax - qmin)
    scale = np.where(scale < np.finfo(np.float32).tiny, 1.0, scale).astype(np.float32)
    if symmetric:
        zp = np.full(scale.shape, np.round((qmax + qmin) / 2))
    else:
        zp = np.round(qmin - rmin / scale)
    return scale, zp


def quantize_array(arr, scale, zp, qtype, qmin, qmax):
    """quantize_nparray: round(x / scale) + zp, clipped."""
    q = np.round(arr.astype(np.float32) / scale) + zp
    return np.clip(q, qmin, qmax).astype(NP[qtype])


def quantize_weight(w, qtype, reduce_range, symmetric, axis=None):
    qmin, qmax = qrange(qtype, reduce_range, symmetric)
    if axis is None:
        s, z = scale_zp(w.min(), w.max(), qmin, qmax, symmetric)
        return quantize_array(w, s, z, qtype, qmin, qmax), s.reshape(()), z.astype(NP[qtype]).reshape(())
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    s, z = scale_zp(moved.min(1), moved.max(1), qmin, qmax, symmetric)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = quantize_array(w, s.reshape(shape), z.reshape(shape), qtype, qmin, qmax)
    return q, s, z.astype(NP[qtype])


class Builder:
    def __init__(self, model):
        self.model = model
        self.g = model.graph
        self.inits = {i.name: i for i in self.g.initializer}
        self.nodes = []
        self.n = 0

    def float_init(self, name):
        t = self.inits.get(name)
        return numpy_helper.to_array(t) if t is not None and t.data_type == TensorProto.FLOAT else None

    def add_init(self, name, arr):
        t = numpy_helper.from_array(np.asarray(arr), name)
        self.g.initializer.append(t)
        self.inits[name] = t
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.n += 1
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f'{outputs[0]}_{op}_{self.n}', **attrs))
        return outputs[0]

    def finish(self, min_opset):
        used = {i for n in self.nodes for i in n.input}
        del self.g.node[:]
        self.g.node.extend(self.nodes)
        keep = [t for t in self.g.initializer if t.name in used]
        del self.g.initializer[:]
        self.g.initializer.extend(keep)
        # Old-style models list initializers as graph inputs too; a replaced weight goes from both.
        gone = {i.name for i in self.g.input} & (set(self.inits) - {t.name for t in keep})
        ins = [i for i in self.g.input if i.name not in gone]
        del self.g.input[:]
        self.g.input.extend(ins)
        for o in self.model.opset_import:
            if o.domain in ('', 'ai.onnx') and o.version < min_opset:
                o.version = 11 if min_opset <= 11 else min_opset
        onnx.checker.check_model(self.model)
        return self.model


# ---- quantize_dynamic --------------------------------------------------------------------------

def quantize_dynamic(model, weight_type='int8', per_channel=False, reduce_range=False,
                     op_types=('MatMul', 'Conv', 'Gather'), matmul_const_b_only=False):
    """matmul_const_b_only: onnxruntime's extra option MatMulConstBOnly (transformers.js sets it):
    a MatMul whose B is not an initializer (attention's Q·Kᵀ, P·V) stays float."""
    b = Builder(model)
    weight_sym = weight_type == 'int8'  # WeightSymmetric's default
    dql, wq = {}, {}

    def activation(name):
        if name not in dql:
            q, s, z = f'{name}_quantized', f'{name}_scale', f'{name}_zero_point'
            b.node('DynamicQuantizeLinear', [name], [q, s, z])
            dql[name] = (q, s, z)
        return dql[name]

    def weight(name, axis):
        key = (name, axis)
        if key not in wq:
            q, s, z = quantize_weight(b.float_init(name), weight_type, reduce_range, weight_sym, axis)
            wq[key] = (b.add_init(f'{name}_quantized', q), b.add_init(f'{name}_scale', s),
                       b.add_init(f'{name}_zero_point', z))
        return wq[key]

    for n in list(model.graph.node):
        if n.op_type == 'MatMul' and 'MatMul' in op_types and matmul_const_b_only and b.float_init(n.input[1]) is None:
            b.nodes.append(n)
        elif n.op_type == 'MatMul' and 'MatMul' in op_types:
            out = n.output[0]
            xq, xs, xz = activation(n.input[0])
            w = b.float_init(n.input[1])
            if w is not None:
                wqn, ws, wz = weight(n.input[1], 1 if per_channel and w.ndim == 2 else None)
            else:
                wqn, ws, wz = activation(n.input[1])
            i32 = b.node('MatMulInteger', [xq, wqn, xz, wz], [f'{out}_output_quantized'])
            f32 = b.node('Cast', [i32], [f'{out}_output_quantized_cast_output'], to=TensorProto.FLOAT)
            sm = b.node('Mul', [xs, ws], [f'{out}_scales_mul'])
            b.node('Mul', [f32, sm], [out])
        elif n.op_type == 'Conv' and 'Conv' in op_types and b.float_init(n.input[1]) is not None:
            out = n.output[0]
            xq, xs, xz = activation(n.input[0])
            wqn, ws, wz = weight(n.input[1], None)
            scaled = f'{out}_scaled' if len(n.input) > 2 and n.input[2] else out
            i32 = b.node('ConvInteger', [xq, wqn, xz, wz], [f'{out}_output_quantized'])
            b.nodes[-1].attribute.extend(a for a in n.attribute)
            f32 = b.node('Cast', [i32], [f'{out}_output_quantized_cast_output'], to=TensorProto.FLOAT)
            sm = b.node('Mul', [xs, ws], [f'{out}_scales_mul'])
            b.node('Mul', [f32, sm], [scaled])
            if scaled != out:
                rank = len(b.inits[n.input[1]].dims)
                shape = b.add_init(f'{out}_bias_reshape_shape', np.array([1, -1] + [1] * (rank - 2), np.int64))
                rb = b.node('Reshape', [n.input[2], shape], [f'{out}_bias_reshape_output'])
                b.node('Add', [scaled, rb], [out])
        elif n.op_type == 'Gather' and 'Gather' in op_types and b.float_init(n.input[0]) is not None:
            # quantize_activation on an initializer: the activation type (uint8), asymmetric.
            q, s, z = quantize_weight(b.float_init(n.input[0]), 'uint8', False, False, None)
            tq = b.add_init(f'{n.input[0]}_quantized', q)
            ts, tz = b.add_init(f'{n.input[0]}_scale', s), b.add_init(f'{n.input[0]}_zero_point', z)
            out = n.output[0]
            b.node('Gather', [tq, n.input[1]], [f'{out}_quantized'], **{a.name: helper.get_attribute_value(a) for a in n.attribute})
            b.node('DequantizeLinear', [f'{out}_quantized', ts, tz], [out])
        else:
            b.nodes.append(n)
    return b.finish(10)


# ---- quantize_static (QDQ) ---------------------------------------------------------------------

def run_float(model, feeds):
    """Every tensor of a float model made of the ops the MNIST CNN uses (the calibration pass)."""
    env = {k: torch.from_numpy(v) for k, v in feeds.items()}
    for t in model.graph.initializer:
        env[t.name] = torch.from_numpy(numpy_helper.to_array(t).copy())
    for n in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        x = [env[i] for i in n.input if i]
        if n.op_type == 'Conv':
            p = a.get('pads', [0, 0, 0, 0])
            assert p[:2] == p[2:], n.name
            y = F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, a.get('strides', 1), p[:2], a.get('dilations', 1), a.get('group', 1))
        elif n.op_type == 'Relu':
            y = F.relu(x[0])
        elif n.op_type == 'MaxPool':
            y = F.max_pool2d(x[0], a['kernel_shape'], a.get('strides'), a.get('pads', [0, 0, 0, 0])[:2])
        elif n.op_type == 'Flatten':
            y = x[0].reshape(x[0].shape[0], -1)
        elif n.op_type == 'Gemm':
            w = x[1].T if a.get('transB', 0) else x[1]
            y = a.get('alpha', 1.0) * x[0] @ w + a.get('beta', 1.0) * x[2]
        elif n.op_type == 'Softmax':
            y = torch.softmax(x[0], a.get('axis', -1))
        else:
            raise ValueError(f'calibration: no {n.op_type}')
        env[n.output[0]] = y
    return {k: v.numpy() for k, v in env.items()}


def quantize_static_qdq(model, calib_feeds, activation_type='uint8', per_channel=False, weight_qdq_pair=False):
    """weight_qdq_pair: extra_options AddQDQPairToWeight (float weight → QuantizeLinear →
    DequantizeLinear, what QNN/TensorRT flows ask for) instead of an int8 initializer."""
    g = model.graph
    weight_type = 'int8'
    tensors = run_float(model, calib_feeds)
    qmin, qmax = qrange(activation_type)
    params = {}  # tensor → (scale, zp) names

    # Relu after Conv/Gemm with a single reader: removed, producer writes the Relu's output.
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}
    rename, removed = {}, set()
    for n in g.node:
        if n.op_type == 'Relu':
            src = n.input[0]
            prod = next((p for p in g.node if src in p.output), None)
            if prod is not None and prod.op_type in ('Conv', 'Gemm') and len(readers[src]) == 1 and src not in outputs:
                rename[src] = n.output[0]
                removed.add(id(n))
    b = Builder(model)

    def act_params(name, fixed=None, same_as=None):
        if name not in params:
            if same_as is not None:
                params[name] = params[same_as]
            else:
                if fixed is not None:
                    s, z = np.float32(fixed[0]), np.array(fixed[1])
                else:
                    v = tensors[name]
                    s, z = scale_zp(v.min(), v.max(), qmin, qmax, False)
                params[name] = (b.add_init(f'{name}_scale', np.asarray(s, np.float32).reshape(())),
                                b.add_init(f'{name}_zero_point', np.asarray(z).astype(NP[activation_type]).reshape(())))
        return params[name]

    def qdq(name, final=False):
        """Q→DQ on an activation; a graph output keeps its name on the DQ."""
        s, z = params[name]
        if final:
            q_in = f'{name}_QuantizeLinear_Input'
            b.node('QuantizeLinear', [q_in, s, z], [f'{name}_QuantizeLinear_Output'])
            b.node('DequantizeLinear', [f'{name}_QuantizeLinear_Output', s, z], [name])
            return q_in
        b.node('QuantizeLinear', [name, s, z], [f'{name}_QuantizeLinear_Output'])
        return b.node('DequantizeLinear', [f'{name}_QuantizeLinear_Output', s, z], [f'{name}_DequantizeLinear_Output'])

    dq_of = {}
    for i in g.input:
        if i.name not in b.inits:
            act_params(i.name)
            dq_of[i.name] = qdq(i.name)

    def inp(name):
        return dq_of.get(name, name)

    for n in list(g.node):
        if id(n) in removed:
            continue
        out = rename.get(n.output[0], n.output[0])
        final = out in outputs
        if n.op_type in ('Conv', 'Gemm'):
            x = inp(n.input[0])
            xs_name, _ = params[n.input[0]]
            axis = None
            if per_channel:
                axis = 0 if n.op_type == 'Conv' or any(a.name == 'transB' and a.i == 1 for a in n.attribute) else 1
            w = b.float_init(n.input[1])
            q, s, z = quantize_weight(w, weight_type, False, True, axis)
            ws, wz = b.add_init(f'{n.input[1]}_scale', s), b.add_init(f'{n.input[1]}_zero_point', z)
            ax = {} if axis is None else {'axis': axis}
            if weight_qdq_pair:
                wq = b.node('QuantizeLinear', [n.input[1], ws, wz], [f'{n.input[1]}_QuantizeLinear_Output'], **ax)
            else:
                wq = b.add_init(f'{n.input[1]}_quantized', q)
            wd = b.node('DequantizeLinear', [wq, ws, wz], [f'{n.input[1]}_DequantizeLinear_Output'], **ax)
            ins = [x, wd]
            if len(n.input) > 2 and n.input[2]:
                bias_scale = (numpy_helper.to_array(b.inits[xs_name]) * s).astype(np.float32)
                bq = np.round(b.float_init(n.input[2]) / bias_scale).astype(np.int32)
                bqn = b.add_init(f'{n.input[2]}_quantized', bq)
                bs = b.add_init(f'{n.input[2]}_quantized_scale', bias_scale)
                bz = b.add_init(f'{n.input[2]}_quantized_zero_point', np.zeros(bias_scale.shape, np.int32))
                ins.append(b.node('DequantizeLinear', [bqn, bs, bz], [f'{n.input[2]}_DequantizeLinear_Output'],
                                  **({'axis': 0} if axis is not None else {})))
            act_params(out)
            y = f'{out}_QuantizeLinear_Input' if final else out
            b.nodes.append(helper.make_node(n.op_type, ins, [y], name=n.name, **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
            dq_of[out] = qdq(out, final)
        elif n.op_type == 'MaxPool':
            act_params(out, same_as=n.input[0])
            y = f'{out}_QuantizeLinear_Input' if final else out
            b.nodes.append(helper.make_node(n.op_type, [inp(n.input[0])], [y], name=n.name, **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
            dq_of[out] = qdq(out, final)
        elif n.op_type == 'Softmax':
            act_params(out, fixed=(1 / 256, 0 if activation_type == 'uint8' else -128))
            y = f'{out}_QuantizeLinear_Input' if final else out
            b.nodes.append(helper.make_node(n.op_type, [inp(n.input[0])], [y], name=n.name, **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
            dq_of[out] = qdq(out, final)
        else:
            # not quantized (Flatten): reads the dequantized input, writes float; the next
            # quantized reader quantizes its output.
            b.nodes.append(helper.make_node(n.op_type, [inp(i) for i in n.input], [out], name=n.name,
                                            **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
            if any(r.op_type in ('Conv', 'Gemm', 'MaxPool', 'Softmax') for r in readers.get(n.output[0], [])):
                act_params(out)
                dq_of[out] = qdq(out)
    per_ch = per_channel
    return b.finish(13 if per_ch else 10)


def run_numpy(model, feeds):
    """Every tensor of a float BERT export (opset 14), for calibrating its MatMuls."""
    import math
    env = dict(feeds)
    for t in model.graph.initializer:
        env[t.name] = numpy_helper.to_array(t)
    erf = np.vectorize(math.erf, otypes=[np.float32])
    for n in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == 'Constant':
            y = numpy_helper.to_array(a['value'])
        elif op == 'Identity':
            y = x[0]
        elif op in ('Add', 'Sub', 'Mul', 'Div', 'Pow'):
            f = {'Add': np.add, 'Sub': np.subtract, 'Mul': np.multiply, 'Div': np.divide, 'Pow': np.power}[op]
            y = f(x[0], x[1]).astype(x[0].dtype)
        elif op == 'Sqrt':
            y = np.sqrt(x[0])
        elif op == 'Erf':
            y = erf(x[0])
        elif op == 'Cast':
            y = x[0].astype(helper.tensor_dtype_to_np_dtype(a['to']) if hasattr(helper, 'tensor_dtype_to_np_dtype') else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a['to']])
        elif op == 'Shape':
            y = np.array(x[0].shape, np.int64)
        elif op == 'Gather':
            y = np.take(x[0], x[1], axis=a.get('axis', 0))
        elif op == 'Unsqueeze':
            y = x[0]
            for ax in sorted(int(v) % (x[0].ndim + len(x[1])) for v in x[1]):
                y = np.expand_dims(y, ax)
        elif op == 'Concat':
            y = np.concatenate([v.reshape(-1) if v.ndim == 0 else v for v in x], a['axis'])
        elif op == 'Reshape':
            shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif op == 'Transpose':
            y = np.transpose(x[0], a['perm'])
        elif op == 'Slice':
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(x[1]))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(x[1])
            sl = [slice(None)] * x[0].ndim
            for st, en, ax, sp in zip(x[1], x[2], axes, steps):
                sl[int(ax)] = slice(int(st), int(min(en, 2 ** 62)), int(sp))
            y = x[0][tuple(sl)]
        elif op == 'ReduceMean':
            y = x[0].mean(axis=tuple(a['axes']), keepdims=bool(a.get('keepdims', 1)))
        elif op == 'MatMul':
            y = np.matmul(x[0], x[1])
        elif op == 'Softmax':
            e = np.exp(x[0] - x[0].max(a.get('axis', -1), keepdims=True))
            y = e / e.sum(a.get('axis', -1), keepdims=True)
        else:
            raise ValueError(f'calibration: no {op}')
        env[n.output[0]] = np.asarray(y)
    return env


def quantize_static_qdq_matmul(model, calib_batches, activation_type='int8', per_channel=True):
    """quantize_static(QDQ, op_types_to_quantize=['MatMul']): each MatMul's inputs and output get
    one shared Q→DQ pair (every reader of the tensor, quantized or not, reads the DQ), constant
    weights int8 per column (axis 1); ranges = MinMax over the calibration batches."""
    g = model.graph
    lo, hi = {}, {}
    for feeds in calib_batches:
        for k, v in run_numpy(model, feeds).items():
            if v.dtype == np.float32 and v.size:
                lo[k] = min(lo.get(k, np.inf), float(v.min()))
                hi[k] = max(hi.get(k, -np.inf), float(v.max()))
    qmin, qmax = qrange(activation_type)
    b = Builder(model)
    acts, weights = [], set()
    for n in g.node:
        if n.op_type != 'MatMul':
            continue
        for t in (n.input[0], n.input[1], n.output[0]):
            if b.float_init(t) is not None:
                weights.add(t)
            elif t not in acts:
                acts.append(t)
    dq = {}
    for t in acts:
        s, z = scale_zp(lo[t], hi[t], qmin, qmax, False)
        ts = b.add_init(f'{t}_scale', np.asarray(s, np.float32).reshape(()))
        tz = b.add_init(f'{t}_zero_point', np.asarray(z).astype(NP[activation_type]).reshape(()))
        dq[t] = (ts, tz)
    for t in weights:
        w = b.float_init(t)
        q, s, z = quantize_weight(w, 'int8', False, True, 1 if per_channel else None)
        wq = b.add_init(f'{t}_quantized', q)
        ws, wz = b.add_init(f'{t}_scale', s), b.add_init(f'{t}_zero_point', z)
        dq[t] = (wq, ws, wz)
    outputs = {o.name for o in g.output}

    def emit_pair(t):
        ts, tz = dq[t]
        b.node('QuantizeLinear', [t, ts, tz], [f'{t}_QuantizeLinear_Output'])
        b.node('DequantizeLinear', [f'{t}_QuantizeLinear_Output', ts, tz], [f'{t}_DequantizeLinear_Output'])

    def rd(t):
        if t in weights:
            return f'{t}_DequantizeLinear_Output'
        return f'{t}_DequantizeLinear_Output' if t in acts else t

    for t in weights:
        wq, ws, wz = dq[t]
        b.node('DequantizeLinear', [wq, ws, wz], [f'{t}_DequantizeLinear_Output'], **({'axis': 1} if per_channel else {}))
    for i in g.input:
        if i.name in acts:
            emit_pair(i.name)
    for n in list(g.node):
        new = helper.make_node(n.op_type, [rd(i) if i else '' for i in n.input], list(n.output), name=n.name)
        new.attribute.extend(n.attribute)
        b.nodes.append(new)
        for o in n.output:
            if o in acts:
                assert o not in outputs
                emit_pair(o)
    return b.finish(13 if per_channel else 10)


# ---- the variants ------------------------------------------------------------------------------

def save(model, name):
    path = os.path.join(HERE, name)
    onnx.save(model, path)
    print(f'{name}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in model.graph.node})}')


def main():
    mnist = lambda: onnx.load(os.path.join(MODELS, 'mnist/mnist-cnn.onnx'))
    bert = lambda: onnx.load(os.path.join(MODELS, 'bert/tiny-random.onnx'))
    cls = lambda: onnx.load(os.path.join(MODELS, 'zoo/cls-op9.onnx'))

    save(quantize_dynamic(mnist(), 'uint8'), 'mnist-dynamic-quint8.onnx')
    save(quantize_dynamic(mnist(), 'int8'), 'mnist-dynamic-qint8.onnx')
    save(quantize_dynamic(mnist(), 'uint8', per_channel=True, reduce_range=True), 'mnist-dynamic-quint8-pc-rr.onnx')
    save(quantize_dynamic(bert(), 'int8'), 'bert-dynamic-qint8.onnx')
    save(quantize_dynamic(bert(), 'uint8', per_channel=True, reduce_range=True), 'bert-dynamic-quint8-pc-rr.onnx')
    save(quantize_dynamic(bert(), 'int8', per_channel=True, reduce_range=True), 'bert-dynamic-qint8-pc-rr.onnx')
    save(quantize_dynamic(bert(), 'int8', op_types=('MatMul',)), 'bert-dynamic-qint8-matmul-only.onnx')
    # transformers.js's quantize script: per_channel=True, reduce_range=True, on a trained model.
    fortunes = onnx.load(os.path.join(MODELS, 'bert/bert-fortunes.onnx'))
    save(quantize_dynamic(fortunes, 'uint8', per_channel=True, reduce_range=True), 'bert-fortunes-dynamic-quint8-pc-rr.onnx')
    save(quantize_dynamic(cls(), 'uint8'), 'cls-dynamic-quint8.onnx')

    # Static QDQ on the MatMuls of the tiny BERT, calibrated on 4 seeded random batches.
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(4):
        ids = rng.integers(5, 1000, size=(2, 16)).astype(np.int64)
        batches.append({'input_ids': ids, 'attention_mask': np.ones_like(ids), 'token_type_ids': np.zeros_like(ids)})
    save(quantize_static_qdq_matmul(bert(), batches, 'int8', per_channel=True), 'bert-qdq-s8s8-matmul.onnx')
    save(quantize_static_qdq_matmul(bert(), batches, 'uint8', per_channel=False), 'bert-qdq-u8s8-matmul.onnx')

    # Calibration: the last 100 of the 2,000 held-out digits, scaled to [0, 1] as in training.
    images = np.fromfile(os.path.join(MODELS, 'mnist/heldout-images.u8'), np.uint8)
    calib = {'input': (images[-100 * 784:].reshape(100, 1, 28, 28) / 255).astype(np.float32)}
    save(quantize_static_qdq(mnist(), calib, 'uint8', per_channel=True), 'mnist-qdq-u8s8-per-channel.onnx')
    save(quantize_static_qdq(mnist(), calib, 'int8', per_channel=False), 'mnist-qdq-s8s8.onnx')
    save(quantize_static_qdq(mnist(), calib, 'uint8', per_channel=True, weight_qdq_pair=True), 'mnist-qdq-u8s8-weight-qdq-pair.onnx')


if __name__ == '__main__':
    main()
