"""ElmoBiLm behaviour: output format, statelessness/determinism, stateful semantics."""

import numpy as np
import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids

TARGET = "The quick brown fox jumps over the lazy dog .".split()
OTHERS = [
    "A much longer neighbouring sentence that forces plenty of padding onto the target row , "
    "and then keeps going for a while .".split(),
    ["Short", "."],
    "Completely different words : zebra , quartz , xylophone .".split(),
    "the the the the".split(),
]


@pytest.fixture(scope="module")
def model(options_file, weight_file):
    return ElmoBiLm.from_files(options_file, weight_file)


@pytest.fixture(scope="module")
def wide_model():
    # Wider than the fixture model, so matmuls use blocked kernels where batch-size effects would show.
    opts = {
        "lstm": {"use_skip_connections": True, "projection_dim": 64, "cell_clip": 3, "proj_clip": 3,
                 "dim": 256, "n_layers": 2},
        "char_cnn": {"activation": "relu", "filters": [[1, 16], [2, 16], [3, 32], [4, 64], [7, 128]],
                     "n_highway": 2, "embedding": {"dim": 8}, "n_characters": 262,
                     "max_characters_per_token": 50},
    }
    return ElmoBiLm.from_options(opts, random_state=0)


def _target_vectors(model, batch, row):
    with torch.inference_mode():
        out = model(batch_to_ids(batch))
    return np.stack([a[row, : len(batch[row])].numpy() for a in out["activations"]])


def test_output_format(model):
    batch = [TARGET, ["Short", "."], []]
    with torch.inference_mode():
        out = model(batch_to_ids(batch))
    assert set(out) == {"activations", "mask"}
    assert len(out["activations"]) == model.num_layers == 3
    for act in out["activations"]:
        assert act.shape == (3, len(TARGET), model.output_dim) and act.dtype == torch.float32
        assert act[1, 2:].abs().max() == 0 and act[2].abs().max() == 0  # padding is zero
    assert out["mask"].dtype == torch.bool
    assert out["mask"].sum(1).tolist() == [len(TARGET), 2, 0]
    layer0 = out["activations"][0]
    half = model.output_dim // 2
    assert torch.equal(layer0[..., :half], layer0[..., half:])


@pytest.mark.parametrize("which", ["model", "wide_model"])
def test_stateless_vectors_do_not_depend_on_batch(which, request):
    m = request.getfixturevalue(which)
    alone = _target_vectors(m, [TARGET], 0)
    variants = [
        ([OTHERS[0], TARGET], 1),                 # long neighbour, second position
        ([TARGET] + OTHERS, 0),                   # first of five
        (OTHERS[:2] + [TARGET] + OTHERS[2:], 2),  # middle
        ((OTHERS * 8) + [TARGET], 32),            # batch of 33
    ]
    worst = 0.0
    for batch, row in variants:
        got = _target_vectors(m, batch, row)
        worst = max(worst, float(np.abs(got - alone).max()))
    # calling twice (no hidden state) gives identical results
    assert np.array_equal(_target_vectors(m, [TARGET], 0), alone)
    print(f"\n[{which}] max diff of a sentence's vectors across batch neighbours/position/size: {worst:.2e}")
    assert worst < 1e-5


def test_embed_tokens_equals_forward_and_ignores_order(model):
    sentences = [TARGET] + OTHERS + [[]]
    fast = model.embed_tokens(sentences, batch_size=2)
    shuffled = model.embed_tokens(sentences[::-1], batch_size=64)[::-1]
    for i, s in enumerate(sentences):
        ref = _target_vectors(model, [s], 0) if s else np.zeros((3, 0, model.output_dim))
        assert fast[i].shape == (3, len(s), model.output_dim)
        np.testing.assert_allclose(fast[i].numpy(), ref, atol=1e-5)
        np.testing.assert_allclose(shuffled[i].numpy(), ref, atol=1e-5)


def test_forward_rejects_gaps_and_bad_shapes(model):
    ids = batch_to_ids([["a", "b", "c"]])
    ids[0, 1] = 0
    with pytest.raises(ValueError, match="padding"):
        model(ids)
    with pytest.raises(ValueError, match="shape"):
        model(ids[0])


def test_stateful_carries_state_per_row_and_resets(options_file, weight_file):
    stateful = ElmoBiLm.from_files(options_file, weight_file, stateful=True)
    stateless = ElmoBiLm.from_files(options_file, weight_file)
    first = [TARGET, OTHERS[1]]
    a = _target_vectors(stateful, first, 0)
    np.testing.assert_allclose(a, _target_vectors(stateless, first, 0), atol=1e-6)  # fresh = stateless
    b = _target_vectors(stateful, first, 0)
    assert np.abs(a[1:] - b[1:]).max() > 1e-3        # LSTM layers see the carried state
    np.testing.assert_array_equal(a[0], b[0])         # the char CNN has no state
    stateful.reset_states()
    np.testing.assert_allclose(_target_vectors(stateful, first, 0), a, atol=1e-6)
    with pytest.raises(RuntimeError):
        stateful.embed_tokens([TARGET])


def test_stateful_batch_size_changes_follow_allennlp(options_file, weight_file):
    """A bigger batch adds zero-state rows; a smaller one uses and updates only the first rows."""
    m = ElmoBiLm.from_files(options_file, weight_file, stateful=True)
    fresh = ElmoBiLm.from_files(options_file, weight_file)
    with torch.inference_mode():
        m(batch_to_ids([TARGET]))                       # stores 1 row
        out = m(batch_to_ids([OTHERS[1], OTHERS[2]]))   # row 1 is new -> zero state
        ref = fresh(batch_to_ids([OTHERS[2]]))
        np.testing.assert_allclose(out["activations"][2][1, :len(OTHERS[2])], ref["activations"][2][0], atol=1e-6)
        h_before = m._states[0][:, :, 1].clone()
        m(batch_to_ids([TARGET]))                       # smaller batch: row 1 untouched
        assert m._states[0].shape[2] == 2
        assert torch.equal(m._states[0][:, :, 1], h_before)


def test_empty_inputs(model):
    with torch.inference_mode():
        out = model(batch_to_ids([]))
        assert [a.shape for a in out["activations"]] == [(0, 0, model.output_dim)] * 3
        out = model(batch_to_ids([[], []]))
        assert out["mask"].shape == (2, 0)
    assert model.embed_tokens([]) == []
    assert model.embed_tokens([[]])[0].shape == (3, 0, model.output_dim)
