"""What the skorch-based text classifiers share: sklearn tags, a seeded RNG stream, the skorch net
with its early stopping, predict.

Subclasses set ``classes_`` and ``device_`` in ``fit`` before building the net, ``net_`` after,
and implement ``predict_proba``; they have the parameters ``lr``, ``weight_decay``, ``max_epochs``,
``batch_size``, ``validation_fraction``, ``patience``, ``random_state``, ``verbose``, ``callbacks``.
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

    def _skorch_classifier(self, module, collate, *, iterator_train, callbacks, no_weight_decay):
        """The skorch net every subclass trains: AdamW on cross-entropy, an optional stratified
        validation split (``validation_fraction``), the user's ``callbacks`` before ``callbacks``.

        Parameters
        ----------
        module : torch.nn.Module
            Returns class logits.
        collate : callable
            The DataLoader collate function (training and validation).
        iterator_train : callable
            skorch's ``iterator_train`` (called with ``shuffle=True``).
        callbacks : list of (name, callback)
        no_weight_decay : list of str
            Patterns of parameter names (fnmatch) that AdamW does not decay.
        """
        import torch
        from skorch import NeuralNetClassifier
        from skorch.dataset import ValidSplit

        train_split = None
        if self.validation_fraction is not None:
            train_split = ValidSplit(self.validation_fraction, stratified=True, random_state=self.random_state)
        return NeuralNetClassifier(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=[(pattern, {"weight_decay": 0.0}) for pattern in no_weight_decay],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=iterator_train,
            iterator_train__shuffle=True,
            iterator_train__collate_fn=collate,
            iterator_valid__collate_fn=collate,
            train_split=train_split,
            callbacks=list(self.callbacks or []) + list(callbacks),
            classes=np.arange(len(self.classes_)),
            device=self.device_,
            verbose=int(self.verbose),
        )

    def predict(self, X):
        """Predicted class labels (values from ``classes_``)."""
        check_is_fitted(self, "net_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
