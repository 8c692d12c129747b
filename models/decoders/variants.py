"""
Weight variants of an exported decoder, written as the tools transformers.js's conversion uses
would write them (those tools are not installable here; re-implementations beside this folder):

  fp16 → onnx/model_fp16.onnx       onnxconverter-common convert_float_to_float16, float16 inputs
                                    and outputs too (keep_io_types=False, so past/present and
                                    logits are float16, config's kv_cache_dtype says so)
                                    — models/fp16-tools/convert.py
  q8   → onnx/model_quantized.onnx  onnxruntime quantize_dynamic as transformers.js's quantize.py
                                    calls it for a model without Conv: int8 symmetric weights per
                                    tensor, MatMulConstBOnly, Gather tables uint8
                                    — models/int8-tools/make.py
  q4   → onnx/model_q4.onnx         onnxruntime MatMul4BitsQuantizer (DefaultWeightOnlyQuantizer,
                                    QOperator): every MatMul with an initializer B → com.microsoft
                                    MatMulNBits, bits 4, block_size 32, symmetric (no zero points)
                                    as transformers.js's q4; `q4-zp64` is the asymmetric,
                                    block 64 form (zero points) — quantize_q4 below.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import convert as fp16_tools  # models/fp16-tools/convert.py
import make as int8_tools  # models/int8-tools/make.py


def roundf(x):
    """C's roundf (half away from zero); numpy's round is half to even."""
    return np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))


def quantize_blockwise_4bit(w, block_size, symmetric):
    """MlasQuantizeBlockwise<float, 4> as onnxruntime's quantize_matmul_4bits calls it for a
    [K, N] weight: blocks of block_size along K per column n (K zero-padded to whole blocks);
    asymmetric: range [min(min,0), max(max,0)], scale (max−min)/15, zp = round(−min/scale)
    clamped to 0..15; symmetric: scale = (the value of largest magnitude, with its sign) / −8, zp 8;
    q = clamp(roundf(v · (1/scale) + zp), 0, 15), padding rows (k ≥ K) left 0 (MLAS never writes
    them into the zeroed buffer; the min/max of a block only sees real rows). Packed [N, blocks, block/2] uint8, element 2j in
    the low nibble; scales [N·blocks] float32; zero points [N · ⌈blocks/2⌉] uint8, low nibble first (a missing last
    nibble is 8).
    """
    K, N = w.shape
    nb = (K + block_size - 1) // block_size
    wp = np.zeros((nb * block_size, N), np.float32)
    wp[:K] = w
    blocks = wp.T.reshape(N, nb, block_size)                       # [N, blocks, block]
    if symmetric:
        mx, mn = blocks.max(-1), blocks.min(-1)
        big = np.where(np.abs(mx) > np.abs(mn), mx, mn)
        scale = (big / np.float32(-8)).astype(np.float32)
        zp = np.full((N, nb), 8, np.uint8)
    else:
        mn = np.minimum(blocks.min(-1), 0).astype(np.float32)
        mx = np.maximum(blocks.max(-1), 0).astype(np.float32)
        scale = ((mx - mn) / np.float32(15)).astype(np.float32)
        with np.errstate(divide='ignore', invalid='ignore'):
            zfp = np.where(scale != 0, np.float32(0) - mn / scale, mn).astype(np.float32)
        zp = np.where(zfp < 0, 0, np.where(zfp > 15, 15, roundf(zfp))).astype(np.uint8)
    with np.errstate(divide='ignore'):
        recip = np.where(scale != 0, np.float32(1) / scale, np.float32(0)).astype(np.float32)
    q = roundf(blocks * recip[..., None] + zp[..., None].astype(np.float32))
    q = np.clip(q, 0, 15).astype(np.uint8)
    # Rows past K in the last block are never written by MLAS: they stay 0 in the zeroed buffer.
    q.reshape(N, -1)[:, K:] = 0
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # [N, blocks, block/2]
    zpp = None
    if not symmetric:
        # An odd block count leaves the last byte's high nibble at MLAS's initial zp_bytes value, 8.
        zpad = np.full((N, (nb + 1) // 2 * 2), 8, np.uint8)
        zpad[:, :nb] = zp
        zpp = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).reshape(-1).astype(np.uint8)
    return packed, scale.reshape(-1), zpp


def quantize_q4(model, block_size=32, symmetric=True):
    """MatMul4BitsQuantizer.process() on a model: MatMul(A, B initializer, 2-D) → MatMulNBits."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes = []
    used_b = set()
    for n in g.node:
        b = inits.get(n.input[1]) if n.op_type == 'MatMul' else None
        if b is None or len(b.dims) != 2 or b.data_type != TensorProto.FLOAT:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(b)
        packed, scales, zp = quantize_blockwise_4bit(w, block_size, symmetric)
        qn, sn = b.name + '_Q4', b.name + '_scales'
        if qn not in inits:
            for t, name in ((packed, qn), (scales, sn)) + (((zp, b.name + '_zero_points'),) if zp is not None else ()):
                inits[name] = numpy_helper.from_array(t, name)
                g.initializer.append(inits[name])
        ins = [n.input[0], qn, sn] + ([b.name + '_zero_points'] if zp is not None else [])
        K, N = w.shape
        nodes.append(helper.make_node('MatMulNBits', ins, [n.output[0]], name=(n.name + '_Q4') if n.name else '',
                                      domain='com.microsoft', K=K, N=N, bits=4, block_size=block_size))
        used_b.add(b.name)
    del g.node[:]
    g.node.extend(nodes)
    still = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name not in used_b or t.name in still]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    return m


def copy_model(m):
    c = onnx.ModelProto()
    c.CopyFrom(m)
    return c


def write_variant(kind, fp32, folded, folder):
    """fp32: the file's own graph (tied lm_head via Transpose); folded: torch's graph with the
    transposed copy (what the quantizers see in an optimum export). The tools edit their model
    in place: each gets a copy."""
    fp32, folded = copy_model(fp32), copy_model(folded)
    if kind == 'fp16':
        m = fp16_tools.convert_float_to_float16(fp32, keep_io_types=False)
        name = 'model_fp16.onnx'
    elif kind == 'q8':
        m = int8_tools.quantize_dynamic(folded, 'int8', per_channel=False, reduce_range=False,
                                        op_types=('MatMul', 'Gather'), matmul_const_b_only=True)
        name = 'model_quantized.onnx'
    elif kind == 'q4':
        m = quantize_q4(folded, 32, True)
        name = 'model_q4.onnx'
    elif kind == 'q4-zp64':
        m = quantize_q4(folded, 64, False)
        name = 'model_q4.onnx'
    else:
        raise ValueError(kind)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(folder, name))
