"""The encoder-once measurement of FeatureHeadClassifier: an epoch after the first, against one
frozen forward pass of the embedded ELMo over the same IMDB reviews.

    SKTRANSFER_DATA=../shared/data python benchmarks/feature_head_epoch_cost.py [--n-texts 300]
        [--epochs 3] [--heads mlp bilstm mlp-words] [--hidden-size 64] [--batch-size 32] [--out results.json]

For each head, one ``fit`` is timed in two parts: the encoder pass (the token vectors of every
training text, computed once; its texts are counted) and the epochs that follow (skorch's ``dur``).
The target: an epoch after the first costs at most 5% of the encoder pass. ``rows`` counts the
stored float16 rows: every token for the BiLSTM, one mean per text for the MLP on mean pooling.
``mlp-words`` is the MLP head with ``word_embeddings=WordEmbeddingEncoder()`` (ELMo joined to word
vectors trained with it): one mean per text plus every word id, whose vectors each epoch looks up.
"""

import argparse
import json
import platform
import time

import numpy as np
import torch

from sktransfer import ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder
from sktransfer.datasets import fetch_imdb


class EncoderMeter:
    """Wraps ``ELMoVectorizer.transform_tokens``: seconds spent and texts encoded."""

    def __init__(self):
        self.seconds, self.texts = 0.0, 0
        self._original = ELMoVectorizer.transform_tokens

    def __enter__(self):
        meter = self

        def timed(vectorizer, X, **kwargs):
            start = time.perf_counter()
            rows = meter._original(vectorizer, X, **kwargs)
            meter.seconds += time.perf_counter() - start
            meter.texts += len(rows)
            return rows

        ELMoVectorizer.transform_tokens = timed
        return self

    def __exit__(self, *exc):
        ELMoVectorizer.transform_tokens = self._original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=3, help="at least 2: the first epoch is not counted")
    parser.add_argument("--heads", nargs="+", default=["mlp", "bilstm"], choices=["mlp", "bilstm", "mlp-words"])
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not counted")
    torch.set_num_threads(args.threads)

    texts, labels = fetch_imdb(
        "train", n_samples=args.n_texts, random_state=0, return_X_y=True, download_if_missing=False
    )
    texts = list(texts)
    rows = []
    for head in args.heads:
        words = WordEmbeddingEncoder() if head == "mlp-words" else None
        clf = FeatureHeadClassifier(
            ELMoVectorizer(), head=head.removesuffix("-words"), word_embeddings=words, hidden_size=args.hidden_size,
            batch_size=args.batch_size, max_epochs=args.epochs, random_state=0,
        )
        with EncoderMeter() as meter:
            clf.fit(texts, labels)
        later = [row["dur"] for row in clf.history_[1:]]
        word_ids = sum(map(len, clf.word_embeddings_.transform_ids(texts))) if words is not None else 0
        row_bytes = len(clf.mix_weights_) * clf.encoder_.bilm_.output_dim * 2  # one float16 token, every layer
        rows.append({
            "head": head,
            "texts": len(texts),
            "texts_encoded_in_fit": meter.texts,
            # Token rows kept for training (float16); the MLP on mean pooling keeps one per text.
            "stored_rows": (clf.feature_bytes_ - 8 * word_ids) // row_bytes,
            "word_ids": word_ids,
            "feature_mib": clf.feature_bytes_ / 2**20,
            "encoder_pass_s": meter.seconds,
            "first_epoch_s": clf.history_[0]["dur"],
            "later_epoch_s": float(np.mean(later)),
            "ratio": float(np.mean(later)) / meter.seconds,
        })
    print(
        f"{args.n_texts} IMDB reviews, embedded ELMo, hidden_size={args.hidden_size}, batch_size={args.batch_size}, "
        f"{args.threads} threads, {platform.processor() or platform.machine()}"
    )
    print(
        f"{'head':<10}{'encoded':>9}{'rows':>9}{'MiB':>8}{'encoder s':>11}"
        f"{'epoch 1 s':>11}{'epoch 2+ s':>12}{'ratio':>8}"
    )
    for r in rows:
        print(
            f"{r['head']:<10}{r['texts_encoded_in_fit']:>9}{r['stored_rows']:>9}{r['feature_mib']:>8.1f}"
            f"{r['encoder_pass_s']:>11.2f}"
            f"{r['first_epoch_s']:>11.2f}{r['later_epoch_s']:>12.2f}{r['ratio']:>8.1%}"
        )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
