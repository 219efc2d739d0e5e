"""Length-sorted batching with the input order restored: one implementation for every model.

Sorting by length before batching means each batch is padded only to its own longest item, so
short texts do not pay for long ones; the outputs are scattered back to input positions, so the
caller never sees the sorted order.

Every inference loop of the estimators runs through :func:`map_batches`, which also backs off
when a CUDA device runs out of memory: the failing batch is halved and retried (down to one item),
with one :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call.
"""

import contextlib
import contextvars
import sys
import warnings

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._params import BATCH_SIZE, OPTIONAL_POSITIVE_INT
from .exceptions import OutOfMemoryWarning

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


def _is_cuda_out_of_memory(error):
    # Without torch imported, nothing can have run on CUDA: no need to import it to say so.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(error, torch.cuda.OutOfMemoryError)


def _release_cuda_memory():
    """Hand the memory of the failed batch back to CUDA before the retry (where there is CUDA)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class _Backoff:
    """What one public call (``transform``, ``predict_proba``) has had to halve, shared by nested loops.

    A classifier's ``predict_proba`` may run an encoder's ``transform_tokens`` inside its own loop:
    both loops see the same record, so the call gives one warning, and an error that already went
    down to one item is not retried again by the outer loop.
    """

    def __init__(self):
        self.halvings = {}  # desc -> [first batch size that failed, batch size that worked]
        self.exhausted = False

    def halved(self, desc, failed, size):
        self.halvings.setdefault(desc, [failed, size])[1] = size

    def warn(self):
        if not self.halvings:
            return
        where = "; ".join(
            f"{desc or 'inference'}: a batch of {failed} ran out of CUDA memory, finished with batches of {size}"
            for desc, (failed, size) in self.halvings.items()
        )
        warnings.warn(
            f"Batches were halved and retried after CUDA out-of-memory errors ({where}); the results are "
            "those of a run with the smaller batches, in input order. A smaller batch_size (or max_length / "
            "max_tokens) avoids the retries.",
            OutOfMemoryWarning,
            stacklevel=4,
        )


_backoff = contextvars.ContextVar("sktransfer_backoff", default=None)


@contextlib.contextmanager
def _shared_backoff():
    """The :class:`_Backoff` of the outermost running :func:`map_batches`; the outermost one warns."""
    outer = _backoff.get()
    if outer is not None:
        yield outer
        return
    state = _Backoff()
    token = _backoff.set(state)
    try:
        yield state
    finally:
        _backoff.reset(token)
    state.warn()  # only when the call succeeded: an error says it all


def _batches_of(positions, size):
    return [positions[i : i + size] for i in range(0, len(positions), size)]


def map_batches(fn, n_items, lengths, batch_size, *, max_tokens=None, verbose=False, desc=None):
    """Apply ``fn`` to length-sorted batches and stack its outputs in input order.

    When ``fn`` raises ``torch.cuda.OutOfMemoryError`` on a batch, the CUDA cache is emptied and
    that batch and all later ones are cut to half its size, down to one item; one item that still
    does not fit re-raises the error with what was tried. One
    :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call (nested calls included) says
    which batch sizes were used. ``fn`` must be a pure function of its positions: a retried batch
    gives the rows a run with the smaller batch size would have given.

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
    pending = length_sorted_batches(lengths, batch_size, max_tokens)[::-1]  # a stack: the next batch is last
    with _shared_backoff() as backoff, tqdm(
        total=n_items, desc=desc, unit="text", disable=not verbose, leave=False
    ) as bar:
        while pending:
            positions = pending.pop()
            try:
                rows = np.asarray(fn(positions))
            except Exception as error:
                if not _is_cuda_out_of_memory(error) or backoff.exhausted:
                    raise
                if len(positions) == 1:
                    backoff.exhausted = True
                    tried = backoff.halvings.get(desc, [len(positions)])[0]
                    raise type(error)(
                        f"{desc or 'inference'}: CUDA ran out of memory on a single item (batches were halved "
                        f"from {tried} down to 1). Shorten the inputs (max_length / max_tokens), use a smaller "
                        "model, or device='cpu'."
                    ) from error
                size = len(positions) // 2
                backoff.halved(desc, len(positions), size)
                # Later batches are no longer: cutting them all keeps the length order and spares
                # each of them a failed try.
                rest = np.concatenate([positions, *pending[::-1]])
                pending = _batches_of(rest, size)[::-1]
            else:
                if out is None:
                    out = np.empty((n_items,) + rows.shape[1:], dtype=rows.dtype)
                out[positions] = rows
                bar.update(len(positions))
                continue
            # Outside the except block: the traceback, and the tensors its frames hold, are gone.
            _release_cuda_memory()
    return out
