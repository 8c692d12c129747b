"""
Whisper in plain PyTorch (torch 1.13; `transformers` is not installable here), with Hugging Face's
module and parameter names (`model.encoder.conv1.weight`, `model.decoder.layers.0.encoder_attn.k_proj.weight`,
`proj_out.weight`, …) and the math of HF's eager WhisperModel as optimum exports it:

  encoder  GELU(conv1(x)) → GELU(conv2 stride 2) → transpose → + embed_positions (sinusoidal,
           stored as a weight) → pre-LN layers → layer_norm
  decoder  embed_tokens(ids) + embed_positions[past : past + n] (learned) → pre-LN layers with
           causal self-attention and cross-attention → layer_norm → proj_out (tied to embed_tokens)
  attention  q = q_proj(x) · head_dim^-0.5 (scaled after the projection, bias included, as HF's
           WhisperAttention does), k_proj has no bias, softmax(q·kᵀ + mask)·v, out_proj

The three modules export the files optimum writes: WhisperEncoder → encoder_model.onnx;
DecoderNoPast → decoder_model.onnx (computes the cross-attention keys/values from
encoder_hidden_states and returns them as present.{i}.encoder.*); DecoderWithPast →
decoder_with_past_model.onnx (reads past self- and cross-attention caches, returns only the grown
self-attention cache).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def sinusoids(length, channels, max_timescale=10000):
    """Whisper's sinusoidal encoder positions (HF's WhisperEncoder initialises embed_positions so)."""
    log_timescale_increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length).view(-1, 1) * inv_timescales.view(1, -1)
    return torch.cat([scaled_time.sin(), scaled_time.cos()], dim=1)


class WhisperAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.scaling = self.head_dim ** -0.5
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def shape(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def attend(self, q, k, v, mask=None):
        b, _, n, _ = q.shape
        w = torch.matmul(q, k.transpose(2, 3))
        if mask is not None:
            w = w + mask
        w = F.softmax(w, dim=-1)
        self.weights = w  # the probabilities, for exports with output_attentions (cross_attentions.{i})
        o = torch.matmul(w, v).transpose(1, 2).reshape(b, n, self.heads * self.head_dim)
        return self.out_proj(o)

    def query(self, x):
        return self.shape(self.q_proj(x) * self.scaling)

    def kv(self, x):
        return self.shape(self.k_proj(x)), self.shape(self.v_proj(x))


class WhisperEncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn = WhisperAttention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, h):
        x = self.self_attn_layer_norm(h)
        k, v = self.self_attn.kv(x)
        h = h + self.self_attn.attend(self.self_attn.query(x), k, v)
        x = self.final_layer_norm(h)
        return h + self.fc2(F.gelu(self.fc1(x)))


class WhisperDecoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn = WhisperAttention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = WhisperAttention(d, heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, h, mask, past_k, past_v, cross_k, cross_v):
        """past_k/past_v: the self-attention cache or None; returns (h, k, v) with k/v grown."""
        x = self.self_attn_layer_norm(h)
        k, v = self.self_attn.kv(x)
        if past_k is not None:
            k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
        h = h + self.self_attn.attend(self.self_attn.query(x), k, v, mask)
        x = self.encoder_attn_layer_norm(h)
        h = h + self.encoder_attn.attend(self.encoder_attn.query(x), cross_k, cross_v)
        x = self.final_layer_norm(h)
        return h + self.fc2(F.gelu(self.fc1(x))), k, v


class WhisperEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c['d_model']
        self.conv1 = nn.Conv1d(c['num_mel_bins'], d, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(c['max_source_positions'], d)
        self.layers = nn.ModuleList(WhisperEncoderLayer(d, c['encoder_attention_heads'], c['encoder_ffn_dim'])
                                    for _ in range(c['encoder_layers']))
        self.layer_norm = nn.LayerNorm(d)
        with torch.no_grad():
            self.embed_positions.weight.copy_(sinusoids(c['max_source_positions'], d))

    def forward(self, input_features):
        x = F.gelu(self.conv1(input_features))
        x = F.gelu(self.conv2(x))
        h = x.permute(0, 2, 1) + self.embed_positions.weight
        for layer in self.layers:
            h = layer(h)
        return self.layer_norm(h)


class WhisperDecoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c['d_model']
        self.embed_tokens = nn.Embedding(c['vocab_size'], d)
        self.embed_positions = nn.Embedding(c['max_target_positions'], d)
        self.layers = nn.ModuleList(WhisperDecoderLayer(d, c['decoder_attention_heads'], c['decoder_ffn_dim'])
                                    for _ in range(c['decoder_layers']))
        self.layer_norm = nn.LayerNorm(d)

    def embed(self, input_ids, past_len):
        n = input_ids.shape[1]
        return self.embed_tokens(input_ids) + self.embed_positions.weight[past_len:past_len + n]


def causal_mask(n, past, dtype=torch.float32):
    """HF's _make_causal_mask: [n, past + n], finfo.min above the diagonal, zeros for the past."""
    mask = torch.full((n, n), torch.finfo(dtype).min)
    cond = torch.arange(n)
    mask = mask.masked_fill(cond < (cond + 1).view(n, 1), 0)
    return torch.cat([torch.zeros(n, past, dtype=dtype), mask], dim=-1)


class WhisperModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.encoder = WhisperEncoder(c)
        self.decoder = WhisperDecoder(c)


class WhisperForConditionalGeneration(nn.Module):
    """HF's layout: `model.encoder`, `model.decoder`, `proj_out` (weight tied to embed_tokens)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = WhisperModel(c)
        self.proj_out = nn.Linear(c['d_model'], c['vocab_size'], bias=False)
        self.proj_out.weight = self.model.decoder.embed_tokens.weight

    def decode(self, input_ids, cross, past=None):
        """cross: [(k, v)] per layer; past: [(k, v)] per layer or None. Returns logits, [(k, v)]."""
        dec = self.model.decoder
        n = input_ids.shape[1]
        past_len = 0 if past is None else past[0][0].shape[2]
        h = dec.embed(input_ids, past_len)
        # HF builds no causal mask for a single new token (the with-past step feeds one)
        mask = causal_mask(n, 0) if past is None else None
        presents = []
        for i, layer in enumerate(dec.layers):
            pk, pv = (None, None) if past is None else past[i]
            h, k, v = layer(h, mask, pk, pv, *cross[i])
            presents.append((k, v))
        return self.proj_out(dec.layer_norm(h)), presents


class EncoderExport(nn.Module):
    """The wrappers hold `model` (and `proj_out`) themselves so the exported names are HF's."""

    def __init__(self, m):
        super().__init__()
        self.model = m.model

    def forward(self, input_features):
        return self.model.encoder(input_features)


class DecoderNoPast(nn.Module):
    """decoder_model.onnx: (input_ids, encoder_hidden_states) → logits, present.{i}.decoder.key/value,
    present.{i}.encoder.key/value (the cross-attention projections of encoder_hidden_states)."""

    def __init__(self, m, attentions=False):
        super().__init__()
        self.model, self.proj_out = m.model, m.proj_out
        self.attentions = attentions

    decode = WhisperForConditionalGeneration.decode

    def forward(self, input_ids, encoder_hidden_states):
        cross = [layer.encoder_attn.kv(encoder_hidden_states) for layer in self.model.decoder.layers]
        logits, presents = self.decode(input_ids, cross)
        out = [logits]
        for (k, v), (ck, cv) in zip(presents, cross):
            out += [k, v, ck, cv]
        return tuple(out) + cross_weights(self)


class DecoderWithPast(nn.Module):
    """decoder_with_past_model.onnx: (input_ids, past_key_values.{i}.decoder.key/value,
    past_key_values.{i}.encoder.key/value …) → logits, present.{i}.decoder.key/value."""

    def __init__(self, m, attentions=False):
        super().__init__()
        self.model, self.proj_out = m.model, m.proj_out
        self.attentions = attentions

    decode = WhisperForConditionalGeneration.decode

    def forward(self, input_ids, *pkv):
        L = len(self.model.decoder.layers)
        past = [(pkv[4 * i], pkv[4 * i + 1]) for i in range(L)]
        cross = [(pkv[4 * i + 2], pkv[4 * i + 3]) for i in range(L)]
        logits, presents = self.decode(input_ids, cross, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out) + cross_weights(self)


def cross_weights(wrapper):
    """With `attentions` (optimum's output_attentions, the `_timestamped` exports): each decoder
    layer's cross-attention probabilities [batch, heads, new tokens, encoder positions], returned
    after the presents as `cross_attentions.{i}` (transformers.js reads them for word timestamps)."""
    if not wrapper.attentions:
        return ()
    return tuple(layer.encoder_attn.weights for layer in wrapper.model.decoder.layers)


def randomize(model, seed):
    """Seeded random weights that keep activations sane: linears/convs N(0, 1/fan_in), norms
    1 ± 0.1, biases N(0, 0.02²), token embedding N(0, 4/d) (tied logits of std ≈ 2), the encoder's
    sinusoids as they are. With small layer outputs a tied decoder predicts the token it was fed
    (the embedding row most like its own); decoder positions N(0, 0.25) and decoder fc2/out_proj
    × 3 make the residual stream move, so greedy output is not one token repeated."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == 'model.encoder.embed_positions.weight':
                continue
            if 'layer_norm' in name:
                p.copy_((1 if name.endswith('weight') else 0) + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name == 'model.decoder.embed_tokens.weight':
                p.copy_(2 * torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))
            elif name == 'model.decoder.embed_positions.weight':
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                gain = 3 if name.startswith('model.decoder.layers') and ('fc2' in name or 'out_proj' in name) else 1
                p.copy_(gain * torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
    return model
