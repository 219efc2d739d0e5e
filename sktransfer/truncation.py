"""Fit texts into a transformer's ``max_length``: head, tail or head+tail truncation, or chunk windows.

Token-level code on lists and arrays of ids (no torch, no scikit-learn). A text is tokenized without
special tokens, its tokens are cut (or split into windows) to the budget that ``max_length`` leaves
after the special tokens, and each sequence then gets the tokenizer's own special tokens around it:
``[CLS] head … tail [SEP]`` for BERT, ``<s> … </s>`` for RoBERTa, nothing for GPT-2.

Strategies (:data:`TRUNCATIONS`):

- ``"head"``: the first tokens (what ``tokenizer(..., truncation=True)`` keeps);
- ``"tail"``: the last tokens;
- ``"head+tail"``: the first ``floor(head_fraction * budget)`` tokens and the last ones for the
  rest of the budget (Sun et al., 2019, found 128 + 382 of 510 best on IMDB: ``head_fraction`` 0.25);
- ``"chunks"``: the whole text, as windows of ``budget`` tokens, consecutive windows sharing
  ``stride`` tokens (Hugging Face's meaning of ``stride``); the caller pools the windows' vectors.
"""

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "TOKENIZE_CHUNK", "TRUNCATIONS", "Encoded", "SpecialTokens", "cut", "encode_texts", "head_length", "pool_windows",
    "special_tokens", "windows",
]

TRUNCATIONS = ("head", "tail", "head+tail", "chunks")
TOKENIZE_CHUNK = 1024  # texts per tokenizer call in encode_texts: bounds its memory, keeps the batch speed-up


class SpecialTokens(NamedTuple):
    """The ids a tokenizer places before (``prefix``) and after (``suffix``) a single text."""

    prefix: tuple
    suffix: tuple

    @property
    def count(self):
        """How many special tokens a single text gets."""
        return len(self.prefix) + len(self.suffix)


class Encoded(NamedTuple):
    """Model inputs for a list of texts.

    Attributes
    ----------
    rows : list of ndarray of int32
        Token ids with special tokens, one row per text, or per window with ``"chunks"``.
    owners : ndarray of int
        The text (position in the input) each row belongs to; rows of one text are consecutive.
    n_truncated : int
        How many texts have more tokens than the budget (cut, or split into several windows).
    budget : int
        The tokens of text each row may hold: ``max_length`` less the special tokens.
    """

    rows: list
    owners: np.ndarray
    n_truncated: int
    budget: int


def special_tokens(tokenizer):
    """The special tokens ``tokenizer`` adds around a single text, read off the tokenizer itself.

    Found by encoding a probe with and without special tokens, so it holds for any tokenizer
    (WordPiece, BPE, SentencePiece; with or without [CLS]/[SEP], <s>/</s>, or none at all).
    """
    probe = "a"
    plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return SpecialTokens(tuple(full[:start]), tuple(full[start + len(plain) :]))
    raise ValueError(
        f"Cannot tell the special tokens of {type(tokenizer).__name__}: encoding {probe!r} with them "
        f"({full}) does not contain its encoding without them ({plain})."
    )


def head_length(budget, head_fraction):
    """The tokens "head+tail" takes from the start of a long text: ``floor(head_fraction * budget)``."""
    return math.floor(head_fraction * budget)


def cut(ids, budget, strategy, head_fraction=0.25):
    """The tokens of ``ids`` that ``strategy`` keeps within ``budget``, in text order.

    Parameters
    ----------
    ids : list of int
    budget : int >= 0
    strategy : {"head", "tail", "head+tail"}
    head_fraction : float in [0, 1]
        For "head+tail": the head keeps ``floor(head_fraction * budget)`` tokens, the tail the rest.

    Returns
    -------
    list of int
        ``ids`` itself when it fits.
    """
    if len(ids) <= budget:
        return ids
    if strategy == "head":
        return ids[:budget]
    if strategy == "tail":
        return ids[len(ids) - budget :]
    if strategy == "head+tail":
        n_head = head_length(budget, head_fraction)
        return ids[:n_head] + ids[len(ids) - (budget - n_head) :]
    raise ValueError(f"strategy must be 'head', 'tail' or 'head+tail', got {strategy!r}.")


def windows(ids, budget, stride=0):
    """Split ``ids`` into windows of at most ``budget`` tokens that cover all of them.

    Consecutive windows share ``stride`` tokens; the last window ends at the last token. A text
    that fits (an empty one included) is one window.

    Parameters
    ----------
    ids : list of int
    budget : int >= 1
    stride : int in [0, budget - 1]

    Returns
    -------
    list of list of int
    """
    if not 0 <= stride < budget:
        raise ValueError(f"stride must be in [0, {budget - 1}] for windows of {budget} tokens, got {stride}.")
    step = budget - stride
    out = [ids[:budget]]
    start = 0
    while start + budget < len(ids):
        start += step
        out.append(ids[start : start + budget])
    return out


def _filler_id(tokenizer):
    # A model without special tokens (GPT-2) would get an empty row for an empty text, which a
    # transformer cannot run on: such a text is read as the end-of-text token alone.
    for name in ("eos_token_id", "bos_token_id", "unk_token_id", "pad_token_id"):
        token_id = getattr(tokenizer, name, None)
        if token_id is not None:
            return token_id
    return 0


def encode_texts(tokenizer, texts, *, max_length, truncation="head", head_fraction=0.25, stride=0,
                 chunk_size=TOKENIZE_CHUNK):
    """Token ids of ``texts`` for a model that reads at most ``max_length`` tokens.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
    texts : list of str
    max_length : int
        Tokens per row, special tokens included.
    truncation : {"head", "tail", "head+tail", "chunks"}, default="head"
        See the module docstring.
    head_fraction : float in [0, 1], default=0.25
        The head's share of the budget with ``"head+tail"``.
    stride : int, default=0
        Tokens shared by consecutive windows with ``"chunks"``.
    chunk_size : int >= 1, default=TOKENIZE_CHUNK
        Texts per tokenizer call. The rows do not depend on it; the memory does: the full-length
        token ids of ``chunk_size`` texts are alive at a time.

    Returns
    -------
    Encoded
    """
    specials = special_tokens(tokenizer)
    budget = int(max_length) - specials.count
    if budget < (1 if truncation == "chunks" else 0):
        raise ValueError(
            f"max_length={max_length} leaves no room for text after the {specials.count} special tokens of this "
            "tokenizer; raise max_length."
        )
    prefix, suffix = list(specials.prefix), list(specials.suffix)
    filler = [] if specials.count else [_filler_id(tokenizer)]
    texts = list(texts)
    rows, owners, n_truncated = [], [], 0
    for first in range(0, len(texts), int(chunk_size)):
        # No truncation here: the full length tells which texts are too long, and where the tail is.
        # verbose=False: the tokenizer's own "longer than the maximum" notice does not apply, we cut.
        token_ids = tokenizer(
            texts[first : first + int(chunk_size)], add_special_tokens=False, truncation=False, padding=False,
            return_attention_mask=False, return_token_type_ids=False, verbose=False,
        )["input_ids"]
        for owner, ids in enumerate(token_ids, start=first):
            if truncation == "chunks":
                pieces = windows(ids, budget, stride)
            else:
                pieces = [cut(ids, budget, truncation, head_fraction)]
            for piece in pieces:
                rows.append(np.array(prefix + piece + suffix if (piece or specials.count) else filler, dtype=np.int32))
                owners.append(owner)
            n_truncated += len(ids) > budget
    return Encoded(rows, np.asarray(owners, dtype=np.int64), int(n_truncated), budget)


def pool_windows(vectors, owners, weights, n_texts):
    """One vector per text: the mean of its windows' vectors, weighted by ``weights``.

    Parameters
    ----------
    vectors : ndarray of shape (n_windows, dim)
    owners : ndarray of int, shape (n_windows,)
        The text each window belongs to; every text in ``range(n_texts)`` has at least one.
    weights : array-like of shape (n_windows,)
        The windows' token counts.
    n_texts : int

    Returns
    -------
    ndarray of shape (n_texts, dim), the dtype of ``vectors``
    """
    weights = np.asarray(weights, dtype=np.float64)
    sums = np.zeros((n_texts, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors * weights[:, None])
    totals = np.bincount(owners, weights=weights, minlength=n_texts)
    return (sums / totals[:, None]).astype(vectors.dtype)
