"""skorch callbacks of the classifiers (imported only when a classifier is fitted: it imports skorch)."""

import warnings

from skorch.callbacks import Callback, EarlyStopping

from .exceptions import TrainingInterruptedWarning

__all__ = ["InterruptionReport"]


class InterruptionReport(Callback):
    """Warn when a KeyboardInterrupt stopped training, saying how far it got.

    skorch catches the KeyboardInterrupt (Ctrl-C) that ends its training loop and returns from
    ``fit`` as if training had finished, with the weights reached so far: the estimator is
    usable, but nothing tells the user that it is undertrained. Early stopping ends training
    with a KeyboardInterrupt as well; this tells the two apart.

    It must come before the early-stopping callback, so that its ``on_epoch_end`` runs before
    early stopping raises.
    """

    def on_train_begin(self, net, **kwargs):
        self.epoch_done_ = True
        self.batches_ = 0

    def on_epoch_begin(self, net, **kwargs):
        self.epoch_done_ = False
        self.batches_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.batches_ += 1

    def on_epoch_end(self, net, **kwargs):
        self.epoch_done_ = True

    def on_train_end(self, net, **kwargs):
        epochs = len(net.history)  # a row per begun epoch of this fit
        done = epochs if self.epoch_done_ else epochs - 1
        stopped_early = any(
            isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience for _, cb in net.callbacks_
        )
        if self.epoch_done_ and (done >= net.max_epochs or stopped_early):
            return
        where = "" if self.epoch_done_ else f" and {self.batches_} training batches of epoch {epochs}"
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) after {done} of {net.max_epochs} epochs{where}. The "
            "estimator keeps the weights reached then and can predict; call fit again to train it fully.",
            TrainingInterruptedWarning,
            stacklevel=2,
        )
