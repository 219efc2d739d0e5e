"""ELMoVectorizer: frozen ELMo features (Peters et al., 2018) as a sklearn transformer."""

import numbers
import warnings

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._base import TextVectorizerMixin, ragged_rows
from ._batching import map_batches
from ._device import resolve_device
from ._model_memo import file_stamp, shared_model
from ._params import (
    ANY_INT,
    BATCH_SIZE,
    CACHE,
    DEVICE,
    ELMO_PRESET,
    OPTIONAL_PATH,
    POSITIVE_INT,
    RANDOM_STATE,
    NumberInterval,
    invalid_parameter,
)
from ._validation import check_texts, check_token_lists
from .exceptions import EmptyTextWarning
from .pooling import pool
from .tokenization import word_tokenize

__all__ = ["ELMoVectorizer"]

# Padded tokens per biLM call (= one LSTM batch), per text of ``batch_size``: the memory of a call
# (its activations, (layers, tokens, dim) per text) stays bounded however long the texts are
# (max_tokens=None keeps a 100,000-word text whole). The default batch_size of 512 gives 32,768
# tokens: 512 short sentences at once (the LSTM's per-step matmuls run near the machine's matmul
# rate only with hundreds of rows; batches of 64 were 1.3-1.5x slower end to end), or 64 texts of the
# default max_tokens=512. A single text longer than the bound gets a call of its own.
_TOKENS_PER_TEXT_OF_BATCH = 64


def _is_pretokenized(X):
    """Pre-tokenized input is a collection whose first row is a list/tuple/array of tokens."""
    if isinstance(X, (str, bytes)) or X is None or hasattr(X, "columns"):
        return False
    try:
        first = X[0] if not hasattr(X, "iloc") else X.iloc[0]
    except (TypeError, IndexError, KeyError):
        return False
    return isinstance(first, (list, tuple)) or (isinstance(first, np.ndarray) and first.ndim == 1)


def layer_mix(layers, n_layers, gamma=1.0, *, caller=None):
    """Turn the ``layers`` parameter into ELMo's scalar mix: (weights of shape (n_layers,), gamma).

    The declared constraint admits the strings, an int or an array-like; only the model knows the
    number of layers.

    Returns
    -------
    (ndarray of shape (n_layers,), float) or None
        ``None`` for ``"all"`` (the layers are concatenated, not mixed).

    Raises
    ------
    InvalidParameterError
        When ``layers`` does not fit this model (a TypeError and a ValueError).
    """
    expected = f"'average', 'all', a layer index in [{-n_layers}, {n_layers - 1}] or {n_layers} finite mix weights"
    if isinstance(layers, str):
        if layers == "all":
            return None
        if layers == "average":
            return np.full(n_layers, 1.0 / n_layers), float(gamma)
        raise invalid_parameter("layers", expected, layers, caller=caller)
    if isinstance(layers, numbers.Integral) and not isinstance(layers, bool):
        if not -n_layers <= layers < n_layers:
            raise invalid_parameter(
                "layers", expected, layers, caller=caller,
                why=f"It is out of range: this ELMo has {n_layers} layers (0 is the character CNN).",
            )
        weights = np.zeros(n_layers)
        weights[layers] = 1.0
        return weights, float(gamma)
    try:
        weights = np.asarray(layers, dtype=np.float64)
    except (TypeError, ValueError):
        weights = None
    if weights is None or weights.shape != (n_layers,) or not np.isfinite(weights).all():
        raise invalid_parameter(
            "layers", expected, layers, caller=caller, why=f"This ELMo has {n_layers} layers (0 is the character CNN)."
        )
    return weights, float(gamma)


class ELMoVectorizer(TextVectorizerMixin):
    """Frozen ELMo features: contextual word vectors of a biLM, mixed over layers and pooled per text.

    ``fit`` loads the biLM; ``transform`` tokenizes the texts, runs the biLM on length-sorted
    batches (the character CNN once per distinct word of a batch, the LSTM from a zero state for
    every text, so a text's vector never depends on its neighbours) and returns one float32 vector
    per text, in input order.

    Parameters
    ----------
    options_file, weight_file : str or path-like, default=None
        ELMo's ``options.json`` and ``weights.hdf5`` (bilm-tf / AllenNLP layout). When neither
        they nor ``preset`` are given, the embedded model is used: an ELMo of the ``"wide"``
        architecture (5.4M parameters, 256-wide layers) pretrained with sktransfer on IMDB's
        unlabelled reviews, shipped in the package (works offline; see
        ``docs/elmo_imdb_model_card.md``).
    preset : {"small", "medium", "original", "original-5.5b"} or None, default=None
        A published AllenNLP ELMo, downloaded once into a cache folder (``SKTRANSFER_ELMO_CACHE``)
        and reused. Used when ``options_file``/``weight_file`` are not given.
    layers : "average", "all", int or sequence of float, default="average"
        How the biLM layers (0: character CNN, 1..L: LSTM layers) become one vector per word, as in
        ELMo(t) = gamma * sum_k s_k h_{t,k}: ``"average"`` (s_k = 1/(L+1)), one layer index, or the
        weights s_k themselves (tunable by GridSearchCV); ``"all"`` concatenates the layers.
    gamma : float, default=1.0
        The scale of the mix, finite (ignored for ``"all"``).
    pooling : {"mean", "max", "mean_max"}, default="mean"
        How word vectors become a text vector; ``"mean_max"`` concatenates mean and max.
    tokenizer : callable or None, default=None
        str -> list of str. None uses a regex word tokenizer that splits punctuation and English
        clitics (n't, 's, ...). Pre-tokenized input (a list of token lists) bypasses it.
    max_tokens : int or None, default=512
        Texts are cut to their first ``max_tokens`` tokens; None keeps every token.
    batch_size : int, default=512
        Texts per LSTM batch, at most. A batch also holds at most ``64 * batch_size`` padded
        tokens (32,768 by default), so batches of long texts are smaller and memory stays bounded
        (a text longer than that is a batch of its own). Large batches keep the LSTM's per-step
        matmuls efficient: 64 was 1.3-1.5x slower than 512 on 2 CPU cores.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        "auto" uses CUDA when available, else the CPU. When a batch runs out of CUDA memory it is
        halved and retried (one :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call). A
        vectorizer fitted on a GPU and unpickled on a machine without one runs on the CPU.
    pretrained : bool, default=True
        False builds the architecture of ``options_file`` (or the preset) with random weights
        seeded by ``random_state``: the baseline that measures what pretraining buys.
    random_state : int in [0, 2**32 - 1] or None, default=None
    cache : str, path-like, joblib.Memory or None, default=None
        A folder for the feature cache (see :mod:`sktransfer.cache`): each text's vector is
        computed once per weights and output setting. None disables it.
    verbose : bool, default=False
        Show a progress bar during ``transform``.

    Attributes
    ----------
    bilm_ : sktransfer.elmo.ElmoBiLm
        The frozen, stateless biLM (shared by the vectorizers of one process that load the same
        weights on the same device).
    device_ : torch.device
    n_features_out_ : int

    Notes
    -----
    An empty or whitespace-only text (no tokens) gets a zero vector and one
    :class:`~sktransfer.exceptions.EmptyTextWarning` per call; its row is kept.
    """

    def __init__(
        self,
        options_file=None,
        weight_file=None,
        *,
        preset=None,
        layers="average",
        gamma=1.0,
        pooling="mean",
        tokenizer=None,
        max_tokens=512,
        batch_size=512,
        device="auto",
        pretrained=True,
        random_state=None,
        cache=None,
        verbose=False,
    ):
        self.options_file = options_file
        self.weight_file = weight_file
        self.preset = preset
        self.layers = layers
        self.gamma = gamma
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.device = device
        self.pretrained = pretrained
        self.random_state = random_state
        self.cache = cache
        self.verbose = verbose

    # -- input --------------------------------------------------------------------------------
    def _validate_texts(self, X):
        if _is_pretokenized(X):
            return check_token_lists(X, estimator=self)
        return check_texts(X, estimator=self)

    def _tokens(self, texts):
        """Token lists, cut to ``max_tokens``; pre-tokenized rows pass through."""
        tokenize = word_tokenize if self.tokenizer is None else self.tokenizer
        rows = []
        for i, text in enumerate(texts):
            tokens = text if isinstance(text, list) else tokenize(text)
            if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
                raise TypeError(f"tokenizer must return a list of str; for text [{i}] it returned {tokens!r:.80}.")
            rows.append(list(tokens) if self.max_tokens is None else list(tokens[: self.max_tokens]))
        return rows

    # -- fit ------------------------------------------------------------------------------------
    _parameter_constraints = {
        "options_file": OPTIONAL_PATH,
        "weight_file": OPTIONAL_PATH,
        "preset": ELMO_PRESET,
        # The index range and the number of weights depend on the model: layer_mix, once it is loaded.
        "layers": [StrOptions({"average", "all"}), ANY_INT, "array-like"],
        "gamma": [NumberInterval(numbers.Real, None, None, closed="neither")],
        "pooling": [StrOptions({"mean", "max", "mean_max"})],
        "tokenizer": [None, callable],
        "max_tokens": [POSITIVE_INT, None],
        "batch_size": BATCH_SIZE,
        "device": DEVICE,
        "pretrained": ["boolean"],
        "random_state": RANDOM_STATE,
        "cache": CACHE,
        "verbose": ["verbose"],
    }

    def _model_files(self):
        """(options, weights) paths from the parameters; weights may be None with pretrained=False."""
        from .elmo import fetch_preset
        from .elmo.embedded import embedded_model_files

        if self.options_file is not None:
            options_path, weights_path = self.options_file, self.weight_file
            if weights_path is None and self.pretrained:
                raise ValueError(
                    f"ELMoVectorizer got options_file={options_path!r} but no weight_file; pass the matching "
                    "weights.hdf5, or pretrained=False for random weights of that architecture."
                )
        elif self.weight_file is not None:
            raise ValueError(f"ELMoVectorizer got weight_file={self.weight_file!r} but no options_file; pass both.")
        elif self.preset is not None:
            options_path, weights_path = fetch_preset(self.preset)
        elif embedded_model_files() is not None:
            options_path, weights_path = embedded_model_files()
        else:
            raise ValueError(
                "ELMoVectorizer needs a model and this installation lacks the embedded one: pass "
                "options_file= and weight_file= (an options.json and weights.hdf5 in the bilm-tf/AllenNLP "
                "layout) or preset='small' (or 'medium', 'original', 'original-5.5b') to download a "
                "published ELMo."
            )
        return options_path, weights_path

    def _load(self, texts):
        from .elmo import ElmoBiLm

        self.device_ = resolve_device(self.device)
        options_path, weights_path = self._model_files()

        def load():
            if not self.pretrained:
                bilm = ElmoBiLm.from_options(options_path, random_state=self.random_state)
            else:
                bilm = ElmoBiLm.from_files(options_path, weights_path)
            return bilm.to(self.device_).requires_grad_(False).eval()

        unseeded_random = not self.pretrained and self.random_state is None
        key = None if unseeded_random else (
            "elmo", file_stamp(options_path), None if not self.pretrained else file_stamp(weights_path),
            None if self.pretrained else int(self.random_state), str(self.device_),
        )
        self.bilm_ = shared_model(key, load)
        n_layers = self.bilm_.num_layers
        mix = layer_mix(self.layers, n_layers, self.gamma, caller=type(self).__name__)  # fail in fit, not transform
        per_word = self.bilm_.output_dim * (n_layers if mix is None else 1)
        self.n_features_out_ = per_word * (2 if self.pooling == "mean_max" else 1)

    # -- transform -------------------------------------------------------------------------------
    def _output_settings(self):
        mix = layer_mix(self.layers, self.bilm_.num_layers, self.gamma, caller=type(self).__name__)
        return {"mix": None if mix is None else (mix[0] * mix[1]).tolist(), "pooling": self.pooling}

    def _frozen_model(self):
        return self.bilm_

    _model_attribute = "bilm_"

    @staticmethod
    def _pack_model(bilm):
        return {"options": bilm.options, "state_dict": {k: v.detach().cpu() for k, v in bilm.state_dict().items()}}

    @staticmethod
    def _unpack_model(packed):
        from .elmo import ElmoBiLm

        bilm = ElmoBiLm(packed["options"])
        bilm.load_state_dict(packed["state_dict"])
        return bilm

    def _encode(self, texts):
        token_lists = self._tokens(texts)
        n_empty = sum(1 for tokens in token_lists if not tokens)
        if n_empty:
            warnings.warn(
                f"{n_empty} of {len(texts)} texts have no tokens (empty or whitespace-only); "
                "they get zero vectors.",
                EmptyTextWarning,
                stacklevel=4,
            )
        return token_lists

    def _embed_units(self, token_lists):
        import torch

        mix = self._output_settings()["mix"]
        if mix is not None:
            weights = torch.as_tensor(mix, dtype=torch.float32).view(-1, 1, 1)

        def pooled_rows(activations):
            rows = []
            for layers in activations:  # (n_layers, n_tokens, dim) per text
                words = (layers * weights).sum(dim=0) if mix is not None else torch.cat(list(layers), dim=-1)
                mask = torch.ones(1, words.shape[0])
                if words.shape[0]:
                    rows.append(pool(words.unsqueeze(0), mask, self.pooling)[0])
                else:
                    rows.append(torch.zeros(self.n_features_out_))
            return torch.stack(rows).numpy()

        return self._map_bilm_calls(token_lists, [len(tokens) for tokens in token_lists], pooled_rows)

    def _map_bilm_calls(self, token_lists, lengths, rows_of):
        """``rows_of(activations)`` over length-sorted biLM calls, stacked in input order.

        One call is one LSTM batch: at most ``batch_size`` texts and ``64 * batch_size`` padded
        tokens (see ``_TOKENS_PER_TEXT_OF_BATCH``); ``rows_of`` gets the per-text activations of a
        call and returns one row per text (or per token, for the token-level path).
        """
        batch_size = int(self.batch_size)

        def embed_chunk(positions):
            return rows_of(self.bilm_.embed_tokens([token_lists[i] for i in positions], batch_size=batch_size))

        return map_batches(
            embed_chunk, len(token_lists), lengths, batch_size, max_tokens=batch_size * _TOKENS_PER_TEXT_OF_BATCH,
            verbose=self.verbose, desc=type(self).__name__,
        )

    # -- token level (heads trained on frozen token vectors, see sktransfer.feature_head) -------
    def _token_layer_indices(self):
        """The biLM layers ``layers`` uses: every layer for "average"/"all", else those with a non-zero weight."""
        mix = layer_mix(self.layers, self.bilm_.num_layers, self.gamma)
        indices = list(range(self.bilm_.num_layers)) if mix is None else np.flatnonzero(mix[0]).tolist()
        if not indices:
            raise ValueError(f"layers={self.layers!r} gives every layer a zero weight; no token vectors to return.")
        return indices

    def _token_units(self, texts):
        token_lists = self._encode(texts)
        return token_lists, [len(tokens) for tokens in token_lists]

    def _token_layer_shape(self):
        return len(self._token_layer_indices()), self.bilm_.output_dim

    def _embed_token_units(self, token_lists, lengths, dtype):
        chosen = self._token_layer_indices()

        def token_rows(activations):
            # (n_layers, n_tokens, dim) -> (n_tokens, n_layers, dim): one row per token.
            return ragged_rows(
                [np.ascontiguousarray(layers[chosen].transpose(0, 1).numpy(), dtype=dtype) for layers in activations]
            )

        return list(self._map_bilm_calls(token_lists, lengths, token_rows))
