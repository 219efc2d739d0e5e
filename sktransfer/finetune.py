"""BertFineTuneClassifier: fine-tune a pretrained encoder with a classification head, on skorch."""

import math
import numbers

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._batching import map_batches
from ._device import resolve_precision
from ._hf_params import check_pooling, tokenize_texts
from ._params import (
    BATCH_SIZE,
    BERT_POOLING,
    CALLBACKS,
    DEVICE,
    DROPOUT,
    HEAD_FRACTION,
    LEARNING_RATE,
    MAX_GRAD_NORM,
    MAX_LENGTH,
    MODEL_PATH,
    POSITIVE_INT,
    PRECISION,
    RANDOM_STATE,
    TRUNCATION,
    VALIDATION_FRACTION,
    WEIGHT_DECAY,
    NumberInterval,
)
from ._skorch_classifier import SkorchTextClassifier, length_bucket_loader
from ._torch_utils import pad_batch
from ._validation import check_texts
from .hf import DEFAULT_MODEL, load_encoder, load_tokenizer, resolve_model_path

__all__ = ["BertFineTuneClassifier"]


class LinearWarmupDecay:
    """LR multiplier: linear warm-up from 0 to 1 over ``warmup_steps``, then linear decay to 0.

    A class rather than a closure so that a fitted classifier can be pickled.
    """

    def __init__(self, warmup_steps, total_steps):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        remaining = self.total_steps - step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))


class PadCollate:
    """DataLoader collate function: pads token-id arrays to the longest in the batch."""

    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __call__(self, batch):
        import torch

        token_ids = [ids for ids, _ in batch]
        input_ids, mask = pad_batch(token_ids, self.pad_id)
        y = torch.as_tensor(np.asarray([label for _, label in batch]), dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": mask}, y


def no_weight_decay_names(module):
    """Parameters AdamW leaves undecayed: biases and every parameter of a normalisation layer.

    BERT's recipe exempts biases and LayerNorm weights. Matching the name ``LayerNorm`` misses the
    norms of other architectures (GPT-2's ``ln_1``, DistilBERT's ``sa_layer_norm``, ALBERT's
    ``full_layer_layer_norm``), so the norms are found by their module class instead.

    Returns
    -------
    list of str
        ``"*bias"`` and the full names of the normalisation parameters (skorch ``param_groups``
        patterns).
    """
    names = ["*bias"]
    for prefix, sub in module.named_modules():
        if "norm" in type(sub).__name__.lower():
            names.extend(f"{prefix}.{name}" if prefix else name for name, _ in sub.named_parameters(recurse=False))
    return names


class BertFineTuneClassifier(SkorchTextClassifier):
    """Fine-tune a pretrained BERT-style encoder for text classification (fine-tuning transfer).

    A pooled encoder output feeds dropout and a linear layer; the whole network (or its top
    ``train_layers`` blocks with the head) is trained with AdamW, a linear warm-up then linear
    decay of the learning rate, gradient clipping and, optionally, early stopping on a held-out
    validation split. Training runs on skorch: the fitted ``net_`` is a
    :class:`skorch.NeuralNetClassifier` with its history and callbacks.

    Parameters
    ----------
    model_name_or_path : str, default="sentence-transformers/all-MiniLM-L6-v2"
        A local model directory or a Hugging Face hub id.
    pooling : {"auto", "mean", "cls", "max", "last"}, default="auto"
        How the token vectors of the last layer become the text vector fed to the head. "auto" is
        "last" (the last real token) for a decoder-only model such as GPT-2 and "mean" for an
        encoder; "cls" is refused for a model without a [CLS]-like token at position 0.
    max_length : int >= 2, default=128
        Tokens read per text, special tokens included.
    truncation : {"head", "tail", "head+tail"}, default="head"
        What is read of a text longer than ``max_length``: its first tokens, its last tokens, or
        its first and last tokens (split by ``head_fraction``; special tokens stay in place:
        ``[CLS] head … tail [SEP]``). Texts cut warn once per call with their number
        (:class:`~sktransfer.exceptions.TruncationWarning`). See ``docs/long_texts.md``.
    head_fraction : float in [0, 1], default=0.25
        With ``truncation="head+tail"``: the share of the kept tokens taken from the start of the
        text; the rest come from its end.
    batch_size : int, default=16
    lr : float, default=2e-5
        Peak learning rate of AdamW.
    max_epochs : int, default=3
    weight_decay : float, default=0.01
        AdamW weight decay; biases and the parameters of normalisation layers (LayerNorm,
        GPT-2's ``ln_*``, ...) are not decayed.
    warmup_ratio : float, default=0.1
        Fraction of all training steps spent warming the learning rate up linearly from 0; it
        then decays linearly to 0 at the last step.
    train_layers : "all" or int, default="all"
        "all" trains every weight. An int k trains the top k transformer blocks and the head, with
        the embeddings and lower blocks frozen (0: only the head trains); a final layer norm after
        the blocks (GPT-2's) trains with the top block. ALBERT's layers share the weights of its
        layer groups (one group in the published models), so for ALBERT k counts layer groups:
        1 trains the shared group, which every layer uses.
    dropout : float, default=0.1
        Dropout before the classification layer.
    validation_fraction : float or None, default=None
        Fraction of the training texts held out (stratified) to monitor the validation loss and
        accuracy each epoch. With it, training stops after ``patience`` epochs without
        improvement of the validation loss and the best epoch's weights are restored.
    patience : int, default=2
    max_grad_norm : float > 0 or None, default=1.0
        Gradient clipping by global norm; None disables it.
    pretrained : bool, default=True
        False starts from random weights of the same architecture (seeded by ``random_state``).
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Arithmetic precision of forward passes (autocast, mixed precision: weights and optimizer
        state stay float32). "auto" picks "bfloat16" where the hardware computes it natively (a
        CUDA GPU of compute capability >= 8.0, a CPU with AMX) and "float32" elsewhere (see
        ``precision_``). On CPUs without AMX reduced precision is slower than float32 (measured for
        inference, ``docs/precision.md``; training speed was not measured), and asking for it there gives a
        :class:`~sktransfer.exceptions.SlowPrecisionWarning`. "float16" has no loss scaling here;
        prefer "bfloat16" for training.
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        "auto" uses CUDA when available, else the CPU. When a ``predict``/``predict_proba`` batch
        runs out of CUDA memory it is halved and retried (one
        :class:`~sktransfer.exceptions.OutOfMemoryWarning` per call). A classifier fitted on a GPU
        and unpickled on a machine without one predicts on the CPU.
    random_state : int in [0, 2**32 - 1] or None, default=None
        Seeds the head, random weights, validation split, shuffling and dropout. The same value
        gives identical predictions on the CPU with the same number of torch threads (another
        thread count sums in another order, so training can end elsewhere).
    verbose : int, default=0
        0: silent; 1: skorch's epoch table and a progress bar.
    callbacks : list or tuple of skorch callbacks or None, default=None
        Extra skorch callbacks, e.g. ``skorch.callbacks.Checkpoint``; ours (LR schedule, clipping,
        early stopping) are added after them.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, as given in ``y`` (str or int).
    net_ : skorch.NeuralNetClassifier
        The trained network; ``net_.history`` holds per-epoch losses.
    tokenizer_ : transformers.PreTrainedTokenizerBase
    device_ : torch.device
    precision_ : {"float32", "bfloat16", "float16"}
        The precision of training and prediction: ``precision`` with "auto" resolved for
        ``device_`` (again when an unpickled classifier moves to another device).
    model_path_ : str
    """

    def __init__(
        self,
        model_name_or_path=DEFAULT_MODEL,
        *,
        pooling="auto",
        max_length=128,
        truncation="head",
        head_fraction=0.25,
        batch_size=16,
        lr=2e-5,
        max_epochs=3,
        weight_decay=0.01,
        warmup_ratio=0.1,
        train_layers="all",
        dropout=0.1,
        validation_fraction=None,
        patience=2,
        max_grad_norm=1.0,
        pretrained=True,
        precision="auto",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.model_name_or_path = model_name_or_path
        self.pooling = pooling
        self.max_length = max_length
        self.truncation = truncation
        self.head_fraction = head_fraction
        self.batch_size = batch_size
        self.lr = lr
        self.max_epochs = max_epochs
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.train_layers = train_layers
        self.dropout = dropout
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_grad_norm = max_grad_norm
        self.pretrained = pretrained
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # -- parameter checks -------------------------------------------------------------------
    _parameter_constraints = {
        "model_name_or_path": MODEL_PATH,
        "pooling": BERT_POOLING,
        "max_length": MAX_LENGTH,
        "truncation": TRUNCATION,
        "head_fraction": HEAD_FRACTION,
        "batch_size": BATCH_SIZE,
        "lr": LEARNING_RATE,
        "max_epochs": [POSITIVE_INT],
        "weight_decay": WEIGHT_DECAY,
        "warmup_ratio": [NumberInterval(numbers.Real, 0, 1, closed="left")],
        # The upper bound is the encoder's depth: freeze_lower_layers checks it once the model is built.
        "train_layers": [StrOptions({"all"}), NumberInterval(numbers.Integral, 0, None, closed="left")],
        "dropout": DROPOUT,
        "validation_fraction": VALIDATION_FRACTION,
        "patience": [POSITIVE_INT],
        "max_grad_norm": MAX_GRAD_NORM,
        "pretrained": ["boolean"],
        "precision": PRECISION,
        "device": DEVICE,
        "random_state": RANDOM_STATE,
        "verbose": ["verbose"],
        "callbacks": CALLBACKS,
    }

    # -- skorch assembly ----------------------------------------------------------------------
    def _tokenize(self, texts):
        ids = tokenize_texts(self, self.tokenizer_, texts).rows
        out = np.empty(len(ids), dtype=object)  # an object array: skorch indexes it like any array
        out[:] = [np.asarray(row, dtype=np.int64) for row in ids]
        return out

    def initialize_module(self, n_classes):
        """Build the encoder with its classification head (hook: override to change the network)."""
        from .modules import SequenceClassifier, freeze_lower_layers

        encoder = load_encoder(self.model_path_, pretrained=self.pretrained, random_state=self.random_state)
        module = SequenceClassifier(
            encoder, n_classes, dropout=self.dropout, pooling=check_pooling(self, encoder.config, self.tokenizer_),
            precision=self.precision_,
        )
        if self.train_layers != "all":
            freeze_lower_layers(module.encoder, int(self.train_layers))
        return module

    def initialize_callbacks(self, n_train):
        """Our skorch callbacks: LR schedule, gradient clipping, early stopping, progress bar."""
        import torch
        from skorch.callbacks import LRScheduler

        steps = max(1, math.ceil(n_train / self.batch_size)) * self.max_epochs
        return self._training_callbacks(
            ("lr_schedule", LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                lr_lambda=LinearWarmupDecay(int(self.warmup_ratio * steps), steps),
                step_every="batch",
            )),
        )

    def _build_net(self, n_classes, n_texts):
        n_train = n_texts
        if self.validation_fraction is not None:
            n_train = n_texts - math.ceil(self.validation_fraction * n_texts)  # the size ValidSplit leaves
        module = self.initialize_module(n_classes)
        return self._skorch_classifier(
            module,
            PadCollate(self.tokenizer_.pad_token_id if self.tokenizer_.pad_token_id is not None else 0),
            iterator_train=length_bucket_loader,
            callbacks=self.initialize_callbacks(n_train),
            no_weight_decay=no_weight_decay_names(module),
        )

    # -- public API ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fine-tune on texts ``X`` with labels ``y``.

        Parameters
        ----------
        X : iterable of str
        y : array-like of shape (n_texts,)
            Class labels: str or int, two or more classes.

        Returns
        -------
        self

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            A parameter has a wrong type or value (a subclass of both TypeError and ValueError);
            the message names the parameter, what it must be and what it is.
        """
        texts, codes = self._fit_inputs(X, y)
        self.precision_ = resolve_precision(self.precision, self.device_, caller=type(self).__name__)
        self.model_path_ = resolve_model_path(self.model_name_or_path)
        self.tokenizer_ = load_tokenizer(self.model_path_)
        token_ids = self._tokenize(texts)
        with self._seeded_torch():
            self.net_ = self._build_net(len(self.classes_), len(texts))
            self.net_.fit(token_ids, codes)
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "net_"):
            self.net_.module_.precision = self.precision_  # re-resolved where "auto" moved devices

    @property
    def history_(self):
        """The skorch training history (per-epoch train/valid loss, durations, ...)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_texts, n_classes)``, columns in the order of ``classes_``."""
        import torch

        check_is_fitted(self, "net_")
        texts = check_texts(X, estimator=self)
        token_ids = self._tokenize(texts)
        module = self.net_.module_.eval()
        pad_id = self.tokenizer_.pad_token_id if self.tokenizer_.pad_token_id is not None else 0

        def batch_proba(positions):
            input_ids, mask = pad_batch([token_ids[i] for i in positions], pad_id)
            with torch.inference_mode():
                logits = module(input_ids.to(self.device_), mask.to(self.device_))
                return torch.softmax(logits, dim=-1).cpu().numpy()

        return map_batches(
            batch_proba, len(texts), [len(ids) for ids in token_ids], int(self.batch_size),
            verbose=bool(self.verbose), desc="predict",
        )
