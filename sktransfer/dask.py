"""Bulk embedding of a partitioned corpus on a dask cluster (``pip install 'sktransfer[dask]'``).

:func:`embed_partitions` turns a dask collection of texts (a ``dask.bag.Bag`` or a dask
DataFrame column) into a dask array of their vectors, one partition per task. Only the
vectorizer's parameters travel to the workers, never model weights: each worker process fits
its own copy once and keeps it for every later partition (and run) with the same parameters,
and the model itself is loaded once per process (:mod:`sktransfer._model_memo`). With the
vectorizer's ``cache`` set to a folder every worker can reach, vectors computed once are read
back by every later run, on any worker.

GridSearchCV and cross_val_score need nothing from this module: run them under
``joblib.parallel_backend("dask")`` with a ``dask.distributed.Client`` connected (see
``docs/scaling.md``).

dask is imported only when :func:`embed_partitions` is called.
"""

import threading
from collections import OrderedDict

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import clone

from ._optional import import_optional

__all__ = ["embed_partitions", "embed_partition"]

# Fitted vectorizers of this worker process, by parameters: as few as the model memo keeps models.
_MAX_FITTED = 2
_lock = threading.Lock()
_fitted = OrderedDict()


def _worker_vectorizer(template, texts):
    """The fitted copy of ``template`` in this process (fitted on first use, then reused)."""
    key = joblib_hash((type(template).__module__, type(template).__qualname__, template.get_params(deep=False)))
    with _lock:  # several threads of one worker: one fit, the others wait for it
        vectorizer = _fitted.get(key)
        if vectorizer is None:
            # A frozen vectorizer learns nothing from its fit texts; they are only validated.
            vectorizer = clone(template).fit(texts)
            _fitted[key] = vectorizer
            while len(_fitted) > _MAX_FITTED:
                _fitted.popitem(last=False)
        _fitted.move_to_end(key)
    return vectorizer


def embed_partition(vectorizer, texts):
    """The vectors of one partition's texts, by this process's fitted copy of ``vectorizer``.

    The task :func:`embed_partitions` runs on a worker; usable directly, e.g. with
    ``dask.dataframe.Series.map_partitions`` or ``dask.bag.Bag.map_partitions``.

    Parameters
    ----------
    vectorizer : BertVectorizer or ELMoVectorizer
        Only its parameters are used (fitted or not).
    texts : list or pandas Series of str
        One partition.

    Returns
    -------
    ndarray of shape (len(texts), n_features_out_), dtype float32
    """
    texts = list(texts)
    fitted = _worker_vectorizer(vectorizer, texts or [""])
    if not texts:
        return np.empty((0, fitted.n_features_out_), dtype=np.float32)
    return fitted.transform(texts)


def embed_partitions(texts, vectorizer):
    """Embed a dask collection of texts on the cluster: a lazy dask array, rows in input order.

    Parameters
    ----------
    texts : dask.bag.Bag or dask.dataframe.Series of str
        The corpus, partitioned (anything whose ``to_delayed()`` gives one sequence of texts per
        partition).
    vectorizer : BertVectorizer or ELMoVectorizer
        Its parameters define the vectors (a fitted vectorizer is cloned: its model is not
        shipped). Set ``cache`` to a folder every worker can reach to keep the vectors across
        runs; set ``device`` as the workers should use it.

    Returns
    -------
    dask.array.Array of shape (n_texts, n_features_out_), dtype float32
        One chunk per partition (row counts unknown until computed). ``.compute()`` gives the
        vectors in the order of ``texts``; ``dask.array.to_npy_stack`` or ``to_zarr`` write them
        without gathering them on the client.

    Raises
    ------
    MissingDependencyError
        When dask is not installed (``pip install 'sktransfer[dask]'``).
    TypeError
        When ``texts`` is not a partitioned dask collection.

    Examples
    --------
    >>> import dask.bag as db  # doctest: +SKIP
    >>> from dask.distributed import Client
    >>> client = Client("tcp://scheduler:8786")
    >>> texts = db.from_sequence(corpus, npartitions=64)
    >>> X = embed_partitions(texts, BertVectorizer(cache="/shared/sktransfer-cache")).compute()
    """
    purpose = "sktransfer.dask.embed_partitions (bulk embedding on a dask cluster)"
    dask = import_optional("dask", extra="dask", purpose=purpose)
    da = import_optional("dask.array", extra="dask", purpose=purpose)
    if not hasattr(texts, "to_delayed") or not hasattr(texts, "npartitions"):
        raise TypeError(
            f"texts must be a dask.bag.Bag or a dask DataFrame column of str, got {type(texts).__name__}. "
            "Partition a list first, e.g. dask.bag.from_sequence(texts, npartitions=...)."
        )
    template = clone(vectorizer)
    task = dask.delayed(embed_partition, pure=True)
    chunks = [
        da.from_delayed(task(template, part), shape=(np.nan, np.nan), dtype=np.float32) for part in texts.to_delayed()
    ]
    return da.concatenate(chunks, axis=0, allow_unknown_chunksizes=True)
