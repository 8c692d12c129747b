"""
Weight-less graph templates for scripts/make-whisper.mjs (tiny/base/small are too large to
commit; Node fills the weights on first use, so tests and the bench never need Python).

For a size, the three graphs export.py's export_all() writes — encoder, decoder, decoder with
past, torch's folded graphs (proj_out's transposed table as its own initializer) — at the real
dimensions, with every weight initializer's data removed. templates/<size>.json maps each such
initializer to its torch parameter (and whether torch stored it transposed for a MatMul), and
carries config.json, generation_config.json and preprocessor_config.json as export.py writes
them; the tokenizer is rebuilt in Node by the rule of tokenizer.py.

  /usr/bin/python3 models/whisper/export.py template tiny base
"""
import hashlib
import json
import os

import numpy as np
import torch
import onnx
from onnx import numpy_helper

import arch
import tokenizer as wtok

HERE = os.path.dirname(os.path.abspath(__file__))


def _digest(a):
    return hashlib.sha1(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()


def strip(proto, by_digest):
    """Removes the weights' data; returns [{name, param, transposed, dims}] per weight initializer."""
    entries = []
    for t in proto.graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT or len(t.dims) == 0:
            continue
        hit = by_digest.get((tuple(t.dims), _digest(numpy_helper.to_array(t))))
        if hit is None:
            continue  # a constant of the graph, kept with its data
        entries.append({'name': t.name, 'param': hit[0], 'transposed': hit[1], 'dims': list(t.dims)})
        t.ClearField('raw_data')
        t.ClearField('float_data')
    del proto.graph.value_info[:]
    return entries


def write_template(size, export):
    """export: the export.py module (passed in: it is __main__ when run as a script)."""
    torch.set_num_threads(1)
    _, _, _, _, text_vocab, learned, _ = export.SIZES[size]
    tok, _, ids = wtok.tokenizer_files(text_vocab, learned)
    suppress = wtok.suppress_tokens(tok, ids)
    model = arch.randomize(arch.WhisperForConditionalGeneration(export.config_dict(size)), 7)
    by_digest = {}
    for name, p in model.named_parameters():
        a = p.detach().numpy()
        by_digest[(a.shape, _digest(a))] = (name, False)
        if a.ndim == 2:
            by_digest[(a.T.shape, _digest(a.T))] = (name, True)
    enc, dec, past = export.export_all(model)
    os.makedirs(os.path.join(HERE, 'templates'), exist_ok=True)
    graphs = {}
    for part, proto in (('encoder', enc), ('decoder', dec), ('decoder_with_past', past)):
        graphs[part] = strip(proto, by_digest)
        path = os.path.join(HERE, 'templates', f'{size}-{part}.onnx')
        onnx.save(proto, path)
        print(size, part, len(graphs[part]), 'weights', os.path.getsize(path), 'bytes')
    meta = {'what': 'scripts/make-whisper.mjs fills these initializers; see models/whisper/templates.py',
            'size': size, 'text_vocab': text_vocab, 'learned_merges': learned,
            'config': export.hf_config(size, ids, suppress),
            'generation_config': export.generation_config(size, ids, suppress),
            'preprocessor_config': export.PREPROCESSOR, 'graphs': graphs}
    with open(os.path.join(HERE, 'templates', f'{size}.json'), 'w') as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write('\n')


def refresh_configs(size, export):
    """Rewrites the config files carried in templates/<size>.json (graphs untouched), after a
    change to export.py's configs or tokenizer.py's suppress_tokens."""
    path = os.path.join(HERE, 'templates', f'{size}.json')
    with open(path) as f:
        meta = json.load(f)
    tok, _, ids = wtok.tokenizer_files(meta['text_vocab'], meta['learned_merges'])
    suppress = wtok.suppress_tokens(tok, ids)
    meta['config'] = export.hf_config(size, ids, suppress)
    meta['generation_config'] = export.generation_config(size, ids, suppress)
    meta['preprocessor_config'] = export.PREPROCESSOR
    with open(path, 'w') as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write('\n')
