"""Makes the compressed variants of mnist-cnn.onnx (see docs/compressed-models.md).

  mnist-cnn-fp16.onnx           every tensor float16, as `model.half()` exports: float16 input,
                                weights and output
  mnist-cnn-fp16-weights.onnx   weights stored float16 and Cast to float32 before use; float32
                                input and output (onnxconverter-common's keep_io_types layout)
  mnist-cnn-external.onnx       the float32 model with its weights in mnist-cnn-external.onnx_data
  + .onnx_data                  (onnx.save_model(..., save_as_external_data=True))
  mnist-cnn-fp16-int32.onnx     mnist-cnn-fp16.onnx with float16 bits in int32_data, not raw_data

Run from the repository root: /usr/bin/python3 models/mnist/compress.py (onnx 1.12, numpy).
"""
import copy
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
src = onnx.load(os.path.join(HERE, "mnist-cnn.onnx"))


def to_half(t, raw=True):
    a = numpy_helper.to_array(t).astype(np.float16)
    if raw:
        return numpy_helper.from_array(a, t.name)
    # make_tensor takes the values and stores their float16 bits in int32_data.
    out = helper.make_tensor(t.name, TensorProto.FLOAT16, a.shape, a.astype(np.float32).flatten().tolist())
    assert not out.raw_data and np.array_equal(numpy_helper.to_array(out), a)
    return out


def all_half(raw):
    m = copy.deepcopy(src)
    g = m.graph
    inits = [to_half(t, raw) for t in g.initializer]
    del g.initializer[:]
    g.initializer.extend(inits)
    for v in list(g.input) + list(g.output):
        v.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(m)
    return m


def half_weights():
    m = copy.deepcopy(src)
    g = m.graph
    inits, casts = [], []
    for t in g.initializer:
        h = to_half(t)
        h.name = t.name + "_fp16"
        inits.append(h)
        casts.append(helper.make_node("Cast", [h.name], [t.name], to=TensorProto.FLOAT, name="cast_" + t.name))
    del g.initializer[:]
    g.initializer.extend(inits)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    return m


onnx.save(all_half(True), os.path.join(HERE, "mnist-cnn-fp16.onnx"))
onnx.save(all_half(False), os.path.join(HERE, "mnist-cnn-fp16-int32.onnx"))
onnx.save(half_weights(), os.path.join(HERE, "mnist-cnn-fp16-weights.onnx"))
ext = copy.deepcopy(src)
data = "mnist-cnn-external.onnx_data"
if os.path.exists(os.path.join(HERE, data)):
    os.remove(os.path.join(HERE, data))  # save_model appends to an existing file
onnx.save_model(ext, os.path.join(HERE, "mnist-cnn-external.onnx"), save_as_external_data=True,
                all_tensors_to_one_file=True, location=data, size_threshold=0)
for f in ["mnist-cnn-fp16.onnx", "mnist-cnn-fp16-int32.onnx", "mnist-cnn-fp16-weights.onnx", "mnist-cnn-external.onnx", data]:
    print(f, os.path.getsize(os.path.join(HERE, f)))
