"""Tests of sktransfer.datasets: fetch_imdb (on tiny archives in the official
layout, a loopback download and, marked ``imdb``, the real archive) and
load_text_dataset."""

import ast
import functools
import hashlib
import http.server
import io
import os
import stat
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from sktransfer import datasets
from sktransfer.datasets import fetch_imdb, get_data_home, load_text_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]

# (split, label folder) -> list of (id, rating); ids chosen so that numeric
# and lexicographic order differ (2 < 10 but "10" < "2").
TINY_LAYOUT = {
    ("train", "neg"): [(10, 1), (2, 4), (7, 3), (0, 2), (11, 1), (5, 4)],
    ("train", "pos"): [(3, 10), (12, 7), (1, 8), (20, 9), (4, 10), (9, 7)],
    ("test", "neg"): [(1, 2), (0, 3), (5, 1)],
    ("test", "pos"): [(8, 9), (0, 7), (2, 10)],
    ("train", "unsup"): [(i, 0) for i in (13, 2, 0, 7, 100, 5, 1, 9)],
}
TARGETS = {"neg": 0, "pos": 1, "unsup": -1}


def review_text(split, label, review_id, version=1):
    # Non-ASCII, HTML line breaks, a comma and quotes: must come back unchanged.
    return (
        f"{split} {label} review {review_id} v{version}.<br /><br />"
        f'Café "crème", naïve ☕ — {review_id}'
    )


def add_bytes(tar, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 1306886400
    tar.addfile(info, io.BytesIO(payload))


def make_imdb_archive(path, *, version=1, layout=TINY_LAYOUT, extra=None):
    """Write a tiny .tar.gz in the layout of the official IMDB archive."""
    with tarfile.open(path, "w:gz") as tar:
        for (split, label), files in layout.items():
            for review_id, rating in files:
                text = review_text(split, label, review_id, version)
                name = f"aclImdb/{split}/{label}/{review_id}_{rating}.txt"
                add_bytes(tar, name, text.encode("utf-8"))
        # Files of the official archive that are not reviews: ignored.
        add_bytes(tar, "aclImdb/imdb.vocab", b"the\nand\n")
        add_bytes(tar, "aclImdb/train/labeledBow.feat", b"0 0:1\n")
        add_bytes(tar, "aclImdb/train/urls_pos.txt", b"http://example.com\n")
        if extra is not None:
            extra(tar)
    return Path(path)


def expected_subset(subset, version=1):
    """What fetch_imdb should return for the tiny archive, in documented order."""
    keys = {
        "train": [("train", "neg"), ("train", "pos")],
        "test": [("test", "neg"), ("test", "pos")],
        "unsup": [("train", "unsup")],
    }[subset]
    rows = []
    for split, label in keys:
        for review_id, rating in TINY_LAYOUT[(split, label)]:
            rows.append(
                (
                    TARGETS[label],
                    review_id,
                    rating,
                    review_text(split, label, review_id, version),
                )
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def as_rows(bunch):
    return list(
        zip(bunch.target.tolist(), bunch.ids.tolist(), bunch.ratings.tolist(), bunch.data)
    )


@pytest.fixture
def data_home(tmp_path):
    home = tmp_path / "data_home"
    home.mkdir()
    make_imdb_archive(home / datasets.IMDB_ARCHIVE_NAME)
    return home


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("fetch_imdb tried to download")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", refuse)


@pytest.fixture
def no_parsing(monkeypatch):
    """Make any parse of the source fail: only the cache may be used."""

    def refuse(*args, **kwargs):
        raise AssertionError("the source was parsed again instead of using the cache")

    def arm():
        monkeypatch.setattr(datasets, "_parse_imdb_archive", refuse)
        monkeypatch.setattr(datasets, "_parse_imdb_directory", refuse)

    return arm


# --------------------------------------------------------------------------
# fetch_imdb on a local archive
# --------------------------------------------------------------------------


@pytest.mark.parametrize("subset", ["train", "test", "unsup"])
def test_fetch_imdb_reads_archive_in_documented_order(data_home, no_network, subset):
    bunch = fetch_imdb(subset, data_home=data_home)

    assert isinstance(bunch, Bunch)
    assert as_rows(bunch) == expected_subset(subset)
    assert isinstance(bunch.data, list)
    assert all(type(t) is str for t in bunch.data)
    for name in ("target", "ids", "ratings"):
        assert bunch[name].dtype == np.int64
    assert bunch.target_names == ["neg", "pos"]
    assert "Maas" in bunch.DESCR and "2011" in bunch.DESCR
    assert "<br />" in bunch.DESCR  # the kept HTML tags are documented


def test_fetch_imdb_labels_and_ratings(data_home, no_network):
    train = fetch_imdb("train", data_home=data_home)
    assert np.bincount(train.target).tolist() == [6, 6]
    assert train.target[:6].tolist() == [0] * 6  # neg first, then pos
    assert set(train.ratings[train.target == 0]) <= {1, 2, 3, 4}
    assert set(train.ratings[train.target == 1]) <= {7, 8, 9, 10}
    unsup = fetch_imdb("unsup", data_home=data_home)
    assert unsup.target.tolist() == [-1] * 8
    assert unsup.ratings.tolist() == [0] * 8
    assert unsup.ids.tolist() == sorted(unsup.ids.tolist())


def test_fetch_imdb_return_X_y(data_home, no_network):
    bunch = fetch_imdb("test", data_home=data_home)
    X, y = fetch_imdb("test", data_home=data_home, return_X_y=True)
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)


@pytest.mark.parametrize("subset", ["validation", "TRAIN", "all", None])
def test_fetch_imdb_rejects_unknown_subset(data_home, subset):
    with pytest.raises(ValueError, match="subset must be one of") as info:
        fetch_imdb(subset, data_home=data_home)
    message = str(info.value)
    for valid in ("'train'", "'test'", "'unsup'", repr(subset)):
        assert valid in message


def test_user_archive_is_not_checksummed(data_home, no_network, monkeypatch):
    # The shared copy of the data differs from the official download: an
    # archive placed in the data home by the user must be used as it is.
    monkeypatch.setattr(datasets, "IMDB_SHA256", "0" * 64)
    assert len(fetch_imdb("train", data_home=data_home).data) == 12


def test_fetch_imdb_reads_extracted_folder(tmp_path, no_network, no_parsing):
    archive = make_imdb_archive(tmp_path / "a.tar.gz")
    home = tmp_path / "home"
    home.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(home, filter="data")
    for subset in ("train", "test", "unsup"):
        assert as_rows(fetch_imdb(subset, data_home=home)) == expected_subset(subset)
    no_parsing()
    assert as_rows(fetch_imdb("test", data_home=home)) == expected_subset("test")


def test_extracted_folder_missing_subset_folder(tmp_path, no_network):
    archive = make_imdb_archive(tmp_path / "a.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    for path in (tmp_path / "aclImdb/train/unsup").iterdir():
        path.unlink()
    (tmp_path / "aclImdb/train/unsup").rmdir()
    assert len(fetch_imdb("train", data_home=tmp_path).data) == 12
    with pytest.raises(OSError, match=r"no train/unsup folder"):
        fetch_imdb("unsup", data_home=tmp_path)


def test_archive_without_subset_gives_clear_error(tmp_path, no_network):
    layout = {k: v for k, v in TINY_LAYOUT.items() if k[0] != "test"}
    make_imdb_archive(tmp_path / datasets.IMDB_ARCHIVE_NAME, layout=layout)
    assert len(fetch_imdb("train", data_home=tmp_path).data) == 12
    with pytest.raises(OSError, match=r"no reviews for subset='test'"):
        fetch_imdb("test", data_home=tmp_path)


# --------------------------------------------------------------------------
# data home and missing data
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# download from a loopback HTTP server
# --------------------------------------------------------------------------


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


def test_download_with_good_checksum(http_server, tmp_path, monkeypatch):
    served, base_url = http_server
    archive = make_imdb_archive(served / "imdb.tar.gz")
    payload = archive.read_bytes()
    monkeypatch.setattr(datasets, "IMDB_URL", f"{base_url}/imdb.tar.gz")
    monkeypatch.setattr(datasets, "IMDB_SHA256", hashlib.sha256(payload).hexdigest())
    home = tmp_path / "home"

    bunch = fetch_imdb("train", data_home=home)

    assert as_rows(bunch) == expected_subset("train")
    assert (home / datasets.IMDB_ARCHIVE_NAME).read_bytes() == payload
    assert not [p for p in home.iterdir() if ".part" in p.name]
    # Downloaded once: the next call must not go to the network again.
    archive.unlink()
    assert len(fetch_imdb("unsup", data_home=home).data) == 8


def test_download_with_bad_checksum_leaves_nothing(http_server, tmp_path, monkeypatch):
    served, base_url = http_server
    make_imdb_archive(served / "imdb.tar.gz")
    monkeypatch.setattr(datasets, "IMDB_URL", f"{base_url}/imdb.tar.gz")
    monkeypatch.setattr(datasets, "IMDB_SHA256", "0" * 64)
    home = tmp_path / "home"

    with pytest.raises(OSError, match="SHA-256") as info:
        fetch_imdb("train", data_home=home)

    assert "0" * 64 in str(info.value) and base_url in str(info.value)
    assert list(home.iterdir()) == []
    with pytest.raises(OSError, match="not found"):
        fetch_imdb("train", data_home=home, download_if_missing=False)


def test_download_http_error(http_server, tmp_path, monkeypatch):
    _, base_url = http_server
    monkeypatch.setattr(datasets, "IMDB_URL", f"{base_url}/missing.tar.gz")
    home = tmp_path / "home"
    with pytest.raises(OSError, match="Could not download") as info:
        fetch_imdb("train", data_home=home)
    assert "404" in str(info.value) and str(home) in str(info.value)
    assert list(home.iterdir()) == []


# --------------------------------------------------------------------------
# safety
# --------------------------------------------------------------------------


def _link(name, target, kind=tarfile.SYMTYPE):
    def add(tar):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = target
        tar.addfile(info)

    return add


@pytest.mark.parametrize(
    "extra",
    [
        lambda tar: add_bytes(tar, "../evil", b"pwned"),
        lambda tar: add_bytes(tar, "aclImdb/train/pos/../../../../evil", b"pwned"),
        lambda tar: add_bytes(tar, "/tmp/evil_sktransfer_abs", b"pwned"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute"],
)
def test_archive_with_path_traversal_is_refused(tmp_path, monkeypatch, no_network, extra):
    home = tmp_path / "a" / "b" / "home"
    home.mkdir(parents=True)
    make_imdb_archive(home / datasets.IMDB_ARCHIVE_NAME, extra=extra)
    monkeypatch.chdir(home)
    before = {p for p in tmp_path.rglob("*")}

    with pytest.raises(ValueError, match="unsafe member"):
        fetch_imdb("train", data_home=home)

    created = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in created if "evil" in p.name]
    assert not Path("/tmp/evil_sktransfer_abs").exists()
    assert not (home / "imdb_cache" / "train.npz").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_archive_with_linked_review_is_refused(tmp_path, no_network, kind):
    make_imdb_archive(
        tmp_path / datasets.IMDB_ARCHIVE_NAME,
        extra=_link("aclImdb/train/pos/99_9.txt", "/etc/passwd", kind),
    )
    with pytest.raises(ValueError, match="link or special file"):
        fetch_imdb("train", data_home=tmp_path)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda b: b[: len(b) // 2],  # interrupted copy
        lambda b: b[:-4],  # only the gzip trailer is cut
        lambda b: b[:200] + bytes([b[200] ^ 0xFF]) + b[201:],  # flipped byte
        lambda b: b"<html>Not found</html>",  # not a gzip file at all
    ],
    ids=["half", "trailer", "flipped-byte", "not-gzip"],
)
def test_corrupt_archive_gives_clear_error(tmp_path, no_network, corrupt):
    payload = make_imdb_archive(tmp_path / "ok.tar.gz").read_bytes()
    (tmp_path / datasets.IMDB_ARCHIVE_NAME).write_bytes(corrupt(payload))
    with pytest.raises(OSError, match="Could not read the IMDB archive.*truncated"):
        fetch_imdb("train", data_home=tmp_path)
    assert not (tmp_path / "imdb_cache" / "train.npz").exists()


def test_module_imports_only_allowed_packages():
    tree = ast.parse(Path(datasets.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            if root == "sklearn":
                assert name == "sklearn.utils", name
            roots.add(root)
    allowed = set(sys.stdlib_module_names) | {"numpy", "sklearn", "tqdm"}
    assert roots <= allowed, roots - allowed
    assert "pandas" not in roots


# --------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------


def test_cache_is_written_without_pickles_and_reused(data_home, no_network, no_parsing):
    first = fetch_imdb("train", data_home=data_home)
    cache = data_home / "imdb_cache"
    for subset in ("train", "test", "unsup"):  # one pass fills all subsets
        with np.load(cache / f"{subset}.npz", allow_pickle=False) as npz:
            assert all(npz[name].dtype != object for name in npz.files)

    no_parsing()
    for subset in ("train", "test", "unsup"):
        assert as_rows(fetch_imdb(subset, data_home=data_home)) == expected_subset(subset)
    assert as_rows(fetch_imdb("train", data_home=data_home)) == as_rows(first)


def test_cache_is_rebuilt_when_archive_changes(data_home, no_network):
    assert as_rows(fetch_imdb("test", data_home=data_home)) == expected_subset("test")
    archive = data_home / datasets.IMDB_ARCHIVE_NAME
    stat_before = archive.stat()
    make_imdb_archive(archive, version=2)
    # Same second or a coarse file system clock must not hide the change.
    os.utime(archive, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns + 10**9))

    assert as_rows(fetch_imdb("test", data_home=data_home)) == expected_subset(
        "test", version=2
    )


def test_cache_is_rebuilt_when_only_mtime_changes(data_home, no_network, monkeypatch):
    fetch_imdb("test", data_home=data_home)
    calls = []
    original = datasets._parse_imdb_archive
    monkeypatch.setattr(
        datasets,
        "_parse_imdb_archive",
        lambda path: calls.append(path) or original(path),
    )
    fetch_imdb("test", data_home=data_home)
    assert calls == []
    archive = data_home / datasets.IMDB_ARCHIVE_NAME
    os.utime(archive, ns=(0, archive.stat().st_mtime_ns + 10**9))
    fetch_imdb("test", data_home=data_home)
    assert len(calls) == 1


def test_corrupt_cache_is_rebuilt(data_home, no_network):
    fetch_imdb("train", data_home=data_home)
    (data_home / "imdb_cache" / "train.npz").write_bytes(b"not a zip file")
    assert as_rows(fetch_imdb("train", data_home=data_home)) == expected_subset("train")
    with np.load(data_home / "imdb_cache" / "train.npz", allow_pickle=False) as npz:
        assert len(npz["ids"]) == 12


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


def test_unwritable_cache_warns_and_still_loads(data_home, monkeypatch, no_network):
    def fail(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(datasets, "_save_cache", fail)
    with pytest.warns(RuntimeWarning, match="Could not write the parsed IMDB cache"):
        bunch = fetch_imdb("test", data_home=data_home)
    assert as_rows(bunch) == expected_subset("test")


# --------------------------------------------------------------------------
# n_samples
# --------------------------------------------------------------------------


def test_balanced_subsample_is_deterministic(data_home, no_network):
    full = as_rows(fetch_imdb("train", data_home=data_home))
    draws = []
    for seed in range(6):
        bunch = fetch_imdb("train", data_home=data_home, n_samples=4, random_state=seed)
        rows = as_rows(bunch)
        assert np.bincount(bunch.target).tolist() == [2, 2]
        assert set(rows) <= set(full)  # texts stay aligned with ids/targets
        assert rows == sorted(rows, key=lambda r: (r[0], r[1]))  # documented order
        again = fetch_imdb("train", data_home=data_home, n_samples=4, random_state=seed)
        assert as_rows(again) == rows
        draws.append(tuple(rows))
    assert len(set(draws)) > 1  # the seed matters

    rng_a = np.random.RandomState(3)
    rng_b = np.random.RandomState(3)
    a = fetch_imdb("train", data_home=data_home, n_samples=6, random_state=rng_a)
    b = fetch_imdb("train", data_home=data_home, n_samples=6, random_state=rng_b)
    assert as_rows(a) == as_rows(b)
    full_size = fetch_imdb("train", data_home=data_home, n_samples=12, random_state=0)
    assert as_rows(full_size) == full


def test_unsup_subsample(data_home, no_network):
    full = as_rows(fetch_imdb("unsup", data_home=data_home))
    bunch = fetch_imdb("unsup", data_home=data_home, n_samples=5, random_state=0)
    assert len(bunch.data) == 5  # odd is fine: no classes to balance
    assert set(as_rows(bunch)) <= set(full)
    with pytest.raises(ValueError, match="larger than the 8 reviews"):
        fetch_imdb("unsup", data_home=data_home, n_samples=9)


@pytest.mark.parametrize(
    "n_samples, error, match",
    [
        (3, ValueError, r"must be even.*pass 2 or 4"),
        (14, ValueError, r"7 reviews per class.*only 6.*at most 12"),
        (0, ValueError, "positive"),
        (-2, ValueError, "positive"),
        (4.0, TypeError, "float"),
        (True, TypeError, "bool"),
    ],
)
def test_bad_n_samples(data_home, no_network, n_samples, error, match):
    with pytest.raises(error, match=match):
        fetch_imdb("train", data_home=data_home, n_samples=n_samples)


# --------------------------------------------------------------------------
# the real archive
# --------------------------------------------------------------------------


def _real_imdb_source():
    candidates = []
    if os.environ.get("SKTRANSFER_DATA"):
        candidates.append(Path(os.environ["SKTRANSFER_DATA"]).expanduser())
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for folder in candidates:
        for name in (datasets.IMDB_ARCHIVE_NAME, datasets.IMDB_FOLDER_NAME):
            if (folder / name).exists():
                return folder / name, candidates
    return None, candidates


@pytest.mark.imdb
def test_real_imdb(request, tmp_path):
    source, candidates = _real_imdb_source()
    if source is None:
        pytest.skip(
            "IMDB archive not found: looked for aclImdb_v1.tar.gz or aclImdb/ in "
            + ", ".join(str(c) for c in candidates)
            + "; set SKTRANSFER_DATA to the folder that holds it."
        )
    # Link the source into pytest's persistent cache folder, so that the
    # parsed cache survives between sessions (the reload is fast) and nothing
    # is written next to the shared data.
    cache = getattr(request.config, "cache", None)
    home = Path(cache.mkdir("sktransfer_imdb")) if cache is not None else tmp_path
    link = home / source.name
    if link.is_symlink() and Path(os.readlink(link)) != source.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(source.resolve())

    start = time.perf_counter()
    sizes = {}
    for subset, expected in (("train", 25_000), ("test", 25_000), ("unsup", 50_000)):
        bunch = fetch_imdb(subset, data_home=home, download_if_missing=False)
        sizes[subset] = len(bunch.data)
        assert len(bunch.data) == len(bunch.target) == len(bunch.ids) == expected
        if subset == "unsup":
            assert set(bunch.target.tolist()) == {-1}
            assert set(bunch.ratings.tolist()) == {0}
        else:
            assert np.bincount(bunch.target).tolist() == [12_500, 12_500]
            assert set(bunch.ratings[bunch.target == 0].tolist()) == {1, 2, 3, 4}
            assert set(bunch.ratings[bunch.target == 1].tolist()) == {7, 8, 9, 10}
            for label in (0, 1):
                ids = bunch.ids[bunch.target == label]
                assert len(np.unique(ids)) == 12_500
                assert np.all(np.diff(ids) > 0)
        assert all(text.strip() for text in bunch.data)
        assert any("<br />" in text for text in bunch.data)
    elapsed = time.perf_counter() - start

    sub = fetch_imdb("train", data_home=home, n_samples=1000, random_state=0)
    assert np.bincount(sub.target).tolist() == [500, 500]

    start = time.perf_counter()
    fetch_imdb("train", data_home=home)
    reload = time.perf_counter() - start
    print(f"real IMDB: 3 subsets in {elapsed:.2f}s, cached reload of train {reload:.2f}s")
    assert reload < 5, f"cached reload of train took {reload:.1f}s"


# --------------------------------------------------------------------------
# load_text_dataset
# --------------------------------------------------------------------------


def write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


def test_load_csv(tmp_path):
    path = write(
        tmp_path / "reviews.csv",
        "\ufeffid,review,sentiment\n"
        '1,"Good, really good.\nTwo lines",positive\n'
        "2,Bad <br /> film,negative\n"
        "\n"
        "3,  Fine  ,1\n",
    )
    bunch = load_text_dataset(path, "review", "sentiment")
    assert bunch.data == ["Good, really good.\nTwo lines", "Bad <br /> film", "  Fine  "]
    assert bunch.target.tolist() == ["positive", "negative", "1"]  # kept as strings
    assert bunch.target.dtype.kind == "U"
    assert bunch.target_names == ["1", "negative", "positive"]
    assert bunch.filename == str(path)
    X, y = load_text_dataset(path, "review", "sentiment", return_X_y=True)
    assert X == bunch.data and y.tolist() == bunch.target.tolist()


def test_load_tsv(tmp_path):
    path = write(tmp_path / "reviews.TSV", "text\tlabel\nhello, world\t0\nbye\t1\n")
    bunch = load_text_dataset(path, "text", "label")
    assert bunch.data == ["hello, world", "bye"]
    assert bunch.target.tolist() == ["0", "1"]


def test_load_jsonl(tmp_path):
    path = write(
        tmp_path / "reviews.jsonl",
        '{"text": "héllo", "label": 1, "other": null}\n'
        "\n"
        '{"text": "bye\\nnow", "label": 0}\n',
    )
    bunch = load_text_dataset(path, "text", "label")
    assert bunch.data == ["héllo", "bye\nnow"]
    assert bunch.target.tolist() == [1, 0]
    assert bunch.target.dtype.kind == "i"
    assert bunch.target_names == [0, 1]
    strings = write(tmp_path / "s.jsonl", '{"t": "a", "y": "pos"}\n{"t": "b", "y": "neg"}\n')
    assert load_text_dataset(strings, "t", "y").target.tolist() == ["pos", "neg"]


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_text_dataset(tmp_path / "nope.csv", "text", "label")


def test_load_unknown_extension(tmp_path):
    path = write(tmp_path / "reviews.xlsx", "text,label\na,b\n")
    with pytest.raises(ValueError, match=r"'\.xlsx'") as info:
        load_text_dataset(path, "text", "label")
    for ext in (".csv", ".tsv", ".jsonl"):
        assert ext in str(info.value)


@pytest.mark.parametrize(
    "name, content, column",
    [
        ("a.csv", "body,label\nx,1\n", "text"),
        ("a.csv", "text,y\nx,1\n", "label"),
        ("a.tsv", "body\tlabel\nx\t1\n", "text"),
    ],
)
def test_load_missing_column_lists_available(tmp_path, name, content, column):
    path = write(tmp_path / name, content)
    with pytest.raises(ValueError, match=f"no column '{column}'") as info:
        load_text_dataset(path, "text", "label")
    header = content.splitlines()[0].replace("\t", ",").split(",")
    assert str(header) in str(info.value)


def test_load_csv_with_wrong_delimiter_hints(tmp_path):
    path = write(tmp_path / "a.csv", "text;label\nx;1\n")
    with pytest.raises(ValueError, match="delimiter"):
        load_text_dataset(path, "text", "label")


def test_load_jsonl_missing_field(tmp_path):
    path = write(tmp_path / "a.jsonl", '{"text": "a", "label": 1}\n{"body": "b", "label": 0}\n')
    with pytest.raises(ValueError, match=r"line 2: no field 'text'.*\['body', 'label'\]"):
        load_text_dataset(path, "text", "label")


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("a.csv", "", "is empty"),
        ("a.csv", "text,label\n", "has no rows"),
        ("a.csv", "text,label\n\n\n", "has no rows"),
        ("a.jsonl", "", "has no rows"),
        ("a.jsonl", "\n  \n", "has no rows"),
    ],
)
def test_load_empty_file(tmp_path, name, content, match):
    with pytest.raises(ValueError, match=match):
        load_text_dataset(write(tmp_path / name, content), "text", "label")


@pytest.mark.parametrize(
    "name, content, match",
    [
        # line numbers count physical lines, including a quoted multi-line text
        ("a.csv", 'text,label\n"two\nlines",1\n,0\n', r"line 4: the text \('text'\)"),
        ("a.csv", "text,label\na,1\nb,\n", r"line 3: the label \('label'\)"),
        ("a.csv", "text,label\na,1\n   ,0\n", r"line 3: the text"),
        ("a.csv", "text,label\na,1\nb\n", r"line 3: the row has 1 fields but the header has 2"),
        ("a.csv", "text,label\na,1,extra\n", r"line 2: the row has 3 fields"),
        ("a.jsonl", '{"text": "a", "label": 1}\n\n{"text": "", "label": 1}\n', r"line 3: the text"),
        ("a.jsonl", '{"text": "a", "label": null}\n', r"line 1: the label"),
        (
            "a.jsonl",
            '{"text": "a", "label": 1}\n{"text": 5, "label": 1}\n',
            r"line 2: .*must be a string",
        ),
        ("a.jsonl", '{"text": "a", "label": [1]}\n', r"line 1: .*string or a number"),
        (
            "a.jsonl",
            '{"text": "a", "label": 1}\n{"text": "b", "label": "1"}\n',
            r"line 2: .*str but the label on line 1 is a int",
        ),
        ("a.jsonl", '{"text": "a", "label": 1}\n{"text": "b"\n', r"line 2: not valid JSON"),
        ("a.jsonl", '["a", 1]\n', r"line 1: expected a JSON object"),
    ],
)
def test_load_bad_rows_name_the_line(tmp_path, name, content, match):
    with pytest.raises(ValueError, match=match):
        load_text_dataset(write(tmp_path / name, content), "text", "label")


def test_load_duplicate_column(tmp_path):
    path = write(tmp_path / "a.csv", "text,label,text\na,1,b\n")
    with pytest.raises(ValueError, match="2 columns named 'text'"):
        load_text_dataset(path, "text", "label")


def test_load_not_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("text,label\ncaf\u00e9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not valid UTF-8"):
        load_text_dataset(path, "text", "label")


def test_imdb_pretraining_corpus_is_unsup_and_train_without_test(data_home, no_network):
    corpus = datasets.imdb_pretraining_corpus(data_home=data_home)
    n_train = len(TINY_LAYOUT[("train", "neg")]) + len(TINY_LAYOUT[("train", "pos")])
    assert len(corpus) == len(TINY_LAYOUT[("train", "unsup")]) + n_train
    assert all(doc.startswith(("train unsup", "train neg", "train pos")) for doc in corpus)
    assert not any("test" in doc.split()[0] for doc in corpus)
    assert not any("<br" in doc for doc in corpus)
    assert "review 0 v1.  Café" in corpus[0]  # each <br /> became one space
