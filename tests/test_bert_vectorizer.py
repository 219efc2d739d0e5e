import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError

from sktransfer import BertVectorizer
from sktransfer.exceptions import SlowPrecisionWarning

TEXTS = ["a great film", "the plot was very boring and the acting was awful", "", "wonderful !", "i hated it"]


def reference_features(path, texts, *, pooling="mean", layers=-1, max_length=256):
    """A plain transformers forward pass, one text at a time, with mask pooling: the oracle."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tok([text], truncation=True, max_length=max_length, return_tensors="pt")
            out = model(**enc, output_hidden_states=True)
            hidden = (
                out.hidden_states[layers]
                if isinstance(layers, int)
                else torch.stack([out.hidden_states[i] for i in layers]).mean(0)
            )
            m = enc["attention_mask"].unsqueeze(-1).float()
            if pooling == "mean":
                rows.append(((hidden * m).sum(1) / m.sum(1))[0])
            elif pooling == "cls":
                rows.append(hidden[0, 0])
            else:
                rows.append(hidden[0].max(0).values)
    return torch.stack(rows).numpy()


@pytest.fixture(scope="module")
def fitted(tiny_bert):
    return BertVectorizer(tiny_bert, batch_size=2).fit(TEXTS)


def test_shape_dtype_and_feature_names(fitted):
    X = fitted.transform(TEXTS)
    assert X.shape == (len(TEXTS), 32) and X.dtype == np.float32
    assert fitted.n_features_out_ == 32
    names = fitted.get_feature_names_out()
    assert len(names) == 32 and names[0] == "bertvectorizer0"


@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
@pytest.mark.parametrize("layers", [-1, 0, [1, 2]])
def test_matches_plain_transformers_forward(tiny_bert, pooling, layers):
    # float32: "auto" is bfloat16 on a CPU with AMX, and the oracle is a float32 forward.
    vec = BertVectorizer(tiny_bert, pooling=pooling, layers=layers, batch_size=3, precision="float32")
    X = vec.fit_transform(TEXTS)
    expected = reference_features(tiny_bert, TEXTS, pooling=pooling, layers=layers)
    np.testing.assert_allclose(X, expected, atol=1e-5, rtol=0)


def test_output_does_not_depend_on_batching_or_order(tiny_bert, fitted):
    X = fitted.transform(TEXTS)
    one_by_one = BertVectorizer(tiny_bert, batch_size=1).fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(X, one_by_one, atol=1e-5)
    perm = np.array([3, 0, 4, 2, 1])
    np.testing.assert_allclose(fitted.transform([TEXTS[i] for i in perm]), X[perm], atol=1e-5)


def test_subset_invariance(fitted):
    X = fitted.transform(TEXTS)
    np.testing.assert_allclose(fitted.transform(TEXTS[1:3]), X[1:3], atol=1e-5)


def test_truncation(tiny_bert):
    vec = BertVectorizer(tiny_bert, max_length=4).fit(["x"])
    long_text = "a great film " * 5000
    np.testing.assert_allclose(vec.transform([long_text]), vec.transform(["a great"]), atol=1e-5)


def test_normalize(tiny_bert):
    X = BertVectorizer(tiny_bert, normalize=True).fit_transform(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)


def test_empty_and_exotic_texts_keep_their_rows(fitted):
    texts = ["", "   ", "日本語 🙂 \u200b", "a great film"]
    X = fitted.transform(texts)
    assert X.shape == (4, 32) and np.isfinite(X).all()
    # empty and whitespace-only texts are both just [CLS] [SEP]
    np.testing.assert_allclose(X[0], X[1], atol=1e-6)


def test_random_twin_differs_and_is_seeded(tiny_bert, fresh_model_memo):
    pre = BertVectorizer(tiny_bert).fit_transform(TEXTS)
    # Each fit starts from another global RNG state: random_state alone must decide the weights.
    torch.manual_seed(100)
    first = BertVectorizer(tiny_bert, pretrained=False, random_state=0)
    r1 = first.fit_transform(TEXTS)
    fresh_model_memo()  # else the second fit is handed the first one's model and the seed goes untested
    torch.manual_seed(200)
    second = BertVectorizer(tiny_bert, pretrained=False, random_state=0)
    r2 = second.fit_transform(TEXTS)
    assert second.model_ is not first.model_
    np.testing.assert_array_equal(r1, r2)
    assert np.abs(r1 - pre).max() > 1e-2


def test_random_twins_with_different_seeds_differ(tiny_bert, fresh_model_memo):
    zero = BertVectorizer(tiny_bert, pretrained=False, random_state=0).fit_transform(TEXTS)
    one = BertVectorizer(tiny_bert, pretrained=False, random_state=1).fit_transform(TEXTS)
    assert np.abs(zero - one).max() > 1e-2


@pytest.mark.parametrize(
    "precision, dtype", [("float32", torch.float32), ("bfloat16", torch.bfloat16), ("float16", torch.float16)]
)
def test_precision_is_the_dtype_inside_the_forward(tiny_bert, cpu_amx, precision, dtype):
    cpu_amx("bfloat16", "float16")  # a CPU that runs them natively: no SlowPrecisionWarning
    vec = BertVectorizer(tiny_bert, precision=precision).fit(TEXTS)
    assert vec.precision_ == precision
    first_linear = next(m for m in vec.model_.modules() if isinstance(m, torch.nn.Linear))
    seen = []
    handle = first_linear.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    try:
        X = vec.transform(TEXTS)
    finally:
        handle.remove()  # the model is shared with other vectorizers through the memo
    assert seen and set(seen) == {dtype}
    assert X.dtype == np.float32


def test_bfloat16_close_to_float32(tiny_bert, cpu_amx):
    cpu_amx("bfloat16")
    full = BertVectorizer(tiny_bert, precision="float32").fit_transform(TEXTS)
    half = BertVectorizer(tiny_bert, precision="bfloat16").fit_transform(TEXTS)
    assert half.dtype == np.float32
    cos = (full * half).sum(1) / np.linalg.norm(full, axis=1) / np.linalg.norm(half, axis=1)
    assert cos.min() > 0.99


def first_linear_dtypes(vec, texts):
    first_linear = next(m for m in vec.model_.modules() if isinstance(m, torch.nn.Linear))
    seen = []
    handle = first_linear.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    try:
        vec.transform(texts)
    finally:
        handle.remove()  # the model is shared with other vectorizers through the memo
    return set(seen)


def test_auto_is_the_default_and_float32_on_a_cpu_without_amx(tiny_bert, cpu_amx, recwarn):
    cpu_amx()
    vec = BertVectorizer(tiny_bert).fit(TEXTS)
    assert vec.precision == "auto" and vec.precision_ == "float32"
    # The default changed from "float32" to "auto": the same vectors, bit for bit, on such a CPU.
    float32 = BertVectorizer(tiny_bert, precision="float32").fit_transform(TEXTS)
    np.testing.assert_array_equal(vec.transform(TEXTS), float32)
    assert first_linear_dtypes(vec, TEXTS) == {torch.float32}
    assert not [w for w in recwarn if issubclass(w.category, SlowPrecisionWarning)]


def test_auto_is_bfloat16_on_a_cpu_with_amx(tiny_bert, cpu_amx):
    cpu_amx("bfloat16")
    vec = BertVectorizer(tiny_bert, precision="auto").fit(TEXTS)
    assert vec.precision_ == "bfloat16"
    assert first_linear_dtypes(vec, TEXTS) == {torch.bfloat16}


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_explicit_reduced_precision_on_a_cpu_without_amx_warns_once(tiny_bert, cpu_amx, precision):
    cpu_amx()
    with pytest.warns(SlowPrecisionWarning, match=f"BertVectorizer\\(precision='{precision}'\\)") as record:
        vec = BertVectorizer(tiny_bert, precision=precision).fit(TEXTS)
        vec.transform(TEXTS)
    assert len([w for w in record if issubclass(w.category, SlowPrecisionWarning)]) == 1
    assert vec.precision_ == precision  # asked for, so kept


def test_the_cache_is_keyed_by_the_resolved_precision(tiny_bert, cpu_amx, tmp_path):
    cpu_amx("bfloat16")
    auto_bf16 = BertVectorizer(tiny_bert, precision="auto", cache=tmp_path).fit(TEXTS)
    first = auto_bf16.transform(TEXTS)
    explicit = BertVectorizer(tiny_bert, precision="bfloat16", cache=tmp_path).fit(TEXTS)
    assert explicit._cache_namespace(dim=32) == auto_bf16._cache_namespace(dim=32)
    np.testing.assert_array_equal(explicit.transform(TEXTS), first)  # read back: the same resolved precision
    cpu_amx()  # the same cache on a CPU without AMX: "auto" is float32 there and must not read bfloat16 vectors
    auto_fp32 = BertVectorizer(tiny_bert, precision="auto", cache=tmp_path).fit(TEXTS)
    assert auto_fp32._cache_namespace(dim=32) != auto_bf16._cache_namespace(dim=32)
    float32 = BertVectorizer(tiny_bert, precision="float32").fit_transform(TEXTS)
    np.testing.assert_array_equal(auto_fp32.transform(TEXTS), float32)
    assert np.abs(auto_fp32.transform(TEXTS) - first).max() > 0


def test_pandas_output_and_column_transformer(fitted, tiny_bert):
    fitted.set_output(transform="pandas")
    try:
        frame = fitted.transform(pd.Series(TEXTS, index=range(100, 105)))
    finally:
        fitted.set_output(transform="default")
    assert isinstance(frame, pd.DataFrame) and list(frame.columns[:2]) == ["bertvectorizer0", "bertvectorizer1"]
    df = pd.DataFrame({"review": TEXTS, "stars": [5, 1, 3, 5, 1]})
    ct = ColumnTransformer([("bert", BertVectorizer(tiny_bert), "review")], remainder="passthrough")
    out = ct.fit_transform(df)
    assert out.shape == (5, 33)
    np.testing.assert_allclose(out[:, :32], fitted.transform(TEXTS), atol=1e-5)
    ct_list = ColumnTransformer([("bert", BertVectorizer(tiny_bert), ["review"])])
    np.testing.assert_allclose(ct_list.fit_transform(df), fitted.transform(TEXTS), atol=1e-5)


def test_not_fitted(tiny_bert):
    with pytest.raises(NotFittedError):
        BertVectorizer(tiny_bert).transform(TEXTS)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"pooling": "median"}, "pooling"),
        ({"layers": 7}, "out of range"),
        ({"layers": "last"}, "'layers' parameter of BertVectorizer must be"),
        ({"max_length": 0}, "max_length"),
        ({"batch_size": 0}, "batch_size"),
        ({"precision": "int8"}, "precision"),
        ({"device": "tpu"}, "'device' parameter of BertVectorizer must be"),
    ],
)
def test_bad_params_fail_in_fit_with_clear_message(tiny_bert, params, match):
    vec = BertVectorizer(tiny_bert, **params)  # __init__ never validates
    with pytest.raises(ValueError, match=match):
        vec.fit(TEXTS)


def test_bad_inputs(fitted):
    with pytest.raises(TypeError, match="Wrap one text"):
        fitted.transform("a single text")
    with pytest.raises(TypeError, match=r"\[1\]"):
        fitted.transform(["ok", None])
    with pytest.raises(ValueError, match="0 texts"):
        fitted.transform([])


def test_pickles_after_using_hidden_states(tiny_bert):
    import pickle

    vec = BertVectorizer(tiny_bert, layers=[0, 2]).fit(TEXTS)
    expected = vec.transform(TEXTS)  # transformers may install forward hooks on the model here
    loaded = pickle.loads(pickle.dumps(vec))
    np.testing.assert_array_equal(loaded.transform(TEXTS), expected)
    assert loaded.model_ is not vec.model_ and not loaded.model_.training


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_fitted_on_a_gpu_unpickles_onto_the_cpu(tiny_bert, sentiment_texts):
    # The pickled state holds the model on the CPU and the device it was fitted on; a machine without
    # that device loads it onto the CPU. Simulated: this machine has no GPU to fit on.
    import pickle

    X, _ = sentiment_texts
    vec = BertVectorizer(tiny_bert).fit(X)
    expected = vec.transform(X)
    vec.device_ = torch.device("cuda", 0)
    restored = pickle.loads(pickle.dumps(vec))
    assert restored.device_ == torch.device("cpu")
    assert next(restored.model_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(restored.transform(X), expected, atol=1e-6)
