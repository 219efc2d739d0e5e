import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sktransfer import BertVectorizer, ELMoVectorizer
from sktransfer._base import TokenMemoryError
from sktransfer.cache import FeatureCache, TokenFeatureCache, resolve_cache_location, text_key
from sktransfer.exceptions import CacheWriteWarning, EmptyTextWarning

TEXTS = ["a great film", "a terrible film", "the plot was boring", "wonderful acting", "a great film"]


class CountingCalls:
    """Wraps an estimator's _embed_units (or ``method``) to count how many texts the model really embedded."""

    def __init__(self, est, method="_embed_units"):
        self.n_texts = 0
        original = getattr(est, method)

        def counted(units, *args):
            self.n_texts += len(units)
            return original(units, *args)

        setattr(est, method, counted)


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
        {"max_length": 4, "truncation": "tail"},
        {"max_length": 4, "truncation": "chunks"},
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


# -- token-level entries (transform_tokens) ------------------------------------------------------
TOKEN_TEXTS = ["I don't like it.", "A great film!", "", "the plot was boring", "A great film!"]


def rewrite_shard(shard, **changes):
    """Rewrite a shard as a valid .npz whose arrays ``name`` are replaced by ``changes[name](array)``."""
    with np.load(shard, allow_pickle=False) as data:
        arrays = dict(data)
    np.savez(shard, **{name: changes[name](array) if name in changes else array for name, array in arrays.items()})


def counting_tokens(vec):
    return CountingCalls(vec, "_embed_token_units")


def elmo_tokens(elmo_files, texts, **params):
    return quiet_tokens(ELMoVectorizer(*elmo_files, **params).fit(texts), texts)


def quiet_tokens(vec, texts, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyTextWarning)
        return vec.transform_tokens(texts, **kwargs)


def test_token_vectors_second_call_computes_nothing(elmo_files, tmp_path):
    plain = elmo_tokens(elmo_files, TOKEN_TEXTS)
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    calls = counting_tokens(vec)
    first = quiet_tokens(vec, TOKEN_TEXTS)
    assert calls.n_texts == 4, "the repeated text is embedded once"
    second = quiet_tokens(vec, TOKEN_TEXTS[::-1])
    assert calls.n_texts == 4, "nothing should be recomputed"
    assert [rows.shape for rows in first] == [rows.shape for rows in plain]
    assert first[2].shape == (0, 3, 32)
    for cached, uncached in zip(first, plain):
        assert cached.dtype == np.float32
        np.testing.assert_allclose(cached, uncached, atol=1e-6)
    for back, forth in zip(second, first[::-1]):  # input order, whatever the cache's order
        np.testing.assert_array_equal(back, forth)
    # float16 entries are their own: computed once, within float16 rounding of the float32 ones.
    half = quiet_tokens(vec, TOKEN_TEXTS, dtype=np.float16)
    assert calls.n_texts == 8
    for rows, full in zip(half, plain):
        assert rows.dtype == np.float16
        np.testing.assert_allclose(rows.astype(np.float32), full, rtol=1e-3, atol=1e-3)
    again = quiet_tokens(vec, TOKEN_TEXTS, dtype=np.float16)
    assert calls.n_texts == 8
    for rows, before in zip(again, half):
        np.testing.assert_array_equal(rows, before)


def test_token_shards_are_plain_checksummed_arrays(elmo_files, tmp_path):
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    tokens = quiet_tokens(vec, TOKEN_TEXTS, dtype=np.float16)
    (shard,) = shard_files(tmp_path)
    with np.load(shard, allow_pickle=False) as data:  # never a pickle
        assert sorted(data.files) == ["checksum", "data", "keys", "lengths"]
        assert data["keys"].shape == (4, 32) and data["keys"].dtype == np.uint8
        assert data["lengths"].dtype == np.int64
        assert sorted(data["lengths"].tolist()) == sorted(len(rows) for rows in tokens[:4])
        assert data["data"].dtype == np.float16 and data["data"].shape == (sum(len(r) for r in tokens[:4]), 3, 32)
        assert data["checksum"].shape == (32,)


def test_pooled_and_token_entries_never_collide(elmo_files, tmp_path):
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    with pytest.warns(EmptyTextWarning):
        vec.transform(TOKEN_TEXTS)
    calls = counting_tokens(vec)
    quiet_tokens(vec, TOKEN_TEXTS)
    assert calls.n_texts == 4, "pooled entries must never be served as token vectors"
    assert len({path.parent for path in shard_files(tmp_path)}) == 2


@pytest.mark.parametrize(
    "change, layers",
    [
        ({"layers": 2}, [2]),
        ({"layers": [0.0, 0.5, 0.5]}, [1, 2]),
        ({"pretrained": False, "random_state": 0}, [0, 1, 2]),
    ],
)
def test_token_layer_selection_or_model_change_recomputes(elmo_files, tmp_path, change, layers):
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    quiet_tokens(vec, TOKEN_TEXTS)
    changed = ELMoVectorizer(*elmo_files, cache=tmp_path, **change).fit(TOKEN_TEXTS)
    calls = counting_tokens(changed)
    out = quiet_tokens(changed, TOKEN_TEXTS)
    assert calls.n_texts == 4, "another layer selection or model must recompute every distinct text"
    expected = elmo_tokens(elmo_files, TOKEN_TEXTS, **{k: v for k, v in change.items() if k != "layers"})
    for rows, full in zip(out, expected):
        assert rows.shape[1] == len(layers)
        np.testing.assert_allclose(rows, full[:, layers], atol=1e-6)
    again = ELMoVectorizer(*elmo_files, cache=tmp_path, **change).fit(TOKEN_TEXTS)
    calls = counting_tokens(again)
    for rows, before in zip(quiet_tokens(again, TOKEN_TEXTS), out):
        np.testing.assert_array_equal(rows, before)
    assert calls.n_texts == 0, "the changed setting's entries are stored under their own namespace"


def test_bert_token_vectors_are_cached_per_layer_selection(tiny_bert, tmp_path):
    plain = BertVectorizer(tiny_bert, layers=[0, 2]).fit(TEXTS).transform_tokens(TEXTS)
    vec = BertVectorizer(tiny_bert, layers=[0, 2], cache=tmp_path).fit(TEXTS)
    calls = counting_tokens(vec)
    first = vec.transform_tokens(TEXTS)
    assert calls.n_texts == 4
    for cached, uncached in zip(first, plain):
        np.testing.assert_allclose(cached, uncached, atol=1e-5)
    vec.transform_tokens(TEXTS)
    assert calls.n_texts == 4
    vec.set_params(layers=-1)  # after fit: honoured, never served the two-layer entries
    last = vec.transform_tokens(TEXTS)
    assert calls.n_texts == 8
    for rows, both in zip(last, first):
        np.testing.assert_allclose(rows[:, 0], both[:, 1], atol=1e-5)


def test_corrupt_token_shard_is_ignored_and_recomputed(elmo_files, tmp_path):
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    good = quiet_tokens(vec, TOKEN_TEXTS)
    (shard,) = shard_files(tmp_path)
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    shard.write_bytes(bytes(raw))
    calls = counting_tokens(vec)
    with pytest.warns(RuntimeWarning, match="corrupt feature-cache file"):
        again = quiet_tokens(vec, TOKEN_TEXTS)
    assert calls.n_texts == 4
    assert shard not in shard_files(tmp_path), "the corrupt shard is removed"
    for rows, before in zip(again, good):
        np.testing.assert_allclose(rows, before, atol=1e-6)


def test_token_memory_bound_applies_to_cached_vectors(elmo_files, tmp_path):
    vec = ELMoVectorizer(*elmo_files, cache=tmp_path).fit(TOKEN_TEXTS)
    quiet_tokens(vec, TOKEN_TEXTS)
    calls = counting_tokens(vec)
    with pytest.raises(TokenMemoryError, match="more than the limit"):
        quiet_tokens(vec, TOKEN_TEXTS, max_bytes=100)
    assert calls.n_texts == 0


def test_token_cache_tampered_values_and_wrong_shapes(tmp_path):
    store = TokenFeatureCache(tmp_path, "ns", 2, 3, np.float16)
    keys = [text_key(["a"]), text_key(["b", "c"])]
    values = [np.ones((1, 2, 3), dtype=np.float32), np.arange(12, dtype=np.float32).reshape(2, 2, 3)]
    store.put_many(keys, values)
    found = store.get_many(keys[::-1])
    assert found[keys[0]].dtype == np.float16
    np.testing.assert_array_equal(found[keys[1]], values[1])
    with pytest.raises(ValueError, match=r"of shape \(n_tokens, 2, 3\), got 1 arrays, one of shape \(1, 3, 3\)"):
        store.put_many([text_key(["d"])], [np.ones((1, 3, 3))])
    (shard,) = shard_files(tmp_path)
    rewrite_shard(shard, data=lambda data: data * 2)  # valid file, wrong numbers
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert store.get_many(keys) == {}


def test_token_cache_reads_only_the_shards_it_needs(tmp_path, monkeypatch):
    monkeypatch.setattr(TokenFeatureCache, "_SHARD_BYTES", 1)  # one entry per shard
    store = TokenFeatureCache(tmp_path, "ns", 1, 2, np.float32)
    keys = [text_key([word]) for word in "abc"]
    store.put_many(keys, [np.full((i + 1, 1, 2), i, dtype=np.float32) for i in range(3)])
    shards = shard_files(tmp_path)
    assert len(shards) == 3
    # Spoil the data of the shards that hold other keys: a lookup of "b" must not even read it.
    wanted = None
    for shard in shards:
        with np.load(shard) as data:
            holds_b = data["keys"][0].tobytes() == keys[1]
        if holds_b:
            wanted = shard
        else:
            rewrite_shard(shard, data=lambda data: data + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = store.get_many([keys[1], text_key(["absent"])])  # an absent key: every shard is looked at
    np.testing.assert_array_equal(found[keys[1]], np.ones((2, 1, 2)))
    assert shard_files(tmp_path) == shards and wanted in shards


# -- faults: where the cache cannot be used ---------------------------------------------------------


def test_cache_location_that_is_a_file_is_a_clear_error(tiny_bert, tmp_path):
    location = tmp_path / "features.npz"
    location.write_bytes(b"not a folder")
    vec = BertVectorizer(tiny_bert, cache=location).fit(TEXTS)
    with pytest.raises(NotADirectoryError, match=r"features\.npz is a file, not a folder.*cache=None"):
        vec.transform(TEXTS)


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device"),
        PermissionError(13, "Permission denied"),
        OSError(30, "Read-only file system"),
    ],
    ids=["disk-full", "read-only-folder", "read-only-filesystem"],
)
def test_unwritable_cache_computes_warns_and_leaves_nothing(tiny_bert, tmp_path, monkeypatch, error):
    # Simulated at the write itself: the tests may run as root, for whom chmod does not bite.
    def failing_savez(*args, **kwargs):
        raise error

    reference = BertVectorizer(tiny_bert).fit_transform(TEXTS)
    vec = BertVectorizer(tiny_bert, cache=tmp_path).fit(TEXTS)
    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.warns(CacheWriteWarning, match=r"Could not write to the feature cache .*not stored"):
        out = vec.transform(TEXTS)
    np.testing.assert_allclose(out, reference, atol=1e-6)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no temporary file left behind
    monkeypatch.undo()
    calls = CountingCalls(vec)
    vec.transform(TEXTS)  # writable again: computed and stored now
    assert calls.n_texts == 4 and shard_files(tmp_path)


_KILLED_WRITER = """
import sys, numpy as np
from sktransfer.cache import FeatureCache, text_key
store = FeatureCache(sys.argv[1], "ns", 512)
for i in range(10**6):
    keys = [text_key(f"{i} {j}") for j in range(4096)]
    store.put_many(keys, np.full((4096, 512), i, dtype=np.float32))  # 8 MB shards, fsynced
    print(i, flush=True)
"""


def test_writer_killed_mid_write_leaves_nothing_read_as_valid(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()  # one shard is complete; the next one is being written
        deadline = time.monotonic() + 20
        while not list(tmp_path.rglob("*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert list(tmp_path.rglob("*.tmp")), "the writer was not caught mid-write"
    store = FeatureCache(tmp_path, "ns", 512)
    shards = shard_files(tmp_path)
    assert shards
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a shard read as corrupt would warn
        for shard in shards:
            with np.load(shard) as data:
                keys = [bytes(k) for k in data["keys"]]
                i = data["vectors"][0, 0]
            found = store.get_many(keys)
            assert len(found) == 4096 and all((v == i).all() for v in found.values())
    # The shard being written when the process died (number len(shards)) is only in a leftover
    # temporary file, which is never read: a lookup of its keys finds nothing.
    assert store.get_many([text_key(f"{len(shards)} {j}") for j in range(4096)]) == {}
