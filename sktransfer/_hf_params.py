"""The Hugging Face estimators' parameters that only the loaded model can judge or apply.

Shared by :class:`~sktransfer.BertVectorizer` and :class:`~sktransfer.BertFineTuneClassifier`:
``pooling`` ("auto" resolved per architecture, "cls" refused where position 0 is no summary token)
and the long-text parameters ``truncation``, ``head_fraction`` and ``stride`` (tokenization, the
one warning per call that counts the truncated texts, and their part of the feature-cache key).
"""

import warnings

from ._params import invalid_parameter
from .architectures import resolve_pooling
from .exceptions import TruncationWarning
from .hf import tokenizer_texts
from .truncation import encode_texts, head_length, special_tokens

__all__ = ["check_pooling", "check_stride", "tokenize_texts", "truncation_settings"]


def check_pooling(estimator, config, tokenizer):
    """The pooling method ``estimator.pooling`` means for this model ("auto" resolved).

    Raises
    ------
    InvalidParameterError
        ``pooling="cls"`` for a model without a [CLS]-like token at position 0 (GPT-2).
    """
    try:
        return resolve_pooling(estimator.pooling, config, tokenizer)
    except ValueError as exc:
        raise invalid_parameter(
            "pooling", "one of 'auto', 'mean', 'max', 'last' for this model", estimator.pooling,
            caller=type(estimator).__name__, why=f"'cls' cannot be used: {exc}",
        ) from None


def check_stride(estimator, tokenizer):
    """With ``truncation="chunks"``, the windows must advance: ``stride`` below the window's text budget."""
    if getattr(estimator, "truncation", "head") != "chunks":
        return
    budget = int(estimator.max_length) - special_tokens(tokenizer).count
    if not 0 <= estimator.stride < budget:
        raise invalid_parameter(
            "stride", f"an int in [0, {budget - 1}]" if budget > 0 else "unusable (raise max_length)", estimator.stride,
            caller=type(estimator).__name__,
            why=f"Each window holds {budget} tokens of text (max_length={estimator.max_length} less the special "
            "tokens), and consecutive windows share stride tokens, so stride must be smaller.",
        )


def _kept(encoded, estimator):
    if estimator.truncation == "head":
        return f"their first {encoded.budget} tokens"
    if estimator.truncation == "tail":
        return f"their last {encoded.budget} tokens"
    n_head = head_length(encoded.budget, estimator.head_fraction)
    return f"their first {n_head} and last {encoded.budget - n_head} tokens"


def tokenize_texts(estimator, tokenizer, texts):
    """Token ids of ``texts`` under the estimator's ``max_length`` and long-text parameters.

    Warns once (:class:`~sktransfer.exceptions.TruncationWarning`) when texts were cut, with
    their number; windows (``truncation="chunks"``) cut nothing.

    Returns
    -------
    sktransfer.truncation.Encoded
    """
    truncation = getattr(estimator, "truncation", "head")
    encoded = encode_texts(
        tokenizer, tokenizer_texts(texts), max_length=int(estimator.max_length), truncation=truncation,
        head_fraction=float(getattr(estimator, "head_fraction", 0.25)), stride=int(getattr(estimator, "stride", 0)),
    )
    if encoded.n_truncated and truncation != "chunks":
        warnings.warn(TruncationWarning(
            f"{type(estimator).__name__}: {encoded.n_truncated} of {len(texts)} texts have more than "
            f"{encoded.budget} tokens of text (max_length={estimator.max_length} less "
            f"{int(estimator.max_length) - encoded.budget} special tokens); truncation="
            f"{truncation!r} kept {_kept(encoded, estimator)}. To read more, raise max_length or choose another "
            "truncation (BertVectorizer's 'chunks' reads whole texts); to silence this: "
            "warnings.filterwarnings('ignore', category=TruncationWarning)."
        ), stacklevel=3)
    return encoded


def truncation_settings(estimator):
    """The long-text parameters that change a vector, for the feature-cache key.

    Empty for the default ``truncation="head"`` (which ignores ``head_fraction`` and ``stride``),
    so features cached before these parameters existed keep their keys.
    """
    truncation = estimator.truncation
    if truncation == "head":
        return {}
    settings = {"truncation": truncation}
    if truncation == "head+tail":
        settings["head_fraction"] = float(estimator.head_fraction)
    if truncation == "chunks":
        settings["stride"] = int(estimator.stride)
    return settings
