#!/usr/bin/python3
"""A model of the default's size for timing: multilingual-e5-small's architecture with random weights.

BERT, 12 layers, hidden 384, intermediate 1536, 12 heads, vocab 250037, max positions 514, written directly as an
ONNX graph with Debian's python3-onnx and python3-numpy (no torch, no network), in transformers.js layout:

  config.json, tokenizer.json (SentencePiece-style Unigram, 250037 pieces), tokenizer_config.json,
  special_tokens_map.json, onnx/model.onnx (fp32, ~470 MB) and onnx/model_quantized.onnx (dynamic int8, ~120 MB,
  what Sage's dtype "auto" picks, like the real Xenova/multilingual-e5-small).

The graph follows what a Hugging Face BERT export contains (Gather embeddings, LayerNorm, MatMul + Add projections,
Reshape/Transpose heads, scaled Softmax with an additive mask, exact erf GELU), so onnxruntime applies the same
fusions. The quantized file follows onnxruntime's quantize_dynamic (QInt8 weights: symmetric, per tensor):
DynamicQuantizeLinear + MatMulInteger for every weight MatMul, Gather + DequantizeLinear for embeddings.
Weights are random (seeded): the vectors mean nothing, the time to compute them is what the real model costs.

  bench/make_e5_model.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB = 250037
HIDDEN = 384
LAYERS = 12
HEADS = 12
INTER = 1536
MAX_POS = 514
HEAD_DIM = HIDDEN // HEADS
NAME = "bench/multilingual-e5-small-random"  # "multilingual-e5" in the name: Sage applies e5's query:/passage: prefixes


def build(quantized: bool, rng: np.random.Generator) -> onnx.ModelProto:
    inits = []
    nodes = []
    counter = [0]

    def uniq(base):
        counter[0] += 1
        return f"{base}_{counter[0]}"

    def const(name, array):
        inits.append(numpy_helper.from_array(array, name))
        return name

    def node(op, inputs, outputs=None, **attrs):
        outputs = outputs or [uniq(op)]
        nodes.append(helper.make_node(op, inputs, outputs, name=uniq(op + "_node"), **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def weight(shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    def quantize(w):
        # quantize_dynamic's QInt8 weights: symmetric, per tensor, zero point 0.
        scale = np.float32(float(np.abs(w).max()) / 127.0 or 1.0)
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        return q, scale, np.int8(0)

    def linear(x, din, dout, prefix):
        w = weight((din, dout))
        b = const(prefix + ".bias", np.zeros(dout, dtype=np.float32))
        if not quantized:
            y = node("MatMul", [x, const(prefix + ".weight", w)])
        else:
            q, s, z = quantize(w)
            wq = const(prefix + ".weight_quantized", q)
            ws = const(prefix + ".weight_scale", np.array(s, dtype=np.float32))
            wz = const(prefix + ".weight_zero_point", np.array(z, dtype=np.int8))
            xq, xs, xz = node("DynamicQuantizeLinear", [x], [uniq("xq"), uniq("xs"), uniq("xz")])
            acc = node("MatMulInteger", [xq, wq, xz, wz])
            accf = node("Cast", [acc], to=TensorProto.FLOAT)
            scale = node("Mul", [xs, ws])
            y = node("Mul", [accf, scale])
        return node("Add", [y, b])

    def embedding(ids, rows, prefix):
        table = weight((rows, HIDDEN))
        if not quantized:
            return node("Gather", [const(prefix + ".weight", table), ids], axis=0)
        q, s, z = quantize(table)
        g = node("Gather", [const(prefix + ".weight_quantized", q), ids], axis=0)
        return node(
            "DequantizeLinear",
            [g, const(prefix + ".weight_scale", np.array(s, dtype=np.float32)),
             const(prefix + ".weight_zero_point", np.array(z, dtype=np.int8))],
        )

    def layer_norm(x, prefix):
        gamma = const(prefix + ".weight", np.ones(HIDDEN, dtype=np.float32))
        beta = const(prefix + ".bias", np.zeros(HIDDEN, dtype=np.float32))
        return node("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-12)

    # Embeddings: word + position (0..S-1) + token type, then LayerNorm.
    shape = node("Shape", ["input_ids"])
    seq = node("Gather", [shape, const("one_i64", np.array(1, dtype=np.int64))], axis=0)
    pos = node("Range", [const("zero_i64", np.array(0, dtype=np.int64)), seq, "one_i64"])
    pos2 = node("Unsqueeze", [pos, const("axes0", np.array([0], dtype=np.int64))])
    x = node("Add", [embedding("input_ids", VOCAB, "embeddings.word_embeddings"),
                     embedding(pos2, MAX_POS, "embeddings.position_embeddings")])
    x = node("Add", [x, embedding("token_type_ids", 2, "embeddings.token_type_embeddings")])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Additive attention mask [B, 1, 1, S]: 0 where attended, a large negative number on padding.
    m = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    m = node("Unsqueeze", [m, const("axes12", np.array([1, 2], dtype=np.int64))])
    m = node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), m])
    mask = node("Mul", [m, const("neg_f", np.array(np.finfo(np.float32).min, dtype=np.float32))])

    heads_shape = const("heads_shape", np.array([0, 0, HEADS, HEAD_DIM], dtype=np.int64))
    hidden_shape = const("hidden_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    inv_sqrt = const("inv_sqrt_d", np.array(1.0 / np.sqrt(HEAD_DIM), dtype=np.float32))
    sqrt2 = const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))

    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        q = node("Transpose", [node("Reshape", [linear(x, HIDDEN, HIDDEN, p + ".attention.self.query"), heads_shape])],
                 perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, HIDDEN, HIDDEN, p + ".attention.self.key"), heads_shape])],
                 perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, HIDDEN, HIDDEN, p + ".attention.self.value"), heads_shape])],
                 perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), inv_sqrt]), mask])
        probs = node("Softmax", [scores], axis=-1)
        ctx = node("Reshape", [node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3]), hidden_shape])
        attn = linear(ctx, HIDDEN, HIDDEN, p + ".attention.output.dense")
        x = layer_norm(node("Add", [attn, x]), p + ".attention.output.LayerNorm")
        h = linear(x, HIDDEN, INTER, p + ".intermediate.dense")
        gelu = node("Mul", [node("Mul", [h, node("Add", [node("Erf", [node("Div", [h, sqrt2])]), "one_f"])]), half])
        o = linear(gelu, INTER, HIDDEN, p + ".output.dense")
        x = layer_norm(node("Add", [o, x]), p + ".output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    ints = lambda name: helper.make_tensor_value_info(name, TensorProto.INT64, ["batch_size", "sequence_length"])
    graph = helper.make_graph(
        nodes,
        "bert",
        [ints("input_ids"), ints("attention_mask"), ints("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch_size", "sequence_length", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sage-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def vocabulary(rng: np.random.Generator):
    """250037 SentencePiece-style pieces: specials, byte-ish singles, CJK characters, common English words,
    then letter n-grams, with and without the word-start mark, scored so longer known pieces win."""
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    seen = {p for p, _ in pieces}

    def add(piece, score):
        if piece not in seen and len(pieces) < VOCAB - 1:
            seen.add(piece)
            pieces.append((piece, float(score)))

    add("\u2581", -2.0)
    for c in [chr(i) for i in range(33, 127)] + [chr(i) for i in range(0xC0, 0x250)]:
        add(c, -9.0)
        add("\u2581" + c, -8.5)
    for cp in range(0x4E00, 0x9FA6):  # CJK unified ideographs: Chinese is first-class
        add(chr(cp), -8.0 - rng.random())
    for cp in range(0x3000, 0x3100):
        add(chr(cp), -9.0)
    words = ("the a an and or of to in on for with is are was were be been it this that we you they he she "
             "use used using decided because handles vectors well team knows deploy release pipeline failed "
             "staging after migration so rolled back fixed index user prefers tabs over spaces short functions "
             "clear names tests beside code bug parser when input has unicode characters like emoji chinese text "
             "caused crash cache invalidation timeout retry backoff queue worker scheduler cron job nightly build "
             "docker image api endpoint returns json pagination cursor limit offset auth token session cookie "
             "header react component state hook effect render props context router page layout style theme dark "
             "mode database schema table column constraint foreign key transaction lock deadlock vacuum analyze "
             "memory leak profile flame graph latency throughput benchmark regression performance budget cpu "
             "config file environment variable secret vault rotate certificate tls proxy network firewall "
             "postgres storage query passage search save note").split()
    for w in words:
        add("\u2581" + w, -6.0 - rng.random())
        add(w, -7.0 - rng.random())
    letters = "abcdefghijklmnopqrstuvwxyz"
    for a in letters:
        for b in letters:
            add("\u2581" + a + b, -10.0 - rng.random())
            add(a + b, -10.5 - rng.random())
    for a in letters:
        for b in letters:
            for c in letters:
                add("\u2581" + a + b + c, -11.0 - rng.random())
                add(a + b + c, -11.5 - rng.random())
    while len(pieces) < VOCAB - 1:  # rarer longer pieces fill the rest, as in a real 250k vocabulary
        n = int(rng.integers(4, 9))
        piece = "".join(letters[j] for j in rng.integers(0, 26, n))
        add(("\u2581" if rng.random() < 0.5 else "") + piece, -12.0 - 2 * rng.random())
    pieces.append(("<mask>", 0.0))
    assert len(pieces) == VOCAB
    return pieces


def tokenizer_json(pieces):
    special = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": VOCAB - 1}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": t == "<mask>", "rstrip": False,
             "normalized": False, "special": True}
            for t, i in special.items()
        ],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in special.items()},
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [[p, s] for p, s in pieces], "byte_fallback": False},
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_e5_model.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    config = {
        "_name_or_path": NAME,
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTER,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": MAX_POS,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "vocab_size": VOCAB,
        "note": "random weights, for timing only (bench/make_e5_model.py)",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    with open(os.path.join(out, "special_tokens_map.json"), "w") as f:
        json.dump(specials, f, indent=2)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
                   "clean_up_tokenization_spaces": True, **specials}, f, indent=2)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocabulary(np.random.default_rng(7))), f, ensure_ascii=False)
    for quantized, file in ((False, "model.onnx"), (True, "model_quantized.onnx")):
        model = build(quantized, np.random.default_rng(42))
        onnx.save(model, os.path.join(out, "onnx", file + ".tmp"))
        os.replace(os.path.join(out, "onnx", file + ".tmp"), os.path.join(out, "onnx", file))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
