"""ELMo's stacked bidirectional LSTM with cell/projection clipping and skip connections.

Arithmetic per direction and layer (bilm-tf's ``LSTMCell(num_proj=..., cell_clip=...,
proj_clip=...)``, as reproduced by AllenNLP's ``LstmCellWithProjection``)::

    gates = x_t @ W_x + h_{t-1} @ W_h + b          # b includes the +1 forget bias
    i, f, o = sigmoid(gates[i, f, o]);  g = tanh(gates[g])
    c_t = clip(i * g + f * c_{t-1}, cell_clip)
    h_t = clip((o * tanh(c_t)) @ W_p, proj_clip)  # projected hidden state = output

Layer ``l > 0`` adds its input to its output (skip connection). Forward and backward
directions never mix: each direction's layer ``l + 1`` reads that direction's layer ``l``.

Implementation choices (why this is fast on CPU):

* The backward direction runs over each sequence reversed *within its own length*, so
  both directions have identical lengths and are computed together with batched
  matmuls (leading dimension 2): one Python step serves both directions.
* ``x_t @ W_x + b`` for all time steps is one matmul before the recurrence; each step
  only does ``h @ W_h`` and ``(...) @ W_p``.
* Sequences are sorted by length (descending) and the active batch shrinks as they
  end, so no arithmetic is spent on padding and a row's numbers do not depend on how
  much padding its batch has.
* Gates are stored in the order ``i, f, o, g`` so the three sigmoids are one call on a
  contiguous slice.

The forward pass builds no in-place graph hazards, so it also runs under autograd
(for fine-tuning / the future pretraining code); inference callers should wrap it in
``torch.inference_mode()``.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

__all__ = ["ElmoLstm", "BiLstmLayer", "LstmState"]

#: ``(h, c)``: shapes ``(num_layers, 2, batch, hidden_size)`` and ``(num_layers, 2, batch, cell_size)``;
#: index 0 of the second dimension is the forward direction, 1 the backward one.
LstmState = Tuple[torch.Tensor, torch.Tensor]


class BiLstmLayer(nn.Module):
    """Parameters of one layer for both directions (dimension 0: 0 forward, 1 backward).

    All matrices use the ``x @ W`` orientation; the gate blocks along the ``4 * cell_size``
    axis are ordered ``i, f, o, g`` (input, forget, output gates, candidate memory).

    Parameters
    ----------
    input_size, hidden_size, cell_size : int
        Input width, projected output width and memory-cell width.
    """

    def __init__(self, input_size: int, hidden_size: int, cell_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.cell_size = cell_size
        self.input_weight = nn.Parameter(torch.zeros(2, input_size, 4 * cell_size))
        self.state_weight = nn.Parameter(torch.zeros(2, hidden_size, 4 * cell_size))
        self.bias = nn.Parameter(torch.zeros(2, 4 * cell_size))
        self.projection_weight = nn.Parameter(torch.zeros(2, cell_size, hidden_size))


class ElmoLstm(nn.Module):
    """Stacked bidirectional LSTM with projection (the contextual part of ELMo's biLM).

    Parameters
    ----------
    input_size : int
        Width of the token vectors fed to layer 0.
    hidden_size : int
        Projection width (ELMo's ``projection_dim``); the output of every layer.
    cell_size : int
        Memory-cell width (ELMo's ``dim``).
    num_layers : int
        Number of bidirectional layers.
    cell_clip, proj_clip : float or None
        Clip the memory cell / projected state to ``[-clip, clip]``; ``None`` or 0 disables.
    use_skip_connections : bool, default=True
        Add each layer's input to its output for layers ``l > 0``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        cell_size: int,
        num_layers: int,
        cell_clip: Optional[float] = None,
        proj_clip: Optional[float] = None,
        use_skip_connections: bool = True,
    ) -> None:
        super().__init__()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.cell_size = int(cell_size)
        self.num_layers = int(num_layers)
        # bilm-tf treats a clip value of 0 / None as "no clipping".
        self.cell_clip = float(cell_clip) if cell_clip else None
        self.proj_clip = float(proj_clip) if proj_clip else None
        self.use_skip_connections = bool(use_skip_connections)
        self.layers = nn.ModuleList(
            BiLstmLayer(self.input_size if k == 0 else self.hidden_size, self.hidden_size, self.cell_size)
            for k in range(self.num_layers)
        )
        #: Dropout probability on every layer's input, active only in training mode (bilm-tf's
        #: ``DropoutWrapper(input_keep_prob=...)``). 0 by default: feature extraction never uses it.
        self.dropout = 0.0

    def zero_state(self, batch_size: int, device=None, dtype=torch.float32) -> LstmState:
        """All-zero ``(h, c)`` for ``batch_size`` rows (the stateless initial state)."""
        shape = (self.num_layers, 2, batch_size)
        return (
            torch.zeros(*shape, self.hidden_size, device=device, dtype=dtype),
            torch.zeros(*shape, self.cell_size, device=device, dtype=dtype),
        )

    def forward(
        self,
        inputs: torch.Tensor,
        lengths: torch.Tensor,
        initial_state: Optional[LstmState] = None,
    ) -> Tuple[list, LstmState]:
        """Run all layers in both directions.

        Parameters
        ----------
        inputs : torch.Tensor
            ``(batch, timesteps, input_size)``; row ``b`` is valid for ``t < lengths[b]``.
            Values at padded positions are ignored.
        lengths : torch.LongTensor
            ``(batch,)`` sequence lengths (0 allowed).
        initial_state : (h, c) or None
            Per-row initial states, shapes ``(num_layers, 2, batch, hidden_size)`` and
            ``(num_layers, 2, batch, cell_size)``. ``None`` means zeros.

        Returns
        -------
        outputs : list of torch.Tensor
            One ``(batch, timesteps, 2 * hidden_size)`` tensor per layer, ``[forward | backward]``,
            zero at padded positions.
        final_state : (h, c)
            Each row's state after its own last step (forward: after its last token;
            backward: after its first token), same shapes as ``initial_state``. Rows of
            length 0 return their initial state.
        """
        batch, timesteps, _ = inputs.shape
        lengths = lengths.to(device="cpu", dtype=torch.long)
        # Stable sort so that equal-length rows keep their relative order (determinism).
        order = torch.argsort(lengths, descending=True, stable=True)
        restore = torch.argsort(order)
        sorted_lengths = lengths[order]
        max_len = int(sorted_lengths[0]) if batch else 0
        device = inputs.device
        order_d, restore_d = order.to(device), restore.to(device)

        steps = torch.arange(max_len).unsqueeze(1)  # (T, 1)
        valid = steps < sorted_lengths.unsqueeze(0)  # (T, B) time-major
        # Active rows per step (rows are sorted, so they are always a prefix).
        batch_sizes = valid.sum(1).tolist()
        # Backward direction = forward over each row reversed within its length. Reversal
        # is an involution, so the same index maps outputs back. Padded positions map to
        # themselves.
        reverse_index = torch.where(valid, sorted_lengths.unsqueeze(0) - 1 - steps, steps).to(device)
        packed_index = valid.reshape(-1).nonzero().squeeze(1).to(device)

        if initial_state is None:
            h_all, c_all = self.zero_state(batch, device=device, dtype=inputs.dtype)
        else:
            h_all = initial_state[0].index_select(2, order_d)
            c_all = initial_state[1].index_select(2, order_d)

        x = inputs.index_select(0, order_d)[:, :max_len].transpose(0, 1)  # (T, B, D)
        x_backward = x.gather(0, reverse_index.unsqueeze(-1).expand_as(x))
        layer_input = torch.stack([x, x_backward])  # (2, T, B, D)

        outputs, final_h, final_c = [], [], []
        drop = self.dropout if self.training else 0.0
        for k, layer in enumerate(self.layers):
            if drop > 0.0:
                # As bilm-tf's DropoutWrapper(ResidualWrapper(cell)): the skip connection adds
                # the *dropped* input. Padded positions are zero and stay zero.
                layer_input = torch.nn.functional.dropout(layer_input, drop, training=True)
            out, h_k, c_k = self._run_layer(layer, layer_input, h_all[k], c_all[k], batch_sizes, packed_index)
            if k > 0 and self.use_skip_connections:
                out = out + layer_input  # zero at padded positions on both sides
            final_h.append(h_k)
            final_c.append(c_k)
            layer_input = out
            forward_out = out[0]
            backward_out = out[1].gather(0, reverse_index.unsqueeze(-1).expand_as(out[1]))
            both = torch.cat([forward_out, backward_out], dim=-1).transpose(0, 1)  # (B, T, 2H)
            both = both.index_select(0, restore_d)
            if max_len < timesteps:
                both = torch.nn.functional.pad(both, (0, 0, 0, timesteps - max_len))
            outputs.append(both)

        final_state = (
            torch.stack(final_h).index_select(2, restore_d),
            torch.stack(final_c).index_select(2, restore_d),
        )
        return outputs, final_state

    def _run_layer(self, layer, layer_input, h, c, batch_sizes, packed_index):
        """Recurrence of one layer over sorted, time-major input ``(2, T, B, D)``.

        Returns the layer output ``(2, T, B, H)`` (zeros at padding) and the final
        ``h (2, B, H)``, ``c (2, B, C)`` in sorted row order.
        """
        _, steps, batch, dim = layer_input.shape
        cell = self.cell_size
        # Input contribution of every time step in one matmul; the bias rides along.
        projected = torch.baddbmm(
            layer.bias.unsqueeze(1), layer_input.reshape(2, steps * batch, dim), layer.input_weight
        ).view(2, steps, batch, 4 * cell)
        state_weight, projection_weight = layer.state_weight, layer.projection_weight
        cell_clip, proj_clip = self.cell_clip, self.proj_clip

        # Without autograd the gate buffer can be updated in place (no copies, no allocations);
        # with autograd every op must stay out of place so the graph can be differentiated.
        inplace = not torch.is_grad_enabled()
        # Under autograd, slicing ``projected[:, t]`` at every step would make each step's
        # backward materialise a zero gradient of the *whole* (2, T, B, 4C) tensor (quadratic
        # in T; it was 80% of a training step). ``unbind`` views are gathered by a single
        # stack in backward instead.
        step_inputs = None if inplace else projected.unbind(1)
        step_outputs = []
        finished_h, finished_c = [], []
        active = batch
        for t in range(steps):
            n = batch_sizes[t]
            if n != active:
                # Rows n..active-1 ended at step t-1: their current state is final.
                finished_h.append(h[:, n:active])
                finished_c.append(c[:, n:active])
                h, c, active = h[:, :n], c[:, :n], n
            if inplace:
                gates = projected[:, t, :n].baddbmm_(h, state_weight)
                sig = gates[..., : 3 * cell].sigmoid_()
                candidate = gates[..., 3 * cell:].tanh_()
                c = sig[..., :cell] * candidate + sig[..., cell: 2 * cell] * c
                output_gate = sig[..., 2 * cell:]
            else:
                gates = torch.baddbmm(step_inputs[t][:, :n], h, state_weight)
                # split/chunk rather than slicing: their backward is one concatenation, where
                # every slice's backward would zero-fill and copy a full-size gate gradient.
                sig_part, candidate_part = gates.split([3 * cell, cell], dim=-1)
                sig = torch.sigmoid(sig_part)
                candidate = torch.tanh(candidate_part)
                input_gate, forget_gate, output_gate = sig.chunk(3, dim=-1)
                c = input_gate * candidate + forget_gate * c
            if cell_clip is not None:
                c = torch.clamp(c, -cell_clip, cell_clip)
            h = torch.bmm(output_gate * torch.tanh(c), projection_weight)
            if proj_clip is not None:
                h = torch.clamp(h, -proj_clip, proj_clip)
            step_outputs.append(h)
        finished_h.append(h)
        finished_c.append(c)
        # Finished blocks were collected from the tail of the sorted batch towards the head.
        final_h = torch.cat(finished_h[::-1], dim=1)
        final_c = torch.cat(finished_c[::-1], dim=1)

        hidden = self.hidden_size
        if step_outputs:
            packed = torch.cat(step_outputs, dim=1)  # (2, n_valid_positions, H), time-major
            out = packed.new_zeros(2, steps * batch, hidden).index_copy(1, packed_index, packed)
        else:
            out = layer_input.new_zeros(2, 0, hidden)
        return out.view(2, steps, batch, hidden), final_h, final_c
