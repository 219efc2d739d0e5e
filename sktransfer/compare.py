"""Compare transfer-learning strategies on learning curves: accuracy against labelled examples.

:func:`compare` fits every strategy (a plain scikit-learn estimator, a Pipeline or a
:class:`~sklearn.model_selection.GridSearchCV`) on stratified subsamples of the training set,
for several training sizes and seeds, and scores it on a fixed test set. All strategies see the
same subsample for a given ``(n_train, seed)``. :func:`default_strategies` returns the
strategies of the paper-style comparison: TF-IDF, frozen ELMo and BERT features, BERT
fine-tuning, and the random-weight (``pretrained=False``) twin of each transfer strategy, as
registered in :data:`sktransfer.strategies.REGISTRY`.

The reporting functions (:func:`summarize`, :func:`format_table`, :func:`plot_learning_curve`,
:func:`write_results`, :func:`read_results`) live in :mod:`sktransfer.reporting` and are re-exported here.

pandas and matplotlib are optional (``pip install 'sktransfer[compare]'``) and imported only
when needed.
"""

from __future__ import annotations

import json
import numbers
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from ._optional import import_optional
from .reporting import (
    RESULT_COLUMNS,
    format_table,
    plain_history,
    plot_learning_curve,
    plot_training_curves,
    read_results,
    reusable_runs,
    summarize,
    training_summary,
    write_results,
)
from .strategies import (
    REGISTRY,
    StrategySettings,
    elmo_unavailable_reason,
    resolve_profile,
)

__all__ = [
    "DEFAULT_STRATEGY_NAMES",
    "RESULT_COLUMNS",
    "STRATEGY_DESCRIPTIONS",
    "compare",
    "default_strategies",
    "draw_subsample",
    "elmo_unavailable_reason",
    "format_table",
    "plot_learning_curve",
    "plot_training_curves",
    "read_results",
    "seed_estimator",
    "summarize",
    "training_history",
    "training_summary",
    "write_results",
]

#: Names of the default strategies, in table order. ``*-random`` is the ``pretrained=False`` twin.
DEFAULT_STRATEGY_NAMES = tuple(REGISTRY.names())

#: One line per default strategy, for help texts.
STRATEGY_DESCRIPTIONS = REGISTRY.descriptions()


def _pandas(purpose):
    return import_optional("pandas", extra="compare", purpose=purpose)


# --------------------------------------------------------------------------------------------
# default strategies
# --------------------------------------------------------------------------------------------


def default_strategies(
    *,
    quick=False,
    names=None,
    bert_model=None,
    elmo_files=None,
    max_length=None,
    epochs=None,
    lr=None,
    cache=None,
    head_epochs=None,
):
    """The default strategies: TF-IDF, frozen ELMo/BERT features, heads on ELMo and BERT fine-tuning.

    Built from :data:`sktransfer.strategies.REGISTRY`. Every transfer strategy comes with its
    ``pretrained=False`` twin (same architecture, random weights), named with a ``-random``
    suffix, so the table shows what pretraining buys. The ELMo strategies are left out, with a
    :class:`UserWarning` that says why, when no ELMo model is available (see
    :func:`~sktransfer.strategies.elmo_unavailable_reason`).

    Parameters
    ----------
    quick : bool, default=False
        Use the settings of the quick profile (``PROFILES["quick"]``: shorter texts,
        ``max_length=128`` instead of 256) for those not given explicitly.
    names : iterable of str or None, default=None
        Only these strategies (registered names, see :data:`DEFAULT_STRATEGY_NAMES`), in this
        order. None: all.
    bert_model : str or None, default=None
        ``model_name_or_path`` of the BERT strategies; None keeps the estimators' default
        (all-MiniLM-L6-v2).
    elmo_files : tuple of (str, str) or None, default=None
        ``(options_file, weight_file)`` of the ELMo strategies. None uses ``ELMoVectorizer()``'s
        default model when there is one.
    max_length : int or None, default=None
        Tokens kept per text: BERT word pieces, or ELMo words (``max_tokens``). None: the
        profile's, 256, or 128 when ``quick``.
    epochs : int or None, default=None
        Fine-tuning epochs. None: the profile's, 3.
    lr : float or None, default=None
        Fine-tuning learning rate. None: 1e-4 (higher than the usual 2e-5, which suits larger
        training sets).
    cache : str, path-like, joblib.Memory or None, default=None
        Feature cache of the vectorizers, passed only to those that have a ``cache`` parameter.
    head_epochs : int or None, default=None
        Epochs of the heads trained on token vectors (``*-head-*``) on their validation split,
        before each is trained again on every text for its best epoch count. None: 20.

    Returns
    -------
    strategies : dict of str -> estimator
        Unfitted estimators, in table order. :func:`compare` sets their ``random_state``.

    Raises
    ------
    ValueError
        If a name is not a registered strategy, or ELMo strategies are asked for by name and no
        ELMo model is available.
    """
    if names is not None:
        names = REGISTRY.check_names(names)
    profile = resolve_profile(quick, max_length=max_length, epochs=epochs)
    settings = StrategySettings(
        max_length=profile.max_length, epochs=profile.epochs, cache=cache, bert_model=bert_model,
        elmo_files=elmo_files, **({} if lr is None else {"lr": lr}),
        **({} if head_epochs is None else {"head_epochs": head_epochs}),
    )
    return REGISTRY.build(names, settings, stacklevel=2)


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


def _take(X, indices):
    """Rows ``indices`` of texts given as a list, ndarray or pandas Series."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


def _check_sizes(values, what, *, minimum):
    if isinstance(values, numbers.Integral):
        values = (values,)
    values = list(values)
    if not values:
        raise ValueError(f"{what} must hold at least one value, got an empty sequence.")
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < minimum:
            raise ValueError(f"{what} must be integers >= {minimum}, got {v!r} in {values}.")
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat values, got {values}.")
    return [int(v) for v in values]


def _check_strategies(strategies):
    if not isinstance(strategies, dict) or not strategies:
        raise ValueError(
            "strategies must be a non-empty dict of name -> scikit-learn estimator, got "
            f"{type(strategies).__name__} {strategies!r:.100}. Use default_strategies() for the defaults."
        )
    for name, estimator in strategies.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Strategy names must be non-empty strings, got {name!r}.")
        if not (hasattr(estimator, "fit") and hasattr(estimator, "predict") and hasattr(estimator, "get_params")):
            raise TypeError(
                f"Strategy {name!r} must be a scikit-learn classifier (with fit, predict and "
                f"get_params), got {type(estimator).__name__}."
            )


def seed_estimator(estimator, seed):
    """Set every ``random_state`` of ``estimator`` and of its nested steps to ``seed``, in place.

    Nested parameters (``pipeline``'s ``step__random_state``, ``GridSearchCV``'s
    ``estimator__...__random_state``) are found with ``get_params(deep=True)``.

    Parameters
    ----------
    estimator : estimator
    seed : int

    Returns
    -------
    estimator : estimator
        The same object.
    """
    keys = [k for k in estimator.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")]
    if keys:
        estimator.set_params(**{k: seed for k in keys})
    return estimator


def draw_subsample(y, n_train, seed):
    """Indices of a stratified subsample of ``n_train`` of the labels ``y``.

    The class proportions of ``y`` are kept (up to rounding). The same ``(y, n_train, seed)``
    always gives the same indices. ``n_train == len(y)`` takes every index, in an order shuffled
    by ``seed``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    n_train : int
    seed : int

    Returns
    -------
    indices : ndarray of int
    """
    y = np.asarray(y)
    indices = np.arange(len(y))
    if n_train == len(y):
        return np.random.default_rng(seed).permutation(indices)
    try:
        chosen, _ = train_test_split(indices, train_size=n_train, stratify=y, random_state=seed)
    except ValueError as exc:
        classes, counts = np.unique(y, return_counts=True)
        raise ValueError(
            f"Cannot draw a stratified subsample of n_train={n_train} from {len(y)} training "
            f"texts with class counts {dict(zip(classes.tolist(), counts.tolist()))}: {exc} "
            "Use a larger n_train (at least one text per class) or drop classes with a single text."
        ) from exc
    return np.asarray(chosen)


def _best_params(estimator):
    params = getattr(estimator, "best_params_", None)
    if params is None:
        return None
    return json.dumps(
        {k: v if isinstance(v, (str, int, float, bool, type(None))) else repr(v) for k, v in params.items()}
    )


def training_history(estimator):
    """The per-epoch training history of a fitted strategy, or None when it trains no epochs.

    The history is read from the ``history_`` attribute of the estimator itself, of the last
    step of a Pipeline, or of a search's ``best_estimator_`` (as :class:`~sktransfer.FeatureHeadClassifier`
    and :class:`~sktransfer.BertFineTuneClassifier` report it), keeping the keys of
    :data:`~sktransfer.reporting.HISTORY_KEYS` as plain numbers.

    Parameters
    ----------
    estimator : fitted estimator

    Returns
    -------
    history : list of dict or None
    """
    final = getattr(estimator, "best_estimator_", estimator)
    if hasattr(final, "steps"):
        final = final.steps[-1][1]
    try:
        history = getattr(final, "history_", None)
    except AttributeError:  # a property that needs fitting
        return None
    if not history:
        return None
    return plain_history(history)


def compare(
    X_train,
    y_train,
    X_test,
    y_test,
    strategies=None,
    train_sizes=(100, 500, 2000),
    seeds=(0, 1, 2),
    *,
    error_score="raise",
    progress=True,
    previous_results=None,
    on_result=None,
):
    """Learning curves of several strategies: fit on subsamples of the training set, score on the test set.

    For every training size ``n`` and seed, a stratified subsample of ``n`` training texts is
    drawn (:func:`sklearn.model_selection.train_test_split` with ``stratify=y_train`` and
    ``random_state=seed``), the same for every strategy. Each strategy is cloned
    (:func:`sklearn.base.clone`), every ``random_state`` in it, nested ones included, is set to
    the seed, and it is fitted on the subsample and scored on the whole test set.

    Parameters
    ----------
    X_train : list, ndarray or pandas Series of str
        The pool of training texts the subsamples are drawn from.
    y_train : array-like of shape (n_train_pool,)
        Their labels.
    X_test : list, ndarray or pandas Series of str
        The test texts, the same for every run.
    y_test : array-like of shape (n_test,)
        Their labels.
    strategies : dict of str -> estimator or None, default=None
        Name -> unfitted classifier: any scikit-learn estimator with ``fit`` and ``predict``,
        e.g. a Pipeline, or a :class:`~sklearn.model_selection.GridSearchCV` that tunes
        hyper-parameters on each subsample (its ``best_params_`` go into the ``best_params``
        column). None uses :func:`default_strategies`.
    train_sizes : sequence of int, default=(100, 500, 2000)
        Numbers of labelled training texts, each at most ``len(X_train)``.
    seeds : sequence of int, default=(0, 1, 2)
        One run per seed: the seed draws the subsample and is every ``random_state`` of the
        strategy.
    error_score : "raise" or float, default="raise"
        What to do when a strategy fails to fit or predict: "raise" the error, or record this
        value as its accuracy and macro-F1, warn and go on (as in :func:`~sklearn.model_selection.cross_validate`).
    progress : bool, default=True
        Show a tqdm progress bar over the runs.
    previous_results : pandas.DataFrame or None, default=None
        Results of an earlier call on the *same* data and strategies (e.g. an interrupted run,
        read back with :func:`~sktransfer.reporting.read_results`). Its rows for a
        ``(strategy, n_train, seed)`` of this call are taken over instead of being refitted;
        the other cells are run. Only ``n_test`` is checked here
        (:func:`~sktransfer.reporting.reusable_runs`); that the data, strategy settings and
        model weights are unchanged is the caller's promise (``sktransfer compare --resume``
        checks the recorded settings with the same function).
    on_result : callable or None, default=None
        Called after every run with the DataFrame of all rows so far (taken-over rows
        included), e.g. to save progress so that a long comparison can be resumed.

    Returns
    -------
    results : pandas.DataFrame
        One row per (strategy, n_train, seed) with columns ``strategy``, ``n_train``, ``seed``,
        ``accuracy``, ``macro_f1``, ``fit_seconds``, ``predict_seconds``, ``n_test`` and
        ``best_params`` (JSON of a search's best parameters, else None). ``results.attrs["compare"]``
        holds the settings (sizes, seeds, pool and test sizes, the strategies' reprs), which
        :func:`write_results` stores.

    Raises
    ------
    ValueError
        If a training size exceeds the training pool, a subsample cannot be stratified, the
        inputs have inconsistent lengths, or ``strategies`` is malformed.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer.compare import compare, summarize
    >>> strategies = {"tfidf": make_pipeline(TfidfVectorizer(), LogisticRegression())}
    >>> results = compare(X_train, y_train, X_test, y_test, strategies,
    ...                   train_sizes=(100, 500), seeds=(0, 1))  # doctest: +SKIP
    >>> summarize(results)  # doctest: +SKIP
    """
    pd = _pandas("the results DataFrame of sktransfer.compare.compare")
    from tqdm.auto import tqdm

    if strategies is None:
        strategies = default_strategies()
    _check_strategies(strategies)
    train_sizes = _check_sizes(train_sizes, "train_sizes", minimum=1)
    seeds = _check_sizes(seeds, "seeds", minimum=0)
    if not (error_score == "raise" or isinstance(error_score, numbers.Real)):
        raise ValueError(f"error_score must be 'raise' or a number, got {error_score!r}.")
    for X, y, what in ((X_train, y_train, "training"), (X_test, y_test, "test")):
        if isinstance(X, str):
            raise TypeError(f"The {what} texts must be a sequence of str, got a single str; wrap it in a list.")
        if len(X) != len(y):
            raise ValueError(f"The {what} set has {len(X)} texts but {len(y)} labels; pass one label per text.")
        if len(X) == 0:
            raise ValueError(f"The {what} set is empty; pass at least one text.")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    too_large = [n for n in train_sizes if n > len(y_train)]
    if too_large:
        raise ValueError(
            f"train_sizes {too_large} exceed the {len(y_train)} training texts available; pass "
            f"sizes of at most {len(y_train)} or a larger training set."
        )
    # Draw every subsample up front, so an impossible one fails before hours of fitting.
    subsamples = {(n, seed): draw_subsample(y_train, n, seed) for n in train_sizes for seed in seeds}
    taken_over = reusable_runs(previous_results, {"n_test": int(len(y_test))}).rows
    settings = {
        "train_sizes": train_sizes,
        "seeds": seeds,
        "n_train_pool": int(len(y_train)),
        "n_test": int(len(y_test)),
        "classes": [c.item() if hasattr(c, "item") else c for c in np.unique(np.concatenate([y_train, y_test]))],
        "strategies": {name: repr(est) for name, est in strategies.items()},
    }

    def as_frame(rows):
        frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
        frame.attrs["compare"] = settings
        return frame

    rows = []
    total = len(train_sizes) * len(seeds) * len(strategies)
    with tqdm(total=total, desc="compare", unit="run", disable=not progress) as bar:
        for n in train_sizes:
            for seed in seeds:
                idx = subsamples[n, seed]
                X_sub, y_sub = _take(X_train, idx), y_train[idx]
                for name, strategy in strategies.items():
                    if (name, n, seed) in taken_over:
                        rows.append(taken_over[name, n, seed])
                        bar.update(1)
                        continue
                    bar.set_postfix_str(f"{name} n={n} seed={seed}")
                    estimator = seed_estimator(clone(strategy), seed)
                    row = {"strategy": name, "n_train": n, "seed": seed, "n_test": len(y_test)}
                    try:
                        start = time.perf_counter()
                        estimator.fit(X_sub, y_sub)
                        fitted = time.perf_counter()
                        predictions = estimator.predict(X_test)
                        done = time.perf_counter()
                    except Exception as exc:
                        if error_score == "raise":
                            raise
                        warnings.warn(
                            f"Strategy {name!r} failed for n_train={n}, seed={seed} "
                            f"({type(exc).__name__}: {exc}); its scores are set to error_score={error_score}.",
                            UserWarning,
                            stacklevel=2,
                        )
                        row.update(accuracy=float(error_score), macro_f1=float(error_score),
                                   fit_seconds=np.nan, predict_seconds=np.nan, best_params=None, history=None)
                    else:
                        row.update(
                            accuracy=float(accuracy_score(y_test, predictions)),
                            macro_f1=float(f1_score(y_test, predictions, average="macro")),
                            fit_seconds=fitted - start,
                            predict_seconds=done - fitted,
                            best_params=_best_params(estimator),
                            history=training_history(estimator),
                        )
                    rows.append(row)
                    bar.update(1)
                    if progress:
                        bar.write(
                            f"{name:<24} n_train={n:<6} seed={seed:<3} accuracy={row['accuracy']:.3f} "
                            f"fit={row['fit_seconds']:.1f}s predict={row['predict_seconds']:.1f}s"
                        )
                    if on_result is not None:
                        on_result(as_frame(rows))

    return as_frame(rows)

