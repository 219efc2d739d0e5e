"""What every sktransfer text vectorizer shares: sklearn tags, feature names, the fit/transform frame.

Subclasses implement ``_load(texts)`` (called by ``fit``; sets the fitted attributes, including
``n_features_out_``) and ``_embed(texts)`` (texts -> float32 array in input order).
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import check_texts

__all__ = ["TextVectorizerMixin"]


class TextVectorizerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the frozen-feature vectorizers (not public)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        tags.requires_fit = True
        return tags

    def _validate_texts(self, X):
        return check_texts(X, estimator=self)

    def fit(self, X, y=None):
        """Load the model. The texts are only validated: a frozen model learns nothing from them.

        Parameters
        ----------
        X : iterable of str
            Texts (list, tuple, ndarray, pandas Series or a one-column DataFrame).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self
        """
        texts = self._validate_texts(X)
        self._load(texts)
        return self

    def transform(self, X):
        """Embed texts into a float32 array of shape ``(n_texts, n_features_out_)``, in input order.

        Parameters
        ----------
        X : iterable of str

        Returns
        -------
        ndarray of shape (n_texts, n_features_out_), dtype float32
        """
        check_is_fitted(self, "n_features_out_")
        texts = self._validate_texts(X)
        features = self._embed(texts)
        return np.ascontiguousarray(features, dtype=np.float32)

    def fit_transform(self, X, y=None):
        """Fit to the texts, then embed them (the texts are validated once)."""
        texts = self._validate_texts(X)
        self._load(texts)
        return np.ascontiguousarray(self._embed(texts), dtype=np.float32)

    @property
    def _n_features_out(self):
        # Read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out.
        return self.n_features_out_
