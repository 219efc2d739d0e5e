"""Compare transfer-learning strategies on learning curves: accuracy against labelled examples.

:func:`compare` fits every strategy (a plain scikit-learn estimator, a Pipeline or a
:class:`~sklearn.model_selection.GridSearchCV`) on stratified subsamples of the training set,
for several training sizes and seeds, and scores it on a fixed test set. All strategies see the
same subsample for a given ``(n_train, seed)``. :func:`default_strategies` returns the
strategies of the paper-style comparison: TF-IDF, frozen ELMo and BERT features, BERT
fine-tuning, and the random-weight (``pretrained=False``) twin of each transfer strategy.

:func:`summarize`, :func:`format_table`, :func:`plot_learning_curve` and :func:`write_results`
turn the tidy results into mean/std tables, a markdown table, a learning-curve plot and files.

pandas and matplotlib are optional (``pip install 'sktransfer[compare]'``) and imported only
when needed.
"""

from __future__ import annotations

import datetime
import json
import numbers
import os
import platform
import sys
import time
import warnings
from importlib import metadata as _metadata
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from ._optional import import_optional

__all__ = [
    "DEFAULT_STRATEGY_NAMES",
    "compare",
    "default_strategies",
    "format_table",
    "plot_learning_curve",
    "summarize",
    "write_results",
]

#: Names of the default strategies, in table order. ``*-random`` is the ``pretrained=False`` twin.
DEFAULT_STRATEGY_NAMES = (
    "tfidf-lr",
    "elmo-lr",
    "elmo-lr-random",
    "bert-lr",
    "bert-lr-random",
    "bert-finetune",
    "bert-finetune-random",
)

#: One line per default strategy, for help texts.
STRATEGY_DESCRIPTIONS = {
    "tfidf-lr": "TF-IDF of word uni- and bigrams + logistic regression (no transfer)",
    "elmo-lr": "frozen ELMo features (mean-pooled) + logistic regression",
    "elmo-lr-random": "the same with a randomly initialised ELMo (pretrained=False)",
    "bert-lr": "frozen BERT features (mean-pooled) + logistic regression",
    "bert-lr-random": "the same with a randomly initialised BERT (pretrained=False)",
    "bert-finetune": "BERT fine-tuned end to end with a classification head",
    "bert-finetune-random": "the same from random weights (pretrained=False)",
}

#: Columns of the DataFrame returned by :func:`compare`, in order.
RESULT_COLUMNS = (
    "strategy",
    "n_train",
    "seed",
    "accuracy",
    "macro_f1",
    "fit_seconds",
    "predict_seconds",
    "n_test",
    "best_params",
)

_METRICS = ("accuracy", "macro_f1", "fit_seconds", "predict_seconds")


def _pandas(purpose):
    return import_optional("pandas", extra="compare", purpose=purpose)


# --------------------------------------------------------------------------------------------
# default strategies
# --------------------------------------------------------------------------------------------


def elmo_unavailable_reason(elmo_files=None):
    """Say why the default ELMo strategies cannot run, or return None when they can.

    Parameters
    ----------
    elmo_files : tuple of (str, str) or None, default=None
        ``(options_file, weight_file)`` of an ELMo model. None asks whether
        ``ELMoVectorizer()`` works without arguments (a default model is available).

    Returns
    -------
    reason : str or None
        None if an ELMo model is available, otherwise a sentence that says how to provide one.
    """
    if elmo_files is not None:
        missing = [str(p) for p in elmo_files if p is None or not Path(p).is_file()]
        if missing:
            return (
                f"the ELMo files {missing} do not exist; pass an existing options.json and "
                "weights.hdf5 (--elmo-options/--elmo-weights on the command line)"
            )
        return None
    from .elmo_vectorizer import ELMoVectorizer

    try:
        # Loading the model is the only reliable test; no text is embedded.
        ELMoVectorizer().fit(["probe"])
    except (ValueError, OSError) as exc:
        return (
            f"no ELMo model is available (ELMoVectorizer() without files says: {exc}); pass "
            "elmo_files=(options.json, weights.hdf5), on the command line --elmo-options FILE "
            "--elmo-weights FILE, to include them"
        )
    return None


def _vectorizer_kwargs(vectorizer_class, cache):
    """``cache=...`` when given and the vectorizer supports it (checked with ``get_params``)."""
    if cache is None:
        return {}
    if "cache" not in vectorizer_class().get_params():
        warnings.warn(
            f"{vectorizer_class.__name__} has no 'cache' parameter in this version of sktransfer; "
            f"cache={cache!r} is ignored for it.",
            UserWarning,
            stacklevel=3,
        )
        return {}
    return {"cache": cache}


def default_strategies(
    *,
    quick=False,
    names=None,
    bert_model=None,
    elmo_files=None,
    max_length=None,
    epochs=3,
    lr=1e-4,
    cache=None,
):
    """The default strategies: TF-IDF, frozen ELMo/BERT features and BERT fine-tuning.

    Every transfer strategy comes with its ``pretrained=False`` twin (same architecture, random
    weights), named with a ``-random`` suffix, so the table shows what pretraining buys. The
    ELMo strategies are left out, with a :class:`UserWarning` that says why, when no ELMo model
    is available (see :func:`elmo_unavailable_reason`).

    Parameters
    ----------
    quick : bool, default=False
        Shorter texts for a first look on a CPU: ``max_length=128`` instead of 256, unless
        given explicitly.
    names : iterable of str or None, default=None
        Only these strategies (from :data:`DEFAULT_STRATEGY_NAMES`), in this order. None: all.
    bert_model : str or None, default=None
        ``model_name_or_path`` of the BERT strategies; None keeps the estimators' default
        (all-MiniLM-L6-v2).
    elmo_files : tuple of (str, str) or None, default=None
        ``(options_file, weight_file)`` of the ELMo strategies. None uses ``ELMoVectorizer()``'s
        default model when there is one.
    max_length : int or None, default=None
        Tokens kept per text: BERT word pieces, or ELMo words (``max_tokens``). None: 256, or 128
        when ``quick``.
    epochs : int, default=3
        Fine-tuning epochs.
    lr : float, default=1e-4
        Fine-tuning learning rate (higher than the usual 2e-5, which suits larger training sets).
    cache : str, path-like, joblib.Memory or None, default=None
        Feature cache of the vectorizers, passed only to those that have a ``cache`` parameter.

    Returns
    -------
    strategies : dict of str -> estimator
        Unfitted estimators, in table order. :func:`compare` sets their ``random_state``.

    Raises
    ------
    ValueError
        If a name is not a default strategy, or ELMo strategies are asked for by name and no
        ELMo model is available.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if names is None:
        wanted, explicit = list(DEFAULT_STRATEGY_NAMES), False
    else:
        wanted, explicit = list(dict.fromkeys(names)), True
        unknown = [n for n in wanted if n not in DEFAULT_STRATEGY_NAMES]
        if unknown:
            raise ValueError(
                f"Unknown strategy name(s) {unknown}; the default strategies are "
                f"{list(DEFAULT_STRATEGY_NAMES)}. Pass your own estimators to compare() for others."
            )
    if max_length is None:
        max_length = 128 if quick else 256
    if elmo_files is not None:
        elmo_files = tuple(elmo_files)
        if len(elmo_files) != 2:
            raise ValueError(f"elmo_files must be (options_file, weight_file), got {elmo_files!r}.")

    strategies = {}
    if "tfidf-lr" in wanted:
        strategies["tfidf-lr"] = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            LogisticRegression(max_iter=1000),
        )

    elmo_names = [n for n in wanted if n.startswith("elmo-")]
    if elmo_names:
        reason = elmo_unavailable_reason(elmo_files)
        if reason is not None:
            if explicit:
                raise ValueError(f"Cannot build {elmo_names}: {reason}.")
            warnings.warn(f"Skipping the ELMo strategies {elmo_names}: {reason}.", UserWarning, stacklevel=2)
        else:
            from .elmo_vectorizer import ELMoVectorizer

            files = {} if elmo_files is None else {"options_file": elmo_files[0], "weight_file": elmo_files[1]}
            extra = _vectorizer_kwargs(ELMoVectorizer, cache)
            for pretrained, name in ((True, "elmo-lr"), (False, "elmo-lr-random")):
                if name in wanted:
                    strategies[name] = make_pipeline(
                        ELMoVectorizer(**files, max_tokens=max_length, pretrained=pretrained, **extra),
                        LogisticRegression(max_iter=2000),
                    )

    bert = {} if bert_model is None else {"model_name_or_path": bert_model}
    if any(n.startswith("bert-lr") for n in wanted):
        from .bert_vectorizer import BertVectorizer

        extra = _vectorizer_kwargs(BertVectorizer, cache)
        for pretrained, name in ((True, "bert-lr"), (False, "bert-lr-random")):
            if name in wanted:
                strategies[name] = make_pipeline(
                    BertVectorizer(**bert, max_length=max_length, pretrained=pretrained, **extra),
                    LogisticRegression(max_iter=2000),
                )
    if any(n.startswith("bert-finetune") for n in wanted):
        from .finetune import BertFineTuneClassifier

        for pretrained, name in ((True, "bert-finetune"), (False, "bert-finetune-random")):
            if name in wanted:
                strategies[name] = BertFineTuneClassifier(
                    **bert, max_length=max_length, max_epochs=epochs, lr=lr, pretrained=pretrained
                )
    return {n: strategies[n] for n in wanted if n in strategies}


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
    return json.dumps({k: v if isinstance(v, (str, int, float, bool, type(None))) else repr(v) for k, v in params.items()})


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

    rows = []
    total = len(train_sizes) * len(seeds) * len(strategies)
    with tqdm(total=total, desc="compare", unit="run", disable=not progress) as bar:
        for n in train_sizes:
            for seed in seeds:
                idx = subsamples[n, seed]
                X_sub, y_sub = _take(X_train, idx), y_train[idx]
                for name, strategy in strategies.items():
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
                                   fit_seconds=np.nan, predict_seconds=np.nan, best_params=None)
                    else:
                        row.update(
                            accuracy=float(accuracy_score(y_test, predictions)),
                            macro_f1=float(f1_score(y_test, predictions, average="macro")),
                            fit_seconds=fitted - start,
                            predict_seconds=done - fitted,
                            best_params=_best_params(estimator),
                        )
                    rows.append(row)
                    bar.update(1)
                    if progress:
                        bar.write(
                            f"{name:<24} n_train={n:<6} seed={seed:<3} accuracy={row['accuracy']:.3f} "
                            f"fit={row['fit_seconds']:.1f}s predict={row['predict_seconds']:.1f}s"
                        )

    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    results.attrs["compare"] = {
        "train_sizes": train_sizes,
        "seeds": seeds,
        "n_train_pool": int(len(y_train)),
        "n_test": int(len(y_test)),
        "classes": [c.item() if hasattr(c, "item") else c for c in np.unique(np.concatenate([y_train, y_test]))],
        "strategies": {name: repr(est) for name, est in strategies.items()},
    }
    return results


# --------------------------------------------------------------------------------------------
# summaries, tables, plots, files
# --------------------------------------------------------------------------------------------


def _check_results(results):
    missing = [c for c in ("strategy", "n_train", "seed", "accuracy") if c not in getattr(results, "columns", ())]
    if missing:
        raise ValueError(
            f"results must be the DataFrame returned by compare(); it lacks the columns {missing}."
        )


def _strategy_order(results):
    return list(dict.fromkeys(results["strategy"]))


def summarize(results):
    """Mean and standard deviation over seeds, per strategy and training size.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`compare`.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (strategy, n_train), strategies in their order in ``results`` and sizes
        increasing, with ``n_seeds`` and ``<metric>_mean`` / ``<metric>_std`` for accuracy,
        macro_f1, fit_seconds and predict_seconds. The standard deviation is the sample one
        (``ddof=1``): NaN with a single seed.
    """
    _check_results(results)
    metrics = [m for m in _METRICS if m in results.columns]
    aggregations = {"n_seeds": ("seed", "nunique")}
    for m in metrics:
        aggregations[f"{m}_mean"] = (m, "mean")
        aggregations[f"{m}_std"] = (m, "std")
    summary = results.groupby(["strategy", "n_train"], sort=False).agg(**aggregations).reset_index()
    order = {name: i for i, name in enumerate(_strategy_order(results))}
    summary = summary.sort_values(["strategy", "n_train"], key=lambda c: c.map(order) if c.name == "strategy" else c)
    return summary.reset_index(drop=True)


def _cell(mean, std, digits):
    if mean != mean:  # NaN: every run failed
        return "n/a"
    if std != std:  # a single seed
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_table(results, metric="accuracy", *, digits=3):
    """A markdown table: one row per strategy, one column per training size, "mean ± std" cells.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`compare`.
    metric : {"accuracy", "macro_f1", "fit_seconds", "predict_seconds"}, default="accuracy"
    digits : int, default=3
        Decimals shown. With a single seed a cell shows the mean only.

    Returns
    -------
    table : str
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {list(_METRICS)}, got {metric!r}.")
    summary = summarize(results)
    sizes = sorted(summary["n_train"].unique())
    lines = [
        "| strategy | " + " | ".join(f"n={n}" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    cells = {(r.strategy, r.n_train): _cell(getattr(r, f"{metric}_mean"), getattr(r, f"{metric}_std"), digits)
             for r in summary.itertuples(index=False)}
    for name in _strategy_order(results):
        lines.append(f"| {name} | " + " | ".join(cells.get((name, n), "–") for n in sizes) + " |")
    return "\n".join(lines)


def plot_learning_curve(results, path=None, *, metric="accuracy", title=None):
    """Plot ``metric`` against the number of labelled examples (log x), one line per strategy.

    Error bars are the standard deviation over seeds. A ``<name>-random`` strategy is drawn
    dashed in the colour of ``<name>``, so each pretrained/random pair reads at a glance. The
    figure is drawn with the Agg backend without touching pyplot's global state.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`compare`.
    path : str, path-like or None, default=None
        Where to save the figure (the extension picks the format, e.g. ``.png``).
    metric : {"accuracy", "macro_f1"}, default="accuracy"
    title : str or None, default=None

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    import_optional("matplotlib", extra="compare", purpose="the learning-curve plot of sktransfer.compare")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    if metric not in ("accuracy", "macro_f1"):
        raise ValueError(f"metric must be 'accuracy' or 'macro_f1', got {metric!r}.")
    summary = summarize(results)
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    colors = {}
    palette = iter(f"C{i}" for i in range(100))
    for name in _strategy_order(results):
        rows = summary[summary["strategy"] == name]
        base = name[: -len("-random")] if name.endswith("-random") else None
        color = colors.get(base) if base in colors else next(palette)
        colors[name] = color
        ax.errorbar(
            rows["n_train"], rows[f"{metric}_mean"], yerr=rows[f"{metric}_std"].fillna(0.0),
            label=name, color=color, linestyle="--" if base in colors else "-",
            marker="o", capsize=3,
        )
    sizes = sorted(summary["n_train"].unique())
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("labelled training examples (log scale)")
    ax.set_ylabel("test accuracy" if metric == "accuracy" else "test macro-F1")
    n_seeds = int(summary["n_seeds"].max())
    ax.set_title(title or f"Learning curves ({n_seeds} seed{'s' if n_seeds != 1 else ''}, error bars: std)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def _versions():
    names = ["sktransfer", "scikit-learn", "numpy", "pandas", "matplotlib", "torch", "transformers", "skorch"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _machine():
    machine = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }
    torch = sys.modules.get("torch")  # only if the strategies used it: never import torch here
    if torch is not None:
        machine["torch_threads"] = torch.get_num_threads()
        machine["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return machine


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return str(value)


def write_results(results, out_dir, *, metadata=None):
    """Write ``results.json``, ``results.md`` and ``learning_curve.png`` into ``out_dir``.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`compare`.
    out_dir : str or path-like
        Created if needed; existing files of these names are replaced.
    metadata : dict or None, default=None
        Extra facts for ``results.json`` and the head of ``results.md``, e.g.
        ``{"dataset": "imdb"}``. The settings of :func:`compare` (``results.attrs``), package
        versions, the machine and the time are added.

    Returns
    -------
    paths : dict
        ``{"json": Path, "markdown": Path, "plot": Path}``.
    """
    _check_results(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    info.update(results.attrs.get("compare", {}))
    info.update(metadata or {})
    info["versions"] = _versions()
    info["machine"] = _machine()
    paths = {"json": out_dir / "results.json", "markdown": out_dir / "results.md", "plot": out_dir / "learning_curve.png"}

    records = [_jsonable(r) for r in results.to_dict(orient="records")]
    summary = [_jsonable(r) for r in summarize(results).to_dict(orient="records")]
    paths["json"].write_text(
        json.dumps({"metadata": _jsonable(info), "records": records, "summary": summary}, indent=2) + "\n",
        encoding="utf-8",
    )

    n_seeds = results["seed"].nunique()
    head = ", ".join(f"{k}: {info[k]}" for k in ("dataset", "n_test", "seeds") if k in info)
    md = [
        "# Transfer-learning comparison",
        "",
        head + "." if head else "",
        "",
        f"## Test accuracy (mean ± std over {n_seeds} seed{'s' if n_seeds != 1 else ''})",
        "",
        format_table(results, "accuracy"),
        "",
        "## Test macro-F1",
        "",
        format_table(results, "macro_f1"),
        "",
        "## Fit time (seconds)",
        "",
        format_table(results, "fit_seconds", digits=1),
        "",
        f"![learning curve]({paths['plot'].name})",
        "",
        f"Versions: {', '.join(f'{k} {v}' for k, v in info['versions'].items() if v)}. "
        f"Machine: {info['machine']['platform']}, {info['machine']['cpu_count']} CPUs"
        + (f", {info['machine']['cuda']}" if info["machine"].get("cuda") else "") + ".",
        "",
    ]
    paths["markdown"].write_text("\n".join(md), encoding="utf-8")
    plot_learning_curve(results, paths["plot"])
    return paths
