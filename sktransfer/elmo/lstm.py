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
* Under autograd, ``x_t @ W_x + b`` for all time steps is one matmul before the
  recurrence and each step only does ``h @ W_h`` and ``(...) @ W_p``. Without autograd
  each step does ``[x_t | h] @ [W_x; W_h] + b`` as one matmul into a small reused buffer
  (faster on CPU: a wider inner dimension, no large temporaries; see ``_run_layer``).
* Sequences are sorted by length (descending) and the active batch shrinks as they
  end, so no arithmetic is spent on padding and a row's numbers do not depend on how
  much padding its batch has.
* Gates are stored in the order ``i, f, o, g`` so the three sigmoids are one call on a
  contiguous slice.

Without autograd (inference; wrap calls in ``torch.inference_mode()``) the gate buffer is
updated in place. Under autograd (pretraining) each layer's recurrence is one
:class:`_Recurrence` node with a hand-written backward over packed rows; it computes the
same numbers (``tests/elmo/test_lstm.py`` checks outputs and gradients against plain autograd).
"""

from __future__ import annotations

import math
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
        if torch.is_grad_enabled():
            return self._run_layer_differentiable(layer, layer_input, h, c, batch_sizes, packed_index)
        _, steps, batch, dim = layer_input.shape
        cell, hidden = self.cell_size, self.hidden_size
        # One matmul per step, [x_t | h_{t-1}] @ [W_x; W_h] + b, rather than x @ W_x for all
        # steps up front plus h @ W_h per step: on CPU it was 1.5-2.7x faster per layer. The
        # inner dimension doubles (128 -> 256 for the published models), which suits the GEMM
        # kernels better, and there is no (2, steps * batch, 4 * cell) buffer: a buffer over
        # glibc's mmap threshold (32 MiB at most) is mapped and page-faulted afresh on every
        # allocation, which cost about as much as the arithmetic. Every buffer below is small
        # and written in place.
        weight = torch.cat([layer.input_weight, layer.state_weight], dim=1)  # (2, D + H, 4C)
        bias = layer.bias.unsqueeze(1).clone()
        # tanh(z) = 2 * (sigmoid(2z) - 1/2): torch's CPU tanh ran 4x slower than its sigmoid (a
        # (2, 256, 2048) tensor, AMD EPYC AVX2, torch 2.13), and tanh was this step's largest
        # element-wise cost (ELMo 1.14-1.15x end to end, docs/elmo_benchmark.md). Doubling the
        # candidate block's weights and bias (exact in floating point) lets one sigmoid call
        # activate all four gate blocks; the factor 2 of o * tanh(c) moves into
        # the projection weights (exact as well), so each step computes half of
        # m = o * tanh(c). Differs from the tanh formula by float32 rounding only (~1e-7). Done on
        # every device, so that the numbers do not depend on it (on a GPU it costs two more
        # element-wise kernels per step).
        weight[..., 3 * cell:] *= 2.0
        bias[..., 3 * cell:] *= 2.0
        projection_weight = layer.projection_weight * 2.0
        cell_clip, proj_clip = self.cell_clip, self.proj_clip
        inputs = layer_input.new_empty(2, batch, dim + hidden)
        inputs[..., dim:] = h
        gate_buffer = layer_input.new_empty(2 * batch * 4 * cell)
        memory = layer_input.new_empty(2 * batch * cell)
        h_raw = layer_input.new_empty(2 * batch * hidden)
        out = layer_input.new_zeros(2, steps, batch, hidden)
        # Rows are sorted by length, so the rows active at a step are a prefix; a finished
        # row's entries in final_h / c are simply no longer written.
        final_h, c = h.clone(), c.clone()
        for t in range(steps):
            n = batch_sizes[t]
            inputs[:, :n, :dim] = layer_input[:, t, :n]
            gates = torch.baddbmm(bias, inputs[:, :n], weight, out=_leading(gate_buffer, 2, n, 4 * cell))
            input_gate, forget_gate, output_gate, half_candidate = gates.sigmoid_().split(cell, dim=-1)
            half_candidate.sub_(0.5)  # g / 2
            c_t = c[:, :n]
            c_t.mul_(forget_gate).addcmul_(input_gate, half_candidate, value=2.0)
            if cell_clip is not None:
                c_t.clamp_(-cell_clip, cell_clip)
            half_memory = torch.mul(c_t, 2.0, out=_leading(memory, 2, n, cell)).sigmoid_().sub_(0.5).mul_(output_gate)
            h_t = torch.bmm(half_memory, projection_weight, out=_leading(h_raw, 2, n, hidden))
            if proj_clip is not None:
                h_t = h_t.clamp_(-proj_clip, proj_clip)
            out[:, t, :n] = h_t
            inputs[:, :n, dim:] = h_t
            final_h[:, :n] = h_t
        return out, final_h, c

    def _run_layer_differentiable(self, layer, layer_input, h, c, batch_sizes, packed_index):
        """``_run_layer`` under autograd: the recurrence is one :class:`_Recurrence` node.

        Only valid positions enter the input matmul (packed, time-major), so no arithmetic
        is spent on padding in either direction of the pass.
        """
        _, steps, batch, dim = layer_input.shape
        packed_input = layer_input.reshape(2, steps * batch, dim).index_select(1, packed_index)
        projected = torch.baddbmm(layer.bias.unsqueeze(1), packed_input, layer.input_weight)
        packed, final_h, final_c = _Recurrence.apply(
            projected, h, c, layer.state_weight, layer.projection_weight, batch_sizes, self.cell_clip, self.proj_clip
        )
        out = packed.new_zeros(2, steps * batch, self.hidden_size).index_copy(1, packed_index, packed)
        return out.view(2, steps, batch, self.hidden_size), final_h, final_c


def _leading(buffer, *shape):
    """The first elements of a flat buffer as a contiguous tensor of ``shape`` (out= targets must be contiguous)."""
    return buffer[: math.prod(shape)].view(shape)


def _step_offsets(batch_sizes, batch):
    """Packed-layout bookkeeping of a sorted batch (row ``r`` of step ``t`` sits at ``starts[t] + r``).

    Returns the step starts and, as indices into ``cat([initial (B rows), packed (N rows)])``,
    each packed position's previous state and each row's final state.
    """
    sizes = torch.tensor(batch_sizes, dtype=torch.long)
    starts = torch.cumsum(sizes, 0) - sizes
    rows = torch.arange(batch)
    step_of = torch.repeat_interleave(torch.arange(len(batch_sizes)), sizes)
    row_of = torch.arange(int(sizes.sum())) - starts[step_of]
    # Step 0 reads the initial state; step t > 0 reads the same row of step t - 1.
    previous = torch.where(step_of == 0, row_of, batch + starts[(step_of - 1).clamp(min=0)] + row_of)
    lengths = (sizes.unsqueeze(0) > rows.unsqueeze(1)).sum(1)
    # A row's final state is its last step's, or its initial state when it has no step.
    final = torch.where(lengths > 0, batch + starts[(lengths - 1).clamp(min=0)] + rows, rows)
    return starts.tolist(), previous, final


class _Recurrence(torch.autograd.Function):
    """One layer's recurrence, both directions, over packed time-major rows, with a hand-written backward.

    Under plain autograd every step records ~15 small nodes, and each step's backward computes
    its own share of the weight gradients with tiny matmuls. Here the forward keeps what the
    backward needs in packed buffers; the backward runs only the two matmuls the recurrence
    requires per step (``dgates @ W_h^T``, ``dh @ W_p^T``), prepares the elementwise
    derivative factors of all steps at once, and forms the weight gradients afterwards as one
    large matmul each.

    Inputs: ``projected (2, N, 4C)`` (input contribution + bias of every packed position,
    time-major; step ``t`` holds ``batch_sizes[t]`` rows), ``h0 (2, B, H)``, ``c0 (2, B, C)``,
    ``state_weight (2, H, 4C)``, ``projection_weight (2, C, H)``. Outputs: ``out (2, N, H)``
    and the final ``h``, ``c`` of every row (same shapes as ``h0``, ``c0``).
    """

    @staticmethod
    def forward(ctx, projected, h0, c0, state_weight, projection_weight, batch_sizes, cell_clip, proj_clip):
        batch, cell = h0.shape[1], c0.shape[-1]
        starts, previous, final = _step_offsets(batch_sizes, batch)
        device = projected.device
        previous, final = previous.to(device), final.to(device)
        gates = projected.clone()  # activated in place; the backward reads i, f, o, g from it
        c_raw = projected.new_empty(c0.shape[0], gates.shape[1], cell)
        c_all = torch.empty_like(c_raw)
        tanh_c = torch.empty_like(c_raw)
        memory = torch.empty_like(c_raw)  # o * tanh(c), the projection's input
        h_raw = projected.new_empty(h0.shape[0], gates.shape[1], h0.shape[-1])
        out = torch.empty_like(h_raw)
        h_prev, c_prev = h0, c0
        for start, n in zip(starts, batch_sizes):
            step = slice(start, start + n)
            g = gates[:, step].baddbmm_(h_prev[:, :n], state_weight)
            sig = g[..., : 3 * cell].sigmoid_()
            candidate = g[..., 3 * cell:].tanh_()
            c_t = torch.mul(sig[..., :cell], candidate, out=c_raw[:, step])
            c_t.addcmul_(sig[..., cell: 2 * cell], c_prev[:, :n])
            if cell_clip is not None:
                c_t = torch.clamp(c_t, -cell_clip, cell_clip, out=c_all[:, step])
            else:
                c_all[:, step] = c_t
            torch.tanh(c_t, out=tanh_c[:, step])
            torch.mul(sig[..., 2 * cell:], tanh_c[:, step], out=memory[:, step])
            h_t = torch.bmm(memory[:, step], projection_weight, out=h_raw[:, step])
            if proj_clip is not None:
                h_t = torch.clamp(h_t, -proj_clip, proj_clip, out=out[:, step])
            else:
                out[:, step] = h_t
            # Rows are sorted by length, so the rows still active at the next step are a prefix of these.
            h_prev, c_prev = out[:, step], c_all[:, step]
        final_h = torch.cat([h0, out], dim=1).index_select(1, final)
        final_c = torch.cat([c0, c_all], dim=1).index_select(1, final)
        ctx.save_for_backward(gates, c_raw, c_all, tanh_c, memory, h_raw, out, h0, c0, state_weight,
                              projection_weight, previous)
        ctx.batch_sizes, ctx.starts, ctx.cell_clip, ctx.proj_clip = batch_sizes, starts, cell_clip, proj_clip
        return out, final_h, final_c

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_final_h, d_final_c):
        (gates, c_raw, c_all, tanh_c, memory, h_raw, out, h0, c0, state_weight, projection_weight,
         previous) = ctx.saved_tensors
        cell = c0.shape[-1]
        i, f, o, g = gates.split(cell, dim=-1)
        c_prev = torch.cat([c0, c_all], dim=1).index_select(1, previous)
        # d(pre-activation gates) = factor * (dc for i, f, g; dm for o), all steps at once:
        # sigmoid' = s (1 - s), tanh' = 1 - t^2.
        factors = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), tanh_c * o * (1 - o), i * (1 - g * g)], dim=-1)
        dm_to_dc = o * (1 - tanh_c * tanh_c)
        # clamp passes the gradient where min <= x <= max (torch.clamp's own rule).
        h_pass = (h_raw.abs() <= ctx.proj_clip).to(h_raw.dtype) if ctx.proj_clip is not None else None
        c_pass = (c_raw.abs() <= ctx.cell_clip).to(c_raw.dtype) if ctx.cell_clip is not None else None
        state_t, projection_t = state_weight.transpose(1, 2), projection_weight.transpose(1, 2)

        d_gates = torch.empty_like(gates)
        d_h_raw = torch.empty_like(h_raw)
        # Gradient flowing into each row's current h / c from later steps (initially: the final state's).
        dh = d_final_h.clone()
        dc = d_final_c.clone()
        for start, n in zip(reversed(ctx.starts), reversed(ctx.batch_sizes)):
            step = slice(start, start + n)
            dh_t = torch.add(d_out[:, step], dh[:, :n], out=d_h_raw[:, step])
            if h_pass is not None:
                dh_t.mul_(h_pass[:, step])
            dm = torch.bmm(dh_t, projection_t)
            dc_t = torch.addcmul(dc[:, :n], dm, dm_to_dc[:, step])
            if c_pass is not None:
                dc_t.mul_(c_pass[:, step])
            dg = d_gates[:, step].view(2, n, 4, cell)
            fac = factors[:, step].view(2, n, 4, cell)
            torch.mul(fac[:, :, :2], dc_t.unsqueeze(2), out=dg[:, :, :2])
            torch.mul(fac[:, :, 2], dm, out=dg[:, :, 2])
            torch.mul(fac[:, :, 3], dc_t, out=dg[:, :, 3])
            torch.mul(dc_t, f[:, step], out=dc[:, :n])
            torch.bmm(d_gates[:, step], state_t, out=dh[:, :n])
        h_prev = torch.cat([h0, out], dim=1).index_select(1, previous)
        d_state_weight = torch.bmm(h_prev.transpose(1, 2), d_gates)
        d_projection_weight = torch.bmm(memory.transpose(1, 2), d_h_raw)
        return d_gates, dh, dc, d_state_weight, d_projection_weight, None, None, None
