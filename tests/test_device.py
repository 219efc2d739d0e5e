"""resolve_device and resolve_precision: the ``device`` and ``precision`` parameters of every estimator."""

import pytest
import torch

from sktransfer import _device
from sktransfer._device import auto_precision, resolve_device, resolve_precision
from sktransfer.exceptions import SlowPrecisionWarning


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


# -- precision ---------------------------------------------------------------------------------
CPU, CUDA, MPS = torch.device("cpu"), torch.device("cuda"), torch.device("mps")


@pytest.fixture
def gpu_capability(monkeypatch):
    def set_capability(major, minor=0):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, minor))

    return set_capability


@pytest.mark.parametrize("native, expected", [((), "float32"), (("bfloat16",), "bfloat16"), (("float16",), "float32")])
def test_auto_on_the_cpu_is_bfloat16_only_with_amx_bf16(cpu_amx, native, expected):
    cpu_amx(*native)
    assert auto_precision(CPU) == expected
    assert resolve_precision("auto", CPU) == expected


@pytest.mark.parametrize("capability, expected", [((8, 0), "bfloat16"), ((9, 0), "bfloat16"), ((7, 5), "float32")])
def test_auto_on_cuda_is_bfloat16_from_compute_capability_8(gpu_capability, cpu_amx, capability, expected):
    gpu_capability(*capability)
    cpu_amx("bfloat16")  # the CPU does not matter for a CUDA device
    assert resolve_precision("auto", CUDA) == expected


def test_auto_on_mps_is_float32(cpu_amx):
    cpu_amx("bfloat16")
    assert resolve_precision("auto", MPS) == "float32"


def test_cpu_probe_reads_cpuinfo_where_torch_cannot_say(monkeypatch):
    for probe in ("_is_amx_tile_supported", "_is_amx_fp16_supported"):
        monkeypatch.delattr(torch.cpu, probe, raising=False)
    _device.cpu_native_precisions.cache_clear()
    try:
        monkeypatch.setattr(_device, "_cpu_flags", lambda: {"avx512_bf16", "amx_bf16", "amx_tile"})
        assert _device.cpu_native_precisions() == {"bfloat16"}
        _device.cpu_native_precisions.cache_clear()
        monkeypatch.setattr(_device, "_cpu_flags", lambda: {"avx2", "avx512_bf16"})  # AVX512-BF16 is not AMX
        assert _device.cpu_native_precisions() == frozenset()
    finally:
        _device.cpu_native_precisions.cache_clear()


def test_cpu_probe_asks_torch_first(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_fp16_supported", lambda: False, raising=False)
    monkeypatch.setattr(_device, "_cpu_flags", lambda: set())
    _device.cpu_native_precisions.cache_clear()
    try:
        assert _device.cpu_native_precisions() == {"bfloat16"}
    finally:
        _device.cpu_native_precisions.cache_clear()


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_explicit_reduced_precision_on_a_cpu_without_amx_warns_once_and_is_kept(cpu_amx, precision):
    cpu_amx()
    with pytest.warns(SlowPrecisionWarning) as record:
        assert resolve_precision(precision, CPU, caller="BertVectorizer") == precision
    assert len(record) == 1
    message = str(record[0].message)
    assert f"BertVectorizer(precision={precision!r}) runs on a CPU without AMX support for {precision}" in message
    assert "measured slower than float32" in message and "docs/precision.md" in message  # what was measured
    assert "precision='auto'" in message and "filterwarnings('ignore'" in message  # how to fix or silence


@pytest.mark.parametrize(
    "precision, device, native",
    [("auto", CPU, ()), ("float32", CPU, ()), ("bfloat16", CPU, ("bfloat16",)), ("float16", CPU, ("float16",)),
     ("bfloat16", CUDA, ()), ("float16", CUDA, ())],
)
def test_no_warning_where_the_precision_is_native_or_float32(cpu_amx, recwarn, precision, device, native):
    cpu_amx(*native)
    expected = "float32" if precision == "auto" else precision
    assert resolve_precision(precision, device) == expected
    assert not [w for w in recwarn if issubclass(w.category, SlowPrecisionWarning)]


def test_unknown_precision_is_a_value_error():
    with pytest.raises(ValueError, match=r"precision must be one of \('auto', 'float32', 'bfloat16', 'float16'\)"):
        resolve_precision("int8", CPU)


class Fitted:
    def __init__(self, device, precision="auto", precision_="bfloat16"):
        self.device_, self.precision, self.precision_ = torch.device(device), precision, precision_


@pytest.mark.parametrize("precision, expected", [("auto", "float32"), ("bfloat16", "bfloat16")])
def test_relocate_fitted_moves_a_cuda_estimator_to_the_cpu_and_resolves_auto_again(
    no_cuda, cpu_amx, precision, expected
):
    cpu_amx()
    fitted = Fitted("cuda", precision)
    assert _device.relocate_fitted(fitted) == CPU
    assert fitted.device_ == CPU and fitted.precision_ == expected  # an explicit precision is kept


def test_relocate_fitted_keeps_a_device_this_machine_has(with_cuda, cpu_amx):
    cpu_amx()
    fitted = Fitted("cuda:0")
    assert _device.relocate_fitted(fitted) == torch.device("cuda:0")
    assert fitted.precision_ == "bfloat16"  # same device: what fit resolved stands
    on_cpu = Fitted("cpu", precision_="float32")
    assert _device.relocate_fitted(on_cpu) == CPU and on_cpu.precision_ == "float32"
