"""What the skorch-based text classifiers share: sklearn tags, a seeded RNG stream, early stopping, predict.

Subclasses set ``classes_``, ``device_`` and ``net_`` in ``fit`` and implement ``predict_proba``.
"""

import contextlib

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["SkorchTextClassifier"]


class SkorchTextClassifier(ClassifierMixin, BaseEstimator):
    """Base class of the classifiers trained with skorch on texts (not public)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = self.random_state is None
        return tags

    @contextlib.contextmanager
    def _seeded_torch(self):
        """Run with torch seeded from ``random_state``, on a private RNG stream.

        The caller's global torch RNG is left as it was, seeded or not.
        """
        import torch

        with torch.random.fork_rng(devices=[self.device_] if self.device_.type == "cuda" else []):
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
            yield

    def _early_stopping(self):
        """skorch callback: stop after ``patience`` epochs without a better validation loss, restore the best."""
        from skorch.callbacks import EarlyStopping

        return EarlyStopping(
            monitor="valid_loss", patience=self.patience, load_best=True, sink=print if self.verbose else (lambda *a: None),
        )

    def predict(self, X):
        """Predicted class labels (values from ``classes_``)."""
        check_is_fitted(self, "net_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
