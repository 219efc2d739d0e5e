"""A user's own labelled texts: :func:`load_text_dataset` reads CSV, TSV or JSON Lines files.

Only the standard library, NumPy and ``sklearn.utils`` are imported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_text_dataset"]

_SUPPORTED_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".jsonl": None}


def _is_blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _read_delimited(path, delimiter, text_column, label_column):
    """Yield ``(line_number, text, label)`` from a CSV/TSV file with a header."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise ValueError(
                f"{path} is empty: expected a header line naming the columns "
                f"(including {text_column!r} and {label_column!r}) followed "
                "by one row per text."
            )
        for column in (text_column, label_column):
            if column not in header:
                raise ValueError(
                    f"{path} has no column {column!r}; its columns are "
                    f"{header}. Pass one of these as text_column/label_column"
                    + (
                        ", or check the delimiter (.csv files must use ',' "
                        "and .tsv files tabs)."
                        if len(header) == 1
                        else "."
                    )
                )
            if header.count(column) > 1:
                raise ValueError(
                    f"{path} has {header.count(column)} columns named "
                    f"{column!r}; rename them so the one to use is unique."
                )
        text_idx, label_idx = header.index(text_column), header.index(label_column)
        line = reader.line_num + 1
        for row in reader:
            if not row:  # blank line
                line = reader.line_num + 1
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}, line {line}: the row has {len(row)} fields but "
                    f"the header has {len(header)}; fix the row (quote fields "
                    "that contain the delimiter)."
                )
            yield line, row[text_idx], row[label_idx]
            line = reader.line_num + 1


def _read_jsonl(path, text_column, label_column):
    """Yield ``(line_number, text, label)`` from a JSON Lines file."""
    with open(path, encoding="utf-8-sig") as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}, line {line_number}: not valid JSON ({exc}); each "
                    "line of a .jsonl file must hold one JSON object."
                ) from exc
            if not isinstance(record, dict):
                raise ValueError(
                    f"{path}, line {line_number}: expected a JSON object such "
                    f'as {{"{text_column}": "...", "{label_column}": ...}}, '
                    f"got a {type(record).__name__}."
                )
            for column in (text_column, label_column):
                if column not in record:
                    raise ValueError(
                        f"{path}, line {line_number}: no field {column!r}; "
                        f"the fields there are {list(record)}. Pass one of "
                        "these as text_column/label_column, or add the field."
                    )
            text, label = record[text_column], record[label_column]
            if text is not None and not isinstance(text, str):
                raise ValueError(
                    f"{path}, line {line_number}: the text field "
                    f"{text_column!r} must be a string, got "
                    f"{type(text).__name__} {text!r}."
                )
            if label is not None and not isinstance(label, (str, int, float)):
                raise ValueError(
                    f"{path}, line {line_number}: the label field "
                    f"{label_column!r} must be a string or a number, got "
                    f"{type(label).__name__} {label!r}."
                )
            yield line_number, text, label



def load_text_dataset(path, text_column, label_column, *, return_X_y=False):
    """Load labelled texts from a CSV, TSV or JSON Lines file.

    Parameters
    ----------
    path : str or path-like
        The file, UTF-8 encoded (a byte order mark is allowed). Its extension
        selects the format:

        - ``.csv``: comma-separated values with a header line (quoting as in
          :mod:`csv`, so texts may contain commas and newlines if quoted);
        - ``.tsv``: the same with tabs;
        - ``.jsonl``: one JSON object per line; blank lines are skipped.

    text_column : str
        Name of the column (CSV/TSV) or field (JSON Lines) holding the texts.

    label_column : str
        Name of the column or field holding the labels.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        With attributes:

        data : list of str
            The texts, unchanged.
        target : ndarray of shape (n_samples,)
            The labels as they are in the file, not encoded: in a CSV/TSV
            file they are strings (``"1"`` stays ``"1"``); in a JSON Lines
            file they keep their JSON type (strings, ints, floats or
            booleans), which must be the same on every line.
        target_names : list
            The distinct labels, sorted.
        filename : str
            The path of the file.

    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the extension is not supported, a column is missing, the file has
        no rows, a row has an empty or missing text or label (the message
        gives its line number), or the labels mix types.

    Examples
    --------
    >>> from sktransfer.datasets import load_text_dataset
    >>> ds = load_text_dataset("reviews.csv", "review", "sentiment")  # doctest: +SKIP
    >>> ds.data[0], ds.target[0]  # doctest: +SKIP
    ('A fine film.', 'positive')
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No such file: {path} (absolute: {path.absolute()}) does not exist "
            "or is not a regular file. Check the path."
        )
    extension = path.suffix.lower()
    if extension not in _SUPPORTED_EXTENSIONS:
        raise ValueError(
            f"Cannot read {path}: unsupported extension {path.suffix!r}. "
            f"Supported: {sorted(_SUPPORTED_EXTENSIONS)} (comma-separated, "
            "tab-separated or JSON Lines); rename or convert the file."
        )

    if extension == ".jsonl":
        rows = _read_jsonl(path, text_column, label_column)
    else:
        rows = _read_delimited(
            path, _SUPPORTED_EXTENSIONS[extension], text_column, label_column
        )

    data, labels = [], []
    label_type = None
    try:
        for line_number, text, label in rows:
            for value, column, what in (
                (text, text_column, "text"),
                (label, label_column, "label"),
            ):
                if _is_blank(value):
                    raise ValueError(
                        f"{path}, line {line_number}: the {what} ({column!r}) "
                        "is missing or empty. Fill it in or remove the row."
                    )
            if label_type is None:
                label_type, first_line = type(label), line_number
            elif type(label) is not label_type:
                raise ValueError(
                    f"{path}, line {line_number}: the label {label!r} is a "
                    f"{type(label).__name__} but the label on line "
                    f"{first_line} is a {label_type.__name__}; use one type "
                    "for all labels."
                )
            data.append(text)
            labels.append(label)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not valid UTF-8 ({exc}); save it as UTF-8."
        ) from exc

    if not data:
        raise ValueError(
            f"{path} has no rows: expected at least one "
            + ("line with a JSON object." if extension == ".jsonl" else "row after the header.")
        )

    target = np.asarray(labels)
    target_names = np.unique(target).tolist()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        filename=str(path),
    )
