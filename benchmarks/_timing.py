"""What the side-by-side benchmarks share: the machine, the fp32 matmul rate, alternated timing.

The scripts of ``docs/performance.md`` compare two contenders on the same 2 shared cores. Load
from other processes shifts absolute times from run to run, so a comparison is a ratio of
medians over repeats in which the contenders alternate (ABBA: A B, B A, A B, ...; whatever runs
second in a pair is not always the same contender), and absolute figures are read beside a fp32
matmul rate timed in the same run. Imported by the scripts as ``_timing`` (the folder of a script
run as ``python benchmarks/x.py`` is on ``sys.path``).
"""

from __future__ import annotations

import datetime
import functools
import os
import platform
import statistics
import time
from pathlib import Path

# On 2 shared cores OpenMP's default spin-waiting stalls every small parallel op whenever another
# process holds a core; sleeping waits avoid that. Set before torch loads OpenMP (this module is
# imported before torch by every script); export another value to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """CPU model, cores, torch version and threads, the date: the header of every result."""
    import torch

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def describe(info) -> str:
    """One line for a :func:`machine` record: CPU, cores, torch and its threads, date."""
    return (f"{info['cpu']}, {info['cores']} cores, torch {info['torch']}, {info['torch_threads']} threads, "
            f"{info['date']}")


def matmul_gflops(rows: int = 4096, inner: int = 384, cols: int = 1536, seconds: float = 1.0) -> float:
    """fp32 rate of ``(rows, inner) @ (inner, cols)``, median of timed chunks, in GFLOP/s.

    The default shape is MiniLM's feed-forward layer over a batch of 4,096 tokens, the matmul
    that dominates its arithmetic.
    """
    import torch

    a, b = torch.randn(rows, inner), torch.randn(inner, cols)
    for _ in range(3):
        a @ b
    rates, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 5:
        tic = time.perf_counter()
        for _ in range(5):
            a @ b
        rates.append(5 * 2 * rows * inner * cols / (time.perf_counter() - tic) / 1e9)
    return statistics.median(rates)


def alternation_order(names, repeats):
    """The run order of ``repeats`` rounds over ``names``: each round reverses the previous one.

    >>> alternation_order(["a", "b"], 3)
    [['a', 'b'], ['b', 'a'], ['a', 'b']]
    """
    names = list(names)
    return [names if r % 2 == 0 else names[::-1] for r in range(repeats)]


def time_alternated(contenders, repeats, *, matmul_seconds=0.5, log=None):
    """Time each contender ``repeats`` times, alternated; the matmul rate once per round.

    Parameters
    ----------
    contenders : dict of str to callable
        Each callable does the whole measured work once; its return value is ignored.
    repeats : int
    matmul_seconds : float
        How long each round's matmul measurement lasts (0 skips it).
    log : callable, optional
        Receives one line per timing; default: print, flushed at once.

    Returns
    -------
    seconds : dict of str to list of float
        Wall-clock seconds per contender, in round order.
    matmul : list of float
        The fp32 matmul GFLOP/s measured at the start of each round.
    """
    log = log or functools.partial(print, flush=True)
    seconds = {name: [] for name in contenders}
    matmul = []
    for r, order in enumerate(alternation_order(contenders, repeats)):
        if matmul_seconds:
            matmul.append(matmul_gflops(seconds=matmul_seconds))
            log(f"round {r}: fp32 matmul {matmul[-1]:.0f} GFLOP/s")
        for name in order:
            tic = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - tic)
            log(f"round {r}: {name} {seconds[name][-1]:.2f} s")
    return seconds, matmul


def summarize(seconds, work, unit, *, baseline, matmul=()):
    """Medians, rates and the ratio of each contender's median rate to ``baseline``'s.

    Parameters
    ----------
    seconds : dict of str to list of float
        As returned by :func:`time_alternated`.
    work : float
        How many ``unit`` one timed call processes (texts, sequences).
    unit : str
    baseline : str
        The contender the ratios divide by.
    matmul : sequence of float
        Matmul rates of the same run; their median normalises the rates.

    Returns
    -------
    dict
        Per contender: ``median_s``, ``min_s``, ``max_s``, ``{unit}_per_s`` (at the median time),
        ``speedup_vs_{baseline}`` (its median rate over the baseline's), ``paired_speedup_vs_{baseline}``
        (the median over rounds of the baseline's time over its own in the same round: robust to
        load that drifts between rounds), and, with ``matmul``, ``{unit}_per_s_per_100_gflops``;
        plus ``matmul_gflops_median``.
    """
    out = {}
    base = statistics.median(seconds[baseline])
    gflops = statistics.median(matmul) if matmul else None
    for name, times in seconds.items():
        median = statistics.median(times)
        row = {"median_s": median, "min_s": min(times), "max_s": max(times), f"{unit}_per_s": work / median,
               f"speedup_vs_{baseline}": base / median,
               f"paired_speedup_vs_{baseline}": statistics.median(b / t for b, t in zip(seconds[baseline], times)),
               "seconds": list(times)}
        if gflops:
            row[f"{unit}_per_s_per_100_gflops"] = work / median / gflops * 100
        out[name] = row
    out["matmul_gflops_median"] = gflops
    return out


def print_summary(summary, unit, baseline):
    """One line per contender: median time, spread, rate and ratio to ``baseline``."""
    for name, row in summary.items():
        if not isinstance(row, dict):
            continue
        print(f"{name:>14}: median {row['median_s']:.2f} s (min {row['min_s']:.2f}, max {row['max_s']:.2f}), "
              f"{row[f'{unit}_per_s']:.1f} {unit}/s, {row[f'speedup_vs_{baseline}']:.3f}x {baseline} "
              f"(median of per-round ratios {row[f'paired_speedup_vs_{baseline}']:.3f}x)")
    if summary.get("matmul_gflops_median"):
        print(f"fp32 matmul (median of the run): {summary['matmul_gflops_median']:.0f} GFLOP/s")
