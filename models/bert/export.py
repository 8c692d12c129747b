#!/usr/bin/python3
"""A BertForMaskedLM in plain torch, laid out like Hugging Face's modeling_bert.py, exported to ONNX
the way `optimum-cli export onnx` / transformers.onnx export it (opset 14; int64 inputs input_ids,
attention_mask, token_type_ids with dynamic batch and sequence; output logits).

No transformers dependency: the module tree, parameter names and the exported op pattern follow
HF's (BertEmbeddings, BertSelfAttention with the extended mask (1 - mask) * finfo.min, erf GELU,
BertLMPredictionHead with the decoder tied to the word embeddings), so a graph exported here has
the same structure as a real bert-base-uncased export, at any size.

Usage:
  /usr/bin/python3 models/bert/export.py out.onnx --layers 2 --hidden 32 --heads 2 \
      --intermediate 64 --vocab 1000 [--max-position 128] [--seed 0] [--weights state.pt]

Without --weights the parameters are random (seeded; std 0.02 like HF's init, LayerNorm 1/0);
with --weights a state_dict saved by train.py (same names) is loaded.
"""
import argparse
import math

import torch
from torch import nn


class BertConfig:
    def __init__(self, vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
                 intermediate_size, max_position_embeddings=512, type_vocab_size=2,
                 layer_norm_eps=1e-12, pad_token_id=0):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.layer_norm_eps = layer_norm_eps
        self.pad_token_id = pad_token_id


def gelu(x):
    # HF's "gelu" (GELUActivation): the exact erf form, exported as Div, Erf, Add, Mul, Mul.
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.register_buffer('position_ids', torch.arange(c.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_attention_heads = c.num_attention_heads
        self.attention_head_size = c.hidden_size // c.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(c.hidden_size, self.all_head_size)
        self.key = nn.Linear(c.hidden_size, self.all_head_size)
        self.value = nn.Linear(c.hidden_size, self.all_head_size)

    def transpose_for_scores(self, x):
        new_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_mask):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        scores = scores + extended_mask
        probs = nn.functional.softmax(scores, dim=-1)
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.all_head_size,))


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, hidden_states, extended_mask):
        return self.output(self.self(hidden_states, extended_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, hidden_states):
        return gelu(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, hidden_states, extended_mask):
        attention_output = self.attention(hidden_states, extended_mask)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, hidden_states, extended_mask):
        for layer in self.layer:
            hidden_states = layer(hidden_states, extended_mask)
        return hidden_states


class BertModel(nn.Module):
    """Without the pooler, as BertForMaskedLM builds it (add_pooling_layer=False)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        # get_extended_attention_mask: [B, S] → [B, 1, 1, S], 0 where attended, finfo.min where not.
        extended = attention_mask[:, None, None, :].to(torch.float32)
        extended = (1.0 - extended) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(input_ids, token_type_ids), extended)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, hidden_states):
        return self.LayerNorm(gelu(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden_states):
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)

    def forward(self, sequence_output):
        return self.predictions(sequence_output)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c)
        self.cls = BertOnlyMLMHead(c)
        self.init_weights()
        self.tie_weights()

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(mean=0.0, std=0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    m.bias.data.zero_()
                if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                    m.weight.data[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                m.bias.data.zero_()
                m.weight.data.fill_(1.0)

    def tie_weights(self):
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.cls(self.bert(input_ids, attention_mask, token_type_ids))


def config_from_args(a):
    if a.hidden % a.heads != 0:
        raise SystemExit(f'hidden ({a.hidden}) must be a multiple of heads ({a.heads})')
    return BertConfig(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                      num_attention_heads=a.heads, intermediate_size=a.intermediate,
                      max_position_embeddings=a.max_position)


def add_size_args(p):
    p.add_argument('--layers', type=int, default=2)
    p.add_argument('--hidden', type=int, default=32)
    p.add_argument('--heads', type=int, default=2)
    p.add_argument('--intermediate', type=int, default=64)
    p.add_argument('--vocab', type=int, default=1000)
    p.add_argument('--max-position', type=int, default=128)


def export(model, path):
    """As transformers.onnx / optimum export BertForMaskedLM: opset 14, constant folding on."""
    model.eval()
    ids = torch.randint(5, model.config.vocab_size, (2, 8), dtype=torch.int64)
    mask = torch.ones(2, 8, dtype=torch.int64)
    types = torch.zeros(2, 8, dtype=torch.int64)
    axes = {0: 'batch_size', 1: 'sequence_length'}
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), path,
            input_names=['input_ids', 'attention_mask', 'token_type_ids'],
            output_names=['logits'],
            dynamic_axes={'input_ids': axes, 'attention_mask': axes, 'token_type_ids': axes, 'logits': axes},
            opset_version=14, do_constant_folding=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out')
    add_size_args(p)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--weights', help='a state_dict saved by train.py')
    a = p.parse_args()
    torch.manual_seed(a.seed)
    model = BertForMaskedLM(config_from_args(a))
    if a.weights:
        model.load_state_dict(torch.load(a.weights))
        model.tie_weights()
    export(model, a.out)
    n = sum(p.numel() for p in model.parameters())
    print(f'{a.out}: {a.layers} layers, hidden {a.hidden}, {a.heads} heads, intermediate {a.intermediate}, '
          f'vocab {a.vocab}, {n:,} parameters')


if __name__ == '__main__':
    main()
