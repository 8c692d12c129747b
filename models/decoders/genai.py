"""
The onnxruntime-genai **model-builder layout** of a Llama-style decoder, written with onnx.helper
(torch cannot export com.microsoft ops), from the weights of the same torch module export.py
exports in the optimum layout — so the two layouts of one model give the same logits.

What onnxruntime-genai's builder.py writes for Llama on CPU fp32 (and int4):
  inputs   input_ids [batch_size, sequence_length] int64,
           attention_mask [batch_size, total_sequence_length] int64,
           past_key_values.{i}.key|value [batch_size, kv_heads, past_sequence_length, head_size]
           (no position_ids: GroupQueryAttention derives positions from seqlens_k)
  outputs  logits [batch_size, sequence_length, vocab], present.{i}.key|value
           [batch_size, kv_heads, total_sequence_length, head_size]
  mask     /model/attn_mask_reformat/attn_mask_subgraph: seqlens_k = Cast<int32>(ReduceSum(mask, 1) − 1),
           total_sequence_length = Cast<int32>(Gather(Shape(mask), 1))
  layer    SimplifiedLayerNormalization (layer 0) or SkipSimplifiedLayerNormalization (residual
           sum on output 3); q/k/v MatMul (weights stored [in, out]); com.microsoft
           GroupQueryAttention(q, k, v, past_key, past_value, seqlens_k, total_sequence_length,
           cos_cache, sin_cache) with do_rotary=1, num_heads, kv_num_heads, scale; o_proj MatMul;
           SkipSimplifiedLayerNormalization; MLP gate/up MatMul, SiLU as Sigmoid·x, Mul, down MatMul
  end      SkipSimplifiedLayerNormalization(norm), lm_head MatMul
  caches   cos_cache / sin_cache [max_length, head_size / 2] float initializers
int4 (`--int4`): every MatMul → MatMulNBits via variants.quantize_q4 (block 32, symmetric), as
builder.py does through MatMul4BitsQuantizer.

GroupQueryAttention assumes right-aligned valid tokens per row are not padded on the left: genai
feeds unpadded (or right-padded) batches. Drive it without left padding.

  /usr/bin/python3 models/decoders/genai.py     # writes tiny-llama-genai/ (+ tiny-llama-genai-int4/)
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'fp16-tools'))
sys.path.insert(0, os.path.join(HERE, '..', 'int8-tools'))
import arch  # noqa: E402
import export  # noqa: E402
import variants  # noqa: E402

MS = 'com.microsoft'


def build_genai(model, max_length=2048):
    c = model.c
    assert c['model_type'] in ('llama', 'qwen2'), 'genai layout written for Llama/Qwen2-style models'
    L, nh, kv, hd = c['num_hidden_layers'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim']
    H, V, eps = c['hidden_size'], c['vocab_size'], c['rms_norm_eps']
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, ins, outs, name, domain='', **attrs):
        nodes.append(helper.make_node(op, ins, outs, name=name, domain=domain or None, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def matmul(x, key, path):
        w = init(f'{path.strip("/").replace("/", ".")}.MatMul.weight', sd[key].T)
        out = node('MatMul', [x, w], [f'{path}/MatMul/output_0'], f'{path}/MatMul')
        bias = key.replace('.weight', '.bias')
        if bias in sd:
            b = init(f'{path.strip("/").replace("/", ".")}.Add.bias', sd[bias])
            out = node('Add', [b, out], [f'{path}/Add/output_0'], f'{path}/Add')
        return out

    # Embedding
    emb = init('model.embed_tokens.weight', sd['model.embed_tokens.weight'])
    x = node('Gather', [emb, 'input_ids'], ['/model/embed_tokens/Gather/output_0'], '/model/embed_tokens/Gather')

    # attention_mask → seqlens_k, total_sequence_length
    p = '/model/attn_mask_reformat/attn_mask_subgraph'
    one = init(f'{p}/one', np.array(1, np.int64))
    axis1 = init(f'{p}/axes', np.array([1], np.int64))
    rs = node('ReduceSum', ['attention_mask', axis1], [f'{p}/ReduceSum/output_0'], f'{p}/ReduceSum', keepdims=0)
    sub = node('Sub', [rs, one], [f'{p}/Sub/output_0'], f'{p}/Sub')
    seqlens = node('Cast', [sub], [f'{p}/Sub/Cast/output_0'], f'{p}/Sub/Cast', to=TensorProto.INT32)
    shp = node('Shape', ['attention_mask'], [f'{p}/Shape/output_0'], f'{p}/Shape')
    g1 = node('Gather', [shp, one], [f'{p}/Gather/output_0'], f'{p}/Gather', axis=0)
    total = node('Cast', [g1], [f'{p}/Gather/Cast/output_0'], f'{p}/Gather/Cast', to=TensorProto.INT32)

    # RoPE caches (default rope, rotary over the whole head)
    inv = 1.0 / (c['rope_theta'] ** (np.arange(0, hd, 2, dtype=np.int64).astype(np.float32) / hd))
    freqs = np.outer(np.arange(max_length, dtype=np.float32), inv.astype(np.float32)).astype(np.float32)
    cos = init('cos_cache', np.cos(freqs).astype(np.float32))
    sin = init('sin_cache', np.sin(freqs).astype(np.float32))

    residual = None
    mlp_out = None
    for i in range(L):
        pre = f'model.layers.{i}'
        lp = f'/model/layers.{i}'
        w = init(f'{pre}.input_layernorm.weight', sd[f'{pre}.input_layernorm.weight'])
        if i == 0:
            normed = node('SimplifiedLayerNormalization', [x, w], [f'{lp}/input_layernorm/LayerNorm/output_0'],
                          f'{lp}/input_layernorm/LayerNorm', axis=-1, epsilon=eps, stash_type=1)
            residual = x
        else:
            outs = node('SkipSimplifiedLayerNormalization', [mlp_out, residual, w],
                        [f'{lp}/input_layernorm/SkipLayerNorm/output_0', '', '', f'{lp}/input_layernorm/SkipLayerNorm/output_3'],
                        f'{lp}/input_layernorm/SkipLayerNorm', domain=MS, epsilon=eps)
            normed, residual = outs[0], outs[3]
        q = matmul(normed, f'{pre}.self_attn.q_proj.weight', f'{lp}/attn/q_proj')
        k = matmul(normed, f'{pre}.self_attn.k_proj.weight', f'{lp}/attn/k_proj')
        v = matmul(normed, f'{pre}.self_attn.v_proj.weight', f'{lp}/attn/v_proj')
        attn = node('GroupQueryAttention', [q, k, v, f'past_key_values.{i}.key', f'past_key_values.{i}.value', seqlens, total, cos, sin],
                    [f'{lp}/attn/GroupQueryAttention/output_0', f'present.{i}.key', f'present.{i}.value'],
                    f'{lp}/attn/GroupQueryAttention', domain=MS, num_heads=nh, kv_num_heads=kv, scale=float(hd ** -0.5),
                    do_rotary=1, rotary_interleaved=0, local_window_size=-1, softcap=0.0)[0]
        o = matmul(attn, f'{pre}.self_attn.o_proj.weight', f'{lp}/attn/o_proj')
        w = init(f'{pre}.post_attention_layernorm.weight', sd[f'{pre}.post_attention_layernorm.weight'])
        outs = node('SkipSimplifiedLayerNormalization', [o, residual, w],
                    [f'{lp}/post_attention_layernorm/SkipLayerNorm/output_0', '', '', f'{lp}/post_attention_layernorm/SkipLayerNorm/output_3'],
                    f'{lp}/post_attention_layernorm/SkipLayerNorm', domain=MS, epsilon=eps)
        normed, residual = outs[0], outs[3]
        gate = matmul(normed, f'{pre}.mlp.gate_proj.weight', f'{lp}/mlp/gate_proj')
        up = matmul(normed, f'{pre}.mlp.up_proj.weight', f'{lp}/mlp/up_proj')
        sig = node('Sigmoid', [gate], [f'{lp}/mlp/act_fn/Sigmoid/output_0'], f'{lp}/mlp/act_fn/Sigmoid')
        act = node('Mul', [gate, sig], [f'{lp}/mlp/act_fn/Mul/output_0'], f'{lp}/mlp/act_fn/Mul')
        prod = node('Mul', [act, up], [f'{lp}/mlp/Mul/output_0'], f'{lp}/mlp/Mul')
        mlp_out = matmul(prod, f'{pre}.mlp.down_proj.weight', f'{lp}/mlp/down_proj')
    w = init('model.norm.weight', sd['model.norm.weight'])
    outs = node('SkipSimplifiedLayerNormalization', [mlp_out, residual, w],
                ['/model/norm/SkipLayerNorm/output_0', '', '', '/model/norm/SkipLayerNorm/output_3'],
                '/model/norm/SkipLayerNorm', domain=MS, epsilon=eps)
    lm_w = init('lm_head.MatMul.weight', sd['lm_head.weight'].T)
    node('MatMul', [outs[0], lm_w], ['logits'], '/lm_head/MatMul')

    f = TensorProto.FLOAT
    ins = [helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch_size', 'sequence_length']),
           helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch_size', 'total_sequence_length'])]
    outs = [helper.make_tensor_value_info('logits', f, ['batch_size', 'sequence_length', V])]
    for i in range(L):
        for kind in ('key', 'value'):
            ins.append(helper.make_tensor_value_info(f'past_key_values.{i}.{kind}', f, ['batch_size', kv, 'past_sequence_length', hd]))
            outs.append(helper.make_tensor_value_info(f'present.{i}.{kind}', f, ['batch_size', kv, 'total_sequence_length', hd]))
    # builder.py drops empty optional outputs' names; onnx.helper keeps '' placeholders, which is valid.
    graph = helper.make_graph(nodes, 'main_graph', ins, outs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14), helper.make_opsetid(MS, 1)],
                          producer_name='onnxruntime-genai', producer_version='0.8.0')
    m.ir_version = 8
    # No onnx.checker: SimplifiedLayerNormalization is an onnxruntime op registered in the ONNX
    # domain (as builder.py writes it), which the checker does not know.
    return m


def genai_config(c, ids, filename='model.onnx', max_length=2048):
    return {
        'model': {
            'bos_token_id': ids['<|endoftext|>'], 'context_length': max_length,
            'decoder': {
                'session_options': {'log_id': 'onnxruntime-genai', 'provider_options': []},
                'filename': filename, 'head_size': c['head_dim'], 'hidden_size': c['hidden_size'],
                'inputs': {'input_ids': 'input_ids', 'attention_mask': 'attention_mask',
                           'past_key_names': 'past_key_values.%d.key', 'past_value_names': 'past_key_values.%d.value'},
                'outputs': {'logits': 'logits', 'present_key_names': 'present.%d.key', 'present_value_names': 'present.%d.value'},
                'num_attention_heads': c['num_attention_heads'], 'num_hidden_layers': c['num_hidden_layers'],
                'num_key_value_heads': c['num_key_value_heads'],
            },
            'eos_token_id': [ids['<|im_end|>'], ids['<|endoftext|>']], 'pad_token_id': ids['<|endoftext|>'],
            'type': c['model_type'], 'vocab_size': c['vocab_size'],
        },
        'search': {'diversity_penalty': 0.0, 'do_sample': False, 'early_stopping': True, 'length_penalty': 1.0,
                   'max_length': max_length, 'min_length': 0, 'no_repeat_ngram_size': 0, 'num_beams': 1,
                   'num_return_sequences': 1, 'past_present_share_buffer': True, 'repetition_penalty': 1.0,
                   'temperature': 1.0, 'top_k': 1, 'top_p': 1.0},
    }


def reference(model, ids, new_tokens=8):
    """PyTorch's answers for an unpadded batch of two 5-token prompts, positions 0.., then greedy."""
    c = model.c
    L, kv, hd = export.geometry(c)
    g = torch.Generator().manual_seed(43)
    x = torch.randint(0, 600, (2, 5), generator=g)
    m = torch.ones(2, 5, dtype=torch.int64)
    pos = torch.arange(5).unsqueeze(0).expand(2, -1)
    past = [torch.zeros(2, kv, 0, hd) for _ in range(2 * L)]
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
    return {'what': 'PyTorch on the same weights, unpadded batch (GroupQueryAttention takes no left padding); '
                    'position_ids are for the optimum-layout twin (../tiny-llama/) — the genai graph has no such input',
            'steps': steps, 'greedy_new_ids': greedy}


def main():
    torch.set_num_threads(1)
    tok, tok_cfg, ids = export.shared_tokenizer()
    kind, seed, _ = export.TINY['tiny-llama']
    c = export.tiny_config(kind, export.pad_vocab(max(ids.values()) + 1))
    model = arch.randomize(arch.build(c), seed)  # the very weights of tiny-llama/
    m = build_genai(model)
    ref = reference(model, ids)
    for name, proto in (('tiny-llama-genai', m), ('tiny-llama-genai-int4', variants.quantize_q4(m, 32, True))):
        out = os.path.join(HERE, name)
        os.makedirs(out, exist_ok=True)
        onnx.save(proto, os.path.join(out, 'model.onnx'))
        export.write_json(os.path.join(out, 'genai_config.json'), genai_config(c, ids))
        export.write_json(os.path.join(out, 'config.json'), export.hf_config(c, ids))
        export.write_json(os.path.join(out, 'tokenizer.json'), tok)
        export.write_json(os.path.join(out, 'tokenizer_config.json'), tok_cfg)
        export.write_json(os.path.join(out, 'reference.json'), ref)
        print(name, f'{os.path.getsize(os.path.join(out, "model.onnx")) / 1024:.0f} KB')


if __name__ == '__main__':
    main()
