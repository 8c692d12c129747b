"""A MobileNetV3 text-detector-like network (DBNet-style), seeded random weights, exported to ONNX.

Backbone: torchvision's mobilenet_v3_large (width 0.35): 3x3 and 5x5 depthwise convs, 1x1
projections, HardSwish, squeeze-excite (GlobalAveragePool, HardSigmoid). Head: an FPN over the
stride 4/8/16/32 features (1x1 reduce, Resize nearest x2, Add, 3x3 conv), then two ConvTranspose
x2 up to a full-resolution probability map (Sigmoid), like PaddleOCR's mobile DB detector.
Not trained: it exists to measure speed and to check tessera against onnxruntime-web.

Run: /usr/bin/python3 models/mobile-det/export.py   (torch 1.13, torchvision 0.14)
"""
import os
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.manual_seed(0)


class MobileDet(nn.Module):
    def __init__(self, inner=32):
        super().__init__()
        self.features = torchvision.models.mobilenet_v3_large(width_mult=0.35).features
        # Feature indices whose outputs are at stride 4, 8, 16 and 32.
        self.taps = [3, 6, 12, 16]
        chans = [self.features[i].out_channels for i in self.taps]
        self.reduce = nn.ModuleList(nn.Conv2d(c, inner, 1, bias=False) for c in chans)
        self.smooth = nn.ModuleList(nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False) for _ in chans)
        self.head = nn.Sequential(
            nn.Conv2d(inner, inner // 4, 3, padding=1, bias=False), nn.BatchNorm2d(inner // 4), nn.ReLU(),
            nn.ConvTranspose2d(inner // 4, inner // 4, 2, stride=2), nn.BatchNorm2d(inner // 4), nn.ReLU(),
            nn.ConvTranspose2d(inner // 4, 1, 2, stride=2), nn.Sigmoid())

    def forward(self, x):
        feats = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
        p = [r(f) for r, f in zip(self.reduce, feats)]
        for i in range(len(p) - 1, 0, -1):  # top-down: upsample the coarser map and add
            p[i - 1] = p[i - 1] + F.interpolate(p[i], scale_factor=2.0, mode="nearest")
        size = p[0].shape[-2:]
        outs = [F.interpolate(s(q), size=size, mode="nearest") if i else s(q) for i, (s, q) in enumerate(zip(self.smooth, p))]
        return self.head(torch.cat(outs, 1))


def randomize_bn(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)


if __name__ == "__main__":
    model = MobileDet().eval()
    randomize_bn(model)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mobile-det.onnx")
    x = torch.rand(1, 3, 640, 640)
    torch.onnx.export(model, x, out, opset_version=14, input_names=["image"], output_names=["prob"],
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "prob": {0: "batch", 2: "height", 3: "width"}})
    print(out, os.path.getsize(out), "bytes,", sum(p.numel() for p in model.parameters()), "parameters")
