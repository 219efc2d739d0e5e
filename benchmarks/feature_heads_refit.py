"""The lecture's heads on IMDB with the refit protocol: the validation split only draws the curves.

    SKTRANSFER_DATA=../shared/data python benchmarks/feature_heads_refit.py --out docs/compare_heads_refit
        [--heads mlp] [--bases elmo embed] [--epochs 30] [--train-sizes 100 500 2000] [--seeds 0 1 2]
        [--n-test 2000] [--pool 4000] [--cache DIR] [--previous docs/elmo_transfer/results.json]
        [--model DIR]

Each head (`FeatureHeadClassifier`) holds out 20% of its training texts, trains ``--epochs`` epochs
without early stopping while measuring that split every epoch (the training curves), and is then
trained again, from the same initial weights, on all of its texts (``refit=True``,
``patience=None``): the protocol `docs/feature_heads.md` found best on a validation split of IMDB
train. Pairs each head on the frozen embedded ELMo with the same head on randomly initialised
word embeddings trained on the task (the lecture's baseline). Subsamples, pool and test set are
those of ``benchmarks/elmo_transfer.py`` and ``sktransfer compare``; ``--previous`` adds the
reference rows (TF-IDF, ELMo features + LR) of an earlier results.json on the same protocol.
Writes results.json, results.md, learning_curve.png and training_curves.png to --out.
"""

import argparse
import json
import tempfile

from _previous import read_previous, with_rows

from sktransfer.compare import compare, format_table, write_results
from sktransfer.datasets import fetch_imdb
from sktransfer.elmo.pretrain import model_files
from sktransfer.reporting import training_summary
from sktransfer.strategies import HEAD_VALIDATION_FRACTION, REGISTRY, StrategySettings


def fit_heads(args):
    """The heads of ``args.heads`` x ``args.bases`` compared on IMDB: compare's results frame."""
    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        # sktransfer compare's own head strategies (the refit protocol), with this run's epochs.
        settings = StrategySettings(max_length=args.max_tokens, cache=cache, head_epochs=args.epochs,
                                    elmo_files=args.elmo_files)
        names = [f"{base}-head-{kind}" for kind in args.heads for base in args.bases]
        strategies = REGISTRY.build(names, settings)
        return compare(X_pool, y_pool, X_test, y_test, strategies, train_sizes=args.train_sizes, seeds=args.seeds)


def merged_runs(paths, expected):
    """The rows of several runs of this script on the same protocol, each (strategy, size, seed) once.

    Returns the joined results and each run's own head protocol by path (the epochs may differ).
    """
    runs = [read_previous(path, expected) for path in paths]
    protocols = {path: run.attrs["metadata"].get("protocol") for path, run in zip(paths, runs)}
    results = runs[0]
    for run in runs[1:]:
        strategies = {**results.attrs["compare"].get("strategies", {}), **run.attrs["compare"].get("strategies", {})}
        sizes = sorted({*results.attrs["compare"]["train_sizes"], *run.attrs["compare"]["train_sizes"]})
        seeds = sorted({*results.attrs["compare"]["seeds"], *run.attrs["compare"]["seeds"]})
        results = with_rows(results, run)
        results.attrs["compare"].update(strategies=strategies, train_sizes=sizes, seeds=seeds)
    if results.duplicated(["strategy", "n_train", "seed"]).any():
        raise SystemExit(f"--merge {' '.join(paths)}: the same (strategy, n_train, seed) is in two files")
    return results, protocols


def kept_strategies(results, names):
    """The rows of the strategies ``names``, in that order; exits when one has no rows."""
    missing = sorted(set(names) - set(results["strategy"]))
    if missing:
        raise SystemExit(f"--keep {' '.join(missing)}: no rows; the results hold {sorted(set(results['strategy']))}")
    attrs = results.attrs
    rank = {name: i for i, name in enumerate(names)}
    kept = results[results["strategy"].isin(rank)]
    kept = kept.sort_values("strategy", key=lambda column: column.map(rank), kind="stable").reset_index(drop=True)
    kept.attrs = attrs
    described = attrs["compare"].get("strategies", {})
    kept.attrs["compare"]["strategies"] = {name: described[name] for name in names if name in described}
    return kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heads", nargs="+", choices=["mlp", "bilstm"], default=["mlp"])
    parser.add_argument("--bases", nargs="+", choices=["elmo", "embed", "elmo-embed"], default=["elmo", "embed"],
                        help="what the heads read: the frozen embedded ELMo, random trainable embeddings, or "
                             "ELMo joined to trainable embeddings (elmo-embed, MLP head only); one base each in "
                             "two 1-thread processes uses 2 cores better than one process")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=4000, help="balanced training reviews the subsamples come from")
    parser.add_argument("--max-tokens", type=int, default=256, help="words per review the encoders read")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: a temporary one)")
    parser.add_argument("--model", default=None, metavar="DIR",
                        help="ELMo folder with options.json and weights.hdf5, e.g. a pretraining snapshot "
                             "(default: the embedded ELMo)")
    parser.add_argument("--previous", nargs="*", default=[], metavar="RESULTS_JSON",
                        help="earlier results on the same protocol whose rows are added (e.g. tfidf-lr, elmo-lr)")
    parser.add_argument("--merge", nargs="+", default=[], metavar="RESULTS_JSON",
                        help="fit nothing: join the results of runs split across processes (e.g. one per --bases), "
                             "then add --previous rows")
    parser.add_argument("--keep", nargs="+", default=None, metavar="STRATEGY",
                        help="write only these strategies, in this order (after --merge and --previous)")
    parser.add_argument("--out", default="results/feature_heads_refit")
    args = parser.parse_args(argv)
    try:  # before IMDB is read: a wrong folder fails at once, naming the missing file
        args.elmo_files = tuple(map(str, model_files(args.model))) if args.model is not None else None
    except ValueError as exc:
        raise SystemExit(f"--model: {exc}") from None

    if args.merge:
        results, protocol = merged_runs(args.merge, {"n_test": args.n_test, "n_train_pool": args.pool})
    else:
        results = fit_heads(args)
        protocol = (f"validation_fraction={HEAD_VALIDATION_FRACTION}, patience=None, refit=True, "
                    f"max_epochs={args.epochs}")
    for path in args.previous:
        previous = read_previous(path, {"n_test": args.n_test, "n_train_pool": args.pool})
        keep = previous[previous["n_train"].isin(args.train_sizes) & previous["seed"].isin(args.seeds)
                        & ~previous["strategy"].isin(results["strategy"].unique())]
        results = with_rows(results, keep)
    if args.keep:
        results = kept_strategies(results, args.keep)
    metadata = {"dataset": "IMDB", "model": args.model or "embedded ELMo",
                "pool": args.pool, "n_test": args.n_test, "max_tokens": args.max_tokens,
                "protocol": protocol, "previous": args.previous, "merged": args.merge}
    write_results(results, args.out, metadata=metadata)
    print(format_table(results))
    print(training_summary(results).to_string())
    print(json.dumps({"out": args.out}))


if __name__ == "__main__":
    main()
