"""sktransfer._torch_utils: tensors to and from bytes, and estimators fitted on a GPU loaded on a CPU.

No GPU is needed: pickling happens with every tensor storage tagged as CUDA memory (what
``torch.save`` writes on a GPU machine) and the fitted device attributes set to CUDA. Unpickling
such bytes on a machine without CUDA fails unless the tensors are mapped to the CPU, which is
what these tests check.
"""

import contextlib
import pickle
from unittest import mock

import numpy as np
import pytest
import torch
import torch.serialization

from sktransfer import BertFineTuneClassifier, BertVectorizer, ELMoVectorizer, FeatureHeadClassifier, _device
from sktransfer._torch_utils import tensors_from_bytes, tensors_to_bytes

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a machine without CUDA")


@contextlib.contextmanager
def saved_as_if_on_cuda():
    """Within it, ``torch.save`` (and so pickling a tensor) tags every CPU storage "cuda:0"."""
    real = torch.serialization.location_tag

    def cuda_tag(storage):
        tag = real(storage)
        return "cuda:0" if tag == "cpu" else tag

    with mock.patch.object(torch.serialization, "location_tag", cuda_tag):
        yield


def test_the_simulation_is_what_a_cpu_machine_cannot_load():
    with saved_as_if_on_cuda():
        data = pickle.dumps(torch.ones(3))
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        pickle.loads(data)


def test_tensors_saved_on_cuda_load_on_the_given_device():
    payload = {"weight": torch.arange(6.0).view(2, 3), "config": {"hidden": 3}}
    with saved_as_if_on_cuda():
        data = tensors_to_bytes(payload)
    loaded = tensors_from_bytes(data, torch.device("cpu"), weights_only=True)
    assert loaded["config"] == {"hidden": 3} and loaded["weight"].device.type == "cpu"
    torch.testing.assert_close(loaded["weight"], payload["weight"])


def fitted_on_cuda(estimator):
    """Make a fitted estimator's device attributes say CUDA, as after a fit on a GPU."""
    estimator.device_ = torch.device("cuda")
    if hasattr(estimator, "net_"):
        estimator.net_.device = "cuda"
    if hasattr(estimator, "encoder_"):
        fitted_on_cuda(estimator.encoder_)
    return estimator


def outputs(estimator, X):
    return estimator.transform(X) if hasattr(estimator, "transform") else estimator.predict_proba(X)


@pytest.fixture(params=["BertVectorizer", "ELMoVectorizer", "BertFineTuneClassifier", "FeatureHeadClassifier"])
def fitted(request, tiny_bert, elmo_files, sentiment_texts):
    X, y = sentiment_texts
    estimator = {
        "BertVectorizer": lambda: BertVectorizer(tiny_bert, batch_size=4),
        "ELMoVectorizer": lambda: ELMoVectorizer(*elmo_files, batch_size=4),
        "BertFineTuneClassifier": lambda: BertFineTuneClassifier(
            tiny_bert, max_epochs=2, batch_size=4, validation_fraction=0.25, random_state=0
        ),
        "FeatureHeadClassifier": lambda: FeatureHeadClassifier(
            BertVectorizer(tiny_bert, layers=[1, 2]), max_epochs=2, validation_fraction=0.25, random_state=0
        ),
    }[request.param]()
    return estimator.fit(X, y)


def test_fitted_on_a_gpu_loads_and_predicts_on_a_cpu(fitted, sentiment_texts):
    X, _ = sentiment_texts
    expected = outputs(fitted, X)
    with saved_as_if_on_cuda():
        data = pickle.dumps(fitted_on_cuda(fitted))
    loaded = pickle.loads(data)
    assert loaded.device_ == torch.device("cpu")
    if hasattr(loaded, "net_"):
        assert loaded.net_.device == torch.device("cpu")
        assert {p.device.type for p in loaded.net_.module_.parameters()} == {"cpu"}
    np.testing.assert_allclose(outputs(loaded, X), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cls", [BertVectorizer, BertFineTuneClassifier])
def test_auto_precision_is_resolved_again_for_the_cpu_it_lands_on(cls, tiny_bert, sentiment_texts,
                                                                  monkeypatch):
    monkeypatch.setattr(_device, "cpu_native_precisions", lambda: frozenset())  # a CPU without AMX
    X, y = sentiment_texts
    fitted = cls(tiny_bert, max_length=16, **({"max_epochs": 1} if cls is BertFineTuneClassifier else {})).fit(X, y)
    expected = outputs(fitted, X)
    fitted.precision_ = "bfloat16"  # what "auto" resolved to on the GPU it was fitted on
    if hasattr(fitted, "net_"):
        fitted.net_.module_.precision = "bfloat16"
    with saved_as_if_on_cuda():
        data = pickle.dumps(fitted_on_cuda(fitted))
    loaded = pickle.loads(data)
    assert loaded.precision_ == "float32"
    if hasattr(loaded, "net_"):
        assert loaded.net_.module_.precision == "float32"
    np.testing.assert_allclose(outputs(loaded, X), expected, rtol=0, atol=1e-6)
