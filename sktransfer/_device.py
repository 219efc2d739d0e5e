"""Resolve the ``device`` and ``precision`` parameters of every estimator: what the hardware runs.

The hardware questions (is CUDA there, does this CPU or GPU compute bfloat16 natively) are asked
here and nowhere else, so tests can answer them by monkeypatching :func:`cpu_native_precisions`
and :func:`cuda_native_bfloat16`.
"""

import functools
import re
import sys
import warnings

from .exceptions import SlowPrecisionWarning

__all__ = [
    "DEVICE_CHOICES",
    "PRECISION_CHOICES",
    "auto_precision",
    "cpu_native_precisions",
    "cuda_native_bfloat16",
    "is_device_spec",
    "relocate_fitted",
    "resolve_device",
    "resolve_precision",
]

#: The strings a ``device`` parameter may be ("cuda:N" stands for "cuda:0", "cuda:1", ...).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
# "cpu:0" is what torch prints for the CPU; it is accepted as well.
_DEVICE_STRING = re.compile(r"auto|cpu(:0)?|cuda(:\d+)?|mps")


def is_device_spec(device):
    """Whether ``device`` is one of :data:`DEVICE_CHOICES` or a :class:`torch.device`.

    Whether the machine has that device is not checked here; :func:`resolve_device` does.
    """
    if isinstance(device, str):
        return _DEVICE_STRING.fullmatch(device) is not None
    # Without torch imported, nothing can be a torch.device: no need to import it to say so.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(device, torch.device)


def resolve_device(device="auto"):
    """Turn a ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device
        ``"auto"`` picks CUDA when available, else CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        When ``device`` is neither a str nor a torch.device.
    ValueError
        When it is another string, or names a device this machine does not have.
    """
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not is_device_spec(device):
        error = ValueError if isinstance(device, str) else TypeError
        raise error(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device; got {device!r}."
        )
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available here; use device='auto' or 'cpu'.")
    if resolved.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r} was requested but MPS is not available here; use device='auto' or 'cpu'.")
    return resolved


def relocate_fitted(estimator):
    """Settle an unpickled estimator on this machine; returns the device its tensors must go to.

    That is its ``device_`` when this machine has it, else the CPU (fitted on a GPU, loaded
    without one). ``device_`` is set to it and, when the device changed and ``precision`` is
    "auto", ``precision_`` is resolved again: "auto" means what this hardware runs best.

    Parameters
    ----------
    estimator : object
        With the fitted attribute ``device_`` (and possibly ``precision`` / ``precision_``).

    Returns
    -------
    torch.device
    """
    import torch

    fitted = getattr(estimator, "device_", None)
    try:
        device = resolve_device("cpu" if fitted is None else fitted)
    except ValueError:  # fitted on a device this machine does not have
        device = resolve_device("cpu")
    moved = fitted is not None and device != torch.device(fitted)
    if moved and getattr(estimator, "precision", None) == "auto":
        estimator.precision_ = resolve_precision("auto", device)
    estimator.device_ = device
    return device


# -- precision -----------------------------------------------------------------------------------
#: The values of a ``precision`` parameter: "auto" and the autocast precisions.
PRECISION_CHOICES = ("auto", "float32", "bfloat16", "float16")

# Measured on CPUs without AMX (docs/precision.md): reduced-precision autocast ran slower than float32.
_MEASURED_SLOWER = (
    "on CPUs without AMX, reduced-precision autocast was measured slower than float32 "
    "(MiniLM features in bfloat16: 0.66-0.68x float32 on an Intel Xeon with AVX512-BF16, "
    "0.18-0.30x on an AMD EPYC with AVX2; see docs/precision.md)"
)


def _cpu_flags():
    """The CPU feature flags of /proc/cpuinfo (empty where there is none, e.g. macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@functools.cache
def cpu_native_precisions():
    """The reduced precisions this CPU multiplies on AMX tiles: a subset of {"bfloat16", "float16"}.

    AMX-BF16 (Intel Sapphire Rapids and later) and AMX-FP16 (Granite Rapids) run matrix products in
    those precisions natively; without AMX, PyTorch's CPU autocast converts and was measured slower
    than float32, even with AVX512-BF16 (see docs/precision.md). Asked of PyTorch where it can say,
    else read from /proc/cpuinfo; cached for the process.

    Returns
    -------
    frozenset of str
    """
    import torch

    probes = {"bfloat16": "_is_amx_tile_supported", "float16": "_is_amx_fp16_supported"}
    flags = None
    native = set()
    for precision, probe in probes.items():
        ask = getattr(torch.cpu, probe, None)  # private PyTorch probes; absent from old versions
        if ask is not None:
            supported = bool(ask())
        else:
            flags = _cpu_flags() if flags is None else flags
            supported = {"bfloat16": "amx_bf16", "float16": "amx_fp16"}[precision] in flags
        if supported:
            native.add(precision)
    return frozenset(native)


def cuda_native_bfloat16(device):
    """Whether the CUDA device computes bfloat16 natively: compute capability 8.0 or later (Ampere on).

    Older GPUs emulate bfloat16; they run float16 on tensor cores, but float16 training needs a
    loss scaler that these estimators do not use, so "auto" keeps them on float32.
    """
    import torch

    return torch.cuda.get_device_capability(device)[0] >= 8


def auto_precision(device):
    """The precision ``precision="auto"`` means on ``device``.

    "bfloat16" on a CUDA GPU with native bfloat16 (compute capability >= 8.0) and on a CPU with
    AMX-BF16; "float32" everywhere else (CPUs without AMX, older GPUs, MPS).

    Parameters
    ----------
    device : torch.device

    Returns
    -------
    str
    """
    if device.type == "cuda":
        native = cuda_native_bfloat16(device)
    elif device.type == "cpu":
        native = "bfloat16" in cpu_native_precisions()
    else:
        native = False
    return "bfloat16" if native else "float32"


def resolve_precision(precision, device, *, caller=None):
    """Turn a ``precision`` parameter into the autocast precision used on ``device``.

    ``"auto"`` becomes :func:`auto_precision`. An explicit "bfloat16" or "float16" is kept, with
    one :class:`~sktransfer.exceptions.SlowPrecisionWarning` when ``device`` is a CPU that does not
    compute it natively (no AMX), where it was measured slower than float32.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16", "float16"}
    device : torch.device
    caller : str, optional
        The estimator's class name, for the warning.

    Returns
    -------
    {"float32", "bfloat16", "float16"}
    """
    if precision == "auto":
        return auto_precision(device)
    if precision not in PRECISION_CHOICES:
        raise ValueError(f"precision must be one of {PRECISION_CHOICES}, got {precision!r}.")
    if precision != "float32" and device.type == "cpu" and precision not in cpu_native_precisions():
        owner = f"{caller}(precision={precision!r})" if caller else f"precision={precision!r}"
        warnings.warn(
            f"{owner} runs on a CPU without AMX support for {precision}: {_MEASURED_SLOWER}. "
            "For speed use precision='auto' (float32 here) or 'float32'; to keep "
            f"{precision} anyway, silence this with warnings.filterwarnings('ignore', "
            "category=sktransfer.exceptions.SlowPrecisionWarning).",
            SlowPrecisionWarning,
            stacklevel=3,
        )
    return precision
