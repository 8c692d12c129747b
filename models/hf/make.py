#!/usr/bin/python3
"""Small Hugging Face-layout model folders for the pipeline tests (test/pipelines/), random weights,
in the module layout and export pattern of models/bert/export.py (HF's modeling_bert.py in plain
torch, exported as optimum does: opset 14, int64 inputs with dynamic batch and sequence):

  minilm-embed/  BertModel (no pooler), output last_hidden_state: feature-extraction
                 (the all-MiniLM-L6-v2 shape at a toy width)
  bert-sst/      BertForSequenceClassification, 5 labels: text-classification
  bert-nli/      BertForSequenceClassification, 3 labels contradiction/neutral/entailment
                 (label2id as MNLI checkpoints have it): zero-shot-classification
  bert-mlm/      BertForMaskedLM (decoder tied to the embeddings): fill-mask

Each folder: config.json, tokenizer.json + tokenizer_config.json (bert-base-uncased's, written by
scripts/make-bert-tokenizer.mjs from the vocab that scripts/make-vocab.mjs rebuilds), onnx/model.onnx
and onnx/model_quantized.onnx — dynamic int8 made as transformers.js' conversion script makes it
(onnxruntime quantize_dynamic, uint8 weights, per_channel, reduce_range; models/int8-tools/make.py
re-implements it). The vocabulary is bert-base-uncased's 30,522 tokens, so the word embedding
dominates the size; widths are kept tiny (16, 8 for the MLM whose export holds it twice) to keep
each file under 2 MB. Linear layers are drawn with std 1/sqrt(fan_in) rather than HF's 0.02 (which
leaves a 2-layer toy blind to its input), and classifier heads are scaled and centred on real
sentences so that logits spread by a few units between inputs and labels differ.

  minilm-worker/ BertModel, 6 layers, hidden 64, q8 only: the model examples/worker bundles

Usage: node scripts/make-bert-tokenizer.mjs /tmp/bert-tok && /usr/bin/python3 models/hf/make.py /tmp/bert-tok [worker]
"""
import importlib.util
import json
import os
import shutil
import sys

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bert = load('bert_export', os.path.join(MODELS, 'bert/export.py'))
int8 = load('int8_tools', os.path.join(MODELS, 'int8-tools/make.py'))


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class BertForSequenceClassification(nn.Module):
    """HF's: BertModel with pooler (tanh dense on [CLS]), dropout (identity in eval), classifier."""

    def __init__(self, c, num_labels):
        super().__init__()
        self.config = c
        self.bert = bert.BertModel(c)
        self.pooler = BertPooler(c)
        self.classifier = nn.Linear(c.hidden_size, num_labels)
        bert.BertForMaskedLM.init_weights(self)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.classifier(self.pooler(self.bert(input_ids, attention_mask, token_type_ids)))


class FeatureModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = bert.BertModel(c)
        bert.BertForMaskedLM.init_weights(self)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids, attention_mask, token_type_ids)


def fan_in_init(model, seed):
    """Linear layers (not the embeddings, not the tied MLM decoder) drawn with std 1/sqrt(fan_in)
    instead of HF's 0.02: at 0.02 a 2-layer toy barely mixes tokens, so [CLS] is the same vector
    for every text (std 1e-4 across sentences) and no head could tell texts apart."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, nn.Linear) and not name.endswith('predictions.decoder'):
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) / mod.weight.shape[1] ** 0.5)
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=g))


def export(model, path, output):
    model.eval()
    ids = torch.randint(1000, model.config.vocab_size, (2, 8), dtype=torch.int64)
    mask = torch.ones(2, 8, dtype=torch.int64)
    types = torch.zeros(2, 8, dtype=torch.int64)
    axes = {0: 'batch_size', 1: 'sequence_length'}
    out_axes = axes if output != 'logits' or isinstance(model, bert.BertForMaskedLM) else {0: 'batch_size'}
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), path,
            input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=[output],
            dynamic_axes={'input_ids': axes, 'attention_mask': axes, 'token_type_ids': axes, output: out_axes},
            opset_version=14, do_constant_folding=True)


CALIBRATION = """I love this movie, it is wonderful.
This was the worst meal I have ever eaten.
The weather is fine today.
Stocks fell sharply after the announcement.
Paris is the capital of France.
He scored twice in the second half.
The new phone has a bigger screen and a faster chip.
I am not sure what to think about it.
What time does the train leave?
The soup was cold and the waiter was rude.
An absolutely stunning performance by the whole cast!
Parliament voted on the budget late last night.
My cat sleeps on the keyboard all day.
Please send me the report by Friday.
The team lost the final after extra time.
Add two cups of flour and a pinch of salt.
It rained all week and the river flooded the town.
She smiled, and everything was alright again.
Terrible service, never coming back.
The election results will be announced tomorrow.
hello world
ok
Quantum computers could break today's encryption.
We walked along the beach at sunset.""".split('\n')


def word_ids(vocab, text):
    """Whole-word lookup (lowercase, punctuation split off): close enough to WordPiece to give
    the head realistic inputs; unknown words become [UNK]."""
    import re
    words = re.findall(r"[a-z0-9]+|[^a-z0-9\s]", text.lower())
    return [101] + [vocab.get(w, 100) for w in words] + [102]


def spread_head(model, linear, vocab, target=2.0, seed=0):
    """Scales a classifier so each logit varies across real sentences with std ≈ target, and
    centres it (bias = −mean + a little noise) so that no label wins every input."""
    g = torch.Generator().manual_seed(seed)

    def logits_all():
        rows = []
        for text in CALIBRATION:
            ids = torch.tensor([word_ids(vocab, text)])
            rows.append(model(ids, torch.ones_like(ids), torch.zeros_like(ids))[0])
        return torch.stack(rows)

    with torch.no_grad():
        linear.bias.zero_()
        linear.weight.mul_((target / logits_all().std(dim=0)).unsqueeze(1))
        linear.bias.copy_(-logits_all().mean(dim=0) + 0.3 * torch.randn(linear.bias.shape[0], generator=g))


def write_folder(name, model, output, config, tokenizer_dir, keep_fp32=True):
    folder = os.path.join(HERE, name)
    os.makedirs(os.path.join(folder, 'onnx'), exist_ok=True)
    path = os.path.join(folder, 'onnx/model.onnx')
    export(model, path, output)
    q = int8.quantize_dynamic(onnx.load(path), 'uint8', per_channel=True, reduce_range=True)
    onnx.save(q, os.path.join(folder, 'onnx/model_quantized.onnx'))
    if not keep_fp32:
        os.remove(path)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(tokenizer_dir, f), os.path.join(folder, f))
    c = model.config
    full = {
        'architectures': [config.pop('architecture')],
        'model_type': 'bert',
        'attention_probs_dropout_prob': 0.1, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1,
        'hidden_size': c.hidden_size, 'initializer_range': 0.02, 'intermediate_size': c.intermediate_size,
        'layer_norm_eps': c.layer_norm_eps, 'max_position_embeddings': c.max_position_embeddings,
        'num_attention_heads': c.num_attention_heads, 'num_hidden_layers': c.num_hidden_layers,
        'pad_token_id': 0, 'type_vocab_size': c.type_vocab_size, 'vocab_size': c.vocab_size,
        **config,
    }
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(full, f, indent=2)
        f.write('\n')
    sizes = ', '.join(f'{x} {os.path.getsize(os.path.join(folder, "onnx", x)):,} B' for x in ('model.onnx', 'model_quantized.onnx')
                      if os.path.exists(os.path.join(folder, 'onnx', x)))
    print(f'{name}: hidden {c.hidden_size}, {c.num_hidden_layers} layers, {c.num_attention_heads} heads; {sizes}')


def labels(names):
    return {'id2label': {str(i): n for i, n in enumerate(names)}, 'label2id': {n: i for i, n in enumerate(names)}}


def main():
    tokenizer_dir = sys.argv[1]
    with open(os.path.join(tokenizer_dir, 'tokenizer.json')) as f:
        vocab = json.load(f)['model']['vocab']
    cfg = lambda hidden, heads, inter, layers=2: bert.BertConfig(
        vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=inter, max_position_embeddings=512)

    # examples/worker's bundled embedder: MiniLM-L6's depth and head width (6 layers, heads of
    # 32) at hidden 64, q8 only (2.3 MB: under the Workers free plan's 3 MB script limit).
    torch.manual_seed(5)
    worker = FeatureModel(cfg(64, 2, 256, layers=6))
    fan_in_init(worker, 5)
    write_folder('minilm-worker', worker, 'last_hidden_state', {'architecture': 'BertModel'}, tokenizer_dir, keep_fp32=False)
    if 'worker' in sys.argv[2:]:
        return

    torch.manual_seed(1)
    embed = FeatureModel(cfg(16, 2, 64))
    fan_in_init(embed, 1)
    write_folder('minilm-embed', embed, 'last_hidden_state',
                 {'architecture': 'BertModel'}, tokenizer_dir)

    torch.manual_seed(2)
    sst = BertForSequenceClassification(cfg(16, 2, 64), 5)
    fan_in_init(sst, 2)
    spread_head(sst, sst.classifier, vocab, seed=2)
    write_folder('bert-sst', sst, 'logits', {
        'architecture': 'BertForSequenceClassification', 'problem_type': 'single_label_classification',
        **labels(['very negative', 'negative', 'neutral', 'positive', 'very positive'])}, tokenizer_dir)

    torch.manual_seed(3)
    nli = BertForSequenceClassification(cfg(16, 2, 64), 3)
    fan_in_init(nli, 3)
    spread_head(nli, nli.classifier, vocab, seed=3)
    write_folder('bert-nli', nli, 'logits', {
        'architecture': 'BertForSequenceClassification',
        **labels(['contradiction', 'neutral', 'entailment'])}, tokenizer_dir)

    torch.manual_seed(4)
    mlm = bert.BertForMaskedLM(cfg(8, 2, 32))
    fan_in_init(mlm, 4)
    # Spread the MLM logits too (the decoder is tied to the 0.02-std embeddings: scale the head's
    # LayerNorm), so that probabilities are not all ≈ 1/30522.
    with torch.no_grad():
        mlm.cls.predictions.transform.LayerNorm.weight.mul_(60.0)
    write_folder('bert-mlm', mlm, 'logits', {'architecture': 'BertForMaskedLM'}, tokenizer_dir)


if __name__ == '__main__':
    main()
