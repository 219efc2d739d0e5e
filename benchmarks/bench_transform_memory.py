#!/usr/bin/env python
"""Memory of BertVectorizer.transform: does the peak RSS grow with the number of texts?

    SKTRANSFER_DATA=/work/shared/data python benchmarks/bench_transform_memory.py \
        [--sizes 2000 20000] [--json out.json]

Each measurement runs in a fresh process (this script with ``--worker N``), so one measurement's
allocations cannot hide in another's peak. A worker builds the same pool of short texts (IMDB
training-review sentences of 5-30 words, in archive order; as many as the largest size), loads
all-MiniLM-L6-v2 into a BertVectorizer and warms it up on 64 texts, reads its RSS and peak RSS
(``VmRSS``, ``VmHWM``), resets the peak (``/proc/self/clear_refs``), transforms the first N texts
and reads them again. A transform that streams (tokens in, pooled vectors out, batch by batch)
adds at most the output matrix and the token ids to the peak, whatever N is: the peak during
transform stays at the model-load level plus a few MB per 10,000 texts.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from _timing import describe, machine

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def short_texts(reviews, n, min_words=5, max_words=30):
    """The first ``n`` sentences of ``min_words``-``max_words`` words of ``reviews``, in order."""
    out = []
    for review in reviews:
        for sentence in _SENTENCE_END.split(review.replace("<br />", " ")):
            if min_words <= len(sentence.split()) <= max_words:
                out.append(sentence)
                if len(out) == n:
                    return out
    raise ValueError(f"only {len(out)} sentences of {min_words}-{max_words} words in {len(reviews)} reviews; "
                     f"{n} were asked for")


def memory_mb():
    """This process's current and peak resident set size (``VmRSS``, ``VmHWM``), in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak():
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker(n, pool_size, max_length, batch_size, threads):
    import torch

    from sktransfer import BertVectorizer
    from sktransfer.datasets import fetch_imdb

    torch.set_num_threads(threads)
    reviews, _ = fetch_imdb("train", return_X_y=True)
    texts = short_texts(reviews, pool_size)
    del reviews
    vectorizer = BertVectorizer(max_length=max_length, batch_size=batch_size, device="cpu").fit(texts[:2])
    vectorizer.transform(texts[:64])
    rss_load, peak_load = memory_mb()
    record = {"n_texts": n, "rss_after_load_mb": rss_load, "peak_after_load_mb": peak_load,
              "peak_reset": reset_peak()}
    features = vectorizer.transform(texts[:n])
    rss_end, peak_transform = memory_mb()
    record.update(rss_end_mb=rss_end, peak_during_transform_mb=peak_transform,
                  peak_end_mb=max(peak_load, peak_transform), output_mb=features.nbytes / 2**20,
                  mean_words=sum(len(t.split()) for t in texts[:n]) / n)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pool-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        record = worker(args.worker, args.pool_size, args.max_length, args.batch_size, args.threads)
        print(json.dumps(record))
        return record

    records = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--worker", str(n), "--pool-size", str(max(args.sizes)),
               "--max-length", str(args.max_length), "--batch-size", str(args.batch_size),
               "--threads", str(args.threads)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        records.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = records[-1]
        print(f"{n:>6} texts ({r['mean_words']:.1f} words on average): RSS after load {r['rss_after_load_mb']:.0f} MB, "
              f"peak after load {r['peak_after_load_mb']:.0f} MB; peak during transform "
              f"{r['peak_during_transform_mb']:.0f} MB, RSS at the end {r['rss_end_mb']:.0f} MB "
              f"(output matrix {r['output_mb']:.1f} MB)", flush=True)
    info = machine()
    print(f"{describe(info)}; max_length {args.max_length}, batch_size {args.batch_size}")
    first, last = records[0], records[-1]
    growth = last["peak_during_transform_mb"] - first["peak_during_transform_mb"]
    print(f"peak during transform grew {growth:+.0f} MB from {first['n_texts']} to {last['n_texts']} texts; "
          f"the output matrix grew {last['output_mb'] - first['output_mb']:+.1f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "max_length": args.max_length,
                                               "batch_size": args.batch_size, "records": records}, indent=1))
    return records


if __name__ == "__main__":
    main()
