"""
Trains the toy LM of models/decoders/toy-lm/: a small Llama-style decoder (arch.py, model_type
llama) on Debian's fortune cookies, with a byte-level BPE tokenizer learnt from the same corpus,
on one CPU thread for a fixed CPU-time budget, then exports it in the optimum layout (export.py).

It is a toy: ~1 M parameters and minutes of CPU cannot learn English; it learns fortune-shaped
text (words, punctuation, " -- Author" lines) and is there so the demo streams something readable.

  /usr/bin/python3 models/decoders/train_toy.py [--cpu-seconds 540] [--resume] [--until HH:MM]
--resume continues from the exported toy-lm/onnx/model.onnx (checked against its reference.json);
the last --heldout fortunes are kept out of training and their loss decides (with --resume) whether
the new weights are exported at all. Debian's torch links the reference BLAS: see toy-lm/README.md
for running it on OpenBLAS (≈ 13× faster) without installing anything.
Corpus: `apt-get install fortunes fortunes-min` (BSD licence, see /usr/share/doc/fortunes/copyright),
needed only to regenerate.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import arch  # noqa: E402
import bpe  # noqa: E402
import export  # noqa: E402

CONFIG = {'model_type': 'llama', 'hidden_size': 128, 'num_attention_heads': 4, 'num_key_value_heads': 2,
          'head_dim': 32, 'num_hidden_layers': 4, 'intermediate_size': 384, 'rms_norm_eps': 1e-5,
          'rope_theta': 10000.0, 'tie_word_embeddings': True, 'attention_bias': False, 'mlp_bias': False,
          'max_position_embeddings': 256, 'use_cache': True, 'hidden_act': 'silu', 'initializer_range': 0.02,
          'attention_dropout': 0.0, 'rope_scaling': None, 'pretraining_tp': 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cpu-seconds', type=float, default=540)
    ap.add_argument('--wall-seconds', type=float, default=1e9, help='also stop after this much wall clock (shared machine)')
    ap.add_argument('--merges', type=int, default=1500)
    ap.add_argument('--seq', type=int, default=128)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--resume', action='store_true', help='start from the weights of toy-lm/onnx/model.onnx')
    ap.add_argument('--until', default=None, help='also stop at this UTC wall-clock time, HH:MM')
    ap.add_argument('--heldout', type=int, default=150, help='last N fortunes kept out of training, for the held-out loss')
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    random.seed(0)

    texts = bpe.read_fortunes()
    merges = bpe.load_or_train(os.path.join(HERE, f'tokenizer-merges-{a.merges}.json'), a.merges)
    tok, tok_cfg, ids = bpe.tokenizer_files(merges)
    eot = ids['<|endoftext|>']
    stream = []
    for t in texts:
        stream += bpe.encode(t, tok) + [eot]
    held = []
    for t in texts[len(texts) - a.heldout:]:
        held += bpe.encode(t, tok) + [eot]
    data = torch.tensor(stream[:len(stream) - len(held)], dtype=torch.int64)
    held = torch.tensor(held, dtype=torch.int64)
    c = dict(CONFIG, vocab_size=export.pad_vocab(max(ids.values()) + 1))
    model = arch.build(c)
    with torch.no_grad():  # HF-like init: N(0, 0.02), norms 1
        for n, p in model.named_parameters():
            if 'norm' in n:
                p.fill_(1.0)
            else:
                p.normal_(0, 0.02)
    if a.resume:
        with open(os.path.join(HERE, 'toy-lm', 'training.json')) as f:
            prev = json.load(f)
        a.prev_steps = prev['steps'] + ((prev.get('resumed_from') or {}).get('steps') or 0)
        load_onnx_weights(model, os.path.join(HERE, 'toy-lm'))
    n_params = sum(p.numel() for p in model.parameters())
    print(f'corpus {len(texts)} fortunes, {len(stream)} tokens; vocab {c["vocab_size"]}; {n_params} parameters')

    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.95))
    L, kv, hd = export.geometry(c)
    empty = [torch.zeros(a.batch, kv, 0, hd) for _ in range(2 * L)]
    mask = torch.ones(a.batch, a.seq, dtype=torch.int64)
    pos = torch.arange(a.seq).unsqueeze(0).expand(a.batch, -1)
    loss0 = heldout_loss(model, held, a.seq, mask, pos, empty)
    print(f'held-out loss at start {loss0:.3f} ({len(held)} tokens)', flush=True)
    model.train()
    t0, w0 = time.process_time(), time.time()
    if a.until:
        hh, mm = map(int, a.until.split(':'))
        now = time.gmtime(w0)
        a.wall_seconds = min(a.wall_seconds, (hh * 3600 + mm * 60) - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec))
    step, ema = 0, None
    est_steps = None
    model.train()
    while True:
        used = time.process_time() - t0
        frac = max(used / a.cpu_seconds, (time.time() - w0) / a.wall_seconds)
        if frac >= 1:
            break
        # Cosine decay over the budget (time-based, so the schedule ends when the budget does).
        lr = a.lr * min(1.0, (step + 1) / max(1, a.warmup)) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for gp in opt.param_groups:
            gp['lr'] = lr
        starts = torch.randint(0, len(data) - a.seq - 1, (a.batch,))
        x = torch.stack([data[s:s + a.seq] for s in starts])
        y = torch.stack([data[s + 1:s + a.seq + 1] for s in starts])
        logits = model(x, mask, pos, *empty)[0]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        if step % 25 == 0:
            print(f'step {step} loss {ema:.3f} lr {lr:.2e} cpu {used:.0f}s', flush=True)
    cpu = time.process_time() - t0
    print(f'trained {step} steps, {cpu:.0f} s CPU, final loss (EMA) {ema:.3f}')
    model.eval()
    torch.save(model.state_dict(), '/tmp/toy-lm-trained.pt')
    loss1 = heldout_loss(model, held, a.seq, mask, pos, empty)
    print(f'held-out loss {loss0:.3f} -> {loss1:.3f}', flush=True)
    if not (loss1 < loss0) and a.resume:
        print('not better: not exported')
        return
    export.write_folder('toy-lm', c, model, tok, tok_cfg, ids)
    with open(os.path.join(HERE, 'toy-lm', 'training.json'), 'w') as f:
        json.dump({'corpus': 'Debian fortunes + fortunes-min, /usr/share/games/fortunes (no ASCII art, no off/)',
                   'fortunes': len(texts), 'tokens': len(stream), 'merges': len(merges), 'parameters': n_params,
                   'steps': step, 'batch': a.batch, 'seq': a.seq, 'lr': a.lr, 'cpu_seconds': round(cpu),
                   'wall_seconds': round(time.time() - w0), 'threads': 1, 'final_loss_ema': round(ema, 3),
                   'heldout_fortunes': a.heldout, 'heldout_loss': round(loss1, 3),
                   'resumed_from': ({'steps': a.prev_steps, 'heldout_loss': round(loss0, 3)} if a.resume else None)}, f, indent=2)
        f.write('\n')


def heldout_loss(model, held, seq, mask, pos, empty):
    """Mean next-token loss over the held-out fortunes, in consecutive windows of `seq`."""
    model.eval()
    b = mask.shape[0]
    n = (len(held) - 1) // seq
    tot, cnt = 0.0, 0
    with torch.no_grad():
        for i in range(0, n - b + 1, b):
            x = torch.stack([held[(i + j) * seq:(i + j + 1) * seq] for j in range(b)])
            y = torch.stack([held[(i + j) * seq + 1:(i + j + 1) * seq + 1] for j in range(b)])
            logits = model(x, mask, pos, *empty)[0]
            tot += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction='sum').item()
            cnt += y.numel()
    model.train()
    return tot / cnt


def load_onnx_weights(model, folder):
    """Reads back the weights export.py wrote: named initializers by name, the MatMul weights
    (torch's folded transposes, in graph order q k v o gate up down per layer), then checks the
    result reproduces reference.json's logits."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(os.path.join(folder, 'onnx', 'model.onnx'))
    inits = {t.name: t for t in m.graph.initializer}
    sd = model.state_dict()
    mats = []
    for n in m.graph.node:
        if n.op_type == 'MatMul' and n.input[1] in inits and n.input[1].startswith('onnx::MatMul') and n.input[1] not in mats:
            mats.append(n.input[1])
    names = [f'model.layers.{i}.{p}.weight' for i in range(model.c['num_hidden_layers'])
             for p in ('self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
                       'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj')]
    assert len(mats) == len(names), (len(mats), len(names))
    new = {}
    for k in sd:
        if k in inits:
            new[k] = torch.from_numpy(numpy_helper.to_array(inits[k]).copy())
    for k, t in zip(names, mats):
        new[k] = torch.from_numpy(numpy_helper.to_array(inits[t]).T.copy())
    new['lm_head.weight'] = new['model.embed_tokens.weight']
    missing = [k for k in sd if k not in new]
    model.load_state_dict(new, strict=False)
    assert all('rotary' in k or 'inv_freq' in k for k in missing), missing
    with open(os.path.join(folder, 'reference.json')) as f:
        ref = json.load(f)
    st = ref['steps'][0]
    L, kv, hd = export.geometry(model.c)
    empty = [torch.zeros(2, kv, 0, hd) for _ in range(2 * L)]
    with torch.no_grad():
        out = model(torch.tensor(st['input_ids']), torch.tensor(st['attention_mask']),
                    torch.tensor(st['position_ids']), *empty)[0][:, -1, :]
    err = (out - torch.tensor(st['logits_last'])).abs().max().item()
    print(f'resumed from {folder}: max |logits - reference| = {err:.2e}', flush=True)
    assert err < 1e-3, err


if __name__ == '__main__':
    main()
