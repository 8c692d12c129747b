# A tiny Llama-shaped decoder (RMSNorm, RoPE, grouped-query attention with repeat_kv, SwiGLU; with
# Qwen3's q/k norms when QK_NORM=1) in plain torch, random weights, exported in the optimum layout
# (input_ids, attention_mask, position_ids, past_key_values.{i}.key|value → logits, present.*).
# Run: python3 models/generation/make_tiny_llama.py  (torch 1.13, onnx 1.12). Used by
# test/generation/*.test.ts; the generation runtime's own fixture, independent of models/decoders/.
import math, os, sys, torch
torch.manual_seed(int(os.environ.get('SEED', '7')))
V, Hd, L, H, KV, D, F = 96, 32, 2, 4, 2, 8, 64
QK_NORM = os.environ.get('QK_NORM', '0') == '1'
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'tiny-llama.onnx')

class RMSNorm(torch.nn.Module):
    def __init__(self, n):
        super().__init__(); self.w = torch.nn.Parameter(1 + 0.1 * torch.randn(n))
    def forward(self, x):
        return self.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

def rotate_half(x):
    a, b = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-b, a), dim=-1)

class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = RMSNorm(Hd), RMSNorm(Hd)
        self.q = torch.nn.Linear(Hd, H * D, bias=False); self.k = torch.nn.Linear(Hd, KV * D, bias=False)
        self.v = torch.nn.Linear(Hd, KV * D, bias=False); self.o = torch.nn.Linear(H * D, Hd, bias=False)
        self.g = torch.nn.Linear(Hd, F, bias=False); self.u = torch.nn.Linear(Hd, F, bias=False); self.d = torch.nn.Linear(F, Hd, bias=False)
        if QK_NORM: self.qn, self.kn = RMSNorm(D), RMSNorm(D)
    def forward(self, x, cos, sin, mask, pk, pv):
        B, S, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, S, H, D); k = self.k(h).view(B, S, KV, D); v = self.v(h).view(B, S, KV, D)
        if QK_NORM: q, k = self.qn(q), self.kn(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin; k = k * cos + rotate_half(k) * sin
        k = torch.cat([pk, k], dim=2); v = torch.cat([pv, v], dim=2)
        present = (k, v)
        T = k.shape[2]
        kr = k[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
        vr = v[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
        s = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(D) + mask
        a = torch.matmul(torch.softmax(s, dim=-1), vr).transpose(1, 2).reshape(B, S, H * D)
        x = x + self.o(a)
        h = self.n2(x)
        return x + self.d(torch.nn.functional.silu(self.g(h)) * self.u(h)), present

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(V, Hd); self.layers = torch.nn.ModuleList([Layer() for _ in range(L)])
        self.norm = RMSNorm(Hd); self.head = torch.nn.Linear(Hd, V, bias=False)
        inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
        f = torch.outer(torch.arange(512).float(), inv); e = torch.cat((f, f), dim=-1)
        self.register_buffer('cos_t', e.cos()); self.register_buffer('sin_t', e.sin())
    def forward(self, input_ids, attention_mask, position_ids, *past):
        B, S = input_ids.shape
        x = self.emb(input_ids)
        cos = self.cos_t[position_ids][:, None]; sin = self.sin_t[position_ids][:, None]
        T = attention_mask.shape[1]; P = T - S
        # Causal + padding mask, as HF builds it: finfo.min where a key is masked.
        i = torch.arange(S)[:, None] + P; j = torch.arange(T)[None, :]
        causal = (j <= i)[None, None]
        keep = causal & attention_mask[:, None, None, :].bool()
        mask = torch.where(keep, torch.zeros(()), torch.full((), torch.finfo(torch.float32).min))
        presents = []
        for n, layer in enumerate(self.layers):
            x, pr = layer(x, cos, sin, mask, past[2 * n], past[2 * n + 1]); presents += pr
        return (self.head(self.norm(x)), *presents)

m = Model().eval()
for p in m.parameters():
    p.data *= 3 if p.dim() == 2 else 1  # sharper distributions: greedy ties are then unlikely
B, S, P = 1, 3, 2
names = [f'past_key_values.{n}.{w}' for n in range(L) for w in ('key', 'value')]
outs = ['logits'] + [f'present.{n}.{w}' for n in range(L) for w in ('key', 'value')]
args = (torch.randint(0, V, (B, S)), torch.ones(B, S + P, dtype=torch.long), torch.arange(P, P + S)[None], *[torch.randn(B, KV, P, D) for _ in names])
axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
        'position_ids': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size', 1: 'sequence_length'}}
for n in names: axes[n] = {0: 'batch_size', 2: 'past_sequence_length'}
for n in outs[1:]: axes[n] = {0: 'batch_size', 2: 'total_sequence_length'}
torch.onnx.export(m, args, OUT, input_names=['input_ids', 'attention_mask', 'position_ids', *names], output_names=outs, dynamic_axes=axes, opset_version=14)
print('wrote', OUT, os.path.getsize(OUT), 'bytes')
