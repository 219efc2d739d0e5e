"""An on-disk feature cache: each text's vector is computed once per model and output setting.

Two kinds of entries, in separate namespaces: a pooled vector per text (:class:`FeatureCache`,
for ``transform``) and the per-layer token vectors of a text (:class:`TokenFeatureCache`, for
``transform_tokens``, which heads trained on frozen token vectors read at every ``fit``). Both
share one shard reader and writer.

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

Faults: a cache location that is a file is an error (``NotADirectoryError``, raised by
:func:`resolve_cache_location`); a folder that cannot be written (read-only, disk full) is not:
the vectors are computed and returned, and a :class:`~sktransfer.exceptions.CacheWriteWarning`
says they were not stored. A writer killed mid-write leaves at most a ``.tmp`` file, which
readers never open.
"""

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path

import numpy as np

from ._io import atomic_write, resolve_location
from .exceptions import CacheWriteWarning

__all__ = ["FeatureCache", "TokenFeatureCache", "resolve_cache_location", "text_key"]

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
    folder = resolve_location(location, env_var=None, default=location)
    for path in (folder, folder / "sktransfer-features"):
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(
                f"cache={os.fspath(location)!r}: {path} is a file, not a folder. Pass a folder for the feature cache "
                "(it is created when missing), or cache=None to turn caching off."
            )
    return folder / "sktransfer-features"


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


def _checksum(keys, *arrays):
    # The keys' bytes, then each array's shape and bytes: for (keys, vectors) this is the digest
    # FeatureCache shards have always carried, so existing caches stay valid.
    digest = hashlib.sha256(keys.tobytes())
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return np.frombuffer(digest.digest(), dtype=np.uint8)


def _key_matrix(keys):
    # Raw digests as a uint8 matrix: numpy's fixed-width bytes type would strip trailing NULs.
    return np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), _KEY_BYTES)


class _ShardedCache:
    """Entries of one namespace as checksummed ``.npz`` shards (not public).

    A shard holds ``keys`` (n, 32) uint8, the arrays named in ``_fields`` and a ``checksum`` over
    all of them. Subclasses define ``_pack(values, n_keys)`` (entries -> the ``_fields`` arrays,
    ValueError on a wrong shape), ``_valid(n_keys, *arrays)`` (are a read shard's arrays well
    formed) and ``_unpack(rows, *arrays)`` (the entries at those rows).

    Reading a shard loads its ``keys`` first and the other arrays only when it holds a wanted
    key, so a lookup of a few keys costs the keys of every shard plus the shards that hold them;
    ``put_many`` writes shards of at most ``_SHARD_BYTES`` (one entry may exceed it) so that a
    shard read for one entry stays small. A shard is verified (checksum, shapes) when it is read
    for its entries: corruption in a shard that no lookup needs goes unnoticed until one does.
    """

    _fields = ()
    _SHARD_BYTES = 64 * 2**20

    def __init__(self, root, namespace):
        self.folder = Path(root) / namespace

    def _shards(self):
        return sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []

    def _discard(self, path):
        warnings.warn(
            f"Ignoring corrupt feature-cache file {path}; its vectors will be recomputed.", RuntimeWarning, stacklevel=5
        )
        try:
            path.unlink()
        except OSError:
            pass

    def _read_shard(self, path, wanted, found):
        """Add this shard's entries of ``wanted`` keys not yet ``found``; False if the shard is corrupt."""
        try:
            with np.load(path, allow_pickle=False) as data:
                keys = data["keys"]
                if keys.dtype != np.uint8 or keys.ndim != 2 or keys.shape[1] != _KEY_BYTES:
                    return False
                rows = {}
                for row, key in enumerate(keys):
                    key = key.tobytes()
                    if key in wanted and key not in found:
                        rows.setdefault(key, row)
                if not rows:
                    return True  # nothing needed here: the larger arrays are never read
                arrays = [data[name] for name in self._fields]
                checksum = data["checksum"]
        except Exception:  # truncated zip, missing array, unreadable file, ...
            return False
        if not (self._valid(len(keys), *arrays) and np.array_equal(checksum, _checksum(keys, *arrays))):
            return False
        found.update(zip(rows, self._unpack(list(rows.values()), *arrays)))
        return True

    def get_many(self, keys):
        """Look up keys (bytes); returns ``{key: entry}`` for those found."""
        wanted = set(keys)
        found = {}
        for path in self._shards():
            if len(found) == len(wanted):
                break
            if not self._read_shard(path, wanted, found):
                self._discard(path)
        return found

    def put_many(self, keys, values):
        """Store entries under keys, atomically, in new shards of about ``_SHARD_BYTES`` at most.

        A write that fails with an ``OSError`` (read-only folder, disk full, quota) stores nothing
        of that shard (its temporary file is removed) and warns with :class:`CacheWriteWarning`
        instead of raising: the entries are already computed, and the caller gets them.
        """
        if len(values) != len(keys):
            raise ValueError(f"expected one entry per key ({len(keys)}), got {len(values)} entries")
        start, size = 0, 0
        for stop, value in enumerate(values, 1):
            size += np.asarray(value).nbytes
            if size >= self._SHARD_BYTES or stop == len(keys):
                try:
                    self._write_shard(keys[start:stop], values[start:stop])
                except OSError as exc:
                    warnings.warn(
                        f"Could not write to the feature cache {self.folder} ({exc.__class__.__name__}: {exc}); "
                        "the vectors were computed and returned but not stored. Free disk space or make the "
                        "folder writable, or pass another cache folder (cache=None turns caching off).",
                        CacheWriteWarning, stacklevel=4,
                    )
                    return
                start, size = stop, 0

    def _write_shard(self, keys, values):
        keys = _key_matrix(keys)
        arrays = self._pack(values, len(keys))
        # A unique name per shard: concurrent writers never touch the same file. The temporary
        # name ends in ".tmp", never ".npz", so readers never pick up a shard being written.
        with atomic_write(self.folder / f"{uuid.uuid4().hex}.npz", "wb", fsync=True, suffix=".tmp") as fh:
            np.savez(fh, keys=keys, **dict(zip(self._fields, arrays)), checksum=_checksum(keys, *arrays))

    def _fetch_or_compute(self, units, compute):
        """Entries for ``units`` in order; ``compute(positions)`` returns those of the missing ones."""
        keys = [text_key(u) for u in units]
        found = self.get_many(keys)
        # Each missing input is computed once, however often it repeats.
        todo = {}
        for i, key in enumerate(keys):
            if key not in found:
                todo.setdefault(key, i)
        if todo:
            computed = compute(list(todo.values()))
            self.put_many(list(todo), computed)
            found.update(zip(todo, computed))
        return [found[key] for key in keys]


class FeatureCache(_ShardedCache):
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

    _fields = ("vectors",)

    def __init__(self, root, namespace, dim):
        super().__init__(root, namespace)
        self.dim = int(dim)

    def _pack(self, vectors, n_keys):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (n_keys, self.dim):
            raise ValueError(f"expected vectors of shape {(n_keys, self.dim)}, got {vectors.shape}")
        return (vectors,)

    def _valid(self, n_keys, vectors):
        return vectors.dtype == np.float32 and vectors.shape == (n_keys, self.dim)

    def _unpack(self, rows, vectors):
        return list(vectors[rows])

    def fetch_or_compute(self, units, compute):
        """Vectors for ``units`` (model inputs) in order: cached ones read, the rest computed and stored.

        Parameters
        ----------
        units : list
            One model input per text (token ids or tokens).
        compute : callable
            list of units -> float32 array of shape (len(units), dim), in the given order.
        """
        rows = self._fetch_or_compute(
            units, lambda positions: np.asarray(compute([units[i] for i in positions]), dtype=np.float32)
        )
        return np.stack(rows).astype(np.float32, copy=False)


class TokenFeatureCache(_ShardedCache):
    """Per-layer token vectors of one namespace: one ``(n_tokens, n_layers, dim)`` array per text.

    A shard holds ``keys`` (n, 32) uint8, ``lengths`` (n,) int64 (tokens per entry), ``data``
    (sum of lengths, n_layers, dim) in ``dtype`` (the entries one after the other) and the
    checksum of all three. Entries come back in the stored ``dtype``.

    Parameters
    ----------
    root : path-like
        From :func:`resolve_cache_location`.
    namespace : str
        From :func:`namespace_digest`; it must tell token entries, layer selections and dtypes
        apart (the shards are checked against ``n_layers``, ``dim`` and ``dtype``, not against
        which layers they hold).
    n_layers, dim : int
        The shape of a token's row.
    dtype : {numpy.float16, numpy.float32}
    """

    _fields = ("lengths", "data")

    def __init__(self, root, namespace, n_layers, dim, dtype):
        super().__init__(root, namespace)
        self.row_shape = (int(n_layers), int(dim))
        self.dtype = np.dtype(dtype)

    def _pack(self, values, n_keys):
        values = list(values)
        bad = next((np.shape(v) for v in values if np.ndim(v) != 3 or np.shape(v)[1:] != self.row_shape), None)
        if len(values) != n_keys or bad is not None:
            raise ValueError(
                f"expected {n_keys} arrays of shape (n_tokens, {self.row_shape[0]}, {self.row_shape[1]}), "
                f"got {len(values)} arrays{f', one of shape {bad}' if bad is not None else ''}"
            )
        lengths = np.array([len(v) for v in values], dtype=np.int64)
        data = np.empty((int(lengths.sum()), *self.row_shape), dtype=self.dtype)
        if values:
            np.concatenate(values, axis=0, out=data, casting="same_kind")
        return lengths, data

    def _valid(self, n_keys, lengths, data):
        return (
            lengths.dtype == np.int64
            and lengths.shape == (n_keys,)
            and bool((lengths >= 0).all())
            and data.dtype == self.dtype
            and data.shape == (int(lengths.sum()), *self.row_shape)
        )

    def _unpack(self, rows, lengths, data):
        ends = np.cumsum(lengths)
        # Copies: a view would keep the whole shard's data alive as long as one entry is.
        return [data[ends[row] - lengths[row] : ends[row]].copy() for row in rows]

    def fetch_or_compute(self, units, compute):
        """Token vectors for ``units`` in order, as :meth:`FeatureCache.fetch_or_compute` does vectors.

        ``compute`` gets the positions in ``units`` of the missing ones (each distinct unit once)
        and returns their ``(n_tokens, n_layers, dim)`` arrays in that order; the result is a list
        of such arrays, of ``self.dtype``.
        """
        return self._fetch_or_compute(
            units, lambda positions: [np.asarray(v, dtype=self.dtype) for v in compute(positions)]
        )
