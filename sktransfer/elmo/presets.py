"""Published AllenNLP ELMo models: download once, verify, cache, reuse.

Each preset is an ``options.json`` + ``weights.hdf5`` pair published by AllenNLP at
``{base}/{dir}/elmo_{dir}_options.json`` and ``..._weights.hdf5`` with
``base = https://allennlp.s3.amazonaws.com/models/elmo``.

Cache
    The ``cache_dir`` argument, else ``$SKTRANSFER_ELMO_CACHE``, else ``$XDG_CACHE_HOME/sktransfer/elmo``
    (``~/.cache/sktransfer/elmo`` when ``XDG_CACHE_HOME`` is unset): the storage rule of
    :mod:`sktransfer._io`. Files live in ``<cache>/<dir>/`` under their published names.
Mirror
    ``$SKTRANSFER_ELMO_BASE_URL`` replaces ``base`` (e.g. an internal mirror, or a local
    test server).
Integrity
    A download (:func:`sktransfer._io.download`) goes to a temporary file in the cache
    directory, is checked (byte count against ``Content-Length``, JSON parses / hdf5 opens
    with the expected entries) and is then renamed into place, so a crash never leaves a
    half-written file under the final name. Its size and SHA-256 are recorded in
    ``<file>.meta.json``; a cached file whose size or hash no longer matches (truncated,
    corrupted, replaced) is downloaded again.
    Files copied into the cache by hand (no record yet) are checked structurally and
    adopted, which is how offline machines use presets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from .._io import DownloadError, atomic_write, download, resolve_location, sha256_file, user_cache_dir

__all__ = ["PRESETS", "DEFAULT_BASE_URL", "fetch_preset", "preset_urls", "cache_dir", "PresetDownloadError"]

DEFAULT_BASE_URL = "https://allennlp.s3.amazonaws.com/models/elmo"

#: Preset name -> directory/file stem on the AllenNLP server.
PRESETS: Dict[str, str] = {
    "small": "2x1024_128_2048cnn_1xhighway",
    "medium": "2x2048_256_2048cnn_1xhighway",
    "original": "2x4096_512_2048cnn_2xhighway",
    "original-5.5b": "2x4096_512_2048cnn_2xhighway_5.5B",
}

_TIMEOUT_S = 60
#: Environment variable naming the cache root.
CACHE_ENV = "SKTRANSFER_ELMO_CACHE"


class PresetDownloadError(OSError):
    """A preset could not be downloaded or failed verification."""


def cache_dir(override: Optional[Union[str, os.PathLike]] = None) -> Path:
    """The cache root: ``override``, else ``$SKTRANSFER_ELMO_CACHE``, else ``user_cache_dir("elmo")``.

    The last is ``$XDG_CACHE_HOME/sktransfer/elmo``, or ``~/.cache/sktransfer/elmo`` without
    ``XDG_CACHE_HOME`` (see :func:`sktransfer._io.resolve_location`).
    """
    return resolve_location(override, CACHE_ENV, user_cache_dir("elmo"))


def preset_urls(name: str) -> Tuple[str, str]:
    """``(options_url, weights_url)`` of a preset, honouring ``$SKTRANSFER_ELMO_BASE_URL``."""
    stem = _stem(name)
    base = os.environ.get("SKTRANSFER_ELMO_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
    return (f"{base}/{stem}/elmo_{stem}_options.json", f"{base}/{stem}/elmo_{stem}_weights.hdf5")


def _stem(name: str) -> str:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown ELMo preset {name!r}; choose one of {sorted(PRESETS)}") from None


def fetch_preset(name: str, *, cache_dir: Optional[Union[str, os.PathLike]] = None) -> Tuple[Path, Path]:
    """Return local paths of a preset's options and weights, downloading them if needed.

    Parameters
    ----------
    name : {"small", "medium", "original", "original-5.5b"}
        The published model.
    cache_dir : path-like, optional
        Cache root (default: ``$SKTRANSFER_ELMO_CACHE``, else ``$XDG_CACHE_HOME/sktransfer/elmo``
        or ``~/.cache/sktransfer/elmo``; see :func:`cache_dir`).

    Returns
    -------
    (Path, Path)
        ``options.json`` and ``weights.hdf5`` paths inside the cache.

    Raises
    ------
    PresetDownloadError
        When a file is missing from the cache and cannot be downloaded (offline, server
        error, truncated transfer); the message explains how to use local files instead.
    """
    stem = _stem(name)
    root = globals()["cache_dir"](cache_dir) / stem
    paths = []
    for url in preset_urls(name):
        target = root / url.rsplit("/", 1)[1]
        if not _cached_file_ok(target):
            _download(url, target, name)
        paths.append(target)
    return paths[0], paths[1]


def _meta_path(target: Path) -> Path:
    return target.with_name(target.name + ".meta.json")


def _cached_file_ok(target: Path) -> bool:
    """Whether ``target`` can be used as is.

    With a ``.meta.json`` record (written after our own download) the size and SHA-256
    must match. A file without a record was placed by hand (offline installs): it is
    accepted if it passes the structural check, and a record is written for next time.
    """
    if not target.is_file():
        return False
    meta_path = _meta_path(target)
    if not meta_path.exists():
        try:
            _validate(target, _kind(target))
        except Exception:  # noqa: BLE001 - unreadable means "download again"
            return False
        _write_meta(target, {"url": None, "size": target.stat().st_size, "sha256": sha256_file(target)})
        return True
    try:
        meta = json.loads(meta_path.read_text())
        if target.stat().st_size != meta["size"]:
            return False
        return sha256_file(target) == meta["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _kind(target: Path) -> str:
    return "json" if target.suffix == ".json" else "hdf5"


def _write_meta(target: Path, meta: dict) -> None:
    with atomic_write(_meta_path(target), "w") as fout:
        json.dump(meta, fout)


def _validate(path: Path, kind: str) -> None:
    """Cheap structural check, so an HTML error page or a cut-off file is never cached."""
    if kind == "json":
        with open(path, encoding="utf-8") as fin:
            options = json.load(fin)
        if not isinstance(options, dict) or "lstm" not in options or "char_cnn" not in options:
            raise ValueError("not an ELMo options file (no 'lstm'/'char_cnn' sections)")
    else:
        import h5py

        with h5py.File(path, "r") as fin:
            if "char_embed" not in fin or "RNN_0" not in fin:
                raise ValueError("not an ELMo weight file (no 'char_embed'/'RNN_0' entries)")


def _download(url: str, target: Path, name: str) -> None:
    try:
        digest = download(url, target, validate=lambda tmp: _validate(tmp, _kind(target)), timeout=_TIMEOUT_S)
    except DownloadError as exc:
        if exc.kind == "unreachable":
            raise PresetDownloadError(_offline_message(name, url, target, exc.__cause__ or exc)) from exc
        if exc.kind == "truncated":
            raise PresetDownloadError(f"{exc}; try again") from exc
        raise PresetDownloadError(f"{exc}: not an ELMo file, so it was not cached") from exc
    _write_meta(target, {"url": url, "size": target.stat().st_size, "sha256": digest})


def _offline_message(name: str, url: str, target: Path, exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    options_url, weights_url = preset_urls(name)
    return (
        f"could not download ELMo preset {name!r} from {url} ({reason}).\n"
        f"If this machine is offline, fetch the two files elsewhere:\n  {options_url}\n  {weights_url}\n"
        f"and either load them directly with "
        f"ElmoBiLm.from_files('<...>_options.json', '<...>_weights.hdf5'), or copy them into "
        f"{target.parent} (a file placed there by hand is verified and adopted; delete a stale "
        f"{_meta_path(target).name} if you replace a file), or set "
        f"SKTRANSFER_ELMO_BASE_URL to a reachable mirror."
    )
