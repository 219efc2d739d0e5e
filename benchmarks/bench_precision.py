"""Reduced precision vs float32: matmul rate and MiniLM BertVectorizer throughput, per precision.

    SKTRANSFER_DATA=/work/shared/data PYTHONPATH=. /work/bench-run .venv/bin/python benchmarks/bench_precision.py \\
        [--n-texts 200] [--max-length 256] [--repeats 3] [--threads 2] [--device auto] [--json out.json]

What it measures, in one process, with the contenders alternated (the order rotates each repeat):

- the matmul rate (GFLOP/s) of a MiniLM feed-forward shape, (512 x 384) @ (384 x 1536), with
  float32, bfloat16 and float16 tensors;
- BertVectorizer (all-MiniLM-L6-v2, mean pooling) texts/s on ``--n-texts`` IMDB test reviews at
  ``--max-length`` in float32, and, per reduced precision, its speed relative to float32 on the
  same texts. Where a reduced precision is so slow that the full set would take longer than
  ``--budget`` seconds, it and float32 are timed on the first n texts instead (n is printed);
  the ratio is always the median over repeats of paired timings on identical texts.
- the minimum cosine similarity of each precision's vectors to float32's.

Absolute rates are also given per GFLOP/s of the float32 matmul measured in the same repeat, so
runs on a shared, noisy machine can be compared. The machine (CPU model and its bfloat16/AMX flags,
GPU), what ``precision="auto"`` resolves to, and the date are printed with the results.
"""

import argparse
import datetime
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from sktransfer import BertVectorizer
from sktransfer._device import auto_precision, cpu_native_precisions, resolve_device
from sktransfer.datasets import fetch_imdb
from sktransfer.exceptions import SlowPrecisionWarning
from sktransfer.hf import DEFAULT_MODEL, resolve_model_path

PRECISIONS = ("float32", "bfloat16", "float16")
MATMUL_SHAPE = (512, 384, 1536)  # tokens x hidden @ hidden x intermediate: MiniLM's feed-forward


def machine(device):
    """The hardware, as the precision rule sees it."""
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device)}
    try:
        text = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags"))
        wanted = ("bf16", "fp16", "amx", "avx512f", "avx2")
        info["cpu_flags"] = sorted(f for f in flags if any(w in f for w in wanted))
    except (OSError, StopIteration):
        import platform

        info["cpu"] = platform.processor() or "unknown"
    info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    info["cpu_native_precisions"] = sorted(cpu_native_precisions())
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["gpu_capability"] = ".".join(map(str, torch.cuda.get_device_capability(device)))
    info["auto_resolves_to"] = auto_precision(device)
    return info


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(dtype, device, seconds):
    """Median rate of timed matmuls (at least 3 timings, at least ``seconds`` in all)."""
    rows, inner, out = MATMUL_SHAPE
    a = torch.randn(rows, inner, device=device).to(dtype)
    b = torch.randn(inner, out, device=device).to(dtype)
    a @ b  # warm-up (kernel selection, allocation)
    sync(device)
    rates, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 3:
        tic = time.perf_counter()
        a @ b
        sync(device)
        rates.append(2 * rows * inner * out / (time.perf_counter() - tic) / 1e9)
    return statistics.median(rates)


def timed_transform(vectorizer, texts, device):
    sync(device)
    tic = time.perf_counter()
    out = vectorizer.transform(texts)
    sync(device)
    return time.perf_counter() - tic, out


def min_cosine(a, b):
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return float(cos.min())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--budget", type=float, default=15.0, help="seconds one reduced-precision timing may take")
    parser.add_argument("--matmul-seconds", type=float, default=1.0)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    # The point here is to time the slow precisions, not to be told they are slow.
    warnings.simplefilter("ignore", SlowPrecisionWarning)
    reduced = [p for p in args.precisions if p != "float32"]

    texts, _ = fetch_imdb("test", n_samples=args.n_texts, random_state=0, return_X_y=True)
    texts = list(texts)
    path = resolve_model_path(DEFAULT_MODEL)
    vectorizers = {
        p: BertVectorizer(path, max_length=args.max_length, batch_size=args.batch_size, precision=p, device=device)
        for p in ["float32", *reduced]
    }
    for vec in vectorizers.values():
        vec.fit(texts[:2]).transform(texts[:2])  # load (shared model) and warm up
    n_tokens = sum(len(ids) for ids in vectorizers["float32"]._tokenize(texts).rows)

    # How many texts each reduced precision can run within the budget (from a 4-text timing).
    subset = {}
    for p in reduced:
        seconds, _ = timed_transform(vectorizers[p], texts[:4], device)
        subset[p] = int(min(len(texts), max(4, args.budget / (seconds / 4))))

    info = machine(device)
    print(f"{datetime.date.today()}  {info}")
    print(f"{len(texts)} IMDB test reviews, {n_tokens} tokens at max_length={args.max_length}, "
          f"batch_size={args.batch_size}; reduced precisions timed on the first {subset} texts")

    records = []
    reference = None
    for repeat in range(args.repeats):
        rotation = args.precisions[repeat % len(args.precisions):] + args.precisions[: repeat % len(args.precisions)]
        record = {"repeat": repeat, "matmul_gflops": {}, "seconds": {}, "fp32_seconds_on_subset": {}}
        for p in rotation:
            record["matmul_gflops"][p] = matmul_gflops(getattr(torch, p), device, args.matmul_seconds)
        for p in rotation:
            if p == "float32":
                record["seconds"][p], out = timed_transform(vectorizers[p], texts, device)
                reference = out if reference is None else reference
                continue
            chosen = texts[: subset[p]]
            pair = [("float32", vectorizers["float32"]), (p, vectorizers[p])]
            for name, vec in pair if repeat % 2 == 0 else pair[::-1]:  # who goes first alternates
                seconds, out = timed_transform(vec, chosen, device)
                if name == "float32":
                    record["fp32_seconds_on_subset"][p] = seconds
                else:
                    record["seconds"][p] = seconds
                    record.setdefault("min_cosine", {})[p] = min_cosine(out, reference[: len(chosen)])
        fp32_rate = len(texts) / record["seconds"]["float32"]
        line = f"repeat {repeat}: float32 {fp32_rate:.1f} texts/s, matmul " + ", ".join(
            f"{p} {record['matmul_gflops'][p]:.1f}" for p in args.precisions
        ) + " GFLOP/s"
        for p in reduced:
            line += f"; {p} {record['fp32_seconds_on_subset'][p] / record['seconds'][p]:.3f}x float32"
        print(line, flush=True)
        records.append(record)

    median = statistics.median
    summary = {"machine": info, "date": str(datetime.date.today()), "n_texts": len(texts), "n_tokens": n_tokens,
               "max_length": args.max_length, "batch_size": args.batch_size, "subset": subset, "repeats": records}
    fp32_gflops = median(r["matmul_gflops"]["float32"] for r in records)
    fp32_rate = median(len(texts) / r["seconds"]["float32"] for r in records)
    per_gflop = median(len(texts) / r["seconds"]["float32"] / r["matmul_gflops"]["float32"] for r in records)
    summary["float32"] = {"texts_per_s": fp32_rate, "matmul_gflops": fp32_gflops, "texts_per_s_per_gflops": per_gflop}
    print(f"\nmedians over {args.repeats} repeats")
    print(f"  float32 : {fp32_rate:7.2f} texts/s ({per_gflop:.3f} texts/s per GFLOP/s), "
          f"matmul {fp32_gflops:7.1f} GFLOP/s")
    for p in reduced:
        gflops = median(r["matmul_gflops"][p] for r in records)
        matmul_ratio = median(r["matmul_gflops"][p] / r["matmul_gflops"]["float32"] for r in records)
        ratio = median(r["fp32_seconds_on_subset"][p] / r["seconds"][p] for r in records)
        rate = median(subset[p] / r["seconds"][p] for r in records)
        cosine = min(r["min_cosine"][p] for r in records)
        summary[p] = {"texts_per_s": rate, "ratio_to_float32": ratio, "matmul_gflops": gflops,
                      "matmul_ratio_to_float32": matmul_ratio, "min_cosine_to_float32": cosine, "n_texts": subset[p]}
        print(f"  {p:8}: {rate:7.2f} texts/s on {subset[p]} texts = {ratio:.3f}x float32 (paired), "
              f"matmul {gflops:7.1f} GFLOP/s = {matmul_ratio:.3f}x float32, min cosine to float32 {cosine:.7f}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
