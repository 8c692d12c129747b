#!/usr/bin/python3
"""Trains the small committed BERT (models/bert/) as a masked language model on English text that
is available offline: the Debian `fortunes` / `fortunes-min` packages (`apt-get install -y fortunes
fortunes-min`; only needed when regenerating, never by tests).

Steps, all here so the result is reproducible from one command:
  1. corpus: every fortune file in /usr/share/games/fortunes except ASCII art and offensive ones,
     split on '%' lines, whitespace collapsed;
  2. vocabulary: bert-base-uncased's vocab.txt (from `node scripts/make-vocab.mjs`) reduced to the
     specials, every character seen (as "x" and "##x", so every word still tokenizes) and the most
     frequent WordPiece tokens of the corpus, in bert-base-uncased's id order;
  3. tokenization with that vocabulary (BERT's BasicTokenizer + greedy WordPiece, as in Google's
     tokenization.py), fortunes packed into [CLS] … [SEP] sequences of at most --seq tokens;
  4. MLM training (15 % of tokens: 80 % [MASK], 10 % random, 10 % kept), AdamW, linear decay,
     stopped after --minutes of wall-clock time;
  5. ONNX export with export.py, vocab.txt and reference.json (torch logits for a few inputs).

Usage: /usr/bin/python3 models/bert/train.py /tmp/vocab-base.txt models/bert [--minutes 15]
"""
import argparse
import glob
import json
import os
import random
import re
import sys
import time
import unicodedata
from collections import Counter

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import BertConfig, BertForMaskedLM, export  # noqa: E402

SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
SKIP = re.compile(r'(ascii-art|\.dat$|\.u8$|/off/)')


def read_corpus():
    texts = []
    for path in sorted(glob.glob('/usr/share/games/fortunes/*')):
        if SKIP.search(path) or os.path.isdir(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as f:
            for chunk in f.read().split('\n%\n'):
                t = ' '.join(chunk.split())
                if len(t) > 10:
                    texts.append(t)
    return texts


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith('P')


def basic_tokenize(text):
    text = unicodedata.normalize('NFD', text.lower())
    text = ''.join(c for c in text if unicodedata.category(c) != 'Mn')
    words = []
    for w in text.split():
        cur = ''
        for c in w:
            if is_punct(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ''
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab, max_chars=100):
    if len(word) > max_chars:
        return ['[UNK]']
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else '##' + word[start:end]
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ['[UNK]']
        pieces.append(found)
        start = end
    return pieces


def reduce_vocab(base_tokens, texts, size):
    base = set(base_tokens)
    counts, chars = Counter(), set()
    for t in texts:
        for w in basic_tokenize(t):
            chars.update(w)
            counts.update(wordpiece(w, base))
    keep = set(SPECIALS)
    for c in chars:
        for tok in (c, '##' + c):
            if tok in base:
                keep.add(tok)
    for tok, _ in counts.most_common():
        if len(keep) >= size:
            break
        if tok != '[UNK]':
            keep.add(tok)
    return [t for t in base_tokens if t in keep]


def pack(texts, ids, seq):
    """Fortunes in order, packed greedily into sequences of at most seq tokens with [CLS]/[SEP]."""
    cls, sep = ids['[CLS]'], ids['[SEP]']
    seqs, cur = [], []
    for t in texts:
        toks = [ids[p] for w in basic_tokenize(t) for p in wordpiece(w, ids)][: seq - 2]
        if cur and len(cur) + len(toks) > seq - 2:
            seqs.append([cls] + cur + [sep])
            cur = []
        cur += toks
    if cur:
        seqs.append([cls] + cur + [sep])
    return seqs


def batches(seqs, batch, vocab_size, n_special, rng):
    order = list(range(len(seqs)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch + 1, batch):
            rows = [seqs[j] for j in order[i:i + batch]]
            width = max(len(r) for r in rows)
            ids = torch.zeros(batch, width, dtype=torch.int64)
            mask = torch.zeros(batch, width, dtype=torch.int64)
            for b, r in enumerate(rows):
                ids[b, :len(r)] = torch.tensor(r)
                mask[b, :len(r)] = 1
            labels = torch.full_like(ids, -100)
            candidates = (ids >= n_special) & (mask == 1)
            chosen = candidates & (torch.rand(ids.shape) < 0.15)
            labels[chosen] = ids[chosen]
            r = torch.rand(ids.shape)
            inputs = ids.clone()
            inputs[chosen & (r < 0.8)] = MASK_ID
            swap = chosen & (r >= 0.8) & (r < 0.9)
            inputs[swap] = torch.randint(n_special, vocab_size, (int(swap.sum()),))
            yield inputs, mask, labels


def main():
    global MASK_ID
    p = argparse.ArgumentParser()
    p.add_argument('base_vocab')
    p.add_argument('out_dir')
    p.add_argument('--vocab', type=int, default=4000)
    p.add_argument('--layers', type=int, default=2)
    p.add_argument('--hidden', type=int, default=128)
    p.add_argument('--heads', type=int, default=4)
    p.add_argument('--intermediate', type=int, default=512)
    p.add_argument('--seq', type=int, default=64)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--minutes', type=float, default=15)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)

    base_tokens = [l.rstrip('\n') for l in open(a.base_vocab, encoding='utf-8')]
    texts = read_corpus()
    tokens = reduce_vocab(base_tokens, texts, a.vocab)
    ids = {t: i for i, t in enumerate(tokens)}
    MASK_ID = ids['[MASK]']
    n_special = max(ids[s] for s in SPECIALS) + 1
    assert n_special == len(SPECIALS), 'specials must come first'
    seqs = pack(texts, ids, a.seq)
    n_tok = sum(len(s) for s in seqs)
    unk = sum(s.count(ids['[UNK]']) for s in seqs)
    print(f'corpus: {len(texts)} fortunes, {len(seqs)} sequences, {n_tok} tokens ({unk} [UNK]); vocab {len(tokens)}')

    c = BertConfig(vocab_size=len(tokens), hidden_size=a.hidden, num_hidden_layers=a.layers,
                   num_attention_heads=a.heads, intermediate_size=a.intermediate,
                   max_position_embeddings=a.seq)
    model = BertForMaskedLM(c)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    deadline = time.time() + a.minutes * 60
    start = time.time()
    step, avg = 0, None
    model.train()
    for inputs, mask, labels in batches(seqs, a.batch, len(tokens), n_special, rng):
        now = time.time()
        if now >= deadline:
            break
        frac = (now - start) / (deadline - start)
        warm = min(1.0, step / 200)
        for g in opt.param_groups:
            g['lr'] = a.lr * warm * max(0.02, 1 - frac)
        # The head only on the masked rows: the loss ignores the others, and the 4000-wide
        # projection is most of the cost.
        hidden = model.bert(inputs, mask, torch.zeros_like(inputs))
        picked = labels != -100
        loss = loss_fn(model.cls(hidden[picked]), labels[picked])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        step += 1
        if step % 100 == 0 or step == 5:
            print(f'step {step}  {(now - start) / 60:.1f} min  loss {avg:.3f}', flush=True)
    print(f'trained {step} steps in {(time.time() - start) / 60:.1f} min, final smoothed loss {avg:.3f}')

    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, 'vocab.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(tokens) + '\n')
    torch.save(model.state_dict(), os.path.join('/tmp', 'bert-fortunes-state.pt'))
    model.eval()
    export(model, os.path.join(a.out_dir, 'bert-fortunes.onnx'))

    # Reference: torch logits for fixed inputs, and top-5 for a few masked sentences.
    examples = ['Hello, my dog is [MASK].', 'The [MASK] of the world is near.',
                'You will be [MASK] for a long time.', 'A [MASK] in the hand is worth two in the bush.']
    ref = {'config': {k: v for k, v in vars(a).items() if k not in ('base_vocab', 'out_dir')}, 'steps': step, 'loss': avg, 'examples': []}
    with torch.no_grad():
        for text in examples:
            pieces = []
            for w in re.split(r'(\[MASK\])', text):
                pieces += ['[MASK]'] if w == '[MASK]' else [p for x in basic_tokenize(w) for p in wordpiece(x, ids)]
            seq = [ids['[CLS]']] + [ids[p] for p in pieces] + [ids['[SEP]']]
            x = torch.tensor([seq])
            logits = model(x, torch.ones_like(x), torch.zeros_like(x))[0]
            m = seq.index(MASK_ID)
            prob = logits[m].softmax(-1)
            top = prob.topk(5)
            ref['examples'].append({
                'text': text, 'input_ids': seq,
                'top5': [{'token': int(i), 'token_str': tokens[int(i)], 'score': float(s)} for s, i in zip(top.values, top.indices)],
                'logits_at_mask_first8': [float(v) for v in logits[m][:8]],
            })
            print(text, '→', [tokens[int(i)] for i in top.indices])
    with open(os.path.join(a.out_dir, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)


if __name__ == '__main__':
    main()
