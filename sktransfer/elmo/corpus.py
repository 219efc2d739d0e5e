"""Pretraining corpus: reading documents, cutting them into windows, batching.

Windows
    Every training example is one *window* ``<S> w_1 ... w_n </S>`` (``n <= window``)
    run from a zero LSTM state -- exactly what the stateless biLM sees at inference,
    where each text is wrapped in ``<S>``/``</S>`` and starts from zero. A document is
    split into sentences (after ``.``, ``!``, ``?`` tokens) and consecutive sentences are
    packed greedily into windows of at most ``window`` tokens, so windows usually hold
    whole sentences and ``</S>`` is mostly predicted where a sentence really ends; a
    sentence longer than ``window`` is cut into pieces.

Token ids
    Two id spaces are used. *Types* (every distinct token string of the corpus, no
    cut-off) feed the character CNN: rare words still get their own character-derived
    input vector, as in bilm-tf. *Softmax ids* (:class:`~.vocabulary.Vocabulary`, rare
    words mapped to ``<UNK>``) are the prediction targets. Type 0 is ``<S>``, type 1 is
    ``</S>``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch

from .characters import BOS_TOKEN, EOS_TOKEN, MAX_CHARACTERS_PER_TOKEN, word_to_char_ids

__all__ = ["iter_documents", "TokenizedCorpus", "Windows", "make_batch", "epoch_batches", "unigram_counts"]

PathLike = Union[str, os.PathLike]
_SENTENCE_END = frozenset({".", "!", "?"})


def iter_documents(corpus: Union[PathLike, Iterable[str]]) -> Iterator[str]:
    """Yield the documents of ``corpus``.

    Parameters
    ----------
    corpus : path-like or iterable of str
        A text file (one document per line), a folder (every ``*.txt`` below it,
        recursively, in sorted order; one document per line) or an iterable of strings
        (one document each). Blank lines are skipped.
    """
    if isinstance(corpus, (str, os.PathLike)):
        path = Path(corpus)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        elif path.is_file():
            files = [path]
        else:
            raise FileNotFoundError(f"corpus path {str(path)!r} does not exist")
        for file in files:
            # errors="replace": one badly encoded file must not abort an hour-long run.
            with open(file, encoding="utf-8", errors="replace") as fin:
                for line in fin:
                    if line.strip():
                        yield line
        return
    if isinstance(corpus, (bytes, bytearray)):
        raise TypeError("corpus must be a path, or an iterable of str documents, not bytes")
    for i, doc in enumerate(corpus):
        if not isinstance(doc, str):
            raise TypeError(f"corpus documents must be str, document [{i}] is {type(doc).__name__}")
        if doc.strip():
            yield doc


class Windows:
    """A set of windows as one flat array of type ids plus offsets (compact, picklable).

    Attributes
    ----------
    tokens : np.ndarray of int32
        Concatenated type ids of all windows (no boundary markers).
    offsets : np.ndarray of int64
        ``len(self) + 1`` offsets into ``tokens``.
    """

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray) -> None:
        self.tokens = tokens
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        """Tokens in all windows together."""
        return int(self.offsets[-1])

    def lengths(self) -> np.ndarray:
        """Tokens per window, shape ``(n_windows,)``."""
        return np.diff(self.offsets)


def _split_windows(tokens: Sequence[str], window: int) -> List[Sequence[str]]:
    """Greedy packing of a document's sentences into windows of at most ``window`` tokens."""
    sentences, start = [], 0
    for i, tok in enumerate(tokens):
        if tok in _SENTENCE_END and (i + 1 == len(tokens) or tokens[i + 1] not in _SENTENCE_END):
            sentences.append(tokens[start: i + 1])
            start = i + 1
    if start < len(tokens):
        sentences.append(tokens[start:])
    out: List[Sequence[str]] = []
    current: List[str] = []
    for sentence in sentences:
        if current and len(current) + len(sentence) > window:
            out.append(current)
            current = []
        if len(sentence) > window:
            pieces = [sentence[k: k + window] for k in range(0, len(sentence), window)]
            out.extend(list(p) for p in pieces[:-1])
            current = list(pieces[-1])
        else:
            current.extend(sentence)
    if current:
        out.append(current)
    return out


class TokenizedCorpus:
    """Tokenised documents split into training and held-out windows.

    Parameters
    ----------
    documents : iterable of str
    tokenizer : callable
        str -> list of str.
    window : int
        Maximum tokens per window (without ``<S>``/``</S>``).
    held_out_fraction : float
        Fraction of *documents* held out (chosen with ``seed``; at least one document
        when the fraction is positive and there are at least two documents).
    seed : int
    max_documents : int or None
        Stop reading after this many (non-empty) documents.
    """

    def __init__(self, documents: Iterable[str], tokenizer: Callable[[str], List[str]], *, window: int,
                 held_out_fraction: float, seed: int, max_documents: Optional[int] = None) -> None:
        if window < 1:
            raise ValueError(f"bptt must be >= 1, got {window}")
        if not 0.0 <= held_out_fraction < 1.0:
            raise ValueError(f"held_out_fraction must be in [0, 1), got {held_out_fraction}")
        docs: List[List[str]] = []
        for i, text in enumerate(documents):
            if max_documents is not None and len(docs) >= max_documents:
                break
            tokens = tokenizer(text)
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise TypeError(f"tokenizer must return a list of str, got {tokens!r:.80} for document [{i}]")
            tokens = [t for t in tokens if t]
            if tokens:
                docs.append(tokens)
        if not docs:
            raise ValueError("the corpus is empty: no document contains a token")
        order = np.random.default_rng(seed).permutation(len(docs))
        n_held = int(round(held_out_fraction * len(docs)))
        if held_out_fraction > 0 and len(docs) >= 2:
            n_held = min(max(n_held, 1), len(docs) - 1)
        held = set(order[:n_held].tolist())
        self.train_documents = [d for i, d in enumerate(docs) if i not in held]
        self.held_out_documents = [d for i, d in enumerate(docs) if i in held]
        self.window = int(window)
        # Type table: 0 = <S>, 1 = </S>, then every distinct token in first-seen order.
        self.types: Dict[str, int] = {BOS_TOKEN: 0, EOS_TOKEN: 1}
        self.train = self._encode(self.train_documents)
        self.held_out = self._encode(self.held_out_documents)

    def _encode(self, documents: List[List[str]]) -> Windows:
        types = self.types
        flat: List[int] = []
        offsets = [0]
        for tokens in documents:
            for piece in _split_windows(tokens, self.window):
                # setdefault assigns the next id to unseen types.
                flat.extend(types.setdefault(t, len(types)) for t in piece)
                offsets.append(len(flat))
        return Windows(np.asarray(flat, dtype=np.int32), np.asarray(offsets, dtype=np.int64))

    def char_table(self) -> np.ndarray:
        """``(n_types, 50)`` int16 character ids of every type (rows 0/1: ``<S>``/``</S>``)."""
        table = np.empty((len(self.types), MAX_CHARACTERS_PER_TOKEN), dtype=np.int16)
        for token, i in self.types.items():
            table[i] = word_to_char_ids(token)
        return table

    def softmax_ids(self, vocab) -> np.ndarray:
        """``(n_types,)`` softmax id of every type (``<UNK>`` for out-of-vocabulary words)."""
        out = np.empty(len(self.types), dtype=np.int64)
        for token, i in self.types.items():
            out[i] = vocab.id(token)
        return out


def make_batch(windows: Windows, members: np.ndarray, char_table: np.ndarray, type_to_softmax: np.ndarray
               ) -> Dict[str, torch.Tensor]:
    """Tensors for one batch of windows.

    Returns
    -------
    dict
        ``chars`` ``(n_distinct, 50)`` character ids of the batch's distinct types (the CNN
        runs once per distinct type); ``inputs`` ``(B, S)`` row into ``chars`` for every
        position of ``<S> w_1..w_n </S>`` (``S = max n + 2``; padding points at row 0 and is
        ignored by the LSTM); ``targets`` ``(B, S)`` softmax ids (-1 at padding);
        ``lengths`` ``(B,)`` = ``n + 2``; ``n_words`` = sum of ``n``.
    """
    lengths = windows.offsets[members + 1] - windows.offsets[members]
    batch, longest = len(members), int(lengths.max()) + 2
    seq = np.zeros((batch, longest), dtype=np.int64)  # type 0 (<S>) doubles as padding filler
    valid = np.zeros((batch, longest), dtype=bool)
    for row, (m, n) in enumerate(zip(members.tolist(), lengths.tolist())):
        start = windows.offsets[m]
        seq[row, 1: n + 1] = windows.tokens[start: start + n]
        seq[row, n + 1] = 1  # </S>
        valid[row, : n + 2] = True
    distinct, inverse = np.unique(seq, return_inverse=True)
    targets = np.where(valid, type_to_softmax[seq], -1)
    return {
        "chars": torch.from_numpy(char_table[distinct].astype(np.int64)),
        "inputs": torch.from_numpy(inverse.reshape(seq.shape).astype(np.int64)),
        "targets": torch.from_numpy(targets),
        "lengths": torch.from_numpy(lengths + 2),
        "n_words": int(lengths.sum()),
    }


def epoch_batches(n_windows: int, batch_size: int, seed: int, epoch: int) -> List[np.ndarray]:
    """Shuffled batches of window indices; a pure function of ``(seed, epoch)`` (resumable)."""
    order = np.random.default_rng([seed, epoch]).permutation(n_windows)
    return [order[k: k + batch_size] for k in range(0, n_windows, batch_size)]


def sequential_batches(n_windows: int, batch_size: int, lengths: np.ndarray) -> List[np.ndarray]:
    """Length-sorted batches for evaluation (less padding; order does not change the sums)."""
    order = np.argsort(lengths, kind="stable")
    return [order[k: k + batch_size] for k in range(0, n_windows, batch_size)]


def unigram_counts(windows: Windows, type_to_softmax: np.ndarray, vocab_size: int) -> np.ndarray:
    """Softmax-id counts of a window set, with one ``<S>`` and one ``</S>`` per window."""
    counts = np.bincount(type_to_softmax[windows.tokens], minlength=vocab_size).astype(np.int64)
    counts[0] += len(windows)
    counts[1] += len(windows)
    return counts
