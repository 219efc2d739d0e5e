"""benchmarks/feature_heads_refit.py --merge: runs split across processes joined without loss or repeats."""

import feature_heads_refit as bench
import pytest

from sktransfer.reporting import read_results
from tests.conftest import REPO_ROOT

RUNS = [REPO_ROOT / "docs" / f"compare_heads_refit_bilstm{n}" / "results.json" for n in (100, 500)]
EXPECTED = {"n_test": 2000, "n_train_pool": 4000}


def test_merge_keeps_every_row_and_the_union_of_sizes():
    first, second = (bench.read_previous(path, EXPECTED) for path in RUNS)
    merged, protocols = bench.merged_runs([str(p) for p in RUNS], EXPECTED)
    assert len(merged) == len(first) + len(second)
    assert sorted(merged["n_train"].unique()) == [100, 500]
    assert merged.attrs["compare"]["train_sizes"] == [100, 500]
    assert set(merged.attrs["compare"]["strategies"]) == {"elmo-head-bilstm", "embed-head-bilstm"}
    row = merged[(merged["strategy"] == "elmo-head-bilstm") & (merged["n_train"] == 500) & (merged["seed"] == 1)]
    original = second[(second["strategy"] == "elmo-head-bilstm") & (second["seed"] == 1)]
    assert row["accuracy"].item() == original["accuracy"].item()
    assert protocols == {str(p): bench.read_previous(p, EXPECTED).attrs["metadata"]["protocol"] for p in RUNS}


def test_merge_refuses_a_run_given_twice():
    with pytest.raises(SystemExit, match="same \\(strategy, n_train, seed\\)"):
        bench.merged_runs([str(RUNS[0])] * 2, EXPECTED)


def test_merge_refuses_another_protocol():
    with pytest.raises(SystemExit, match="was run with"):
        bench.merged_runs([str(RUNS[0])], {**EXPECTED, "n_test": 500})


def test_merge_only_writes_the_joined_results_with_each_runs_protocol(tmp_path):
    bench.main(["--merge", *map(str, RUNS), "--out", str(tmp_path)])
    written = read_results(tmp_path / "results.json")
    assert len(written) == sum(len(bench.read_previous(path, EXPECTED)) for path in RUNS)
    protocols = written.attrs["metadata"]["protocol"]
    assert set(protocols) == set(map(str, RUNS)) and all("refit=True" in p for p in protocols.values())
    assert (tmp_path / "training_curves.png").is_file()


def test_keep_writes_only_the_named_strategies_in_that_order(tmp_path):
    merged, _ = bench.merged_runs([str(p) for p in RUNS], EXPECTED)
    kept = bench.kept_strategies(merged, ["embed-head-bilstm", "elmo-head-bilstm"])
    assert list(dict.fromkeys(kept["strategy"])) == ["embed-head-bilstm", "elmo-head-bilstm"]
    assert len(kept) == len(merged)
    assert list(kept.attrs["compare"]["strategies"]) == ["embed-head-bilstm", "elmo-head-bilstm"]
    only = bench.kept_strategies(merged, ["elmo-head-bilstm"])
    assert set(only["strategy"]) == {"elmo-head-bilstm"} and len(only) == len(merged) // 2
    with pytest.raises(SystemExit, match="--keep tfidf-lr: no rows"):
        bench.kept_strategies(merged, ["elmo-head-bilstm", "tfidf-lr"])
    bench.main(["--merge", *map(str, RUNS), "--keep", "elmo-head-bilstm", "--out", str(tmp_path)])
    assert set(read_results(tmp_path / "results.json")["strategy"]) == {"elmo-head-bilstm"}


def test_model_folder_without_weights_fails_before_imdb_is_read(tmp_path, monkeypatch):
    def no_imdb(*args, **kwargs):
        raise AssertionError("IMDB must not be read")

    monkeypatch.setattr(bench, "fetch_imdb", no_imdb)
    (tmp_path / "options.json").write_text("{}")
    with pytest.raises(SystemExit, match="--model: .*weights.hdf5 not found"):
        bench.main(["--model", str(tmp_path), "--out", str(tmp_path / "out")])
