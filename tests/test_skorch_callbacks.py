"""The interruption report: Ctrl-C in fit leaves a usable estimator and a warning that says how far it got."""

import warnings

import numpy as np
import pytest
from skorch.callbacks import Callback

from sktransfer import BertFineTuneClassifier, BertVectorizer, FeatureHeadClassifier
from sktransfer.exceptions import TrainingInterruptedWarning


class CtrlC(Callback):
    """Raises KeyboardInterrupt at the end of training batch ``batch`` of epoch ``epoch``, as Ctrl-C would."""

    def __init__(self, epoch, batch):
        self.epoch = epoch
        self.batch = batch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) == self.batch:
            raise KeyboardInterrupt


def classifiers(tiny_bert):
    common = dict(lr=5e-3, max_epochs=3, batch_size=4, random_state=0)
    return [
        BertFineTuneClassifier(tiny_bert, **common),
        FeatureHeadClassifier(BertVectorizer(tiny_bert), head="mlp", **common),
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["finetune", "feature-head"])
def test_ctrl_c_in_fit_warns_how_far_it_got_and_leaves_it_usable(tiny_bert, sentiment_texts, which):
    X, y = sentiment_texts
    clf = classifiers(tiny_bert)[which].set_params(callbacks=[CtrlC(epoch=2, batch=3)])
    with pytest.warns(TrainingInterruptedWarning, match=r"after 1 of 3 epochs and \d training batches of epoch 2"):
        clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    assert set(clf.predict(X)) <= {"pos", "neg"}
    # Fitting again (without the interruption) trains fully and warns no more.
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        clf.set_params(callbacks=None).fit(X, y)
    assert len(clf.net_.history) == 3


def test_full_training_and_early_stopping_do_not_warn(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        clf = BertFineTuneClassifier(tiny_bert, lr=1e-6, max_epochs=40, batch_size=8, random_state=0,
                                     validation_fraction=0.25, patience=1).fit(X, y)
    assert len(clf.net_.history) < 40  # early stopping ended it, with skorch's KeyboardInterrupt
