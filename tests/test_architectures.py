"""Every supported architecture through both BERT estimators: features, fine-tuning, train_layers, pickling.

One tiny random model per architecture (``tiny_model`` fixture, tests/tiny_architectures.py), each
with a tokenizer of its kind trained on a few sentences.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import BertFineTuneClassifier, BertVectorizer
from sktransfer.architectures import (
    cls_pooling_problem,
    default_pooling,
    ensure_pad_token,
    is_decoder_only,
    transformer_blocks,
)
from sktransfer.hf import load_encoder, load_tokenizer

from .conftest import NEGATIVE, POSITIVE

TEXTS = POSITIVE + NEGATIVE
LABELS = ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)
DECODERS = {"gpt2"}
# Blocks train_layers can pick: ALBERT's two layers share one layer group.
N_BLOCKS = {"albert": 1}


def test_decoder_only_models_are_told_apart_from_encoders(tiny_model):
    arch, path = tiny_model
    config = load_encoder(path).config
    assert is_decoder_only(config) == (arch in DECODERS)
    assert default_pooling(config) == ("last" if arch in DECODERS else "mean")


def test_a_tokenizer_without_padding_pads_with_its_own_end_token(tiny_model):
    arch, path = tiny_model
    from transformers import AutoTokenizer

    raw = AutoTokenizer.from_pretrained(path)
    assert (raw.pad_token_id is None) == (arch in DECODERS)
    loaded = load_tokenizer(path)
    assert loaded.pad_token_id is not None
    assert len(loaded) == len(raw), "no token may be added: the embedding matrix keeps its size"
    assert loaded.pad_token_id == (raw.eos_token_id if arch in DECODERS else raw.pad_token_id)
    assert ensure_pad_token(loaded) is loaded and len(loaded) == len(raw)


def test_features_are_one_row_per_text_independent_of_the_batch(tiny_model):
    _, path = tiny_model
    # float32: padding must not change a vector at 1e-5, which bfloat16 ("auto" with AMX) cannot promise.
    vec = BertVectorizer(path, max_length=32, batch_size=5, precision="float32")
    X = vec.fit_transform(TEXTS)
    assert X.shape == (len(TEXTS), 32) and X.dtype == np.float32 and np.isfinite(X).all()
    assert len(np.unique(X.round(5), axis=0)) == len(set(TEXTS))
    # Each text alone (no padding at all): batching pads, and padding must not change a vector.
    alone = np.vstack([vec.transform([text]) for text in TEXTS])
    np.testing.assert_allclose(X, alone, atol=1e-5)


def test_auto_pooling_is_last_for_decoders_and_mean_for_encoders(tiny_model):
    arch, path = tiny_model
    auto = BertVectorizer(path, max_length=32).fit_transform(TEXTS[:4])
    pooling = "last" if arch in DECODERS else "mean"
    explicit = BertVectorizer(path, max_length=32, pooling=pooling).fit_transform(TEXTS[:4])
    np.testing.assert_array_equal(auto, explicit)


def test_cls_pooling_is_refused_where_position_0_is_no_summary_token(tiny_model):
    arch, path = tiny_model
    if arch not in DECODERS:
        assert cls_pooling_problem(load_encoder(path).config, load_tokenizer(path)) is None
        assert BertVectorizer(path, pooling="cls", max_length=32).fit_transform(TEXTS[:2]).shape == (2, 32)
        return
    for est in (BertVectorizer(path, pooling="cls"), BertFineTuneClassifier(path, pooling="cls", max_epochs=1)):
        with pytest.raises(InvalidParameterError) as error:
            est.fit(TEXTS, LABELS)
        message = str(error.value)
        expected = f"The 'pooling' parameter of {type(est).__name__} must be one of 'auto', 'mean', 'max', 'last'"
        assert expected in message
        assert "'gpt2' is a decoder-only model" in message and "Use pooling='last'" in message


def test_fine_tuning_learns_and_pickles_to_equal_predictions(tiny_model):
    _, path = tiny_model
    clf = BertFineTuneClassifier(path, max_length=32, batch_size=8, lr=1e-3, max_epochs=4, random_state=0)
    clf.fit(TEXTS, LABELS)
    losses = clf.history_[:, "train_loss"]
    assert losses[-1] < losses[0], f"training did not lower the loss: {losses}"
    proba = clf.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert set(clf.predict(TEXTS)) <= {"pos", "neg"}
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(TEXTS), proba, atol=1e-6)


def test_weight_decay_spares_biases_and_every_normalisation_layer(tiny_model):
    # GPT-2 names its norms ln_1/ln_2/ln_f and DistilBERT sa_layer_norm/output_layer_norm: found by
    # module class, not by the name "LayerNorm".
    _, path = tiny_model
    clf = BertFineTuneClassifier(path, max_length=16, batch_size=8, max_epochs=1, weight_decay=0.05, random_state=0)
    clf.fit(TEXTS[:4] + TEXTS[-4:], LABELS[:4] + LABELS[-4:])
    decay = {id(param): group["weight_decay"] for group in clf.net_.optimizer_.param_groups
             for param in group["params"]}
    names = dict(clf.net_.module_.named_parameters())
    norms = {f"{prefix}.{name}" for prefix, sub in clf.net_.module_.named_modules()
             if isinstance(sub, torch.nn.LayerNorm) for name, _ in sub.named_parameters(recurse=False)}
    assert norms, "every architecture here has LayerNorm modules"
    expected = {name: 0.0 if name in norms or name.endswith("bias") else 0.05 for name in names}
    assert {name: decay[id(param)] for name, param in names.items()} == expected


def test_vectorizer_pickles_to_equal_features(tiny_model):
    _, path = tiny_model
    vec = BertVectorizer(path, max_length=32).fit(TEXTS)
    restored = pickle.loads(pickle.dumps(vec))
    np.testing.assert_allclose(restored.transform(TEXTS), vec.transform(TEXTS), atol=1e-6)


def test_train_layers_trains_the_top_blocks_only(tiny_model):
    arch, path = tiny_model
    blocks = transformer_blocks(load_encoder(path))
    assert len(blocks) == N_BLOCKS.get(arch, 2)
    before = {k: v.clone() for k, v in load_encoder(path).state_dict().items()}
    clf = BertFineTuneClassifier(path, max_length=32, batch_size=8, lr=1e-2, max_epochs=1, train_layers=1,
                                 random_state=0).fit(TEXTS, LABELS)
    encoder = clf.net_.module_.encoder
    top = {id(p) for p in transformer_blocks(encoder)[-1].parameters()}
    after = dict(encoder.named_parameters())
    changed = {name for name, p in after.items() if not torch.equal(p.detach(), before[name])}
    trainable = {name for name, p in after.items() if p.requires_grad}
    assert changed and changed <= trainable
    assert {name for name, p in after.items() if id(p) in top} <= trainable
    assert not any("embed" in name or "wte" in name or "wpe" in name for name in trainable), trainable
    lower = [p for block in transformer_blocks(encoder)[:-1] for p in block.parameters()]
    assert not any(p.requires_grad for p in lower)
    with pytest.raises(ValueError, match=rf"train_layers must be 'all' or an int in \[0, {len(blocks)}\]"):
        BertFineTuneClassifier(path, max_epochs=1, train_layers=len(blocks) + 1).fit(TEXTS, LABELS)
