"""benchmarks/_previous.py: earlier results are refused on another protocol and joined keeping the settings."""

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

import _previous  # noqa: E402

from sktransfer.reporting import write_results  # noqa: E402
from tests.test_reporting import results_frame  # noqa: E402


def test_read_previous_checks_the_protocol(tmp_path):
    write_results(results_frame(), tmp_path, metadata={"pool": 100}, plot=False)
    # sizes and seeds are compared whatever their order
    rows = _previous.read_previous(tmp_path / "results.json",
                                   {"pool": 100, "n_test": 30, "train_sizes": [10, 40], "seeds": [1, 0]})
    assert len(rows) == 8 and set(rows["strategy"]) == {"tfidf-lr", "mine"}
    with pytest.raises(SystemExit, match=r"was run with \{'n_test': 30, 'seeds': \[0, 1\]\}, this run with "
                                         r"\{'n_test': 30, 'seeds': \[0, 1, 2\]\}"):
        _previous.read_previous(tmp_path / "results.json", {"n_test": 30, "seeds": [0, 1, 2]})
    with pytest.raises(SystemExit, match=r"was run with \{'pool': 100, 'n_test': 30\}, this run with \{'pool': 200"):
        _previous.read_previous(tmp_path / "results.json", {"pool": 200, "n_test": 30})


def test_with_rows_puts_earlier_rows_first_and_keeps_the_settings():
    new = results_frame().query("strategy == 'mine'")
    new.attrs = {"compare": {"strategies": {"mine": "M()"}}}
    old = results_frame().query("strategy == 'tfidf-lr'").assign(extra=1)
    joined = _previous.with_rows(new, old)
    assert list(joined["strategy"]) == ["tfidf-lr"] * 4 + ["mine"] * 4
    assert list(joined.columns) == list(new.columns) and joined.attrs == new.attrs
