"""Length-sorted batching with the input order restored: one implementation for every model.

Sorting by length before batching means each batch is padded only to its own longest item, so
short texts do not pay for long ones; the outputs are scattered back to input positions, so the
caller never sees the sorted order.
"""

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._params import BATCH_SIZE, OPTIONAL_POSITIVE_INT

__all__ = ["length_sorted_batches", "map_batches"]


# The estimators validate batch_size when they are fitted; inside fit this check is skipped
# (prefer_skip_nested_validation), outside it guards direct callers with the same constraint.
@validate_params(
    {"lengths": ["array-like"], "batch_size": BATCH_SIZE, "max_tokens": OPTIONAL_POSITIVE_INT},
    prefer_skip_nested_validation=True,
)
def length_sorted_batches(lengths, batch_size, max_tokens=None):
    """Split positions into batches of similar length, longest first.

    Longest first makes the first batch the most memory-hungry one, so an out-of-memory error
    shows up at once rather than at the end of a long run.

    Parameters
    ----------
    lengths : sequence of int
    batch_size : int
        At most this many items per batch.
    max_tokens : int or None, default=None
        At most this many padded tokens per batch (items x the batch's longest length), so that
        the memory a batch takes is bounded however long the texts are; an item longer than this
        gets a batch of its own. None: no bound.

    Returns
    -------
    list of ndarray of int
        Positions into the original sequence; together they cover every position exactly once.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    if max_tokens is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    batches, start = [], 0
    while start < len(order):
        longest = max(int(lengths[order[start]]), 1)  # the first item of a batch is its longest
        size = min(batch_size, max(1, max_tokens // longest))
        batches.append(order[start : start + size])
        start += size
    return batches


def map_batches(fn, n_items, lengths, batch_size, *, max_tokens=None, verbose=False, desc=None):
    """Apply ``fn`` to length-sorted batches and stack its outputs in input order.

    Parameters
    ----------
    fn : callable
        Called with an ndarray of positions; returns a 2-D ndarray (or tensor convertible with
        ``np.asarray``) with one row per position, in the order given.
    n_items : int
    lengths : sequence of int
        One length per item; only their order matters.
    batch_size : int
    max_tokens : int or None, default=None
        Bound on the padded tokens of a batch (see :func:`length_sorted_batches`).
    verbose : bool
        Show a tqdm progress bar counting items.
    desc : str, optional
        The progress bar's label.

    Returns
    -------
    ndarray of shape (n_items, n_features)
    """
    from tqdm.auto import tqdm

    out = None
    with tqdm(total=n_items, desc=desc, unit="text", disable=not verbose, leave=False) as bar:
        for positions in length_sorted_batches(lengths, batch_size, max_tokens):
            rows = np.asarray(fn(positions))
            if out is None:
                out = np.empty((n_items,) + rows.shape[1:], dtype=rows.dtype)
            out[positions] = rows
            bar.update(len(positions))
    return out
