"""Resolve the ``device`` parameter of every estimator."""

import re
import sys

__all__ = ["DEVICE_CHOICES", "is_device_spec", "resolve_device"]

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
