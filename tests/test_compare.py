"""Tests of sktransfer.compare: learning-curve runs, subsamples, seeds, summaries and written files."""

import json
import math
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

pd = pytest.importorskip("pandas")

from sktransfer import compare as cmp  # noqa: E402
from sktransfer import strategies as registry  # noqa: E402
from sktransfer.compare import (  # noqa: E402
    DEFAULT_STRATEGY_NAMES,
    RESULT_COLUMNS,
    compare,
    default_strategies,
    draw_subsample,
    format_table,
    plot_learning_curve,
    read_results,
    seed_estimator,
    summarize,
    write_results,
)
from sktransfer.exceptions import MissingDependencyError  # noqa: E402

GOOD = "good great excellent wonderful brilliant superb enjoyable fun".split()
BAD = "bad awful terrible boring dull poor worst waste".split()
FILLER = "the film movie story acting plot was it and a very really".split()


def synthetic_texts(n, seed):
    """``n`` balanced texts ("pos"/"neg") built from the tiny BERT vocabulary."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = list(rng.choice(FILLER, 4)) + list(rng.choice(GOOD if label == "pos" else BAD, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


@pytest.fixture
def data():
    X_train, y_train = synthetic_texts(60, seed=0)
    X_test, y_test = synthetic_texts(20, seed=1)
    return X_train, y_train, X_test, y_test


def tfidf_lr():
    return make_pipeline(TfidfVectorizer(), LogisticRegression())


FITTED = []  # (tag, random_state, texts) of every Recorder.fit; clone() deep-copies params, so a global


class Recorder(ClassifierMixin, BaseEstimator):
    """Predicts the majority class and records what it was fitted on."""

    def __init__(self, tag="", random_state=None, fail=False, C=1.0):
        self.tag = tag
        self.random_state = random_state
        self.fail = fail
        self.C = C

    def fit(self, X, y):
        if self.fail:
            raise RuntimeError("recorder told to fail")
        FITTED.append((self.tag, self.random_state, tuple(X)))
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


@pytest.fixture(autouse=True)
def _clear_fitted():
    FITTED.clear()
    yield
    FITTED.clear()


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def test_compare_returns_one_row_per_strategy_size_and_seed(data, tiny_bert):
    from sktransfer import BertVectorizer

    strategies = {
        "tfidf": tfidf_lr(),
        "tiny-bert": make_pipeline(BertVectorizer(tiny_bert, max_length=32), LogisticRegression()),
    }
    results = compare(*data, strategies, train_sizes=(10, 30), seeds=(0, 1), progress=False)

    assert list(results.columns) == list(RESULT_COLUMNS)
    assert len(results) == 2 * 2 * 2
    combos = set(zip(results["strategy"], results["n_train"], results["seed"]))
    assert combos == {(s, n, seed) for s in strategies for n in (10, 30) for seed in (0, 1)}
    assert results["accuracy"].between(0, 1).all() and results["macro_f1"].between(0, 1).all()
    assert (results["fit_seconds"] > 0).all() and (results["predict_seconds"] > 0).all()
    assert (results["n_test"] == 20).all()
    assert results["best_params"].isna().all()
    # TF-IDF separates the synthetic sentiment words perfectly with 30 examples.
    assert results.query("strategy == 'tfidf' and n_train == 30")["accuracy"].min() >= 0.9
    settings = results.attrs["compare"]
    assert settings["train_sizes"] == [10, 30] and settings["seeds"] == [0, 1]
    assert settings["n_train_pool"] == 60 and settings["n_test"] == 20
    assert set(settings["strategies"]) == {"tfidf", "tiny-bert"}


def test_strategies_share_subsamples_and_seeds_change_them(data):
    X_train, y_train, X_test, y_test = data
    strategies = {"a": Recorder(tag="a"), "b": make_pipeline(Recorder(tag="b"))}
    compare(X_train, y_train, X_test, y_test, strategies, train_sizes=(10, 20), seeds=(0, 1, 2), progress=False)

    assert len(FITTED) == 2 * 2 * 3
    by_tag = {tag: [(rs, texts) for t, rs, texts in FITTED if t == tag] for tag in ("a", "b")}
    # Same order of runs for both strategies: identical subsamples, seeds as random_state (nested too).
    assert by_tag["a"] == by_tag["b"]
    assert [rs for rs, _ in by_tag["a"]] == [0, 1, 2, 0, 1, 2]
    subsamples = [texts for _, texts in by_tag["a"]]
    assert [len(t) for t in subsamples] == [10, 10, 10, 20, 20, 20]
    assert len(set(subsamples[:3])) == 3 and len(set(subsamples[3:])) == 3  # seeds change subsamples
    # Balanced pool -> balanced subsamples.
    label_of = dict(zip(X_train, y_train))
    for texts in subsamples:
        labels = [label_of[t] for t in texts]
        assert labels.count("pos") == labels.count("neg")


def test_compare_does_not_modify_the_given_strategies(data):
    strategy = Recorder(tag="x", random_state=123)
    compare(*data, {"x": strategy}, train_sizes=(10,), seeds=(5,), progress=False)
    assert strategy.random_state == 123 and not hasattr(strategy, "majority_")


def test_grid_search_strategy_records_best_params(data):
    search = GridSearchCV(
        make_pipeline(TfidfVectorizer(), LogisticRegression()), {"logisticregression__C": [0.01, 10.0]}, cv=2
    )
    results = compare(*data, {"tuned": search}, train_sizes=(20,), seeds=(0,), progress=False)
    best = json.loads(results.loc[0, "best_params"])
    assert set(best) == {"logisticregression__C"} and best["logisticregression__C"] in (0.01, 10.0)


def test_seed_estimator_sets_every_nested_random_state():
    search = GridSearchCV(make_pipeline(Recorder(), LogisticRegression(random_state=9)), {"recorder__C": [1.0]})
    seed_estimator(search, 7)
    params = search.get_params(deep=True)
    assert params["estimator__recorder__random_state"] == 7
    assert params["estimator__logisticregression__random_state"] == 7
    plain = seed_estimator(TfidfVectorizer(), 3)  # nothing to seed: unchanged, no error
    assert isinstance(plain, TfidfVectorizer)


def test_draw_subsample_is_stratified_and_reproducible():
    y = np.array(["a"] * 75 + ["b"] * 25)
    idx = draw_subsample(y, 20, seed=4)
    assert len(idx) == 20 and len(set(idx.tolist())) == 20
    assert (y[idx] == "b").sum() == 5
    np.testing.assert_array_equal(idx, draw_subsample(y, 20, seed=4))
    assert not np.array_equal(np.sort(idx), np.sort(draw_subsample(y, 20, seed=5)))
    everything = draw_subsample(y, 100, seed=1)
    assert sorted(everything.tolist()) == list(range(100))


def test_compare_errors_are_explicit(data):
    X_train, y_train, X_test, y_test = data
    with pytest.raises(ValueError, match=r"train_sizes \[100\] exceed the 60 training texts"):
        compare(X_train, y_train, X_test, y_test, {"t": tfidf_lr()}, train_sizes=(10, 100), progress=False)
    with pytest.raises(ValueError, match="stratified subsample of n_train=1"):
        compare(X_train, y_train, X_test, y_test, {"t": tfidf_lr()}, train_sizes=(1,), progress=False)
    with pytest.raises(ValueError, match="non-empty dict"):
        compare(X_train, y_train, X_test, y_test, {}, progress=False)
    with pytest.raises(TypeError, match="Strategy 'v' must be a scikit-learn classifier"):
        compare(X_train, y_train, X_test, y_test, {"v": TfidfVectorizer()}, train_sizes=(10,), progress=False)
    with pytest.raises(ValueError, match="60 texts but 59 labels"):
        compare(X_train, y_train[:-1], X_test, y_test, {"t": tfidf_lr()}, train_sizes=(10,), progress=False)
    with pytest.raises(ValueError, match="must not repeat"):
        compare(X_train, y_train, X_test, y_test, {"t": tfidf_lr()}, train_sizes=(10, 10), progress=False)
    with pytest.raises(ValueError, match="seeds must be integers >= 0"):
        compare(X_train, y_train, X_test, y_test, {"t": tfidf_lr()}, train_sizes=(10,), seeds=(-1,), progress=False)
    assert FITTED == []


def test_error_score_records_failures_and_goes_on(data):
    strategies = {"broken": Recorder(fail=True), "ok": Recorder(tag="ok")}
    with pytest.raises(RuntimeError, match="told to fail"):
        compare(*data, strategies, train_sizes=(10,), seeds=(0,), progress=False)
    with pytest.warns(UserWarning, match="Strategy 'broken' failed for n_train=10, seed=0"):
        results = compare(*data, strategies, train_sizes=(10,), seeds=(0,), error_score=np.nan, progress=False)
    broken = results[results["strategy"] == "broken"].iloc[0]
    assert math.isnan(broken["accuracy"]) and math.isnan(broken["fit_seconds"])
    assert results[results["strategy"] == "ok"]["accuracy"].iloc[0] == pytest.approx(0.5)
    assert "n/a" in format_table(results)


def test_compare_needs_pandas(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"sktransfer\[compare\]"):
        compare(*data, {"t": tfidf_lr()}, train_sizes=(10,), seeds=(0,), progress=False)


# ---------------------------------------------------------------------------------------------
# summaries, tables, plot, files
# ---------------------------------------------------------------------------------------------


def fake_results():
    rows = []
    for name, base in (("zeta", 0.6), ("alpha", 0.8)):  # not alphabetical: order must be kept
        for n in (100, 10):
            for seed, delta in ((0, -0.05), (1, 0.05)):
                rows.append({"strategy": name, "n_train": n, "seed": seed, "accuracy": base + delta + n / 1000,
                             "macro_f1": base, "fit_seconds": 1.0 + seed, "predict_seconds": 0.5, "n_test": 50,
                             "best_params": None})
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def test_summarize_means_and_stds():
    summary = summarize(fake_results())
    assert list(summary["strategy"]) == ["zeta", "zeta", "alpha", "alpha"]
    assert list(summary["n_train"]) == [10, 100, 10, 100]
    row = summary.iloc[3]
    assert row["accuracy_mean"] == pytest.approx(0.9)
    assert row["accuracy_std"] == pytest.approx(np.std([0.85, 0.95], ddof=1))
    assert row["fit_seconds_mean"] == pytest.approx(1.5) and row["n_seeds"] == 2


def test_format_table_is_markdown_with_mean_and_std():
    table = format_table(fake_results())
    lines = table.splitlines()
    assert lines[0] == "| strategy | n=10 | n=100 |"
    assert lines[1] == "|---|---:|---:|"
    assert lines[2] == "| zeta | 0.610 ± 0.071 | 0.700 ± 0.071 |"
    assert lines[3] == "| alpha | 0.810 ± 0.071 | 0.900 ± 0.071 |"
    one_seed = fake_results().query("seed == 0")
    assert format_table(one_seed).splitlines()[2] == "| zeta | 0.560 | 0.650 |"
    with pytest.raises(ValueError, match="metric must be one of"):
        format_table(fake_results(), "recall")


def test_plot_learning_curve_draws_one_line_per_strategy(tmp_path):
    results = pd.concat([fake_results(), fake_results().assign(strategy=lambda d: d["strategy"] + "-random")])
    figure = plot_learning_curve(results, tmp_path / "curve.png")
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["zeta", "alpha", "zeta-random", "alpha-random"]
    lines = {c.get_label(): c.lines[0] for c in ax.containers}  # errorbar containers: (data line, caps, bars)
    assert lines["zeta-random"].get_color() == lines["zeta"].get_color()
    assert lines["zeta-random"].get_linestyle() == "--" and lines["zeta"].get_linestyle() == "-"
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_results_writes_json_markdown_and_png(data, tmp_path):
    results = compare(*data, {"tfidf": tfidf_lr(), "majority": Recorder()}, train_sizes=(10, 20), seeds=(0, 1),
                      progress=False)
    paths = write_results(results, tmp_path / "out", metadata={"dataset": "synthetic"})

    assert {p.name for p in (tmp_path / "out").iterdir()} == {"results.json", "results.md", "learning_curve.png"}
    payload = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert len(payload["records"]) == 8 and set(payload["records"][0]) == set(RESULT_COLUMNS)
    meta = payload["metadata"]
    assert meta["dataset"] == "synthetic" and meta["train_sizes"] == [10, 20] and meta["seeds"] == [0, 1]
    assert meta["versions"]["scikit-learn"] and meta["machine"]["cpu_count"]
    assert len(payload["summary"]) == 4
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| strategy | n=10 | n=20 |" in markdown
    assert format_table(results) in markdown and "learning_curve.png" in markdown
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_read_results_round_trips_write_results(data, tmp_path):
    with pytest.warns(UserWarning, match="recorder told to fail"):
        results = compare(*data, {"tfidf": tfidf_lr(), "broken": Recorder(fail=True)}, train_sizes=(10,),
                          seeds=(0, 1), progress=False, error_score=0.0)
    write_results(results, tmp_path, metadata={"dataset": "synthetic"}, plot=False)
    assert not (tmp_path / "learning_curve.png").exists()

    back = read_results(tmp_path)  # the folder or the file itself
    assert list(back.columns) == list(RESULT_COLUMNS)
    keys = ["strategy", "n_train", "seed"]
    assert back[keys].values.tolist() == results[keys].values.tolist()
    np.testing.assert_allclose(back["accuracy"], results["accuracy"])
    assert back["fit_seconds"].isna().tolist() == results["fit_seconds"].isna().tolist() == [False, True, False, True]
    assert back.attrs["metadata"]["dataset"] == "synthetic"
    assert back.attrs["compare"]["strategies"] == results.attrs["compare"]["strategies"]
    assert format_table(back) == format_table(results)


def test_read_results_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a results.json"):
        read_results(tmp_path / "results.json")


def test_previous_results_are_taken_over_and_only_missing_runs_fitted(data):
    first = compare(*data, {"a": Recorder(tag="a")}, train_sizes=(10,), seeds=(0, 1), progress=False)
    assert len(FITTED) == 2
    FITTED.clear()
    seen = []
    both = compare(*data, {"a": Recorder(tag="a"), "b": Recorder(tag="b")}, train_sizes=(10, 20), seeds=(0, 1),
                   progress=False, previous_results=first, on_result=lambda frame: seen.append(len(frame)))
    # Only the cells missing from ``first`` were fitted: b everywhere, a at n=20.
    assert sorted((tag, len(X)) for tag, _, X in FITTED) == [
        ("a", 20), ("a", 20), ("b", 10), ("b", 10), ("b", 20), ("b", 20)
    ]
    assert seen == [2, 4, 5, 6, 7, 8]  # progress after every fitted run, counting the taken-over rows
    assert both[["strategy", "n_train", "seed"]].values.tolist() == [
        [s, n, seed] for n in (10, 20) for seed in (0, 1) for s in ("a", "b")
    ]
    taken = both[(both["strategy"] == "a") & (both["n_train"] == 10)].reset_index(drop=True)
    pd.testing.assert_frame_equal(taken, first.reset_index(drop=True), check_dtype=False)


def test_previous_results_on_another_test_set_are_refused(data):
    X_train, y_train, X_test, y_test = data
    first = compare(*data, {"a": Recorder()}, train_sizes=(10,), seeds=(0,), progress=False)
    with pytest.raises(ValueError, match="n_test: 20 then, 10 now"):
        compare(X_train, y_train, X_test[:10], y_test[:10], {"a": Recorder()}, train_sizes=(10,), seeds=(0,),
                progress=False, previous_results=first)
    with pytest.raises(ValueError, match="lacks the columns"):
        compare(*data, {"a": Recorder()}, train_sizes=(10,), seeds=(0,), progress=False,
                previous_results=first[["strategy", "n_train", "seed", "accuracy"]])


# ---------------------------------------------------------------------------------------------
# default strategies
# ---------------------------------------------------------------------------------------------


def test_default_strategies_with_elmo_files(elmo_files):
    strategies = default_strategies(quick=True, elmo_files=elmo_files, bert_model="some/bert")
    assert list(strategies) == list(DEFAULT_STRATEGY_NAMES)
    assert strategies["elmo-lr"].steps[0][1].options_file == elmo_files[0]
    for name in ("elmo-lr", "bert-lr", "bert-finetune"):
        assert strategies[name].get_params()  # plain sklearn estimators
        twin = strategies[f"{name}-random"]
        flag = {k: v for k, v in twin.get_params(deep=True).items() if k.endswith("pretrained")}
        assert list(flag.values()) == [False]
        flag = {k: v for k, v in strategies[name].get_params(deep=True).items() if k.endswith("pretrained")}
        assert list(flag.values()) == [True]
    finetune = strategies["bert-finetune"]
    assert (finetune.max_length, finetune.max_epochs, finetune.model_name_or_path) == (128, 3, "some/bert")
    assert strategies["bert-lr"].steps[0][1].max_length == 128
    assert strategies["elmo-lr"].steps[0][1].max_tokens == 128
    full = default_strategies(names=["bert-finetune"])
    assert full["bert-finetune"].max_epochs == 3 and full["bert-finetune"].max_length == 256


def test_default_strategies_skip_elmo_with_a_message(monkeypatch):
    monkeypatch.setattr(registry, "elmo_unavailable_reason", lambda files: "no ELMo model here")
    with pytest.warns(
        UserWarning,
        match=r"Skipping the ELMo strategies \['elmo-lr', 'elmo-lr-random', 'elmo-head-mlp', 'elmo-head-bilstm', "
              r"'elmo-embed-head-mlp'\]: no ELMo model here",
    ):
        strategies = default_strategies()
    # The heads on random trainable embeddings need no ELMo model: they stay.
    assert list(strategies) == [n for n in DEFAULT_STRATEGY_NAMES if not n.startswith("elmo")]
    assert {"embed-head-mlp", "embed-head-bilstm"} <= set(strategies)
    with pytest.raises(ValueError, match="Cannot build \\['elmo-lr'\\]: no ELMo model here"):
        default_strategies(names=["elmo-lr"])


def test_elmo_unavailable_reason(elmo_files, tmp_path):
    assert cmp.elmo_unavailable_reason is registry.elmo_unavailable_reason  # still importable from compare
    assert cmp.elmo_unavailable_reason(elmo_files) is None
    reason = cmp.elmo_unavailable_reason((str(tmp_path / "nope.json"), elmo_files[1]))
    assert "nope.json" in reason and "--elmo-options" in reason


def test_default_strategy_names_are_checked():
    with pytest.raises(ValueError, match=r"Unknown strategy name\(s\) \['bert'\]"):
        default_strategies(names=["tfidf-lr", "bert"])
    assert list(default_strategies(names=["bert-lr", "tfidf-lr"])) == ["bert-lr", "tfidf-lr"]


def test_cache_is_passed_only_to_vectorizers_that_support_it(tmp_path):
    class WithCache(BaseEstimator):
        def __init__(self, cache=None):
            self.cache = cache

    class WithoutCache(BaseEstimator):
        def __init__(self, pooling="mean"):
            self.pooling = pooling

    assert registry._vectorizer_kwargs(WithCache, str(tmp_path)) == {"cache": str(tmp_path)}
    with pytest.warns(UserWarning, match="WithoutCache has no 'cache' parameter"):
        assert registry._vectorizer_kwargs(WithoutCache, str(tmp_path)) == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert registry._vectorizer_kwargs(WithoutCache, None) == {}


def test_default_elmo_strategies_run(data, elmo_files):
    strategies = default_strategies(names=["elmo-lr", "elmo-lr-random"], elmo_files=elmo_files, max_length=16)
    results = compare(*data, strategies, train_sizes=(20,), seeds=(0,), progress=False)
    assert list(results["strategy"]) == ["elmo-lr", "elmo-lr-random"]
    assert results["accuracy"].between(0, 1).all()


def test_default_strategies_quick_reads_the_one_quick_profile(monkeypatch):
    # The quick profile is defined once: default_strategies(quick=True) and ``sktransfer compare
    # --quick`` both read it (default_strategies used to hard-code max_length=128 for quick).
    quick = registry.PROFILES["quick"]
    monkeypatch.setitem(registry.PROFILES, "quick", registry.Profile(
        train_sizes=quick.train_sizes, seeds=quick.seeds, n_test=quick.n_test, max_length=96, epochs=2))
    built = default_strategies(quick=True, names=["bert-lr", "bert-finetune"])
    assert built["bert-lr"].steps[0][1].max_length == 96
    assert (built["bert-finetune"].max_length, built["bert-finetune"].max_epochs) == (96, 2)
    explicit = default_strategies(quick=True, names=["bert-finetune"], max_length=300, epochs=5)
    assert (explicit["bert-finetune"].max_length, explicit["bert-finetune"].max_epochs) == (300, 5)
    assert default_strategies(names=["bert-finetune"])["bert-finetune"].max_length == 256


def test_elmo_files_must_be_a_pair():
    with pytest.raises(ValueError, match=r"elmo_files must be \(options_file, weight_file\), got \('a.json',\)"):
        default_strategies(names=["tfidf-lr"], elmo_files=("a.json",))


def test_training_history_is_read_from_the_estimator_a_pipeline_or_a_search():
    history = [{"epoch": 1, "train_loss": 0.7, "valid_loss": 0.6, "valid_acc": 0.5, "dur": 1.5, "batches": []}]

    class Trained(Recorder):
        history_ = history

    expected = [{"epoch": 1, "train_loss": 0.7, "valid_loss": 0.6, "valid_acc": 0.5, "dur": 1.5}]
    assert cmp.training_history(Trained()) == expected  # only HISTORY_KEYS, plain numbers
    assert cmp.training_history(make_pipeline(TfidfVectorizer(), Trained())) == expected
    search = GridSearchCV(Trained(), {"C": [1.0]})
    search.best_estimator_ = Trained()
    assert cmp.training_history(search) == expected
    assert cmp.training_history(Recorder()) is None and cmp.training_history(tfidf_lr()) is None


def test_compare_records_the_per_epoch_history_of_heads(data, elmo_files):
    from sktransfer import ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder

    X_train, y_train, X_test, y_test = data
    heads = {
        "elmo-head": FeatureHeadClassifier(ELMoVectorizer(*elmo_files), head="mlp", max_epochs=3,
                                           validation_fraction=0.25),
        "embed-head": FeatureHeadClassifier(WordEmbeddingEncoder(min_count=1), head="bilstm", max_epochs=2,
                                            validation_fraction=0.25),
        "tfidf-lr": tfidf_lr(),
    }
    results = compare(X_train, y_train, X_test, y_test, heads, train_sizes=(16,), seeds=(0, 1), progress=False)
    by_name = {name: rows["history"].tolist() for name, rows in results.groupby("strategy")}
    assert by_name["tfidf-lr"] == [None, None]
    for name, epochs in (("elmo-head", 3), ("embed-head", 2)):
        for history in by_name[name]:
            assert [e["epoch"] for e in history] == list(range(1, len(history) + 1)) and len(history) <= epochs
            assert set(history[0]) == {"epoch", "train_loss", "valid_loss", "valid_acc", "dur"}
            assert all(0.0 <= e["valid_acc"] <= 1.0 and e["valid_loss"] > 0 for e in history)
