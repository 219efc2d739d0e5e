"""Bulk embedding of IMDB reviews on a dask cluster, against one process doing the same.

    python examples/dask_bulk_embedding.py                           # 2 local workers, 2,000 reviews
    python examples/dask_bulk_embedding.py --scheduler tcp://host:8786 --cache /shared/sktransfer-cache

With no --scheduler, a LocalCluster of --workers processes (one thread each, loopback only) is
started. Throughput is measured with models already loaded (a warm-up run loads them: one load
per worker), single process and cluster alternated --repeats times, medians reported, next to
an fp32 matmul rate measured in the same run. With --cache, a last pair of runs shows the
shared feature cache: the first computes and stores every vector, the second only reads them.
See docs/scaling.md.
"""

import argparse
import json
import logging
import platform
import statistics
import tempfile
import time

import numpy as np

from sktransfer import BertVectorizer
from sktransfer.dask import embed_partitions
from sktransfer.datasets import fetch_imdb


def matmul_gflops(n=1024, seconds=1.0):
    """fp32 matmul rate of this process (torch's default threads), for normalising the figures."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        done += 1
    return 2 * n**3 * done / (time.perf_counter() - start) / 1e9


def cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=2000, help="IMDB test reviews (default 2000)")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    parser.add_argument("--partitions-per-worker", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", default=None, help="a feature-cache folder every worker can reach")
    parser.add_argument("--skip-single", action="store_true", help="do not time the single process")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    parser.add_argument("--data-home", default=None, help="folder holding aclImdb_v1.tar.gz")
    args = parser.parse_args(argv)

    import dask.bag as db
    from dask.distributed import Client, LocalCluster

    texts, _ = fetch_imdb("test", data_home=args.data_home, n_samples=args.n_texts, random_state=0, return_X_y=True)
    texts = list(texts)
    settings = dict(max_length=args.max_length, batch_size=args.batch_size, device="cpu")
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    n_workers = len(client.scheduler_info()["workers"])
    partitions = max(1, n_workers * args.partitions_per_worker)

    def on_cluster(vectorizer):
        return embed_partitions(db.from_sequence(texts, npartitions=partitions), vectorizer).compute()

    try:
        vectorizer = BertVectorizer(args.model, **settings)
        start = time.perf_counter()
        warm = on_cluster(vectorizer)  # loads the model once per worker
        print(f"warm-up on {n_workers} workers (model loads included): {time.perf_counter() - start:.1f} s", flush=True)
        single = None if args.skip_single else BertVectorizer(args.model, **settings).fit(texts[:1])
        gflops = matmul_gflops()
        times = {"cluster": [], "single": []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            got = on_cluster(vectorizer)
            times["cluster"].append(time.perf_counter() - start)
            print(f"cluster: {len(texts) / times['cluster'][-1]:.1f} texts/s", flush=True)
            if single is not None:
                start = time.perf_counter()
                expected = single.transform(texts)
                times["single"].append(time.perf_counter() - start)
                print(f"single process: {len(texts) / times['single'][-1]:.1f} texts/s", flush=True)
                max_diff = float(np.abs(got - expected).max())
        result = {
            "cpu": cpu_name(), "date": time.strftime("%Y-%m-%d"), "n_texts": len(texts), "model": args.model,
            **settings, "workers": n_workers, "partitions": partitions, "repeats": args.repeats,
            "fp32_matmul_gflops": round(gflops, 1),
        }
        for name, seconds in times.items():
            if seconds:
                result[f"{name}_seconds"] = [round(s, 2) for s in seconds]
                result[f"{name}_texts_per_s"] = round(len(texts) / statistics.median(seconds), 1)
        if times["single"]:
            result["speedup"] = round(statistics.median(times["single"]) / statistics.median(times["cluster"]), 3)
            result["max_abs_diff_cluster_vs_single"] = max_diff
        assert warm.shape == (len(texts), single.n_features_out_ if single else warm.shape[1])

        if args.cache:
            cache = args.cache if args.cache != "tmp" else tempfile.mkdtemp(prefix="sktransfer-cache-")
            cached = BertVectorizer(args.model, cache=cache, **settings)
            for label in ("cache_first_run_seconds", "cache_second_run_seconds"):
                start = time.perf_counter()
                on_cluster(cached)
                result[label] = round(time.perf_counter() - start, 2)
        print(json.dumps(result, indent=2))
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(result, fh, indent=2)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
