"""Frozen BERT features vs fine-tuning on a small IMDB sample, each against its random-weight twin.

    python examples/imdb_quickstart.py                       # quick: 200 train / 500 test reviews
    python examples/imdb_quickstart.py --n-train 1000 --n-test 2000 --max-length 256 --epochs 3

The IMDB archive is looked up in --data-home, else $SKTRANSFER_DATA, else ~/sktransfer_data
(the repository's scripts point SKTRANSFER_DATA at ../shared/data when it exists).
"""

import argparse
import time

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import BertFineTuneClassifier, BertVectorizer
from sktransfer.datasets import fetch_imdb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=200, help="balanced training reviews (default 200)")
    parser.add_argument("--n-test", type=int, default=500, help="balanced test reviews (default 500)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per review (default 128)")
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs (default 2)")
    parser.add_argument("--lr", type=float, default=5e-5, help="fine-tuning learning rate (default 5e-5)")
    parser.add_argument("--data-home", default=None, help="folder holding aclImdb_v1.tar.gz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-random", action="store_true", help="skip the pretrained=False twins")
    args = parser.parse_args(argv)

    X_train, y_train = fetch_imdb(
        "train", data_home=args.data_home, n_samples=args.n_train, random_state=args.seed, return_X_y=True
    )
    X_test, y_test = fetch_imdb(
        "test", data_home=args.data_home, n_samples=args.n_test, random_state=args.seed, return_X_y=True
    )
    print(f"IMDB: {len(X_train)} training and {len(X_test)} test reviews (balanced), max_length={args.max_length}")

    strategies = {}
    for pretrained in (True, False):
        if not pretrained and args.skip_random:
            continue
        tag = "pretrained" if pretrained else "random init"
        strategies[f"BERT features + LR ({tag})"] = make_pipeline(
            BertVectorizer(max_length=args.max_length, pretrained=pretrained, random_state=args.seed, verbose=True),
            LogisticRegression(max_iter=2000),
        )
        strategies[f"BERT fine-tuned ({tag})"] = BertFineTuneClassifier(
            max_length=args.max_length, max_epochs=args.epochs, lr=args.lr, pretrained=pretrained,
            random_state=args.seed, verbose=1,
        )

    rows = []
    for name, estimator in strategies.items():
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        fitted = time.perf_counter()
        accuracy = estimator.score(X_test, y_test)
        rows.append((name, accuracy, fitted - start, time.perf_counter() - fitted))
        print(f"{name}: accuracy {accuracy:.3f}", flush=True)

    print(f"\n{'strategy':<36} {'accuracy':>8} {'fit s':>8} {'predict s':>10}")
    for name, accuracy, fit_s, predict_s in rows:
        print(f"{name:<36} {accuracy:>8.3f} {fit_s:>8.1f} {predict_s:>10.1f}")


if __name__ == "__main__":
    main()
