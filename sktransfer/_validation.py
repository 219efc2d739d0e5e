"""Input checks shared by every sktransfer estimator.

Texts come in many containers (list, tuple, ndarray, pandas Series, a one-column DataFrame from
``ColumnTransformer``). Whatever the container, an estimator sees a plain ``list`` of ``str`` in the
original order, or an error that says what was wrong and how to fix it. Rows are never dropped,
reordered or silently converted.
"""

import numbers

import numpy as np

__all__ = ["TextInputMixin", "check_texts", "check_token_lists"]



class TextInputMixin:
    """Declares in scikit-learn's tags that ``X`` is a 1-D sequence of strings.

    sklearn's estimator checks read the tags to pick their inputs; every sktransfer estimator
    takes raw texts, so each inherits this (before ``BaseEstimator``).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


# How many offending positions an error message lists before it stops.
_MAX_REPORTED = 5


def _describe(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_sequence(X, what):
    """Return ``X`` as a 1-D sequence of rows, or raise a ValueError/TypeError that explains why not."""
    if X is None:
        raise TypeError(f"Expected {what}, got None.")
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"Expected {what}, got a single {type(X).__name__} ({_describe(X)}). "
            "Wrap one text in a list: [text]."
        )
    # pandas objects are recognised by duck typing so that pandas stays an optional dependency.
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected {what} or a DataFrame with exactly one text column, got a DataFrame with "
                f"{X.shape[1]} columns {list(X.columns)[:10]}. Select the text column, e.g. df['text'], "
                "or use a ColumnTransformer with a single column."
            )
        return list(X.iloc[:, 0])
    if hasattr(X, "iloc"):  # Series
        return list(X)
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            # ColumnTransformer hands a single selected column over as an (n, 1) array.
            return list(X[:, 0])
        if X.ndim != 1:
            raise ValueError(
                f"Expected {what} as a 1-D array (or an (n_samples, 1) column), got an array of shape "
                f"{X.shape}. Pass one text per row, e.g. X.ravel() if each row holds one text."
            )
        return list(X)
    if hasattr(X, "__array__") and hasattr(X, "shape"):  # other array-likes, e.g. from polars
        return _as_sequence(np.asarray(X, dtype=object), what)
    try:
        return list(X)
    except TypeError:
        raise TypeError(f"Expected {what}, got {type(X).__name__}, which is not iterable.") from None


def _is_missing(value):
    return value is None or (isinstance(value, numbers.Real) and value != value)  # NaN != NaN


def check_texts(X, *, estimator=None):
    """Validate a collection of texts and return it as a list of ``str`` in input order.

    Parameters
    ----------
    X : list, tuple, ndarray, pandas Series or one-column DataFrame of str
        The texts. A 2-D array or DataFrame is accepted only when it has exactly one column.
    estimator : object, optional
        Used in error messages.

    Returns
    -------
    texts : list of str

    Raises
    ------
    TypeError
        For a bare string, None, a non-iterable, or any item that is not a ``str``
        (None, NaN, numbers, bytes, ...). The message lists the offending positions.
    ValueError
        For an empty collection or a 2-D input with more than one column.
    """
    who = f"{type(estimator).__name__} " if estimator is not None else ""
    texts = _as_sequence(X, "an iterable of texts (list of str)")
    if not texts:
        raise ValueError(f"{who}received 0 texts; at least one text is required.")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        shown = ", ".join(f"[{i}]={_describe(texts[i])} ({type(texts[i]).__name__})" for i in bad[:_MAX_REPORTED])
        more = f" and {len(bad) - _MAX_REPORTED} more" if len(bad) > _MAX_REPORTED else ""
        hint = (
            " Missing values must be handled before vectorizing, e.g. series.fillna('')."
            if any(_is_missing(texts[i]) for i in bad)
            else " Convert them first, e.g. [str(x) for x in X], if that is what you mean."
        )
        raise TypeError(f"{who}expects every text to be a str; {len(bad)} item(s) are not: {shown}{more}.{hint}")
    return [str(t) for t in texts]  # str subclasses (e.g. numpy.str_) become plain str


def check_token_lists(X, *, estimator=None):
    """Validate pre-tokenized input: a collection of token lists, each a list of ``str``.

    Returns
    -------
    token_lists : list of list of str
    """
    who = f"{type(estimator).__name__} " if estimator is not None else ""
    rows = _as_sequence(X, "an iterable of token lists")
    if not rows:
        raise ValueError(f"{who}received 0 texts; at least one text is required.")
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
            raise TypeError(f"{who}expects every row to be a list of tokens; row [{i}] is {_describe(row)}.")
        tokens = list(row)
        for j, tok in enumerate(tokens):
            if not isinstance(tok, str):
                raise TypeError(
                    f"{who}expects tokens to be str; row [{i}] token [{j}] is {_describe(tok)} ({type(tok).__name__})."
                )
        out.append([str(t) for t in tokens])
    return out
