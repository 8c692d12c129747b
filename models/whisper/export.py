"""
Exports Whisper-shaped models (arch.py, seeded random weights) as Hugging Face / transformers.js
folders, the files optimum's `automatic-speech-recognition-with-past` export writes:

  onnx/encoder_model.onnx          input_features [batch_size, 80, 3000] → last_hidden_state [batch_size, 1500, d]
  onnx/decoder_model.onnx          input_ids [batch_size, decoder_sequence_length], encoder_hidden_states
                                   → logits, present.{i}.decoder.key/value, present.{i}.encoder.key/value
  onnx/decoder_with_past_model.onnx  input_ids [batch_size, 1], past_key_values.{i}.decoder.key/value,
                                   past_key_values.{i}.encoder.key/value → logits, present.{i}.decoder.key/value
  onnx/decoder_model_merged.onnx   both decoders under one `If` on use_cache_branch (merge.py, as
                                   optimum's merge_decoders), shared initializers at the top level
  + _fp16 / _quantized / _q4 variants of encoder_model and decoder_model_merged (variants.py)
  config.json, generation_config.json, preprocessor_config.json, tokenizer.json, tokenizer_config.json

torch.onnx.export (torch 1.13), opset 14. Caches are [batch, heads, length, head_dim].

  /usr/bin/python3 models/whisper/export.py micro            # models/whisper/micro (committed)
  /usr/bin/python3 models/whisper/export.py timestamped      # models/whisper/micro-timestamped: + cross_attentions.{i}
  /usr/bin/python3 models/whisper/export.py template tiny    # models/whisper/templates/tiny-*.onnx + tiny.json
  /usr/bin/python3 models/whisper/export.py template-configs  # only the config files inside templates/*.json
"""
import copy
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import arch  # noqa: E402
import merge  # noqa: E402
import tokenizer as wtok  # noqa: E402

OPSET = 14

# name → (d_model, encoder/decoder layers, heads, ffn, text vocabulary, learnt merges, alignment heads)
SIZES = {
    'micro': (24, 2, 2, 96, 400, 100, [[1, 0], [1, 1]]),
    'tiny': (384, 4, 6, 1536, 50257, 1500, [[2, 2], [3, 0], [3, 2], [3, 3], [3, 4], [3, 5]]),
    'base': (512, 6, 8, 2048, 50257, 1500, [[3, 1], [4, 2], [4, 3], [4, 7], [5, 1], [5, 2], [5, 4], [5, 6]]),
    'small': (768, 12, 12, 3072, 50257, 1500, [[5, 3], [5, 9], [8, 0], [8, 4], [8, 7], [8, 8], [9, 0], [9, 7], [9, 9], [10, 5]]),
}
SEED = {'micro': 20}


def write_json(path, obj, compact=False):
    """compact: the tokenizer files (1,608 added tokens; a third of the size without indentation)."""
    with open(path, 'w') as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(',', ':'))
        else:
            json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def hf_config(size, ids, suppress):
    d, layers, heads, ffn, text_vocab, _, _ = SIZES[size]
    eot, sot = ids['<|endoftext|>'], ids['<|startoftranscript|>']
    return {
        '_name_or_path': f'tessera/whisper-{size}-random', 'activation_dropout': 0.0, 'activation_function': 'gelu',
        'apply_spec_augment': False, 'architectures': ['WhisperForConditionalGeneration'], 'attention_dropout': 0.0,
        'begin_suppress_tokens': [220, eot], 'bos_token_id': eot, 'classifier_proj_size': 256, 'd_model': d,
        'decoder_attention_heads': heads, 'decoder_ffn_dim': ffn, 'decoder_layerdrop': 0.0, 'decoder_layers': layers,
        'decoder_start_token_id': sot, 'dropout': 0.0, 'encoder_attention_heads': heads, 'encoder_ffn_dim': ffn,
        'encoder_layerdrop': 0.0, 'encoder_layers': layers, 'eos_token_id': eot, 'forced_decoder_ids': None,
        'init_std': 0.02, 'is_encoder_decoder': True, 'mask_feature_length': 10, 'mask_feature_min_masks': 0,
        'mask_feature_prob': 0.0, 'mask_time_length': 10, 'mask_time_min_masks': 2, 'mask_time_prob': 0.05,
        'max_length': 448, 'max_source_positions': 1500, 'max_target_positions': 448, 'median_filter_width': 7,
        'model_type': 'whisper', 'num_hidden_layers': layers, 'num_mel_bins': 80, 'pad_token_id': eot,
        'scale_embedding': False, 'suppress_tokens': suppress, 'torch_dtype': 'float32',
        'transformers_version': '4.46.0', 'use_cache': True, 'use_weighted_layer_sum': False,
        'vocab_size': text_vocab + len(wtok.special_tokens()),
    }


def generation_config(size, ids, suppress):
    eot = ids['<|endoftext|>']
    return {
        'alignment_heads': SIZES[size][6], 'begin_suppress_tokens': [220, eot], 'bos_token_id': eot,
        'decoder_start_token_id': ids['<|startoftranscript|>'], 'eos_token_id': eot, 'forced_decoder_ids': None,
        'is_multilingual': True,
        'lang_to_id': {f'<|{c}|>': ids[f'<|{c}|>'] for c in wtok.LANGUAGES},
        'max_initial_timestamp_index': 50, 'max_length': 448, 'no_timestamps_token_id': ids['<|notimestamps|>'],
        'pad_token_id': eot, 'prev_sot_token_id': ids['<|startofprev|>'], 'return_timestamps': False,
        'suppress_tokens': suppress,
        'task_to_id': {'transcribe': ids['<|transcribe|>'], 'translate': ids['<|translate|>']},
        'transformers_version': '4.46.0',
    }


PREPROCESSOR = {
    'chunk_length': 30, 'feature_extractor_type': 'WhisperFeatureExtractor', 'feature_size': 80, 'hop_length': 160,
    'n_fft': 400, 'n_samples': 480000, 'nb_max_frames': 3000, 'padding_side': 'right', 'padding_value': 0.0,
    'processor_class': 'WhisperProcessor', 'return_attention_mask': False, 'sampling_rate': 16000,
}


def config_dict(size):
    d, layers, heads, ffn, text_vocab, _, _ = SIZES[size]
    return {'d_model': d, 'encoder_layers': layers, 'decoder_layers': layers, 'encoder_attention_heads': heads,
            'decoder_attention_heads': heads, 'encoder_ffn_dim': ffn, 'decoder_ffn_dim': ffn, 'num_mel_bins': 80,
            'max_source_positions': 1500, 'max_target_positions': 448,
            'vocab_size': text_vocab + len(wtok.special_tokens())}


def export(module, args, path, names_in, names_out, dyn):
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=names_in, output_names=names_out, dynamic_axes=dyn,
                          opset_version=OPSET, do_constant_folding=True)
    return onnx.load(path)


def export_all(model, tmp='/tmp/whisper-export', attentions=False):
    """The three torch exports (encoder, decoder, decoder with past), torch's folded graphs. With
    `attentions`, both decoders also return `cross_attentions.{i}` after the presents (optimum's
    output_attentions export, as onnx-community's `whisper-*_timestamped` folders hold)."""
    c = model.c
    L, heads, hd = c['decoder_layers'], c['decoder_attention_heads'], c['d_model'] // c['decoder_attention_heads']
    g = torch.Generator().manual_seed(0)
    os.makedirs(tmp, exist_ok=True)
    feats = torch.randn(1, c['num_mel_bins'], 3000, generator=g)
    enc = export(arch.EncoderExport(model), (feats,), f'{tmp}/encoder.onnx', ['input_features'], ['last_hidden_state'],
                 {'input_features': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}})
    batch, seq, past, enc_len = 2, 3, 4, 1500
    ids = torch.randint(0, c['vocab_size'], (batch, seq), generator=g)
    hs = torch.randn(batch, enc_len, c['d_model'], generator=g)
    outs, dyn = ['logits'], {'input_ids': {0: 'batch_size', 1: 'decoder_sequence_length'},
                             'encoder_hidden_states': {0: 'batch_size', 1: 'encoder_sequence_length / 2'},
                             'logits': {0: 'batch_size', 1: 'decoder_sequence_length'}}
    for i in range(L):
        for kind in ('key', 'value'):
            outs.append(f'present.{i}.decoder.{kind}')
            dyn[outs[-1]] = {0: 'batch_size', 2: 'past_decoder_sequence_length + 1'}
        for kind in ('key', 'value'):
            outs.append(f'present.{i}.encoder.{kind}')
            dyn[outs[-1]] = {0: 'batch_size', 2: 'encoder_sequence_length_out'}
    add_cross_attentions(outs, dyn, L, attentions)
    dec = export(arch.DecoderNoPast(model, attentions), (ids, hs), f'{tmp}/decoder.onnx', ['input_ids', 'encoder_hidden_states'], outs, dyn)
    ids1 = ids[:, :1]
    pkv, ins, outs = [], ['input_ids'], ['logits']
    dyn = {'input_ids': {0: 'batch_size'}, 'logits': {0: 'batch_size'}}
    for i in range(L):
        for part, n in (('decoder', past), ('encoder', enc_len)):
            for kind in ('key', 'value'):
                pkv.append(torch.randn(batch, heads, n, hd, generator=g))
                ins.append(f'past_key_values.{i}.{part}.{kind}')
                dyn[ins[-1]] = {0: 'batch_size', 2: 'past_decoder_sequence_length' if part == 'decoder' else 'encoder_sequence_length_out'}
        for kind in ('key', 'value'):
            outs.append(f'present.{i}.decoder.{kind}')
            dyn[outs[-1]] = {0: 'batch_size', 2: 'past_decoder_sequence_length + 1'}
    add_cross_attentions(outs, dyn, L, attentions)
    past_model = export(arch.DecoderWithPast(model, attentions), (ids1, *pkv), f'{tmp}/decoder_with_past.onnx', ins, outs, dyn)
    return enc, dec, past_model


def add_cross_attentions(outs, dyn, layers, attentions):
    """The output names and dynamic axes of the cross-attention probabilities (optimum's)."""
    if not attentions:
        return
    for i in range(layers):
        outs.append(f'cross_attentions.{i}')
        dyn[outs[-1]] = {0: 'batch_size', 2: 'decoder_sequence_length', 3: 'encoder_sequence_length_out'}


def untie(proto, emb_name='model.decoder.embed_tokens.weight'):
    """proj_out reads Transpose(embed_tokens) instead of torch's folded transposed copy (the table
    is stored once, as in models/decoders/export.py)."""
    m = copy.deepcopy(proto)
    inits = {t.name: t for t in m.graph.initializer}
    emb = numpy_helper.to_array(inits[emb_name])
    for n in m.graph.node:
        if n.op_type == 'MatMul' and n.input[1] in inits:
            w = numpy_helper.to_array(inits[n.input[1]])
            if w.shape == emb.T.shape and np.array_equal(w, emb.T):
                old = n.input[1]
                n.input[1] = 'proj_out.weight_transposed'
                idx = list(m.graph.node).index(n)
                m.graph.node.insert(idx, helper.make_node('Transpose', [emb_name], ['proj_out.weight_transposed'],
                                                          name='/proj_out/Transpose', perm=[1, 0]))
                m.graph.initializer.remove(inits[old])
                return m
    raise RuntimeError('tied proj_out weight not found')


def shape_logits(model, ids):
    """Random weights make every token about equally likely; a real Whisper almost never emits a
    control token (<|startoftranscript|> … <|notimestamps|>) and emits timestamps less often than
    text, and single bytes outside printable ASCII (ids 94…255 but ' ' = 220; they decode to
    U+FFFD on their own) rarely. Rows of the tied embedding scale the logits: control tokens
    × 0.05, timestamps × 0.7, those bytes × 0.3, so greedy output is mostly readable text with
    some timestamps, as transformers.js's decoding expects."""
    first, ts = ids['<|startoftranscript|>'], ids['<|0.00|>']
    with torch.no_grad():
        w = model.model.decoder.embed_tokens.weight
        w[first:ts] *= 0.05
        w[ts:] *= 0.7
        w[94:220] *= 0.3
        w[221:256] *= 0.3


def test_features(mels=80, frames=3000):
    """Deterministic log-mel-like input the tests rebuild: 0.5·sin(0.001·(t+1)·(m+1)) + 0.1·cos(0.37·t) − 0.3."""
    t = np.arange(frames, dtype=np.float64)[None, :]
    m = np.arange(mels, dtype=np.float64)[:, None]
    return (0.5 * np.sin(0.001 * (t + 1) * (m + 1)) + 0.1 * np.cos(0.37 * t) - 0.3).astype(np.float32)[None]


def reference(model, ids, steps=8):
    """PyTorch's answers on test_features(): encoder rows 0, 750 and 1499 (first 8 values each),
    the logits of the last prompt position for <|startoftranscript|><|en|><|transcribe|><|notimestamps|>
    and of the first cached step, and `steps` greedy ids (the cache fed back as transformers.js does)."""
    with torch.no_grad():
        h = model.model.encoder(torch.from_numpy(test_features()))
        cross = [layer.encoder_attn.kv(h) for layer in model.model.decoder.layers]
        prompt = [ids['<|startoftranscript|>'], ids['<|en|>'], ids['<|transcribe|>'], ids['<|notimestamps|>']]
        logits, past = model.decode(torch.tensor([prompt]), cross)
        last = [logits[0, -1]]
        greedy = []
        for s in range(steps):
            nxt = int(logits[0, -1].argmax())
            greedy.append(nxt)
            logits, past = model.decode(torch.tensor([[nxt]]), cross, past)
            if s == 0:
                last.append(logits[0, -1])
    r6 = lambda v: [round(float(x), 6) for x in v]  # noqa: E731
    return {'what': 'PyTorch (models/whisper/arch.py) on the same weights; see export.py reference()',
            'features': test_features.__doc__.split(': ', 1)[1].rstrip('.'),
            'encoder_rows': {str(r): r6(h[0, r, :8]) for r in (0, 750, 1499)},
            'prompt': prompt, 'logits_last': [r6(v) for v in last], 'greedy_new_ids': greedy}


def write_folder(size, out=None, variants=('fp16', 'q8', 'q4'), attentions=False, reference_json=True):
    """attentions: decoders with `cross_attentions.{i}` outputs (the `-timestamped` folders)."""
    out = out or os.path.join(HERE, size)
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    _, _, _, _, text_vocab, learned, _ = SIZES[size]
    tok, tok_cfg, ids = wtok.tokenizer_files(text_vocab, learned)
    suppress = wtok.suppress_tokens(tok, ids)
    write_json(os.path.join(out, 'config.json'), hf_config(size, ids, suppress))
    write_json(os.path.join(out, 'generation_config.json'), generation_config(size, ids, suppress))
    write_json(os.path.join(out, 'preprocessor_config.json'), PREPROCESSOR)
    write_json(os.path.join(out, 'tokenizer.json'), tok, compact=True)
    write_json(os.path.join(out, 'tokenizer_config.json'), tok_cfg, compact=True)
    model = arch.randomize(arch.WhisperForConditionalGeneration(config_dict(size)), SEED.get(size, 0))
    shape_logits(model, ids)
    enc, dec, past = export_all(model, attentions=attentions)
    dec_u, past_u = untie(dec), untie(past)
    files = {'encoder_model': enc, 'decoder_model': dec_u, 'decoder_with_past_model': past_u,
             'decoder_model_merged': merge.merge_decoders(dec_u, past_u)}
    for name, m in files.items():
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, 'onnx', f'{name}.onnx'))
    if variants:
        import formats  # noqa: E402
        formats.write_variants(out, enc, dec, past, dec_u, past_u, variants)
    if reference_json:
        write_json(os.path.join(out, 'reference.json'), reference(model, ids))
    sizes = {f: os.path.getsize(os.path.join(out, 'onnx', f)) for f in sorted(os.listdir(os.path.join(out, 'onnx')))}
    print(size, {k: f'{v / 1024:.0f} KB' for k, v in sizes.items()}, f'total {sum(sizes.values()) / 1024:.0f} KB')
    return model


if __name__ == '__main__':
    torch.set_num_threads(1)
    args = sys.argv[1:]
    if args and args[0] in ('template', 'template-configs'):
        import templates  # noqa: E402
        for s in args[1:] or ['micro', 'tiny', 'base']:
            if args[0] == 'template':
                templates.write_template(s, sys.modules[__name__])
            else:
                templates.refresh_configs(s, sys.modules[__name__])
    elif args and args[0] == 'timestamped':
        # micro's weights and files, decoders with cross_attentions.{i}: fp32 only, no reference.json
        for s in args[1:] or ['micro']:
            write_folder(s, os.path.join(HERE, f'{s}-timestamped'), variants=(), attentions=True, reference_json=False)
    else:
        for s in args or ['micro']:
            write_folder(s)
