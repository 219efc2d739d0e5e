"""sktransfer: transfer learning on text as scikit-learn estimators.

Frozen contextual features (:class:`BertVectorizer`, :class:`ELMoVectorizer`) and fine-tuning
(:class:`BertFineTuneClassifier`), each also buildable with random weights (``pretrained=False``)
so that the gain from pretraining is measured, not assumed.

Public names are imported lazily: ``import sktransfer`` does not import torch or transformers.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "BertVectorizer": "sktransfer.bert_vectorizer",
    "BertFineTuneClassifier": "sktransfer.finetune",
    "ELMoVectorizer": "sktransfer.elmo_vectorizer",
    "FeatureHeadClassifier": "sktransfer.feature_head",
    "WordEmbeddingEncoder": "sktransfer.word_embedding",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sktransfer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
