"""The IMDB Large Movie Review Dataset: locate or download the archive, parse it, cache it.

:func:`fetch_imdb` loads the Large Movie Review Dataset (Maas et al., 2011) in
the style of :func:`sklearn.datasets.fetch_20newsgroups` and returns a
:class:`sklearn.utils.Bunch`.

Only the standard library, NumPy, ``sklearn.utils``, tqdm (for the download's
progress bar) and :mod:`sktransfer._io` are imported.
"""

from __future__ import annotations

import gzip
import json
import numbers
import os
import re
import tarfile
import warnings
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from .._io import DownloadError, atomic_path, download
from ._home import DATA_HOME_ENV, cache_dirs, get_data_home

__all__ = ["fetch_imdb"]

#: Where :func:`fetch_imdb` downloads the archive from.
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
#: SHA-256 of the official archive; only checked for downloads, never for an
#: archive a user placed in the data home themselves.
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
#: File name of the archive in the data home.
IMDB_ARCHIVE_NAME = "aclImdb_v1.tar.gz"
#: Name of the extracted folder in the data home.
IMDB_FOLDER_NAME = "aclImdb"

_IMDB_SUBSETS = ("train", "test", "unsup")
_IMDB_TARGET_NAMES = ["neg", "pos"]
# subset -> ((folder inside aclImdb/, label folder, target), ...)
_IMDB_LAYOUT = {
    "train": (("train", "neg", 0), ("train", "pos", 1)),
    "test": (("test", "neg", 0), ("test", "pos", 1)),
    "unsup": (("train", "unsup", -1),),
}
_MEMBER_RE = re.compile(
    r"^(?:\./)?aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$"
)
_FILE_RE = re.compile(r"^(\d+)_(\d+)\.txt$")
# Bump when the cache layout or parsing changes: old caches are then re-parsed.
_CACHE_VERSION = 1
_CHUNK_SIZE = 1 << 20

_IMDB_DESCR = """\
IMDB Large Movie Review Dataset
-------------------------------

50,000 highly polar movie reviews from IMDB for binary sentiment
classification, split evenly into a ``train`` and a ``test`` subset of
25,000 reviews each (12,500 negative, 12,500 positive), plus 50,000
unlabelled reviews (``unsup``) for unsupervised pretraining. No movie has
more than 30 reviews, and the movies of the train and test subsets are
disjoint.

A negative review has a rating <= 4 out of 10 (target 0, "neg"), a positive
one a rating >= 7 (target 1, "pos"); the unlabelled reviews have target -1
and rating 0. Texts are kept exactly as in the files, including the HTML
line breaks ``<br />``. Reviews are ordered by (target, id).

Source: https://ai.stanford.edu/~amaas/data/sentiment/

Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng and
Christopher Potts. 2011. Learning Word Vectors for Sentiment Analysis. In
Proceedings of the 49th Annual Meeting of the Association for Computational
Linguistics (ACL 2011), pages 142-150.
"""


# --------------------------------------------------------------------------
# IMDB: locating and downloading the source
# --------------------------------------------------------------------------


def _find_imdb_source(data_home):
    """Return ``(kind, path)`` of the IMDB source in ``data_home``, or None."""
    archive = Path(data_home) / IMDB_ARCHIVE_NAME
    if archive.is_file():
        return "archive", archive
    folder = Path(data_home) / IMDB_FOLDER_NAME
    if folder.is_dir():
        return "directory", folder
    return None


def _download_imdb(data_home):
    """Download the official archive into ``data_home`` and check its SHA-256.

    :func:`sktransfer._io.download` renames the archive into place only once
    it is complete and its checksum verified, so an interrupted or corrupt
    download never leaves an ``aclImdb_v1.tar.gz`` behind.
    """
    target = Path(data_home) / IMDB_ARCHIVE_NAME
    try:
        download(
            IMDB_URL,
            target,
            sha256=IMDB_SHA256,
            progress=True,
            desc=f"Downloading {IMDB_ARCHIVE_NAME}",
        )
    except DownloadError as exc:
        raise OSError(
            f"Could not download the IMDB archive: {exc}; nothing was kept. "
            f"Check your connection and try again, or download "
            f"{IMDB_ARCHIVE_NAME} yourself and put it in {data_home} (or point "
            f"the {DATA_HOME_ENV} environment variable or data_home at the "
            "folder that holds it)."
        ) from exc
    return target


# --------------------------------------------------------------------------
# IMDB: parsing
# --------------------------------------------------------------------------


def _empty_records():
    return {subset: [] for subset in _IMDB_SUBSETS}


def _subset_of(split, label):
    if label == "unsup":
        return "unsup" if split == "train" else None
    return split


def _decode(raw, where):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{where} is not valid UTF-8 ({exc}); the IMDB files are UTF-8 "
            "text. Replace the archive with an intact copy."
        ) from exc


def _parse_imdb_archive(archive):
    """Read all three subsets from the archive in a single streaming pass.

    Nothing is extracted to disk: only regular-file members whose names match
    ``aclImdb/{train,test}/{neg,pos,unsup}/{id}_{rating}.txt`` are read, in
    memory. Other members (the official archive also holds vocabulary and
    bag-of-words files) are skipped. An absolute member name or one with a
    ``..`` component means the archive was tampered with, and is refused.

    Returns
    -------
    records : dict
        ``subset -> list of (target, id, rating, text)``.
    """
    records = _empty_records()
    try:
        # gzip.open (rather than tarfile's own "r|gz") raises on a truncated
        # file, and draining it to the end checks the CRC of the whole stream.
        with gzip.open(archive, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            for member in tar:
                name = member.name
                parts = name.replace("\\", "/").split("/")
                if name.startswith(("/", "\\")) or ".." in parts:
                    raise ValueError(
                        f"The archive {archive} contains the unsafe member "
                        f"{name!r} (an absolute path or one with '..'), so it "
                        "is not a genuine IMDB archive and was not used. "
                        "Replace it with the official archive from "
                        f"{IMDB_URL}."
                    )
                match = _MEMBER_RE.match(name)
                if match is None:
                    continue
                split, label, review_id, rating = match.groups()
                subset = _subset_of(split, label)
                if subset is None:
                    continue
                if not member.isfile():
                    raise ValueError(
                        f"The archive {archive} holds {name!r} as a link or "
                        "special file, not a regular file, so it is not a "
                        "genuine IMDB archive and was not used. Replace it "
                        f"with the official archive from {IMDB_URL}."
                    )
                handle = tar.extractfile(member)
                text = _decode(handle.read(), f"{name!r} in {archive}")
                target = {"neg": 0, "pos": 1, "unsup": -1}[label]
                records[subset].append((target, int(review_id), int(rating), text))
            while gz.read(_CHUNK_SIZE):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise OSError(
            f"Could not read the IMDB archive {archive}: {exc!r}. It is probably "
            "truncated or not a .tar.gz file; delete it and download it again "
            f"from {IMDB_URL}."
        ) from exc
    return records


def _imdb_leaf_folder(folder, split, label, subset):
    """Return ``folder/split/label``, which must exist."""
    leaf = Path(folder) / split / label
    if not leaf.is_dir():
        raise OSError(
            f"The extracted IMDB folder {folder} has no {split}/{label} "
            f"folder, needed for subset={subset!r}. Extract the complete "
            f"archive again, or put {IMDB_ARCHIVE_NAME} in "
            f"{Path(folder).parent} instead."
        )
    return leaf


def _parse_imdb_directory(folder, subset):
    """Read one subset from an extracted ``aclImdb/`` folder."""
    rows = []
    for split, label, target in _IMDB_LAYOUT[subset]:
        leaf = _imdb_leaf_folder(folder, split, label, subset)
        with os.scandir(leaf) as entries:
            for entry in entries:
                match = _FILE_RE.match(entry.name)
                if match is None or not entry.is_file():
                    continue
                with open(entry.path, "rb") as f:
                    text = _decode(f.read(), entry.path)
                review_id, rating = match.groups()
                rows.append((target, int(review_id), int(rating), text))
    return rows


# --------------------------------------------------------------------------
# IMDB: cache
# --------------------------------------------------------------------------


def _source_key(kind, path, subset):
    """Identify the source so that a changed archive or folder is re-parsed.

    An archive is identified by its resolved path, size and modification time.
    An extracted folder by its resolved path and the modification times of
    the label folders of ``subset`` (which change when files are added,
    removed or renamed; edits of a file's content are not detected).
    """
    path = Path(path).resolve()
    key = {"version": _CACHE_VERSION, "kind": kind, "path": str(path)}
    if kind == "archive":
        st = path.stat()
        key.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    else:
        key["mtime_ns"] = {
            f"{split}/{label}": _imdb_leaf_folder(path, split, label, subset)
            .stat()
            .st_mtime_ns
            for split, label, _ in _IMDB_LAYOUT[subset]
        }
    return json.dumps(key, sort_keys=True)


def _rows_to_arrays(rows, key):
    """Sort ``(target, id, rating, text)`` rows by (target, id) into plain arrays.

    The texts become one UTF-8 byte blob plus character offsets, so the cache
    holds no object arrays and loads with ``allow_pickle=False``.
    """
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    texts = [r[3] for r in rows]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    return {
        "key": np.array(key),
        "target": np.array([r[0] for r in rows], dtype=np.int64),
        "ids": np.array([r[1] for r in rows], dtype=np.int64),
        "ratings": np.array([r[2] for r in rows], dtype=np.int64),
        "offsets": offsets,
        "blob": np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8),
    }


def _save_cache(cache_dir, subset, arrays):
    """Atomically write one subset's arrays to ``cache_dir/{subset}.npz``."""
    with atomic_path(Path(cache_dir) / f"{subset}.npz", suffix=".tmp") as tmp:
        # A file object, not the path: np.savez would append ".npz" to the temporary name.
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def _arrays_to_subset(arrays):
    text = arrays["blob"].tobytes().decode("utf-8")
    bounds = arrays["offsets"].tolist()
    data = [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return data, arrays["target"], arrays["ids"], arrays["ratings"]


def _load_cache(cache_dirs, subset, key):
    """Return the cached subset if a cache matching ``key`` exists, else None."""
    for cache_dir in cache_dirs:
        path = cache_dir / f"{subset}.npz"
        if not path.is_file():
            continue
        try:
            with np.load(path, allow_pickle=False) as npz:
                if str(npz["key"]) != key:
                    continue
                arrays = {name: npz[name] for name in npz.files}
            return _arrays_to_subset(arrays)
        except Exception:  # truncated or foreign file: ignore and re-parse
            continue
    return None


def _write_caches(cache_dirs, subset_rows, keys):
    """Cache the parsed subsets in the first folder that accepts them.

    Returns ``subset -> (data, target, ids, ratings)``, sorted. If no folder
    is writable, warns and returns the data without a cache.
    """
    arrays = {
        subset: _rows_to_arrays(rows, keys[subset])
        for subset, rows in subset_rows.items()
    }
    for cache_dir in cache_dirs:
        try:
            for subset, subset_arrays in arrays.items():
                _save_cache(cache_dir, subset, subset_arrays)
            break
        except OSError:
            continue
    else:
        warnings.warn(
            "Could not write the parsed IMDB cache to any of "
            f"{[str(d) for d in cache_dirs]}; the archive will be parsed again "
            "on every call. Make the data home writable or set XDG_CACHE_HOME.",
            RuntimeWarning,
            stacklevel=3,
        )
    return {subset: _arrays_to_subset(a) for subset, a in arrays.items()}


# --------------------------------------------------------------------------
# IMDB: public loader
# --------------------------------------------------------------------------


def _check_n_samples(n_samples, subset, target):
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool):
        raise TypeError(
            f"n_samples must be a positive int or None, got {n_samples!r} "
            f"of type {type(n_samples).__name__}."
        )
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive int or None, got {n_samples}.")
    if subset == "unsup":
        if n_samples > len(target):
            raise ValueError(
                f"n_samples={n_samples} is larger than the {len(target)} "
                f"reviews of subset={subset!r}; pass at most {len(target)}, "
                "or n_samples=None for all of them."
            )
        return
    if n_samples % 2:
        raise ValueError(
            f"n_samples must be even for subset={subset!r} to draw the same "
            f"number of reviews per class, got {n_samples}; pass "
            f"{n_samples - 1} or {n_samples + 1}."
        )
    smallest = min(int(np.sum(target == 0)), int(np.sum(target == 1)))
    if n_samples // 2 > smallest:
        raise ValueError(
            f"n_samples={n_samples} asks for {n_samples // 2} reviews per "
            f"class but subset={subset!r} has only {smallest} in its smallest "
            f"class; pass at most {2 * smallest}, or n_samples=None for all "
            "reviews."
        )


def fetch_imdb(
    subset="train",
    *,
    data_home=None,
    download_if_missing=True,
    n_samples=None,
    random_state=None,
    return_X_y=False,
):
    """Load the IMDB Large Movie Review Dataset (binary sentiment).

    ==============   ===================================
    Classes          2 (0 = "neg", 1 = "pos")
    Reviews          train 25,000; test 25,000; unsup 50,000
    Per class        12,500 in train and in test
    Features         text (str)
    ==============   ===================================

    The loader uses, in this order, ``aclImdb_v1.tar.gz`` or an extracted
    ``aclImdb/`` folder in the data home. If neither is there and
    ``download_if_missing`` is True, the official archive is downloaded from
    :data:`IMDB_URL` (about 80 MB) and its SHA-256 checked against
    :data:`IMDB_SHA256`; an archive you put in the data home yourself is used
    as it is, without a checksum. The archive is read directly, without
    extracting its 100,000 files, and the three subsets are parsed once into
    ``{data_home}/imdb_cache/{subset}.npz`` (plain NumPy arrays, no pickles).
    Later calls load that cache, which is rebuilt when the archive's size or
    modification time changes. If the data home is read-only, the cache goes
    to ``$XDG_CACHE_HOME/sktransfer`` (default ``~/.cache/sktransfer``).

    Parameters
    ----------
    subset : {"train", "test", "unsup"}, default="train"
        Which part to load. ``"unsup"`` is the 50,000 unlabelled reviews
        meant for unsupervised pretraining; their target is -1.

    data_home : str or path-like, default=None
        Folder holding the archive and the cache. If None, the environment
        variable ``SKTRANSFER_DATA`` is used when set, else
        ``~/sktransfer_data``; see :func:`get_data_home`.

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading when the data
        are not in the data home.

    n_samples : int, default=None
        If given, return a random subsample of this size. For ``"train"`` and
        ``"test"`` it is balanced: ``n_samples // 2`` reviews of each class,
        so ``n_samples`` must be even. For ``"unsup"`` it is a plain random
        subsample. The subsample keeps the order described below.

    random_state : int, RandomState instance or None, default=None
        Seeds the subsample drawn for ``n_samples``; pass an int for
        reproducible output. Unused when ``n_samples`` is None.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With attributes:

        data : list of str
            The reviews, exactly as in the files (UTF-8), including the HTML
            line breaks ``<br />``.
        target : ndarray of shape (n_samples,), dtype int64
            0 for a negative review, 1 for a positive one, -1 for every
            review of ``"unsup"``.
        target_names : list of str
            ``["neg", "pos"]``.
        ratings : ndarray of shape (n_samples,), dtype int64
            The rating out of 10 from the file name ``{id}_{rating}.txt``:
            1-4 for negative, 7-10 for positive and 0 for unlabelled
            reviews.
        ids : ndarray of shape (n_samples,), dtype int64
            The review id from the file name, unique within a class folder.
        DESCR : str
            Description of the dataset, with its citation.

        Reviews are sorted by (target, id): all negative reviews by
        increasing id, then all positive ones; ``"unsup"`` by id.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``subset`` is not one of the valid values, ``n_samples`` is not
        positive, odd (train/test) or larger than the data, or the archive
        holds members that a genuine IMDB archive does not (absolute paths,
        ``..`` components, links in place of reviews).
    TypeError
        If ``n_samples`` is not an int.
    OSError
        If the data are missing and ``download_if_missing`` is False, the
        download fails or has the wrong checksum, or the archive is truncated
        or corrupt.

    References
    ----------
    Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng
    and Christopher Potts. 2011. Learning Word Vectors for Sentiment
    Analysis. ACL 2011, pages 142-150.
    https://ai.stanford.edu/~amaas/data/sentiment/

    Examples
    --------
    >>> from sktransfer.datasets import fetch_imdb
    >>> train = fetch_imdb("train", n_samples=1000, random_state=0)  # doctest: +SKIP
    >>> len(train.data), train.target.mean()  # doctest: +SKIP
    (1000, 0.5)
    """
    if subset not in _IMDB_SUBSETS:
        raise ValueError(
            f"subset must be one of {list(_IMDB_SUBSETS)}, got {subset!r}."
        )
    data_home = get_data_home(data_home)
    source = _find_imdb_source(data_home)
    if source is None:
        if not download_if_missing:
            raise OSError(
                f"The IMDB data were not found in {data_home}: looked for "
                f"{os.path.join(data_home, IMDB_ARCHIVE_NAME)} and "
                f"{os.path.join(data_home, IMDB_FOLDER_NAME)}{os.sep}. Put "
                f"{IMDB_ARCHIVE_NAME} in a folder and point the "
                f"{DATA_HOME_ENV} environment variable or the data_home "
                "argument at that folder, or pass download_if_missing=True "
                f"to download it from {IMDB_URL}."
            )
        source = ("archive", _download_imdb(data_home))
    kind, path = source

    read_dirs, write_dirs = cache_dirs(data_home, path)
    key = _source_key(kind, path, subset)
    loaded = _load_cache(read_dirs, subset, key)
    if loaded is None:
        if kind == "archive":
            subset_rows = _parse_imdb_archive(path)
            keys = {s: key for s in _IMDB_SUBSETS}  # archive key is per file
        else:
            subset_rows = {subset: _parse_imdb_directory(path, subset)}
            keys = {subset: key}
        loaded = _write_caches(write_dirs, subset_rows, keys)[subset]
    data, target, ids, ratings = loaded

    if len(data) == 0:
        raise OSError(
            f"The IMDB source {path} holds no reviews for subset={subset!r} "
            "(expected files such as "
            f"aclImdb/{_IMDB_LAYOUT[subset][0][0]}/{_IMDB_LAYOUT[subset][0][1]}"
            "/0_3.txt). Replace it with the complete official archive."
        )

    if n_samples is not None:
        _check_n_samples(n_samples, subset, target)
        rng = check_random_state(random_state)
        if subset == "unsup":
            chosen = rng.choice(len(target), size=n_samples, replace=False)
        else:
            chosen = np.concatenate(
                [
                    rng.choice(
                        np.flatnonzero(target == label),
                        size=n_samples // 2,
                        replace=False,
                    )
                    for label in (0, 1)
                ]
            )
        chosen.sort()
        data = [data[i] for i in chosen]
        target, ids, ratings = target[chosen], ids[chosen], ratings[chosen]

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=list(_IMDB_TARGET_NAMES),
        ratings=ratings,
        ids=ids,
        DESCR=_IMDB_DESCR,
    )
