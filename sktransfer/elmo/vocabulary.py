"""Word vocabulary of the biLM's softmax.

The vocabulary file is bilm-tf's ``vocab.txt``: one token per line, ``<S>``, ``</S>``,
``<UNK>`` first, then the words by decreasing training frequency. Frequency order is
what bilm-tf's log-uniform sampler assumes, and it is also what the adaptive softmax
needs (frequent words in the cheap head cluster).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Union

from .characters import BOS_TOKEN, EOS_TOKEN

__all__ = ["UNK_TOKEN", "SPECIAL_TOKENS", "Vocabulary"]

UNK_TOKEN = "<UNK>"
#: The three reserved entries, in bilm-tf's order (ids 0, 1, 2).
SPECIAL_TOKENS = (BOS_TOKEN, EOS_TOKEN, UNK_TOKEN)

class Vocabulary:
    """Softmax vocabulary: ``<S>``, ``</S>``, ``<UNK>`` then words (ids in that order).

    Parameters
    ----------
    words : sequence of str
        The non-special words, most frequent first. Must not repeat or contain the specials.
    """

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        clash = set(words) & set(SPECIAL_TOKENS)
        if clash:
            raise ValueError(f"vocabulary words must not include the reserved tokens {sorted(clash)}")
        self.tokens: List[str] = list(SPECIAL_TOKENS) + words
        self.index: Dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("vocabulary words must be distinct")

    bos_id, eos_id, unk_id = 0, 1, 2

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def id(self, token: str) -> int:
        """Id of ``token`` (``<UNK>``'s id when it is out of vocabulary)."""
        return self.index.get(token, self.unk_id)

    @classmethod
    def build(cls, counts: Union[Counter, Dict[str, int]], max_size: Optional[int] = None,
              min_count: int = 1) -> "Vocabulary":
        """The ``max_size`` most frequent words with at least ``min_count`` occurrences.

        Ties are broken alphabetically so that the vocabulary (and hence the model) does
        not depend on the order in which documents were read.
        """
        if max_size is not None and max_size < 1:
            raise ValueError(f"vocab_size must be >= 1, got {max_size}")
        candidates = [(w, c) for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS]
        candidates.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            candidates = candidates[:max_size]
        return cls([w for w, _ in candidates])

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write ``vocab.txt`` (bilm-tf format: one token per line, specials first)."""
        if any("\n" in t or "\r" in t for t in self.tokens):
            raise ValueError("a vocabulary token contains a line break; it cannot be saved one per line")
        with open(path, "w", encoding="utf-8") as fout:
            fout.write("\n".join(self.tokens) + "\n")

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Vocabulary":
        """Read a ``vocab.txt``; the specials may appear anywhere (bilm-tf files put them first)."""
        with open(path, encoding="utf-8") as fin:
            tokens = [line.rstrip("\n") for line in fin if line.rstrip("\n")]
        return cls([t for t in tokens if t not in SPECIAL_TOKENS])


def count_words(token_lists: Iterable[Sequence[str]]) -> Counter:
    """Word frequencies over tokenised documents."""
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return counts
