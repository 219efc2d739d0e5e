"""Long texts: head / tail / head+tail truncation and chunk windows, alone and in the BERT estimators."""

import warnings

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from sktransfer import BertFineTuneClassifier, BertVectorizer
from sktransfer.exceptions import TruncationWarning
from sktransfer.hf import load_tokenizer
from sktransfer.truncation import cut, encode_texts, pool_windows, special_tokens, windows

from .conftest import NEGATIVE, POSITIVE

LONG = "the story was very boring and the acting was awful , i hated this movie"  # 15 words
TEXTS = ["a great film", LONG, "", "i loved this movie , a wonderful story and excellent acting", "awful !"]


@pytest.mark.parametrize(
    "strategy, budget, fraction, expected",
    [
        ("head", 4, 0.25, [0, 1, 2, 3]),
        ("tail", 4, 0.25, [6, 7, 8, 9]),
        ("head+tail", 4, 0.25, [0, 7, 8, 9]),  # floor(0.25 * 4) = 1 head token, 3 tail tokens
        ("head+tail", 5, 0.5, [0, 1, 7, 8, 9]),  # floor(2.5) = 2
        ("head+tail", 4, 0.0, [6, 7, 8, 9]),
        ("head+tail", 4, 1.0, [0, 1, 2, 3]),
        ("tail", 0, 0.25, []),
        ("tail", 10, 0.25, list(range(10))),  # fits: unchanged
    ],
)
def test_cut_keeps_the_chosen_tokens_in_text_order(strategy, budget, fraction, expected):
    assert cut(list(range(10)), budget, strategy, fraction) == expected


@pytest.mark.parametrize(
    "n, budget, stride, expected",
    [
        (10, 4, 0, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
        (10, 4, 1, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]),
        (10, 4, 3, [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]]),
        (4, 4, 2, [[0, 1, 2, 3]]),
        (0, 4, 0, [[]]),
    ],
)
def test_windows_cover_every_token(n, budget, stride, expected):
    assert windows(list(range(n)), budget, stride) == expected


def test_windows_must_advance():
    with pytest.raises(ValueError, match=r"stride must be in \[0, 3\]"):
        windows([1, 2, 3], 4, 4)


def test_head_is_what_the_tokenizer_truncation_keeps(tiny_model):
    _, path = tiny_model
    tokenizer = load_tokenizer(path)
    texts = [LONG, "a great film", ""]
    for max_length in (3, 8, 64):
        rows = encode_texts(tokenizer, texts, max_length=max_length).rows
        expected = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        if not special_tokens(tokenizer).count:  # GPT-2 reads an empty text as its end-of-text token
            expected[2] = [tokenizer.eos_token_id]
        assert [row.tolist() for row in rows] == expected
        assert all(row.dtype == np.int32 for row in rows)  # compact rows, not lists of Python ints


@pytest.mark.parametrize("strategy", ["tail", "head+tail", "chunks"])
def test_each_strategy_keeps_the_exact_tokens_between_the_special_tokens(tiny_model, strategy):
    _, path = tiny_model
    tokenizer = load_tokenizer(path)
    prefix, suffix = (list(part) for part in special_tokens(tokenizer))
    assert prefix + suffix == tokenizer("")["input_ids"]
    text = LONG + " , " + LONG
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    max_length = 9 + len(prefix) + len(suffix)  # 9 tokens of text per row
    assert len(ids) > 2 * 9
    encoded = encode_texts(tokenizer, [text], max_length=max_length, truncation=strategy, head_fraction=0.34, stride=2)
    expected = {
        "tail": [ids[-9:]],
        "head+tail": [ids[:3] + ids[-6:]],  # floor(0.34 * 9) = 3
        "chunks": [ids[start : start + 9] for start in range(0, len(ids) - 2, 7)],  # step 9 - 2
    }[strategy]
    assert [row.tolist() for row in encoded.rows] == [prefix + piece + suffix for piece in expected]
    assert encoded.n_truncated == 1 and encoded.budget == 9 and list(encoded.owners) == [0] * len(expected)


class SpyTokenizer:
    """Wraps a tokenizer and records how many texts each batched call (a list of texts) got."""

    def __init__(self, tokenizer):
        self.tokenizer, self.batches = tokenizer, []

    def __call__(self, texts, **kwargs):
        if isinstance(texts, list):
            self.batches.append(len(texts))
        return self.tokenizer(texts, **kwargs)

    def __getattr__(self, name):
        return getattr(self.tokenizer, name)


@pytest.mark.parametrize("strategy", ["head", "tail", "head+tail", "chunks"])
def test_texts_are_tokenized_in_chunks_with_the_rows_of_one_call(tiny_model, strategy):
    _, path = tiny_model
    texts = [f"{TEXTS[i % len(TEXTS)]} {i}" for i in range(23)]  # distinct texts, some longer than a row
    kwargs = dict(max_length=8, truncation=strategy, head_fraction=0.4, stride=1)
    whole = encode_texts(load_tokenizer(path), texts, chunk_size=len(texts), **kwargs)
    spy = SpyTokenizer(load_tokenizer(path))
    chunked = encode_texts(spy, texts, chunk_size=5, **kwargs)
    assert spy.batches == [5, 5, 5, 5, 3]  # never more than chunk_size texts tokenized at once
    assert [row.tolist() for row in chunked.rows] == [row.tolist() for row in whole.rows]
    np.testing.assert_array_equal(chunked.owners, whole.owners)  # rows in text order across the chunks
    assert chunked.n_truncated == whole.n_truncated > 0 and chunked.budget == whole.budget
    assert len(set(chunked.owners.tolist())) == len(texts)


def test_one_warning_per_call_counts_the_truncated_texts(tiny_bert):
    vec = BertVectorizer(tiny_bert, max_length=8, truncation="head+tail").fit(TEXTS)
    tokenizer = vec.tokenizer_
    too_long = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) > 6 for t in TEXTS)
    assert too_long == 2
    with pytest.warns(TruncationWarning) as record:
        vec.transform(TEXTS)
    assert len(record) == 1
    assert str(record[0].message).startswith(
        "BertVectorizer: 2 of 5 texts have more than 6 tokens of text (max_length=8 less 2 special tokens); "
        "truncation='head+tail' kept their first 1 and last 5 tokens."
    )
    sentences = POSITIVE + NEGATIVE
    too_long = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) > 4 for t in sentences)
    assert 0 < too_long < len(sentences)
    clf = BertFineTuneClassifier(tiny_bert, max_length=6, max_epochs=1, truncation="tail")
    match = f"BertFineTuneClassifier: {too_long} of 16 texts .* kept their last 4 tokens"
    with pytest.warns(TruncationWarning, match=match) as record:
        clf.fit(sentences, ["p"] * 8 + ["n"] * 8)
    assert len([w for w in record if w.category is TruncationWarning]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)  # nothing to cut: no warning
        BertVectorizer(tiny_bert, max_length=64).fit_transform(TEXTS)
        BertVectorizer(tiny_bert, max_length=8, truncation="chunks").fit_transform(TEXTS)


@pytest.mark.filterwarnings("ignore::sktransfer.exceptions.TruncationWarning")
def test_truncation_changes_the_features_as_its_tokens_say(tiny_bert):
    head = BertVectorizer(tiny_bert, max_length=8).fit_transform(TEXTS)
    tail = BertVectorizer(tiny_bert, max_length=8, truncation="tail").fit_transform(TEXTS)
    fits = [0, 2, 4]  # texts of at most 6 tokens: every strategy reads them whole
    np.testing.assert_array_equal(head[fits], tail[fits])
    assert not np.allclose(head[1], tail[1]) and not np.allclose(head[3], tail[3])


def hand_chunk_features(path, text, *, max_length, stride, pooling):
    """Windows cut from the plain tokenizer, one forward pass each, a token-weighted mean of their vectors."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    budget, step = max_length - 2, max_length - 2 - stride
    starts = [0] + list(range(step, max(len(ids) - stride, 1), step))
    starts = [s for s in starts if s == 0 or s + stride < len(ids)]
    vectors, weights = [], []
    for start in starts:
        window = [tokenizer.cls_token_id] + ids[start : start + budget] + [tokenizer.sep_token_id]
        with torch.no_grad():
            hidden = model(input_ids=torch.tensor([window])).last_hidden_state[0]
        vectors.append(hidden.mean(0) if pooling == "mean" else hidden[0])
        weights.append(len(window))
    return (torch.stack(vectors) * torch.tensor(weights, dtype=torch.float32)[:, None]).sum(0) / sum(weights)


@pytest.mark.parametrize("pooling, stride", [("mean", 0), ("mean", 2), ("cls", 1)])
def test_chunk_features_are_the_token_weighted_mean_of_the_windows(tiny_bert, pooling, stride):
    vec = BertVectorizer(
        tiny_bert, max_length=8, truncation="chunks", stride=stride, pooling=pooling, batch_size=3, precision="float32"
    )  # float32 like the hand-computed windows ("auto" is bfloat16 on an AMX CPU)
    X = vec.fit_transform(TEXTS)
    assert X.shape == (len(TEXTS), 32)
    for row, text in zip(X, TEXTS):
        expected = hand_chunk_features(tiny_bert, text, max_length=8, stride=stride, pooling=pooling)
        np.testing.assert_allclose(row, expected.numpy(), atol=1e-5)


def test_chunk_features_are_one_row_per_text_in_input_order(tiny_bert):
    vec = BertVectorizer(tiny_bert, max_length=6, truncation="chunks", stride=1, batch_size=4, normalize=True)
    X = vec.fit_transform(TEXTS)
    alone = np.vstack([vec.transform([text]) for text in TEXTS])
    np.testing.assert_allclose(X, alone, atol=1e-5)
    np.testing.assert_allclose(vec.transform(TEXTS[::-1]), X[::-1], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)  # normalised after the windows are pooled


def test_pool_windows_weights_by_token_counts():
    vectors = np.array([[1.0, 0.0], [3.0, 4.0], [5.0, 5.0]], dtype=np.float32)
    out = pool_windows(vectors, np.array([0, 0, 1]), [1, 3, 7], 2)
    np.testing.assert_allclose(out, [[2.5, 3.0], [5.0, 5.0]])
    assert out.dtype == np.float32


def test_chunks_give_no_token_vectors(tiny_bert):
    vec = BertVectorizer(tiny_bert, truncation="chunks").fit(TEXTS)
    with pytest.raises(ValueError, match="truncation='chunks'.*Use truncation='head', 'tail' or 'head\\+tail'"):
        vec.transform_tokens(TEXTS)
