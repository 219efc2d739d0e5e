"""Preset download/cache logic against a loopback HTTP server serving the fixture model."""

import http.server
import shutil
import socket
import threading

import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids, fetch_preset
from sktransfer.elmo.presets import PRESETS, PresetDownloadError, cache_dir, preset_urls

STEM = PRESETS["small"]


class _Server:
    def __init__(self, root, truncate=False):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                if truncate:
                    body = (root / self.path.lstrip("/")).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])  # then the connection closes
                    return
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def served(tmp_path, fixture_dir):
    root = tmp_path / "server"
    (root / STEM).mkdir(parents=True)
    shutil.copy(fixture_dir / "options.json", root / STEM / f"elmo_{STEM}_options.json")
    shutil.copy(fixture_dir / "lm_weights.hdf5", root / STEM / f"elmo_{STEM}_weights.hdf5")
    return root


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("SKTRANSFER_ELMO_CACHE", str(path))
    return path


def test_urls_default_to_allennlp_s3(monkeypatch):
    monkeypatch.delenv("SKTRANSFER_ELMO_BASE_URL", raising=False)
    options_url, weights_url = preset_urls("original")
    assert options_url == ("https://allennlp.s3.amazonaws.com/models/elmo/2x4096_512_2048cnn_2xhighway/"
                           "elmo_2x4096_512_2048cnn_2xhighway_options.json")
    assert weights_url.endswith("2x4096_512_2048cnn_2xhighway/elmo_2x4096_512_2048cnn_2xhighway_weights.hdf5")
    assert set(PRESETS) == {"small", "medium", "original", "original-5.5b"}
    with pytest.raises(ValueError, match="unknown ELMo preset"):
        preset_urls("large")


def test_download_cache_reuse_and_repair(served, cache, monkeypatch, fixture_dir):
    with _Server(served) as server:
        monkeypatch.setenv("SKTRANSFER_ELMO_BASE_URL", server.url)
        options, weights = fetch_preset("small")
        assert len(server.requests) == 2
        assert options.parent == cache / STEM
        assert weights.read_bytes() == (fixture_dir / "lm_weights.hdf5").read_bytes()
        assert not list(cache.rglob("*.part"))
        assert (weights.parent / (weights.name + ".meta.json")).exists()

        assert fetch_preset("small") == (options, weights)
        assert len(server.requests) == 2  # reused, nothing downloaded

        # A truncated cached file is detected (size/sha256 record) and downloaded again.
        data = weights.read_bytes()
        weights.write_bytes(data[:1000])
        fetch_preset("small")
        assert len(server.requests) == 3 and weights.read_bytes() == data
        # Same-size corruption is caught by the hash.
        weights.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
        fetch_preset("small")
        assert len(server.requests) == 4 and weights.read_bytes() == data

        model = ElmoBiLm.from_preset("small")
    reference = ElmoBiLm.from_files(fixture_dir / "options.json", fixture_dir / "lm_weights.hdf5")
    ids = batch_to_ids([["cached", "model"]])
    with torch.inference_mode():
        assert torch.equal(model(ids)["activations"][2], reference(ids)["activations"][2])


def test_truncated_transfer_is_not_cached(served, cache, monkeypatch):
    with _Server(served, truncate=True) as server:
        monkeypatch.setenv("SKTRANSFER_ELMO_BASE_URL", server.url)
        with pytest.raises(PresetDownloadError, match="truncated: got .* bytes; try again"):
            fetch_preset("small")
    leftovers = [p.name for p in cache.rglob("*") if p.is_file()]
    assert leftovers == []


def test_a_served_error_page_is_not_cached(served, cache, monkeypatch):
    # A mirror answering 200 with an HTML page instead of the options file.
    (served / STEM / f"elmo_{STEM}_options.json").write_text("<html>Not found</html>")
    with _Server(served) as server:
        monkeypatch.setenv("SKTRANSFER_ELMO_BASE_URL", server.url)
        with pytest.raises(PresetDownloadError, match="not an ELMo file, so it was not cached"):
            fetch_preset("small")
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_cache_location_follows_the_storage_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SKTRANSFER_ELMO_CACHE", raising=False)
    assert cache_dir() == tmp_path / "xdg" / "sktransfer" / "elmo"
    monkeypatch.setenv("SKTRANSFER_ELMO_CACHE", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_offline_error_explains_local_files(cache, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SKTRANSFER_ELMO_BASE_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(PresetDownloadError) as err:
        fetch_preset("small")
    message = str(err.value)
    assert "from_files" in message and "offline" in message and str(cache / STEM) in message


def test_files_placed_by_hand_are_adopted_offline(served, cache, monkeypatch):
    shutil.copytree(served / STEM, cache / STEM)
    monkeypatch.setenv("SKTRANSFER_ELMO_BASE_URL", "http://127.0.0.1:9")  # unreachable
    options, weights = fetch_preset("small")
    assert weights.exists() and (weights.parent / (weights.name + ".meta.json")).exists()
