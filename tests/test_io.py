"""sktransfer._io: storage locations, atomic writes, the checksummed downloader."""

import hashlib
import http.server
import threading

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


def test_atomic_write_temporary_name_ends_in_suffix(tmp_path):
    target = tmp_path / "shard.npz"
    with _io.atomic_write(target, "wb", suffix=".tmp") as fh:
        fh.write(b"data")
        assert [p.suffix for p in tmp_path.iterdir()] == [".tmp"]  # never "*.npz" while written
        assert not target.exists()
    assert target.read_bytes() == b"data"
    assert list(tmp_path.iterdir()) == [target]


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


def test_download_error_kind_tells_the_failed_step(tmp_path):
    src, _ = _source(tmp_path)
    target = tmp_path / "dl.bin"

    def reject(path):
        raise ValueError("bad")

    cases = [
        ((tmp_path / "missing.bin").as_uri(), {}, "unreachable"),
        (src.as_uri(), {"sha256": "0" * 64}, "checksum"),
        (src.as_uri(), {"validate": reject}, "invalid"),
    ]
    for url, kwargs, kind in cases:
        with pytest.raises(_io.DownloadError) as info:
            _io.download(url, target, **kwargs)
        assert info.value.kind == kind
        assert isinstance(info.value, OSError)


@pytest.fixture
def http_server(tmp_path):
    """A loopback server: ``/ok`` sends 1000 bytes, ``/cut`` announces 1000 and sends 500."""
    payload = bytes(range(250)) * 4

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path not in ("/ok", "/cut"):
                self.send_error(404, "File not found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload if self.path == "/ok" else payload[:500])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", payload
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_over_http_checks_length_and_keeps_status(http_server, tmp_path):
    base, payload = http_server
    target = tmp_path / "dl.bin"
    assert _io.download(f"{base}/ok", target) == hashlib.sha256(payload).hexdigest()
    assert target.read_bytes() == payload

    with pytest.raises(_io.DownloadError, match="truncated: got 500 of 1000 bytes") as info:
        _io.download(f"{base}/cut", target)
    assert info.value.kind == "truncated"
    assert target.read_bytes() == payload  # the earlier good file is left as it was

    with pytest.raises(_io.DownloadError, match="404") as info:
        _io.download(f"{base}/missing", tmp_path / "other.bin")
    assert info.value.kind == "unreachable"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dl.bin"]
