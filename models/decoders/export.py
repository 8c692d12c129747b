"""
Exports the decoder models of arch.py in the optimum / transformers.js layout and writes each as a
Hugging Face folder: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
onnx/model.onnx (+ model_fp16.onnx, model_quantized.onnx, model_q4.onnx for the variants).

Graph contract (what optimum's `text-generation-with-past` export gives transformers.js):
  inputs   input_ids [batch_size, sequence_length] int64
           attention_mask [batch_size, past_sequence_length + sequence_length] int64
           position_ids [batch_size, sequence_length] int64
           past_key_values.{i}.key|value [batch_size, kv_heads, past_sequence_length, head_dim] float
  outputs  logits [batch_size, sequence_length, vocab]
           present.{i}.key|value [batch_size, kv_heads, past_sequence_length + sequence_length, head_dim]
torch.onnx.export (torch 1.13), opset 14, traced with batch 2, seq 3, past 2 so no axis is
specialised; past may be 0 at run time.

Tied embeddings: torch's constant folding writes the transposed embedding as a second initializer
for lm_head's MatMul. The fp32 file instead reads it through a Transpose node on the embedding
table (stored once: Qwen3-0.6B's table is 622 MB); the quantized variants are made from the folded
graph, as the quantizers only quantize a MatMul whose B is an initializer.

  /usr/bin/python3 models/decoders/export.py            # every committed folder
  /usr/bin/python3 models/decoders/export.py tiny-qwen3  # one
"""
import copy
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'fp16-tools'))
sys.path.insert(0, os.path.join(HERE, '..', 'int8-tools'))
import arch  # noqa: E402
import bpe  # noqa: E402

OPSET = 14
ARCHITECTURES = {'qwen3': 'Qwen3ForCausalLM', 'qwen2': 'Qwen2ForCausalLM', 'llama': 'LlamaForCausalLM',
                 'gemma': 'GemmaForCausalLM', 'phi3': 'Phi3ForCausalLM', 'gpt2': 'GPT2LMHeadModel'}


def geometry(c):
    """(layers, kv_heads, head_dim) of a config, GPT-2's names included."""
    if c['model_type'] == 'gpt2':
        return c['n_layer'], c['n_head'], c['n_embd'] // c['n_head']
    return c['num_hidden_layers'], c['num_key_value_heads'], c['head_dim']


def export_onnx(model, path_or_none=None, batch=2, seq=3, past=2):
    """torch.onnx.export of the optimum layout; returns the ModelProto (tied weights still folded)."""
    c = model.c
    L, kv, hd = geometry(c)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c['vocab_size'], (batch, seq), generator=g)
    mask = torch.ones(batch, past + seq, dtype=torch.int64)
    pos = torch.arange(past, past + seq).unsqueeze(0).expand(batch, -1).contiguous()
    pkv = [torch.randn(batch, kv, past, hd, generator=g) for _ in range(2 * L)]
    names_in = ['input_ids', 'attention_mask', 'position_ids']
    names_out = ['logits']
    dyn = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
           'attention_mask': {0: 'batch_size', 1: 'past_sequence_length + sequence_length'},
           'position_ids': {0: 'batch_size', 1: 'sequence_length'},
           'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for i in range(L):
        for kind in ('key', 'value'):
            n_in, n_out = f'past_key_values.{i}.{kind}', f'present.{i}.{kind}'
            names_in.append(n_in)
            names_out.append(n_out)
            dyn[n_in] = {0: 'batch_size', 2: 'past_sequence_length'}
            dyn[n_out] = {0: 'batch_size', 2: 'past_sequence_length + sequence_length'}
    tmp = path_or_none or '/tmp/decoders-export.onnx'
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, pos, *pkv), tmp, input_names=names_in, output_names=names_out,
                          dynamic_axes=dyn, opset_version=OPSET, do_constant_folding=True)
    return onnx.load(tmp)


def embedding_name(c):
    return 'transformer.wte.weight' if c['model_type'] == 'gpt2' else 'model.embed_tokens.weight'


def untie(proto, c):
    """Replace the folded transposed-embedding initializer of lm_head by Transpose(embedding)."""
    if not c.get('tie_word_embeddings', c['model_type'] == 'gpt2'):
        return proto
    m = copy.deepcopy(proto)
    inits = {t.name: t for t in m.graph.initializer}
    emb = numpy_helper.to_array(inits[embedding_name(c)])
    for n in m.graph.node:
        if n.op_type != 'MatMul' or n.input[1] not in inits:
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        if w.shape == emb.T.shape and np.array_equal(w, emb.T):
            old = n.input[1]
            t_out = 'lm_head.weight_transposed'
            n.input[1] = t_out
            idx = list(m.graph.node).index(n)
            m.graph.node.insert(idx, helper.make_node('Transpose', [embedding_name(c)], [t_out], name='/lm_head/Transpose', perm=[1, 0]))
            m.graph.initializer.remove(inits[old])
            return m
    raise RuntimeError('tied lm_head weight not found')


def hf_config(c, ids):
    cfg = dict(c)
    cfg['architectures'] = [ARCHITECTURES[c['model_type']]]
    cfg.setdefault('torch_dtype', 'float32')
    cfg.setdefault('use_cache', True)
    cfg.setdefault('transformers_version', '4.51.0')
    eos = ids['<|endoftext|>'] if c['model_type'] == 'gpt2' else ids['<|im_end|>']
    cfg.setdefault('bos_token_id', ids['<|endoftext|>'])
    cfg.setdefault('eos_token_id', eos)
    cfg.setdefault('pad_token_id', ids['<|endoftext|>'])
    cfg['transformers.js_config'] = {'kv_cache_dtype': {'fp16': 'float16'}}
    return cfg


def gen_config(c, ids):
    eos = [ids['<|im_end|>'], ids['<|endoftext|>']] if c['model_type'] != 'gpt2' else ids['<|endoftext|>']
    # Greedy by default (Qwen3's own file samples with temperature 0.6): these are test models.
    return {'bos_token_id': ids['<|endoftext|>'], 'eos_token_id': eos, 'pad_token_id': ids['<|endoftext|>'],
            'do_sample': False, 'transformers_version': '4.51.0'}


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def write_folder(name, c, model, tok, tok_cfg, ids, variants=()):
    """Exports `model` (config `c`) into models/decoders/<name>/ with the given weight variants."""
    out = os.path.join(HERE, name)
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    write_json(os.path.join(out, 'config.json'), hf_config(c, ids))
    write_json(os.path.join(out, 'generation_config.json'), gen_config(c, ids))
    write_json(os.path.join(out, 'tokenizer.json'), tok)
    write_json(os.path.join(out, 'tokenizer_config.json'), tok_cfg)
    folded = export_onnx(model)
    fp32 = untie(folded, c)
    onnx.checker.check_model(fp32)
    onnx.save(fp32, os.path.join(out, 'onnx', 'model.onnx'))
    import variants as V  # noqa: E402  (variants.py imports the fp16/int8 tools)
    for v in variants:
        V.write_variant(v, fp32, folded, os.path.join(out, 'onnx'))
    write_json(os.path.join(out, 'reference.json'), reference(model, ids))
    sizes = {f: os.path.getsize(os.path.join(out, 'onnx', f)) for f in sorted(os.listdir(os.path.join(out, 'onnx')))}
    print(name, {k: f'{v / 1024:.0f} KB' for k, v in sizes.items()})


def reference(model, ids, new_tokens=8):
    """PyTorch's answers for a left-padded batch of two prompts, driven as transformers.js drives
    the ONNX file: prompt step with an empty past (position_ids = cumsum(mask) − 1, 1 where padded),
    then greedy decode steps feeding present back as past. Logits of the last position for the
    first two steps (rounded to 1e-6) and the greedy ids of `new_tokens` steps."""
    c = model.c
    L, kv, hd = geometry(c)
    g = torch.Generator().manual_seed(42)
    top = ids['<|endoftext|>']
    prompt = torch.randint(0, min(top, 600), (2, 5), generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]])
    prompt[1, :2] = ids['<|endoftext|>']
    past = [torch.zeros(2, kv, 0, hd) for _ in range(2 * L)]
    x, m = prompt, mask
    pos = (m.cumsum(-1) - 1).masked_fill(m == 0, 1)
    steps, greedy = [], [[], []]
    with torch.no_grad():
        for step in range(new_tokens):
            out = model(x, m, pos, *past)
            last = out[0][:, -1, :]
            if step < 2:
                steps.append({'input_ids': x.tolist(), 'attention_mask': m.tolist(), 'position_ids': pos.tolist(),
                              'logits_last': [[round(float(v), 6) for v in row] for row in last]})
            nxt = last.argmax(-1)
            for b in range(2):
                greedy[b].append(int(nxt[b]))
            past = list(out[1:])
            x = nxt[:, None]
            m = torch.cat([m, torch.ones(2, 1, dtype=torch.int64)], dim=1)
            pos = pos[:, -1:] + 1
    return {'what': 'PyTorch (models/decoders/arch.py) on the same weights; see export.py reference()',
            'steps': steps, 'greedy_new_ids': greedy}


def shared_tokenizer():
    merges = bpe.load_or_train(os.path.join(HERE, 'tokenizer-merges-400.json'), 400, max_texts=4000)
    return bpe.tokenizer_files(merges)


def pad_vocab(n, multiple=64):
    return (n + multiple - 1) // multiple * multiple


def tiny_config(kind, vocab):
    base = {'max_position_embeddings': 2048, 'use_cache': True, 'vocab_size': vocab, 'initializer_range': 0.02,
            'attention_dropout': 0.0, 'hidden_act': 'silu', 'rope_scaling': None}
    if kind == 'qwen3':
        return {**base, 'model_type': 'qwen3', 'hidden_size': 64, 'num_attention_heads': 4, 'num_key_value_heads': 2,
                'head_dim': 32, 'num_hidden_layers': 2, 'intermediate_size': 128, 'rms_norm_eps': 1e-6,
                'rope_theta': 1000000.0, 'tie_word_embeddings': True, 'attention_bias': False,
                'sliding_window': None, 'use_sliding_window': False, 'max_window_layers': 2}
    if kind == 'llama':
        return {**base, 'model_type': 'llama', 'hidden_size': 64, 'num_attention_heads': 4, 'num_key_value_heads': 1,
                'head_dim': 16, 'num_hidden_layers': 2, 'intermediate_size': 160, 'rms_norm_eps': 1e-5,
                'rope_theta': 500000.0, 'tie_word_embeddings': False, 'attention_bias': False, 'mlp_bias': False,
                'pretraining_tp': 1}
    if kind == 'qwen2':
        return {**base, 'model_type': 'qwen2', 'hidden_size': 48, 'num_attention_heads': 4, 'num_key_value_heads': 2,
                'head_dim': 12, 'num_hidden_layers': 2, 'intermediate_size': 96, 'rms_norm_eps': 1e-6,
                'rope_theta': 1000000.0, 'tie_word_embeddings': True, 'sliding_window': None,
                'use_sliding_window': False, 'max_window_layers': 2}
    if kind == 'gemma':
        return {**base, 'model_type': 'gemma', 'hidden_size': 48, 'num_attention_heads': 2, 'num_key_value_heads': 1,
                'head_dim': 32, 'num_hidden_layers': 2, 'intermediate_size': 128, 'rms_norm_eps': 1e-6,
                'rope_theta': 10000.0, 'tie_word_embeddings': True, 'hidden_act': 'gelu_pytorch_tanh',
                'hidden_activation': 'gelu_pytorch_tanh', 'attention_bias': False}
    if kind == 'phi3':
        return {**base, 'model_type': 'phi3', 'hidden_size': 64, 'num_attention_heads': 4, 'num_key_value_heads': 2,
                'head_dim': 16, 'num_hidden_layers': 2, 'intermediate_size': 128, 'rms_norm_eps': 1e-5,
                'rope_theta': 10000.0, 'tie_word_embeddings': False, 'partial_rotary_factor': 0.75,
                'original_max_position_embeddings': 2048, 'resid_pdrop': 0.0, 'embd_pdrop': 0.0}
    if kind == 'gpt2':
        return {'model_type': 'gpt2', 'n_embd': 64, 'n_head': 4, 'n_layer': 2, 'n_inner': 256, 'n_positions': 256,
                'n_ctx': 256, 'vocab_size': vocab, 'layer_norm_epsilon': 1e-5, 'activation_function': 'gelu_new',
                'tie_word_embeddings': True, 'use_cache': True, 'max_position_embeddings': 256}
    raise ValueError(kind)


# name → (architecture, seed, weight variants)
TINY = {
    'tiny-qwen3': ('qwen3', 1, ('fp16', 'q8', 'q4')),
    'tiny-llama': ('llama', 2, ('q4-zp64',)),
    'tiny-qwen2': ('qwen2', 3, ()),
    'tiny-gpt2': ('gpt2', 4, ()),
    'tiny-gemma': ('gemma', 5, ()),
    'tiny-phi3': ('phi3', 6, ()),
}


# Qwen3-0.6B's geometry with 8 of its 28 layers: the bench model scripts/make-decoder.mjs writes.
QWEN3_06B_8L = {'model_type': 'qwen3', 'hidden_size': 1024, 'num_attention_heads': 16, 'num_key_value_heads': 8,
                'head_dim': 128, 'num_hidden_layers': 8, 'intermediate_size': 3072, 'rms_norm_eps': 1e-6,
                'rope_theta': 1000000.0, 'tie_word_embeddings': True, 'vocab_size': 151936,
                'max_position_embeddings': 40960, 'use_cache': True, 'hidden_act': 'silu', 'attention_bias': False,
                'attention_dropout': 0.0, 'initializer_range': 0.02, 'rope_scaling': None, 'sliding_window': None,
                'use_sliding_window': False, 'max_window_layers': 28, 'bos_token_id': 151643, 'eos_token_id': 151645}


def write_template(name='qwen3-0.6b-8l', big=QWEN3_06B_8L):
    """The graph skeleton of `big` for scripts/make-decoder.mjs: exported from a model with the
    same heads, head_dim, layers and rope but stand-in widths (hidden 48, intermediate 80, vocab
    704 — numbers that occur nowhere else in the graph), so the graph is exactly what this exporter
    writes for `big` except the weight sizes. Weight initializers keep name and real dims and lose
    their data; templates/<name>.json maps each to its torch parameter (and whether it is stored
    transposed, as torch folds Linear's weightᵀ for MatMul). The graph is torch's folded one
    (tied lm_head as its own initializer); the Node script applies untie() itself for fp32."""
    small = dict(big, hidden_size=48, intermediate_size=80, vocab_size=704)
    real = {48: big['hidden_size'], 80: big['intermediate_size'], 704: big['vocab_size']}
    model = arch.randomize(arch.build(small), 7)
    folded = export_onnx(model)
    params = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    entries = []
    for t in folded.graph.initializer:
        a = numpy_helper.to_array(t)
        hit = None
        for pname, p in params.items():
            if p.shape == a.shape and np.array_equal(p, a):
                hit = (pname, False)
            elif p.ndim == 2 and p.T.shape == a.shape and np.array_equal(p.T, a):
                hit = (pname, True)
            if hit:
                break
        if hit is None:
            continue  # a constant of the graph (none expected besides Constant nodes)
        dims = [real.get(d, d) for d in t.dims]
        entries.append({'name': t.name, 'param': hit[0], 'transposed': hit[1], 'dims': dims})
        t.ClearField('raw_data')
        t.ClearField('float_data')
        del t.dims[:]
        t.dims.extend(dims)
    for o in folded.graph.output:
        for d in o.type.tensor_type.shape.dim:
            if d.HasField('dim_value') and d.dim_value in real:
                d.dim_value = real[d.dim_value]
    del folded.graph.value_info[:]
    os.makedirs(os.path.join(HERE, 'templates'), exist_ok=True)
    onnx.save(folded, os.path.join(HERE, 'templates', f'{name}.onnx'))
    cfg = {k: v for k, v in big.items()}
    cfg['architectures'] = [ARCHITECTURES[big['model_type']]]
    cfg['torch_dtype'] = 'float32'
    cfg['transformers_version'] = '4.51.0'
    write_json(os.path.join(HERE, 'templates', f'{name}.json'),
               {'what': 'scripts/make-decoder.mjs fills these initializers; see export.py write_template()',
                'config': cfg, 'embedding': embedding_name(big), 'initializers': entries})
    print('template', name, len(entries), 'weights', os.path.getsize(os.path.join(HERE, 'templates', f'{name}.onnx')), 'bytes')


def main(names):
    if names == ['template']:
        return write_template()
    tok, tok_cfg, ids = shared_tokenizer()
    vocab = pad_vocab(max(ids.values()) + 1)
    for name in names or TINY:
        kind, seed, variants = TINY[name]
        c = tiny_config(kind, vocab)
        model = arch.randomize(arch.build(c), seed)
        write_folder(name, c, model, tok, tok_cfg, ids, variants)


if __name__ == '__main__':
    torch.set_num_threads(1)
    main(sys.argv[1:])
