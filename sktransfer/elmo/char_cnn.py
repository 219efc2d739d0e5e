"""ELMo's context-independent token encoder: char embedding -> CNN -> highway -> projection.

Parameters are kept in bilm-tf's ``x @ W`` orientation (except the convolutions, which
use PyTorch's ``Conv1d`` layout) so that loading and saving the hdf5 file is a plain copy
and the arithmetic mirrors the TensorFlow original.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .characters import MAX_CHARACTERS_PER_TOKEN, N_CHARACTER_IDS, PADDING_CHARACTER

__all__ = ["CharCNN"]

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}

# Shifted id of the within-word padding character.
PADDING_ID = PADDING_CHARACTER + 1
# Tokens per unfold+matmul: bounds the window buffer (rows * windows * n_filters floats).
_CHUNK_ROWS = 1024


class CharCNN(nn.Module):
    """Character CNN token encoder of ELMo (bilm-tf architecture).

    For each token: embed its 50 character ids, run one 1-D convolution per filter
    width, max-pool over positions, apply the activation, concatenate, pass through
    ``n_highway`` highway layers (always ReLU, as in bilm-tf) and project linearly
    to ``output_dim``.

    Parameters
    ----------
    filters : sequence of (int, int)
        ``(width, n_filters)`` per convolution, e.g. ``[[1, 32], [2, 32], ...]``.
    n_highway : int
        Number of highway layers.
    char_dim : int
        Character embedding size.
    output_dim : int
        Size of the projected token vector (the LSTM's ``projection_dim``).
    activation : {"relu", "tanh"}
        Non-linearity applied after max-pooling each convolution.
    n_characters : int, default=262
        Rows of the character table including the all-zero padding row 0.
    max_characters_per_token : int, default=50
        Must be 50: the character mapping produces rows of exactly that length.
    """

    def __init__(
        self,
        filters: Sequence[Sequence[int]],
        n_highway: int,
        char_dim: int,
        output_dim: int,
        activation: str = "relu",
        n_characters: int = N_CHARACTER_IDS,
        max_characters_per_token: int = MAX_CHARACTERS_PER_TOKEN,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown char_cnn activation {activation!r}; expected one of {sorted(_ACTIVATIONS)}")
        if max_characters_per_token != MAX_CHARACTERS_PER_TOKEN:
            raise ValueError(
                f"max_characters_per_token must be {MAX_CHARACTERS_PER_TOKEN} (the character mapping's row "
                f"length), got {max_characters_per_token}"
            )
        if n_characters < N_CHARACTER_IDS:
            raise ValueError(f"the character table needs at least {N_CHARACTER_IDS} rows, got {n_characters}")
        self.filters = [(int(w), int(n)) for w, n in filters]
        self.activation = activation
        self.char_dim = int(char_dim)
        self.output_dim = int(output_dim)
        self.n_filters = sum(n for _, n in self.filters)
        # Row 0 is the padding-token row; it stays zero (loaders prepend it to the file's table).
        self.char_embedding = nn.Parameter(torch.zeros(n_characters, self.char_dim))
        self.convolutions = nn.ModuleList(
            nn.Conv1d(self.char_dim, num, kernel_size=width, bias=True) for width, num in self.filters
        )
        # Highway layer k: columns [:n] = W_transform, [n:] = W_carry, fused so that one
        # matmul serves both (x @ W orientation, as stored in the hdf5 file).
        self.highway_weight = nn.ParameterList(
            nn.Parameter(torch.zeros(self.n_filters, 2 * self.n_filters)) for _ in range(n_highway)
        )
        self.highway_bias = nn.ParameterList(
            nn.Parameter(torch.zeros(2 * self.n_filters)) for _ in range(n_highway)
        )
        self.projection_weight = nn.Parameter(torch.zeros(self.n_filters, self.output_dim))
        self.projection_bias = nn.Parameter(torch.zeros(self.output_dim))

    @property
    def n_highway(self) -> int:
        """Number of highway layers after the convolutions."""
        return len(self.highway_weight)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """Encode tokens.

        Parameters
        ----------
        char_ids : torch.LongTensor
            Shape ``(..., 50)``: shifted character ids of each token.

        Returns
        -------
        torch.Tensor
            Shape ``(..., output_dim)``.
        """
        lead_shape = char_ids.shape[:-1]
        flat = char_ids.reshape(-1, char_ids.shape[-1])
        x = self._convolve_and_pool(flat)
        if torch.is_grad_enabled():
            out = self._highway_and_project(x)
        else:
            # In chunks, so that the (rows, 2 * n_filters) highway buffer stays small: a buffer
            # over glibc's mmap threshold is mapped (and page-faulted) afresh on every allocation.
            out = torch.cat([self._highway_and_project_inplace(part) for part in x.split(_CHUNK_ROWS)])
        return out.reshape(*lead_shape, self.output_dim)

    def _highway_and_project(self, x: torch.Tensor) -> torch.Tensor:
        n = self.n_filters
        for weight, bias in zip(self.highway_weight, self.highway_bias):
            both = torch.addmm(bias, x, weight)
            nonlinear = torch.relu(both[:, :n])
            # bilm-tf names the gate's weights "carry", but the gate multiplies the transform.
            gate = torch.sigmoid(both[:, n:])
            x = gate * nonlinear + (1.0 - gate) * x
        return torch.addmm(self.projection_bias, x, self.projection_weight)

    def _highway_and_project_inplace(self, x: torch.Tensor) -> torch.Tensor:
        """``_highway_and_project`` without autograd: the same arithmetic, in place in one buffer."""
        n = self.n_filters
        for weight, bias in zip(self.highway_weight, self.highway_bias):
            both = torch.addmm(bias, x, weight)
            transformed = both[:, :n].relu_()
            gate = both[:, n:].sigmoid_()
            transformed.mul_(gate)  # gate * nonlinear
            # (1 - gate) * x + gate * nonlinear: the same two products and sum as above.
            x = gate.neg_().add_(1.0).mul_(x).add_(transformed)
        return torch.addmm(self.projection_bias, x, self.projection_weight)

    def _convolve_and_pool(self, flat: torch.Tensor) -> torch.Tensor:
        """Max-pooled, activated convolution features ``(tokens, n_filters)`` of ``(tokens, 50)`` ids.

        Exact shortcut: a word row is ``[BOW, bytes..., EOW, PAD, PAD, ...]``; every window
        lying wholly in the trailing PAD run has the same value ``c_w`` (the filter applied
        to PAD embeddings). So for a token whose last non-PAD id is at position ``last - 1``
        the max over all ``51 - w`` windows equals ``max(c_w, max over windows starting before
        last)``. Typical words have ``last`` ~ 8, so this computes ~6x fewer windows than a
        full convolution. Tokens are grouped by the span they need; each group is one
        unfold + matmul per filter width (faster than ``conv1d`` on CPU for these shapes).
        """
        tokens, width = flat.shape
        if tokens == 0:
            return self.char_embedding.new_zeros(0, self.n_filters)
        widest = max(w for w, _ in self.filters)
        not_pad = flat != PADDING_ID
        # 1 + index of the last non-PAD id (0 if the row is all PAD)
        last = torch.where(not_pad.any(dim=1), width - not_pad.flip(1).to(torch.uint8).argmax(dim=1), 0)
        span = torch.clamp(last + (widest - 1), min=widest, max=width)
        order = torch.argsort(span, stable=True)
        spans, counts = torch.unique_consecutive(span[order], return_counts=True)
        kernels = [
            conv.weight.permute(2, 1, 0).reshape(w * self.char_dim, num)  # (w * char_dim, num)
            for conv, (w, num) in zip(self.convolutions, self.filters)
        ]
        # Value of each filter on an all-PAD window (same for every token).
        pad_window = self.char_embedding[PADDING_ID].repeat(widest).unsqueeze(0)
        pad_values = [pad_window[:, : w * self.char_dim] @ k for k, (w, _) in zip(kernels, self.filters)]
        act = _ACTIVATIONS[self.activation]
        pieces = []
        start = 0
        for span_len, count in zip(spans.tolist(), counts.tolist()):
            for chunk_start in range(start, start + count, _CHUNK_ROWS):
                rows = order[chunk_start: min(chunk_start + _CHUNK_ROWS, start + count)]
                embedded = F.embedding(flat[rows, :span_len], self.char_embedding)  # (g, span, char_dim)
                feats = []
                for kernel, pad_value, conv, (w, _) in zip(kernels, pad_values, self.convolutions, self.filters):
                    windows = embedded.unfold(1, w, 1).transpose(2, 3)  # (g, span - w + 1, w, char_dim)
                    scores = windows.reshape(-1, w * self.char_dim) @ kernel
                    best = scores.view(len(rows), span_len - w + 1, -1).amax(dim=1)
                    if span_len < width:
                        best = torch.maximum(best, pad_value)
                    # The bias is per channel, so adding it after the max is exact.
                    feats.append(act(best + conv.bias))
                pieces.append(torch.cat(feats, dim=-1))
            start += count
        pooled = torch.cat(pieces)
        return pooled.index_select(0, torch.argsort(order))
