#!/usr/bin/env python
"""How long fetch_imdb takes: the first load (one pass over the archive) and the cached reloads.

    SKTRANSFER_DATA=../shared/data python benchmarks/bench_imdb_reload.py [--repeats 3]
        [--work-dir DIR] [--out docs/imdb_reload.json]

The archive is linked into a working data home (a temporary folder unless ``--work-dir`` is
given), so the parsed cache is written there and never beside the shared data. With a
``--work-dir`` that already holds the cache, the first load is a cached one too; the JSON
records which it was. The target: a cached reload of the 25,000 training reviews takes
well under 5 s (the tests check only that the cache is used, never how fast).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from unittest import mock

from sktransfer.datasets import IMDB_ARCHIVE_NAME, fetch_imdb, get_data_home
from sktransfer.datasets import imdb as imdb_module


def _timed(subset, home):
    start = time.perf_counter()
    bunch = fetch_imdb(subset, data_home=home, download_if_missing=False)
    return time.perf_counter() - start, len(bunch.data)


def run(source_home, work_dir, repeats):
    archive = Path(source_home) / IMDB_ARCHIVE_NAME
    if not archive.is_file():
        raise SystemExit(
            f"{archive} not found: point SKTRANSFER_DATA (or --data-home) at the folder holding "
            f"{IMDB_ARCHIVE_NAME}."
        )
    link = Path(work_dir) / IMDB_ARCHIVE_NAME
    if not link.exists():
        link.symlink_to(archive.resolve())

    parses = []
    original = imdb_module._parse_imdb_archive

    def counting_parse(path):
        parses.append(path)
        return original(path)

    with mock.patch.object(imdb_module, "_parse_imdb_archive", counting_parse):
        first_s, n_train = _timed("train", work_dir)
        first_parsed = bool(parses)
        reloads = []
        for _ in range(repeats):
            seconds, n = _timed("train", work_dir)
            if n != n_train:
                raise SystemExit(f"the cached reload gave {n} reviews, the first load {n_train}")
            reloads.append(seconds)
    if len(parses) > 1:  # only the first load may read the archive
        raise SystemExit(f"the archive was parsed {len(parses)} times: the cache was not used")
    return {
        "subset": "train",
        "reviews": n_train,
        "first_load_s": round(first_s, 3),
        "first_load_parsed_archive": first_parsed,
        "cached_reload_s": [round(s, 3) for s in reloads],
        "cached_reload_best_s": round(min(reloads), 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None, help="folder holding the archive (default: $SKTRANSFER_DATA)")
    parser.add_argument("--work-dir", default=None, help="data home for the link and the cache (default: temporary)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")

    source_home = get_data_home(args.data_home)
    if args.work_dir is not None:
        os.makedirs(args.work_dir, exist_ok=True)
        result = run(source_home, args.work_dir, args.repeats)
    else:
        with tempfile.TemporaryDirectory(prefix="sktransfer_imdb_bench_") as work_dir:
            result = run(source_home, work_dir, args.repeats)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
