"""Earlier results files on the same protocol, for the benchmarks that extend them (``--previous``).

A benchmark that adds rows to an earlier ``results.json`` (a new model beside the reference rows
of a previous run) must refuse a file measured on other data, and must keep the settings
``compare`` recorded when it joins the two tables. Imported by the scripts as ``_previous`` (the
folder of a script run as ``python benchmarks/x.py`` is on ``sys.path``).
"""

import pandas as pd

from sktransfer.reporting import read_results

_UNORDERED = ("train_sizes", "seeds")  # lists whose order does not matter


def read_previous(path, expected):
    """The rows of an earlier ``results.json``; exits unless its metadata has the ``expected`` values.

    ``expected`` maps metadata keys to this run's values; ``train_sizes`` and ``seeds`` are
    compared as sorted lists.
    """
    frame = read_results(path)
    meta = frame.attrs["metadata"]
    found = {k: (sorted(meta.get(k) or []) if k in _UNORDERED else meta.get(k)) for k in expected}
    wanted = {k: (sorted(v) if k in _UNORDERED else v) for k, v in expected.items()}
    if found != wanted:
        raise SystemExit(f"--previous {path} was run with {found}, this run with {wanted}")
    return frame


def with_rows(results, rows):
    """``rows`` (earlier results) followed by ``results``, in ``results``' columns, keeping its settings (``attrs``)."""
    attrs = results.attrs
    joined = pd.concat([rows[results.columns], results], ignore_index=True)
    joined.attrs = attrs
    return joined
