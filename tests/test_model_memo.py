"""The in-process memo of frozen models (sktransfer._model_memo): sharing, eviction, invalidation."""

import os
import shutil

import numpy as np
import pytest
import torch

from sktransfer import BertVectorizer, ELMoVectorizer, _model_memo
from sktransfer._model_memo import file_stamp, shared_model, weights_fingerprint

pytestmark = pytest.mark.usefixtures("fresh_model_memo")

TEXTS = ["a great film", "the plot was very boring", "wonderful !"]


class Loader:
    """A ``load`` for shared_model that builds a new object on every call and counts the calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return object()


def must_not_load():
    raise AssertionError("the memo should have served this key without loading")


def test_same_key_gives_the_same_object_loaded_once():
    load = Loader()
    first = shared_model(("bert", "path", 1), load)
    assert shared_model(("bert", "path", 1), load) is first
    assert load.calls == 1


def test_another_key_gives_another_object():
    first = shared_model(("bert", "path", 1), Loader())
    load = Loader()
    for other in [("bert", "path", 2), ("bert", "other", 1), ("elmo", "path", 1)]:
        assert shared_model(other, load) is not first
    assert load.calls == 3


def test_no_key_is_never_shared():
    load = Loader()
    assert shared_model(None, load) is not shared_model(None, load)
    assert load.calls == 2


def test_the_least_recently_used_model_is_evicted():
    assert _model_memo._MAX_MODELS >= 2, "this test touches the oldest of at least two models"
    keys = [("model", i) for i in range(_model_memo._MAX_MODELS)]
    models = {key: shared_model(key, Loader()) for key in keys}
    shared_model(keys[0], must_not_load)  # keys[0] is now the most recently used; keys[1] the least
    shared_model(("model", "new"), Loader())
    assert len(_model_memo._models) == _model_memo._MAX_MODELS
    for key in keys[:1] + keys[2:]:
        assert shared_model(key, must_not_load) is models[key]
    load = Loader()
    assert shared_model(keys[1], load) is not models[keys[1]]
    assert load.calls == 1


def test_clear_forgets_every_model():
    first = shared_model("key", Loader())
    _model_memo.clear()
    load = Loader()
    assert shared_model("key", load) is not first
    assert load.calls == 1


def _set_mtime(path, mtime_ns):
    os.utime(path, ns=(os.stat(path).st_atime_ns, mtime_ns))


def test_file_stamp_changes_when_a_file_changes_at_the_same_path(tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"0123")
    before = file_stamp(weights)
    assert file_stamp(weights) == before
    assert file_stamp(str(weights)) == before
    mtime = os.stat(weights).st_mtime_ns
    weights.write_bytes(b"4567")  # same size, new content: only the mtime tells
    _set_mtime(weights, mtime + 10**9)
    assert file_stamp(weights) != before
    changed = file_stamp(weights)
    weights.write_bytes(b"45678")
    _set_mtime(weights, mtime + 10**9)  # same mtime, another size
    assert file_stamp(weights) != changed


def test_file_stamp_of_a_folder_covers_its_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "sub").mkdir()
    before = file_stamp(tmp_path)
    assert len(before) == 2
    mtime = os.stat(tmp_path / "model.safetensors").st_mtime_ns
    _set_mtime(tmp_path / "model.safetensors", mtime + 10**9)
    assert file_stamp(tmp_path) != before
    stamped = file_stamp(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{}")
    assert file_stamp(tmp_path) != stamped


def test_file_stamp_of_a_missing_file(tmp_path):
    missing = tmp_path / "gone.hdf5"
    assert file_stamp(missing) == (str(missing), None, None)


def test_bert_vectorizers_share_a_model_only_for_the_same_settings(tiny_bert):
    a = BertVectorizer(tiny_bert).fit(TEXTS)
    assert BertVectorizer(tiny_bert, pooling="max", batch_size=1).fit(TEXTS).model_ is a.model_
    seeded = BertVectorizer(tiny_bert, pretrained=False, random_state=0).fit(TEXTS)
    assert seeded.model_ is not a.model_
    assert BertVectorizer(tiny_bert, pretrained=False, random_state=0).fit(TEXTS).model_ is seeded.model_
    assert BertVectorizer(tiny_bert, pretrained=False, random_state=1).fit(TEXTS).model_ is not seeded.model_
    unseeded = BertVectorizer(tiny_bert, pretrained=False).fit(TEXTS)
    assert BertVectorizer(tiny_bert, pretrained=False).fit(TEXTS).model_ is not unseeded.model_


def test_bert_model_rewritten_at_the_same_path_is_loaded_again(tmp_path, rewrite_tiny_bert):
    path = rewrite_tiny_bert(tmp_path / "model", seed=1)
    old = BertVectorizer(path).fit(TEXTS)
    old_out = old.transform(TEXTS)
    rewrite_tiny_bert(path, seed=2)
    new = BertVectorizer(path).fit(TEXTS)
    assert new.model_ is not old.model_
    twin = BertVectorizer(rewrite_tiny_bert(tmp_path / "twin", seed=2)).fit_transform(TEXTS)
    np.testing.assert_allclose(new.transform(TEXTS), twin, atol=1e-6)
    assert np.abs(twin - old_out).max() > 1e-3


def test_elmo_weights_rewritten_at_the_same_path_are_loaded_again(elmo_files, tmp_path):
    import h5py

    options = shutil.copy(elmo_files[0], tmp_path / "options.json")
    weights = shutil.copy(elmo_files[1], tmp_path / "weights.hdf5")
    old = ELMoVectorizer(options, weights).fit(TEXTS)
    old_out = old.transform(TEXTS)
    mtime = os.stat(weights).st_mtime_ns
    with h5py.File(weights, "r+") as f:
        f["CNN_proj/W_proj"][...] = 2 * f["CNN_proj/W_proj"][...]
    _set_mtime(weights, max(os.stat(weights).st_mtime_ns, mtime + 10**9))
    new = ELMoVectorizer(options, weights).fit(TEXTS)
    assert new.bilm_ is not old.bilm_
    assert np.abs(new.transform(TEXTS) - old_out).max() > 1e-3
    _model_memo.clear()
    np.testing.assert_allclose(ELMoVectorizer(options, weights).fit_transform(TEXTS), new.transform(TEXTS), atol=1e-6)


def _tiny_module(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))


def test_weights_fingerprint_follows_the_weights():
    a, b = _tiny_module(0), _tiny_module(0)
    assert weights_fingerprint(a) == weights_fingerprint(b)
    assert weights_fingerprint(_tiny_module(1)) != weights_fingerprint(a)
    changed = _tiny_module(0)
    with torch.no_grad():
        changed[1].bias[2] += 1e-3  # one value of one tensor
    assert weights_fingerprint(changed) != weights_fingerprint(a)
    as_double = _tiny_module(0).double()  # the same numbers in another dtype give other vectors
    assert weights_fingerprint(as_double) != weights_fingerprint(a)
