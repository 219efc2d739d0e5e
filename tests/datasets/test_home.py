"""The data home (argument > $SKTRANSFER_DATA > ~/sktransfer_data) and where the parsed IMDB
cache goes when the data home is read-only."""

import stat
from pathlib import Path

import pytest

from sktransfer import datasets
from sktransfer.datasets import fetch_imdb, get_data_home

from .tiny_imdb import as_rows, expected_subset


def test_get_data_home_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("SKTRANSFER_DATA", raising=False)
    default = get_data_home()
    assert Path(default) == tmp_path / "user" / "sktransfer_data"
    assert Path(default).is_dir()

    monkeypatch.setenv("SKTRANSFER_DATA", str(tmp_path / "from_env"))
    assert Path(get_data_home()) == tmp_path / "from_env"
    assert Path(get_data_home(tmp_path / "explicit")) == tmp_path / "explicit"
    assert Path(get_data_home("~/tilde")) == tmp_path / "user" / "tilde"


def test_fetch_imdb_uses_env_data_home(data_home, monkeypatch, no_network):
    monkeypatch.setenv("SKTRANSFER_DATA", str(data_home))
    assert as_rows(fetch_imdb("test")) == expected_subset("test")


def test_missing_data_without_download(tmp_path, no_network):
    with pytest.raises(OSError) as info:
        fetch_imdb("train", data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / datasets.IMDB_ARCHIVE_NAME) in message
    assert "SKTRANSFER_DATA" in message and "data_home" in message
    assert list(tmp_path.iterdir()) == []


def test_read_only_data_home_caches_elsewhere(
    data_home, tmp_path, monkeypatch, no_network, no_parsing
):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    data_home.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        assert as_rows(fetch_imdb("train", data_home=data_home)) == expected_subset("train")
        assert not (data_home / "imdb_cache").exists()
        cached = sorted(p.name for p in xdg.rglob("*.npz"))
        assert cached == ["test.npz", "train.npz", "unsup.npz"]
        no_parsing()
        assert as_rows(fetch_imdb("unsup", data_home=data_home)) == expected_subset("unsup")
    finally:
        data_home.chmod(stat.S_IRWXU)
