"""Which biLM architecture should the embedded ELMo have? A short sweep at a fixed word budget.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_architecture_sweep.py --work /tmp/sweep \
        --out docs/elmo_architecture_sweep [--candidates compact c512-p256 c1024-p128 c1024-p256]
        [--max-tokens 1500000] [--parallel 2] [--train-sizes 500] [--seeds 0 1 2] [--n-test 2000]
        [--pool 4000] [--cache DIR]

Every candidate is pretrained from random weights on the same IMDB corpus (unsup + train, never
test), the same held-out split, batch order and softmax, for the same number of words
(``--max-tokens``), by ``sktransfer pretrain-elmo`` in a process of its own with one torch thread;
``--parallel`` of them run side by side (on a 2-core machine two 1-thread processes use the cores
better than one 2-thread process, ``docs/pretraining_throughput.md``). Then each trained model's
features + LogisticRegression are scored on IMDB as in ``benchmarks/elmo_transfer.py`` (balanced
subsamples of a 4,000-review pool, 2,000 balanced test reviews). A candidate whose folder under
``--work`` already holds a finished model is not trained again, and an interrupted one resumes
from its checkpoint, so the script can be rerun after a stop.

Only architectures whose biLM weights fit the 25 MB float16 bound of the embedded model are
candidates (the published ``small`` architecture, 13.6M parameters, is 27.2 MB).

Writes results.json, results.md (the sweep table: parameters, float16 MB, FLOPs per word, words/s,
wall time, held-out perplexity, accuracy) and learning_curve.png to --out.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import ELMoVectorizer
from sktransfer.compare import compare, summarize, write_results
from sktransfer.datasets import fetch_imdb
from sktransfer.elmo.bilm import ElmoBiLm
from sktransfer.elmo.pretrain import ARCHITECTURES

#: The bound the issue sets on the embedded model's weights (float16 bytes).
MAX_FLOAT16_BYTES = 25_000_000

_COMPACT_FILTERS = ARCHITECTURES["compact"]["char_cnn"]["filters"]


def _variant(cell, projection, filters=_COMPACT_FILTERS):
    """The compact architecture with another LSTM cell / projection width and CNN filters."""
    options = copy.deepcopy(ARCHITECTURES["compact"])
    options["lstm"].update(dim=cell, projection_dim=projection)
    options["char_cnn"]["filters"] = [list(f) for f in filters]
    return options


#: name -> ELMo options. Names say the LSTM cell and projection widths (the projection is also the
#: width of every output layer, so the feature size is twice it).
CANDIDATES = {
    "compact": ARCHITECTURES["compact"],
    "c512-p128": _variant(512, 128),
    "c512-p256": _variant(512, 256),
    "c1024-p128": ARCHITECTURES["wide"],  # the LSTM of the published small ELMo, compact's CNN; chosen
    "c1024-p256": _variant(1024, 256, _COMPACT_FILTERS + [[6, 512]]),  # the largest under 25 MB
}


def describe(options):
    """Parameters, float16 bytes and forward+backward LSTM FLOPs per position of an architecture."""
    bilm = ElmoBiLm.from_options(options, random_state=0)
    parameters = sum(p.numel() for p in bilm.parameters())
    cell, projection = options["lstm"]["dim"], options["lstm"]["projection_dim"]
    layers = options["lstm"]["n_layers"]
    # 2 directions x layers x (input and recurrent gate matmuls + the projection), x2 for multiply-add,
    # x3 for forward + backward.
    lstm_flops = 3 * 2 * 2 * layers * (2 * projection * 4 * cell + cell * projection)
    return {"parameters": parameters, "float16_mb": 2 * parameters / 1e6,
            "feature_dim": 2 * projection, "lstm_flops_per_position": lstm_flops}


def _finished(folder):
    return (folder / "weights.hdf5").is_file() and (folder / "training.json").is_file()


def pretrain_all(names, work, args):
    """Pretrain every candidate without a finished model, ``args.parallel`` processes at a time."""
    pending = [name for name in names if not _finished(work / name)]
    running = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    while pending or running:
        while pending and len(running) < args.parallel:
            name = pending.pop(0)
            options_file = work / f"{name}.options.json"
            options_file.write_text(json.dumps(CANDIDATES[name]), encoding="utf-8")
            command = [sys.executable, "-m", "sktransfer", "pretrain-elmo", "imdb", "--out", str(work / name),
                       "--architecture", str(options_file), "--max-tokens", str(args.max_tokens),
                       "--eval-every", str(args.eval_every), "--seed", str(args.seed), "--dtype", "float16",
                       "--no-progress"]
            log = open(work / f"{name}.log", "a", encoding="utf-8")
            print(f"[{time.strftime('%H:%M:%S')}] pretraining {name}: {' '.join(command)}", flush=True)
            running[name] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env), log)
        time.sleep(5)
        for name, (process, log) in list(running.items()):
            if process.poll() is None:
                continue
            log.close()
            del running[name]
            if process.returncode != 0:
                for other, other_log in running.values():  # no orphans left training after the failure
                    other.terminate()
                    other.wait()
                    other_log.close()
                raise SystemExit(f"pretraining {name} failed (exit {process.returncode}); see {work / name}.log")
            print(f"[{time.strftime('%H:%M:%S')}] {name} done", flush=True)


def training_facts(folder):
    """Words seen, held-out perplexity, words/s and wall seconds of a finished run."""
    run = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    result = run["result"]
    return {"words": result["tokens"], "held_out_perplexity": result["held_out_perplexity"],
            "unigram_perplexity": result["unigram_perplexity"],
            "words_per_second": result["tokens_per_second"],
            "seconds": result["tokens"] / result["tokens_per_second"],
            "history": [{k: h.get(k) for k in ("step", "tokens", "held_out_perplexity")}
                        for h in result["history"] if h.get("held_out_perplexity") is not None]}


def sweep_table(facts, results):
    """Markdown: one row per candidate with its size, speed, perplexity and transfer accuracy."""
    summary = summarize(results)
    sizes = sorted(summary["n_train"].unique())
    lines = ["| architecture | LSTM cell / projection | parameters | float16 MB | feature dim | "
             "LSTM MFLOP/position (fwd+bwd) | words | words/s (1 thread) | held-out perplexity | "
             + " | ".join(f"n={n}" for n in sizes) + " |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(sizes)]
    for name, fact in facts.items():
        cells = []
        for n in sizes:
            row = summary[(summary["strategy"] == name) & (summary["n_train"] == n)].iloc[0]
            cells.append(f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}")
        lstm = CANDIDATES[name]["lstm"]
        lines.append(f"| {name} | {lstm['dim']} / {lstm['projection_dim']} | {fact['parameters'] / 1e6:.2f}M | "
                     f"{fact['float16_mb']:.1f} | {fact['feature_dim']} | "
                     f"{fact['lstm_flops_per_position'] / 1e6:.1f} | "
                     f"{fact['words'] / 1e6:.2f}M | {fact['words_per_second']:,.0f} | "
                     f"{fact['held_out_perplexity']:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--work", required=True, help="folder for the pretraining runs (kept for resuming)")
    parser.add_argument("--max-tokens", type=int, default=1_500_000, help="words each candidate is trained on")
    parser.add_argument("--eval-every", type=int, default=350, help="steps between held-out evaluations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=2, help="pretraining processes at a time (1 thread each)")
    parser.add_argument("--pretrain-only", action="store_true", help="stop after pretraining")
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=4000, help="balanced training reviews the subsamples come from")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: a temporary one)")
    parser.add_argument("--out", default="results/elmo_architecture_sweep")
    args = parser.parse_args(argv)

    facts = {name: describe(CANDIDATES[name]) for name in args.candidates}
    too_big = [name for name, fact in facts.items() if 2 * fact["parameters"] > MAX_FLOAT16_BYTES]
    if too_big:
        raise SystemExit(f"{too_big} exceed the {MAX_FLOAT16_BYTES / 1e6:.0f} MB float16 bound of the embedded model")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    pretrain_all(args.candidates, work, args)
    for name in args.candidates:
        facts[name].update(training_facts(work / name))
        print(name, {k: v for k, v in facts[name].items() if k != "history"}, flush=True)
    if args.pretrain_only:
        return

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        estimators = {
            name: make_pipeline(ELMoVectorizer(options_file=str(work / name / "options.json"),
                                               weight_file=str(work / name / "weights.hdf5"), cache=cache,
                                               verbose=True),
                                LogisticRegression(max_iter=5000))
            for name in args.candidates
        }
        results = compare(X_pool, y_pool, X_test, y_test, estimators, train_sizes=args.train_sizes, seeds=args.seeds)
    metadata = {"dataset": "IMDB", "pool": args.pool, "n_test": args.n_test, "pooling": "mean", "layers": "average",
                "max_tokens": args.max_tokens, "seed": args.seed, "candidates": facts,
                "options": {name: CANDIDATES[name] for name in args.candidates}}
    paths = write_results(results, args.out, metadata=metadata)
    table = sweep_table(facts, results)
    markdown = paths["markdown"].read_text(encoding="utf-8")
    paths["markdown"].write_text(markdown + f"\n## The sweep ({args.max_tokens:,} words each)\n\n{table}\n",
                                 encoding="utf-8")
    print(table)
    print(json.dumps({"out": args.out}))


if __name__ == "__main__":
    main()
