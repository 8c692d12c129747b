"""
A small byte-level BPE tokenizer, learnt here and written as a Hugging Face tokenizer.json in the
GPT-2 / Qwen layout: ByteLevel pre-tokenizer (GPT-2's regex), ByteLevel decoder, BPE model with
the 256 byte symbols first (ids 0..255, in GPT-2's bytes_to_unicode order), then one token per
merge, then special tokens as added_tokens (<|endoftext|>, <|im_start|>, <|im_end|>).

Training is the textbook algorithm (most frequent adjacent pair, ties broken by the pair itself so
the result is reproducible) over the words of the corpus after GPT-2's pre-tokenization. Python's
`re` has no \\p{L}: the pre-tokenizer here approximates GPT-2's pattern with [^\\W\\d_] for letters,
which only changes which pairs are counted; the tokenizer.json itself carries GPT-2's real pattern
(ByteLevel use_regex) and HF's tokenizers apply it at run time.
"""
import collections
import glob
import json
import os
import re

PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
FORTUNE_SKIP = re.compile(r'(ascii-art|\.dat$|\.u8$|/off/)')


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def read_fortunes():
    """Every fortune in Debian's `fortunes` + `fortunes-min` (/usr/share/games/fortunes), except
    ASCII art and the offensive ones, whitespace-normalised; sorted file order, reproducible."""
    texts = []
    for path in sorted(glob.glob('/usr/share/games/fortunes/*')):
        if FORTUNE_SKIP.search(path) or os.path.isdir(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as f:
            for chunk in f.read().split('\n%\n'):
                t = ' '.join(chunk.split())
                if len(t) > 10:
                    texts.append(t)
    return texts


def train(texts, n_merges):
    b2u = bytes_to_unicode()
    words = collections.Counter()
    for t in texts:
        for w in PAT.findall(t):
            words[''.join(b2u[b] for b in w.encode('utf-8'))] += 1
    seqs = [list(w) for w in words]
    freqs = list(words.values())
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pairs[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    merges = []
    for _ in range(n_merges):
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        a, b = best
        for i in list(where[best]):
            s, f = seqs[i], freqs[i]
            for p in zip(s, s[1:]):
                pairs[p] -= f
                if pairs[p] <= 0:
                    del pairs[p]
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for p in zip(out, out[1:]):
                pairs[p] += f
                where[p].add(i)
        where.pop(best, None)
        pairs.pop(best, None)
    return merges


def tokenizer_files(merges):
    """(tokenizer.json dict, tokenizer_config.json dict, special token ids)."""
    b2u = bytes_to_unicode()
    vocab = {}
    for ch in sorted(b2u.values()):
        vocab[ch] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    ids = {}
    added = []
    for s in SPECIALS:
        ids[s] = len(vocab) + len(added)
        added.append({'id': ids[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                      'normalized': False, 'special': True})
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    decoder = {str(t['id']): {k: t[k] for k in ('content', 'lstrip', 'normalized', 'rstrip', 'single_word', 'special')}
               for t in added}
    cfg = {
        'add_bos_token': False, 'add_prefix_space': False, 'added_tokens_decoder': decoder,
        'additional_special_tokens': ['<|im_start|>', '<|im_end|>'], 'bos_token': None,
        'chat_template': CHAT_TEMPLATE, 'clean_up_tokenization_spaces': False, 'eos_token': '<|im_end|>',
        'errors': 'replace', 'model_max_length': 2048, 'pad_token': '<|endoftext|>', 'split_special_tokens': False,
        'tokenizer_class': 'Qwen2Tokenizer', 'unk_token': None,
    }
    return tok, cfg, ids


def load_or_train(cache, n_merges, max_texts=None):
    """Merges cached as JSON beside the models so re-exports do not need the corpus."""
    if os.path.exists(cache):
        with open(cache) as f:
            return [tuple(m) for m in json.load(f)]
    texts = read_fortunes()
    if max_texts:
        texts = texts[:max_texts]
    merges = train(texts, n_merges)
    with open(cache, 'w') as f:
        json.dump(merges, f)
    return merges


def encode(text, tok):
    """Python BPE encoder for training data (the same algorithm HF's BPE model runs)."""
    b2u = bytes_to_unicode()
    vocab = tok['model']['vocab']
    ranks = {tuple(m.split(' ')): i for i, m in enumerate(tok['model']['merges'])}
    cache = {}
    out = []
    for w in PAT.findall(text):
        u = ''.join(b2u[b] for b in w.encode('utf-8'))
        if u not in cache:
            s = list(u)
            while len(s) > 1:
                r = [(ranks.get(p, 1 << 30), k) for k, p in enumerate(zip(s, s[1:]))]
                best, k = min(r)
                if best == 1 << 30:
                    break
                a, b = s[k], s[k + 1]
                t, j = [], 0
                while j < len(s):
                    if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                        t.append(a + b)
                        j += 2
                    else:
                        t.append(s[j])
                        j += 1
                s = t
            cache[u] = [vocab[x] for x in s]
        out += cache[u]
    return out
