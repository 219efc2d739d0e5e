"""Share loaded frozen models between estimators of one process.

GridSearchCV and cross_val_score clone and re-fit a vectorizer for every fold and grid point;
without sharing, each fit would load the same weights again (seconds for a BERT model), which
would dominate a cached grid search. A frozen feature extractor is never written to, so one copy
can serve every estimator that asks for the same (model, weights, device). Models that are trained
(fine-tuning) never come from here.
"""

import hashlib
import os
import threading
import weakref
from collections import OrderedDict

__all__ = ["shared_model", "file_stamp", "tokenizer_fingerprint", "weights_fingerprint"]

_MAX_MODELS = 2
_lock = threading.Lock()
_models = OrderedDict()
_fingerprints = weakref.WeakKeyDictionary()


def file_stamp(path):
    """(path, size, mtime) of a file or of every file in a folder: a changed file changes the stamp."""
    path = os.fspath(path)
    if os.path.isdir(path):
        entries = sorted(os.path.join(path, name) for name in os.listdir(path))
        return tuple(file_stamp(p) for p in entries if os.path.isfile(p))
    try:
        stat = os.stat(path)
    except OSError:
        return (path, None, None)
    return (path, stat.st_size, stat.st_mtime_ns)


def shared_model(key, load):
    """The model for ``key``, loading it with ``load()`` on first use (least recently used evicted).

    ``key=None`` means "do not share" (e.g. unseeded random weights): ``load()`` is called.
    """
    if key is None:
        return load()
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
    model = load()  # outside the lock: loading takes seconds
    with _lock:
        model = _models.setdefault(key, model)
        _models.move_to_end(key)
        while len(_models) > _MAX_MODELS:
            _models.popitem(last=False)
    return model


def weights_fingerprint(module):
    """A hex digest of a module's parameters and buffers: equal weights give equal fingerprints.

    Used to key cached features, so vectors computed with one set of weights are never served for
    another. Remembered per module object (hashing a BERT's weights takes a fraction of a second),
    so a module must not be changed after its fingerprint was taken; frozen extractors never are.
    """
    import torch

    known = _fingerprints.get(module)
    if known is not None:
        return known
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=torch.uint8).numpy().tobytes())
    _fingerprints[module] = digest.hexdigest()
    return _fingerprints[module]


def clear():
    """Forget every shared model (tests; freeing memory)."""
    with _lock:
        _models.clear()


def tokenizer_fingerprint(tokenizer):
    """A hex digest of everything that decides how a Hugging Face tokenizer splits text.

    For a fast tokenizer that is its full serialisation (normaliser, pre-tokeniser, vocabulary,
    post-processor with the special tokens); for a slow one, its class, vocabulary and
    initialisation arguments.
    """
    import json

    known = _fingerprints.get(tokenizer)
    if known is not None:
        return known
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        payload = backend.to_str()
    else:
        payload = json.dumps(
            [type(tokenizer).__name__, sorted(tokenizer.get_vocab().items()), getattr(tokenizer, "init_kwargs", {})],
            sort_keys=True, default=str,
        )
    _fingerprints[tokenizer] = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return _fingerprints[tokenizer]
