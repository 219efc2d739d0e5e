"""Long IMDB reviews with frozen MiniLM features: which truncation reads them best, and at what cost?

all-MiniLM-L6-v2 features (mean pooling) + LogisticRegression, for four ways of fitting a review
into the encoder: ``head`` at 128 and 256 word pieces, ``head+tail`` at 256 (``head_fraction``
0.25) and ``chunks`` (whole reviews in windows of 256, no overlap, pooled weighted by tokens).

Features are computed once per strategy for a training pool and the test reviews, then reused:
for each training size and seed, a stratified subsample of the pool (``train_test_split`` with
``random_state=seed``) trains the classifier, which is scored on the test reviews. Times are the
wall-clock of ``transform`` over pool + test (length-sorted batches of 32, float32), with an fp32
matmul timed in the same run to normalise them across machines.

    SKTRANSFER_DATA=../shared/data /work/bench-run python benchmarks/long_texts.py \\
        --pool 4000 --n-test 2000 --out docs/long_texts.json

``--pool 2500 --n-test 1000`` halves the cost (n = 2,000 still draws from a larger pool).
``--tfidf`` adds the reference that reads whole reviews, ``sktransfer compare``'s ``tfidf-lr``,
trained and scored on the same subsamples.

``--finetune`` fine-tunes MiniLM instead (``BertFineTuneClassifier`` with the settings of
``sktransfer compare``: 3 epochs, lr 1e-4, batch 16, ``random_state=seed``) on each subsample and
scores it on the test reviews; ``chunks`` is a ``BertVectorizer`` mode and is skipped. Each finished
run is appended to ``--out`` at once, so a long run that is stopped keeps what it measured:

    SKTRANSFER_DATA=../shared/data nice -n 19 python benchmarks/long_texts.py --finetune \\
        --strategies "head+tail 256" --train-sizes 2000 --n-test 2000 --out docs/long_texts_finetune.json

``--merge`` joins result files of runs split across processes (one per strategy, size or seed)
into one file and prints the table of accuracy (mean ± std over seeds) and time per strategy and
size; every input run's settings stay in ``runs``:

    python benchmarks/long_texts.py --merge run1.json run2.json --out docs/long_texts_finetune.json
"""

import argparse
import json
import time
import warnings

import numpy as np
from _timing import cpu_model

STRATEGIES = {
    "head 128": {"max_length": 128, "truncation": "head"},
    "head 256": {"max_length": 256, "truncation": "head"},
    "head+tail 256": {"max_length": 256, "truncation": "head+tail", "head_fraction": 0.25},
    "chunks 256": {"max_length": 256, "truncation": "chunks", "stride": 0},
}




def matmul_gflops(n=1024, repeats=5):
    """fp32 matmul throughput of this machine now (median of ``repeats``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times)) / 1e9


def subsamples(args, y_pool):
    """``(n, seed, positions)`` for every training size and seed: the one stratified draw of the pool
    (``train_test_split(random_state=seed)``) that every strategy, features, fine-tuning and TF-IDF, trains on."""
    from sklearn.model_selection import train_test_split

    for n in args.train_sizes:
        for seed in args.seeds:
            chosen, _ = train_test_split(np.arange(args.pool), train_size=n, stratify=y_pool, random_state=seed)
            yield n, seed, chosen


ORDER = [*STRATEGIES, "tfidf"]  # table order: the BERT strategies, then the reference


def merge(paths):
    """Rows of all ``paths`` (each a file this script wrote), refusing a (strategy, n, seed) seen twice."""
    runs, rows, seen = [], [], {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        # A merged file lists its runs; a single run's file has one info.
        file_runs = result.get("runs", [result.get("info")])
        modes = {run.get("mode", "features") for run in runs + file_runs}
        if len(modes) > 1:
            raise SystemExit(f"{path} mixes fine-tuning and feature runs ({sorted(modes)}): merge each kind apart")
        runs.extend(file_runs)
        for row in result["rows"]:
            key = (row["strategy"], row["n_train"], row["seed"])
            if key in seen:
                raise SystemExit(f"{key} is in both {seen[key]} and {path}: merge each run once")
            seen[key] = path
            rows.append(row)
    return runs, rows


def table(rows):
    """Markdown rows: strategy, n, accuracy mean ± std over seeds, the seeds' accuracies, seconds."""
    lines = ["| strategy | n | accuracy (mean ± std) | per seed | seconds (median; fit + predict or features) |",
             "|---|---|---|---|---|"]
    keys = sorted({(r["strategy"], r["n_train"]) for r in rows}, key=lambda k: (ORDER.index(k[0]), k[1]))
    for name, n in keys:
        group = sorted((r for r in rows if r["strategy"] == name and r["n_train"] == n), key=lambda r: r["seed"])
        accuracies = np.array([r["accuracy"] for r in group])
        seconds = [r.get("feature_seconds", r.get("fit_seconds", 0) + r.get("predict_seconds", 0)) for r in group]
        std = accuracies.std(ddof=1) if len(group) > 1 else float("nan")
        per_seed = ", ".join(f"{r['seed']}: {r['accuracy']:.4f}" for r in group)
        lines.append(f"| {name} | {n} | {accuracies.mean():.4f} ± {std:.4f} | {per_seed} | {np.median(seconds):.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=4000, help="training reviews embedded once, subsampled per seed")
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--strategies", nargs="*", default=list(STRATEGIES), choices=list(STRATEGIES),
                        help="BERT strategies to run (all by default; none: '--strategies' alone, e.g. with --tfidf)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto", help="'auto': CUDA when available, else the CPU")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--finetune", action="store_true",
                        help="fine-tune MiniLM per subsample instead of training LogisticRegression on features")
    parser.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs (--finetune)")
    parser.add_argument("--lr", type=float, default=1e-4, help="fine-tuning learning rate (--finetune)")
    parser.add_argument("--tfidf", action="store_true",
                        help="also score sktransfer compare's tfidf-lr (whole reviews) on the same subsamples")
    parser.add_argument("--merge", nargs="+", metavar="FILE",
                        help="join these result files into --out and print their table; runs nothing")
    args = parser.parse_args()
    if args.merge:
        runs, rows = merge(args.merge)
        print(table(rows))
        if args.out:
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump({"runs": runs, "rows": rows}, f, indent=1)
        return
    if args.pool <= max(args.train_sizes):
        # Checked before any embedding: a subsample needs reviews left over in the pool.
        parser.error(f"--pool ({args.pool}) must exceed the largest --train-sizes ({max(args.train_sizes)})")

    import torch
    from sklearn.linear_model import LogisticRegression

    from sktransfer import BertVectorizer
    from sktransfer.datasets import fetch_imdb
    from sktransfer.exceptions import TruncationWarning

    X_pool, y_pool = fetch_imdb("train", n_samples=args.pool, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    y_pool, y_test = np.asarray(y_pool), np.asarray(y_test)
    texts = list(X_pool) + list(X_test)
    tokenizer = BertVectorizer(max_length=256).fit(texts[:1]).tokenizer_
    lengths = np.array([len(ids) for ids in tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]])
    info = {
        "cpu": cpu_model(), "torch_threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d"),
        "pool": args.pool, "n_test": args.n_test, "train_sizes": args.train_sizes, "seeds": args.seeds,
        "word_pieces_median": float(np.median(lengths)), "share_over_254": float(np.mean(lengths > 254)),
        "share_over_126": float(np.mean(lengths > 126)), "matmul_gflops_before": matmul_gflops(),
    }
    print(json.dumps(info), flush=True)

    if args.finetune:
        finetune(args, info, X_pool, y_pool, X_test, y_test)
        return
    rows = []
    for name in args.strategies:
        vec = BertVectorizer(**STRATEGIES[name], batch_size=args.batch_size, device=args.device).fit(texts[:1])
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)  # counted above (share_over_*)
            features = vec.transform(texts)
        seconds = time.perf_counter() - start
        F_pool, F_test = features[: args.pool], features[args.pool :]
        for n, seed, chosen in subsamples(args, y_pool):
            clf = LogisticRegression(max_iter=2000).fit(F_pool[chosen], y_pool[chosen])
            accuracy = float(np.mean(clf.predict(F_test) == y_test))
            rows.append({"strategy": name, "n_train": n, "seed": seed, "accuracy": accuracy,
                         "feature_seconds": seconds, "texts_per_s": len(texts) / seconds})
        summary = {n: np.mean([r["accuracy"] for r in rows if r["strategy"] == name and r["n_train"] == n])
                   for n in args.train_sizes}
        print(f"{name:14s} {seconds:7.1f} s ({len(texts) / seconds:5.1f} texts/s)  "
              + "  ".join(f"n={n}: {acc:.4f}" for n, acc in summary.items()), flush=True)
    if args.tfidf:
        rows.extend(tfidf_rows(args, X_pool, y_pool, X_test, y_test))
    info["matmul_gflops_after"] = matmul_gflops()
    print(json.dumps({"matmul_gflops_after": info["matmul_gflops_after"]}))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"info": info, "rows": rows}, f, indent=1)


def tfidf_rows(args, X_pool, y_pool, X_test, y_test):
    """The reference that reads whole reviews: ``sktransfer compare``'s tfidf-lr on the same subsamples."""
    from sktransfer.strategies import REGISTRY, StrategySettings

    rows, X_pool = [], np.asarray(X_pool, dtype=object)
    for n, seed, chosen in subsamples(args, y_pool):
        start = time.perf_counter()
        clf = REGISTRY["tfidf-lr"].build(StrategySettings()).fit(list(X_pool[chosen]), y_pool[chosen])
        accuracy = float(np.mean(clf.predict(list(X_test)) == y_test))
        rows.append({"strategy": "tfidf", "n_train": n, "seed": seed, "accuracy": accuracy,
                     "fit_seconds": time.perf_counter() - start})
        print(f"tfidf          n={n} seed={seed}: accuracy {accuracy:.4f}", flush=True)
    return rows


def finetune(args, info, X_pool, y_pool, X_test, y_test):
    """Fine-tune per (strategy, n, seed); write every finished run to ``args.out`` at once."""
    from sktransfer import BertFineTuneClassifier
    from sktransfer.exceptions import TruncationWarning

    info.update({"mode": "finetune", "epochs": args.epochs, "lr": args.lr, "batch_size": 16})
    rows = []
    X_pool, X_test = np.asarray(X_pool, dtype=object), list(X_test)
    for name in args.strategies:
        if STRATEGIES[name].get("truncation") == "chunks":
            print(f"{name}: skipped (chunking is a BertVectorizer mode)", flush=True)
            continue
        for n, seed, chosen in subsamples(args, y_pool):
            clf = BertFineTuneClassifier(**STRATEGIES[name], max_epochs=args.epochs, lr=args.lr,
                                         batch_size=16, random_state=seed, device=args.device)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TruncationWarning)  # counted in info (share_over_*)
                start = time.perf_counter()
                clf.fit(list(X_pool[chosen]), y_pool[chosen])
                fit_seconds = time.perf_counter() - start
                start = time.perf_counter()
                accuracy = float(np.mean(clf.predict(X_test) == y_test))
                predict_seconds = time.perf_counter() - start
            rows.append({"strategy": name, "n_train": n, "seed": seed, "accuracy": accuracy,
                         "fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
                         "train_sequences_per_s": n * args.epochs / fit_seconds})
            print(f"{name:14s} n={n} seed={seed}: accuracy {accuracy:.4f}, fit {fit_seconds:.0f} s, "
                  f"predict {predict_seconds:.0f} s", flush=True)
            if args.out:
                with open(args.out, "w", encoding="utf-8") as f:
                    json.dump({"info": info, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
