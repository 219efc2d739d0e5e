"""Pool per-token vectors into one vector per text, respecting the padding mask (pure torch)."""

__all__ = ["POOLING_METHODS", "pool"]

POOLING_METHODS = ("mean", "max", "mean_max", "cls", "last")


def pool(hidden, mask, method="mean"):
    """Pool ``hidden`` over the token axis.

    Parameters
    ----------
    hidden : Tensor of shape (batch, tokens, dim)
    mask : Tensor of shape (batch, tokens)
        1 (or True) for real tokens, 0 for padding.
    method : {"mean", "max", "mean_max", "cls", "last"}
        ``"mean"``: average of the real tokens; ``"max"``: element-wise maximum over the real
        tokens; ``"mean_max"``: both, concatenated (a common sentence vector, twice as wide);
        ``"cls"``: the first position (BERT's [CLS] token); ``"last"``: the last real token (the
        one a decoder-only model such as GPT-2 has read the whole text into), wherever the
        padding is (left or right).
        A row with no real tokens pools to zeros, whatever the method but "cls".

    Returns
    -------
    Tensor of shape (batch, dim), or (batch, 2 * dim) for "mean_max"
    """
    import torch

    if method == "cls":
        return hidden[:, 0]
    m = mask.to(hidden.dtype).unsqueeze(-1)
    if method == "mean":
        # clamp: an all-padding row gives 0 / 1 = 0 rather than NaN.
        return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    if method == "max":
        filled = hidden.masked_fill(m == 0, torch.finfo(hidden.dtype).min)
        pooled = filled.max(dim=1).values
        return torch.where(m.sum(dim=1) > 0, pooled, torch.zeros_like(pooled))
    if method == "last":
        # The highest position whose mask is set: positions are weighted 1..T, padding weighs 0.
        weights = mask.to(torch.long) * torch.arange(1, mask.shape[1] + 1, device=mask.device)
        last = hidden[torch.arange(hidden.shape[0], device=hidden.device), weights.argmax(dim=1)]
        return torch.where(weights.amax(dim=1, keepdim=True) > 0, last, torch.zeros_like(last))
    if method == "mean_max":
        return torch.cat([pool(hidden, mask, "mean"), pool(hidden, mask, "max")], dim=-1)
    raise ValueError(f"pooling must be one of {POOLING_METHODS}, got {method!r}.")
