"""A tiny IMDB archive in the official layout, and what fetch_imdb must return for it."""

import io
import tarfile
from pathlib import Path

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
