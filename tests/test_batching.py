import warnings

import numpy as np
import pytest
import torch

from sktransfer._batching import length_sorted_batches, map_batches
from sktransfer.exceptions import OutOfMemoryWarning


def test_batches_cover_every_position_once_longest_first():
    lengths = [3, 10, 1, 7, 7, 2, 9]
    batches = length_sorted_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "8"])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        length_sorted_batches([1, 2], bad)


def test_map_batches_restores_input_order():
    lengths = [5, 1, 4, 2, 3]
    seen_batches = []

    def fn(positions):
        seen_batches.append(list(positions))
        return np.asarray(positions, dtype=np.float32)[:, None] * 10

    out = map_batches(fn, 5, lengths, 2)
    assert out.shape == (5, 1)
    np.testing.assert_array_equal(out[:, 0], np.arange(5) * 10)
    assert seen_batches[0] == [0, 2]  # the two longest first


def test_max_tokens_bounds_every_batch_and_keeps_every_position():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(0, 40, size=100_000), [100_000, 5_000]])  # two very long items
    batches = length_sorted_batches(lengths, 64, max_tokens=2048)
    flat = np.concatenate(batches)
    assert np.array_equal(np.sort(flat), np.arange(len(lengths)))
    for batch in batches:
        padded = len(batch) * max(int(lengths[batch].max()), 1)
        assert len(batch) <= 64 and (padded <= 2048 or len(batch) == 1)
    assert [len(b) for b in batches[:2]] == [1, 1]  # each item longer than the bound alone


def test_map_batches_with_max_tokens_restores_input_order():
    lengths = [300, 1, 2, 250, 3]
    seen = []

    def fn(positions):
        seen.append(list(positions))
        return np.asarray(positions, dtype=np.float32)[:, None]

    out = map_batches(fn, 5, lengths, 4, max_tokens=300)
    np.testing.assert_array_equal(out[:, 0], np.arange(5))
    assert seen == [[0], [3], [4, 2, 1]]


# -- CUDA out-of-memory back-off -----------------------------------------------------------------

def fails_above(limit, fn):
    """``fn``, but raising CUDA's out-of-memory error on batches of more than ``limit`` items."""
    sizes = []

    def wrapped(positions):
        sizes.append(len(positions))
        if len(positions) > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return fn(positions)

    wrapped.sizes = sizes
    return wrapped


def rows_of(positions):
    # Each row depends on its position and on the batch it ran in (its size), as padding would.
    return np.stack([np.asarray(positions, dtype=np.float64), np.full(len(positions), len(positions))], axis=1)


def oom_warnings(record):
    return [w for w in record if issubclass(w.category, OutOfMemoryWarning)]


def test_out_of_memory_halves_the_batch_and_retries_with_one_warning():
    lengths = [3, 9, 1, 7, 7, 2, 9, 4, 5, 6, 8]
    fn = fails_above(2, rows_of)
    with pytest.warns(OutOfMemoryWarning) as record:
        out = map_batches(fn, len(lengths), lengths, 8, desc="BertVectorizer")
    assert len(oom_warnings(record)) == 1
    message = str(oom_warnings(record)[0].message)
    assert "BertVectorizer: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    assert fn.sizes == [8, 4, 2, 2, 2, 2, 2, 1]  # halved twice, then every later batch at the size that worked
    # The rows, in input order, are those of a run that used batches of 2 from the start.
    np.testing.assert_array_equal(out, map_batches(rows_of, len(lengths), lengths, 2))


def test_out_of_memory_on_a_single_item_is_raised_with_what_was_tried():
    def always(positions):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(torch.cuda.OutOfMemoryError) as info:
            map_batches(always, 5, [1, 2, 3, 4, 5], 4, desc="ELMoVectorizer")
    message = str(info.value)
    assert "ELMoVectorizer: CUDA ran out of memory on a single item (batches were halved from 4 down to 1)" in message
    assert "max_length / max_tokens" in message and "device='cpu'" in message
    assert "Tried to allocate 9.00 GiB" in str(info.value.__cause__)
    assert not oom_warnings(record)  # the error says it all


def test_other_errors_are_not_retried():
    calls = []

    def broken(positions):
        calls.append(len(positions))
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        map_batches(broken, 4, [1, 2, 3, 4], 4)
    assert calls == [4]


def test_the_cuda_cache_is_emptied_between_retries_where_there_is_cuda(monkeypatch):
    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    with pytest.warns(OutOfMemoryWarning):
        map_batches(fails_above(1, rows_of), 4, [1, 2, 3, 4], 4)
    assert len(emptied) == 2  # 4 -> 2 -> 1


def test_nested_calls_warn_once_and_an_exhausted_inner_call_is_not_retried_outside():
    def outer(positions):
        inner = fails_above(1, rows_of)
        return map_batches(inner, len(positions), [1] * len(positions), 4, desc="encoder")[:, :1]

    with pytest.warns(OutOfMemoryWarning) as record:
        out = map_batches(outer, 6, [1, 2, 3, 4, 5, 6], 3, desc="predict")
    assert len(oom_warnings(record)) == 1
    assert "encoder: a batch of 3 ran out of CUDA memory, finished with batches of 1" in str(record[0].message)
    # Outer batches (longest first): positions [5, 4, 3] and [2, 1, 0]; the inner rows count within each.
    np.testing.assert_array_equal(out[:, 0], [2, 1, 0, 2, 1, 0])
    outer_sizes = []

    def outer_exhausted(positions):
        outer_sizes.append(len(positions))
        return map_batches(fails_above(0, rows_of), len(positions), [1] * len(positions), 4, desc="encoder")

    with pytest.raises(torch.cuda.OutOfMemoryError, match="encoder: CUDA ran out of memory on a single item"):
        map_batches(outer_exhausted, 6, [1] * 6, 3, desc="predict")
    assert outer_sizes == [3]  # the outer loop did not halve its batch and try again


# Every estimator's inference runs through map_batches: a model that runs out of memory on batches
# of more than 2 texts still gives, with one warning, what a run with batches of 2 gives.
def fail_forward_above(monkeypatch, module, limit, batch_of):
    """Make ``module.forward`` raise CUDA's out-of-memory error on batches above ``limit``."""
    forward = module.forward

    def forward_or_oom(*args, **kwargs):
        if len(batch_of(*args, **kwargs)) > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return forward(*args, **kwargs)

    monkeypatch.setattr(module, "forward", forward_or_oom)


def one_oom_warning(call):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = call()
    caught = oom_warnings(record)
    assert len(caught) == 1, [str(w.message) for w in caught]
    return out, str(caught[0].message)


def test_bert_vectorizer_backs_off(tiny_bert, sentiment_texts, monkeypatch):
    from sktransfer import BertVectorizer

    X, _ = sentiment_texts
    vec = BertVectorizer(tiny_bert, batch_size=2).fit(X)
    expected, expected_tokens = vec.transform(X), vec.transform_tokens(X)
    vec.set_params(batch_size=8)
    fail_forward_above(monkeypatch, vec.model_, 2, lambda input_ids, **kw: input_ids)
    out, message = one_oom_warning(lambda: vec.transform(X))
    assert "BertVectorizer: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    np.testing.assert_array_equal(out, expected)
    tokens, _ = one_oom_warning(lambda: vec.transform_tokens(X))
    for got, want in zip(tokens, expected_tokens):
        np.testing.assert_array_equal(got, want)


def test_elmo_vectorizer_backs_off(elmo_files, sentiment_texts, monkeypatch):
    from sktransfer import ELMoVectorizer

    X, _ = sentiment_texts
    vec = ELMoVectorizer(*elmo_files, batch_size=8).fit(X)  # the biLM gets 8 texts per call
    expected = vec.transform(X)
    embed_tokens = vec.bilm_.embed_tokens

    def embed_or_oom(sentences, **kwargs):
        if len(sentences) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")
        return embed_tokens(sentences, **kwargs)

    monkeypatch.setattr(vec.bilm_, "embed_tokens", embed_or_oom)
    out, message = one_oom_warning(lambda: vec.transform(X))
    assert "ELMoVectorizer: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    # Smaller LSTM batches and other word sets for the character CNN: equal up to float rounding.
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_fine_tuned_classifier_backs_off(tiny_bert, sentiment_texts, monkeypatch):
    from sktransfer import BertFineTuneClassifier

    X, y = sentiment_texts
    clf = BertFineTuneClassifier(tiny_bert, max_epochs=1, batch_size=2, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(batch_size=8)
    fail_forward_above(monkeypatch, clf.net_.module_, 2, lambda input_ids, attention_mask: input_ids)
    out, message = one_oom_warning(lambda: clf.predict_proba(X))
    assert "predict: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    np.testing.assert_array_equal(out, expected)
    labels, _ = one_oom_warning(lambda: clf.predict(X))
    np.testing.assert_array_equal(labels, clf.classes_[expected.argmax(1)])


def test_feature_head_classifier_backs_off_in_the_encoder_and_the_head(tiny_bert, sentiment_texts, monkeypatch):
    from sktransfer import BertVectorizer, FeatureHeadClassifier

    X, y = sentiment_texts
    clf = FeatureHeadClassifier(
        BertVectorizer(tiny_bert, batch_size=2, layers=[1, 2]), max_epochs=1, batch_size=2, random_state=0
    ).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(batch_size=8)
    clf.encoder_.set_params(batch_size=8)
    fail_forward_above(monkeypatch, clf.encoder_.model_, 2, lambda input_ids, **kw: input_ids)
    fail_forward_above(monkeypatch, clf.net_.module_, 2, lambda tokens, lengths: tokens)
    out, message = one_oom_warning(lambda: clf.predict_proba(X))
    assert "BertVectorizer: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    assert "predict head: a batch of 8 ran out of CUDA memory, finished with batches of 2" in message
    np.testing.assert_array_equal(out, expected)
