"""Parameter validation: every public parameter of every estimator, through sklearn's own mechanism.

A wrong type must be catchable as TypeError, a wrong value as ValueError (sklearn's
InvalidParameterError is both), and the message must name the parameter and the value received.
"""

import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.base import is_classifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import BertFineTuneClassifier, BertVectorizer, ELMoVectorizer
from sktransfer._batching import length_sorted_batches
from sktransfer._device import is_device_spec, resolve_device
from sktransfer.feature_head import FeatureHeadClassifier
from sktransfer.word_embedding import WordEmbeddingEncoder

TEXTS = ["a great film", "a dull film", "i loved it", "i hated it"]
LABELS = ["pos", "neg", "pos", "neg"]

NO_WRONG_VALUE = object()  # every value of the accepted type is valid (booleans, callables, ...)

# parameter -> (a value of a wrong type, a value of the right type that is not allowed)
CASES = {
    BertVectorizer: {
        "model_name_or_path": (3, "  "),
        "pooling": (3, "median"),
        "layers": ("last", 7),  # 7: this model has 3 hidden states
        "max_length": (2.5, 1),
        "truncation": (3, "middle"),
        "head_fraction": ("x", 1.5),
        "stride": (1.5, -1),
        "batch_size": ("8", 0),
        "device": (3, "tpu"),
        "pretrained": ("yes", NO_WRONG_VALUE),
        "random_state": ("0", -1),
        "normalize": (1, NO_WRONG_VALUE),
        "precision": (16, "int8"),
        "cache": (3, ""),
        "verbose": ("yes", -1),
    },
    ELMoVectorizer: {
        "options_file": (3, ""),
        "weight_file": (3, " "),
        "preset": (3, "huge"),
        "layers": (None, "mean"),
        "gamma": ("1", float("inf")),
        "pooling": (3, "cls"),
        "tokenizer": ("spacy", NO_WRONG_VALUE),
        "max_tokens": (1.5, 0),
        "batch_size": (True, 0),
        "device": (0, "cuda:x"),
        "pretrained": ("yes", NO_WRONG_VALUE),
        "random_state": (1.5, 2**32),
        "cache": (3, ""),
        "verbose": ("yes", -1),
    },
    BertFineTuneClassifier: {
        "model_name_or_path": (3, ""),
        "pooling": (3, "sum"),
        "max_length": ("128", 1),
        "truncation": (3, "chunks"),  # windows give several vectors per text: features only
        "head_fraction": ("x", -0.1),
        "batch_size": (1.5, 0),
        "lr": ("x", 0),
        "max_epochs": (2.0, 0),
        "weight_decay": ("x", -0.1),
        "warmup_ratio": ("x", 1.0),
        "train_layers": (1.5, "top"),
        "dropout": ("x", 1.0),
        "validation_fraction": ("x", 1.5),
        "patience": (1.5, 0),
        "max_grad_norm": ("x", 0),
        "pretrained": ("yes", NO_WRONG_VALUE),
        "precision": (16, "int8"),
        "device": (3, "tpu"),
        "random_state": ("0", -1),
        "verbose": ("yes", -1),
        "callbacks": ("cb", NO_WRONG_VALUE),
    },
    FeatureHeadClassifier: {
        "encoder": ("elmo", StandardScaler()),  # a transformer, but without transform_tokens/transform_ids
        "head": (3, "cnn"),
        "word_embeddings": ("words", StandardScaler()),  # a transformer, but without transform_ids
        "hidden_size": (1.5, 0),
        "pooling": (3, "cls"),
        "dropout": ("x", 1.0),
        "layer_dropout": (False, -0.1),  # False is 0 to sklearn's own Interval
        "standardize": ("yes", NO_WRONG_VALUE),
        "lr": ("x", 0),
        "weight_decay": ("x", -0.1),
        "max_epochs": (2.0, 0),
        "batch_size": (True, 0),
        "validation_fraction": ("x", 1.0),
        "patience": (1.5, 0),
        "refit": ("yes", 1),
        "max_grad_norm": (True, -1.0),
        "max_feature_bytes": (1.5, 0),
        "feature_dtype": (16, "float64"),
        "device": (3, "tpu"),
        "random_state": ("0", 2**32),
        "verbose": ("yes", -1),
        "callbacks": ("cb", NO_WRONG_VALUE),
    },
    WordEmbeddingEncoder: {
        "embedding_dim": (1.5, 0),
        "min_count": (True, 0),
        "max_vocab": ("10", 0),
        "lowercase": ("yes", NO_WRONG_VALUE),
        "max_tokens": (2.5, -1),
    },
}


@pytest.fixture
def make(tiny_bert, elmo_files):
    """Build an estimator with a valid tiny model and the given parameters."""

    def build(cls, **params):
        base = {
            ELMoVectorizer: {"options_file": elmo_files[0], "weight_file": elmo_files[1]},
            FeatureHeadClassifier: {"encoder": WordEmbeddingEncoder(min_count=1), "max_epochs": 1},
            WordEmbeddingEncoder: {},
        }.get(cls, {"model_name_or_path": tiny_bert})
        return cls(**{**base, **params})

    return build


def fit(est):
    return est.fit(TEXTS, LABELS) if is_classifier(est) else est.fit(TEXTS)


def cases(which):
    return [
        pytest.param(cls, name, values[which], id=f"{cls.__name__}-{name}")
        for cls, params in CASES.items()
        for name, values in params.items()
        if values[which] is not NO_WRONG_VALUE
    ]


def assert_names_parameter_and_value(error, cls, name, value):
    message = str(error.value)
    assert isinstance(error.value, InvalidParameterError)
    assert f"The {name!r} parameter of {cls.__name__} must be " in message
    assert f"Got {value!r} instead." in message


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_every_public_parameter_is_constrained_and_tested(cls):
    public = set(cls().get_params(deep=False))
    assert set(cls._parameter_constraints) == public
    assert set(CASES[cls]) == public


@pytest.mark.parametrize("cls, name, value", cases(0))
def test_wrong_type_raises_type_error_naming_parameter_and_value(make, cls, name, value):
    with pytest.raises(TypeError) as error:
        fit(make(cls, **{name: value}))
    assert_names_parameter_and_value(error, cls, name, value)


@pytest.mark.parametrize("cls, name, value", cases(1))
def test_wrong_value_raises_value_error_naming_parameter_and_value(make, cls, name, value):
    with pytest.raises(ValueError) as error:
        fit(make(cls, **{name: value}))
    assert_names_parameter_and_value(error, cls, name, value)


def test_warmup_ratio_string_is_a_type_error_not_a_failed_comparison(make):
    with pytest.raises(TypeError) as error:
        fit(make(BertFineTuneClassifier, warmup_ratio="x"))
    message = str(error.value)
    assert "'warmup_ratio' parameter of BertFineTuneClassifier must be a float in the range [0.0, 1.0)" in message
    assert "Got 'x' instead." in message and "not supported between" not in message


@pytest.mark.parametrize(
    "cls", [BertVectorizer, ELMoVectorizer, BertFineTuneClassifier, FeatureHeadClassifier], ids=lambda c: c.__name__
)
def test_parameters_are_checked_before_the_model_is_loaded(cls):
    missing = os.path.join(os.sep, "no", "such", "model")
    model = {
        ELMoVectorizer: {"options_file": missing, "weight_file": missing},
        FeatureHeadClassifier: {"encoder": BertVectorizer(missing)},  # the encoder's model loads in fit
    }.get(cls, {"model_name_or_path": missing})
    with pytest.raises(InvalidParameterError, match="'batch_size' parameter"):
        fit(cls(**model, batch_size=0))
    with pytest.raises(OSError):  # the same path with valid parameters: ModelResolutionError, FileNotFoundError
        fit(cls(**model))


@pytest.mark.parametrize(
    "cls, name, value, problem",
    [
        (BertVectorizer, "layers", 7, "is out of range: this model has 3 hidden states"),
        (BertVectorizer, "layers", [0, -4], "is out of range: this model has 3 hidden states"),
        (BertVectorizer, "layers", [], "is empty"),
        (ELMoVectorizer, "layers", 5, "is out of range: this ELMo has 3 layers"),
        (ELMoVectorizer, "layers", [0.5, 0.5], "This ELMo has 3 layers"),
        (ELMoVectorizer, "layers", [0.5, float("nan"), 0.5], "This ELMo has 3 layers"),
    ],
)
def test_model_dependent_wrong_value_is_a_value_error_naming_parameter_and_value(make, cls, name, value, problem):
    with pytest.raises(ValueError) as error:
        fit(make(cls, **{name: value}))
    assert_names_parameter_and_value(error, cls, name, value)
    assert problem in str(error.value)


@pytest.mark.parametrize(
    "cls, value",
    [(BertVectorizer, ["0", "1"]), (BertVectorizer, [0, 1.5]), (ELMoVectorizer, ["a", "b", "c"])],
)
def test_model_dependent_wrong_type_is_a_type_error_naming_parameter_and_value(make, cls, value):
    with pytest.raises(TypeError) as error:
        fit(make(cls, layers=value))
    assert_names_parameter_and_value(error, cls, "layers", value)


def test_stride_must_leave_the_chunk_windows_room_to_advance(make):
    # max_length 6 less [CLS] and [SEP]: windows of 4 tokens of text, so stride is at most 3.
    make(BertVectorizer, truncation="chunks", max_length=6, stride=3).fit(TEXTS)
    with pytest.raises(ValueError) as error:
        make(BertVectorizer, truncation="chunks", max_length=6, stride=4).fit(TEXTS)
    assert_names_parameter_and_value(error, BertVectorizer, "stride", 4)
    assert "must be an int in [0, 3]" in str(error.value)
    make(BertVectorizer, truncation="head", max_length=6, stride=4).fit(TEXTS)  # stride is for chunks only


def test_train_layers_beyond_the_model_depth_is_a_value_error(make):
    with pytest.raises(ValueError, match=r"train_layers must be 'all' or an int in \[0, 2\] for this model, got 9"):
        fit(make(BertFineTuneClassifier, train_layers=9))


@pytest.mark.parametrize(
    "cls, params",
    [
        (BertVectorizer, {"layers": np.array([0, -1]), "batch_size": np.int64(4), "model_name_or_path": Path("m")}),
        (BertVectorizer, {"cache": joblib.Memory(None, verbose=0), "device": torch.device("cpu"), "verbose": 1}),
        (BertVectorizer, {"device": "cuda:1", "random_state": 2**32 - 1, "normalize": np.bool_(True)}),
        (BertVectorizer, {"precision": "auto"}),
        (BertVectorizer, {"precision": "float32"}),
        (BertVectorizer, {"precision": "bfloat16"}),
        (BertVectorizer, {"precision": "float16"}),
        (BertVectorizer, {"truncation": "chunks", "stride": np.int64(0), "head_fraction": 1, "pooling": "last"}),
        (BertFineTuneClassifier, {"truncation": "head+tail", "head_fraction": 0.0, "pooling": "auto"}),
        (ELMoVectorizer, {"layers": (0.2, 0.3, 0.5), "gamma": -2, "preset": "small", "max_tokens": None}),
        (ELMoVectorizer, {"layers": -1, "tokenizer": str.split, "cache": Path("c"), "device": "mps"}),
        (BertFineTuneClassifier, {"train_layers": 0, "validation_fraction": 0.2, "max_grad_norm": None, "lr": 1}),
        (BertFineTuneClassifier, {"callbacks": (), "weight_decay": 0, "warmup_ratio": 0.0, "verbose": True}),
        (BertFineTuneClassifier, {"precision": "auto"}),
        (BertFineTuneClassifier, {"precision": "float32"}),
        (BertFineTuneClassifier, {"precision": "bfloat16"}),
        (BertFineTuneClassifier, {"precision": "float16"}),
        (FeatureHeadClassifier, {"encoder": None, "validation_fraction": 0.2, "max_grad_norm": None, "lr": 1}),
        (FeatureHeadClassifier, {"device": torch.device("cpu"), "random_state": 2**32 - 1, "max_feature_bytes": None}),
        (FeatureHeadClassifier, {"callbacks": (), "weight_decay": 0, "batch_size": np.int64(4), "verbose": True}),
        (FeatureHeadClassifier, {"patience": None, "refit": True, "validation_fraction": 0.2}),
        (WordEmbeddingEncoder, {"embedding_dim": np.int64(4), "max_vocab": None, "max_tokens": None}),
    ],
)
def test_valid_values_pass(make, cls, params):
    make(cls, **params)._validate_params()


@pytest.mark.parametrize("device", ["auto", "cpu", "cpu:0", "cuda", "cuda:0", "cuda:12", "mps", torch.device("cpu")])
def test_device_spec_accepts_what_resolve_device_documents(device):
    assert is_device_spec(device)


@pytest.mark.parametrize("device", ["tpu", "CPU", "cuda:", "cuda:x", "cpu:1", " cpu", 0, None, b"cpu"])
def test_device_spec_rejects_the_rest(device):
    assert not is_device_spec(device)
    error = ValueError if isinstance(device, str) else TypeError
    if device is not None:  # resolve_device(None) means "auto"
        with pytest.raises(error, match="device must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device"):
            resolve_device(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_valid_device_this_machine_lacks_fails_in_fit_with_value_error(make):
    with pytest.raises(ValueError, match="CUDA is not available here"):
        fit(make(BertVectorizer, device="cuda:1"))


@pytest.mark.parametrize(
    "cls, name, value",
    [(BertVectorizer, "pooling", "median"), (ELMoVectorizer, "max_tokens", 0), (ELMoVectorizer, "layers", 9)],
)
def test_set_params_after_fit_is_checked_by_transform(make, cls, name, value):
    est = fit(make(cls))
    est.set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        est.transform(TEXTS)


def test_sklearn_skip_parameter_validation_is_honoured(make):
    # pooling is first used by transform, so with sklearn's validation switched off fit succeeds.
    with config_context(skip_parameter_validation=True):
        vec = fit(make(BertVectorizer, pooling="median"))
    assert vec.n_features_out_ == 32


def test_batching_helper_uses_the_same_constraint():
    with pytest.raises(
        InvalidParameterError, match=r"The 'batch_size' parameter of length_sorted_batches must be an int"
    ):
        length_sorted_batches([1, 2], True)


def test_preset_error_lists_the_published_names(make):
    with pytest.raises(
        ValueError,
        match=r"'preset' parameter of ELMoVectorizer must be None or a str among "
        r"\{'medium', 'original', 'original-5.5b', 'small'\}",
    ):
        fit(make(ELMoVectorizer, preset="huge"))
