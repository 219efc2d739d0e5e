"""The alternation and the summary arithmetic of benchmarks/_timing.py."""

import pytest
from _timing import alternation_order, summarize, time_alternated


def test_alternation_reverses_every_other_round():
    assert alternation_order(["a", "b", "c"], 3) == [["a", "b", "c"], ["c", "b", "a"], ["a", "b", "c"]]
    assert alternation_order({"x": 1, "y": 2}, 2) == [["x", "y"], ["y", "x"]]


def test_time_alternated_runs_each_contender_once_per_round_in_alternated_order():
    calls = []
    seconds, matmul = time_alternated({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3,
                                      matmul_seconds=0, log=lambda line: None)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert [len(v) for v in seconds.values()] == [3, 3] and all(t >= 0 for v in seconds.values() for t in v)
    assert matmul == []


def test_summarize_medians_rates_ratio_and_matmul_normalisation():
    summary = summarize({"ours": [2.0, 1.0, 4.0], "peer": [3.0, 6.0, 2.0]}, 30, "texts", baseline="peer",
                        matmul=[100.0, 200.0, 300.0])
    ours, peer = summary["ours"], summary["peer"]
    assert (ours["median_s"], ours["min_s"], ours["max_s"]) == (2.0, 1.0, 4.0)
    assert ours["texts_per_s"] == 15.0 and peer["texts_per_s"] == 10.0
    assert ours["speedup_vs_peer"] == 1.5 and peer["speedup_vs_peer"] == 1.0
    assert ours["paired_speedup_vs_peer"] == 1.5  # per round: 3/2, 6/1, 2/4
    assert summary["matmul_gflops_median"] == 200.0
    assert ours["texts_per_s_per_100_gflops"] == pytest.approx(7.5)
    assert "texts_per_s_per_100_gflops" not in summarize({"a": [1.0]}, 1, "texts", baseline="a")["a"]
