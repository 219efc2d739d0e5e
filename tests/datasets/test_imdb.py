"""fetch_imdb on tiny archives in the official layout, a loopback download and, marked
``imdb``, the real archive: reading, downloading, safety, the parsed cache, subsampling."""

import hashlib
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from sktransfer.datasets import fetch_imdb, imdb

from .tiny_imdb import TINY_LAYOUT, add_bytes, as_rows, expected_subset, make_imdb_archive

REPO_ROOT = Path(__file__).resolve().parents[2]


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
    monkeypatch.setattr(imdb, "IMDB_SHA256", "0" * 64)
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
    make_imdb_archive(tmp_path / imdb.IMDB_ARCHIVE_NAME, layout=layout)
    assert len(fetch_imdb("train", data_home=tmp_path).data) == 12
    with pytest.raises(OSError, match=r"no reviews for subset='test'"):
        fetch_imdb("test", data_home=tmp_path)


# --------------------------------------------------------------------------
# download from a loopback HTTP server
# --------------------------------------------------------------------------


def test_download_with_good_checksum(http_server, tmp_path, monkeypatch):
    served, base_url = http_server
    archive = make_imdb_archive(served / "imdb.tar.gz")
    payload = archive.read_bytes()
    monkeypatch.setattr(imdb, "IMDB_URL", f"{base_url}/imdb.tar.gz")
    monkeypatch.setattr(imdb, "IMDB_SHA256", hashlib.sha256(payload).hexdigest())
    home = tmp_path / "home"

    bunch = fetch_imdb("train", data_home=home)

    assert as_rows(bunch) == expected_subset("train")
    assert (home / imdb.IMDB_ARCHIVE_NAME).read_bytes() == payload
    assert not [p for p in home.iterdir() if ".part" in p.name]
    # Downloaded once: the next call must not go to the network again.
    archive.unlink()
    assert len(fetch_imdb("unsup", data_home=home).data) == 8


def test_download_with_bad_checksum_leaves_nothing(http_server, tmp_path, monkeypatch):
    served, base_url = http_server
    make_imdb_archive(served / "imdb.tar.gz")
    monkeypatch.setattr(imdb, "IMDB_URL", f"{base_url}/imdb.tar.gz")
    monkeypatch.setattr(imdb, "IMDB_SHA256", "0" * 64)
    home = tmp_path / "home"

    with pytest.raises(OSError, match="SHA-256") as info:
        fetch_imdb("train", data_home=home)

    assert "0" * 64 in str(info.value) and base_url in str(info.value)
    assert list(home.iterdir()) == []
    with pytest.raises(OSError, match="not found"):
        fetch_imdb("train", data_home=home, download_if_missing=False)


def test_download_http_error(http_server, tmp_path, monkeypatch):
    _, base_url = http_server
    monkeypatch.setattr(imdb, "IMDB_URL", f"{base_url}/missing.tar.gz")
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
    make_imdb_archive(home / imdb.IMDB_ARCHIVE_NAME, extra=extra)
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
        tmp_path / imdb.IMDB_ARCHIVE_NAME,
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
    (tmp_path / imdb.IMDB_ARCHIVE_NAME).write_bytes(corrupt(payload))
    with pytest.raises(OSError, match="Could not read the IMDB archive.*truncated"):
        fetch_imdb("train", data_home=tmp_path)
    assert not (tmp_path / "imdb_cache" / "train.npz").exists()


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
    archive = data_home / imdb.IMDB_ARCHIVE_NAME
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
    original = imdb._parse_imdb_archive
    monkeypatch.setattr(
        imdb,
        "_parse_imdb_archive",
        lambda path: calls.append(path) or original(path),
    )
    fetch_imdb("test", data_home=data_home)
    assert calls == []
    archive = data_home / imdb.IMDB_ARCHIVE_NAME
    os.utime(archive, ns=(0, archive.stat().st_mtime_ns + 10**9))
    fetch_imdb("test", data_home=data_home)
    assert len(calls) == 1


def test_corrupt_cache_is_rebuilt(data_home, no_network):
    fetch_imdb("train", data_home=data_home)
    (data_home / "imdb_cache" / "train.npz").write_bytes(b"not a zip file")
    assert as_rows(fetch_imdb("train", data_home=data_home)) == expected_subset("train")
    with np.load(data_home / "imdb_cache" / "train.npz", allow_pickle=False) as npz:
        assert len(npz["ids"]) == 12


def test_unwritable_cache_warns_and_still_loads(data_home, monkeypatch, no_network):
    def fail(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(imdb, "_save_cache", fail)
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
        for name in (imdb.IMDB_ARCHIVE_NAME, imdb.IMDB_FOLDER_NAME):
            if (folder / name).exists():
                return folder / name, candidates
    return None, candidates


@pytest.mark.imdb
def test_real_imdb(request, tmp_path, no_parsing):
    source, candidates = _real_imdb_source()
    if source is None:
        pytest.skip(
            "IMDB archive not found: looked for aclImdb_v1.tar.gz or aclImdb/ in "
            + ", ".join(str(c) for c in candidates)
            + "; set SKTRANSFER_DATA to the folder that holds it."
        )
    # Link the source into pytest's persistent cache folder, so that the
    # parsed cache survives between sessions (the reload is fast) and nothing
    # is written next to the shared data. How fast the cached reload is:
    # benchmarks/bench_imdb_reload.py.
    cache = getattr(request.config, "cache", None)
    home = Path(cache.mkdir("sktransfer_imdb")) if cache is not None else tmp_path
    link = home / source.name
    if link.is_symlink() and Path(os.readlink(link)) != source.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(source.resolve())

    for subset, expected in (("train", 25_000), ("test", 25_000), ("unsup", 50_000)):
        bunch = fetch_imdb(subset, data_home=home, download_if_missing=False)
        if subset == "train":
            train = bunch
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

    sub = fetch_imdb("train", data_home=home, n_samples=1000, random_state=0)
    assert np.bincount(sub.target).tolist() == [500, 500]

    # The reload comes from the parsed cache (in the data home, or the user's cache folder
    # when an earlier run cached the same archive there): parsing the source again would fail.
    no_parsing()
    reloaded = fetch_imdb("train", data_home=home, download_if_missing=False)
    assert reloaded.data == train.data
    for name in ("target", "ids", "ratings"):
        np.testing.assert_array_equal(reloaded[name], train[name])
