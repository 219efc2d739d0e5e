"""What the skorch-based text classifiers share.

Sklearn tags, the input and label checks, length-bucketed training batches, a seeded RNG stream,
the skorch net with its clipping and early stopping, predict, pickling that loads a net fitted on
a GPU on a machine without one.

Subclasses call ``_fit_inputs`` in ``fit`` (it checks texts and labels and sets ``classes_`` and
``device_``) before building the net, set ``net_`` after, and implement ``predict_proba``; they have
the parameters ``lr``, ``weight_decay``, ``max_epochs``, ``batch_size``, ``validation_fraction``,
``patience``, ``max_grad_norm``, ``random_state``, ``verbose``, ``callbacks``.
"""

import contextlib
import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._device import relocate_fitted, resolve_device
from ._validation import TextInputMixin, check_texts

__all__ = ["LengthBucketBatchSampler", "SkorchTextClassifier", "length_bucket_loader"]


def _check_labels(y, n_texts, caller):
    if y is None:
        raise ValueError(f"{caller}.fit requires labels y; got None.")
    if isinstance(y, str):
        raise TypeError("y must be a sequence of labels (one per text), got a single str.")
    y = np.asarray(list(y) if not hasattr(y, "shape") else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D (one label per text), got shape {y.shape}. Multi-label targets are not supported."
        )
    if len(y) != n_texts:
        raise ValueError(f"X and y have different lengths: {n_texts} texts but {len(y)} labels.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"y contains NaN at positions {np.flatnonzero(np.isnan(y))[:5].tolist()}; drop or fill those rows first."
        )
    if y.dtype == object and any(v is None or (isinstance(v, float) and v != v) for v in y):
        raise ValueError("y contains missing labels (None or NaN); drop or fill those rows first.")
    check_classification_targets(y)
    return y


def _discard(*messages):
    """EarlyStopping's message sink when not verbose; a module-level function, so a fitted net pickles."""


class LengthBucketBatchSampler:
    """Random training batches of similar length, so each batch is padded little.

    Every epoch the texts are shuffled, cut into pools of ``pool_batches`` batches, each pool is
    sorted by length and split into batches, and the batches are shuffled. Randomness comes from
    the global torch RNG, which ``fit`` seeds from ``random_state``.
    """

    def __init__(self, lengths, batch_size, pool_batches=50):
        self.lengths = np.asarray(lengths)
        self.batch_size = int(batch_size)
        self.pool = self.batch_size * int(pool_batches)

    def __iter__(self):
        import torch

        order = torch.randperm(len(self.lengths)).numpy()
        batches = []
        for start in range(0, len(order), self.pool):
            chunk = order[start : start + self.pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i : i + self.batch_size].tolist() for i in range(0, len(chunk), self.batch_size)]
        for i in torch.randperm(len(batches)).tolist():
            yield batches[i]

    def __len__(self):
        full, rest = divmod(len(self.lengths), self.pool)
        return full * math.ceil(self.pool / self.batch_size) + math.ceil(rest / self.batch_size)


def length_bucket_loader(dataset, batch_size=16, shuffle=False, **kwargs):
    """The skorch ``iterator_train``: a DataLoader over length-bucketed batches when shuffling."""
    from torch.utils.data import DataLoader

    if not shuffle:
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, **kwargs)
    lengths = [len(dataset[i][0]) for i in range(len(dataset))]
    return DataLoader(dataset, batch_sampler=LengthBucketBatchSampler(lengths, batch_size), **kwargs)


class SkorchTextClassifier(TextInputMixin, ClassifierMixin, BaseEstimator):
    """Base class of the classifiers trained with skorch on texts (not public)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _fit_inputs(self, X, y):
        """Check the texts and their labels; set ``classes_`` and ``device_``.

        Returns
        -------
        texts : list of str
        codes : ndarray of int64
            The class codes (positions in ``classes_``) the net trains on.
        """
        texts = check_texts(X, estimator=self)
        y = _check_labels(y, len(texts), type(self).__name__)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y has a single class ({encoder.classes_[0]!r}); at least two are needed to train a classifier."
            )
        self.classes_ = encoder.classes_
        self.device_ = resolve_device(self.device)
        return texts, encoder.transform(y).astype(np.int64)

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

    def _training_callbacks(self, *first, validation=True):
        """Our skorch callbacks: an interruption report, ``first``, clipping, early stopping, a progress bar.

        ``first`` are (name, callback) pairs. Gradient clipping follows ``max_grad_norm``; with
        ``validation_fraction`` (and ``validation``) and a ``patience``, training stops after
        ``patience`` epochs without a better validation loss and the best epoch's weights are
        restored; ``verbose`` adds a progress bar.
        """
        from skorch.callbacks import EarlyStopping, GradientNormClipping, ProgressBar

        from ._skorch_callbacks import InterruptionReport

        # First: it must see an epoch end before early stopping ends training (see InterruptionReport).
        callbacks = [("interruption_report", InterruptionReport()), *first]
        if self.max_grad_norm is not None:
            callbacks.append(("gradient_clipping", GradientNormClipping(gradient_clip_value=self.max_grad_norm)))
        if validation and self.validation_fraction is not None and self.patience is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True,
                sink=print if self.verbose else _discard,
            )))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _skorch_classifier(self, module, collate, *, iterator_train, callbacks, no_weight_decay, validation=True,
                           max_epochs=None):
        """The skorch net every subclass trains.

        AdamW on cross-entropy, an optional stratified validation split (``validation_fraction``,
        unless ``validation`` is False), the user's ``callbacks`` before ``callbacks``.

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
        validation : bool, default=True
            False trains on every text (a refit), whatever ``validation_fraction`` says.
        max_epochs : int or None, default=None
            None: ``self.max_epochs``.
        """
        import torch
        from skorch import NeuralNetClassifier
        from skorch.dataset import ValidSplit

        train_split = None
        if validation and self.validation_fraction is not None:
            train_split = ValidSplit(self.validation_fraction, stratified=True, random_state=self.random_state)
        return NeuralNetClassifier(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=[(pattern, {"weight_decay": 0.0}) for pattern in no_weight_decay],
            lr=self.lr,
            max_epochs=self.max_epochs if max_epochs is None else max_epochs,
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

    # -- pickling ---------------------------------------------------------------------------
    # skorch moves the net's own modules and optimizer to the CPU when an estimator fitted on a
    # GPU is unpickled without CUDA, but not every tensor of the net: the module passed as an
    # instance (``net_.module``, the same object as ``net_.module_``) and the callbacks' state
    # are pickled as is, and CUDA tensors cannot be unpickled on such a machine. The whole net
    # goes through torch.save instead, and is loaded with every tensor mapped to a device this
    # machine has.
    def __getstate__(self):
        state = dict(super().__getstate__())
        net = state.pop("net_", None)
        if net is not None:
            from ._torch_utils import tensors_to_bytes

            state["_net_bytes"] = tensors_to_bytes(net)
        return state

    def __setstate__(self, state):
        state = dict(state)
        data = state.pop("_net_bytes", None)
        super().__setstate__(state)
        if data is not None:
            import warnings

            from skorch.exceptions import DeviceWarning

            from ._torch_utils import tensors_from_bytes

            device = relocate_fitted(self)
            with warnings.catch_warnings():
                # skorch warns that its CUDA tensors go to the CPU: they all do, see the docstrings.
                warnings.simplefilter("ignore", DeviceWarning)
                self.net_ = tensors_from_bytes(data, device, weights_only=False)
            self.net_.device = device

    def predict(self, X):
        """Predicted class labels (values from ``classes_``)."""
        check_is_fitted(self, "net_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
