"""Does transfer grow with pretraining? ELMo + LR accuracy at several points of one pretraining run.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_tokens_seen.py \
        --models SNAPSHOT_DIR [SNAPSHOT_DIR ...] --out docs/elmo_tokens_seen
        [--train-sizes 500 2000] [--seeds 0 1 2] [--n-test 2000] [--pool 4000] [--cache DIR]

Each SNAPSHOT_DIR is the output folder of ``sktransfer pretrain-elmo`` (options.json,
weights.hdf5, training.json) at some number of tokens seen, e.g. copies taken while a run is
resumed with a growing ``--max-tokens``. The random-weight twin of the same architecture is the
"0 tokens" point. Every model gets mean-pooled, layer-averaged features + LogisticRegression on
the same balanced subsamples and the same IMDB test reviews (as ``benchmarks/elmo_transfer.py``).
Writes results.json, results.md (with a tokens-seen table) and learning_curve.png to --out.
"""

import argparse
import json
import tempfile
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import ELMoVectorizer
from sktransfer.compare import compare, summarize, write_results
from sktransfer.datasets import fetch_imdb


def snapshot_facts(folder):
    """(tokens seen, held-out perplexity, unigram perplexity) recorded in a snapshot's training.json."""
    result = json.loads((Path(folder) / "training.json").read_text(encoding="utf-8"))["result"]
    return result["tokens"], result["held_out_perplexity"], result["unigram_perplexity"]


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
    parser.add_argument("--out", default="results/elmo_tokens_seen")
    args = parser.parse_args(argv)

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    facts, strategies, unigram = {}, {}, None
    for folder in map(Path, args.models):
        tokens, perplexity, unigram = snapshot_facts(folder)
        name = f"elmo@{tokens / 1e6:.1f}M"
        facts[name] = (tokens, perplexity)
        strategies[name] = (folder / "options.json", folder / "weights.hdf5")
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp

        def pipeline(**kwargs):
            return make_pipeline(ELMoVectorizer(cache=cache, verbose=True, **kwargs), LogisticRegression(max_iter=5000))

        first_options = next(iter(strategies.values()))[0]
        estimators = {"elmo@0 (random)": pipeline(options_file=str(first_options), pretrained=False)}
        facts["elmo@0 (random)"] = (0, None)
        estimators.update(
            {name: pipeline(options_file=str(o), weight_file=str(w)) for name, (o, w) in strategies.items()}
        )
        results = compare(X_pool, y_pool, X_test, y_test, estimators, train_sizes=args.train_sizes, seeds=args.seeds)

    metadata = {"dataset": "IMDB", "pool": args.pool, "n_test": args.n_test, "pooling": "mean", "layers": "average",
                "models": {name: [str(p) for p in paths] for name, paths in strategies.items()},
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
