"""
Decoder-only language models in plain PyTorch, with Hugging Face's module names and math
(transformers' modeling_{llama,qwen2,qwen3,gemma,phi3,gpt2}.py, eager attention), shaped for the
optimum / transformers.js ONNX export: forward(input_ids, attention_mask, position_ids, *past)
→ (logits, *present), past/present [batch, kv_heads, past, head_dim] per layer as key, value.

The causal + padding mask is built inside the graph from attention_mask, as HF's eager path does:
query i (at absolute position past + i) sees key j iff j ≤ past + i and attention_mask[b, j] = 1;
masked scores get float32.min added (a row masked entirely — a left-pad query — softmaxes to a
uniform row instead of NaN, as in HF).

No `transformers` here (not installable on this machine); state_dict keys match HF's so weights
from a real checkpoint would load into these modules.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_padding_mask(attention_mask, seq_len, dtype=torch.float32):
    """[batch, 1, seq, past+seq] additive mask from the int64 attention_mask [batch, past+seq]."""
    total = attention_mask.shape[1]
    past = total - seq_len
    key_pos = torch.arange(total, device=attention_mask.device)
    query_pos = torch.arange(seq_len, device=attention_mask.device) + past
    causal = key_pos[None, :] <= query_pos[:, None]                       # [seq, total]
    allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
    zero = torch.zeros((), dtype=dtype)
    return torch.where(allowed, zero, torch.tensor(torch.finfo(dtype).min, dtype=dtype))


class RMSNorm(nn.Module):
    """LlamaRMSNorm (weight · x̂) or GemmaRMSNorm (x̂ · (1 + weight)), computed in float32."""

    def __init__(self, n, eps, gemma=False):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n) if gemma else torch.ones(n))
        self.eps = eps
        self.gemma = gemma

    def forward(self, x):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        if self.gemma:
            return h * (1.0 + self.weight.float())
        return self.weight * h


class RotaryEmbedding(nn.Module):
    """Default RoPE (LlamaRotaryEmbedding): cos/sin of position_ids ⊗ inv_freq, computed in-graph."""

    def __init__(self, rot_dim, theta):
        super().__init__()
        inv = 1.0 / (theta ** (torch.arange(0, rot_dim, 2, dtype=torch.int64).float() / rot_dim))
        self.register_buffer('inv_freq', inv, persistent=False)

    def forward(self, position_ids):
        inv = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        freqs = (inv @ position_ids[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(q, k, cos, sin):
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x, n_rep):
    if n_rep == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)


def eager_attention(q, k, v, mask, scaling, n_rep):
    k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
    w = torch.matmul(q, k.transpose(2, 3)) * scaling + mask
    w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(w, v).transpose(1, 2).contiguous()


class Attention(nn.Module):
    """Llama / Qwen2 (q/k/v biases) / Qwen3 (q_norm, k_norm per head) / Gemma / Phi-3 (fused
    qkv_proj, partial rotary) self-attention with a past."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.hd = c['head_dim']
        self.nh, self.nkv = c['num_attention_heads'], c['num_key_value_heads']
        H = c['hidden_size']
        bias = c['model_type'] == 'qwen2'
        if c['model_type'] == 'phi3':
            self.qkv_proj = nn.Linear(H, (self.nh + 2 * self.nkv) * self.hd, bias=False)
        else:
            self.q_proj = nn.Linear(H, self.nh * self.hd, bias=bias)
            self.k_proj = nn.Linear(H, self.nkv * self.hd, bias=bias)
            self.v_proj = nn.Linear(H, self.nkv * self.hd, bias=bias)
        self.o_proj = nn.Linear(self.nh * self.hd, H, bias=False)
        if c['model_type'] == 'qwen3':
            self.q_norm = RMSNorm(self.hd, c['rms_norm_eps'])
            self.k_norm = RMSNorm(self.hd, c['rms_norm_eps'])
        self.rot_dim = int(self.hd * c.get('partial_rotary_factor', 1.0))
        self.scaling = self.hd ** -0.5

    def forward(self, x, cos, sin, mask, past_k, past_v):
        b, s, _ = x.shape
        if hasattr(self, 'qkv_proj'):
            qkv = self.qkv_proj(x)
            q = qkv[..., : self.nh * self.hd]
            k = qkv[..., self.nh * self.hd: (self.nh + self.nkv) * self.hd]
            v = qkv[..., (self.nh + self.nkv) * self.hd:]
        else:
            q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q = q.view(b, s, -1, self.hd)
        k = k.view(b, s, -1, self.hd)
        v = v.view(b, s, -1, self.hd).transpose(1, 2)
        if hasattr(self, 'q_norm'):
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        if self.rot_dim < self.hd:
            q_rot, q_pass = q[..., : self.rot_dim], q[..., self.rot_dim:]
            k_rot, k_pass = k[..., : self.rot_dim], k[..., self.rot_dim:]
            q_rot, k_rot = apply_rotary(q_rot, k_rot, cos, sin)
            q, k = torch.cat((q_rot, q_pass), dim=-1), torch.cat((k_rot, k_pass), dim=-1)
        else:
            q, k = apply_rotary(q, k, cos, sin)
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        o = eager_attention(q, k, v, mask, self.scaling, self.nh // self.nkv).reshape(b, s, -1)
        return self.o_proj(o), k, v


class MLP(nn.Module):
    """down(act(gate(x)) · up(x)): SiLU (Llama/Qwen/Phi-3 with a fused gate_up_proj) or GELU-tanh
    (Gemma)."""

    def __init__(self, c):
        super().__init__()
        H, I = c['hidden_size'], c['intermediate_size']
        if c['model_type'] == 'phi3':
            self.gate_up_proj = nn.Linear(H, 2 * I, bias=False)
        else:
            self.gate_proj = nn.Linear(H, I, bias=False)
            self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)
        self.gelu = c['model_type'] == 'gemma'

    def forward(self, x):
        if hasattr(self, 'gate_up_proj'):
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        act = F.gelu(gate, approximate='tanh') if self.gelu else F.silu(gate)
        return self.down_proj(act * up)


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        gemma = c['model_type'] == 'gemma'
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'], gemma)
        self.post_attention_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'], gemma)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        h, k, v = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + h
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        gemma = c['model_type'] == 'gemma'
        self.embed_tokens = nn.Embedding(c['vocab_size'], c['hidden_size'])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c['num_hidden_layers'])])
        self.norm = RMSNorm(c['hidden_size'], c['rms_norm_eps'], gemma)
        rot = int(c['head_dim'] * c.get('partial_rotary_factor', 1.0))
        self.rotary_emb = RotaryEmbedding(rot, c['rope_theta'])


class CausalLM(nn.Module):
    """LlamaForCausalLM and its relatives (model_type llama, qwen2, qwen3, gemma, phi3)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Model(c)
        self.lm_head = nn.Linear(c['hidden_size'], c['vocab_size'], bias=False)
        if c['tie_word_embeddings']:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids, attention_mask, position_ids, *past):
        m = self.model
        x = m.embed_tokens(input_ids)
        if self.c['model_type'] == 'gemma':
            x = x * torch.tensor(self.c['hidden_size'] ** 0.5, dtype=x.dtype)
        mask = causal_padding_mask(attention_mask, input_ids.shape[1])
        cos, sin = m.rotary_emb(position_ids)
        present = []
        for i, layer in enumerate(m.layers):
            x, k, v = layer(x, cos, sin, mask, past[2 * i], past[2 * i + 1])
            present += [k, v]
        logits = self.lm_head(m.norm(x))
        return (logits, *present)


# ---------------------------------------------------------------- GPT-2 (modeling_gpt2.py)

class Conv1D(nn.Module):
    """GPT-2's transposed linear: weight [in, out], x @ W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(x.size()[:-1] + (-1,))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c['n_embd']
        self.nh, self.hd = c['n_head'], H // c['n_head']
        self.c_attn = Conv1D(3 * H, H)
        self.c_proj = Conv1D(H, H)

    def forward(self, x, mask, past_k, past_v):
        b, s, H = x.shape
        q, k, v = self.c_attn(x).split(H, dim=2)
        q = q.view(b, s, self.nh, self.hd).transpose(1, 2)
        k = k.view(b, s, self.nh, self.hd).transpose(1, 2)
        v = v.view(b, s, self.nh, self.hd).transpose(1, 2)
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        o = eager_attention(q, k, v, mask, self.hd ** -0.5, 1).reshape(b, s, H)
        return self.c_proj(o), k, v


class GPT2MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(c['n_inner'], c['n_embd'])
        self.c_proj = Conv1D(c['n_embd'], c['n_inner'])

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])
        self.mlp = GPT2MLP(c)

    def forward(self, x, mask, past_k, past_v):
        h, k, v = self.attn(self.ln_1(x), mask, past_k, past_v)
        x = x + h
        return x + self.mlp(self.ln_2(x)), k, v


class GPT2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c['vocab_size'], c['n_embd'])
        self.wpe = nn.Embedding(c['n_positions'], c['n_embd'])
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c['n_layer'])])
        self.ln_f = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.transformer = GPT2Model(c)
        self.lm_head = nn.Linear(c['n_embd'], c['vocab_size'], bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, attention_mask, position_ids, *past):
        t = self.transformer
        x = t.wte(input_ids) + t.wpe(position_ids)
        mask = causal_padding_mask(attention_mask, input_ids.shape[1])
        present = []
        for i, block in enumerate(t.h):
            x, k, v = block(x, mask, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return (self.lm_head(t.ln_f(x)), *present)


def build(c):
    return GPT2LMHeadModel(c) if c['model_type'] == 'gpt2' else CausalLM(c)


def randomize(model, seed):
    """Seeded random weights that keep activations sane at any size: linear/conv weights
    N(0, 1/fan_in), embeddings N(0, 1) scaled so the first norm sees unit-ish inputs, norm weights
    1 ± 0.1 (Gemma: ± 0.1 around 0, since it scales by 1 + w), biases N(0, 0.05). Not HF's init
    (std 0.02): random-but-not-trivial logits make the tests able to fail."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[0]
            if name.endswith('bias'):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
            elif 'norm' in leaf or leaf.endswith(('ln_1', 'ln_2', 'ln_f')):
                base = 0.0 if getattr(model, 'c', {}).get('model_type') == 'gemma' else 1.0
                p.copy_(base + torch.randn(p.shape, generator=g) * 0.1)
            elif 'embed' in name or name.endswith(('wte.weight', 'wpe.weight')):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                fan_in = p.shape[0] if isinstance(dict(model.named_modules())[leaf], Conv1D) else p.shape[1]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
    return model
