import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import BertVectorizer, ELMoVectorizer
from sktransfer.cache import FeatureCache, resolve_cache_location, text_key

TEXTS = ["a great film", "a terrible film", "the plot was boring", "wonderful acting", "a great film"]


class CountingCalls:
    """Wraps an estimator's _embed_units to count how many texts the model really embedded."""

    def __init__(self, est):
        self.n_texts = 0
        original = est._embed_units

        def counted(units):
            self.n_texts += len(units)
            return original(units)

        est._embed_units = counted


def shard_files(root):
    return sorted(Path(root).rglob("*.npz"))


def test_second_call_reads_the_cache(tiny_bert, tmp_path):
    plain = BertVectorizer(tiny_bert).fit_transform(TEXTS)
    vec = BertVectorizer(tiny_bert, cache=str(tmp_path)).fit(TEXTS)
    calls = CountingCalls(vec)
    first = vec.transform(TEXTS)
    assert calls.n_texts == 4  # the repeated text is embedded once
    second = vec.transform(TEXTS[::-1])
    assert calls.n_texts == 4, "nothing should be recomputed"
    np.testing.assert_allclose(first, plain, atol=1e-6)
    np.testing.assert_array_equal(second, first[::-1])
    assert len(shard_files(tmp_path)) == 1
    with np.load(shard_files(tmp_path)[0], allow_pickle=False) as data:  # never a pickle
        assert data["vectors"].shape == (4, 32)  # the repeated text is stored once


def test_only_missing_texts_are_computed(tiny_bert, tmp_path):
    vec = BertVectorizer(tiny_bert, cache=tmp_path).fit(TEXTS)
    vec.transform(TEXTS[:2])
    calls = CountingCalls(vec)
    out = vec.transform(TEXTS)
    assert calls.n_texts == 2  # TEXTS[4] repeats the cached TEXTS[0]
    np.testing.assert_allclose(out, BertVectorizer(tiny_bert).fit_transform(TEXTS), atol=1e-6)


@pytest.mark.parametrize(
    "change",
    [
        {"pooling": "max"},
        {"layers": 0},
        {"normalize": True},
        {"max_length": 3},
        {"pretrained": False, "random_state": 0},
    ],
)
def test_output_changing_settings_never_get_stale_vectors(tiny_bert, tmp_path, change):
    BertVectorizer(tiny_bert, cache=tmp_path).fit_transform(TEXTS)
    changed = BertVectorizer(tiny_bert, cache=tmp_path, **change).fit(TEXTS)
    calls = CountingCalls(changed)
    out = changed.transform(TEXTS)
    assert calls.n_texts == 4, "another setting must recompute every distinct text"
    expected = BertVectorizer(tiny_bert, **change).fit_transform(TEXTS)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    # The changed setting's vectors were stored under their own key: the next run reads them.
    again = BertVectorizer(tiny_bert, cache=tmp_path, **change).fit(TEXTS)
    calls = CountingCalls(again)
    np.testing.assert_array_equal(again.transform(TEXTS), out)
    assert calls.n_texts == 0


def test_set_params_after_fit_is_honoured(tiny_bert, tmp_path):
    vec = BertVectorizer(tiny_bert, cache=tmp_path).fit(TEXTS)
    mean = vec.transform(TEXTS)
    calls = CountingCalls(vec)
    vec.set_params(pooling="max")
    maxed = vec.transform(TEXTS)
    assert calls.n_texts == 4, "the new pooling must be computed, not read from the mean's entries"
    assert np.abs(mean - maxed).max() > 1e-3
    np.testing.assert_allclose(maxed, BertVectorizer(tiny_bert, pooling="max").fit_transform(TEXTS), atol=1e-6)
    vec.set_params(pooling="mean")
    np.testing.assert_array_equal(vec.transform(TEXTS), mean)
    assert calls.n_texts == 4, "the mean vectors are still cached"


def test_model_rewritten_on_disk_is_recomputed(tmp_path, rewrite_tiny_bert, fresh_model_memo):
    model = rewrite_tiny_bert(tmp_path / "model", seed=1)
    old = BertVectorizer(model, cache=tmp_path / "cache").fit_transform(TEXTS)
    unchanged = BertVectorizer(model, cache=tmp_path / "cache").fit(TEXTS)
    calls = CountingCalls(unchanged)
    np.testing.assert_array_equal(unchanged.transform(TEXTS), old)
    assert calls.n_texts == 0, "while the model is unchanged its vectors are read back"
    rewrite_tiny_bert(model, seed=2)  # new weights at the same path
    vec = BertVectorizer(model, cache=tmp_path / "cache").fit(TEXTS)
    calls = CountingCalls(vec)
    new = vec.transform(TEXTS)
    assert calls.n_texts == 4, "vectors of the old weights must not be served"
    twin = BertVectorizer(rewrite_tiny_bert(tmp_path / "twin", seed=2)).fit_transform(TEXTS)
    np.testing.assert_allclose(new, twin, atol=1e-6)
    assert np.abs(new - old).max() > 1e-3


def test_corrupt_shard_is_detected_and_recomputed(tiny_bert, tmp_path):
    vec = BertVectorizer(tiny_bert, cache=tmp_path).fit(TEXTS)
    good = vec.transform(TEXTS)
    shard = shard_files(tmp_path)[0]
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))
    calls = CountingCalls(vec)
    with pytest.warns(RuntimeWarning, match="corrupt feature-cache file"):
        again = vec.transform(TEXTS)
    assert calls.n_texts == 4
    np.testing.assert_allclose(again, good, atol=1e-6)


def test_tampered_values_fail_the_checksum(tmp_path):
    store = FeatureCache(tmp_path, "ns", 2)
    keys = [text_key(["a"]), text_key(["b"])]
    store.put_many(keys, np.ones((2, 2), dtype=np.float32))
    shard = shard_files(tmp_path)[0]
    with np.load(shard) as data:
        arrays = dict(data)
    arrays["vectors"] = arrays["vectors"] * 2  # valid file, wrong numbers
    np.savez(shard, **arrays)
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert store.get_many(keys) == {}


def test_keys_with_trailing_zero_bytes_round_trip(tmp_path):
    store = FeatureCache(tmp_path, "ns", 1)
    key = b"\x01" * 31 + b"\x00"
    store.put_many([key], np.array([[3.0]], dtype=np.float32))
    assert store.get_many([key])[key][0] == 3.0


def _fill(tiny_bert, root, texts):
    return BertVectorizer(tiny_bert, cache=root).fit(texts).transform(texts)


def test_concurrent_writers(tiny_bert, tmp_path):
    batches = [TEXTS[:3], TEXTS[1:], TEXTS, TEXTS[::-1]]
    results = joblib.Parallel(n_jobs=2)(joblib.delayed(_fill)(tiny_bert, str(tmp_path), b) for b in batches)
    reference = BertVectorizer(tiny_bert).fit_transform(TEXTS)
    for batch, out in zip(batches, results):
        expected = reference[[TEXTS.index(t) for t in batch]]
        np.testing.assert_allclose(out, expected, atol=1e-6)
    vec = BertVectorizer(tiny_bert, cache=tmp_path).fit(TEXTS)
    calls = CountingCalls(vec)
    np.testing.assert_allclose(vec.transform(TEXTS), reference, atol=1e-6)
    assert calls.n_texts == 0
    assert not list(Path(tmp_path).rglob("*.tmp"))


def test_joblib_memory_and_none(tiny_bert, tmp_path):
    memory = joblib.Memory(str(tmp_path), verbose=0)
    assert resolve_cache_location(memory) == tmp_path / "sktransfer-features"
    assert resolve_cache_location(joblib.Memory(None)) is None
    BertVectorizer(tiny_bert, cache=memory).fit_transform(TEXTS)
    assert shard_files(tmp_path)
    with pytest.raises(TypeError, match="'cache' parameter of BertVectorizer must be"):
        BertVectorizer(tiny_bert, cache=3).fit_transform(TEXTS)


def test_cached_estimator_clones_pickles_and_grid_searches(tiny_bert, tmp_path, sentiment_texts):
    X, y = sentiment_texts
    vec = BertVectorizer(tiny_bert, cache=str(tmp_path))
    assert clone(vec).get_params()["cache"] == str(tmp_path)
    fitted = pickle.loads(pickle.dumps(vec.fit(X)))
    np.testing.assert_allclose(fitted.transform(X), vec.transform(X), atol=1e-6)
    search = GridSearchCV(
        make_pipeline(vec, LogisticRegression()), {"logisticregression__C": [0.1, 1.0]}, cv=2, n_jobs=2
    )
    search.fit(X, y)
    assert np.isfinite(search.best_score_)


def test_elmo_cache_keys_on_tokens(elmo_files, tmp_path):
    texts = ["I don't like it.", "A great film!", ""]
    with pytest.warns(UserWarning):
        plain = ELMoVectorizer(*elmo_files).fit_transform(texts)
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(texts)
    with pytest.warns(UserWarning):
        first = vec.transform(texts)
    calls = CountingCalls(vec)
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(vec.transform(texts), first)
    assert calls.n_texts == 0
    np.testing.assert_allclose(first, plain, atol=1e-6)
    split = ELMoVectorizer(*elmo_files, cache=tmp_path, tokenizer=str.split).fit(texts)
    calls = CountingCalls(split)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(
            split.transform(texts), ELMoVectorizer(*elmo_files, tokenizer=str.split).fit_transform(texts), atol=1e-6
        )
    assert calls.n_texts == 2, "str.split gives both texts other tokens; the empty text's entry is reused"
    mixed = ELMoVectorizer(*elmo_files, cache=tmp_path, layers=[0.0, 0.0, 1.0]).fit(texts)
    calls = CountingCalls(mixed)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(
            mixed.transform(texts), ELMoVectorizer(*elmo_files, layers=2).fit_transform(texts), atol=1e-6
        )
    assert calls.n_texts == 3, "another layer mix must recompute every text"


def test_tokenizer_fingerprint_tells_tokenizers_apart(tiny_bert, tmp_path):
    import json
    import shutil

    from sktransfer._model_memo import tokenizer_fingerprint
    from sktransfer.hf import load_tokenizer

    cased = tmp_path / "cased"
    shutil.copytree(tiny_bert, cased)
    (cased / "tokenizer.json").unlink()  # rebuilt from vocab.txt + tokenizer_config.json
    config = json.loads((cased / "tokenizer_config.json").read_text())
    (cased / "tokenizer_config.json").write_text(json.dumps({**config, "do_lower_case": False}))
    same = tokenizer_fingerprint(load_tokenizer(tiny_bert)) == tokenizer_fingerprint(load_tokenizer(tiny_bert))
    assert same
    assert tokenizer_fingerprint(load_tokenizer(tiny_bert)) != tokenizer_fingerprint(load_tokenizer(str(cased)))
    # The same weights with another tokenizer never read the first one's vectors.
    BertVectorizer(tiny_bert, cache=tmp_path / "c").fit_transform(["A Great Film"])
    other = BertVectorizer(str(cased), cache=tmp_path / "c").fit(["x"])
    calls = CountingCalls(other)
    other.transform(["A Great Film"])
    assert calls.n_texts == 1
