"""ELMo (Peters et al., 2018) in plain PyTorch, compatible with bilm-tf / AllenNLP weight files.

Public API
----------
batch_to_ids
    Token lists -> ``(batch, tokens, 50)`` character ids (AllenNLP conventions).
ElmoBiLm
    The biLM. ``from_files`` / ``from_preset`` / ``from_options``; ``forward(char_ids)``
    returns ``{"activations": [layer0, layer1, layer2], "mask": ...}`` with sentence
    boundaries removed; ``embed_tokens(list_of_token_lists)`` is the fast bulk path.
load_options, write_options, load_weights, save_weights
    ``options.json`` / ``weights.hdf5`` I/O in the published layout.
PRESETS, fetch_preset
    Published AllenNLP models, downloaded once into ``~/.cache/sktransfer/elmo``
    (``SKTRANSFER_ELMO_CACHE`` overrides).

This package deliberately depends only on torch, numpy and h5py.
"""

from .bilm import ElmoBiLm
from .characters import MAX_CHARACTERS_PER_TOKEN, batch_to_ids, word_to_char_ids
from .presets import PRESETS, fetch_preset
from .weights import load_options, load_weights, save_weights, write_options

__all__ = [
    "ElmoBiLm",
    "batch_to_ids",
    "word_to_char_ids",
    "MAX_CHARACTERS_PER_TOKEN",
    "load_options",
    "write_options",
    "load_weights",
    "save_weights",
    "PRESETS",
    "fetch_preset",
]
