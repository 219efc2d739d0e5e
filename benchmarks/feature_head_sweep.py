"""A short sweep of the training budget of FeatureHeadClassifier's heads, on a validation split.

Picks the defaults of the ``*-head-*`` strategies of ``sktransfer compare`` without looking at the
IMDB test set: ``n`` labelled reviews drawn from IMDB train, scored on other IMDB train reviews.
The embedded ELMo's token vectors are computed once for all reviews and served to every fit by
a lookup encoder, so the sweep times the heads, not the encoder.

    python benchmarks/feature_head_sweep.py --n-train 100 500 --n-eval 1000 --max-tokens 256
        [--validation-fractions 0.2 none] [--patience 3 none] [--refit no yes]
        [--weight-decays 0.01] [--hidden-sizes 64] [--poolings mean] [--dropouts 0.2]
        [--word-embeddings no yes] [--elmo-dir DIR] [--cache DIR]

``--validation-fractions none`` trains on all ``n`` reviews for exactly ``--epochs`` epochs (no
early stopping); ``--elmo-dir`` takes another ELMo (a folder with options.json and weights.hdf5,
e.g. a pretraining snapshot) instead of the embedded one. ``--word-embeddings yes`` joins word
vectors trained with the head to the mixed ELMo vectors (``FeatureHeadClassifier(word_embeddings=
WordEmbeddingEncoder(max_tokens=--max-tokens))``, the ELMo paper's recipe); ``--cache`` reads and
stores the ELMo token vectors in a feature cache folder.
"""

import argparse
import itertools
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from sktransfer import ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder
from sktransfer.datasets import fetch_imdb
from sktransfer.elmo.pretrain import model_files

_TOKENS = {}  # text -> (n_tokens, n_layers, dim) float16, filled once


class LookupEncoder(BaseEstimator):
    """Serves precomputed token vectors: a stand-in for the frozen ELMo with its work done once."""

    def fit(self, X, y=None):
        self.n_features_out_ = next(iter(_TOKENS.values())).shape[-1]
        return self

    def transform_tokens(self, X, *, dtype=np.float32, max_bytes=None):
        return [_TOKENS[text].astype(dtype) for text in X]


def _fraction_or_none(text):
    return None if text.lower() == "none" else float(text)


def _int_or_none(text):
    return None if text.lower() == "none" else int(text)


def _yes_no(text):
    if text.lower() not in ("yes", "no"):
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return text.lower() == "yes"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--n-eval", type=int, default=1000)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--heads", nargs="+", default=["mlp", "bilstm"])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32])
    parser.add_argument("--patience", type=_int_or_none, nargs="+", default=[3], help="none: no early stopping")
    parser.add_argument("--refit", type=_yes_no, nargs="+", default=[False],
                        help="yes: train again on all n reviews after the validation run")
    parser.add_argument("--validation-fractions", type=_fraction_or_none, nargs="+", default=[0.2])
    parser.add_argument("--weight-decays", type=float, nargs="+", default=[0.01])
    parser.add_argument("--hidden-sizes", type=int, nargs="+", default=[64])
    parser.add_argument("--poolings", nargs="+", default=["mean"], choices=["mean", "max", "mean_max"])
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.2])
    parser.add_argument("--word-embeddings", type=_yes_no, nargs="+", default=[False],
                        help="yes: join word vectors trained with the head to the mixed ELMo vectors")
    parser.add_argument("--elmo-dir", default=None, help="folder with options.json and weights.hdf5")
    parser.add_argument("--cache", default=None, help="feature cache folder for the ELMo token vectors")
    args = parser.parse_args()

    data = fetch_imdb(subset="train")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.data))
    eval_idx, pool_idx = order[: args.n_eval], order[args.n_eval :]
    X = np.asarray(data.data, dtype=object)
    y = np.asarray(data.target)
    needed = {i for n in args.n_train for s in args.seeds for i in pool_idx[np.random.default_rng(s).permutation(
        len(pool_idx))[:n]]}
    texts = sorted({X[i] for i in eval_idx} | {X[i] for i in needed})
    start = time.perf_counter()
    files = {}
    if args.elmo_dir:
        options, weights = model_files(args.elmo_dir)  # a ValueError naming what is missing
        files = {"options_file": str(options), "weight_file": str(weights)}
    elmo = ELMoVectorizer(max_tokens=args.max_tokens, cache=args.cache, **files).fit(texts[:1])
    for text, vectors in zip(texts, elmo.transform_tokens(texts, dtype=np.float16, max_bytes=None)):
        _TOKENS[text] = vectors
    print(f"encoded {len(texts)} reviews once in {time.perf_counter() - start:.0f} s")
    X_eval, y_eval = list(X[eval_idx]), y[eval_idx]
    pooled_eval = elmo.transform(X_eval)

    print(f"{'n':>5} {'seed':>4} {'model':<76} {'acc':>6} {'epochs':>6} {'fit s':>6}")
    for n, seed in itertools.product(args.n_train, args.seeds):
        idx = pool_idx[np.random.default_rng(seed).permutation(len(pool_idx))[:n]]
        X_tr, y_tr = list(X[idx]), y[idx]
        lr = LogisticRegression(max_iter=2000).fit(elmo.transform(X_tr), y_tr)
        print(f"{n:>5} {seed:>4} {'elmo-lr (reference)':<76} {lr.score(pooled_eval, y_eval):>6.3f}")
        grid = itertools.product(args.heads, args.epochs, args.lrs, args.batch_sizes, args.patience,
                                 args.validation_fractions, args.weight_decays, args.hidden_sizes, args.refit,
                                 args.poolings, args.dropouts, args.word_embeddings)
        for head, epochs, rate, batch_size, patience, valid, decay, hidden, refit, pooling, dropout, joined in grid:
            if refit and valid is None:
                continue  # a refit needs a validation run
            words = WordEmbeddingEncoder(max_tokens=args.max_tokens) if joined else None
            clf = FeatureHeadClassifier(LookupEncoder(), head=head, max_epochs=epochs, lr=rate, batch_size=batch_size,
                                        validation_fraction=valid, patience=patience, weight_decay=decay,
                                        hidden_size=hidden, refit=refit, pooling=pooling, dropout=dropout,
                                        word_embeddings=words, random_state=seed)
            start = time.perf_counter()
            clf.fit(X_tr, y_tr)
            seconds = time.perf_counter() - start
            name = (f"{head}{'+words' if joined else ''} e={epochs} lr={rate:g} b={batch_size} p={patience} "
                    f"v={valid} wd={decay:g} h={hidden} {pooling} d={dropout:g}" + (" refit" if refit else ""))
            accuracy = clf.score(X_eval, y_eval)
            epochs_run = len(clf.refit_history_ or clf.history_)
            print(f"{n:>5} {seed:>4} {name:<76} {accuracy:>6.3f} {epochs_run:>6} {seconds:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
