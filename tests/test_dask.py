"""Scale-out on dask: sklearn model selection under joblib's dask backend, and bulk embedding.

A real ``LocalCluster`` (two worker processes, loopback only) runs the work, so pickling,
per-process model loading and the shared feature cache are exercised as on a real cluster.
Counters are installed in the worker processes themselves (``client.run``), since a
monkeypatch in the test process does not reach them.
"""

import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sktransfer import BertVectorizer, FeatureHeadClassifier
from sktransfer.exceptions import MissingDependencyError
from tests.conftest import NEGATIVE, POSITIVE, TINY_WORDS

distributed = pytest.importorskip("distributed", reason="install sktransfer[dask] for the dask tests")
db = pytest.importorskip("dask.bag", reason="install sktransfer[dask] for the dask tests")

TIMEOUT = 120  # seconds for any one computation: a hung cluster fails the test instead of CI


@pytest.fixture(scope="module")
def client():
    """A client of a 2-process LocalCluster on 127.0.0.1, closed after the module."""
    import logging

    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    except Exception as exc:  # no loopback networking, no process spawning, ...
        pytest.skip(f"dask could not start a LocalCluster on 127.0.0.1: {type(exc).__name__}: {exc}")
    client = distributed.Client(cluster, timeout=60)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close()
        cluster.close()


# -- counters inside the worker processes -------------------------------------------------------
# These functions run in the workers; they reach them by value (cloudpickle), not by import.
def _install_counters():
    import sktransfer.bert_vectorizer as bv

    if not hasattr(bv, "_test_counts"):
        bv._test_counts = {"loads": 0, "embedded": 0}
        load, embed = bv.load_encoder, bv.BertVectorizer._embed_units

        def counting_load(*args, **kwargs):
            bv._test_counts["loads"] += 1
            return load(*args, **kwargs)

        def counting_embed(self, texts):
            bv._test_counts["embedded"] += len(texts)
            return embed(self, texts)

        bv.load_encoder = counting_load
        bv.BertVectorizer._embed_units = counting_embed
    import sktransfer

    return sktransfer.__file__


def _read_counters():
    import sktransfer.bert_vectorizer as bv

    return dict(bv._test_counts)


@pytest.fixture(scope="module")
def counted_client(client):
    import cloudpickle

    import sktransfer

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        where = client.run(_install_counters)
        # The workers must run this checkout's sktransfer, not another installed copy.
        assert set(where.values()) == {sktransfer.__file__}
        yield client
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _forget_models():
    import sktransfer.dask
    from sktransfer import _model_memo

    _model_memo.clear()
    sktransfer.dask._fitted.clear()


def counts(client):
    """Per worker: (models loaded, texts embedded) since the counters were installed."""
    return {worker: (c["loads"], c["embedded"]) for worker, c in client.run(_read_counters).items()}


# -- model selection under joblib's dask backend -----------------------------------------------------
X_TRAIN = POSITIVE + NEGATIVE
Y_TRAIN = ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)


def test_grid_search_on_dask_equals_n_jobs_1(client, tiny_bert):
    pipe = make_pipeline(BertVectorizer(tiny_bert, batch_size=4), LogisticRegression(max_iter=200))
    grid = {"bertvectorizer__pooling": ["mean", "cls"], "logisticregression__C": [0.1, 10.0]}
    cv = KFold(4, shuffle=True, random_state=0)
    serial = GridSearchCV(pipe, grid, cv=cv, n_jobs=1, scoring="neg_log_loss").fit(X_TRAIN, Y_TRAIN)
    with joblib.parallel_backend("dask", wait_for_workers_timeout=60):
        spread = GridSearchCV(pipe, grid, cv=cv, n_jobs=-1, scoring="neg_log_loss").fit(X_TRAIN, Y_TRAIN)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_allclose(spread.cv_results_[key], serial.cv_results_[key], rtol=1e-5, atol=1e-6)
    assert spread.best_params_ == serial.best_params_
    np.testing.assert_allclose(spread.predict_proba(X_TRAIN), serial.predict_proba(X_TRAIN), atol=1e-6)


def test_cross_val_score_of_a_feature_head_on_dask_equals_n_jobs_1(client, tiny_bert):
    clf = FeatureHeadClassifier(
        BertVectorizer(tiny_bert, batch_size=4, layers=[-2, -1]), head="mlp", hidden_size=8, max_epochs=3,
        batch_size=4, random_state=0,
    )
    cv = KFold(4, shuffle=True, random_state=0)
    serial = cross_val_score(clf, X_TRAIN, Y_TRAIN, cv=cv, n_jobs=1, scoring="neg_log_loss")
    with joblib.parallel_backend("dask", wait_for_workers_timeout=60):
        spread = cross_val_score(clf, X_TRAIN, Y_TRAIN, cv=cv, n_jobs=-1, scoring="neg_log_loss")
    # Training in another process (one torch thread there) may change float sums in the last bits.
    np.testing.assert_allclose(spread, serial, rtol=1e-4, atol=1e-5)
    assert len(set(np.round(serial, 4))) > 1  # the folds differ: the comparison is not trivial


# -- bulk embedding ---------------------------------------------------------------------------------
def corpus(n, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(TINY_WORDS, size=rng.integers(1, 12))) + f" {i}" for i in range(n)]


def test_embed_partitions_one_load_per_worker_rows_in_order_and_cache_reused(counted_client, tiny_bert, tmp_path):
    from sktransfer.dask import embed_partitions

    texts = corpus(3000)
    # float32: the workers' batches differ from the local one, and bfloat16 ("auto" with AMX) is not that exact.
    vectorizer = BertVectorizer(tiny_bert, batch_size=64, cache=str(tmp_path / "cache"), precision="float32")
    bag = db.from_sequence(texts, npartitions=12)
    counted_client.run(_forget_models)  # earlier tests of this module loaded the same model
    before = counts(counted_client)

    first = embed_partitions(bag, vectorizer).compute(timeout=TIMEOUT)
    after = counts(counted_client)
    loads = {w: after[w][0] - before[w][0] for w in after}
    embedded = {w: after[w][1] - before[w][1] for w in after}
    assert first.shape == (3000, 32) and first.dtype == np.float32
    assert sum(embedded.values()) == 3000  # each text once
    assert all(n > 0 for n in embedded.values())  # both workers took part ...
    assert list(loads.values()) == [1, 1]  # ... and each loaded the model once, for 6 partitions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = BertVectorizer(tiny_bert, batch_size=64, precision="float32").fit(texts[:1]).transform(texts)
    np.testing.assert_allclose(first, expected, atol=1e-5)  # in order

    # Second run, other partitions: every vector comes from the shared cache, no model work.
    again = embed_partitions(db.from_sequence(texts, npartitions=5), vectorizer).compute(timeout=TIMEOUT)
    assert counts(counted_client) == after
    np.testing.assert_array_equal(again, first)
    assert list((tmp_path / "cache").rglob("*.npz"))


def test_embed_partition_handles_an_empty_partition(tiny_bert):
    from sktransfer.dask import embed_partition

    vectorizer = BertVectorizer(tiny_bert)
    assert embed_partition(vectorizer, []).shape == (0, 32)
    np.testing.assert_allclose(
        embed_partition(vectorizer, ["a good film"]), BertVectorizer(tiny_bert).fit(["x"]).transform(["a good film"]),
        atol=1e-6,
    )


def test_embed_partitions_rejects_a_plain_list(tiny_bert):
    from sktransfer.dask import embed_partitions

    with pytest.raises(TypeError, match="dask.bag.from_sequence"):
        embed_partitions(["a text"], BertVectorizer(tiny_bert))


def test_embed_partitions_names_the_extra_when_dask_is_missing(monkeypatch, tiny_bert):
    from sktransfer.dask import embed_partitions

    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"sktransfer\[dask\]"):
        embed_partitions(["a text"], BertVectorizer(tiny_bert))
