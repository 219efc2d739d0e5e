"""File-system helpers shared by datasets, the feature cache, ELMo presets and pretraining.

One rule for where things are stored, one way to write a file so that readers never see half of
it, and one checksummed downloader. Nothing here imports torch or the estimators.

Storage locations
-----------------
Every folder sktransfer writes to is chosen the same way (:func:`resolve_location`): the
argument the user passed, else an environment variable, else a default under the user's
cache folder, ``$XDG_CACHE_HOME/sktransfer`` (``~/.cache/sktransfer`` when ``XDG_CACHE_HOME`` is
unset). The IMDB data home keeps its historical default, ``~/sktransfer_data``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

PathLike = Union[str, os.PathLike]

#: Bytes read or written at a time when hashing or downloading.
CHUNK_SIZE = 1 << 20


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/sktransfer/<parts>``, or ``~/.cache/sktransfer/<parts>`` without it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.path.expanduser(base)).joinpath("sktransfer", *parts)


def resolve_location(argument: Optional[PathLike], env_var: Optional[str], default: PathLike) -> Path:
    """The one rule for storage locations: ``argument`` > ``$env_var`` > ``default``.

    ``~`` is expanded in each. An environment variable set to the empty string counts as unset.

    Parameters
    ----------
    argument : str, path-like or None
        What the caller passed; None defers to the environment.
    env_var : str or None
        Name of the environment variable consulted when ``argument`` is None.
    default : str or path-like
        Used when neither is given, typically :func:`user_cache_dir`.

    Returns
    -------
    location : pathlib.Path
        Not created: callers create it when they first write.
    """
    if argument is None and env_var:
        argument = os.environ.get(env_var) or None
    if argument is None:
        argument = default
    if not isinstance(argument, (str, os.PathLike)):
        raise TypeError(f"expected a folder path (str or path-like), got {type(argument).__name__} {argument!r}.")
    return Path(os.path.expanduser(os.fspath(argument)))


@contextlib.contextmanager
def atomic_path(target: PathLike, *, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    For writers that need a file name (h5py, ``numpy.savez`` with a path). On any exception,
    KeyboardInterrupt included, the temporary file is removed and ``target`` is left as it was,
    so a reader never sees a half-written file under the final name. The rename is atomic on
    POSIX and Windows when both names are on one file system, which is why the temporary file
    lives in the same folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(
    target: PathLike,
    mode: str = "wb",
    *,
    fsync: bool = True,
    encoding: Optional[str] = None,
    suffix: str = ".part",
):
    """Open a temporary file beside ``target`` for writing; rename it onto ``target`` on success.

    ``with atomic_write(path) as fh: fh.write(...)``. With ``fsync`` the data reach the disk
    before the rename, so a crash cannot leave a complete-looking name over incomplete data.
    ``suffix`` ends the temporary file's name (see :func:`atomic_path`), so that a caller's
    readers can tell leftovers from finished files.
    """
    if "w" not in mode:
        raise ValueError(f"atomic_write opens files for writing; mode must contain 'w', got {mode!r}.")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    with atomic_path(target, suffix=suffix) as tmp:
        with open(tmp, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())


def sha256_file(path: PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


class DownloadError(OSError):
    """A download failed, was truncated or did not match its checksum; nothing was kept.

    Attributes
    ----------
    kind : {"unreachable", "truncated", "checksum", "invalid"} or None
        Which step failed, so that a caller can say how to fix it: only an
        unreachable server is helped by working offline from local files.
        Every error raised by :func:`download` sets it.
    """

    def __init__(self, message: str, kind: Optional[str] = None):
        super().__init__(message)
        self.kind = kind


def download(
    url: str,
    target: PathLike,
    *,
    sha256: Optional[str] = None,
    validate: Optional[Callable[[Path], None]] = None,
    progress: bool = False,
    desc: Optional[str] = None,
    timeout: float = 60,
) -> str:
    """Download ``url`` to ``target`` atomically and return the file's hex SHA-256.

    The data go to a temporary file beside ``target``; it is renamed onto ``target`` only when
    the whole body arrived (``Content-Length``), its SHA-256 matches ``sha256`` (when given) and
    ``validate(tmp_path)`` (when given) did not raise. Otherwise the temporary file is removed
    and :class:`DownloadError` says which check failed; callers add how to fix it.

    Parameters
    ----------
    url : str
    target : str or path-like
    sha256 : str or None, default=None
        Expected hex digest.
    validate : callable or None, default=None
        Structural check of the downloaded file (e.g. "is this an HDF5 file"), raising on failure.
    progress : bool, default=False
        Show a tqdm bar in bytes.
    desc : str or None, default=None
        Label of the progress bar.
    timeout : float, default=60
        Seconds to wait for the server.
    """
    digest = hashlib.sha256()
    size = 0
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                length = response.headers.get("Content-Length")
                expected_size = int(length) if length and length.isdigit() else None
                bar = None
                if progress:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=expected_size, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)
                try:
                    for block in iter(lambda: response.read(CHUNK_SIZE), b""):
                        out.write(block)
                        digest.update(block)
                        size += len(block)
                        if bar is not None:
                            bar.update(len(block))
                finally:
                    if bar is not None:
                        bar.close()
                out.flush()
                os.fsync(out.fileno())
        except (urllib.error.URLError, OSError) as exc:  # HTTPError, timeouts, refused connections
            # An HTTPError's reason alone ("Not Found") would drop the status code.
            reason = exc if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", exc)
            raise DownloadError(f"could not download {url}: {reason}", "unreachable") from exc
        if expected_size is not None and size != expected_size:
            raise DownloadError(
                f"the download of {url} was truncated: got {size} of {expected_size} bytes", "truncated"
            )
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256:
            raise DownloadError(
                f"the file downloaded from {url} has SHA-256 {actual}, expected {sha256}: it is corrupt or incomplete",
                "checksum",
            )
        if validate is not None:
            try:
                validate(tmp)
            except Exception as exc:  # noqa: BLE001 - any parse failure means a bad file
                raise DownloadError(f"{url} did not yield a valid file ({exc})", "invalid") from exc
    return actual
