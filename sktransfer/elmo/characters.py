"""Token -> character-id mapping with the bilm-tf / AllenNLP ELMo conventions.

A pretrained ELMo character CNN only understands the exact id layout it was trained
with, so this module reproduces AllenNLP 0.9.0's ``ELMoCharacterMapper``:

* every token is a row of ``MAX_CHARACTERS_PER_TOKEN`` (50) ids;
* ids 0..255 are the token's UTF-8 bytes, 256/257 mark begin/end of *sentence*,
  258/259 begin/end of *word*, 260 pads the rest of the row;
* a word is ``[BOW, byte_1, ..., byte_k, EOW, PAD, ...]`` with at most 48 bytes
  (longer words are truncated at the byte level);
* finally every id is shifted by +1 so that id 0 is free for *padding tokens*
  (whole rows of zeros for sentences shorter than the batch), which is why the
  weight loader prepends an all-zero row to the 261-row character table.

The sentence markers are added inside the model (like AllenNLP's
``_ElmoCharacterEncoder``), so callers only pass the real tokens. As in AllenNLP and
bilm-tf, the literal token strings ``"<S>"`` and ``"</S>"`` map to the sentence-marker
character rows (their training vocabularies spell the markers that way).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

__all__ = [
    "MAX_CHARACTERS_PER_TOKEN",
    "BEGINNING_OF_SENTENCE_CHARACTER",
    "END_OF_SENTENCE_CHARACTER",
    "BEGINNING_OF_WORD_CHARACTER",
    "END_OF_WORD_CHARACTER",
    "PADDING_CHARACTER",
    "N_CHARACTER_IDS",
    "BOS_TOKEN",
    "EOS_TOKEN",
    "BOS_CHAR_IDS",
    "EOS_CHAR_IDS",
    "word_to_char_ids",
    "batch_to_ids",
]

MAX_CHARACTERS_PER_TOKEN = 50

# Raw (un-shifted) special character values, as in bilm-tf's UnicodeCharsVocabulary.
BEGINNING_OF_SENTENCE_CHARACTER = 256
END_OF_SENTENCE_CHARACTER = 257
BEGINNING_OF_WORD_CHARACTER = 258
END_OF_WORD_CHARACTER = 259
PADDING_CHARACTER = 260

#: Number of distinct ids emitted after the +1 shift, *including* the 0 used for
#: padding tokens: 0..261, i.e. the character table needs at least 262 rows.
N_CHARACTER_IDS = PADDING_CHARACTER + 2

# Two word-internal positions are taken by the begin/end-of-word markers.
_MAX_BYTES = MAX_CHARACTERS_PER_TOKEN - 2


def _marker_row(character: int) -> np.ndarray:
    """Row of shifted ids for a sentence marker: ``[BOW, character, EOW, PAD, ...]``."""
    row = np.full(MAX_CHARACTERS_PER_TOKEN, PADDING_CHARACTER, dtype=np.int64)
    row[0] = BEGINNING_OF_WORD_CHARACTER
    row[1] = character
    row[2] = END_OF_WORD_CHARACTER
    row += 1
    row.setflags(write=False)
    return row


#: Token strings that denote the sentence markers (bilm-tf vocabulary spelling).
BOS_TOKEN = "<S>"
EOS_TOKEN = "</S>"

#: Shifted character ids of the begin-of-sentence token ``<S>`` (added by the model).
BOS_CHAR_IDS = _marker_row(BEGINNING_OF_SENTENCE_CHARACTER)
#: Shifted character ids of the end-of-sentence token ``</S>`` (added by the model).
EOS_CHAR_IDS = _marker_row(END_OF_SENTENCE_CHARACTER)


@lru_cache(maxsize=1 << 16)
def _word_to_char_ids_cached(word: str) -> tuple:
    if word == BOS_TOKEN:
        return tuple(BOS_CHAR_IDS.tolist())
    if word == EOS_TOKEN:
        return tuple(EOS_CHAR_IDS.tolist())
    # 'ignore' drops lone surrogates exactly like AllenNLP instead of raising.
    encoded = word.encode("utf-8", "ignore")[:_MAX_BYTES]
    ids = [PADDING_CHARACTER + 1] * MAX_CHARACTERS_PER_TOKEN
    ids[0] = BEGINNING_OF_WORD_CHARACTER + 1
    for k, byte in enumerate(encoded, start=1):
        ids[k] = byte + 1
    ids[len(encoded) + 1] = END_OF_WORD_CHARACTER + 1
    return tuple(ids)


def word_to_char_ids(word: str) -> list[int]:
    """Map one token to its 50 shifted character ids.

    Parameters
    ----------
    word : str
        The token. It is encoded as UTF-8 and truncated to 48 bytes. The strings
        ``"<S>"`` and ``"</S>"`` give the begin/end-of-sentence marker rows.

    Returns
    -------
    list of int
        ``MAX_CHARACTERS_PER_TOKEN`` ids in ``1..261``.
    """
    if not isinstance(word, str):
        raise TypeError(f"tokens must be str, got {type(word).__name__}: {word!r}")
    return list(_word_to_char_ids_cached(word))


def _check_sentences(sentences: Sequence[Sequence[str]]) -> None:
    if isinstance(sentences, str):
        raise TypeError("batch_to_ids expects a list of token lists, got a single str")
    for sentence in sentences:
        # A bare string would silently be split into characters: refuse it.
        if isinstance(sentence, str):
            raise TypeError(
                "each sentence must be a sequence of tokens (e.g. text.split()), got a str: "
                f"{sentence[:40]!r}"
            )


def batch_to_ids(sentences: Sequence[Sequence[str]]) -> torch.Tensor:
    """Convert tokenised sentences to a padded tensor of character ids.

    Parameters
    ----------
    sentences : sequence of sequence of str
        One list of tokens per sentence (no ``<S>``/``</S>``; the model adds them).

    Returns
    -------
    torch.LongTensor
        Shape ``(len(sentences), max_tokens, 50)``. Rows of padding tokens (positions
        past a sentence's length) are all zeros, which is how the model derives its mask.
        Identical to AllenNLP 0.9.0's ``allennlp.modules.elmo.batch_to_ids``.
    """
    _check_sentences(sentences)
    max_tokens = max((len(s) for s in sentences), default=0)
    out = np.zeros((len(sentences), max_tokens, MAX_CHARACTERS_PER_TOKEN), dtype=np.int64)
    for i, sentence in enumerate(sentences):
        if len(sentence):
            out[i, : len(sentence)] = [word_to_char_ids(token) for token in sentence]
    return torch.from_numpy(out)
