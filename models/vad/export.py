"""Make `silero-lookalike.onnx`: a voice activity detector with Silero VAD v5's interface and
architecture, trained here for a few hundred steps on espeak-ng speech against silence and noise.

Interface (as Silero VAD v5's ONNX):
  input  float32 [1, 64 + 512] at 16 kHz (the previous window's last 64 samples, then 512 new ones),
         [1, 32 + 256] at 8 kHz
  state  float32 [2, 1, 128]   (LSTM h and c)
  sr     int64 scalar          (16000 or 8000)
  -> output float32 [1, 1] (speech probability), stateN float32 [2, 1, 128]

Graph (as Silero's): Equal(sr, 16000) -> If(16 kHz branch, 8 kHz branch); each branch is
reflect Pad -> STFT as a Conv with a fixed Hann-windowed DFT basis -> magnitude (Slice, Pow, Add,
Sqrt) -> 4 Conv+ReLU encoder blocks -> LSTM (one step, from an LSTMCell) -> ReLU -> Conv 1x1 ->
Sigmoid -> ReduceMean. The two branches differ in their STFT and first conv (129 vs 65 bins);
the rest of the weights are shared and stored once as outer-scope initializers that both
branches read (Silero stores two copies; sharing halves the file).

Run:  /usr/bin/python3 models/vad/export.py   (torch 1.13, onnx 1.12, espeak-ng; ~2 minutes on one core)
Needs Python only here: tests and CI use the committed ONNX file.
"""
import hashlib
import math
import os
import random
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'silero-lookalike.onnx')
SEED = 20261207
torch.manual_seed(SEED)
random.seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

RATES = {16000: dict(n_fft=256, hop=128, pad=64, window=512, context=64),
         8000: dict(n_fft=128, hop=64, pad=32, window=256, context=32)}


def dft_basis(n_fft):
    """[2 * (n_fft/2 + 1), 1, n_fft]: Hann-windowed cos rows, then -sin rows (Silero's layout)."""
    cut = n_fft // 2 + 1
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(cut, dtype=torch.float64)[:, None]
    hann = 0.5 - 0.5 * torch.cos(2 * math.pi * n / n_fft)
    ang = 2 * math.pi * k * n / n_fft
    return torch.cat([torch.cos(ang) * hann, -torch.sin(ang) * hann]).float()[:, None, :]


class FrontEnd(nn.Module):
    """Per sample rate: reflect pad, STFT conv (fixed), magnitude, first encoder conv."""

    def __init__(self, sr):
        super().__init__()
        cfg = RATES[sr]
        self.hop, self.pad, self.cut = cfg['hop'], cfg['pad'], cfg['n_fft'] // 2 + 1
        self.register_buffer('forward_basis_buffer', dft_basis(cfg['n_fft']))
        self.conv1 = nn.Conv1d(self.cut, 128, 3, padding=1)

    def forward(self, x):  # x [B, context + window]
        x = F.pad(x, (0, self.pad), mode='reflect').unsqueeze(1)
        x = F.conv1d(x, self.forward_basis_buffer, stride=self.hop)
        mag = torch.sqrt(x[:, :self.cut, :] ** 2 + x[:, self.cut:, :] ** 2)
        return F.relu(self.conv1(mag))  # [B, 128, 4]


class Shared(nn.Module):
    """Encoder blocks 2-4, the LSTM decoder and the head: the same for both rates."""

    def __init__(self):
        super().__init__()
        self.conv2 = nn.Conv1d(128, 64, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(64, 64, 3, stride=2, padding=1)
        self.conv4 = nn.Conv1d(64, 128, 3, padding=1)
        self.rnn = nn.LSTMCell(128, 128)
        self.head = nn.Conv1d(128, 1, 1)

    def encode(self, x):  # [B, 128, 4] -> [B, 128]
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return F.relu(self.conv4(x)).squeeze(-1)

    def decode(self, h):  # [B, 128] -> [B, 1]
        x = torch.sigmoid(self.head(F.relu(h.unsqueeze(-1))))
        return x.squeeze(1).mean(dim=1).unsqueeze(1)


class Branch(nn.Module):
    """One ONNX If branch: (input, state) -> (output, stateN)."""

    def __init__(self, front, shared):
        super().__init__()
        self.front, self.shared = front, shared

        # torch 1.13 traces LSTMCell into chunked MatMuls; a one-step nn.LSTM with the same
        # weights exports as one ONNX LSTM node, which is what Silero's ONNX files contain
        self.lstm = nn.LSTM(128, 128)
        for a, b in (('weight_ih', 'weight_ih_l0'), ('weight_hh', 'weight_hh_l0'), ('bias_ih', 'bias_ih_l0'), ('bias_hh', 'bias_hh_l0')):
            getattr(self.lstm, b).data.copy_(getattr(shared.rnn, a).data)

    def forward(self, input, state):
        x = self.shared.encode(self.front(input)).unsqueeze(0)
        _, (h, c) = self.lstm(x, (state[0:1], state[1:2]))
        return self.shared.decode(h[0]), torch.cat([h, c])


# ---------------------------------------------------------------- training data (espeak-ng)

WORDS = ('the a one two three four five six seven eight nine ten hello world voice speech model '
         'device window sample signal record listen quiet morning evening water river mountain '
         'computer network battery message garden kitchen yellow purple orange market station '
         'tomorrow yesterday remember forget simple different beautiful important question answer '
         'please thank you very much today weather cold warm light dark open close start stop '
         'city country people family friend number letter picture music table chair window door '
         'read write speak think believe travel airport ticket minute second hour coffee bread').split()
VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-us+f3', 'en-gb+f2', 'en-us+m3', 'en-gb-x-rp+f4',
          'en-029', 'en-us+f5', 'en-gb+m5']


def read_wav(path):
    with wave.open(path) as w:
        rate, n = w.getframerate(), w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype='<i2').astype(np.float32) / 32768
    return x, rate


def resample(x, src, dst):
    """Band-limited resampling of a whole clip through the FFT (fine for training clips)."""
    n_out = int(round(len(x) * dst / src))
    spec = np.fft.rfft(x)
    keep = min(len(spec), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    out[:keep] = spec[:keep]
    return (np.fft.irfft(out, n_out) * (n_out / len(x))).astype(np.float32)


def utterances(count, tmp):
    clips = []
    for i in range(count):
        text = ' '.join(random.choice(WORDS) for _ in range(random.randint(2, 9)))
        path = os.path.join(tmp, f'u{i}.wav')
        subprocess.run(['espeak-ng', '-v', random.choice(VOICES), '-s', str(random.randint(120, 200)),
                        '-p', str(random.randint(25, 75)), '-w', path, text], check=True)
        x, rate = read_wav(path)
        nz = np.nonzero(np.abs(x) > 1e-3)[0]  # espeak adds silence at the ends: trim it
        x = x[nz[0]:nz[-1] + 1] if len(nz) else x
        clips.append(resample(x, rate, 16000))
    return clips


def noise(n, kind, rng):
    w = rng.standard_normal(n).astype(np.float32)
    if kind == 'white':
        return w
    if kind == 'pink':  # 1/f through the FFT
        spec = np.fft.rfft(w)
        spec[1:] /= np.sqrt(np.arange(1, len(spec)))
        x = np.fft.irfft(spec, n).astype(np.float32)
    elif kind == 'brown':
        x = np.cumsum(w).astype(np.float32)
        x -= np.convolve(x, np.ones(801) / 801, mode='same').astype(np.float32)
    else:  # hum: mains and harmonics
        t = np.arange(n) / 16000
        f0 = rng.choice([50, 60])
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in (1, 2, 3)).astype(np.float32)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-9)


def episode(clips, rng, seconds=12):
    """A 16 kHz stream: background (silence or noise) with utterances placed at random gaps;
    labels per 512-sample window from the clean speech's energy."""
    n = seconds * 16000
    speech = np.zeros(n, dtype=np.float32)
    pos = int(rng.uniform(0.1, 1.5) * 16000)
    while pos < n:
        clip = clips[rng.integers(len(clips))]
        gain = 10 ** (rng.uniform(-30, -3) / 20) / (np.max(np.abs(clip)) + 1e-9)
        end = min(n, pos + len(clip))
        speech[pos:end] += clip[:end - pos] * gain
        pos = end + int(rng.uniform(0.2, 2.0) * 16000)
    kind = rng.choice(['silence', 'white', 'pink', 'brown', 'hum'])
    if kind == 'silence':
        bg = rng.standard_normal(n).astype(np.float32) * 10 ** (rng.uniform(-90, -60) / 20)
    else:
        bg = noise(n, kind, rng) * 10 ** (rng.uniform(-65, -25) / 20)
    # keep speech audible: at least ~8 dB over the background where it is loudest
    srms = np.sqrt(np.mean(speech[np.abs(speech) > 0] ** 2)) if np.any(speech) else 0
    brms = np.sqrt(np.mean(bg ** 2))
    if srms > 0 and srms < brms * 2.5:
        speech *= brms * 2.5 / srms
    win = RATES[16000]['window']
    frames = speech[:n // win * win].reshape(-1, win)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    labels = (rms > max(brms * 0.5, 10 ** (-70 / 20))) & (rms > 1e-4)
    return (speech + bg).astype(np.float32), labels.astype(np.float32)


def windows(x, sr):
    cfg = RATES[sr]
    ctx, win = cfg['context'], cfg['window']
    x = torch.cat([torch.zeros(x.shape[0], ctx), x], dim=1)
    t = (x.shape[1] - ctx) // win
    return x.unfold(1, ctx + win, win)[:, :t]  # [B, T, ctx + win]


def run_sequence(front, shared, x, sr):
    """x [B, samples at sr] -> probabilities [B, T], the LSTM cell stepped over the windows."""
    w = windows(x, sr)
    b, t, n = w.shape
    enc = shared.encode(front(w.reshape(b * t, n))).reshape(b, t, 128)
    h = torch.zeros(b, 128)
    c = torch.zeros(b, 128)
    outs = []
    for i in range(t):
        h, c = shared.rnn(enc[:, i], (h, c))
        outs.append(shared.decode(h))
    return torch.cat(outs, dim=1)


def batch(eps, rng, size, t):
    xs, ys = [], []
    for _ in range(size):
        x, y = eps[rng.integers(len(eps))]
        start = rng.integers(0, len(y) - t)
        xs.append(x[start * 512:(start + t) * 512])
        ys.append(y[start:start + t])
    x16 = torch.from_numpy(np.stack(xs))
    x8 = torch.from_numpy(np.stack([resample(v, 16000, 8000) for v in xs]))
    return x16, x8, torch.from_numpy(np.stack(ys))


def train(steps=int(os.environ.get('VAD_STEPS', 500))):
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        clips = utterances(120, tmp)
    train_clips, held_clips = clips[:100], clips[100:]
    eps = [episode(train_clips, rng) for _ in range(60)]
    held = [episode(held_clips, rng) for _ in range(12)]
    fronts = nn.ModuleDict({'16k': FrontEnd(16000), '8k': FrontEnd(8000)})
    shared = Shared()
    params = [p for p in list(fronts.parameters()) + list(shared.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for step in range(steps):
        x16, x8, y = batch(eps, rng, 24, 24)
        loss = 0
        for key, x, sr in (('16k', x16, 16000), ('8k', x8, 8000)):
            p = run_sequence(fronts[key], shared, x, sr)[:, 2:]
            loss = loss + F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), y[:, 2:])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            print(f'step {step} loss {loss.item():.4f}', flush=True)
    with torch.no_grad():
        for key, sr in (('16k', 16000), ('8k', 8000)):
            correct = total = 0
            for x, y in held:
                xs = torch.from_numpy(x if sr == 16000 else resample(x, 16000, 8000))[None]
                p = run_sequence(fronts[key], shared, xs, sr)[0, :len(y)]
                correct += ((p > 0.5).float() == torch.from_numpy(y)[:len(p)]).sum().item()
                total += len(p)
            print(f'held-out window accuracy {key}: {correct / total:.3f} ({total} windows)')
    return fronts, shared


# ---------------------------------------------------------------- export and stitching

def export_branch(front, shared, sr):
    cfg = RATES[sr]
    branch = Branch(front, shared).eval()
    path = tempfile.mktemp(suffix='.onnx')
    torch.onnx.export(branch, (torch.zeros(1, cfg['context'] + cfg['window']), torch.zeros(2, 1, 128)), path,
                      input_names=['input', 'state'], output_names=['output', 'stateN'], opset_version=16,
                      do_constant_folding=True)
    model = onnx.load(path)
    os.remove(path)
    return model.graph


def stitch(g16, g8):
    """Both branch graphs as If branches over outer-scope `input` and `state`; initializers equal
    in both (the shared weights) moved to the main graph once."""
    digests = {}
    for g in (g16, g8):
        for t in g.initializer:
            a = onnx.numpy_helper.to_array(t)
            key = hashlib.sha1(f'{t.data_type} {list(t.dims)}'.encode() + a.tobytes()).hexdigest()
            digests.setdefault(key, []).append((g, t))
    shared_inits = []
    renames = {id(g16): {}, id(g8): {}}
    for i, (digest, uses) in enumerate(digests.items()):
        if len(uses) == 2 and uses[0][0] is not uses[1][0]:
            t = onnx.TensorProto()
            t.CopyFrom(uses[0][1])
            t.name = f'shared_{i}'
            shared_inits.append(t)
            for g, u in uses:
                renames[id(g)][u.name] = t.name
    branches = []
    for g, tag in ((g16, '16k'), (g8, '8k')):
        ren = renames[id(g)]
        keep = [t for t in g.initializer if t.name not in ren]
        for t in keep:
            ren[t.name] = f'{tag}_{t.name}'
        outer = {'input', 'state'}

        def collect(graph):  # every value made in the branch (nested If branches too) gets the tag
            for n in graph.node:
                for o in n.output:
                    ren.setdefault(o, f'{tag}_{o}')
                for a in n.attribute:
                    if a.type == onnx.AttributeProto.GRAPH:
                        collect(a.g)
                        for o in a.g.output:
                            ren.setdefault(o.name, f'{tag}_{o.name}')
        collect(g)

        def name(v):
            return v if v in outer or v == '' else ren.get(v, v)

        def renamed_nodes(graph):
            nodes = []
            for n in graph.node:
                m = onnx.NodeProto()
                m.CopyFrom(n)
                m.name = f'{tag}/{n.name or n.op_type}'
                del m.input[:]
                m.input.extend(name(v) for v in n.input)
                del m.output[:]
                m.output.extend(name(v) for v in n.output)
                for a in m.attribute:
                    if a.type == onnx.AttributeProto.GRAPH:
                        sub = renamed_nodes(a.g)
                        del a.g.node[:]
                        a.g.node.extend(sub)
                        for o in a.g.output:
                            o.name = name(o.name)
                nodes.append(m)
            return nodes
        nodes = renamed_nodes(g)
        inits = []
        for t in keep:
            u = onnx.TensorProto()
            u.CopyFrom(t)
            u.name = ren[t.name]
            inits.append(u)
        outs = []
        for o in g.output:
            v = onnx.ValueInfoProto()
            v.CopyFrom(o)
            v.name = name(o.name)
            outs.append(v)
        branches.append(helper.make_graph(nodes, f'vad_{tag}', [], outs, inits))
    sr16 = helper.make_tensor('sr_16k', TensorProto.INT64, [], [16000])
    nodes = [helper.make_node('Equal', ['sr', 'sr_16k'], ['is_16k'], name='is_16k'),
             helper.make_node('If', ['is_16k'], ['output', 'stateN'], name='by_rate',
                              then_branch=branches[0], else_branch=branches[1])]
    inputs = [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch', 'samples']),
              helper.make_tensor_value_info('state', TensorProto.FLOAT, [2, 'batch', 128]),
              helper.make_tensor_value_info('sr', TensorProto.INT64, [])]
    outputs = [helper.make_tensor_value_info('output', TensorProto.FLOAT, ['batch', 1]),
               helper.make_tensor_value_info('stateN', TensorProto.FLOAT, [2, 'batch', 128])]
    graph = helper.make_graph(nodes, 'silero_lookalike', inputs, outputs, [sr16] + shared_inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 16)], producer_name='tessera models/vad/export.py')
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    fronts, shared = train()
    fronts.eval()
    shared.eval()
    with torch.no_grad():
        model = stitch(export_branch(fronts['16k'], shared, 16000), export_branch(fronts['8k'], shared, 8000))
    onnx.save(model, OUT)
    ops = sorted({n.op_type for b in model.graph.node[1].attribute for n in b.g.node})
    print(f'wrote {OUT}: {os.path.getsize(OUT)} bytes; branch ops: {" ".join(ops)}')


if __name__ == '__main__':
    sys.exit(main())
