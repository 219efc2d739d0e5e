"""Small torch helpers shared by the estimators: padding a batch, autocast, tensors to and from bytes."""

import contextlib
import io

__all__ = ["PRECISIONS", "pad_batch", "autocast_context", "tensors_to_bytes", "tensors_from_bytes"]

PRECISIONS = ("float32", "bfloat16", "float16")


def pad_batch(token_ids, pad_id):
    """Pad token-id rows (lists or int arrays) to the longest one; returns (input_ids, attention_mask) LongTensors."""
    import torch

    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def autocast_context(device, precision):
    """The autocast context for ``precision`` ("float32" means none) on ``device`` (a torch.device)."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, precision))


def tensors_to_bytes(obj):
    """``obj`` (tensors, modules, or objects holding them) serialised by ``torch.save``.

    Every tensor storage is tagged with the device it lives on, which lets
    :func:`tensors_from_bytes` move it: how an estimator fitted on a GPU is pickled.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def tensors_from_bytes(data, device, *, weights_only):
    """What :func:`tensors_to_bytes` wrote, with every tensor loaded onto ``device``.

    Parameters
    ----------
    data : bytes
    device : torch.device
        Where the tensors go, whichever device they were saved from: on a machine without CUDA,
        tensors saved from a GPU cannot be loaded anywhere else than the CPU.
    weights_only : bool
        True for plain data (dicts of tensors and primitives); False for whole objects (a skorch
        net), which unpickles arbitrary classes and is only used inside the unpickling of an
        estimator, which does the same already.
    """
    import torch

    return torch.load(io.BytesIO(data), map_location=device, weights_only=weights_only)
