"""Where datasets live: the data home and the folders of the parsed IMDB cache.

Both follow the storage rule of :mod:`sktransfer._io` (argument > environment variable >
default). The data home keeps its historical default, ``~/sktransfer_data``, because users
already have data there; the parsed cache falls back to the user's cache folder
(``$XDG_CACHE_HOME/sktransfer``) when the data home is read-only.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from .._io import resolve_location, user_cache_dir

#: Environment variable naming the data home.
DATA_HOME_ENV = "SKTRANSFER_DATA"
#: Default data home when neither an argument nor ``$SKTRANSFER_DATA`` is given.
DEFAULT_DATA_HOME = os.path.join("~", "sktransfer_data")
# Name of the parsed-cache folder, in the data home or under the user's cache folder.
CACHE_FOLDER_NAME = "imdb_cache"


def get_data_home(data_home=None):
    """Return the path of the sktransfer data folder, creating it if needed.

    Large datasets such as IMDB are looked for, downloaded to and cached in
    this folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, the environment variable
        ``SKTRANSFER_DATA`` is used when set, else ``~/sktransfer_data``.
        ``~`` is expanded to the user's home folder.

    Returns
    -------
    data_home : str
        The path of the data folder.

    Raises
    ------
    TypeError
        If ``data_home`` is neither None nor a path.
    """
    home = resolve_location(data_home, DATA_HOME_ENV, DEFAULT_DATA_HOME)
    home.mkdir(parents=True, exist_ok=True)
    return str(home)


def _is_writable_dir(path):
    """Whether ``path`` is a folder we may write to.

    A folder without any write permission bit (e.g. a shared read-only copy
    of the data) counts as read-only even for root, who could write anyway.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    any_write_bit = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return bool(mode & any_write_bit) and os.access(path, os.W_OK | os.X_OK)


def cache_dirs(data_home, source_path):
    """Folders for the parsed cache: ``(to_read, to_write)``, best first.

    The cache lives in ``{data_home}/imdb_cache``. When the data home is
    read-only, it is written to a per-source folder under
    ``$XDG_CACHE_HOME/sktransfer`` (default ``~/.cache/sktransfer``) instead.
    """
    home_cache = Path(data_home) / CACHE_FOLDER_NAME
    # Per source, so two read-only data homes never share (and overwrite) one fallback cache.
    digest = hashlib.sha256(str(Path(source_path).resolve()).encode()).hexdigest()
    fallback = user_cache_dir(CACHE_FOLDER_NAME, digest[:16])
    home_writable = (
        _is_writable_dir(home_cache)
        if home_cache.is_dir()
        else _is_writable_dir(data_home)
    )
    to_write = [home_cache, fallback] if home_writable else [fallback]
    return [home_cache, fallback], to_write
