"""Small torch helpers shared by the estimators: padding a batch, autocast for a precision."""

import contextlib

__all__ = ["PRECISIONS", "pad_batch", "autocast_context"]

PRECISIONS = ("float32", "bfloat16", "float16")


def pad_batch(token_ids, pad_id):
    """Pad a list of token-id lists to the longest one; returns (input_ids, attention_mask) LongTensors."""
    import torch

    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def autocast_context(device, precision):
    """The autocast context for ``precision`` ("float32" means none)."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, precision))
