"""
Whisper-layout tokenizer files: a GPT-2 byte-level BPE (models/decoders/bpe.py: 256 byte symbols
in GPT-2's order, so ' ' is id 220 as in Whisper) followed by Whisper's special tokens.

Text vocabulary of `text_vocab` tokens: the 256 bytes, the merges learnt from the Debian fortunes
(models/decoders/tokenizer-merges-1500.json, the first `learned` of them), then filler merges
until there are text_vocab tokens (Whisper's multilingual BPE has 50,257: the fortunes give only
1,500 merges, so ids would otherwise not land where Whisper's do). Filler merge k is, in order,
every (learnt token a, byte b) pair — b in byte-id order, a in id order — whose concatenation is
not yet a token: valid merges that rarely fire. scripts/make-whisper.mjs writes the same rule in
JavaScript (test/models/whisper-folder.test.ts checks the two agree on the micro folder).

Then, from id text_vocab on, Whisper's layout: <|endoftext|>, <|startoftranscript|>, the 99
language tokens in Whisper's order, <|translate|>, <|transcribe|>, <|startoflm|>, <|startofprev|>,
<|nospeech|>, <|notimestamps|>, and the 1,501 timestamps <|0.00|> … <|30.00|>. With 50,257 text
tokens that is 51,865 ids, Whisper tiny/base/small's vocabulary.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'decoders'))
import bpe  # noqa: E402

MERGES = os.path.join(HERE, '..', 'decoders', 'tokenizer-merges-1500.json')

LANGUAGES = ('en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr '
             'bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km '
             'sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha '
             'ba jw su').split()
assert len(LANGUAGES) == 99
TASKS = ['<|translate|>', '<|transcribe|>', '<|startoflm|>', '<|startofprev|>', '<|nospeech|>', '<|notimestamps|>']


def text_merges(text_vocab, learned):
    """The merge list: `learned` fortunes merges, then filler merges up to text_vocab tokens."""
    with open(MERGES) as f:
        merges = [tuple(m) for m in json.load(f)][:learned]
    b2u = bpe.bytes_to_unicode()
    byte_syms = sorted(b2u.values())
    tokens = set(byte_syms) | {a + b for a, b in merges}
    learnt = [a + b for a, b in merges]
    need = text_vocab - 256 - len(merges)
    assert len(tokens) == 256 + len(merges), 'learnt merges must each add a token'
    filler = []
    for b in byte_syms:
        if len(filler) >= need:
            break
        for a in learnt:
            if len(filler) >= need:
                break
            if a + b not in tokens:
                tokens.add(a + b)
                filler.append((a, b))
    assert len(filler) == need, f'not enough filler merges ({len(filler)} < {need})'
    return merges + filler


def special_tokens():
    return (['<|endoftext|>', '<|startoftranscript|>'] + [f'<|{c}|>' for c in LANGUAGES] + TASKS
            + ['<|%.2f|>' % (i * 0.02) for i in range(1501)])


def tokenizer_files(text_vocab, learned):
    """(tokenizer.json, tokenizer_config.json, ids of the special tokens)."""
    merges = text_merges(text_vocab, learned)
    b2u = bpe.bytes_to_unicode()
    vocab = {}
    for ch in sorted(b2u.values()):
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert len(vocab) == text_vocab
    ids, added = {}, []
    for s in special_tokens():
        ids[s] = len(vocab) + len(added)
        timestamp = s[2].isdigit()
        added.append({'id': ids[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                      'normalized': False, 'special': not timestamp})
    sot, eot, nots = '<|startoftranscript|>', '<|endoftext|>', '<|notimestamps|>'
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        # Whisper's: <|startoftranscript|> <|notimestamps|> text <|endoftext|>
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': sot, 'type_id': 0}}, {'SpecialToken': {'id': nots, 'type_id': 0}},
                       {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': eot, 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': sot, 'type_id': 0}}, {'SpecialToken': {'id': nots, 'type_id': 0}},
                     {'Sequence': {'id': 'A', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': eot, 'type_id': 1}}],
            'special_tokens': {s: {'id': s, 'ids': [ids[s]], 'tokens': [s]} for s in (sot, nots, eot)},
        },
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    decoder = {str(t['id']): {k: t[k] for k in ('content', 'lstrip', 'normalized', 'rstrip', 'single_word', 'special')}
               for t in added}
    cfg = {
        'add_bos_token': False, 'add_prefix_space': False, 'added_tokens_decoder': decoder,
        'additional_special_tokens': [s for s in special_tokens()[1:] if not s[2].isdigit()],
        'bos_token': eot, 'clean_up_tokenization_spaces': True, 'eos_token': eot, 'errors': 'replace',
        'model_max_length': 1024, 'pad_token': eot, 'processor_class': 'WhisperProcessor', 'return_attention_mask': False,
        'tokenizer_class': 'WhisperTokenizer', 'unk_token': eot,
    }
    return tok, cfg, ids


def encode_word(text, tok):
    """BPE of one pre-token (no regex split): the symbols below are single pre-tokens under
    GPT-2's real pattern (` ?[^\\s\\p{L}\\p{N}]+`), which bpe.PAT only approximates (it drops '_')."""
    b2u = bpe.bytes_to_unicode()
    vocab = tok['model']['vocab']
    ranks = {tuple(m.split(' ')): i for i, m in enumerate(tok['model']['merges'])}
    s = [b2u[b] for b in text.encode('utf-8')]
    while len(s) > 1:
        best, k = min((ranks.get(p, 1 << 30), k) for k, p in enumerate(zip(s, s[1:])))
        if best == 1 << 30:
            break
        s = s[:k] + [s[k] + s[k + 1]] + s[k + 2:]
    return [vocab[x] for x in s]


def suppress_tokens(tok, ids):
    """Whisper's non-speech symbols (openai/whisper tokenizer.non_speech_tokens) as encoded by this
    tokenizer, plus the task/control tokens HF's generation_config lists; sorted. One departure:
    Whisper takes the first token of ' -', " '" and of ' ♪' (a musical symbol) even when the
    encoding is longer; in its own BPE that is a space-and-symbol token, in ours (fewer merges)
    it can be the bare space (220), which Whisper never suppresses — it is left out."""
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += '<< >> <<< >>> -- --- -( -[ (\' (" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪'.split()
    misc = set('♩♪♫♬♭♮♯')
    enc = lambda s: encode_word(s, tok)  # noqa: E731
    space = tok['model']['vocab']['Ġ']
    result = {t[0] for t in (enc(' -'), enc(" '")) if t[0] != space}
    for s in symbols + sorted(misc):
        for t in (enc(s), enc(' ' + s)):
            if len(t) == 1 or (s in misc and t[0] != space):
                result.add(t[0])
    for s in ('<|startoftranscript|>', '<|translate|>', '<|transcribe|>', '<|startoflm|>', '<|startofprev|>', '<|nospeech|>'):
        result.add(ids[s])
    return sorted(result)
