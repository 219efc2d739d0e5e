"""An on-disk feature cache: each text's vector is computed once per model and output setting.

Layout: ``<location>/sktransfer-features/<namespace>/<shard>.npz``. The namespace is a digest of
everything that changes the output (the model's weight fingerprint and the estimator's output
settings, including how it tokenizes); inside it, an entry is keyed by a digest of the text's
model input as the estimator hands it over (the text itself for BERT, whose tokenizer and
truncation are in the namespace; the token list for ELMo, whose tokenizer may be any callable),
so a change of tokenizer or truncation can never serve a stale vector.

Why shards: each ``put`` writes one new file under a unique name, atomically
(:func:`sktransfer._io.atomic_write`: a temporary file, synced, then renamed), so concurrent
writers (joblib workers, several runs) never see or make a half written file and never need a
lock. Files are plain ``.npz`` arrays read with ``allow_pickle=False``, and each carries a
checksum: a corrupt or truncated shard is detected, ignored (and removed), and its vectors are
recomputed.
"""

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path

import numpy as np

from ._io import atomic_write, resolve_location

__all__ = ["FeatureCache", "resolve_cache_location", "text_key"]

FORMAT_VERSION = 1
_KEY_BYTES = 32  # sha256 digests


def resolve_cache_location(cache):
    """The cache folder for a ``cache`` parameter: None, a path, or a :class:`joblib.Memory`.

    Returns None when caching is off (``cache=None`` or a Memory without a location).
    """
    if cache is None:
        return None
    location = getattr(cache, "location", cache)  # joblib.Memory
    if location is None:
        return None
    if not isinstance(location, (str, os.PathLike)):
        raise TypeError(f"cache must be None, a directory path or a joblib.Memory, got {cache!r}.")
    # Always explicit: caching is opt-in, so no environment variable and no default folder.
    return resolve_location(location, env_var=None, default=location) / "sktransfer-features"


def namespace_digest(**parts):
    """A stable digest of the settings that change the output (JSON-serialisable values)."""
    payload = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:40]


def text_key(unit):
    """The 32-byte key of one model input: a text, a sequence of token ids or a list of str tokens."""
    if isinstance(unit, str):
        data = b"t" + unit.encode("utf-8", "surrogatepass")
    elif isinstance(unit, np.ndarray) or (len(unit) and not isinstance(unit[0], str)):
        data = b"i" + np.asarray(unit, dtype=np.int64).tobytes()
    else:
        data = b"s" + json.dumps(list(unit), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).digest()


def _checksum(keys, vectors):
    digest = hashlib.sha256(keys.tobytes())
    digest.update(str(vectors.shape).encode())
    digest.update(vectors.tobytes())
    return np.frombuffer(digest.digest(), dtype=np.uint8)


class FeatureCache:
    """Vectors of one namespace (one model and output setting), stored as checksummed shards.

    Parameters
    ----------
    root : path-like
        From :func:`resolve_cache_location`.
    namespace : str
        From :func:`namespace_digest`.
    dim : int
        The vector width; shards of another width are treated as corrupt.
    """

    def __init__(self, root, namespace, dim):
        self.folder = Path(root) / namespace
        self.dim = int(dim)

    def _shards(self):
        return sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []

    def _read_shard(self, path):
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors, checksum = data["keys"], data["vectors"], data["checksum"]
            ok = (
                keys.dtype == np.uint8
                and keys.ndim == 2
                and keys.shape[1] == _KEY_BYTES
                and vectors.dtype == np.float32
                and vectors.shape == (len(keys), self.dim)
                and np.array_equal(checksum, _checksum(keys, vectors))
            )
        except Exception:  # truncated zip, missing array, unreadable file, ...
            ok = False
        if ok:
            return keys, vectors
        warnings.warn(
            f"Ignoring corrupt feature-cache file {path}; its vectors will be recomputed.", RuntimeWarning, stacklevel=4
        )
        try:
            path.unlink()
        except OSError:
            pass
        return None

    def get_many(self, keys):
        """Look up keys (bytes); returns ``{key: vector}`` for those found."""
        wanted = set(keys)
        found = {}
        for path in self._shards():
            if len(found) == len(wanted):
                break
            shard = self._read_shard(path)
            if shard is None:
                continue
            for key, vector in zip(shard[0], shard[1]):
                key = key.tobytes()
                if key in wanted and key not in found:
                    found[key] = vector
        return found

    def put_many(self, keys, vectors):
        """Store vectors under keys in one new shard, atomically."""
        if not len(keys):
            return
        # Raw digests as a uint8 matrix: numpy's fixed-width bytes type would strip trailing NULs.
        keys = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), _KEY_BYTES)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected vectors of shape {(len(keys), self.dim)}, got {vectors.shape}")
        # A unique name per shard: concurrent writers never touch the same file. The temporary
        # name ends in ".tmp", never ".npz", so readers never pick up a shard being written.
        with atomic_write(self.folder / f"{uuid.uuid4().hex}.npz", "wb", fsync=True, suffix=".tmp") as fh:
            np.savez(fh, keys=keys, vectors=vectors, checksum=_checksum(keys, vectors))

    def fetch_or_compute(self, units, compute):
        """Vectors for ``units`` (model inputs) in order: cached ones read, the rest computed and stored.

        Parameters
        ----------
        units : list
            One model input per text (token ids or tokens).
        compute : callable
            list of units -> float32 array of shape (len(units), dim), in the given order.
        """
        keys = [text_key(u) for u in units]
        found = self.get_many(keys)
        # Each missing input is computed once, however often it repeats.
        todo = {}
        for i, key in enumerate(keys):
            if key not in found:
                todo.setdefault(key, i)
        if todo:
            computed = np.asarray(compute([units[i] for i in todo.values()]), dtype=np.float32)
            self.put_many(list(todo), computed)
            found.update(zip(todo, computed))
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
