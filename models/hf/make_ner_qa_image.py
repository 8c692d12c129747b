#!/usr/bin/python3
"""Hugging Face model folders for the token-classification, question-answering and
image-classification pipelines, laid out as the hub's ONNX repos are (config.json, tokenizer.json,
tokenizer_config.json or preprocessor_config.json, onnx/model.onnx, onnx/model_quantized.onnx), so
transformers.js v4 and tessera can load the same folder.

- ner-bert-tiny/: BertForTokenClassification (HF's module tree: bert → classifier Linear(H, 9)),
  id2label as dslim/bert-base-NER (O, B-/I- MISC, PER, ORG, LOC); output `logits` [B, S, 9].
- qa-bert-tiny/: BertForQuestionAnswering (bert → qa_outputs Linear(H, 2) → split → squeeze);
  outputs `start_logits`, `end_logits` [B, S].
- image-resnet-tiny/: a tiny ResNet-like conv net `pixel_values` [B, 3, 32, 32] → `logits` [B, 10],
  model_type "resnet", with the preprocessor_config.json microsoft/resnet-50 ships (but bilinear)
  (ConvNextImageProcessor: shortest_edge, crop_pct 0.875, rescale, ImageNet mean/std).

Weights are random (seeded; HF's init: std 0.02, LayerNorm 1/0). The heads are scaled up (std 1)
so that labels and spans differ between tokens and inputs instead of being a flat softmax.

The vocabulary is bert-base-uncased's, trimmed to stay small (≈ 6,000 entries instead of 30,522,
so each BERT folder is ≈ 1 MB instead of ≈ 6 MB): its special tokens, its 5,000 first non-unused
entries (all single characters, then the most frequent words and pieces) and every `##`+character
piece, renumbered in their original order. The tokenizer.json is bert-base-uncased's otherwise
(BertNormalizer lowercase, BertPreTokenizer, WordPiece, [CLS] A [SEP] B [SEP] template, WordPiece
decoder).

The quantized files are made as transformers.js's quantize script makes them
(quantize_dynamic, QUInt8, per_channel, reduce_range) by models/int8-tools/make.py's
re-implementation of onnxruntime.quantization.

Run: node scripts/make-vocab.mjs /tmp/bert-vocab.txt && /usr/bin/python3 models/hf/make_ner_qa_image.py /tmp/bert-vocab.txt
"""
import importlib.util
import json
import os
import sys

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bert = load_module('bert_export', os.path.join(MODELS, 'bert/export.py'))
int8 = load_module('int8_make', os.path.join(MODELS, 'int8-tools/make.py'))

NER_LABELS = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC']
IMAGE_LABELS = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']


# ---- tokenizer -----------------------------------------------------------------------------------

def trimmed_vocab(vocab_path, first=5000):
    full = [l.rstrip('\n') for l in open(vocab_path, encoding='utf-8')]
    assert len(full) == 30522 and full[101] == '[CLS]', 'not bert-base-uncased vocab.txt'
    keep = []
    for i, t in enumerate(full):
        if t in SPECIALS or 999 <= i < 999 + first or (t.startswith('##') and len(t) == 3):
            keep.append(t)
    return keep


def tokenizer_json(vocab):
    ids = {t: i for i, t in enumerate(vocab)}
    added = [{'id': ids[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True} for t in SPECIALS]
    cls, sep = ids['[CLS]'], ids['[SEP]']
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                       'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [cls], 'tokens': ['[CLS]']},
                               '[SEP]': {'id': '[SEP]', 'ids': [sep], 'tokens': ['[SEP]']}},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': ids},
    }


def tokenizer_config(vocab):
    ids = {t: i for i, t in enumerate(vocab)}
    return {
        'added_tokens_decoder': {str(ids[t]): {'content': t, 'lstrip': False, 'normalized': False, 'rstrip': False,
                                               'single_word': False, 'special': True} for t in SPECIALS},
        'clean_up_tokenization_spaces': True, 'cls_token': '[CLS]', 'do_lower_case': True,
        'mask_token': '[MASK]', 'model_max_length': 512, 'pad_token': '[PAD]', 'sep_token': '[SEP]',
        'strip_accents': None, 'tokenize_chinese_chars': True, 'tokenizer_class': 'BertTokenizer',
        'unk_token': '[UNK]',
    }


def bert_config_json(c, architecture, extra):
    return {
        'architectures': [architecture], 'attention_probs_dropout_prob': 0.1, 'classifier_dropout': None,
        'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': c.hidden_size,
        'initializer_range': 0.02, 'intermediate_size': c.intermediate_size, 'layer_norm_eps': c.layer_norm_eps,
        'max_position_embeddings': c.max_position_embeddings, 'model_type': 'bert',
        'num_attention_heads': c.num_attention_heads, 'num_hidden_layers': c.num_hidden_layers,
        'pad_token_id': 0, 'position_embedding_type': 'absolute', 'transformers_version': '4.46.0',
        'type_vocab_size': c.type_vocab_size, 'use_cache': True, 'vocab_size': c.vocab_size, **extra,
    }


# ---- models --------------------------------------------------------------------------------------

def hf_init(module):
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            m.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.data.zero_()
            if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                m.weight.data[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            m.bias.data.zero_()
            m.weight.data.fill_(1.0)


class BertForTokenClassification(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        self.config = c
        self.bert = bert.BertModel(c)
        self.classifier = nn.Linear(c.hidden_size, num_labels)
        hf_init(self)
        # Scaled head: confident, varied labels; a bias towards "O" so ignore_labels matters.
        self.classifier.weight.data.normal_(mean=0.0, std=1.0)
        self.classifier.bias.data[0] = 2.0

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.classifier(self.bert(input_ids, attention_mask, token_type_ids))


class BertForQuestionAnswering(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = bert.BertModel(c)
        self.qa_outputs = nn.Linear(c.hidden_size, 2)
        hf_init(self)
        self.qa_outputs.weight.data.normal_(mean=0.0, std=1.0)

    def forward(self, input_ids, attention_mask, token_type_ids):
        logits = self.qa_outputs(self.bert(input_ids, attention_mask, token_type_ids))
        start_logits, end_logits = logits.split(1, dim=-1)
        return start_logits.squeeze(-1).contiguous(), end_logits.squeeze(-1).contiguous()


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, stride, relu=True):
        super().__init__()
        self.convolution = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.normalization = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        x = self.normalization(self.convolution(x))
        return torch.relu(x) if self.relu else x


class TinyResNet(nn.Module):
    """ResNet-like: stem conv s2 → a basic residual block → conv s2 → global average → Linear."""

    def __init__(self, num_labels):
        super().__init__()
        self.embedder = ConvBnRelu(3, 8, 2)
        self.block_a = ConvBnRelu(8, 8, 1)
        self.block_b = ConvBnRelu(8, 8, 1, relu=False)
        self.down = ConvBnRelu(8, 16, 2)
        self.classifier = nn.Linear(16, num_labels)
        for bn in (m for m in self.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.normal_(0, 0.1)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.normal_(0, 0.1)
        self.classifier.weight.data.normal_(0.0, 6.0)

    def forward(self, pixel_values):
        x = self.embedder(pixel_values)
        x = torch.relu(x + self.block_b(self.block_a(x)))
        x = self.down(x)
        return self.classifier(x.mean(dim=(2, 3)))


# ---- export --------------------------------------------------------------------------------------

def export_text(model, path, outputs):
    model.eval()
    ids = torch.randint(5, model.config.vocab_size, (2, 8), dtype=torch.int64)
    mask = torch.ones(2, 8, dtype=torch.int64)
    types = torch.zeros(2, 8, dtype=torch.int64)
    axes = {0: 'batch_size', 1: 'sequence_length'}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, types), path,
                          input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=outputs,
                          dynamic_axes={n: axes for n in ['input_ids', 'attention_mask', 'token_type_ids', *outputs]},
                          opset_version=14, do_constant_folding=True)


def export_image(model, path):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, (torch.randn(2, 3, 32, 32),), path, input_names=['pixel_values'],
                          output_names=['logits'],
                          dynamic_axes={'pixel_values': {0: 'batch_size'}, 'logits': {0: 'batch_size'}},
                          opset_version=14, do_constant_folding=True)


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def quantize(folder):
    src = os.path.join(folder, 'onnx/model.onnx')
    q = int8.quantize_dynamic(onnx.load(src), 'uint8', per_channel=True, reduce_range=True)
    onnx.save(q, os.path.join(folder, 'onnx/model_quantized.onnx'))


def text_folder(name, vocab, model, architecture, outputs, extra):
    folder = os.path.join(HERE, name)
    os.makedirs(os.path.join(folder, 'onnx'), exist_ok=True)
    write_json(os.path.join(folder, 'tokenizer.json'), tokenizer_json(vocab))
    write_json(os.path.join(folder, 'tokenizer_config.json'), tokenizer_config(vocab))
    write_json(os.path.join(folder, 'config.json'), bert_config_json(model.config, architecture, extra))
    export_text(model, os.path.join(folder, 'onnx/model.onnx'), outputs)
    quantize(folder)
    return folder


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    vocab = trimmed_vocab(sys.argv[1])
    c = bert.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)

    torch.manual_seed(17)
    ner = BertForTokenClassification(c, len(NER_LABELS))
    text_folder('ner-bert-tiny', vocab, ner, 'BertForTokenClassification', ['logits'], {
        'id2label': {str(i): l for i, l in enumerate(NER_LABELS)},
        'label2id': {l: i for i, l in enumerate(NER_LABELS)},
    })

    torch.manual_seed(18)
    qa = BertForQuestionAnswering(c)
    text_folder('qa-bert-tiny', vocab, qa, 'BertForQuestionAnswering', ['start_logits', 'end_logits'], {})

    torch.manual_seed(19)
    folder = os.path.join(HERE, 'image-resnet-tiny')
    os.makedirs(os.path.join(folder, 'onnx'), exist_ok=True)
    export_image(TinyResNet(len(IMAGE_LABELS)), os.path.join(folder, 'onnx/model.onnx'))
    quantize(folder)
    write_json(os.path.join(folder, 'config.json'), {
        'architectures': ['ResNetForImageClassification'], 'model_type': 'resnet', 'num_channels': 3,
        'id2label': {str(i): l for i, l in enumerate(IMAGE_LABELS)},
        'label2id': {l: i for i, l in enumerate(IMAGE_LABELS)}, 'transformers_version': '4.46.0',
    })
    # As microsoft/resnet-50 ships it (ConvNextImageProcessor), at this net's 32-pixel input.
    write_json(os.path.join(folder, 'preprocessor_config.json'), {
        'crop_pct': 0.875, 'do_normalize': True, 'do_rescale': True, 'do_resize': True,
        'image_mean': [0.485, 0.456, 0.406], 'image_processor_type': 'ConvNextImageProcessor',
        'image_std': [0.229, 0.224, 0.225], 'resample': 2, 'rescale_factor': 0.00392156862745098,
        'size': {'shortest_edge': 32},
    })
    for root, _, files in sorted(os.walk(HERE)):
        for f in sorted(files):
            p = os.path.join(root, f)
            print(f'{os.path.relpath(p, HERE)}: {os.path.getsize(p):,} bytes')


if __name__ == '__main__':
    main()
