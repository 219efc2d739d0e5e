"""ElmoLstm against a naive per-sequence, per-direction reference (written for clarity, not speed)."""

import numpy as np
import pytest
import torch

from sktransfer.elmo.lstm import ElmoLstm


def _random_lstm(seed=0, clip=0.5):
    torch.manual_seed(seed)
    lstm = ElmoLstm(input_size=6, hidden_size=6, cell_size=10, num_layers=3, cell_clip=clip, proj_clip=clip)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn_like(p) * 0.8)
    return lstm


def _clip(x, clip):
    return x if clip is None else torch.clamp(x, -clip, clip)


def _naive(lstm, x, length, h0=None, c0=None):
    """One sequence ``x (T, D)``; returns per-layer outputs (length, 2H) and final (h, c).

    Plain per-step autograd ops, so it is also the reference for gradients.
    """
    cell = lstm.cell_size
    outputs, finals_h, finals_c = [], [], []
    inputs = [x[:length], x[:length].flip(0)]  # backward = forward over the reversed sequence
    for k, layer in enumerate(lstm.layers):
        new_inputs, out_dirs = [], []
        for d in range(2):
            h = torch.zeros(lstm.hidden_size) if h0 is None else h0[k, d]
            c = torch.zeros(cell) if c0 is None else c0[k, d]
            seq = []
            for x_t in inputs[d]:
                gates = x_t @ layer.input_weight[d] + h @ layer.state_weight[d] + layer.bias[d]
                i, f, o = (torch.sigmoid(gates[j * cell:(j + 1) * cell]) for j in range(3))
                g = torch.tanh(gates[3 * cell:])
                c = _clip(i * g + f * c, lstm.cell_clip)
                h = _clip((o * torch.tanh(c)) @ layer.projection_weight[d], lstm.proj_clip)
                seq.append(h)
            out = torch.stack(seq) if seq else torch.zeros(0, lstm.hidden_size)
            if k > 0:
                out = out + inputs[d]
            new_inputs.append(out)
            out_dirs.append(out if d == 0 else out.flip(0))
            finals_h.append(h)
            finals_c.append(c)
        inputs = new_inputs
        outputs.append(torch.cat(out_dirs, dim=-1))
    L = lstm.num_layers
    return outputs, torch.stack(finals_h).view(L, 2, -1), torch.stack(finals_c).view(L, 2, -1)


def test_matches_naive_reference_with_variable_lengths_and_states():
    lstm = _random_lstm()
    lengths = torch.tensor([3, 7, 0, 5, 7, 1])
    x = torch.randn(len(lengths), 7, 6)
    h0 = torch.randn(3, 2, len(lengths), 6) * 0.3
    c0 = torch.randn(3, 2, len(lengths), 10) * 0.3
    with torch.no_grad():
        outputs, (h, c) = lstm(x, lengths, (h0, c0))
    for b, length in enumerate(lengths.tolist()):
        with torch.no_grad():
            ref, ref_h, ref_c = _naive(lstm, x[b], length, h0[:, :, b], c0[:, :, b])
        for k in range(3):
            np.testing.assert_allclose(outputs[k][b, :length], ref[k], atol=1e-5)
            assert outputs[k][b, length:].abs().max() == 0 if length < 7 else True
        np.testing.assert_allclose(h[:, :, b], ref_h, atol=1e-5)
        np.testing.assert_allclose(c[:, :, b], ref_c, atol=1e-5)
    # a length-0 row keeps its initial state
    assert torch.equal(h[:, :, 2], h0[:, :, 2]) and torch.equal(c[:, :, 2], c0[:, :, 2])


def test_clipping_is_active_and_applied():
    lstm = _random_lstm(clip=0.05)
    x = torch.randn(2, 4, 6) * 5
    with torch.no_grad():
        outputs, (h, c) = lstm(x, torch.tensor([4, 2]))
    assert outputs[0].abs().max() <= 0.05 + 1e-7
    assert c.abs().max() <= 0.05 + 1e-7


def test_autograd_path_matches_inference_path_and_backpropagates():
    lstm = _random_lstm()
    x = torch.randn(3, 5, 6)
    lengths = torch.tensor([5, 2, 4])
    with torch.inference_mode():
        fast, _ = lstm(x, lengths)
    x_grad = x.clone().requires_grad_(True)
    slow, _ = lstm(x_grad, lengths)
    # The inference path computes tanh as 2 * sigmoid(2x) - 1 (<= 2e-7 absolute per call) and the
    # paths sum their matmuls in different orders; on this tiny model (weights of std 0.8) that
    # reaches ~2e-6.
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b.detach(), atol=5e-6)
    sum(o.sum() for o in slow).backward()
    assert x_grad.grad is not None and x_grad.grad[1, 2:].abs().max() == 0  # padding gets no gradient
    assert all(p.grad is not None for p in lstm.parameters())


def _gradients(lstm, outputs, final, tensors, seed=1):
    """Gradients of a random linear function of all outputs w.r.t. ``tensors`` and the parameters."""
    generator = torch.Generator().manual_seed(seed)
    loss = sum((o * torch.randn(o.shape, generator=generator, dtype=o.dtype)).sum() for o in [*outputs, *final])
    return torch.autograd.grad(loss, [*tensors, *lstm.parameters()])


@pytest.mark.parametrize("clip", [0.5, None])
def test_training_recurrence_matches_plain_autograd_forward_and_gradients(clip):
    """The hand-written backward of the training path against autograd through the naive reference."""
    lstm = _random_lstm(clip=clip).double()
    lengths = torch.tensor([3, 7, 0, 5, 7, 1])
    x = torch.randn(len(lengths), 7, 6, dtype=torch.float64, requires_grad=True)
    h0 = (torch.randn(3, 2, len(lengths), 6, dtype=torch.float64) * 0.3).requires_grad_()
    c0 = (torch.randn(3, 2, len(lengths), 10, dtype=torch.float64) * 0.3).requires_grad_()
    outputs, final = lstm(x, lengths, (h0, c0))
    got = _gradients(lstm, outputs, final, [x, h0, c0])

    rows = [_naive(lstm, x[b], n, h0[:, :, b], c0[:, :, b]) for b, n in enumerate(lengths.tolist())]
    ref_outputs = [torch.stack([torch.nn.functional.pad(r[0][k], (0, 0, 0, 7 - n)) for r, n in zip(rows, lengths)])
                   for k in range(3)]
    ref_final = (torch.stack([r[1] for r in rows], dim=2), torch.stack([r[2] for r in rows], dim=2))
    expected = _gradients(lstm, ref_outputs, ref_final, [x, h0, c0])
    for a, b in zip([*outputs, *final], [*ref_outputs, *ref_final]):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    assert all(g.abs().max() > 0 for g in got)  # every input and parameter really receives a gradient


def test_training_recurrence_passes_gradcheck():
    torch.manual_seed(0)
    lstm = ElmoLstm(input_size=3, hidden_size=3, cell_size=4, num_layers=2, cell_clip=0.5, proj_clip=0.5).double()
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn_like(p) * 0.8)
    lengths = torch.tensor([4, 1, 3])
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    h0 = (torch.randn(2, 2, 3, 3, dtype=torch.float64) * 0.3).requires_grad_()
    c0 = (torch.randn(2, 2, 3, 4, dtype=torch.float64) * 0.3).requires_grad_()
    names = [name for name, _ in lstm.named_parameters()]

    def run(x, h0, c0, *weights):
        outputs, final = torch.func.functional_call(lstm, dict(zip(names, weights)), (x, lengths, (h0, c0)))
        return (*outputs, *final)

    weights = [p.detach().clone().requires_grad_() for p in lstm.parameters()]
    assert torch.autograd.gradcheck(run, (x, h0, c0, *weights))


def test_training_path_in_float32_matches_the_inference_path():
    lstm = _random_lstm()
    lengths = torch.tensor([5, 2, 4, 5])
    x = torch.randn(4, 5, 6)
    with torch.inference_mode():
        fast, (fast_h, fast_c) = lstm(x, lengths)
    slow, (slow_h, slow_c) = lstm(x.requires_grad_(), lengths)
    for a, b in zip([*fast, fast_h, fast_c], [*slow, slow_h, slow_c]):
        torch.testing.assert_close(a, b.detach(), atol=5e-6, rtol=1e-6)  # see the test above
