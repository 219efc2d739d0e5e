"""The feature comparison of benchmarks/bench_bert_features.py."""

import numpy as np
import pytest
from bench_bert_features import feature_agreement, sentence_transformers_settings


def test_identical_features_agree_exactly():
    a = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    assert feature_agreement(a, a.copy()) == {"max_abs_diff": 0.0, "min_cosine": pytest.approx(1.0)}


def test_agreement_reports_the_worst_entry_and_the_worst_row():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 0.0], [2.0, 0.0], [6.0, 8.0]])  # row 1 orthogonal; row 2 parallel but twice as long
    assert feature_agreement(a, b) == {"max_abs_diff": 4.0, "min_cosine": pytest.approx(0.0)}


def test_agreement_refuses_matrices_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) vs \(3, 2\)"):
        feature_agreement(np.ones((2, 3)), np.ones((3, 2)))


def _module(name, **attributes):
    return type(name, (), attributes)()


def test_sentence_transformers_settings_read_both_pooling_layouts_and_normalize():
    new = [_module("Transformer"), _module("Pooling", pooling_mode="mean"), _module("Normalize")]
    assert sentence_transformers_settings(new) == {"pooling": "mean", "normalize": True}
    old = [_module("Transformer"), _module("Pooling", pooling_mode_mean_tokens=True)]
    assert sentence_transformers_settings(old) == {"pooling": "mean", "normalize": False}
    cls = [_module("Pooling", pooling_mode_mean_tokens=False)]
    assert sentence_transformers_settings(cls) == {"pooling": "other", "normalize": False}
