"""Task heads on token vectors: ELMo's learned scalar mix, an MLP head and a BiLSTM head (pure torch).

The feature-based recipe of ELMo (Peters et al., 2018): mix the biLM layers of each token as
ELMo(t) = gamma * sum_k s_k h_{t,k} with learned, softmax-normalised s_k and a learned gamma, then
train a small network on the mixed vectors while the biLM stays frozen. The same heads also run on
trainable word embeddings (the lecture's randomly initialised baseline), so the two differ only in
where the token vectors come from.
"""

import torch
from torch import nn

from .pooling import pool

__all__ = ["HEADS", "BiLSTMHead", "MLPHead", "ScalarMix", "TokenHeadClassifier", "padding_mask", "reverse_padded"]

HEADS = ("mlp", "bilstm")


def padding_mask(lengths, width):
    """Boolean mask of shape ``(batch, width)``: True for the first ``lengths[i]`` positions of row i."""
    return torch.arange(width, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


class ScalarMix(nn.Module):
    """ELMo's learned layer mix: gamma * sum_k softmax(w)_k h_k (as AllenNLP's ``ScalarMix``).

    Parameters
    ----------
    n_layers : int
    layer_dropout : float, default=0.0
        During training, each layer is left out of the mix with this probability (its weight set to
        zero before the softmax renormalises the others), so the head cannot lean on one layer.

    dim : int or None, default=None
        Width of each layer's vectors; needed only to standardise the inputs
        (:meth:`set_input_statistics`).

    Notes
    -----
    The weights start equal (w = 0) and gamma at 1: training starts from the plain layer average.
    With input statistics set, each layer is standardised, ``(h_k - mean_k) / std_k``, before the
    mix: frozen language-model vectors share a large common component (the mean ELMo vectors of
    two reviews are nearly parallel), which a head trained by gradient descent would otherwise
    spend most of its steps undoing, the reason a StandardScaler precedes such models in a
    scikit-learn pipeline. The statistics are buffers: saved with the module, never trained.
    """

    def __init__(self, n_layers, layer_dropout=0.0, dim=None):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"ScalarMix needs at least one layer, got n_layers={n_layers}.")
        if not 0.0 <= layer_dropout < 1.0:
            raise ValueError(f"layer_dropout must be in [0, 1), got {layer_dropout!r}.")
        self.layer_dropout = float(layer_dropout)
        self.scalar_parameters = nn.Parameter(torch.zeros(n_layers))
        self.gamma = nn.Parameter(torch.ones(1))
        shape = (n_layers, dim) if dim is not None else (n_layers, 1)
        self.register_buffer("input_mean", torch.zeros(shape))
        self.register_buffer("input_std", torch.ones(shape))

    def set_input_statistics(self, mean, std):
        """Standardise each layer's inputs with ``mean`` and ``std``, arrays of shape ``(n_layers, dim)``."""
        mean = torch.as_tensor(mean, dtype=torch.float32)
        std = torch.as_tensor(std, dtype=torch.float32)
        if mean.shape != std.shape or mean.shape[0] != self.scalar_parameters.shape[0] or mean.dim() != 2:
            raise ValueError(
                f"expected mean and std of shape ({self.scalar_parameters.shape[0]}, dim), got "
                f"{tuple(mean.shape)} and {tuple(std.shape)}."
            )
        # A feature constant over the training set carries nothing; a unit scale keeps it finite.
        self.input_mean = mean.clone()
        self.input_std = torch.where(std > 1e-6, std, torch.ones_like(std))

    def weights(self):
        """The normalised layer weights s_k (no layer dropout), shape ``(n_layers,)``."""
        return torch.softmax(self.scalar_parameters, dim=0)

    def forward(self, layers):
        """Mix ``layers`` of shape ``(..., n_layers, dim)`` (any float dtype) into ``(..., dim)`` float32."""
        if layers.shape[-2] != self.scalar_parameters.shape[0]:
            raise ValueError(
                f"ScalarMix was built for {self.scalar_parameters.shape[0]} layers but got input with "
                f"{layers.shape[-2]} layers (shape {tuple(layers.shape)})."
            )
        logits = self.scalar_parameters
        if self.training and self.layer_dropout > 0:
            dropped = torch.rand_like(logits) < self.layer_dropout
            # A large negative logit rather than -inf: if every layer is dropped the softmax is
            # uniform instead of NaN (AllenNLP does the same).
            logits = logits.masked_fill(dropped, -1e20)
        weights = torch.softmax(logits, dim=0)
        layers = (layers.to(weights.dtype) - self.input_mean) / self.input_std
        return self.gamma * torch.einsum("...kd,k->...d", layers, weights)


class MLPHead(nn.Module):
    """Masked pooling, then the lecture's logits = W2 tanh(W1 x + b1) + b2.

    Parameters
    ----------
    input_dim, hidden_size, n_classes : int
    dropout : float, default=0.0
        Dropout on the pooled vector and on the hidden layer.
    pooling : {"mean", "max", "mean_max"}, default="mean"
        How the token vectors of a text become one vector (padding excluded).
    """

    def __init__(self, input_dim, hidden_size, n_classes, *, dropout=0.0, pooling="mean"):
        super().__init__()
        self.pooling = pooling
        pooled_dim = input_dim * (2 if pooling == "mean_max" else 1)
        self.dropout = nn.Dropout(dropout)
        self.hidden = nn.Linear(pooled_dim, hidden_size)
        self.output = nn.Linear(hidden_size, n_classes)

    def forward(self, vectors, lengths):
        """``vectors`` ``(batch, tokens, input_dim)``, ``lengths`` ``(batch,)`` -> logits ``(batch, n_classes)``."""
        pooled = pool(vectors, padding_mask(lengths, vectors.shape[1]), self.pooling)
        return self.output(self.dropout(torch.tanh(self.hidden(self.dropout(pooled)))))


class BiLSTMHead(nn.Module):
    """A BiLSTM over the token vectors, masked pooling of its states, and a linear layer (BiLSTM + FC).

    Parameters
    ----------
    input_dim, hidden_size, n_classes : int
        ``hidden_size`` is per direction; the pooled vector has ``2 * hidden_size`` values.
    dropout : float, default=0.0
        Dropout on the input vectors and on the pooled states.
    pooling : {"mean", "max", "mean_max"}, default="mean"

    Notes
    -----
    The two directions are two LSTMs over padded batches, the backward one on each text reversed
    within its own length, so padding never enters a text's states (as with packed sequences).
    Packed sequences give the same states but train 5-10 times slower on the CPU.
    """

    def __init__(self, input_dim, hidden_size, n_classes, *, dropout=0.0, pooling="mean"):
        super().__init__()
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.forward_lstm = nn.LSTM(input_dim, hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(input_dim, hidden_size, batch_first=True)
        self.output = nn.Linear(2 * hidden_size * (2 if pooling == "mean_max" else 1), n_classes)

    def forward(self, vectors, lengths):
        """``vectors`` ``(batch, tokens, input_dim)``, ``lengths`` ``(batch,)`` -> logits ``(batch, n_classes)``."""
        vectors = self.dropout(vectors)
        forward_states, _ = self.forward_lstm(vectors)
        backward_states, _ = self.backward_lstm(reverse_padded(vectors, lengths))
        states = torch.cat([forward_states, reverse_padded(backward_states, lengths)], dim=-1)
        pooled = pool(states, padding_mask(lengths, states.shape[1]), self.pooling)
        return self.output(self.dropout(pooled))


def reverse_padded(sequences, lengths):
    """Reverse each row of ``sequences`` ``(batch, tokens, dim)`` within its first ``lengths[i]`` positions.

    Padding positions stay where they are, so the function is its own inverse.
    """
    positions = torch.arange(sequences.shape[1], device=sequences.device).unsqueeze(0)
    lengths = lengths.to(sequences.device).unsqueeze(1)
    source = torch.where(positions < lengths, lengths - 1 - positions, positions)
    return sequences.gather(1, source.unsqueeze(-1).expand_as(sequences))


class TokenHeadClassifier(nn.Module):
    """Token inputs -> token vectors (``embedder``) -> class logits (``head``).

    Parameters
    ----------
    embedder : nn.Module
        :class:`ScalarMix` over frozen per-layer token vectors ``(batch, tokens, n_layers, dim)``,
        or an ``nn.Embedding`` over token ids ``(batch, tokens)`` (trained with the head).
    head : nn.Module
        :class:`MLPHead` or :class:`BiLSTMHead`.
    word_embedding : nn.Embedding or None, default=None
        Trainable word vectors joined to the mixed frozen vectors, [ELMo_t; x_t] (Peters et al.,
        2018, section 3.3: the task model keeps its own context-independent word vectors and
        ELMo is added to them). ``forward`` then also takes the word ids.
    pooled_inputs : bool, default=False
        Whether the frozen vectors arrive already mean-pooled, one row per text (the MLP head on
        mean pooling). The word vectors are then mean-pooled the same way before they are joined,
        which equals joining per token and pooling after; otherwise they are joined token by
        token, and both inputs must have the same tokens.
    """

    def __init__(self, embedder, head, word_embedding=None, pooled_inputs=False):
        super().__init__()
        self.embedder = embedder
        self.head = head
        self.word_embedding = word_embedding
        self.pooled_inputs = pooled_inputs

    def forward(self, tokens, lengths, ids=None, id_lengths=None):
        """Embed ``tokens`` and return the head's logits ``(batch, n_classes)`` given ``lengths`` ``(batch,)``.

        ``ids`` ``(batch, words)`` and ``id_lengths`` ``(batch,)``: the word ids, with ``word_embedding``.
        """
        vectors = self.embedder(tokens)
        if self.word_embedding is not None:
            words = self.word_embedding(ids)
            if self.pooled_inputs:
                words = pool(words, padding_mask(id_lengths, words.shape[1]), "mean").unsqueeze(1)
            elif words.shape[1] != vectors.shape[1]:
                raise ValueError(
                    f"{vectors.shape[1]} token vectors but {words.shape[1]} word ids per padded text: "
                    "the word embeddings are joined token by token, so both must come from the same tokens."
                )
            vectors = torch.cat([vectors, words.to(vectors.dtype)], dim=-1)
        return self.head(vectors, lengths)
