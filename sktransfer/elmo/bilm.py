"""The ELMo bidirectional language model used as a frozen feature extractor.

Numerically this is AllenNLP 0.9.0's ``_ElmoBiLm`` followed by
``remove_sentence_boundaries``; the differences are in what is computed, not in the
result:

* the character CNN runs once per *distinct* token of a batch (it depends on the
  word only, and is ~80% of the arithmetic for the published models);
* the LSTM is stateless by default (see ``stateful``).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from .char_cnn import CharCNN
from .characters import BOS_CHAR_IDS, EOS_CHAR_IDS, N_CHARACTER_IDS, _check_sentences, word_to_char_ids
from .lstm import ElmoLstm, LstmState
from .weights import load_options, load_weights

__all__ = ["ElmoBiLm"]

PathLike = Union[str, os.PathLike]


def _seed_from(random_state) -> Optional[int]:
    """Turn an sklearn-style ``random_state`` (None, int, numpy RandomState/Generator) into a seed."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy RandomState/Generator, got {random_state!r}")


class ElmoBiLm(nn.Module):
    """ELMo biLM: character CNN token encoder + stacked bidirectional LSTM.

    Build it with :meth:`from_files` (pretrained ``options.json`` + ``weights.hdf5``),
    :meth:`from_preset` (published AllenNLP models, downloaded and cached) or
    :meth:`from_options` (same architecture, seeded random weights).

    Parameters
    ----------
    options : path-like or mapping
        ELMo options (``{"lstm": {...}, "char_cnn": {...}}``).
    stateful : bool, default=False
        ``False``: every call starts from a zero LSTM state, so a sentence's vectors do
        not depend on the other sentences, its position in the batch or the batch size.
        ``True``: AllenNLP's behaviour -- the final state of batch row ``i`` (forward:
        after its last token, backward: after its first) seeds row ``i`` of the next
        call; a larger batch extends the stored state with zero rows, a smaller one
        uses and updates only the first rows. Needed to reproduce outputs produced by
        AllenNLP/bilm-tf with carried-over state (e.g. the reference test fixtures).
        :meth:`reset_states` clears the stored state.

    Notes
    -----
    Parameters are zero after construction; the class methods fill them.
    """

    def __init__(self, options: Union[PathLike, Mapping[str, Any]], *, stateful: bool = False) -> None:
        super().__init__()
        opts = load_options(options)
        self.options = opts
        cnn_opts, lstm_opts = opts["char_cnn"], opts["lstm"]
        projection_dim = int(lstm_opts["projection_dim"])
        self.char_cnn = CharCNN(
            filters=cnn_opts["filters"],
            n_highway=int(cnn_opts["n_highway"]),
            char_dim=int(cnn_opts["embedding"]["dim"]),
            output_dim=projection_dim,
            activation=cnn_opts["activation"],
            n_characters=N_CHARACTER_IDS,
            max_characters_per_token=int(cnn_opts["max_characters_per_token"]),
        )
        self.lstm = ElmoLstm(
            input_size=projection_dim,
            hidden_size=projection_dim,
            cell_size=int(lstm_opts["dim"]),
            num_layers=int(lstm_opts["n_layers"]),
            cell_clip=lstm_opts["cell_clip"],
            proj_clip=lstm_opts["proj_clip"],
            use_skip_connections=bool(lstm_opts["use_skip_connections"]),
        )
        self.stateful = bool(stateful)
        self._states: Optional[LstmState] = None
        # Sentence-marker tokens, added inside the model exactly like AllenNLP's encoder.
        self.register_buffer("_boundary_char_ids", torch.from_numpy(np.stack([BOS_CHAR_IDS, EOS_CHAR_IDS])),
                             persistent=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_files(cls, options_file: PathLike, weight_file: PathLike, *, stateful: bool = False) -> "ElmoBiLm":
        """Load a pretrained biLM from bilm-tf/AllenNLP ``options.json`` and ``weights.hdf5``.

        Parameters
        ----------
        options_file, weight_file : path-like
            The two files of a published (or :func:`~sktransfer.elmo.save_weights`-written) model.
        stateful : bool, default=False
            See the class docstring.

        Returns
        -------
        ElmoBiLm
            In eval mode, parameters with ``requires_grad=False`` (frozen feature extractor).
        """
        model = cls(options_file, stateful=stateful)
        load_weights(model, weight_file)
        return model._frozen()

    @classmethod
    def from_options(
        cls,
        options: Union[PathLike, Mapping[str, Any]],
        *,
        random_state=None,
        stateful: bool = False,
    ) -> "ElmoBiLm":
        """Build the architecture described by ``options`` with seeded random weights.

        The initialisation follows bilm-tf's training defaults (uniform character table,
        fan-in scaled normals, highway carry bias -2, forget bias +1), so the untrained
        model produces well-scaled activations. It does not touch the global torch RNG.

        Parameters
        ----------
        options : path-like or mapping
            ELMo options.
        random_state : None, int, numpy RandomState or Generator
            Seed; an int gives identical weights on every call.
        stateful : bool, default=False
            See the class docstring.
        """
        model = cls(options, stateful=stateful)
        seed = _seed_from(random_state)
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        model._init_random(generator)
        return model._frozen()

    @classmethod
    def from_preset(cls, name: str, *, cache_dir: Optional[PathLike] = None, stateful: bool = False) -> "ElmoBiLm":
        """Load a published AllenNLP ELMo (``"small"``, ``"medium"``, ``"original"``, ``"original-5.5b"``).

        Files are downloaded once into the cache (see :mod:`sktransfer.elmo.presets`).
        """
        from .presets import fetch_preset

        options_file, weight_file = fetch_preset(name, cache_dir=cache_dir)
        return cls.from_files(options_file, weight_file, stateful=stateful)

    def _frozen(self) -> "ElmoBiLm":
        self.eval()
        self.requires_grad_(False)
        return self

    @torch.no_grad()
    def _init_random(self, generator: torch.Generator) -> None:
        def normal(p, std):
            p.copy_(torch.randn(p.shape, generator=generator) * std)

        cnn = self.char_cnn
        table = torch.rand(cnn.char_embedding.shape, generator=generator) * 2.0 - 1.0
        table[0] = 0.0  # padding tokens embed to zero
        cnn.char_embedding.copy_(table)
        for conv in cnn.convolutions:
            width = conv.kernel_size[0]
            normal(conv.weight, (1.0 / (width * cnn.char_dim)) ** 0.5)
            conv.bias.zero_()
        n = cnn.n_filters
        for weight, bias in zip(cnn.highway_weight, cnn.highway_bias):
            normal(weight, (1.0 / n) ** 0.5)
            bias.zero_()
            bias[n:] = -2.0  # gate starts mostly closed: carry the input through
        normal(cnn.projection_weight, (1.0 / n) ** 0.5)
        cnn.projection_bias.zero_()
        cell = self.lstm.cell_size
        for layer in self.lstm.layers:
            normal(layer.input_weight, (1.0 / (layer.input_size + layer.hidden_size)) ** 0.5)
            normal(layer.state_weight, (1.0 / (layer.input_size + layer.hidden_size)) ** 0.5)
            layer.bias.zero_()
            layer.bias[:, cell: 2 * cell] = 1.0  # TF's forget_bias, stored in the bias here
            normal(layer.projection_weight, (1.0 / cell) ** 0.5)

    # ------------------------------------------------------------------ properties
    @property
    def num_layers(self) -> int:
        """Number of output layers: the token layer plus one per LSTM layer."""
        return self.lstm.num_layers + 1

    @property
    def output_dim(self) -> int:
        """Width of every activation: ``2 * projection_dim``."""
        return 2 * self.lstm.hidden_size

    def reset_states(self) -> None:
        """Forget the carried-over LSTM state (only meaningful with ``stateful=True``)."""
        self._states = None

    # ------------------------------------------------------------------ forward
    def forward(self, char_ids: torch.Tensor) -> Dict[str, Union[List[torch.Tensor], torch.Tensor]]:
        """Compute the biLM activations of a batch.

        Parameters
        ----------
        char_ids : torch.LongTensor
            ``(batch, tokens, 50)`` from :func:`~sktransfer.elmo.batch_to_ids`; tokens are
            left-aligned, padding tokens are all-zero rows. Do not add ``<S>``/``</S>``.

        Returns
        -------
        dict
            ``"activations"``: list of ``num_layers`` float tensors ``(batch, tokens, 2 * projection_dim)``;
            layer 0 is the character-CNN vector repeated for both directions, layer ``k`` the
            ``[forward | backward]`` output of LSTM layer ``k``. Sentence boundaries are removed
            and padded positions are zero.
            ``"mask"``: bool tensor ``(batch, tokens)``, True at real tokens.
        """
        if char_ids.dim() != 3:
            raise ValueError(f"char_ids must have shape (batch, tokens, 50), got {tuple(char_ids.shape)}")
        device = self._boundary_char_ids.device
        char_ids = char_ids.to(device)
        mask = (char_ids > 0).any(dim=-1)
        lengths = mask.sum(dim=1)
        positions = torch.arange(char_ids.shape[1], device=device)
        if not torch.equal(mask, positions.unsqueeze(0) < lengths.unsqueeze(1)):
            raise ValueError("char_ids must have each sentence's tokens first and padding rows (all 0) after them")
        rows = torch.cat([self._boundary_char_ids, char_ids[mask]])
        # Same word -> same CNN output: encode each distinct row once, then scatter back.
        unique_rows, inverse = torch.unique(rows, dim=0, return_inverse=True)
        encoded = self.char_cnn(unique_rows)
        boundary = encoded[inverse[:2]]
        token_vectors = encoded.new_zeros(*mask.shape, encoded.shape[-1])
        token_vectors[mask] = encoded[inverse[2:]]
        return self._contextualize(token_vectors, mask, boundary[0], boundary[1])

    def _contextualize(self, token_vectors, mask, bos, eos):
        """Run the LSTM over ``<S> tokens </S>`` and drop the boundary positions again.

        ``token_vectors`` is ``(batch, tokens, projection_dim)`` with zeros at padding.
        """
        batch, tokens, dim = token_vectors.shape
        lengths = mask.sum(dim=1)
        x = token_vectors.new_zeros(batch, tokens + 2, dim)
        x[:, 0] = bos
        x[:, 1: tokens + 1] = token_vectors
        x[torch.arange(batch, device=x.device), lengths + 1] = eos
        # An empty sentence still has <S></S> (length 2), as in AllenNLP.
        initial = self._initial_states(batch) if self.stateful else None
        outputs, final = self.lstm(x, lengths + 2, initial)
        if self.stateful:
            self._update_states(final)
        keep = mask.unsqueeze(-1).to(token_vectors.dtype)
        activations = [torch.cat([token_vectors, token_vectors], dim=-1)]
        # Slicing 1..tokens also catches </S> of shorter rows: the mask zeroes it.
        activations.extend(out[:, 1: tokens + 1] * keep for out in outputs)
        return {"activations": activations, "mask": mask}

    # ------------------------------------------------------------------ stateful mode
    def _initial_states(self, batch: int) -> Optional[LstmState]:
        if self._states is None:
            return None
        h, c = self._states
        stored = h.shape[2]
        if batch > stored:
            # New rows start from zero, and the enlarged storage is kept (AllenNLP semantics).
            h = torch.cat([h, h.new_zeros(*h.shape[:2], batch - stored, h.shape[3])], dim=2)
            c = torch.cat([c, c.new_zeros(*c.shape[:2], batch - stored, c.shape[3])], dim=2)
            self._states = (h, c)
        return h[:, :, :batch], c[:, :, :batch]

    def _update_states(self, final: LstmState) -> None:
        h_new, c_new = (s.detach() for s in final)
        if self._states is not None and self._states[0].shape[2] > h_new.shape[2]:
            batch = h_new.shape[2]
            h, c = (s.clone() for s in self._states)
            h[:, :, :batch] = h_new
            c[:, :, :batch] = c_new
            self._states = (h, c)
        else:
            self._states = (h_new, c_new)

    # ------------------------------------------------------------------ bulk inference
    def embed_tokens(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 512) -> List[torch.Tensor]:
        """Per-token activations for many tokenised sentences (the vectorizer entry point).

        Equivalent to ``forward(batch_to_ids(batch))`` over batches, but faster: the
        character CNN runs once per distinct token of the whole call, and sentences are
        batched by length to minimise padding. Results are independent of the order of
        ``sentences`` and of ``batch_size`` (up to float32 rounding, ~1e-7).

        Parameters
        ----------
        sentences : sequence of sequence of str
            One list of tokens per sentence.
        batch_size : int, default=512
            Sentences per LSTM batch (hundreds of rows keep the per-step matmuls efficient).

        Returns
        -------
        list of torch.Tensor
            For each sentence, in input order, a float32 CPU tensor of shape
            ``(num_layers, n_tokens, output_dim)`` (same layers as ``forward``'s
            ``"activations"``); empty sentences give ``(num_layers, 0, output_dim)``.
        """
        if self.stateful:
            raise RuntimeError("embed_tokens reorders sentences, which would scramble a carried-over state; "
                               "use a stateless ElmoBiLm (stateful=False) or call forward() batch by batch")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        _check_sentences(sentences)
        vocabulary: Dict[str, int] = {}
        indexed = []
        for sentence in sentences:
            # index 0 is reserved for padding, 1/2 for <S>/</S>
            indexed.append([vocabulary.setdefault(token, len(vocabulary) + 3) for token in sentence])
        device = self._boundary_char_ids.device
        results: List[Optional[torch.Tensor]] = [None] * len(indexed)
        with torch.inference_mode():
            char_rows = np.zeros((len(vocabulary) + 3, self._boundary_char_ids.shape[1]), dtype=np.int64)
            char_rows[1], char_rows[2] = BOS_CHAR_IDS, EOS_CHAR_IDS
            for token, index in vocabulary.items():
                char_rows[index] = word_to_char_ids(token)
            char_rows = torch.from_numpy(char_rows).to(device)
            table = torch.cat([self.char_cnn(chunk) for chunk in char_rows.split(4096)])
            table[0] = 0.0
            order = sorted(range(len(indexed)), key=lambda i: len(indexed[i]))
            for start in range(0, len(order), batch_size):
                members = order[start: start + batch_size]
                longest = len(indexed[members[-1]])
                ids = torch.zeros(len(members), longest, dtype=torch.long)
                for row, i in enumerate(members):
                    ids[row, : len(indexed[i])] = torch.tensor(indexed[i], dtype=torch.long)
                ids = ids.to(device)
                mask = ids > 0
                out = self._contextualize(table[ids], mask, table[1], table[2])
                stacked = torch.stack(out["activations"], dim=1).float().cpu()  # (b, layers, T, D)
                for row, i in enumerate(members):
                    results[i] = stacked[row, :, : len(indexed[i])].clone()
        return results
