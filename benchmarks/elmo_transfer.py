"""Evidence of transfer: the embedded IMDB ELMo's features vs its random-weight twin vs TF-IDF.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_transfer.py --out docs/elmo_transfer
        [--train-sizes 100 500 2000] [--seeds 0 1 2] [--n-test 2000] [--pool 4000]
        [--pooling mean] [--layers average] [--cache DIR]

Each (n_train, seed) draws a balanced subsample from a fixed balanced pool of IMDB training
reviews (so the feature cache embeds each review once per model) and every strategy is scored on
the same balanced sample of IMDB test reviews. Writes results.json, results.md and
learning_curve.png to --out.
"""

import argparse
import json
import tempfile

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import ELMoVectorizer
from sktransfer.compare import compare, default_strategies, format_table, write_results
from sktransfer.datasets import fetch_imdb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=4000, help="balanced training reviews the subsamples come from")
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--layers", default="average", help="'average', 'all' or a layer index")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: a temporary one)")
    parser.add_argument("--out", default="results/elmo_transfer")
    args = parser.parse_args(argv)
    layers = int(args.layers) if args.layers.lstrip("-").isdigit() else args.layers

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        elmo = dict(layers=layers, pooling=args.pooling, cache=cache, verbose=True)
        strategies = {
            "tfidf-lr": default_strategies(names=["tfidf-lr"])["tfidf-lr"],  # the same baseline as `sktransfer compare`
            "elmo-lr": make_pipeline(ELMoVectorizer(**elmo), LogisticRegression(max_iter=5000)),
            "elmo-lr-random": make_pipeline(
                ELMoVectorizer(pretrained=False, **elmo), LogisticRegression(max_iter=5000)
            ),
        }
        results = compare(X_pool, y_pool, X_test, y_test, strategies, train_sizes=args.train_sizes, seeds=args.seeds)
    metadata = {"dataset": "IMDB", "pool": args.pool, "n_test": args.n_test, "pooling": args.pooling,
                "layers": args.layers, "model": "embedded imdb-compact ELMo"}
    write_results(results, args.out, metadata=metadata)
    print(format_table(results))
    print(json.dumps({"out": args.out}))


if __name__ == "__main__":
    main()
