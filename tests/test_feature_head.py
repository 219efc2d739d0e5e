import json
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.utils import estimator_checks as checks

from sktransfer import BertVectorizer, ELMoVectorizer, FeatureHeadClassifier, WordEmbeddingEncoder
from sktransfer.elmo import ElmoBiLm
from sktransfer.exceptions import EmptyTextWarning
from sktransfer.tokenization import word_tokenize
from tests.test_sklearn_contract import SKLEARN_CHECKS


@pytest.fixture
def elmo(elmo_files):
    return ELMoVectorizer(*elmo_files, batch_size=8)


def make_clf(encoder, **params):
    defaults = dict(hidden_size=16, lr=1e-2, max_epochs=3, batch_size=8, random_state=0)
    defaults.update(params)
    return FeatureHeadClassifier(encoder, **defaults)


@pytest.fixture
def count_bilm_texts(monkeypatch):
    """How many texts the biLM has embedded (a list, so that the test reads the running count)."""
    seen = [0]
    original = ElmoBiLm.embed_tokens

    def counting(self, sentences, **kwargs):
        seen[0] += len(sentences)
        return original(self, sentences, **kwargs)

    monkeypatch.setattr(ElmoBiLm, "embed_tokens", counting)
    return seen


# -- token vectors from the vectorizers ---------------------------------------------------------
def test_elmo_token_vectors_pool_to_transform(elmo, sentiment_texts):
    X, _ = sentiment_texts
    elmo.fit(X)
    with pytest.warns(EmptyTextWarning):
        tokens = elmo.transform_tokens(X + [""])
    assert len(tokens) == 17 and tokens[-1].shape == (0, 3, 32)
    for text, rows in zip(X, tokens):
        assert rows.dtype == np.float32 and rows.shape == (len(word_tokenize(text)), 3, 32)
    pooled = np.stack([rows.mean(axis=(0, 1)) for rows in tokens[:-1]])
    np.testing.assert_allclose(pooled, elmo.transform(X), atol=1e-5)
    half = elmo.transform_tokens(X, dtype=np.float16)
    assert half[0].dtype == np.float16
    np.testing.assert_allclose(half[0].astype(np.float32), tokens[0], atol=5e-3, rtol=5e-3)


@pytest.mark.parametrize("layers, expected", [(2, [2]), ([0.0, 0.5, 0.5], [1, 2]), ("all", [0, 1, 2])])
def test_elmo_layers_select_the_token_layers(elmo, sentiment_texts, layers, expected):
    X, _ = sentiment_texts
    everything = elmo.fit(X).transform_tokens(X[:3])
    chosen = elmo.set_params(layers=layers).fit(X).transform_tokens(X[:3])
    for rows, full in zip(chosen, everything):
        np.testing.assert_array_equal(rows, full[:, expected])


def test_bert_token_vectors_pool_to_transform(tiny_bert, sentiment_texts):
    X, _ = sentiment_texts
    bert = BertVectorizer(tiny_bert, batch_size=4).fit(X)
    tokens = bert.transform_tokens(X)
    assert all(rows.shape[1:] == (1, 32) for rows in tokens)
    np.testing.assert_allclose(np.stack([rows[:, 0].mean(axis=0) for rows in tokens]), bert.transform(X), atol=1e-5)
    three = bert.set_params(layers=[0, 1, 2]).transform_tokens(X[:2])
    assert three[0].shape == (tokens[0].shape[0], 3, 32)
    np.testing.assert_allclose(three[0][:, 2], tokens[0][:, 0], atol=1e-6)


def test_token_memory_bound_fails_before_the_encoder_runs(elmo, sentiment_texts, count_bilm_texts):
    X, y = sentiment_texts
    with pytest.raises(ValueError, match=r"need .* MiB, more than the limit.*max_feature_bytes=1000"):
        make_clf(elmo, max_feature_bytes=1000).fit(X, y)
    assert count_bilm_texts[0] == 0


# -- training ---------------------------------------------------------------------------------
@pytest.mark.parametrize("head", ["mlp", "bilstm"])
def test_learns_string_labels_and_the_mix_moves(elmo, sentiment_texts, head):
    X, y = sentiment_texts
    # The tiny test ELMo's vectors barely separate these texts (LogisticRegression on its pooled
    # features scores 0.875 on them), so the head needs capacity and no dropout to fit them.
    lr = {"mlp": 3e-2, "bilstm": 1e-2}[head]
    clf = make_clf(elmo, head=head, max_epochs=100, hidden_size=32, dropout=0.0, lr=lr).fit(X, y)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X)
    assert proba.shape == (16, 2) and proba.dtype == np.float32 and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) == 1.0
    assert clf.mix_weights_.shape == (3,) and clf.mix_weights_.sum() == pytest.approx(1.0)
    assert np.abs(clf.mix_weights_ - 1 / 3).max() > 1e-3, "the mix weights must be trained"
    assert clf.mix_gamma_ != pytest.approx(1.0, abs=1e-3)
    # The reported values are the network's own.
    net_weights = torch.softmax(clf.net_.module_.embedder.scalar_parameters, 0).detach().numpy()
    np.testing.assert_allclose(clf.mix_weights_, net_weights)


def test_encoder_runs_once_per_text_per_fit(elmo, sentiment_texts, count_bilm_texts):
    X, y = sentiment_texts
    clf = make_clf(elmo, max_epochs=6, validation_fraction=0.25, patience=10).fit(X, y)
    assert len(clf.history_) == 6
    assert count_bilm_texts[0] == len(X), "every epoch must reuse the token vectors of the first pass"
    assert clf.feature_bytes_ == sum(len(word_tokenize(t)) for t in X) * 3 * 32 * 2  # float16
    clf.predict(X[:5])
    assert count_bilm_texts[0] == len(X) + 5


def test_mlp_on_mean_pooling_trains_on_pooled_vectors_exactly(elmo, sentiment_texts, monkeypatch):
    X, y = sentiment_texts
    # One batch of all texts and no dropout: both runs see the same batches and random draws.
    params = dict(head="mlp", feature_dtype="float32", layer_dropout=0.3, dropout=0.0, batch_size=16)
    pooled = make_clf(elmo, **params).fit(X, y)
    assert pooled.feature_bytes_ == len(X) * 3 * 32 * 4, "one mean vector per text and layer"
    monkeypatch.setattr(FeatureHeadClassifier, "_pools_before_training", lambda self: False)
    tokens = make_clf(elmo, **params).fit(X, y)
    assert tokens.feature_bytes_ == sum(len(word_tokenize(t)) for t in X) * 3 * 32 * 4
    np.testing.assert_allclose(pooled.mix_weights_, tokens.mix_weights_, atol=1e-5)
    np.testing.assert_allclose(pooled.predict_proba(X), tokens.predict_proba(X), atol=1e-5)


def test_history_is_plain_per_epoch_records(elmo, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(elmo, max_epochs=3, validation_fraction=0.25).fit(X, y)
    assert [row["epoch"] for row in clf.history_] == [1, 2, 3]
    assert all(set(row) == {"epoch", "train_loss", "valid_loss", "valid_acc", "dur"} for row in clf.history_)
    assert json.loads(json.dumps(clf.history_)) == clf.history_
    no_valid = make_clf(elmo, max_epochs=2).fit(X, y)
    assert all(set(row) == {"epoch", "train_loss", "dur"} for row in no_valid.history_) and no_valid.best_epoch_ == 2


def test_early_stopping_restores_best_weights(elmo, sentiment_texts):
    from skorch.dataset import ValidSplit

    X, y = sentiment_texts
    X, y = X * 2, y * 2
    clf = make_clf(elmo, head="mlp", validation_fraction=0.25, patience=2, max_epochs=60, lr=0.3).fit(X, y)
    valid_losses = [row["valid_loss"] for row in clf.history_]
    assert len(clf.history_) < 60, "a large learning rate should stop early"
    assert clf.best_epoch_ == 1 + int(np.argmin(valid_losses))
    y_enc = np.searchsorted(clf.classes_, y)
    dataset = clf.net_.get_dataset(clf._token_inputs(X), y_enc)
    _, valid = ValidSplit(0.25, stratified=True, random_state=0)(dataset, y_enc)
    proba = clf.predict_proba([X[i] for i in valid.indices])
    assert log_loss(y_enc[valid.indices], proba, labels=[0, 1]) == pytest.approx(min(valid_losses), rel=1e-4)


def test_patience_none_measures_validation_without_stopping(elmo, sentiment_texts):
    X, y = sentiment_texts
    X, y = X * 2, y * 2
    # The settings that stop early above run every epoch here, and keep the last weights.
    clf = make_clf(elmo, head="mlp", validation_fraction=0.25, patience=None, max_epochs=8, lr=0.3).fit(X, y)
    assert len(clf.history_) == 8 and clf.best_epoch_ == 8 and clf.refit_history_ is None
    assert all("valid_acc" in row for row in clf.history_)
    last = make_clf(elmo, head="mlp", validation_fraction=0.25, patience=None, max_epochs=8, lr=0.3).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), last.predict_proba(X))


@pytest.mark.parametrize("patience", [None, 2])
def test_refit_trains_again_on_every_text(elmo, sentiment_texts, count_bilm_texts, patience):
    X, y = sentiment_texts
    X, y = X * 2, y * 2
    params = dict(head="mlp", validation_fraction=0.25, max_epochs=8, lr=0.3, patience=patience)
    validated = make_clf(elmo, **params).fit(X, y)
    count_bilm_texts[0] = 0
    refit = make_clf(elmo, refit=True, **params).fit(X, y)
    assert count_bilm_texts[0] == len(X), "the refit reuses the token vectors"
    # The validation run is the same, and draws history_; the refit runs best_epoch_ epochs.
    assert refit.history_ == [dict(row, dur=r["dur"]) for row, r in zip(validated.history_, refit.history_)]
    assert refit.best_epoch_ == validated.best_epoch_ == (8 if patience is None else validated.best_epoch_)
    assert [row["epoch"] for row in refit.refit_history_] == list(range(1, refit.best_epoch_ + 1))
    assert all(set(row) == {"epoch", "train_loss", "dur"} for row in refit.refit_history_)
    # The kept network is the refit's, trained on all texts: it differs from the validation run's.
    assert not np.allclose(refit.predict_proba(X), validated.predict_proba(X))
    assert refit.mix_weights_ == pytest.approx(
        torch.softmax(refit.net_.module_.embedder.scalar_parameters, 0).detach().numpy())
    # The refit is reproducible, and its net is what pickles.
    again = make_clf(elmo, refit=True, **params).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), refit.predict_proba(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(refit)).predict_proba(X), refit.predict_proba(X))


def test_refit_without_validation_split_is_a_plain_fit(elmo, sentiment_texts):
    X, y = sentiment_texts
    plain = make_clf(elmo, head="mlp").fit(X, y)
    refit = make_clf(elmo, head="mlp", refit=True).fit(X, y)
    assert refit.refit_history_ is None
    np.testing.assert_array_equal(refit.predict_proba(X), plain.predict_proba(X))


def test_same_seed_same_predictions_and_global_rng_untouched(elmo, sentiment_texts):
    X, y = sentiment_texts
    torch.manual_seed(5)
    expected_draw = torch.rand(2)
    torch.manual_seed(5)
    a = make_clf(elmo, dropout=0.3, layer_dropout=0.2).fit(X, y).predict_proba(X)
    assert torch.equal(torch.rand(2), expected_draw)
    b = make_clf(elmo, dropout=0.3, layer_dropout=0.2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = make_clf(elmo, dropout=0.3, layer_dropout=0.2, random_state=1).fit(X, y).predict_proba(X)
    assert np.abs(a - c).max() > 1e-6


@pytest.mark.parametrize("head", ["mlp", "bilstm"])
def test_predictions_independent_of_batching_and_order(elmo, sentiment_texts, head):
    X, y = sentiment_texts
    clf = make_clf(elmo, head=head).fit(X, y)
    full = clf.predict_proba(X)
    clf.set_params(batch_size=1)
    np.testing.assert_allclose(clf.predict_proba(X), full, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X[::-1]), full[::-1], atol=1e-5)


def test_multiclass_integer_labels_and_empty_text(elmo, sentiment_texts):
    X, _ = sentiment_texts
    y = np.arange(16) % 3 + 10
    clf = make_clf(elmo).fit(X, y)
    assert clf.classes_.tolist() == [10, 11, 12]
    with pytest.warns(EmptyTextWarning):
        proba = clf.predict_proba(X + [""])
    assert proba.shape == (17, 3) and np.isfinite(proba).all()


def test_bert_token_vectors_feed_a_bilstm(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(BertVectorizer(tiny_bert, layers=[-3, -2, -1]), head="bilstm", max_epochs=30, lr=3e-2).fit(X, y)
    assert clf.mix_weights_.shape == (3,)
    assert clf.score(X, y) >= 0.9


def test_float32_storage(elmo, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(elmo, feature_dtype="float32", max_epochs=1).fit(X, y)
    assert clf.feature_bytes_ == sum(len(word_tokenize(t)) for t in X) * 3 * 32 * 4


# -- the random trainable embeddings baseline ----------------------------------------------------
def test_word_embedding_vocabulary():
    texts = ["Good film, good acting.", "A good plot!", "bad film"]
    encoder = WordEmbeddingEncoder(8, min_count=2).fit(texts)
    # good x3, film x2 (lowercased); ties by word; then <pad>, <unk> first.
    assert encoder.vocabulary_ == {"<pad>": 0, "<unk>": 1, "good": 2, "film": 3}
    assert encoder.transform_ids(["good bad film", ""])[0].tolist() == [2, 1, 3]
    assert encoder.transform_ids([""])[0].shape == (0,)
    # Cut to 2 tokens: Good film / A good / bad film; film x2, then ties in code-point order.
    small = WordEmbeddingEncoder(min_count=1, max_vocab=2, lowercase=False, max_tokens=2).fit(texts)
    assert list(small.vocabulary_) == ["<pad>", "<unk>", "film", "A"]
    assert small.transform_ids(["A film A"])[0].tolist() == [3, 2]
    # The same word tokenizer as ELMo: clitics split.
    assert WordEmbeddingEncoder(min_count=1).fit(["don't"]).vocabulary_.keys() >= {"do", "n't"}


@pytest.mark.parametrize("head", ["mlp", "bilstm"])
def test_random_embeddings_train_with_the_head(sentiment_texts, head):
    X, y = sentiment_texts
    clf = make_clf(WordEmbeddingEncoder(16, min_count=1), head=head, max_epochs=40, lr=3e-2)
    clf.fit(X, y)
    assert clf.score(X, y) == 1.0
    assert not hasattr(clf, "mix_weights_")
    embedding = clf.net_.module_.embedder
    assert embedding.weight.shape == (len(clf.encoder_.vocabulary_), 16)
    # The same seed with a negligible learning rate keeps the embeddings at their initial values.
    untrained = make_clf(WordEmbeddingEncoder(16, min_count=1), head=head, max_epochs=1, lr=1e-12).fit(X, y)
    moved = (embedding.weight.detach() - untrained.net_.module_.embedder.weight.detach()).abs()
    assert moved[2:].max() > 0.01, "the word embeddings must be trained"
    assert moved[0].max() == 0, "the padding row stays zero"


# -- ELMo joined to trainable word vectors (word_embeddings) -------------------------------------
@pytest.mark.parametrize("head, pooling", [("mlp", "mean"), ("mlp", "max"), ("bilstm", "mean")])
def test_word_embeddings_join_the_mixed_vectors_and_train(elmo, sentiment_texts, head, pooling):
    X, y = sentiment_texts
    words = WordEmbeddingEncoder(8, min_count=1)
    clf = make_clf(elmo, head=head, pooling=pooling, word_embeddings=words, max_epochs=30, lr=3e-2).fit(X, y)
    assert clf.score(X, y) == 1.0
    module = clf.net_.module_
    assert module.word_embedding.weight.shape == (len(clf.word_embeddings_.vocabulary_), 8)
    assert clf.word_embeddings_ is not words and not hasattr(words, "vocabulary_"), "a fitted clone"
    # The head reads 32 mixed ELMo values and 8 word-vector values per token.
    first = module.head.hidden if head == "mlp" else module.head.forward_lstm
    assert (first.in_features if head == "mlp" else first.input_size) == (2 if pooling == "mean_max" else 1) * 40
    untrained = make_clf(elmo, head=head, pooling=pooling, word_embeddings=words, max_epochs=1, lr=1e-12).fit(X, y)
    moved = (module.word_embedding.weight - untrained.net_.module_.word_embedding.weight).detach().abs()
    assert moved[2:].max() > 0.01 and moved[0].max() == 0, "word vectors train; the padding row stays zero"
    assert not np.allclose(clf.mix_weights_, 1 / 3), "the mix still trains"
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))


def test_pooled_and_token_by_token_joins_agree():
    from sktransfer.heads import MLPHead, ScalarMix, TokenHeadClassifier

    torch.manual_seed(0)
    mix, head = ScalarMix(3, dim=4), MLPHead(4 + 5, 6, 2, pooling="mean")
    words = torch.nn.Embedding(9, 5, padding_idx=0)
    pooled = TokenHeadClassifier(mix, head, word_embedding=words, pooled_inputs=True).eval()
    per_token = TokenHeadClassifier(mix, head, word_embedding=words, pooled_inputs=False).eval()
    lengths = torch.tensor([3, 1, 0])
    tokens = torch.randn(3, 3, 3, 4) * (torch.arange(3)[None] < lengths[:, None])[..., None, None]
    ids = torch.tensor([[2, 5, 8], [3, 0, 0], [0, 0, 0]])
    means = tokens.sum(1, keepdim=True) / lengths.clamp(min=1)[:, None, None, None]
    expected = per_token(tokens, lengths, ids, lengths)
    # The MLP on mean pooling trains on one mean row per text; the word vectors are averaged to match.
    actual = pooled(means, lengths.clamp(max=1), ids, lengths)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_word_embeddings_need_the_same_tokens_token_by_token(elmo, elmo_files, sentiment_texts):
    X, y = sentiment_texts
    short = WordEmbeddingEncoder(8, min_count=1, max_tokens=3)
    with pytest.raises(ValueError, match=r"Text \[\d+\] has \d+ token vectors .* but 3 words .*max_tokens"):
        make_clf(elmo, head="bilstm", word_embeddings=short).fit(X, y)
    # The MLP on mean pooling joins the two means: any tokenisation works.
    make_clf(elmo, head="mlp", word_embeddings=short, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="already gives trainable word vectors.*word_embeddings=None"):
        make_clf(WordEmbeddingEncoder(min_count=1), word_embeddings=WordEmbeddingEncoder()).fit(X, y)
    clf = make_clf(elmo, word_embeddings=WordEmbeddingEncoder()).set_params(word_embeddings__embedding_dim=4)
    assert clf.get_params()["word_embeddings__embedding_dim"] == 4


def test_word_embeddings_with_bert_token_vectors(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    bert = BertVectorizer(tiny_bert, layers=[-2, -1], precision="float32")
    clf = make_clf(bert, head="mlp", word_embeddings=WordEmbeddingEncoder(8, min_count=1), max_epochs=2).fit(X, y)
    assert clf.predict_proba(X).shape == (16, 2)
    with pytest.raises(ValueError, match="word pieces"):
        make_clf(bert, head="bilstm", word_embeddings=WordEmbeddingEncoder(8, min_count=1)).fit(X, y)


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        ({"head": "cnn"}, "'head' parameter"),
        ({"lr": 0}, "'lr' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"encoder": LogisticRegression()}, "'encoder' parameter"),
        ({"word_embeddings": LogisticRegression()}, "'word_embeddings' parameter"),
        ({"feature_dtype": "int8"}, "'feature_dtype' parameter"),
        ({"device": "tpu"}, "'device' parameter of FeatureHeadClassifier must be"),
    ],
)
def test_bad_params(sentiment_texts, params, match):
    X, y = sentiment_texts
    with pytest.raises(ValueError, match=match):
        FeatureHeadClassifier(**{"encoder": WordEmbeddingEncoder(), **params}).fit(X, y)


def test_bad_labels(sentiment_texts):
    X, _ = sentiment_texts
    with pytest.raises(ValueError, match="requires labels"):
        make_clf(WordEmbeddingEncoder()).fit(X, None)
    with pytest.raises(ValueError, match="single class"):
        make_clf(WordEmbeddingEncoder()).fit(X, ["pos"] * 16)


def test_default_encoder_is_the_embedded_elmo():
    assert FeatureHeadClassifier().encoder is None
    clf = make_clf(None, max_epochs=1, max_feature_bytes=10)
    with pytest.raises(ValueError, match="ELMoVectorizer: the token vectors of 2 texts"):
        clf.fit(["a good film", "a bad film"], [1, 0])
    assert isinstance(clf.encoder_, ELMoVectorizer) and clf.encoder_.bilm_.output_dim == 256


# -- the sklearn contract -----------------------------------------------------------------------
# Parameters are validated before the input is looked at, so sklearn's numeric-input check applies.
CHECKS = list(dict.fromkeys([*SKLEARN_CHECKS, checks.check_param_validation]))


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_sklearn_check(elmo, check):
    check("FeatureHeadClassifier", make_clf(elmo))


def test_sklearn_check_word_embedding_encoder():
    for check in CHECKS:
        check("WordEmbeddingEncoder", WordEmbeddingEncoder())


def test_unfitted(elmo):
    clf = make_clf(elmo)
    with pytest.raises(NotFittedError):
        clf.predict(["a"])
    checks.check_estimators_unfitted("FeatureHeadClassifier", clone(clf))
    with pytest.raises(NotFittedError):
        WordEmbeddingEncoder().transform_ids(["a"])


def test_fit_keeps_params_is_idempotent_and_does_not_mutate(elmo, sentiment_texts):
    X, y = sentiment_texts
    X_copy, y_copy = list(X), list(y)
    clf = make_clf(elmo)
    params = clf.get_params()
    assert clf.fit(X, y) is clf
    assert clf.get_params() == params and X == X_copy and y == y_copy
    assert clf.encoder_ is not elmo and not hasattr(elmo, "bilm_"), "the encoder parameter is cloned, not fitted"
    first = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), first)
    with pytest.raises(NotFittedError):
        clone(clf).predict_proba(X)


def test_nested_encoder_params(elmo):
    clf = make_clf(elmo).set_params(encoder__layers=2, encoder__pretrained=False)
    assert clf.get_params()["encoder__layers"] == 2 and clf.encoder.pretrained is False


@pytest.mark.parametrize("head", ["mlp", "bilstm"])
def test_pickle_and_joblib_round_trip(elmo, sentiment_texts, tmp_path, head):
    X, y = sentiment_texts
    clf = make_clf(elmo, head=head).fit(X, y)
    expected = clf.predict_proba(X)
    joblib.dump(clf, tmp_path / "clf.joblib")
    for loaded in (joblib.load(tmp_path / "clf.joblib"), pickle.loads(pickle.dumps(clf))):
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
        np.testing.assert_array_equal(loaded.mix_weights_, clf.mix_weights_)
    words = make_clf(WordEmbeddingEncoder(min_count=1), head=head).fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(words)).predict_proba(X), words.predict_proba(X))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_heads_and_encoders(elmo, elmo_files, sentiment_texts, n_jobs):
    X, y = sentiment_texts
    grid = {
        "encoder": [
            elmo,
            ELMoVectorizer(*elmo_files, pretrained=False, random_state=0),
            WordEmbeddingEncoder(8, min_count=1),
        ],
        "head": ["mlp", "bilstm"],
    }
    search = GridSearchCV(make_clf(elmo, max_epochs=2), grid, cv=2, n_jobs=n_jobs, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X).shape == (16,)
    nested = GridSearchCV(
        make_clf(elmo, max_epochs=1), {"encoder__layers": ["average", 2]}, cv=2, n_jobs=n_jobs
    ).fit(X, y)
    assert nested.best_estimator_.encoder_.layers in ("average", 2)


def test_user_callbacks_run_and_verbose_prints_the_epoch_table(sentiment_texts, capsys):
    from skorch.callbacks import EpochScoring

    X, y = sentiment_texts
    train_acc = EpochScoring("accuracy", on_train=True, name="train_acc")
    clf = make_clf(WordEmbeddingEncoder(min_count=1), max_epochs=3, callbacks=[train_acc], verbose=1).fit(X, y)
    assert all(0.0 <= row["train_acc"] <= 1.0 for row in clf.net_.history)
    out = capsys.readouterr().out
    assert "train_loss" in out and "train_acc" in out
    make_clf(WordEmbeddingEncoder(min_count=1), max_epochs=1).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("head", ["mlp", "bilstm"])  # MLP on mean pooling: float32 entries; BiLSTM: float16
def test_cached_encoder_encodes_each_text_once_across_fits(
    elmo_files, sentiment_texts, count_bilm_texts, tmp_path, head
):
    X, y = sentiment_texts
    encoder = ELMoVectorizer(*elmo_files, batch_size=8, cache=tmp_path)
    first = make_clf(encoder, head=head).fit(X, y)
    assert count_bilm_texts[0] == len(X)
    second = make_clf(encoder, head=head, random_state=1).fit(X, y)
    assert count_bilm_texts[0] == len(X), "a second fit reads the cached token vectors"
    uncached = make_clf(ELMoVectorizer(*elmo_files, batch_size=8), head=head).fit(X, y)
    count_bilm_texts[0] = 0
    np.testing.assert_allclose(first.predict_proba(X), uncached.predict_proba(X), atol=1e-5)
    assert count_bilm_texts[0] == len(X), "only the uncached encoder runs"
    second.predict(X[:5])
    search = GridSearchCV(make_clf(encoder, head=head), {"lr": [1e-2, 3e-2]}, cv=2).fit(X, y)
    assert np.isfinite(search.best_score_)
    assert count_bilm_texts[0] == len(X), "folds and grid points read the cache; so does predict"
    new = ["a wonderful film", "a boring story"]
    second.predict(new)
    assert count_bilm_texts[0] == len(X) + 2


@pytest.mark.parametrize("head", ["mlp", "bilstm"])
def test_token_vectors_are_standardised_with_the_training_tokens_statistics(elmo, sentiment_texts, head):
    X, y = sentiment_texts
    clf = make_clf(elmo, head=head, feature_dtype="float32", max_epochs=1).fit(X, y)
    tokens = np.concatenate(clone(elmo).fit(X).transform_tokens(X))  # (all tokens, layers, dim)
    mix = clf.net_.module_.embedder
    np.testing.assert_allclose(mix.input_mean.numpy(), tokens.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mix.input_std.numpy(), tokens.std(axis=0), rtol=1e-3, atol=1e-5)
    raw = make_clf(elmo, head=head, feature_dtype="float32", max_epochs=1, standardize=False).fit(X, y)
    assert not raw.net_.module_.embedder.input_mean.any() and (raw.net_.module_.embedder.input_std == 1).all()
