"""FeatureHeadClassifier: a head trained on the frozen token vectors of an encoder, on skorch.

ELMo's feature-based recipe: the encoder (ELMo, a BERT-style model) stays frozen; its per-layer
token vectors are mixed with learned weights (ELMo(t) = gamma * sum_k s_k h_{t,k}) and a small
network (an MLP on the pooled vectors or a BiLSTM) is trained on them. The encoder runs once per
text per ``fit``: its token vectors are computed first and kept in memory (float16) for every
epoch. With the encoder's ``cache`` set (``ELMoVectorizer(cache=folder)``), they also go
through the on-disk feature cache (:class:`sktransfer.cache.TokenFeatureCache`), so another
``fit`` (a seed, a cross-validation fold, a grid point) or ``predict`` on texts seen before
reads them instead of running the encoder; ``max_feature_bytes`` bounds them either way. With
:class:`~sktransfer.word_embedding.WordEmbeddingEncoder` the same heads train on randomly
initialised word embeddings instead, the baseline of the ELMo paper's experiments; with
``word_embeddings`` the heads read both, the frozen vectors joined to trainable word vectors, the
way the ELMo paper adds ELMo to a task model.
"""

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import TokenMemoryError, ragged_rows
from ._batching import map_batches
from ._params import (
    BATCH_SIZE,
    CALLBACKS,
    DEVICE,
    DROPOUT,
    LEARNING_RATE,
    MAX_GRAD_NORM,
    OPTIONAL_POSITIVE_INT,
    POSITIVE_INT,
    RANDOM_STATE,
    VALIDATION_FRACTION,
    WEIGHT_DECAY,
)
from ._skorch_classifier import SkorchTextClassifier, length_bucket_loader
from ._validation import check_texts
from .reporting import plain_history

__all__ = ["FeatureHeadClassifier", "PadTokens"]

_HEADS = ("mlp", "bilstm")  # sktransfer.heads.HEADS; repeated so that validation does not import torch
# Texts encoded per call when not all token vectors are kept (predict, pooling before training):
# the encoder's own length-sorted batching applies within a call, and only one call's token
# vectors (about 0.2 GiB of float32 for 256 long reviews through the embedded ELMo) are held.
_TEXTS_PER_ENCODER_CALL = 256


class _TokenStatistics:
    """Running mean and standard deviation per (layer, dimension) over every token added, in float64."""

    def __init__(self):
        self.count, self.sums, self.squares = 0, 0.0, 0.0

    def add(self, tokens):
        values = tokens.astype(np.float64)
        self.count += len(values)
        self.sums = self.sums + values.sum(axis=0)
        self.squares = self.squares + np.square(values).sum(axis=0)

    def mean_std(self):
        mean = self.sums / max(self.count, 1)
        return mean, np.sqrt(np.maximum(self.squares / max(self.count, 1) - np.square(mean), 0.0))


class JoinedTokens:
    """One text's frozen token vectors and its word ids, kept together as one row of the dataset.

    ``vectors`` is ``(n_tokens, n_layers, dim)``, or one mean row ``(1, n_layers, dim)`` when the
    head pools before training; ``ids`` is ``(n_words,)``. ``len`` is the longer of the two, the
    width the row adds to a padded batch (what the length-bucketed batches group by).
    """

    __slots__ = ("vectors", "ids")

    def __init__(self, vectors, ids):
        self.vectors, self.ids = vectors, ids

    def __len__(self):
        return max(len(self.vectors), len(self.ids))

    @property
    def nbytes(self):
        return self.vectors.nbytes + self.ids.nbytes


def _pad(rows):
    """Zero-padded ``(batch, width, ...)`` tensor of ``rows`` and their lengths; width at least 1."""
    import torch

    lengths = np.asarray([len(row) for row in rows], dtype=np.int64)
    padded = np.zeros((len(rows), max(1, int(lengths.max()))) + rows[0].shape[1:], dtype=rows[0].dtype)
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    return torch.from_numpy(padded), torch.from_numpy(lengths)


class PadTokens:
    """DataLoader collate: pads per-text token inputs to the longest text of the batch.

    Each input is an array with one row per token: token ids ``(n_tokens,)`` or per-layer vectors
    ``(n_tokens, n_layers, dim)``; or a :class:`JoinedTokens` holding both. Padding is zeros (id 0
    is ``<pad>``); a batch is at least one token wide, so that texts without tokens still pass
    through the network (masked out).
    """

    def __call__(self, batch):
        """Collate ``(row, label)`` pairs into ``(inputs, y)`` of zero-padded tensors.

        ``inputs`` holds ``tokens`` and ``lengths``, and ``ids`` and ``id_lengths`` for
        :class:`JoinedTokens` rows.
        """
        import torch

        rows = [row for row, _ in batch]
        y = torch.as_tensor(np.asarray([label for _, label in batch]), dtype=torch.long)
        if isinstance(rows[0], JoinedTokens):
            tokens, lengths = _pad([row.vectors for row in rows])
            ids, id_lengths = _pad([row.ids for row in rows])
            return {"tokens": tokens, "lengths": lengths, "ids": ids, "id_lengths": id_lengths}, y
        tokens, lengths = _pad(rows)
        return {"tokens": tokens, "lengths": lengths}, y


class FeatureHeadClassifier(SkorchTextClassifier):
    """A classifier head trained on the frozen token vectors of an encoder (feature-based transfer).

    ``fit`` fits a clone of ``encoder``, computes the token vectors of the layers it selects once
    for all training texts, and trains, with AdamW, a learned scalar mix of those layers and the
    ``head`` on top. ``predict_proba`` encodes new texts the same way, chunk by chunk.

    Parameters
    ----------
    encoder : estimator or None, default=None
        Where the token vectors come from: an :class:`~sktransfer.ELMoVectorizer` or
        :class:`~sktransfer.BertVectorizer` (frozen; its ``layers`` parameter selects the layers
        the mix learns weights for: ``"average"``/``"all"`` mixes every ELMo layer; for BERT
        e.g. ``layers=[-4, -3, -2, -1]``; texts are cut by its ``max_tokens``/``max_length``), or a
        :class:`~sktransfer.WordEmbeddingEncoder` (random word vectors trained with the head, no
        mix). None uses ``ELMoVectorizer()``, the embedded ELMo. Its parameters are reachable as
        ``encoder__<name>``, and ``GridSearchCV`` can switch encoders.
    head : {"mlp", "bilstm"}, default="bilstm"
        ``"mlp"``: pooling, then W2 tanh(W1 x + b1) + b2; ``"bilstm"``: a BiLSTM over the mixed
        token vectors, pooling of its states and a linear layer.
    word_embeddings : WordEmbeddingEncoder or None, default=None
        Also train randomly initialised word vectors (over this encoder's vocabulary, of its
        ``embedding_dim``) with the head and join them to the mixed frozen vectors, [ELMo_t; x_t]:
        the ELMo paper's recipe (Peters et al., 2018, section 3.3), which adds ELMo to a task
        model's own word vectors instead of replacing them. Frozen encoders only. The BiLSTM head
        and max pooling join them token by token, so both must tokenize each text into the same
        words: ``ELMoVectorizer`` and ``WordEmbeddingEncoder`` share a tokenizer, but give them the
        same ``max_tokens``. The MLP head on mean pooling joins the two means, so any encoder works.
        Its parameters are reachable as ``word_embeddings__<name>``.
    hidden_size : int, default=64
        Hidden units of the MLP, or per direction of the BiLSTM.
    pooling : {"mean", "max", "mean_max"}, default="mean"
        How token (or BiLSTM state) vectors become one text vector, padding excluded. With the
        MLP head on ELMo's standardised token vectors, "max" trained to near chance on IMDB (the
        maximum over a long text carries a large offset shared by every dimension, and little
        else) and "mean_max" 5 points under "mean" (``docs/feature_heads.md``).
    dropout : float, default=0.2
        Dropout in the head (on its input vectors and before the output layer).
    layer_dropout : float, default=0.0
        Probability of leaving a layer out of the mix at each training step (AllenNLP's ScalarMix).
    standardize : bool, default=True
        Standardise each layer's token vectors with the mean and standard deviation of the
        training tokens (per layer and dimension) before the mix, as a StandardScaler would
        before a linear model: frozen vectors share a large common component that would
        otherwise slow gradient descent down. Frozen encoders only.
    lr : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=0.01
        AdamW weight decay of the head's weights (not of biases, the mix or word embeddings).
    max_epochs : int, default=10
    batch_size : int, default=32
        Texts per training step; training batches hold texts of similar length.
    validation_fraction : float or None, default=None
        Fraction of the training texts held out (stratified) to measure validation loss and
        accuracy every epoch (``history_``). With it and a ``patience``, training stops after
        ``patience`` epochs without a better validation loss and the best epoch's weights are
        restored.
    patience : int or None, default=3
        None: no early stopping; the validation split is only measured, and the last epoch's
        weights are kept.
    refit : bool, default=False
        With ``validation_fraction``: after the run with the validation split, train the mix and
        the head again from their initial weights on *all* training texts for ``best_epoch_``
        epochs (``max_epochs`` when ``patience`` is None), and keep that network. The held-out
        texts then still count for the model, which matters when labels are few (on 100 IMDB
        reviews, early stopping on a 20-text split cost 5 points, ``docs/feature_heads.md``),
        and the validation run still draws ``history_``. The encoder is not run again.
    max_grad_norm : float or None, default=5.0
        Gradient clipping by global norm; None disables it.
    max_feature_bytes : int or None, default=2**31
        Upper bound on the memory of the stored token vectors (2 GiB): ``fit`` raises a
        ValueError before running the encoder when the training texts would need more. About
        ``n_tokens * n_layers * dim * 2`` bytes (float16), e.g. 2,000 IMDB reviews of ~300 tokens
        through the embedded ELMo (3 layers of 256) take about 0.9 GiB. None: no bound. The MLP
        head on mean pooling keeps one mean vector per text and layer instead (the mix and the
        mean are linear, so pooling first is exact); the bound then applies to the token vectors
        of 256 texts, encoded at a time.
    feature_dtype : {"float16", "float32"}, default="float16"
        How the token vectors are stored; the head computes in float32 either way.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        Where the head trains (the encoder uses its own ``device``). When a ``predict_proba``
        batch (the encoder's or the head's) runs out of CUDA memory it is halved and retried
        (one :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call). A classifier fitted on
        a GPU and unpickled on a machine without one predicts on the CPU.
    random_state : int or None, default=None
        Seeds the head, the word embeddings, the validation split, shuffling and dropout. The
        same value gives identical predictions on the CPU with the same number of torch threads
        (another thread count sums in another order, and training can end elsewhere: a BiLSTM
        head on IMDB moved by up to 3 points between 1 and 2 threads, ``docs/feature_heads.md``).
    verbose : int, default=0
        1: skorch's epoch table and a progress bar (the encoder has its own ``verbose``).
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks; ours (gradient clipping, early stopping, progress bar) follow them.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, as given in ``y``.
    encoder_ : estimator
        The fitted clone of ``encoder``.
    word_embeddings_ : WordEmbeddingEncoder or None
        The fitted clone of ``word_embeddings`` (its ``vocabulary_`` indexes the trained vectors,
        ``net_.module_.word_embedding``).
    net_ : skorch.NeuralNetClassifier
        The trained network (``net_.module_`` is a :class:`sktransfer.heads.TokenHeadClassifier`).
    history_ : list of dict
        One entry per epoch: ``epoch``, ``train_loss``, ``dur`` (seconds) and, with
        ``validation_fraction``, ``valid_loss`` and ``valid_acc``; plain floats (JSON-ready).
        With ``refit``, the history of the run with the validation split.
    best_epoch_ : int
        The epoch whose weights were kept (the last one without ``validation_fraction`` or
        ``patience``); with ``refit``, the number of epochs of the refit.
    refit_history_ : list of dict or None
        The refit's epochs (``epoch``, ``train_loss``, ``dur``); None without ``refit``.
    mix_weights_ : ndarray of shape (n_layers,)
        The learned, normalised layer weights s_k (frozen encoders only).
    mix_gamma_ : float
        The learned scale gamma (frozen encoders only).
    feature_bytes_ : int
        Memory the stored training inputs took during ``fit``.
    device_ : torch.device

    Examples
    --------
    >>> from sktransfer import ELMoVectorizer, FeatureHeadClassifier
    >>> clf = FeatureHeadClassifier(ELMoVectorizer(), head="mlp", random_state=0)  # doctest: +SKIP
    >>> clf.fit(["a great film", "a dull film"], ["pos", "neg"]).predict(["great!"])  # doctest: +SKIP
    """

    _parameter_constraints = {
        "encoder": [None, HasMethods(["fit", "transform_tokens"]), HasMethods(["fit", "transform_ids"])],
        "head": [StrOptions(set(_HEADS))],
        "word_embeddings": [None, HasMethods(["fit", "transform_ids"])],
        "hidden_size": [POSITIVE_INT],
        "pooling": [StrOptions({"mean", "max", "mean_max"})],
        "dropout": DROPOUT,
        "layer_dropout": DROPOUT,
        "standardize": ["boolean"],
        "lr": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
        "max_epochs": [POSITIVE_INT],
        "batch_size": BATCH_SIZE,
        "validation_fraction": VALIDATION_FRACTION,
        "patience": [POSITIVE_INT, None],
        "refit": ["boolean"],
        "max_grad_norm": MAX_GRAD_NORM,
        "max_feature_bytes": OPTIONAL_POSITIVE_INT,
        "feature_dtype": [StrOptions({"float16", "float32"})],
        "device": DEVICE,
        "random_state": RANDOM_STATE,
        "verbose": ["verbose"],
        "callbacks": CALLBACKS,
    }

    def __init__(
        self,
        encoder=None,
        *,
        head="bilstm",
        word_embeddings=None,
        hidden_size=64,
        pooling="mean",
        dropout=0.2,
        layer_dropout=0.0,
        standardize=True,
        lr=1e-3,
        weight_decay=0.01,
        max_epochs=10,
        batch_size=32,
        validation_fraction=None,
        patience=3,
        refit=False,
        max_grad_norm=5.0,
        max_feature_bytes=2**31,
        feature_dtype="float16",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.encoder = encoder
        self.head = head
        self.word_embeddings = word_embeddings
        self.hidden_size = hidden_size
        self.pooling = pooling
        self.dropout = dropout
        self.layer_dropout = layer_dropout
        self.standardize = standardize
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.refit = refit
        self.max_grad_norm = max_grad_norm
        self.max_feature_bytes = max_feature_bytes
        self.feature_dtype = feature_dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # -- encoder --------------------------------------------------------------------------------
    def _trains_embeddings(self):
        return hasattr(self.encoder_, "transform_ids")

    def _pools_before_training(self):
        # Mean pooling and the scalar mix are both linear, so the mean of the mixed token vectors
        # equals the mix of each layer's token mean: the MLP head on mean pooling can train on one
        # averaged "token" per text, exactly, at a fraction of the memory and time per epoch.
        return self.head == "mlp" and self.pooling == "mean" and not self._trains_embeddings()

    def _frozen_token_vectors(self, texts, dtype):
        try:
            return self.encoder_.transform_tokens(texts, dtype=dtype, max_bytes=self.max_feature_bytes)
        except TokenMemoryError as exc:
            raise ValueError(
                f"{exc} The limit is {type(self).__name__}(max_feature_bytes={self.max_feature_bytes}); "
                "truncation and layers are the encoder's (encoder__max_tokens / encoder__max_length, encoder__layers)."
            ) from exc

    def _token_inputs(self, texts, statistics=None):
        """One array per text, with a row per token: ids (trainable embeddings) or per-layer vectors.

        For the MLP head on mean pooling, the row is the text's mean token (no rows for a text
        without tokens). ``statistics`` (a :class:`_TokenStatistics`) sees every token vector, in
        both cases, so that standardisation is the same whether pooling comes first or not.
        """
        if self._trains_embeddings():
            return ragged_rows(self.encoder_.transform_ids(texts))
        dtype = np.dtype(self.feature_dtype)
        if self._pools_before_training():
            rows = []
            for start in range(0, len(texts), _TEXTS_PER_ENCODER_CALL):  # only one chunk's tokens at a time
                for tokens in self._frozen_token_vectors(texts[start : start + _TEXTS_PER_ENCODER_CALL], np.float32):
                    if statistics is not None:
                        statistics.add(tokens)
                    mean = tokens.mean(axis=0, keepdims=True) if len(tokens) else tokens
                    rows.append(mean.astype(dtype))
        else:
            rows = self._frozen_token_vectors(texts, dtype)
            if statistics is not None:
                for tokens in rows:
                    statistics.add(tokens)
        bad = next((i for i, row in enumerate(rows) if not np.isfinite(row).all()), None)
        if bad is not None:
            raise ValueError(
                f"The token vectors of text [{bad}] do not fit in {self.feature_dtype} (they overflow to inf or "
                "are NaN); use feature_dtype='float32'."
            )
        if self.word_embeddings_ is not None:
            rows = self._joined_with_word_ids(texts, rows)
        return ragged_rows(rows)

    def _joined_with_word_ids(self, texts, rows):
        """Each text's frozen rows with its word ids (``word_embeddings``), checked to align token by token."""
        ids = self.word_embeddings_.transform_ids(texts)
        if not self._pools_before_training():
            bad = next((i for i, (row, words) in enumerate(zip(rows, ids)) if len(row) != len(words)), None)
            if bad is not None:
                raise ValueError(
                    f"Text [{bad}] has {len(rows[bad])} token vectors from the encoder but {len(ids[bad])} words "
                    f"from word_embeddings; head={self.head!r} with pooling={self.pooling!r} joins them token by "
                    "token, so both must split each text into the same words. Give both the same max_tokens "
                    "(encoder__max_tokens and word_embeddings__max_tokens) and tokenizer, or use head='mlp' with "
                    "pooling='mean', which joins the two means (the only choice for a BERT encoder's word pieces)."
                )
        return [JoinedTokens(row, words) for row, words in zip(rows, ids)]

    # -- skorch assembly ------------------------------------------------------------------------
    def initialize_module(self, n_classes, token_shape):
        """Build the embedder (learned scalar mix or word embeddings) and the head (hook: override to change them).

        Parameters
        ----------
        n_classes : int
        token_shape : tuple
            The shape of one token's input: ``()`` for an id, ``(n_layers, dim)`` for frozen vectors.
        """
        from torch import nn

        from .heads import BiLSTMHead, MLPHead, ScalarMix, TokenHeadClassifier

        def word_table(vocabulary_encoder):  # randomly initialised, trained with the head; <pad> stays zero
            return nn.Embedding(
                len(vocabulary_encoder.vocabulary_), int(vocabulary_encoder.embedding_dim), padding_idx=0
            )

        if self._trains_embeddings():
            embedder = word_table(self.encoder_)
            input_dim = embedder.embedding_dim
        else:
            n_layers, input_dim = token_shape
            embedder = ScalarMix(n_layers, layer_dropout=self.layer_dropout, dim=input_dim)
        word_embedding = None
        if self.word_embeddings_ is not None:
            word_embedding = word_table(self.word_embeddings_)
            input_dim += word_embedding.embedding_dim
        head = {"mlp": MLPHead, "bilstm": BiLSTMHead}[self.head]
        return TokenHeadClassifier(
            embedder, head(input_dim, self.hidden_size, n_classes, dropout=self.dropout, pooling=self.pooling),
            word_embedding=word_embedding, pooled_inputs=self._pools_before_training(),
        )

    def initialize_callbacks(self, validation=True):
        """Our skorch callbacks: gradient clipping, early stopping, progress bar (no early stopping in a refit)."""
        return self._training_callbacks(validation=validation)

    def _build_net(self, n_classes, token_shape, statistics, *, refit_epochs=None):
        """A new network; ``refit_epochs`` makes it the refit's (every text, that many epochs)."""
        validation = refit_epochs is None
        net = self._skorch_classifier(
            self.initialize_module(n_classes, token_shape),
            PadTokens(),
            iterator_train=length_bucket_loader,
            callbacks=self.initialize_callbacks(validation=validation),
            # Decay would pull the mix towards equal weights and gamma towards 0, and shrink every
            # word vector at every step, seen in the batch or not.
            no_weight_decay=["embedder.*", "word_embedding.*", "*bias"],
            validation=validation,
            max_epochs=refit_epochs,
        )
        if statistics is not None:
            net.module.embedder.set_input_statistics(*statistics.mean_std())
        return net

    # -- public API -------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Encode the texts once, then train the mix and the head.

        Parameters
        ----------
        X : iterable of str
        y : array-like of shape (n_texts,)
            Class labels: str or int, two or more classes.

        Returns
        -------
        self
        """
        texts, codes = self._fit_inputs(X, y)
        if self.word_embeddings is not None and hasattr(self.encoder, "transform_ids"):
            # Checked before the encoder is fitted (loading a model) only to be refused.
            raise ValueError(
                f"word_embeddings joins trainable word vectors to a frozen encoder's token vectors, but the "
                f"encoder, {type(self.encoder).__name__}, already gives trainable word vectors. Use a frozen "
                "encoder (ELMoVectorizer, BertVectorizer) with it, or word_embeddings=None."
            )
        if self.encoder is None:
            from .elmo_vectorizer import ELMoVectorizer

            self.encoder_ = ELMoVectorizer()
        else:
            self.encoder_ = clone(self.encoder)
        self.encoder_.fit(texts)
        self.word_embeddings_ = None if self.word_embeddings is None else clone(self.word_embeddings).fit(texts)
        statistics = _TokenStatistics() if self.standardize and not self._trains_embeddings() else None
        inputs = self._token_inputs(texts, statistics)
        self.feature_bytes_ = int(sum(row.nbytes for row in inputs))
        first = inputs[0].vectors if self.word_embeddings_ is not None else inputs[0]
        token_shape = first.shape[1:]
        with self._seeded_torch():
            self.net_ = self._build_net(len(self.classes_), token_shape, statistics)
            self.net_.fit(inputs, codes)
        history = self.net_.history
        self.history_ = plain_history(history)
        best = [row["epoch"] for row in history if row.get("valid_loss_best")]
        early_stopping = self.validation_fraction is not None and self.patience is not None
        self.best_epoch_ = int(best[-1]) if early_stopping and best else len(history)
        self.refit_history_ = None
        if self.refit and self.validation_fraction is not None:
            # Same seed, so the refit starts from the weights the validation run started from.
            with self._seeded_torch():
                self.net_ = self._build_net(len(self.classes_), token_shape, statistics, refit_epochs=self.best_epoch_)
                self.net_.fit(inputs, codes)
            self.refit_history_ = plain_history(self.net_.history)
        self._record_mix()
        return self

    def _record_mix(self):
        embedder = self.net_.module_.embedder
        if hasattr(embedder, "weights"):
            self.mix_weights_ = embedder.weights().detach().cpu().numpy().astype(np.float64)
            self.mix_gamma_ = float(embedder.gamma.detach().cpu())

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_texts, n_classes)``, columns in the order of ``classes_``."""
        import torch

        check_is_fitted(self, "net_")
        texts = check_texts(X, estimator=self)
        module = self.net_.module_.eval()
        collate = PadTokens()
        batch_size = int(self.batch_size)

        def chunk_proba(positions):
            rows = self._token_inputs([texts[i] for i in positions])

            def batch_proba(members):
                inputs, _ = collate([(rows[i], 0) for i in members])
                with torch.inference_mode():
                    logits = module(**{name: value.to(self.device_) for name, value in inputs.items()})
                return torch.softmax(logits.float(), dim=-1).cpu().numpy()

            # Batches of similar length (little padding), with the shared out-of-memory back-off.
            return map_batches(batch_proba, len(rows), [len(row) for row in rows], batch_size, desc="predict head")

        # Characters stand in for tokens to group texts of similar length before encoding them.
        return map_batches(
            chunk_proba, len(texts), [len(t) for t in texts], _TEXTS_PER_ENCODER_CALL,
            verbose=bool(self.verbose), desc="predict",
        )
