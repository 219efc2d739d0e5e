import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss

from sktransfer import BertFineTuneClassifier
from sktransfer.exceptions import SlowPrecisionWarning
from sktransfer.finetune import LinearWarmupDecay


def make_clf(path, **params):
    defaults = dict(lr=5e-3, max_epochs=2, batch_size=8, random_state=0)
    defaults.update(params)
    return BertFineTuneClassifier(path, **defaults)


def test_learns_string_labels(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(tiny_bert, max_epochs=30, warmup_ratio=0.0).fit(X, y)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X)
    assert proba.shape == (16, 2) and np.allclose(proba.sum(1), 1.0)
    assert set(clf.predict(X)) <= {"neg", "pos"}
    assert clf.score(X, y) == 1.0
    assert len(clf.history_) == 30


def test_multiclass_integer_labels(tiny_bert, sentiment_texts):
    X, _ = sentiment_texts
    y = np.arange(16) % 3 + 10
    clf = make_clf(tiny_bert).fit(X, y)
    assert clf.classes_.tolist() == [10, 11, 12]
    assert clf.predict_proba(X).shape == (16, 3)
    assert set(clf.predict(X).tolist()) <= {10, 11, 12}


def test_same_seed_same_predictions_and_global_rng_untouched(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    torch.manual_seed(5)
    expected_draw = torch.rand(2)
    torch.manual_seed(5)
    a = make_clf(tiny_bert, dropout=0.3).fit(X, y).predict_proba(X)
    assert torch.equal(torch.rand(2), expected_draw)
    b = make_clf(tiny_bert, dropout=0.3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = make_clf(tiny_bert, dropout=0.3, random_state=1).fit(X, y).predict_proba(X)
    assert np.abs(a - c).max() > 1e-6


def test_inference_independent_of_batching(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(tiny_bert).fit(X, y)
    full = clf.predict_proba(X)
    clf.set_params(batch_size=1)
    np.testing.assert_allclose(clf.predict_proba(X), full, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X[::-1]), full[::-1], atol=1e-5)


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("train_layers", [0, 1])
def test_train_layers_freezes_the_rest(tiny_bert, sentiment_texts, train_layers):
    X, y = sentiment_texts
    clf = make_clf(tiny_bert, train_layers=train_layers, weight_decay=0.1)
    from sktransfer.hf import load_encoder

    before = _snapshot(load_encoder(tiny_bert))
    clf.fit(X, y)
    after = clf.net_.module_.encoder.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    top_prefix = "encoder.layer.1."
    if train_layers == 0:
        assert changed == set()
    else:
        assert changed and all(k.startswith(top_prefix) for k in changed)
        assert any(k.startswith(top_prefix) for k in changed)


def test_early_stopping_restores_best_weights(tiny_bert, sentiment_texts):
    from skorch.dataset import ValidSplit

    X, y = sentiment_texts
    X, y = X * 2, y * 2
    clf = make_clf(tiny_bert, validation_fraction=0.25, patience=2, max_epochs=40, lr=3e-2, warmup_ratio=0.0).fit(X, y)
    history = clf.history_
    valid_losses = history[:, "valid_loss"]
    assert len(history) < 40, "a large learning rate should stop early"
    # Rebuild the same stratified split and check that the restored weights give the best loss.
    y_enc = np.searchsorted(clf.classes_, y)
    _, valid = ValidSplit(0.25, stratified=True, random_state=0)(clf.net_.get_dataset(clf._tokenize(X), y_enc), y_enc)
    proba = clf.predict_proba([X[i] for i in valid.indices])
    assert log_loss(y_enc[valid.indices], proba, labels=[0, 1]) == pytest.approx(min(valid_losses), rel=1e-4)


def test_linear_warmup_decay():
    sched = LinearWarmupDecay(warmup_steps=4, total_steps=14)
    values = [sched(s) for s in range(14)]
    assert values[:4] == [0.2, 0.4, 0.6, 0.8]
    assert values[4] == 1.0 and values[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(values[4:], values[5:]))


def test_not_fitted(tiny_bert):
    clf = make_clf(tiny_bert)
    with pytest.raises(NotFittedError):
        clf.predict(["a"])
    assert not hasattr(clf, "history_")


@pytest.mark.parametrize(
    "y, error, match",
    [
        (None, ValueError, "requires labels"),
        ("pos", TypeError, "single str"),
        (["pos"] * 16, ValueError, "single class"),
        (["pos", "neg"] * 4, ValueError, "different lengths"),
        ([0.0, 1.0] * 7 + [np.nan, 1.0], ValueError, "NaN"),
        (["pos", "neg"] * 7 + [None, "neg"], ValueError, "missing labels"),
        (np.zeros((16, 2)), ValueError, "1-D"),
        (np.linspace(0, 1, 16), ValueError, "continuous"),
    ],
)
def test_bad_labels(tiny_bert, sentiment_texts, y, error, match):
    X, _ = sentiment_texts
    with pytest.raises(error, match=match):
        make_clf(tiny_bert).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": 0}, "lr"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"train_layers": "top"}, "train_layers"),
        ({"train_layers": 9}, r"train_layers must be 'all' or an int in \[0, 2\]"),
        ({"pooling": "sum"}, "pooling"),
        ({"precision": "int8"}, "precision"),
    ],
)
def test_bad_params(tiny_bert, sentiment_texts, params, match):
    X, y = sentiment_texts
    with pytest.raises(ValueError, match=match):
        make_clf(tiny_bert, **params).fit(X, y)


def test_user_callbacks_run(tiny_bert, sentiment_texts):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X, y = sentiment_texts
    counter = CountEpochs()
    clf = make_clf(tiny_bert, max_epochs=3, callbacks=[counter]).fit(X, y)
    assert dict(clf.net_.callbacks_)["CountEpochs"].epochs == 3


def test_length_bucket_batches_cover_every_text_once_and_are_seeded():
    from sktransfer._skorch_classifier import LengthBucketBatchSampler

    lengths = np.random.RandomState(0).randint(1, 300, size=103)
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, pool_batches=4)
    torch.manual_seed(0)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(103))
    # Within a pool the batches are sorted by length, so a batch's spread is smaller than random.
    spread = np.mean([np.ptp(lengths[b]) for b in batches if len(b) > 1])
    assert spread < 0.5 * np.ptp(lengths)
    torch.manual_seed(0)
    assert list(sampler) == batches
    assert list(sampler) != batches  # a new order every epoch


def test_bfloat16_fine_tuning(tiny_bert, sentiment_texts, cpu_amx):
    cpu_amx("bfloat16")
    X, y = sentiment_texts
    clf = make_clf(tiny_bert, precision="bfloat16", max_epochs=30, warmup_ratio=0.0).fit(X, y)
    assert clf.score(X, y) == 1.0
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32 and np.allclose(proba.sum(1), 1.0, atol=1e-5)


def _grad_norm(module):
    grads = [p.grad.detach().float() for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))


def _training_recorder():
    """A skorch callback recording, per training batch, the optimizer's learning rates and the
    gradient norm before and after our clipping (user callbacks run before ours)."""
    from skorch.callbacks import Callback

    class TrainingRecorder(Callback):
        def initialize(self):
            self.lrs, self.norms_before, self.norms_after = [], [], []
            return self

        def on_batch_begin(self, net, training=False, **kwargs):
            if training:
                self.lrs.append([group["lr"] for group in net.optimizer_.param_groups])

        def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
            self.norms_before.append(_grad_norm(net.module_))

        def on_batch_end(self, net, training=False, **kwargs):
            if training:  # the optimizer has stepped with these (clipped) gradients
                self.norms_after.append(_grad_norm(net.module_))

    return TrainingRecorder()


def test_optimizer_does_not_decay_biases_and_layernorm_weights(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    clf = make_clf(tiny_bert, max_epochs=1, weight_decay=0.05).fit(X, y)
    module = clf.net_.module_
    decay = {}
    for group in clf.net_.optimizer_.param_groups:
        for param in group["params"]:
            assert id(param) not in decay, "a parameter is in two optimizer groups"
            decay[id(param)] = group["weight_decay"]
    names = dict(module.named_parameters())
    assert set(decay) == {id(p) for p in names.values()}, "every parameter is optimised"
    layer_norm_weights = {
        f"{prefix}.weight" for prefix, sub in module.named_modules() if isinstance(sub, torch.nn.LayerNorm)
    }
    biases = {name for name in names if name.rsplit(".", 1)[-1] == "bias"}
    assert layer_norm_weights and biases
    expected = {name: 0.0 if name in layer_norm_weights | biases else 0.05 for name in names}
    assert {name: decay[id(p)] for name, p in names.items()} == expected


@pytest.mark.parametrize(
    "validation_fraction, expected_factors",
    [
        # 16 texts in batches of 4 for 2 epochs: 8 steps, int(0.25 * 8) = 2 of them warming up.
        (None, [1 / 3, 2 / 3, 6 / 6, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6]),
        # 4 texts held out: 12 train in batches of 4 for 2 epochs, 6 steps, int(0.25 * 6) = 1 warming up.
        (0.25, [1 / 2, 5 / 5, 4 / 5, 3 / 5, 2 / 5, 1 / 5]),
    ],
)
def test_learning_rate_warms_up_then_decays_linearly_per_batch(
    tiny_bert, sentiment_texts, validation_fraction, expected_factors
):
    X, y = sentiment_texts
    recorder = _training_recorder()
    clf = make_clf(
        tiny_bert, lr=1e-3, batch_size=4, max_epochs=2, warmup_ratio=0.25,
        validation_fraction=validation_fraction, patience=5, callbacks=[recorder],
    ).fit(X, y)
    lrs = np.array(dict(clf.net_.callbacks_)["TrainingRecorder"].lrs)
    assert lrs.shape[1] == len(clf.net_.optimizer_.param_groups) > 1
    np.testing.assert_allclose(lrs, np.outer(1e-3 * np.array(expected_factors), np.ones(lrs.shape[1])), rtol=1e-9)


def test_gradients_are_clipped_to_max_grad_norm(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    clipped = make_clf(tiny_bert, max_epochs=1, max_grad_norm=1e-3, callbacks=[_training_recorder()]).fit(X, y)
    record = dict(clipped.net_.callbacks_)["TrainingRecorder"]
    assert len(record.norms_after) == 2 and len(record.norms_before) == 2
    assert min(record.norms_before) > 1e-2, "the raw gradients must be large enough for clipping to show"
    np.testing.assert_allclose(record.norms_after, 1e-3, rtol=1e-3)
    unclipped = make_clf(tiny_bert, max_epochs=1, max_grad_norm=None, callbacks=[_training_recorder()]).fit(X, y)
    record = dict(unclipped.net_.callbacks_)["TrainingRecorder"]
    np.testing.assert_allclose(record.norms_after, record.norms_before, rtol=1e-6)
    assert min(record.norms_after) > 1e-2


@pytest.mark.parametrize("precision, dtype", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_precision_is_the_dtype_inside_the_forward_in_fit_and_predict(
    tiny_bert, sentiment_texts, cpu_amx, precision, dtype
):
    from skorch.callbacks import Callback

    cpu_amx("bfloat16")

    seen = []

    class WatchHead(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.head.register_forward_hook(lambda module, args, output: seen.append(output.dtype))

    X, y = sentiment_texts
    clf = make_clf(tiny_bert, max_epochs=1, precision=precision, callbacks=[WatchHead()]).fit(X, y)
    assert len(seen) == 2 and set(seen) == {dtype}, "fit's forward passes"
    seen.clear()
    proba = clf.predict_proba(X)
    assert seen and set(seen) == {dtype}, "predict's forward passes"
    assert proba.dtype == np.float32


@pytest.mark.parametrize("native, expected", [((), "float32"), (("bfloat16",), "bfloat16")])
def test_auto_is_the_default_and_resolved_for_the_cpu(tiny_bert, sentiment_texts, cpu_amx, recwarn, native, expected):
    cpu_amx(*native)
    X, y = sentiment_texts
    clf = make_clf(tiny_bert, max_epochs=1).fit(X, y)
    assert clf.precision == "auto" and clf.precision_ == expected
    assert clf.net_.module_.precision == expected
    assert not [w for w in recwarn if issubclass(w.category, SlowPrecisionWarning)]
    if expected == "float32":  # the default changed from "float32": the same model on such a CPU
        np.testing.assert_array_equal(
            clf.predict_proba(X), make_clf(tiny_bert, max_epochs=1, precision="float32").fit(X, y).predict_proba(X)
        )


def test_explicit_bfloat16_on_a_cpu_without_amx_warns_once(tiny_bert, sentiment_texts, cpu_amx):
    cpu_amx()
    X, y = sentiment_texts
    with pytest.warns(SlowPrecisionWarning, match=r"BertFineTuneClassifier\(precision='bfloat16'\)") as record:
        clf = make_clf(tiny_bert, max_epochs=1, precision="bfloat16").fit(X, y)
        clf.predict(X)
    assert len([w for w in record if issubclass(w.category, SlowPrecisionWarning)]) == 1
    assert clf.precision_ == "bfloat16"
