"""
Weight variants of a Whisper folder, named as transformers.js v4 picks them per dtype and made
the way transformers.js's conversion (scripts/quantize.py) makes them, with this repository's
re-implementations of the tools (none is installable here):

  fp16 → *_fp16.onnx       onnxconverter-common convert_float_to_float16, keep_io_types=True
                           (float32 inputs and outputs, Casts at the edges; ../fp16-tools/convert.py)
  q8   → *_quantized.onnx  onnxruntime quantize_dynamic, per tensor, MatMulConstBOnly: int8
                           symmetric weights, except for a model with a Conv (the encoder), which
                           quantize.py gives uint8 weights as onnxruntime-web has no int8 ConvInteger
                           (MatMul, Conv → ConvInteger, Gather → uint8 table; ../int8-tools/make.py)
  q4   → *_q4.onnx         onnxruntime MatMul4BitsQuantizer: MatMul with an initializer B →
                           com.microsoft MatMulNBits, 4 bits, block 32, symmetric; Conv and Gather
                           stay float (../decoders/variants.py quantize_q4)

for encoder_model and decoder_model_merged. The merged decoder's variant is made per branch (the
decoder and decoder-with-past graphs, each converted on its own) and then merged (merge.py), so
equal converted weights are stored once at the top level: the same file the tools give when run
on the merged graph with subgraph recursion, in a form our single-graph tools can write. The
quantizers start from torch's folded graphs (proj_out's transposed table its own initializer), as
they only quantize a MatMul whose B is an initializer; fp16 starts from the untied fp32 graphs.
"""
import os
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
for tools in ('fp16-tools', 'int8-tools', 'decoders'):
    sys.path.append(os.path.join(HERE, '..', tools))
import convert as fp16_tools  # noqa: E402  (models/fp16-tools/convert.py)
import make as int8_tools  # noqa: E402  (models/int8-tools/make.py)
from variants import quantize_q4  # noqa: E402  (models/decoders/variants.py)
import merge  # noqa: E402

SUFFIX = {'fp16': '_fp16', 'q8': '_quantized', 'q4': '_q4'}


def copy(m):
    c = onnx.ModelProto()
    c.CopyFrom(m)
    return c


def convert(kind, m):
    m = copy(m)
    if kind == 'fp16':
        return fp16_tools.convert_float_to_float16(m, keep_io_types=True)
    if kind == 'q8':
        has_conv = any(n.op_type == 'Conv' for n in m.graph.node)
        return int8_tools.quantize_dynamic(m, 'uint8' if has_conv else 'int8', per_channel=False, reduce_range=False,
                                           op_types=('MatMul', 'Conv', 'Gather'), matmul_const_b_only=True)
    if kind == 'q4':
        return quantize_q4(m, 32, True)
    raise ValueError(kind)


def write_variants(out, enc, dec, past, dec_u, past_u, kinds):
    for kind in kinds:
        e = convert(kind, enc)
        d, p = (dec_u, past_u) if kind == 'fp16' else (dec, past)
        merged = merge.merge_decoders(convert(kind, d), convert(kind, p))
        for name, m in (('encoder_model', e), ('decoder_model_merged', merged)):
            if kind != 'fp16':  # the fp16 tool appends its edge Casts: not topologically sorted, as the real one
                onnx.checker.check_model(m)
            onnx.save(m, os.path.join(out, 'onnx', f'{name}{SUFFIX[kind]}.onnx'))
