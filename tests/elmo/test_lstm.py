"""ElmoLstm against a naive per-sequence, per-direction reference (written for clarity, not speed)."""

import numpy as np
import torch

from sktransfer.elmo.lstm import ElmoLstm


def _random_lstm(seed=0, clip=0.5):
    torch.manual_seed(seed)
    lstm = ElmoLstm(input_size=6, hidden_size=6, cell_size=10, num_layers=3, cell_clip=clip, proj_clip=clip)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn_like(p) * 0.8)
    return lstm


@torch.no_grad()
def _naive(lstm, x, length, h0=None, c0=None):
    """One sequence ``x (T, D)``; returns per-layer outputs (length, 2H) and final (h, c)."""
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
                c = torch.clamp(i * g + f * c, -lstm.cell_clip, lstm.cell_clip)
                h = torch.clamp((o * torch.tanh(c)) @ layer.projection_weight[d], -lstm.proj_clip, lstm.proj_clip)
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
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b.detach(), atol=1e-6)
    sum(o.sum() for o in slow).backward()
    assert x_grad.grad is not None and x_grad.grad[1, 2:].abs().max() == 0  # padding gets no gradient
    assert all(p.grad is not None for p in lstm.parameters())
