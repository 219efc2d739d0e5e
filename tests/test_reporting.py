"""Tests of sktransfer.reporting: the results schema, resume rules, summaries, tables, plot and files."""

import json
import math

import numpy as np
import pytest

from sktransfer.reporting import (
    COMPARE_SETTINGS,
    HISTORY_KEYS,
    METRICS,
    RESULT_COLUMNS,
    RESUME_SETTINGS,
    IncompatibleResultsError,
    format_table,
    plot_learning_curve,
    plot_training_curves,
    read_results,
    reusable_runs,
    summarize,
    training_summary,
    write_results,
)

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")


def results_frame(rows=None, **settings):
    """Results of two strategies x sizes 10, 40 x seeds 0, 1 (or ``rows``), with ``attrs["compare"]``."""
    if rows is None:
        rows = []
        for name, base in (("tfidf-lr", 0.6), ("mine", 0.7)):
            for n in (40, 10):
                for seed in (0, 1):
                    rows.append({"strategy": name, "n_train": n, "seed": seed, "accuracy": base + n / 1000 + seed / 10,
                                 "macro_f1": base - 0.1, "fit_seconds": 2.0 * (seed + 1), "predict_seconds": 0.25,
                                 "n_test": 30, "best_params": None})
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    frame.attrs["compare"] = dict({"train_sizes": [40, 10], "seeds": [0, 1], "n_train_pool": 100, "n_test": 30,
                                   "classes": ["neg", "pos"], "strategies": {"tfidf-lr": "T()", "mine": "M()"}},
                                  **settings)
    return frame


# ---------------------------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------------------------


def test_schema_is_defined_once_and_compare_follows_it():
    from sktransfer import compare as cmp

    assert cmp.RESULT_COLUMNS is RESULT_COLUMNS
    assert RESULT_COLUMNS == ("strategy", "n_train", "seed", "accuracy", "macro_f1", "fit_seconds",
                              "predict_seconds", "n_test", "best_params", "history")
    assert set(METRICS) < set(RESULT_COLUMNS) and set(RESUME_SETTINGS) >= {"n_test", "max_length", "dataset"}
    results = cmp.compare(["good", "bad"] * 10, ["p", "n"] * 10, ["good", "bad"], ["p", "n"],
                          {"dummy": _Majority()}, train_sizes=(4,), seeds=(0,), progress=False)
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert tuple(results.attrs["compare"]) == COMPARE_SETTINGS


class _Majority:
    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.label_ = y[0]
        return self

    def predict(self, X):
        return np.full(len(X), self.label_)


@pytest.mark.parametrize("function", [summarize, format_table, plot_learning_curve])
def test_results_without_the_run_columns_are_refused(function):
    frame = results_frame().drop(columns=["seed"])
    with pytest.raises(ValueError, match=r"returned by compare\(\); it lacks the columns \['seed'\]"):
        function(frame)


def test_write_results_refuses_what_is_not_results(tmp_path):
    with pytest.raises(ValueError, match=r"lacks the columns \['strategy', 'n_train', 'seed', 'accuracy'\]"):
        write_results(pd.DataFrame({"x": [1]}), tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_read_results_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "missing.json")
    bad = tmp_path / "results.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"not a results.json written by sktransfer.reporting.write_results \(JSONDecodeError"
    ):
        read_results(bad)
    bad.write_text(json.dumps({"metadata": {}, "records": [{"strategy": "a"}]}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"lacks the columns \['n_train', 'seed', 'accuracy'\]"):
        read_results(tmp_path)


# ---------------------------------------------------------------------------------------------
# summaries and tables
# ---------------------------------------------------------------------------------------------


def test_summarize_keeps_strategy_order_and_sorts_sizes():
    summary = summarize(results_frame())
    assert list(zip(summary["strategy"], summary["n_train"])) == [
        ("tfidf-lr", 10), ("tfidf-lr", 40), ("mine", 10), ("mine", 40)
    ]
    first = summary.iloc[0]
    assert first["n_seeds"] == 2
    assert first["accuracy_mean"] == pytest.approx(0.66) and first["accuracy_std"] == pytest.approx(
        np.std([0.61, 0.71], ddof=1)
    )
    assert first["fit_seconds_mean"] == pytest.approx(3.0) and first["predict_seconds_std"] == pytest.approx(0.0)
    assert [c for c in summary.columns if c.endswith("_mean")] == [f"{m}_mean" for m in METRICS]


def test_format_table_cells_digits_failures_and_missing_sizes():
    frame = results_frame()
    assert format_table(frame, "fit_seconds", digits=1).splitlines()[2] == "| tfidf-lr | 3.0 ± 1.4 | 3.0 ± 1.4 |"
    failed = frame.copy()
    failed.loc[failed["strategy"] == "mine", "accuracy"] = np.nan
    assert format_table(failed).splitlines()[3] == "| mine | n/a | n/a |"
    partial = frame[~((frame["strategy"] == "mine") & (frame["n_train"] == 40))]
    assert format_table(partial).splitlines()[3] == "| mine | 0.760 ± 0.071 | – |"
    with pytest.raises(
        ValueError,
        match=r"metric must be one of \['accuracy', 'macro_f1', 'fit_seconds', 'predict_seconds'\], got 'auc'",
    ):
        format_table(frame, "auc")


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def test_write_read_round_trip_keeps_runs_settings_and_metadata(tmp_path):
    frame = results_frame()
    frame.loc[0, "fit_seconds"] = np.nan
    frame.loc[1, "best_params"] = json.dumps({"C": 1.0})
    paths = write_results(frame, tmp_path, metadata={"dataset": "mine", "max_length": 64})
    assert {p.name for p in tmp_path.iterdir()} == {"results.json", "results.md", "learning_curve.png"}
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    back = read_results(paths["json"])
    assert list(back.columns) == list(RESULT_COLUMNS)
    measured = [c for c in RESULT_COLUMNS if c not in ("best_params", "history")]
    pd.testing.assert_frame_equal(back[measured], frame[measured], check_dtype=False)
    assert back["history"].tolist() == [None] * 8  # no strategy here trains epochs
    assert back["best_params"].isna().tolist() == [True, False] + [True] * 6  # None comes back as a missing value
    assert math.isnan(back.loc[0, "fit_seconds"]) and json.loads(back.loc[1, "best_params"]) == {"C": 1.0}
    assert back.attrs["compare"] == frame.attrs["compare"]
    meta = back.attrs["metadata"]
    assert meta["dataset"] == "mine" and meta["max_length"] == 64 and meta["versions"]["sktransfer"]
    assert format_table(back) == format_table(frame)

    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Transfer-learning comparison\n\ndataset: mine, n_test: 30, seeds: [0, 1].")
    assert format_table(frame, "macro_f1") in markdown and "![learning curve](learning_curve.png)" in markdown
    assert not list(tmp_path.glob(".*.part"))  # the atomic writes left no temporary files


def test_write_results_without_plot_keeps_an_existing_plot(tmp_path):
    write_results(results_frame(), tmp_path)
    before = (tmp_path / "learning_curve.png").read_bytes()
    write_results(results_frame().query("strategy == 'mine'"), tmp_path, plot=False)
    assert (tmp_path / "learning_curve.png").read_bytes() == before
    assert set(read_results(tmp_path)["strategy"]) == {"mine"}


def test_plot_learning_curve_writes_the_file_and_rejects_other_metrics(tmp_path):
    figure = plot_learning_curve(results_frame(), tmp_path / "curve.png", metric="macro_f1", title="mine")
    ax = figure.axes[0]
    assert ax.get_title() == "mine" and ax.get_ylabel() == "test macro-F1"
    assert [int(t) for t in ax.get_xticks()] == [10, 40]
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="metric must be 'accuracy' or 'macro_f1', got 'fit_seconds'"):
        plot_learning_curve(results_frame(), metric="fit_seconds")


# ---------------------------------------------------------------------------------------------
# resume rules
# ---------------------------------------------------------------------------------------------


def test_reusable_runs_takes_over_rows_keyed_by_run():
    runs = reusable_runs(results_frame(), {"n_test": 30})
    assert len(runs) == 8 and runs.changed == ()
    row = runs.rows["mine", 10, 1]
    assert row["accuracy"] == pytest.approx(0.81) and list(row) == list(RESULT_COLUMNS)
    assert isinstance(row["n_train"], int) and isinstance(row["seed"], int)
    assert list(runs.to_frame().columns) == list(RESULT_COLUMNS)
    assert len(reusable_runs(None, {"n_test": 30})) == 0


def test_reusable_runs_refuses_other_settings_and_names_each_change():
    frame = results_frame(max_length=128, dataset="imdb")
    frame.attrs["metadata"] = {"versions": {"sktransfer": "0.1"}}
    with pytest.raises(IncompatibleResultsError) as info:
        reusable_runs(frame, {"n_test": 30, "max_length": 256, "dataset": "imdb", "sktransfer_version": "0.2"})
    assert info.value.changes == ["max_length: 128 then, 256 now", "sktransfer_version: '0.1' then, '0.2' now"]
    assert isinstance(info.value, ValueError) and "cannot be combined" in str(info.value)
    # Settings not given are not checked: compare() itself only knows n_test.
    assert len(reusable_runs(frame, {"n_test": 30})) == 8


def test_reusable_runs_checks_n_test_on_every_row_without_attrs():
    frame = results_frame()
    frame.attrs.clear()
    frame.loc[3, "n_test"] = 31
    with pytest.raises(IncompatibleResultsError, match=r"n_test: 31 then, 30 now"):
        reusable_runs(frame, {"n_test": 30})


def test_reusable_runs_leaves_out_strategies_whose_settings_changed():
    runs = reusable_runs(
        results_frame(), {"n_test": 30, "strategies": {"tfidf-lr": "T()", "mine": "M(C=2)", "new": "N()"}}
    )
    assert runs.changed == ("mine",)
    assert {key[0] for key in runs.rows} == {"tfidf-lr"} and len(runs) == 4
    only_new = reusable_runs(results_frame(), {"strategies": {"new": "N()"}})
    assert len(only_new) == 0 and only_new.changed == ()


def test_reusable_runs_refuses_frames_that_are_not_results():
    with pytest.raises(ValueError, match=r"lacks the columns \['macro_f1', 'fit_seconds'"):
        reusable_runs(results_frame()[["strategy", "n_train", "seed", "accuracy"]], {"n_test": 30})


# ---------------------------------------------------------------------------------------------
# training histories: convergence, stability, curves
# ---------------------------------------------------------------------------------------------


def _history(accuracies, losses=None, dur=2.0):
    losses = losses or [1.0 - a for a in accuracies]
    return [{"epoch": i + 1, "train_loss": 0.5, "valid_loss": loss, "valid_acc": acc, "dur": dur}
            for i, (acc, loss) in enumerate(zip(accuracies, losses))]


def frame_with_histories():
    """'head' has histories (2 seeds at n=10, 1 at n=40); 'tfidf-lr' has none."""
    frame = results_frame()
    histories = {
        ("mine", 10, 0): _history([0.5, 0.7, 0.8, 0.8]),
        ("mine", 10, 1): _history([0.6, 0.8, 0.8], dur=3.0),
        ("mine", 40, 0): _history([0.9, 0.9]),
    }
    frame["history"] = [histories.get((r.strategy, r.n_train, r.seed)) for r in frame.itertuples()]
    return frame


def test_training_summary_measures_convergence_and_spread():
    table = training_summary(frame_with_histories())
    assert list(table["strategy"]) == ["mine", "mine"] and list(table["n_train"]) == [40, 10]
    n10 = table[table["n_train"] == 10].iloc[0]
    # seed 0: 95% of 0.8 is 0.76, first reached at epoch 3 (6 s); seed 1: epoch 2 (6 s).
    assert n10["n_seeds"] == 2 and n10["epochs_to_95"] == 2.5 and n10["seconds_to_95"] == 6.0
    assert n10["final_valid_acc"] == pytest.approx(0.8) and n10["n_epochs"] == 3.5
    # spread over the 3 epochs both seeds reached: std(ddof=1) of (0.5, 0.6), (0.7, 0.8), (0.8, 0.8)
    expected = np.mean([np.std([0.5, 0.6], ddof=1), np.std([0.7, 0.8], ddof=1), 0.0])
    assert n10["curve_spread"] == pytest.approx(expected)
    n40 = table[table["n_train"] == 40].iloc[0]
    assert n40["epochs_to_95"] == 1.0 and math.isnan(n40["curve_spread"])  # one seed: no spread
    assert training_summary(results_frame()).empty  # no histories, no rows


def test_plot_training_curves_draws_accuracy_and_loss_per_size(tmp_path):
    figure = plot_training_curves(frame_with_histories(), tmp_path / "curves.png")
    axes = figure.axes
    assert len(axes) == 4  # (accuracy, loss) x (n=10, n=40)
    assert [ax.get_title() for ax in axes[:2]] == ["n_train = 10", "n_train = 40"]
    line = axes[0].get_lines()[0]
    # mean over the seeds that reached each epoch: (0.5+0.6)/2, (0.7+0.8)/2, 0.8, then seed 0 alone
    np.testing.assert_allclose(line.get_ydata(), [0.55, 0.75, 0.8, 0.8])
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="No run has a training history with validation scores"):
        plot_training_curves(results_frame())


def test_write_results_adds_training_curves_and_round_trips_histories(tmp_path):
    frame = frame_with_histories()
    paths = write_results(frame, tmp_path)
    assert paths["training_curves"] == tmp_path / "training_curves.png" and paths["training_curves"].is_file()
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "## Training (validation split of each training set)" in markdown
    assert "| mine | 10 | 2.5 | 6.0 | 0.800 |" in markdown and "![training curves](training_curves.png)" in markdown
    back = read_results(tmp_path)
    assert back["history"].tolist() == frame["history"].tolist()
    assert set(back["history"].dropna().iloc[0][0]) == set(HISTORY_KEYS)
    assert training_summary(back).equals(training_summary(frame))


def test_results_without_histories_write_no_training_curves(tmp_path):
    paths = write_results(results_frame(), tmp_path)
    assert "training_curves" not in paths and not (tmp_path / "training_curves.png").exists()
    assert "## Training" not in paths["markdown"].read_text(encoding="utf-8")
