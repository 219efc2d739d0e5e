"""Fixtures of the dataset tests: a data home holding the tiny archive, no network, no parsing."""

import functools
import http.server
import threading

import pytest

from sktransfer.datasets import imdb

from .tiny_imdb import make_imdb_archive


@pytest.fixture
def data_home(tmp_path):
    home = tmp_path / "data_home"
    home.mkdir()
    make_imdb_archive(home / imdb.IMDB_ARCHIVE_NAME)
    return home


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fetch_imdb tried to download")

    # The one downloader, sktransfer._io.download, looks urlopen up on urllib.request.
    monkeypatch.setattr("urllib.request.urlopen", refuse)


@pytest.fixture
def no_parsing(monkeypatch):
    """Make any parse of the source fail: only the cache may be used."""

    def refuse(*args, **kwargs):
        raise AssertionError("the source was parsed again instead of using the cache")

    def arm():
        monkeypatch.setattr(imdb, "_parse_imdb_archive", refuse)
        monkeypatch.setattr(imdb, "_parse_imdb_directory", refuse)

    return arm


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/served on 127.0.0.1; yields (folder, base_url)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(served)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
