import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sktransfer import ELMoVectorizer
from sktransfer.elmo import ElmoBiLm
from sktransfer.elmo_vectorizer import layer_mix
from sktransfer.exceptions import EmptyTextWarning
from sktransfer.tokenization import word_tokenize

TEXTS = ["I don't like it.", "A great film!", "The plot was boring and the acting awful, really awful.", "ok"]


@pytest.fixture(scope="module")
def fitted(elmo_files):
    return ELMoVectorizer(*elmo_files, batch_size=2).fit(TEXTS)


def reference(elmo_files, tokens, weights, pooling):
    """One text through the biLM's plain forward pass, mixed and pooled by hand."""
    bilm = ElmoBiLm.from_files(*elmo_files)
    from sktransfer.elmo import batch_to_ids

    with torch.no_grad():
        out = bilm(batch_to_ids([tokens]))
    layers = torch.stack(out["activations"])[:, 0]  # (3, T, D)
    words = (layers * torch.tensor(weights, dtype=torch.float32).view(-1, 1, 1)).sum(0)
    return {"mean": words.mean(0), "max": words.max(0).values}[pooling].numpy()


@pytest.mark.parametrize("pooling", ["mean", "max"])
@pytest.mark.parametrize(
    "layers, weights", [("average", [1 / 3] * 3), (2, [0, 0, 1]), ([0.5, 0.2, 0.3], [0.5, 0.2, 0.3])]
)
def test_matches_plain_forward_and_scalar_mix(elmo_files, pooling, layers, weights):
    X = ELMoVectorizer(*elmo_files, layers=layers, gamma=2.0, pooling=pooling).fit_transform(TEXTS)
    for i, text in enumerate(TEXTS):
        expected = 2.0 * reference(elmo_files, word_tokenize(text), weights, pooling)
        np.testing.assert_allclose(X[i], expected, atol=1e-5)


def test_all_layers_and_mean_max_widths(elmo_files):
    dim = ElmoBiLm.from_files(*elmo_files).output_dim
    assert ELMoVectorizer(*elmo_files, layers="all").fit_transform(TEXTS).shape == (4, 3 * dim)
    both = ELMoVectorizer(*elmo_files, pooling="mean_max").fit(TEXTS)
    X = both.transform(TEXTS)
    assert X.shape == (4, 2 * dim) and both.get_feature_names_out().shape == (2 * dim,)
    mean = ELMoVectorizer(*elmo_files, pooling="mean").fit_transform(TEXTS)
    np.testing.assert_allclose(X[:, :dim], mean, atol=1e-6)


def test_independent_of_neighbours_order_and_batch_size(elmo_files, fitted):
    X = fitted.transform(TEXTS)
    alone = np.vstack([fitted.transform([t]) for t in TEXTS])
    np.testing.assert_allclose(alone, X, atol=1e-5)
    big = ELMoVectorizer(*elmo_files, batch_size=64).fit(TEXTS)
    np.testing.assert_allclose(big.transform(TEXTS[::-1])[::-1], X, atol=1e-5)


def test_empty_texts_get_zero_rows_and_one_warning(fitted):
    texts = ["A great film!", "", "   \n", "ok"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = fitted.transform(texts)
    empty_warnings = [w for w in caught if issubclass(w.category, EmptyTextWarning)]
    assert len(empty_warnings) == 1 and "2 of 4" in str(empty_warnings[0].message)
    assert X.shape == (4, fitted.n_features_out_)
    assert not X[1].any() and not X[2].any() and X[0].any() and X[3].any()


def test_pretokenized_input_and_custom_tokenizer(fitted, elmo_files):
    X = fitted.transform(TEXTS)
    np.testing.assert_allclose(fitted.transform([word_tokenize(t) for t in TEXTS]), X, atol=1e-6)
    split = ELMoVectorizer(*elmo_files, tokenizer=str.split).fit(TEXTS)
    np.testing.assert_allclose(split.transform(["ok"]), X[3:4], atol=1e-6)


def test_max_tokens_truncates(elmo_files):
    vec = ELMoVectorizer(*elmo_files, max_tokens=3).fit(["x"])
    np.testing.assert_allclose(vec.transform(["a b c d e f"]), vec.transform(["a b c"]), atol=1e-6)


def test_exotic_and_huge_texts(fitted):
    X = fitted.transform(["日本語 🙂 \u200b naïve", "word " * 5000])
    assert np.isfinite(X).all() and X.shape[0] == 2


def test_random_twin(elmo_files, fresh_model_memo):
    options, _ = elmo_files
    first = ELMoVectorizer(options, pretrained=False, random_state=0)
    a = first.fit_transform(TEXTS)
    fresh_model_memo()  # else the second fit is handed the first one's biLM and the seed goes untested
    second = ELMoVectorizer(options, pretrained=False, random_state=0)
    b = second.fit_transform(TEXTS)
    c = ELMoVectorizer(*elmo_files).fit_transform(TEXTS)
    assert second.bilm_ is not first.bilm_
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-2


def test_random_twins_with_different_seeds_differ(elmo_files, fresh_model_memo):
    options, _ = elmo_files
    zero = ELMoVectorizer(options, pretrained=False, random_state=0).fit_transform(TEXTS)
    one = ELMoVectorizer(options, pretrained=False, random_state=1).fit_transform(TEXTS)
    assert np.abs(zero - one).max() > 1e-2


def test_layer_mix_parsing():
    np.testing.assert_allclose(layer_mix("average", 3)[0], [1 / 3] * 3)
    np.testing.assert_allclose(layer_mix(-1, 3)[0], [0, 0, 1])
    assert layer_mix("all", 3) is None
    for bad in ["mean", 3, [1, 2], [1, 2, float("nan")], None]:
        with pytest.raises(ValueError, match="layers"):
            layer_mix(bad, 3)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"options_file": "o.json"}, ValueError, "no weight_file"),
        ({"weight_file": "w.hdf5"}, ValueError, "no options_file"),
        ({"pooling": "cls"}, ValueError, "pooling"),
        ({"max_tokens": 0}, ValueError, "max_tokens"),
        ({"tokenizer": "spacy"}, TypeError, "tokenizer"),
        ({"layers": 5}, ValueError, "out of range"),
    ],
)
def test_bad_params(elmo_files, params, error, match):
    base = (
        {}
        if "options_file" in params or "weight_file" in params or not params
        else dict(zip(("options_file", "weight_file"), elmo_files))
    )
    with pytest.raises(error, match=match):
        ELMoVectorizer(**{**base, **params}).fit(TEXTS)


def test_bad_tokenizer_output(elmo_files):
    with pytest.raises(TypeError, match="tokenizer must return a list of str"):
        ELMoVectorizer(*elmo_files, tokenizer=lambda t: t).fit_transform(TEXTS)


def test_not_fitted_and_bad_input(elmo_files, fitted):
    with pytest.raises(NotFittedError):
        ELMoVectorizer(*elmo_files).transform(TEXTS)
    with pytest.raises(TypeError, match="Wrap one text"):
        fitted.transform("one text")
    with pytest.raises(TypeError, match=r"\[1\]"):
        fitted.transform(["ok", None])


def test_without_embedded_model_the_error_says_what_to_pass(monkeypatch):
    import sktransfer.elmo.embedded as embedded

    monkeypatch.setattr(embedded, "embedded_model_files", lambda: None)
    with pytest.raises(ValueError, match="needs a model and this installation lacks the embedded one"):
        ELMoVectorizer().fit(TEXTS)


def test_default_is_the_embedded_imdb_model_offline(monkeypatch):
    import urllib.request

    from sktransfer.elmo.embedded import EMBEDDED_MODEL_DIR

    def no_network(*args, **kwargs):
        raise AssertionError("ELMoVectorizer() must not touch the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    vec = ELMoVectorizer().fit(TEXTS)
    assert (EMBEDDED_MODEL_DIR / "weights.hdf5").stat().st_size < 25 * 2**20
    X = vec.transform(["A wonderful film, I loved it.", "A dreadful film, I hated it."])
    assert X.shape == (2, vec.n_features_out_) and np.isfinite(X).all() and np.abs(X[0] - X[1]).max() > 1e-3


def test_tokens_per_bilm_call_are_bounded_and_rows_kept(elmo_files, monkeypatch):
    # max_tokens=None keeps a long text whole; the biLM still sees at most 64 * batch_size padded
    # tokens per call (one long text alone), so memory does not grow with the longest text times
    # the batch. The full-size runs (100,000 words; 100,000 texts) are in docs/reliability.md.
    from sktransfer import elmo_vectorizer

    monkeypatch.setattr(elmo_vectorizer, "_TOKENS_PER_TEXT_OF_BATCH", 16)
    vec = ELMoVectorizer(*elmo_files, max_tokens=None, batch_size=4).fit(["x"])
    calls = []
    embed = vec.bilm_.embed_tokens

    def spy(token_lists, **kwargs):
        calls.append([len(t) for t in token_lists])
        return embed(token_lists, **kwargs)

    monkeypatch.setattr(vec.bilm_, "embed_tokens", spy)
    words = "the cat sat on the mat".split()
    long_text = " ".join(words[i % 6] for i in range(300))
    texts = [f"text {i} {words[i % 6]}" for i in range(200)]
    texts.insert(57, long_text)
    X = vec.transform(texts)
    assert X.shape == (201, vec.n_features_out_) and np.isfinite(X).all()
    assert [300] in calls  # the long text alone, whole
    assert all(len(c) * max(c) <= 4 * 16 for c in calls if c != [300])
    # Rows in input order: each equals the text embedded on its own.
    np.testing.assert_allclose(X[57], vec.transform([long_text])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(X[[0, 100, 200]], vec.transform([texts[0], texts[100], texts[200]]), rtol=1e-5,
                               atol=1e-6)
