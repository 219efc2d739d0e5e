"""Text for language-model pretraining, drawn from IMDB without its test split."""

from __future__ import annotations

import re

from .imdb import fetch_imdb

__all__ = ["imdb_pretraining_corpus"]

_BR_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


def imdb_pretraining_corpus(data_home=None, *, download_if_missing=True):
    """IMDB's text for language-model pretraining: the unlabelled reviews plus the training reviews.

    The test split is never included, so a model pretrained on this corpus can be evaluated on
    IMDB's test set without leakage. HTML line breaks (``<br />``) become spaces.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`fetch_imdb`.
    download_if_missing : bool, default=True

    Returns
    -------
    list of str
        75,000 documents: ``train/unsup`` first, then ``train/neg`` and ``train/pos``.
    """
    documents = []
    for subset in ("unsup", "train"):
        bunch = fetch_imdb(subset, data_home=data_home, download_if_missing=download_if_missing)
        documents.extend(_BR_TAG.sub(" ", text) for text in bunch.data)
    return documents
