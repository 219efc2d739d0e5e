"""Evidence of transfer: the embedded IMDB ELMo's features vs its random-weight twin vs TF-IDF.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_transfer.py --out docs/elmo_transfer
        [--train-sizes 100 500 2000] [--seeds 0 1 2] [--n-test 2000] [--pool 4000]
        [--pooling mean] [--layers average] [--cache DIR] [--model DIR]
        [--strategies tfidf-lr elmo-lr elmo-lr-random bert-lr]
        [--previous OLD/results.json ...] [--rename-previous elmo-lr=elmo-lr@12.0M]

``bert-lr`` is ``sktransfer compare``'s frozen all-MiniLM-L6-v2 features + logistic regression
(its default truncation, head+tail 256 word pieces). ``--previous`` keeps the rows of earlier
results.json files of this script (same pool, test set, sizes and seeds) for the strategies this
run does not fit, e.g. the reference rows, or the rows of an earlier embedded model renamed with
``--rename-previous OLD=NEW``. ``--model DIR`` measures the pretrained ELMo in DIR (options.json,
weights.hdf5, e.g. a candidate from ``sktransfer pretrain-elmo``) instead of the embedded one.

Each (n_train, seed) draws a balanced subsample from a fixed balanced pool of IMDB training
reviews (so the feature cache embeds each review once per model) and every strategy is scored on
the same balanced sample of IMDB test reviews. Writes results.json, results.md and
learning_curve.png to --out.
"""

import argparse
import json
import tempfile

import pandas as pd
from _previous import read_previous, with_rows
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import ELMoVectorizer
from sktransfer.compare import compare, default_strategies, format_table, write_results
from sktransfer.datasets import fetch_imdb
from sktransfer.elmo.embedded import EMBEDDED_MODEL_DIR
from sktransfer.elmo.pretrain import model_files

STRATEGIES = ("tfidf-lr", "elmo-lr", "elmo-lr-random", "bert-lr")


def previous_rows(paths, renames, fitted, settings):
    """Rows of earlier results files, renamed, for strategies this run does not fit; checks the protocol."""
    frames = []
    for path in paths:
        frame = read_previous(path, settings)
        frame = frame.assign(strategy=frame["strategy"].replace(renames))
        frames.append(frame[~frame["strategy"].isin(fitted)])
    rows = pd.concat(frames, ignore_index=True) if frames else None
    if rows is not None and rows.duplicated(["strategy", "n_train", "seed"]).any():
        raise SystemExit("--previous files hold the same (strategy, n_train, seed) twice; rename one")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=4000, help="balanced training reviews the subsamples come from")
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--layers", default="average", help="'average', 'all' or a layer index")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: a temporary one)")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES[:3]))
    parser.add_argument("--previous", nargs="+", default=[], metavar="RESULTS_JSON")
    parser.add_argument("--rename-previous", nargs="+", default=[], metavar="OLD=NEW",
                        help="rename strategies of the --previous rows (e.g. elmo-lr=elmo-lr@12.0M)")
    parser.add_argument("--model", default=None, metavar="DIR",
                        help="folder with options.json and weights.hdf5 (default: the embedded ELMo)")
    parser.add_argument("--out", default="results/elmo_transfer")
    args = parser.parse_args(argv)
    renames = dict(item.split("=", 1) for item in args.rename_previous)
    settings = {"pool": args.pool, "n_test": args.n_test, "train_sizes": sorted(args.train_sizes),
                "seeds": sorted(args.seeds)}
    previous = previous_rows(args.previous, renames, args.strategies, settings)
    layers = int(args.layers) if args.layers.lstrip("-").isdigit() else args.layers
    try:  # before IMDB is read: a wrong folder fails at once, naming the missing file
        model = model_files(args.model) if args.model is not None else None
    except ValueError as exc:
        raise SystemExit(f"--model: {exc}") from None

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        elmo = dict(layers=layers, pooling=args.pooling, cache=cache, verbose=True)
        if model is not None:
            elmo.update(options_file=str(model[0]), weight_file=str(model[1]))
        available = {
            "elmo-lr": lambda: make_pipeline(ELMoVectorizer(**elmo), LogisticRegression(max_iter=5000)),
            "elmo-lr-random": lambda: make_pipeline(
                ELMoVectorizer(pretrained=False, **elmo), LogisticRegression(max_iter=5000)
            ),
        }
        # The baselines exactly as `sktransfer compare` builds them.
        strategies = {name: available[name]() if name in available else default_strategies(names=[name])[name]
                      for name in args.strategies}
        results = compare(X_pool, y_pool, X_test, y_test, strategies, train_sizes=args.train_sizes, seeds=args.seeds)
    if previous is not None:
        results = with_rows(results, previous)
    metadata = {"dataset": "IMDB", "pool": args.pool, "n_test": args.n_test, "pooling": args.pooling,
                "layers": args.layers, "model": args.model or f"embedded {EMBEDDED_MODEL_DIR.name} ELMo",
                "train_sizes": args.train_sizes,
                "seeds": args.seeds, "previous": args.previous, "renamed": renames}
    write_results(results, args.out, metadata=metadata)
    print(format_table(results))
    print(json.dumps({"out": args.out}))


if __name__ == "__main__":
    main()
