"""GridSearchCV over BertVectorizer + LogisticRegression: with the feature cache, without it, and
against one plain ``transform`` of the same texts.

    SKTRANSFER_DATA=../shared/data python benchmarks/bench_cache_gridsearch.py [--n-texts 1000]
        [--max-length 128] [--skip-uncached] [--out docs/cache_benchmark.json]

The target: the cached grid search (5 folds x 4 values of C = 20 fits) costs at most 1.3x one
plain transform, because every text is embedded once and read back from the cache afterwards.
"""

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import BertVectorizer
from sktransfer.datasets import fetch_imdb


def grid_search(texts, labels, vectorizer):
    pipe = make_pipeline(vectorizer, LogisticRegression(max_iter=2000))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}, cv=5, n_jobs=1)
    start = time.perf_counter()
    search.fit(texts, labels)
    return time.perf_counter() - start, float(search.best_score_)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-uncached", action="store_true", help="skip the slow grid search without cache")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    texts, labels = fetch_imdb("train", n_samples=args.n_texts, random_state=0, return_X_y=True)
    params = dict(max_length=args.max_length, batch_size=32)
    results = {"n_texts": len(texts), "max_length": args.max_length, "threads": args.threads,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "torch": torch.__version__}

    # Warm up: the model is loaded (and shared afterwards) before anything is timed.
    BertVectorizer(**params).fit(texts[:2]).transform(texts[:2])

    vec = BertVectorizer(**params).fit(texts)
    start = time.perf_counter()
    vec.transform(texts)
    results["plain_transform_s"] = time.perf_counter() - start
    print(f"one plain transform of {len(texts)} texts: {results['plain_transform_s']:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as cache:
        seconds, score = grid_search(texts, labels, BertVectorizer(cache=cache, **params))
    results["grid_cached_s"], results["grid_cached_best_score"] = seconds, score
    results["cached_over_plain"] = seconds / results["plain_transform_s"]
    print(
        f"GridSearchCV 5 folds x 4 C, cache: {seconds:.1f} s = {results['cached_over_plain']:.2f}x one transform",
        flush=True,
    )

    if not args.skip_uncached:
        seconds, score = grid_search(texts, labels, BertVectorizer(**params))
        results["grid_uncached_s"], results["grid_uncached_best_score"] = seconds, score
        results["uncached_over_plain"] = seconds / results["plain_transform_s"]
        print(
            f"GridSearchCV 5 folds x 4 C, no cache: {seconds:.1f} s = {results['uncached_over_plain']:.2f}x",
            flush=True,
        )
        assert np.isclose(results["grid_cached_best_score"], score, atol=1e-6), "the cache changed the result"

    if args.out:
        with open(args.out, "w") as fh:
            json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
