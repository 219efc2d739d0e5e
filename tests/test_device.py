"""resolve_device: the ``device`` parameter of every estimator."""

import pytest
import torch

from sktransfer._device import resolve_device


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.mark.parametrize("device", ["auto", None])
def test_auto_is_the_cpu_without_cuda(no_cuda, device):
    assert resolve_device(device) == torch.device("cpu")


@pytest.mark.parametrize("device", ["auto", None])
def test_auto_is_cuda_when_available(with_cuda, device):
    assert resolve_device(device) == torch.device("cuda")


def test_auto_is_the_default_and_usable_here():
    device = resolve_device()
    assert isinstance(device, torch.device)
    assert torch.zeros(2, device=device).device.type == device.type


@pytest.mark.parametrize("device", ["cpu", "cpu:0", torch.device("cpu")])
def test_cpu_is_returned_as_given(device):
    resolved = resolve_device(device)
    assert isinstance(resolved, torch.device) and resolved == torch.device(device)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1", torch.device("cuda")])
def test_cuda_without_cuda_says_so_and_how_to_fix(no_cuda, device):
    with pytest.raises(ValueError, match=r"CUDA is not available here; use device='auto' or 'cpu'") as info:
        resolve_device(device)
    assert repr(device) in str(info.value)


@pytest.mark.parametrize(
    "device, expected", [("cuda", "cuda"), ("cuda:1", "cuda:1"), (torch.device("cuda:0"), "cuda:0")]
)
def test_cuda_when_available(with_cuda, device, expected):
    assert resolve_device(device) == torch.device(expected)


def test_mps_without_mps_says_so(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device='mps' was requested but MPS is not available here"):
        resolve_device("mps")


@pytest.mark.parametrize(
    "device, error",
    [("tpu", ValueError), ("gpu", ValueError), ("", ValueError), ("Auto", ValueError), ("cpu:x", ValueError),
     ("cuda:-", ValueError), (1.5, TypeError), (["cpu"], TypeError)],
)
def test_invalid_values_list_the_accepted_ones(device, error):
    # A wrong type is a TypeError, a string that is no device a ValueError (the estimators' rule).
    with pytest.raises(error, match=r"device must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device") as info:
        resolve_device(device)
    assert str(info.value).endswith(f"got {device!r}.")
