"""WordEmbeddingEncoder: the vocabulary of randomly initialised, trainable word embeddings.

The lecture's baseline for feature-based transfer: the same head as on ELMo, but on word vectors
that start random and are trained on the task alone. This estimator only learns the vocabulary
from the training texts and turns texts into token ids; the embedding table itself is a parameter
of the network that :class:`~sktransfer.feature_head.FeatureHeadClassifier` trains.
"""

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_is_fitted

from ._params import OPTIONAL_POSITIVE_INT, POSITIVE_INT
from ._validation import TextInputMixin, check_texts
from .tokenization import word_tokenize

__all__ = ["WordEmbeddingEncoder"]

PAD, UNK = "<pad>", "<unk>"


class WordEmbeddingEncoder(TextInputMixin, BaseEstimator):
    """Token ids over a vocabulary of the training texts, for trainable word embeddings.

    Give it to :class:`~sktransfer.feature_head.FeatureHeadClassifier` as ``encoder``: the
    classifier then trains an embedding table of ``embedding_dim`` values per vocabulary entry,
    randomly initialised, with its head.

    Parameters
    ----------
    embedding_dim : int, default=100
        Width of the word vectors the classifier trains.
    min_count : int, default=2
        Words seen fewer times in the training texts map to ``<unk>``.
    max_vocab : int or None, default=None
        Keep at most this many of the most frequent words (ties broken alphabetically).
    lowercase : bool, default=True
        Lowercase words first (fewer, better-trained entries on small data).
    max_tokens : int or None, default=512
        Texts are cut to their first ``max_tokens`` tokens, as ELMoVectorizer does.

    Attributes
    ----------
    vocabulary_ : dict of str -> int
        Word -> row of the embedding table; row 0 is ``<pad>`` (padding), row 1 ``<unk>``.

    Notes
    -----
    Words come from the same regex tokenizer as :class:`~sktransfer.ELMoVectorizer`'s default.
    """

    _parameter_constraints = {
        "embedding_dim": [POSITIVE_INT],
        "min_count": [POSITIVE_INT],
        "max_vocab": OPTIONAL_POSITIVE_INT,
        "lowercase": ["boolean"],
        "max_tokens": OPTIONAL_POSITIVE_INT,
    }

    def __init__(self, embedding_dim=100, *, min_count=2, max_vocab=None, lowercase=True, max_tokens=512):
        self.embedding_dim = embedding_dim
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.lowercase = lowercase
        self.max_tokens = max_tokens

    def _words(self, text):
        words = word_tokenize(text.lower() if self.lowercase else text)
        return words if self.max_tokens is None else words[: self.max_tokens]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the vocabulary from the training texts.

        Parameters
        ----------
        X : iterable of str
        y : None
            Ignored.

        Returns
        -------
        self
        """
        counts = Counter(word for text in check_texts(X, estimator=self) for word in self._words(text))
        frequent = sorted((w for w, c in counts.items() if c >= self.min_count), key=lambda w: (-counts[w], w))
        if self.max_vocab is not None:
            frequent = frequent[: self.max_vocab]
        self.vocabulary_ = {PAD: 0, UNK: 1, **{w: i for i, w in enumerate(frequent, start=2)}}
        return self

    def transform_ids(self, X):
        """Token ids of each text (unknown words -> 1).

        Parameters
        ----------
        X : iterable of str

        Returns
        -------
        list of ndarray of int64
            One array per text, in input order (empty for a text without words).
        """
        check_is_fitted(self, "vocabulary_")
        vocabulary = self.vocabulary_
        return [
            np.asarray([vocabulary.get(w, 1) for w in self._words(text)], dtype=np.int64)
            for text in check_texts(X, estimator=self)
        ]
