"""Property-based tests: arbitrary unicode text lists through every estimator's inference path.

For any list of texts (empty, whitespace, combining marks, lone surrogates, right-to-left
scripts, emoji, control characters, very long words, texts past the truncation length), each
estimator returns one finite row per text, in input order, and a text's row does not depend on
its neighbours: it equals the row the text gets alone (fp32; batch composition changes the
padding, which must not change the result). Estimators are fitted once per module; hypothesis
runs derandomized so CI sees the same examples every time.
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sktransfer import (
    BertFineTuneClassifier,
    BertVectorizer,
    ELMoVectorizer,
    FeatureHeadClassifier,
    WordEmbeddingEncoder,
)
from tests.conftest import NEGATIVE, POSITIVE

# Examples per property: sized for CI (about 80 s of CPU time for the file); with derandomize=True
# the same examples run every time. SKTRANSFER_PROPERTY_EXAMPLES=200 runs a deeper search.
EXAMPLES = int(os.environ.get("SKTRANSFER_PROPERTY_EXAMPLES", "15"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ATOL = 1e-5

# Pieces that random characters rarely hit by chance, mixed into generated texts.
SPECIAL = [
    "",
    " ",
    "\t\n \r\n",
    "e\u0301\u0302",  # combining marks
    "\ud800",  # lone high surrogate
    "a\udfffb",  # lone low surrogate inside a word
    "\ud83d\ude00",  # a surrogate pair as two code units (not one code point)
    "שלום עולם",  # right-to-left (Hebrew)
    "مرحبا بالعالم",  # right-to-left (Arabic)
    "\u202egood\u202c",  # right-to-left override
    "👍🏽👨‍👩‍👧",  # emoji with a skin tone and a ZWJ sequence
    "\x00\x07\x1b[31m\x7f",  # control characters
    "\ufeff\u200b\u00ad",  # BOM, zero-width space, soft hyphen
    "a" * 3000,  # one very long word
    "great film " * 200,  # longer than every truncation limit
    "I loved this movie!",
]

# Every code point category, surrogates (Cs) included.
any_char = st.characters(exclude_categories=())
texts_strategy = st.lists(
    st.one_of(
        st.text(any_char, max_size=40),
        st.sampled_from(SPECIAL),
        st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=3).map(" ".join),
    ),
    min_size=1,
    max_size=4,
)

TRAIN_X = POSITIVE + NEGATIVE
TRAIN_Y = ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)


def assert_rows_independent_of_neighbours(rows_of, texts):
    """``rows_of(texts)`` gives one finite row per text, equal to the text's row when alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty-text warnings are tested in the estimators' own tests
        together = rows_of(texts)
        alone = [rows_of([text]) for text in texts]
        backwards = rows_of(texts[::-1])
    assert together.ndim == 2 and together.shape[0] == len(texts)
    assert together.dtype == np.float32 or together.dtype == np.float64
    assert np.isfinite(together).all()
    for i, row in enumerate(alone):
        assert row.shape == (1, together.shape[1])
        np.testing.assert_allclose(together[i], row[0], atol=ATOL, rtol=1e-5, err_msg=f"text {i}: {texts[i]!r}")
    np.testing.assert_allclose(backwards[::-1], together, atol=ATOL, rtol=1e-5)
    return together


# -- fitted once per module -----------------------------------------------------------------------
def build(name, tiny_bert, elmo_files):
    """The fitted estimator ``name``, and the method that gives its rows."""
    # float32: rows must not depend on their neighbours at ATOL, which bfloat16 ("auto" with AMX) cannot promise.
    bert = dict(batch_size=3, max_length=64, precision="float32")
    elmo = dict(batch_size=3, max_tokens=64)
    head = dict(hidden_size=8, max_epochs=1, batch_size=4, random_state=0)
    estimator = {
        "BertVectorizer": lambda: BertVectorizer(tiny_bert, **bert),
        "ELMoVectorizer": lambda: ELMoVectorizer(*elmo_files, **elmo),
        "BertFineTuneClassifier": lambda: BertFineTuneClassifier(tiny_bert, max_epochs=1, random_state=0, **bert),
        "FeatureHead-elmo-bilstm": lambda: FeatureHeadClassifier(ELMoVectorizer(*elmo_files, **elmo), **head),
        "FeatureHead-bert-mlp": lambda: FeatureHeadClassifier(
            BertVectorizer(tiny_bert, layers=[-2, -1], **bert), head="mlp", **head
        ),
        "FeatureHead-words-bilstm": lambda: FeatureHeadClassifier(
            WordEmbeddingEncoder(8, min_count=1, max_tokens=64), **head
        ),
    }[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(TRAIN_X, TRAIN_Y)
    return estimator


ESTIMATORS = [
    "BertVectorizer", "ELMoVectorizer", "BertFineTuneClassifier",
    "FeatureHead-elmo-bilstm", "FeatureHead-bert-mlp", "FeatureHead-words-bilstm",
]


@pytest.fixture(scope="module", params=ESTIMATORS)
def fitted(request, tiny_bert, elmo_files):
    return build(request.param, tiny_bert, elmo_files)


# -- properties -------------------------------------------------------------------------------------
@PROPERTY
@given(texts=texts_strategy)
def test_rows_per_text_independent_of_neighbours(fitted, texts):
    rows_of = getattr(fitted, "predict_proba", None) or fitted.transform
    rows = assert_rows_independent_of_neighbours(rows_of, texts)
    if hasattr(fitted, "predict_proba"):
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def words():
    return WordEmbeddingEncoder(8, min_count=1).fit(TRAIN_X)


@PROPERTY
@given(texts=texts_strategy)
def test_word_embedding_ids_per_text(words, texts):
    together = words.transform_ids(texts)
    assert len(together) == len(texts)
    for text, ids in zip(texts, together):
        (alone,) = words.transform_ids([text])
        np.testing.assert_array_equal(ids, alone)
        assert ids.dtype == np.int64 and ((ids >= 1) & (ids < len(words.vocabulary_))).all()


def test_lone_surrogates_are_dropped_by_bert_models(tiny_bert, elmo_files):
    bert = build("BertVectorizer", tiny_bert, elmo_files)
    finetuned = build("BertFineTuneClassifier", tiny_bert, elmo_files)
    # Regression: the fast tokenizer raised "TypeError: TextEncodeInput must be Union[...]" for a
    # text holding a lone surrogate (found by the property above); they are now dropped
    # before tokenizing, as ELMo's character encoder drops them.
    np.testing.assert_allclose(bert.transform(["a\ud800 good\udfff film"]), bert.transform(["a good film"]), atol=ATOL)
    np.testing.assert_allclose(
        finetuned.predict_proba(["\ud83d\ude00 great"]), finetuned.predict_proba([" great"]), atol=ATOL
    )
