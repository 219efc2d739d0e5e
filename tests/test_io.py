"""sktransfer._io: storage locations, atomic writes, the checksummed downloader."""

import hashlib

import pytest

from sktransfer import _io


def test_resolve_location_prefers_argument_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SKT_TEST_HOME", str(tmp_path / "env"))
    assert _io.resolve_location(tmp_path / "arg", "SKT_TEST_HOME", tmp_path / "default") == tmp_path / "arg"
    assert _io.resolve_location(None, "SKT_TEST_HOME", tmp_path / "default") == tmp_path / "env"
    monkeypatch.setenv("SKT_TEST_HOME", "")  # empty counts as unset
    assert _io.resolve_location(None, "SKT_TEST_HOME", tmp_path / "default") == tmp_path / "default"
    with pytest.raises(TypeError, match="folder path"):
        _io.resolve_location(3, None, tmp_path)


def test_user_cache_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _io.user_cache_dir("elmo") == tmp_path / "sktransfer" / "elmo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _io.user_cache_dir() == tmp_path / "home" / ".cache" / "sktransfer"


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    with _io.atomic_write(target, "w") as fh:
        fh.write("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError):
        with _io.atomic_write(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]  # no temporary left behind


def test_atomic_write_refuses_read_mode(tmp_path):
    with pytest.raises(ValueError, match="must contain 'w'"):
        with _io.atomic_write(tmp_path / "x", "rb"):
            pass


def test_atomic_path_cleans_up_after_interrupt(tmp_path):
    target = tmp_path / "w.bin"
    with pytest.raises(KeyboardInterrupt):
        with _io.atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def _source(tmp_path, payload=b"payload bytes " * 1000):
    src = tmp_path / "src.bin"
    src.write_bytes(payload)
    return src, hashlib.sha256(payload).hexdigest()


def test_download_checks_sha256_and_keeps_the_file(tmp_path):
    src, digest = _source(tmp_path)
    target = tmp_path / "out" / "dl.bin"
    assert _io.download(src.as_uri(), target, sha256=digest) == digest
    assert target.read_bytes() == src.read_bytes()
    assert _io.sha256_file(target) == digest


def test_download_with_wrong_checksum_keeps_nothing(tmp_path):
    src, _ = _source(tmp_path)
    target = tmp_path / "out" / "dl.bin"
    with pytest.raises(_io.DownloadError, match="SHA-256"):
        _io.download(src.as_uri(), target, sha256="0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_download_failed_validation_and_unreachable_url(tmp_path):
    src, _ = _source(tmp_path)
    target = tmp_path / "dl.bin"

    def reject(path):
        raise ValueError("not an HDF5 file")

    with pytest.raises(_io.DownloadError, match="not an HDF5 file"):
        _io.download(src.as_uri(), target, validate=reject)
    assert not target.exists()
    with pytest.raises(_io.DownloadError, match="could not download"):
        _io.download((tmp_path / "missing.bin").as_uri(), target)
    assert not target.exists()
