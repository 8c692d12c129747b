#!/usr/bin/env python3
"""Export small seeded-random look-alikes of the OCR models users bring from other toolchains.

Run from the repository root:

    /usr/bin/python3 models/zoo/make.py

paddle2onnx exports PP-OCR's detector (DBNet on MobileNetV3), recogniser (SVTR / CRNN) and angle
classifier at opsets 9-11; tf2onnx exports Keras models with NHWC inputs and attribute-form Pad /
Clip / Slice / Squeeze. We cannot ship those files, so this script builds models with the same
node patterns, random weights (seeded) and non-trivial BatchNorm statistics, and exports them the
way those tools do: old opsets, BatchNormalization kept, some without constant folding so that the
Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains stay in the graph, dynamic spatial axes.

Weights are random, so outputs mean nothing; the models exist to be compared with
onnxruntime-web (test/models/zoo.test.ts). Needs torch 1.13 and onnx 1.12; tests never run Python.
"""

import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261129


def randomize_bn(model, gen):
    """He-normal weights (torch's default init shrinks the signal layer by layer, leaving outputs
    nearly constant, which would hide errors), random biases, and non-trivial BatchNorm
    statistics and affine parameters."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            w = m.weight
            fan_in = w[0].numel() if not isinstance(m, nn.ConvTranspose2d) else w.shape[0] * w[0, 0].numel() // m.stride[0] // m.stride[1]
            w.data.copy_(torch.randn(w.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            if m.bias is not None:
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        elif isinstance(m, (nn.LSTM, nn.GRU)):
            for p in m.parameters():
                p.data.copy_(torch.randn(p.shape, generator=gen) * 0.4)
        elif isinstance(m, nn.LayerNorm):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.8 + 0.4)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def conv_bn(cin, cout, k=3, s=1, groups=1, act="hardswish"):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act == "hardswish":
        layers.append(nn.Hardswish())
    elif act == "relu6":
        layers.append(nn.ReLU6())
    elif act == "relu":
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """MobileNetV3's SE: GlobalAveragePool -> 1x1 -> ReLU -> 1x1 -> HardSigmoid -> Mul."""

    def __init__(self, c, r=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(c, c // r, 1)
        self.expand = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = self.pool(x)
        s = F.relu(self.reduce(s))
        # paddle's hardsigmoid(slope=0.2, offset=0.5): exported as HardSigmoid alpha=0.2
        s = F.hardsigmoid(self.expand(s) * 1.2 - 0.1)
        return x * s


class InvertedResidual(nn.Module):
    def __init__(self, cin, mid, cout, s, se, act):
        super().__init__()
        self.expand = conv_bn(cin, mid, 1, 1, act=act)
        self.dw = conv_bn(mid, mid, 3, s, groups=mid, act=act)
        self.se = SqueezeExcite(mid) if se else None
        self.project = conv_bn(mid, cout, 1, 1, act=None)
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        y = self.dw(self.expand(x))
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class Detector(nn.Module):
    """DBNet-like: MobileNetV3-ish backbone, FPN (nearest + bilinear upsampling), DB head."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 3, 2, act="hardswish")            # /2
        self.b1 = InvertedResidual(8, 16, 8, 1, se=False, act="relu6")
        self.b2 = InvertedResidual(8, 24, 12, 2, se=True, act="hardswish")   # /4
        self.b3 = InvertedResidual(12, 32, 16, 2, se=True, act="hardswish")  # /8
        self.lat1, self.lat2, self.lat3 = nn.Conv2d(8, 8, 1), nn.Conv2d(12, 8, 1), nn.Conv2d(16, 8, 1)
        self.smooth = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Sequential(conv_bn(8, 4, 3, 1, act="relu"),
                                  nn.ConvTranspose2d(4, 4, 2, 2), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.ConvTranspose2d(4, 4, 3, 2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        c1 = self.b1(self.stem(x))
        c2 = self.b2(c1)
        c3 = self.b3(c2)
        p3 = self.lat3(c3)
        # scale-factor upsampling (nearest), then to a skip's size (bilinear)
        p2 = self.lat2(c2) + F.interpolate(p3, scale_factor=2.0, mode="nearest")
        p1 = self.lat1(c1) + F.interpolate(p2, size=c1.shape[2:], mode="bilinear", align_corners=False)
        p1 = F.relu6(self.smooth(p1))
        return self.head(p1)[:, :1]


class Attention(nn.Module):
    """SVTR's attention, written the paddle way: one qkv Linear, reshape, permute, matmul."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, l, c = x.shape
        qkv = self.qkv(x).reshape(n, l, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = F.softmax(q.matmul(k.permute(0, 1, 3, 2)), dim=-1)
        return self.proj(attn.matmul(v).permute(0, 2, 1, 3).reshape(n, l, c))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.fc1, self.fc2 = nn.Linear(dim, dim * 2), nn.Linear(dim * 2, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Recognizer(nn.Module):
    """SVTR/CRNN-like: conv stem, two transformer blocks, height pooling, BiLSTM or GRU, CTC logits."""

    def __init__(self, rnn="lstm", classes=37):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 8, 3, 2, act="hardswish"),    # 16 x W/2
                                  conv_bn(8, 16, 3, 2, act="hardswish"))   # 8 x W/4
        self.blocks = nn.ModuleList([Block(16, 2), Block(16, 2)])
        self.norm = nn.LayerNorm(16, eps=1e-6)
        self.squeeze = conv_bn(16, 24, 1, 1, act="hardswish")
        if rnn == "lstm":
            self.rnn = nn.LSTM(24, 16, num_layers=2, batch_first=True, bidirectional=True)  # PP-OCR CRNN: 2 layers
        else:
            self.rnn = nn.GRU(24, 16, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.stem(x)
        n, c, h, w = x.shape
        t = x.flatten(2).permute(0, 2, 1)              # [N, H*W, C]
        for b in self.blocks:
            t = b(t)
        t = self.norm(t)
        x = t.permute(0, 2, 1).reshape(n, c, h, w)
        x = F.avg_pool2d(x, (int(h), 1))
        x = self.squeeze(x).squeeze(2).permute(0, 2, 1)  # [N, W/4, 24]
        y, _ = self.rnn(x)
        return F.softmax(self.fc(y), dim=2)


class Classifier(nn.Module):
    """PP-OCR's angle classifier, shrunk: convs + BN, pooling, Flatten, Gemm, Softmax."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2, act="relu"), nn.MaxPool2d(2, 2),
                                      conv_bn(8, 16, 3, 1, act="relu"), nn.AdaptiveAvgPool2d(1))
        self.fc1, self.fc2 = nn.Linear(16, 16), nn.Linear(16, 2)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return F.softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


class Resizes(nn.Module):
    """The interpolations PP-OCR's and other detectors' necks use, side by side, one output each."""

    def __init__(self, opset):
        super().__init__()
        self.opset = opset
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        outs = [F.interpolate(x, scale_factor=1.5, mode="nearest"),
                F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False),
                F.interpolate(x, scale_factor=0.5 if self.opset >= 10 else 1.25, mode="bilinear", align_corners=False)]
        if self.opset >= 11:
            outs += [F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
                     F.interpolate(x, scale_factor=1.75, mode="bicubic", align_corners=False),
                     F.interpolate(x, size=(5, 11), mode="nearest")]
        return tuple(outs)


def export(model, sample, name, opset, dynamic, fold, input_name="x", output_name="y", init_inputs=False):
    path = os.path.join(HERE, f"{name}.onnx")
    torch.onnx.export(model, sample, path, opset_version=opset, input_names=[input_name],
                      output_names=[output_name], dynamic_axes={input_name: dynamic},
                      do_constant_folding=fold, training=torch.onnx.TrainingMode.PRESERVE,
                      keep_initializers_as_inputs=init_inputs)
    m = onnx.load(path)
    return path, m


def save(m, path):
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{os.path.basename(path):28s} opset {m.opset_import[0].version:2d} {os.path.getsize(path):7d} B "
          f"{len(m.graph.node):4d} nodes  {' '.join(ops)}")


def expose_logits(m, op, rank):
    """Add the input of the last `op` (the final Sigmoid / Softmax) as a second graph output, so the
    comparison also sees values that are not squashed into (0, 1)."""
    last = [n for n in m.graph.node if n.op_type == op][-1]
    dims = [f"logits_{i}" for i in range(rank)]
    m.graph.output.append(helper.make_tensor_value_info(last.input[0], TensorProto.FLOAT, dims))


def must_have(m, *ops):
    have = {n.op_type for n in m.graph.node}
    missing = [o for o in ops if o not in have]
    assert not missing, f"{m.graph.name}: expected {missing} in the graph"


def add_dropout(m, before_op):
    """Insert an inference-mode Dropout (with its unused mask output) in front of the first `before_op`,
    as paddle2onnx leaves it: torch drops Dropout in eval mode."""
    g = m.graph
    idx = next(i for i, n in enumerate(g.node) if n.op_type == before_op)
    node = g.node[idx]
    src = node.input[0]
    drop = helper.make_node("Dropout", [src], ["dropout_out", "dropout_mask"], name="dropout", ratio=0.1)
    node.input[0] = "dropout_out"
    g.node.insert(idx, drop)


def keras_like(opset):
    """What tf2onnx makes of a small Keras conv net: NHWC input transposed to NCHW, attribute-form
    Pad / Clip / Slice / Squeeze / Unsqueeze (opsets 9-10), Transpose back to NHWC."""
    rng = np.random.RandomState(SEED + opset)
    w = numpy_helper.from_array(rng.randn(6, 3, 3, 3).astype(np.float32) * 0.3, "conv_w")
    b = numpy_helper.from_array(rng.randn(6).astype(np.float32) * 0.1, "conv_b")
    w2 = numpy_helper.from_array(rng.randn(4, 6, 1, 1).astype(np.float32) * 0.3, "conv2_w")
    nodes = [
        helper.make_node("Transpose", ["input_1"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Pad", ["nchw"], ["padded"], mode="constant", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.0),
        helper.make_node("Conv", ["padded", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Clip", ["conv"], ["relu6"], min=0.0, max=6.0),
        helper.make_node("Pad", ["relu6"], ["reflect"], mode="reflect", pads=[0, 0, 1, 0, 0, 0, 0, 1]),
        helper.make_node("Conv", ["reflect", "conv2_w"], ["conv2"], kernel_shape=[1, 1]),
        helper.make_node("Slice", ["conv2"], ["sliced"], starts=[1, 0], ends=[3, -1], axes=[1, 3]) if opset == 9 else None,
        helper.make_node("ReduceMean", ["sliced"], ["pooled"], axes=[2, 3], keepdims=1),
        helper.make_node("Squeeze", ["pooled"], ["squeezed"], axes=[2, 3]),
        helper.make_node("Unsqueeze", ["squeezed"], ["unsq"], axes=[1]),
        helper.make_node("Clip", ["unsq"], ["clipped"], min=-0.5, max=0.5),
        # Keras padding='same' becomes auto_pad SAME_UPPER; an old-opset Softmax coerces to 2-D
        helper.make_node("MaxPool", ["conv2"], ["pool"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Conv", ["pool", "conv3_w"], ["conv3"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Softmax", ["conv3"], ["softmax0"], axis=1),
        # Conv2DTranspose(padding='same', strides=2): auto_pad SAME_UPPER, output = input * stride
        helper.make_node("ConvTranspose", ["softmax0", "deconv_w", "deconv_b"], ["deconv"], kernel_shape=[3, 3],
                         strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("MaxPool", ["deconv"], ["softmax"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Transpose", ["softmax"], ["nhwc"], perm=[0, 2, 3, 1]),
    ]
    nodes[3:3] = [helper.make_node("BatchNormalization", ["conv", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], epsilon=1e-3)]
    nodes[4].input[0] = "bn"
    bn = [numpy_helper.from_array(v.astype(np.float32), n) for n, v in [
        ("bn_scale", rng.rand(6) + 0.5), ("bn_bias", rng.randn(6) * 0.1), ("bn_mean", rng.randn(6) * 0.2), ("bn_var", rng.rand(6) + 0.5)]]
    w3 = numpy_helper.from_array(rng.randn(4, 4, 3, 3).astype(np.float32) * 0.3, "conv3_w")
    w4 = numpy_helper.from_array(rng.randn(4, 4, 3, 3).astype(np.float32) * 0.5, "deconv_w")
    b4 = numpy_helper.from_array(rng.randn(4).astype(np.float32) * 0.1, "deconv_b")
    inits = [w, b, w2, w3, w4, b4] + bn
    if opset >= 10:
        # opset 10 Slice takes starts/ends/axes as inputs (tf2onnx emits constants)
        for nm, v in [("starts", [1, 0]), ("ends", [3, -1]), ("axes", [1, 3])]:
            inits.append(numpy_helper.from_array(np.array(v, dtype=np.int64), f"slice_{nm}"))
        nodes[7] = helper.make_node("Slice", ["conv2", "slice_starts", "slice_ends", "slice_axes"], ["sliced"])
    graph = helper.make_graph(
        nodes, f"keras_like_op{opset}",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__1", "unk__2", "unk__3", 3])],
        [helper.make_tensor_value_info("clipped", TensorProto.FLOAT, ["unk__1", 1, 2]),
         helper.make_tensor_value_info("nhwc", TensorProto.FLOAT, ["unk__1", "unk__4", "unk__5", 4])],
        inits)
    if opset >= 10:
        # tf.reverse as tf2onnx writes it: Slice with step -1 from -1 to INT64_MIN; Gather with a
        # negative index (x[..., -1])
        inits += [numpy_helper.from_array(np.array(v, dtype=np.int64), nm) for nm, v in [
            ("rev_starts", [-1]), ("rev_ends", [np.iinfo(np.int64).min]), ("rev_axes", [3]), ("rev_steps", [-1]), ("last", -1)]]
        graph.node.extend([
            helper.make_node("Slice", ["conv2", "rev_starts", "rev_ends", "rev_axes", "rev_steps"], ["reversed"]),
            helper.make_node("Sub", ["conv2", "reversed"], ["antisym"]),
            helper.make_node("Gather", ["antisym", "last"], ["flipped"], axis=3),
        ])
        graph.initializer.extend(inits[-5:])
        graph.output.append(helper.make_tensor_value_info("flipped", TensorProto.FLOAT, ["unk__1", 4, "unk__4"]))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tf2onnx-like")
    m.ir_version = 5
    save(m, os.path.join(HERE, f"keras-like-op{opset}.onnx"))


def tf_resize_op11():
    """tf2onnx at opset 11 on tf.image.resize: NHWC -> NCHW, output size computed from a Shape chain
    (Shape -> Slice -> Cast -> Mul -> Cast -> Concat), TF2's half-pixel nearest as
    tf_half_pixel_for_nn (opset 11 only) and bilinear as half_pixel, back to NHWC."""
    i64 = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.int64), n)
    f32 = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.float32), n)
    nodes = [
        helper.make_node("Transpose", ["images"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Shape", ["nchw"], ["shape"]),
        helper.make_node("Slice", ["shape", "s2", "s4", "s0"], ["hw"]),
        helper.make_node("Slice", ["shape", "s0", "s2", "s0"], ["nc"]),
        helper.make_node("Cast", ["hw"], ["hw_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["hw_f", "factor"], ["hw_scaled"]),
        helper.make_node("Cast", ["hw_scaled"], ["hw_new"], to=TensorProto.INT64),
        helper.make_node("Concat", ["nc", "hw_new"], ["sizes"], axis=0),
        helper.make_node("Resize", ["nchw", "roi", "no_scales", "sizes"], ["nearest"], mode="nearest",
                         coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode="floor"),
        helper.make_node("Resize", ["nchw", "roi", "no_scales", "sizes"], ["nearest_round"], mode="nearest",
                         coordinate_transformation_mode="tf_half_pixel_for_nn"),
        helper.make_node("Resize", ["nchw", "roi", "no_scales", "sizes"], ["bilinear"], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Add", ["nearest", "bilinear"], ["sum"]),
        helper.make_node("Transpose", ["sum"], ["out_a"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["nearest_round"], ["out_b"], perm=[0, 2, 3, 1]),
    ]
    inits = [i64("s0", [0]), i64("s2", [2]), i64("s4", [4]), f32("factor", [1.5, 2.5]),
             f32("roi", np.zeros(0)), f32("no_scales", np.zeros(0))]
    graph = helper.make_graph(
        nodes, "tf_resize_op11",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["unk__1", "unk__2", "unk__3", 3])],
        [helper.make_tensor_value_info("out_a", TensorProto.FLOAT, ["unk__1", "unk__4", "unk__5", 3]),
         helper.make_tensor_value_info("out_b", TensorProto.FLOAT, ["unk__1", "unk__4", "unk__5", 3])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], producer_name="tf2onnx-like")
    m.ir_version = 6
    save(m, os.path.join(HERE, "tf-resize-op11.onnx"))


def paddle_block_op11():
    """One SVTR mixing block written node by node the way paddle2onnx emits it at opset 11 (torch
    spells these differently): Reshape with 0 (copy) and -1 dims, Split with a `split` attribute and
    Squeeze with `axes` attributes for q/k/v, Pow with a [1]-shaped exponent, Clip with an omitted
    min input, HardSigmoid with paddle's alpha 0.2 / beta 0.5, Identity and Constant nodes."""
    rng = np.random.RandomState(SEED + 11)
    d, heads = 16, 2
    f32 = lambda n, v: numpy_helper.from_array(np.asarray(v, dtype=np.float32), n)
    i64 = lambda n, v: numpy_helper.from_array(np.asarray(v, dtype=np.int64), n)
    inits = [f32("ln_w", rng.rand(d) + 0.5), f32("ln_b", rng.randn(d) * 0.2), f32("two", [2.0]),
             f32("eps", [1e-6]), f32("qkv_w", rng.randn(d, 3 * d) * (2 / d) ** 0.5), f32("qkv_b", rng.randn(3 * d) * 0.2),
             f32("scale", [(d // heads) ** -0.5]), f32("proj_w", rng.randn(d, d) * (2 / d) ** 0.5),
             f32("six", [6.0]), i64("qkv_shape", [0, -1, 3, heads, d // heads]), i64("merge_shape", [0, 0, -1])]
    N = helper.make_node
    nodes = [
        N("Identity", ["x"], ["x_id"]),
        N("ReduceMean", ["x_id"], ["mean"], axes=[-1], keepdims=1),
        N("Sub", ["x_id", "mean"], ["centered"]),
        N("Pow", ["centered", "two"], ["sq"]),
        N("ReduceMean", ["sq"], ["var"], axes=[-1], keepdims=1),
        N("Add", ["var", "eps"], ["var_eps"]),
        N("Sqrt", ["var_eps"], ["std"]),
        N("Div", ["centered", "std"], ["normed"]),
        N("Mul", ["normed", "ln_w"], ["scaled"]),
        N("Add", ["scaled", "ln_b"], ["ln"]),
        N("MatMul", ["ln", "qkv_w"], ["qkv_mm"]),
        N("Add", ["qkv_mm", "qkv_b"], ["qkv"]),
        N("Reshape", ["qkv", "qkv_shape"], ["qkv5"]),                       # [N, L, 3, h, dh]
        N("Transpose", ["qkv5"], ["qkv_t"], perm=[2, 0, 3, 1, 4]),          # [3, N, h, L, dh]
        N("Split", ["qkv_t"], ["q1", "k1", "v1"], axis=0, split=[1, 1, 1]),
        N("Squeeze", ["q1"], ["q0"], axes=[0]),
        N("Squeeze", ["k1"], ["k"], axes=[0]),
        N("Squeeze", ["v1"], ["v"], axes=[0]),
        N("Mul", ["q0", "scale"], ["q"]),
        N("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        N("MatMul", ["q", "kt"], ["scores"]),
        N("Softmax", ["scores"], ["attn"], axis=-1),
        N("MatMul", ["attn", "v"], ["ctx"]),                                 # [N, h, L, dh]
        N("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
        N("Reshape", ["ctx_t", "merge_shape"], ["merged"]),                  # [N, L, d]
        N("MatMul", ["merged", "proj_w"], ["proj"]),
        N("Add", ["x_id", "proj"], ["res"]),
        N("Clip", ["res", "", "six"], ["clipped"]),
        N("HardSigmoid", ["clipped"], ["gate"], alpha=0.2, beta=0.5),
        N("Mul", ["res", "gate"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "paddle_block_op11",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", d])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], producer_name="paddle2onnx-like")
    m.ir_version = 6
    save(m, os.path.join(HERE, "paddle-block-op11.onnx"))


def main():
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    hw = {0: "n", 2: "h", 3: "w"}

    det = Detector()
    randomize_bn(det, gen)
    det.eval()
    img = torch.rand(1, 3, 64, 96, generator=gen)
    for opset, fold in [(9, False), (10, True), (11, False)]:
        path, m = export(det, img, f"det-op{opset}", opset, hw, fold)
        must_have(m, "BatchNormalization", "HardSigmoid", "Clip", "ConvTranspose", "Sigmoid",
                  "Upsample" if opset == 9 else "Resize")
        expose_logits(m, "Sigmoid", 4)
        save(m, path)

    for rnn, opset in [("lstm", 11), ("gru", 13)]:
        rec = Recognizer(rnn)
        randomize_bn(rec, gen)
        rec.eval()
        line = torch.rand(1, 3, 32, 100, generator=gen)
        path, m = export(rec, line, f"rec-{rnn}-op{opset}", opset, {0: "n", 3: "w"}, fold=opset == 13)
        must_have(m, "BatchNormalization", "ReduceMean", "Erf", "MatMul", "Softmax", rnn.upper())
        expose_logits(m, "Softmax", 3)
        save(m, path)

    for opset in (9, 10, 11):
        r = Resizes(opset)
        r.eval()
        names = [f"y{i}" for i in range(6 if opset >= 11 else 3)]
        path = os.path.join(HERE, f"resize-op{opset}.onnx")
        torch.onnx.export(r, torch.rand(1, 3, 10, 12, generator=gen), path, opset_version=opset, input_names=["x"],
                          output_names=names, dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}}, do_constant_folding=opset != 11)
        m = onnx.load(path)
        must_have(m, "Upsample" if opset == 9 else "Resize")
        save(m, path)

    cls = Classifier()
    randomize_bn(cls, gen)
    cls.eval()
    path, m = export(cls, torch.rand(1, 3, 48, 192, generator=gen), "cls-op9", 9, {0: "n"}, fold=True,
                     init_inputs=True)  # as older exporters did (IR 4): weights also listed as inputs
    add_dropout(m, "Gemm")
    must_have(m, "BatchNormalization", "Flatten", "Gemm", "Dropout", "Softmax")
    expose_logits(m, "Softmax", 2)
    save(m, path)

    keras_like(9)
    keras_like(10)
    tf_resize_op11()
    paddle_block_op11()


if __name__ == "__main__":
    main()
