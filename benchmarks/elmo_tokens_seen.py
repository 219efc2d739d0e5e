"""Does transfer grow with pretraining? ELMo + LR accuracy at several points of one pretraining run.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_tokens_seen.py \
        --models SNAPSHOT_DIR [SNAPSHOT_DIR ...] --out docs/elmo_tokens_seen
        [--train-sizes 500 2000] [--seeds 0 1 2] [--n-test 2000] [--pool 4000] [--cache DIR]
        [--previous docs/elmo_tokens_seen/results.json]

Each SNAPSHOT_DIR is the output folder of ``sktransfer pretrain-elmo`` (options.json,
weights.hdf5, training.json) at some number of tokens seen, or one of the folders its
``--snapshot-every`` writes (``OUT/snapshots/step-NNNNNNN``, read with the run's training.json).
Words seen include those of the model a run started from (``--init-from``). ``--previous``
keeps the rows and facts of an earlier results.json of this script, so that a continued run
adds its snapshots to the same curve without refitting the old points. The random-weight twin
of the same architecture is the "0 tokens" point. Every model gets mean-pooled, layer-averaged
features + LogisticRegression on the same balanced subsamples and the same IMDB test reviews
(as ``benchmarks/elmo_transfer.py``).
Writes results.json, results.md (with a tokens-seen table) and learning_curve.png to --out.
"""

import argparse
import json
import tempfile
from pathlib import Path

from _previous import read_previous, with_rows
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import ELMoVectorizer
from sktransfer.compare import compare, summarize, write_results
from sktransfer.datasets import fetch_imdb
from sktransfer.elmo.pretrain import words_seen


def _read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def snapshot_facts(folder):
    """(tokens seen, held-out perplexity, unigram perplexity) of a model folder or a run's snapshot.

    Tokens seen count the words of the model the run started from (``init_from``) as well. A
    snapshot's perplexity is the run's evaluation at the snapshot's step (None if there was none).
    """
    folder = Path(folder)
    if (folder / "snapshot.json").is_file():
        position = _read_json(folder / "snapshot.json")
        run = _read_json(folder.parent.parent / "training.json")
        result = run["result"]
        at_step = [h for h in result["history"] if h["step"] == position["step"]]
        perplexity = at_step[-1].get("held_out_perplexity") if at_step else None
        return (position["tokens"] + (position.get("init_tokens") or 0), perplexity,
                result["unigram_perplexity"])
    run = _read_json(folder / "training.json")
    result = run["result"]
    return words_seen(run), result["held_out_perplexity"], result["unigram_perplexity"]


def tokens_table(results, facts):
    """Markdown: one row per model, ordered by tokens seen, accuracy mean ± std per training size."""
    summary = summarize(results)
    sizes = sorted(summary["n_train"].unique())
    lines = ["| model | tokens seen | held-out perplexity | " + " | ".join(f"n={n}" for n in sizes) + " |",
             "|---|---:|---:|" + "---:|" * len(sizes)]
    for name, (tokens, perplexity) in sorted(facts.items(), key=lambda item: item[1][0]):
        cells = []
        for n in sizes:
            row = summary[(summary["strategy"] == name) & (summary["n_train"] == n)].iloc[0]
            cells.append(f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}")
        ppl = "—" if perplexity is None else f"{perplexity:.1f}"
        lines.append(f"| {name} | {tokens / 1e6:.1f}M | {ppl} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, help="pretrain-elmo output folders (snapshots)")
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=4000, help="balanced training reviews the subsamples come from")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: a temporary one)")
    parser.add_argument("--previous", default=None, metavar="RESULTS_JSON",
                        help="an earlier results.json of this script (same pool, test set, sizes and seeds): its "
                             "rows are kept and its models not refitted")
    parser.add_argument("--out", default="results/elmo_tokens_seen")
    args = parser.parse_args(argv)
    previous, previous_meta = None, {}
    if args.previous:
        previous = read_previous(args.previous, {"pool": args.pool, "n_test": args.n_test,
                                                 "train_sizes": args.train_sizes, "seeds": args.seeds})
        previous_meta = previous.attrs["metadata"]

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    facts = {name: (tokens, previous_meta.get("held_out_perplexity", {}).get(name))
             for name, tokens in previous_meta.get("tokens_seen", {}).items()}
    strategies, unigram = {}, previous_meta.get("unigram_perplexity")
    for folder in map(Path, args.models):
        tokens, perplexity, unigram = snapshot_facts(folder)
        name = f"elmo@{tokens / 1e6:.1f}M"
        if name in facts:
            raise SystemExit(f"{folder}: a model with {tokens / 1e6:.1f}M words seen is already in the results")
        facts[name] = (tokens, perplexity)
        strategies[name] = (folder / "options.json", folder / "weights.hdf5")
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp

        def pipeline(**kwargs):
            return make_pipeline(ELMoVectorizer(cache=cache, verbose=True, **kwargs), LogisticRegression(max_iter=5000))

        estimators = {}
        if "elmo@0 (random)" not in facts:  # the same architecture's random twin: one per curve
            first_options = next(iter(strategies.values()))[0]
            estimators["elmo@0 (random)"] = pipeline(options_file=str(first_options), pretrained=False)
            facts["elmo@0 (random)"] = (0, None)
        estimators.update(
            {name: pipeline(options_file=str(o), weight_file=str(w)) for name, (o, w) in strategies.items()}
        )
        results = compare(X_pool, y_pool, X_test, y_test, estimators, train_sizes=args.train_sizes, seeds=args.seeds)
        if previous is not None:
            results.attrs["compare"]["strategies"] = {**previous.attrs["compare"].get("strategies", {}),
                                                      **results.attrs["compare"].get("strategies", {})}
            results = with_rows(results, previous)

    models = {**previous_meta.get("models", {}),
              **{name: [str(p) for p in paths] for name, paths in strategies.items()}}
    metadata = {"dataset": "IMDB", "pool": args.pool, "n_test": args.n_test, "pooling": "mean", "layers": "average",
                "models": models,
                "tokens_seen": {name: tokens for name, (tokens, _) in facts.items()},
                "held_out_perplexity": {name: ppl for name, (_, ppl) in facts.items()},
                "unigram_perplexity": unigram}
    paths = write_results(results, args.out, metadata=metadata)
    table = tokens_table(results, facts)
    markdown = paths["markdown"].read_text(encoding="utf-8")
    paths["markdown"].write_text(
        markdown + f"\n## Accuracy against tokens seen (unigram perplexity {unigram:.1f})\n\n{table}\n",
        encoding="utf-8",
    )
    print(table)
    print(json.dumps({"out": args.out}))


if __name__ == "__main__":
    main()
