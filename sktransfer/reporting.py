"""The results of :func:`sktransfer.compare.compare`: their schema, tables, a plot and files.

The schema lives here: :data:`RESULT_COLUMNS` (one row per run), :data:`METRICS`,
:data:`COMPARE_SETTINGS` (``results.attrs["compare"]``) and the rules for taking over the runs
of an earlier comparison, :data:`RESUME_SETTINGS` and :func:`reusable_runs`, which both
``compare(previous_results=...)`` and ``sktransfer compare --resume`` apply.

:func:`summarize` (mean/std over seeds), :func:`format_table` (markdown), :func:`plot_learning_curve`
(accuracy against labelled examples), :func:`write_results` (``results.json``, ``results.md``,
``learning_curve.png``) and :func:`read_results` (``results.json`` back into a DataFrame).
pandas and matplotlib come with ``pip install 'sktransfer[compare]'``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path

import numpy as np

from ._io import atomic_write
from ._optional import import_optional

__all__ = [
    "COMPARE_SETTINGS",
    "HISTORY_KEYS",
    "plain_history",
    "METRICS",
    "RESULT_COLUMNS",
    "RESUME_SETTINGS",
    "IncompatibleResultsError",
    "ReusableRuns",
    "format_table",
    "plot_learning_curve",
    "plot_training_curves",
    "read_results",
    "reusable_runs",
    "summarize",
    "training_summary",
    "write_results",
]

# --------------------------------------------------------------------------------------------
# the schema
# --------------------------------------------------------------------------------------------

#: The per-run measurements of a results DataFrame.
METRICS = ("accuracy", "macro_f1", "fit_seconds", "predict_seconds")

#: Keys of one epoch in a run's training history (the ``history`` column), as strategies that
#: train a network for several epochs report them (``history_`` of the fitted estimator).
HISTORY_KEYS = ("epoch", "train_loss", "valid_loss", "valid_acc", "dur")


def plain_history(history):
    """Per-epoch records (e.g. a skorch ``History``) cut to :data:`HISTORY_KEYS`, as plain numbers (JSON-ready).

    ``epoch`` becomes an int, every other key a float; keys an epoch lacks stay absent.
    """
    return [
        {key: (int(epoch[key]) if key == "epoch" else float(epoch[key])) for key in HISTORY_KEYS if key in epoch}
        for epoch in history
    ]


#: Columns of the DataFrame returned by :func:`~sktransfer.compare.compare`, in order.
#: ``history`` is a list of per-epoch dicts (:data:`HISTORY_KEYS`), or None for strategies
#: without epochs.
RESULT_COLUMNS = ("strategy", "n_train", "seed", *METRICS, "n_test", "best_params", "history")

#: The columns that identify a run.
RUN_KEY = ("strategy", "n_train", "seed")

#: Keys of ``results.attrs["compare"]``: the settings :func:`~sktransfer.compare.compare` records.
COMPARE_SETTINGS = ("train_sizes", "seeds", "n_train_pool", "n_test", "classes", "strategies")

#: Settings that must be equal for earlier runs to be taken over. ``sktransfer_version`` is
#: compared with ``metadata["versions"]["sktransfer"]`` of the earlier results. Each strategy's
#: own settings (its repr, ``COMPARE_SETTINGS["strategies"]``) are checked per strategy.
RESUME_SETTINGS = ("dataset", "text_column", "label_column", "test_size", "n_train_pool", "n_test",
                   "max_length", "epochs", "lr", "bert_model", "sktransfer_version")


def _check_results(results):
    missing = [c for c in (*RUN_KEY, "accuracy") if c not in getattr(results, "columns", ())]
    if missing:
        raise ValueError(
            f"results must be the DataFrame returned by compare(); it lacks the columns {missing}."
        )


class IncompatibleResultsError(ValueError):
    """Earlier results were made with other settings than the run that would take them over.

    ``changes`` lists one ``"setting: <then> then, <now> now"`` per differing setting.
    """

    def __init__(self, message, changes):
        super().__init__(message)
        self.changes = list(changes)


@dataclass(frozen=True)
class ReusableRuns:
    """What :func:`reusable_runs` found: the runs to take over, and the strategies to run again."""

    #: ``{(strategy, n_train, seed): row}``, each row a dict of :data:`RESULT_COLUMNS`.
    rows: dict = field(default_factory=dict)
    #: Strategies with earlier runs whose own settings changed: their runs are not taken over.
    changed: tuple = ()

    def __len__(self):
        return len(self.rows)

    def to_frame(self):
        """The runs as a results DataFrame (columns :data:`RESULT_COLUMNS`)."""
        pd = import_optional("pandas", extra="compare", purpose="comparison results")
        return pd.DataFrame(list(self.rows.values()), columns=list(RESULT_COLUMNS))


def _recorded_settings(previous):
    attrs = getattr(previous, "attrs", {}) or {}
    recorded = dict(attrs.get("compare", {}))
    recorded.update(attrs.get("metadata", {}))
    recorded["sktransfer_version"] = (recorded.get("versions") or {}).get("sktransfer")
    return recorded


def reusable_runs(previous, current_settings):
    """The runs of earlier results that a run with ``current_settings`` may take over.

    Parameters
    ----------
    previous : pandas.DataFrame or None
        Results of :func:`~sktransfer.compare.compare` or :func:`read_results`. Their settings
        are read from ``previous.attrs`` (``"compare"`` and, from a file, ``"metadata"``).
    current_settings : dict
        The settings of the new run. Every key of :data:`RESUME_SETTINGS` given here must equal
        the recorded one (``n_test`` is also checked against every row); keys not given are not
        checked. ``"strategies"``, ``{name: repr(estimator)}``, restricts the runs to these
        strategies and leaves out those whose recorded repr differs (or was not recorded).

    Returns
    -------
    runs : ReusableRuns
        ``runs.rows``: ``{(strategy, n_train, seed): row}``; ``runs.changed``: the strategies
        whose earlier runs are left out because their settings changed.

    Raises
    ------
    ValueError
        If ``previous`` lacks result columns.
    IncompatibleResultsError
        If a setting differs; its ``changes`` name each one.
    """
    if previous is None:
        return ReusableRuns()
    missing = [c for c in RESULT_COLUMNS if c not in getattr(previous, "columns", ())]
    if missing:
        raise ValueError(
            "previous_results must be a DataFrame returned by compare() or read_results(); "
            f"it lacks the columns {missing}."
        )
    recorded = _recorded_settings(previous)
    changes = []
    for key in RESUME_SETTINGS:
        if key not in current_settings:
            continue
        now = current_settings[key]
        if key == "n_test":
            # Rows carry their test size, so a frame that lost its attrs is checked as well.
            then = {int(v) for v in previous["n_test"]}
            if recorded.get("n_test") is not None:
                then.add(int(recorded["n_test"]))
            then = sorted(then)
        else:
            then = [recorded.get(key)]
        changes += [f"{key}: {value!r} then, {now!r} now" for value in then if value != now]
    if changes:
        raise IncompatibleResultsError(
            f"previous_results were made with other settings ({'; '.join(changes)}); runs made with "
            "different settings cannot be combined. Drop previous_results or pass the same data and settings.",
            changes,
        )

    rows = previous.to_dict(orient="records")
    changed = ()
    if "strategies" in current_settings:
        reprs_then = recorded.get("strategies") or {}
        now = current_settings["strategies"]
        same = {name for name, r in now.items() if reprs_then.get(name) == r}
        changed = tuple(sorted({row["strategy"] for row in rows} & set(now) - same))
        rows = [row for row in rows if row["strategy"] in same]
    done = {}
    for row in rows:
        row = {c: row[c] for c in RESULT_COLUMNS}
        row.update(n_train=int(row["n_train"]), seed=int(row["seed"]), n_test=int(row["n_test"]))
        done[row["strategy"], row["n_train"], row["seed"]] = row
    return ReusableRuns(done, changed)


# --------------------------------------------------------------------------------------------
# tables, plot, files
# --------------------------------------------------------------------------------------------


def _strategy_order(results):
    return list(dict.fromkeys(results["strategy"]))


def _legend_order(results):
    """Registry strategies in registry order (each twin after its base), then the others as they come."""
    from .strategies import REGISTRY

    names = _strategy_order(results)
    rank = {name: i for i, name in enumerate(REGISTRY.names())}
    return sorted(names, key=lambda n: (0, rank[n]) if n in rank else (1, names.index(n)))


def _base_of(name):
    """The strategy whose colour ``name`` shares: the registry's twin relation, else a ``-random`` suffix."""
    from .strategies import REGISTRY

    if name in REGISTRY:
        return REGISTRY.base_of(name)
    return name.removesuffix("-random")


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
    metrics = [m for m in METRICS if m in results.columns]
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
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}.")
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

    Error bars are the standard deviation over seeds. A random-weight twin is drawn dashed in
    the colour of its base strategy, so each pretrained/random pair reads at a glance. Strategies
    of :data:`sktransfer.strategies.REGISTRY` take its order and twin pairs in the legend; other
    names follow in their order in ``results``, ``<name>-random`` paired with ``<name>``. The
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
    figure = Figure(figsize=(8.5, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    colors = {}
    palette = iter(f"C{i}" for i in range(100))
    for name in _legend_order(results):
        rows = summary[summary["strategy"] == name]
        base = _base_of(name)
        base = None if base == name else base
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
    # Outside the axes: inside, the legend would cover the best curves, which end top left.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def _histories(results):
    """``{(strategy, n_train): [history, ...]}`` of the runs that report per-epoch validation scores."""
    if "history" not in results.columns:
        return {}
    runs = {}
    for row in results.itertuples(index=False):
        history = row.history
        if isinstance(history, list) and history and all("valid_acc" in e for e in history):
            runs.setdefault((row.strategy, row.n_train), []).append(history)
    return runs


def _epochs_to_reach(history, fraction):
    """First epoch (1-based) reaching ``fraction`` of the last validation accuracy, and the seconds until then."""
    target = fraction * history[-1]["valid_acc"]
    seconds = 0.0
    for i, epoch in enumerate(history, start=1):
        seconds += float(epoch.get("dur", np.nan))
        if epoch["valid_acc"] >= target:
            return i, seconds
    return len(history), seconds  # unreachable: the last epoch reaches 100% of itself


def training_summary(results, *, fraction=0.95):
    """Convergence and stability of the strategies that report training histories.

    For every (strategy, n_train) whose runs carry a per-epoch history with validation scores
    (strategies trained with a validation split, e.g. :class:`~sktransfer.FeatureHeadClassifier`):

    - ``epochs_to_95`` / ``seconds_to_95``: the first epoch at which the validation accuracy
      reaches ``fraction`` of the last epoch's, and the training seconds until then (mean over
      seeds): how fast training converges;
    - ``final_valid_acc``: the last epoch's validation accuracy (mean over seeds);
    - ``curve_spread``: the standard deviation over seeds of the validation accuracy, averaged
      over the epochs all seeds reached: how much the training curves of different seeds differ;
    - ``n_epochs``: epochs trained (mean; early stopping can end a run sooner).

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`~sktransfer.compare.compare`.
    fraction : float, default=0.95

    Returns
    -------
    summary : pandas.DataFrame
        One row per (strategy, n_train) with histories, in the order of ``results``; empty when no
        run has a history.
    """
    pd = import_optional("pandas", extra="compare", purpose="comparison results")
    _check_results(results)
    columns = ["strategy", "n_train", "n_seeds", "epochs_to_95", "seconds_to_95", "final_valid_acc",
               "curve_spread", "n_epochs"]
    rows = []
    for (name, n_train), histories in _histories(results).items():
        reached = [_epochs_to_reach(h, fraction) for h in histories]
        shortest = min(len(h) for h in histories)
        curves = np.array([[e["valid_acc"] for e in h[:shortest]] for h in histories])
        spread = float(curves.std(axis=0, ddof=1).mean()) if len(histories) > 1 else np.nan
        rows.append({
            "strategy": name, "n_train": n_train, "n_seeds": len(histories),
            "epochs_to_95": float(np.mean([r[0] for r in reached])),
            "seconds_to_95": float(np.mean([r[1] for r in reached])),
            "final_valid_acc": float(np.mean([h[-1]["valid_acc"] for h in histories])),
            "curve_spread": spread,
            "n_epochs": float(np.mean([len(h) for h in histories])),
        })
    return pd.DataFrame(rows, columns=columns)


def plot_training_curves(results, path=None, *, title=None):
    """Validation accuracy and loss against epoch, one line per strategy, one column per training size.

    Only runs that report a per-epoch history with validation scores are drawn (see
    :func:`training_summary`). Each line is the mean over seeds at every epoch that at least one
    seed reached, with a band of one standard deviation over the seeds (early stopping can end
    seeds at different epochs, so late epochs may rest on fewer seeds). Colours and line styles
    follow :func:`plot_learning_curve`.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`~sktransfer.compare.compare`.
    path : str, path-like or None, default=None
        Where to save the figure.
    title : str or None, default=None

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If no run has a training history with validation scores.
    """
    import_optional("matplotlib", extra="compare", purpose="the training-curves plot of sktransfer.compare")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _check_results(results)
    runs = _histories(results)
    if not runs:
        raise ValueError(
            "No run has a training history with validation scores; strategies report one when they "
            "train with a validation split (e.g. FeatureHeadClassifier(validation_fraction=0.2))."
        )
    sizes = sorted({n for _, n in runs})
    names = [n for n in _legend_order(results) if any((n, size) in runs for size in sizes)]
    figure = Figure(figsize=(3.6 * len(sizes) + 2.6, 6.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, len(sizes), sharex="col", squeeze=False)
    colors, palette = {}, iter(f"C{i}" for i in range(100))
    for name in names:
        base = _base_of(name)
        twin = base != name and base in colors
        colors[name] = colors[base] if twin else next(palette)
        style = "--" if twin else "-"
        for column, size in enumerate(sizes):
            histories = runs.get((name, size))
            if not histories:
                continue
            longest = max(len(h) for h in histories)
            for row, key in enumerate(("valid_acc", "valid_loss")):
                values = np.full((len(histories), longest), np.nan)
                for i, h in enumerate(histories):
                    values[i, : len(h)] = [e[key] for e in h]
                epochs = np.arange(1, longest + 1)
                mean = np.nanmean(values, axis=0)
                # Sample std over the seeds that reached each epoch; no band where only one did.
                counts = np.sum(~np.isnan(values), axis=0)
                squares = np.nansum(np.square(values - mean), axis=0)
                std = np.sqrt(squares / np.maximum(counts - 1, 1)) * (counts > 1)
                ax = axes[row, column]
                ax.plot(epochs, mean, color=colors[name], linestyle=style, marker=".",
                        label=name if column == 0 and row == 0 else None)
                ax.fill_between(epochs, mean - std, mean + std, color=colors[name], alpha=0.15, linewidth=0)
    for column, size in enumerate(sizes):
        axes[0, column].set_title(f"n_train = {size}")
        axes[1, column].set_xlabel("epoch")
        for row in range(2):
            axes[row, column].grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("validation accuracy")
    axes[1, 0].set_ylabel("validation loss")
    n_seeds = max(len(h) for h in runs.values())
    figure.suptitle(title or f"Training curves (mean over {n_seeds} seed{'s' if n_seeds != 1 else ''}, band: std)")
    figure.legend(fontsize="small", loc="outside right upper")
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


def write_results(results, out_dir, *, metadata=None, plot=True):
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
    plot : bool, default=True
        Also draw ``learning_curve.png`` and, when runs report training histories,
        ``training_curves.png``; False skips them (and leaves existing ones alone), e.g. for the
        progress saved after every run of a long comparison.

    Returns
    -------
    paths : dict
        ``{"json": Path, "markdown": Path, "plot": Path}``, and ``"training_curves": Path`` when
        runs report training histories.
    """
    _check_results(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    info.update(results.attrs.get("compare", {}))
    info.update(metadata or {})
    info["versions"] = _versions()
    info["machine"] = _machine()
    paths = {
        "json": out_dir / "results.json", "markdown": out_dir / "results.md", "plot": out_dir / "learning_curve.png"
    }
    if _histories(results):
        paths["training_curves"] = out_dir / "training_curves.png"

    records = [_jsonable(r) for r in results.to_dict(orient="records")]
    summary = [_jsonable(r) for r in summarize(results).to_dict(orient="records")]
    # Atomic: results.json is rewritten after every run, and --resume must never read half a file.
    with atomic_write(paths["json"], "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"metadata": _jsonable(info), "records": records, "summary": summary}, indent=2) + "\n")

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
        *_training_section(results, paths),
        f"Versions: {', '.join(f'{k} {v}' for k, v in info['versions'].items() if v)}. "
        f"Machine: {info['machine']['platform']}, {info['machine']['cpu_count']} CPUs"
        + (f", {info['machine']['cuda']}" if info["machine"].get("cuda") else "") + ".",
        "",
    ]
    with atomic_write(paths["markdown"], "w", encoding="utf-8") as fh:
        fh.write("\n".join(md))
    if plot:
        import matplotlib.pyplot as plt

        plt.close(plot_learning_curve(results, paths["plot"]))
        if "training_curves" in paths:
            plot_training_curves(results, paths["training_curves"])
    return paths


def _training_section(results, paths):
    """The results.md lines on training curves: convergence and stability per strategy and size."""
    if "training_curves" not in paths:
        return []
    table = training_summary(results)
    lines = [
        "## Training (validation split of each training set)",
        "",
        "Epochs and seconds until the validation accuracy first reaches 95% of its last value, the last",
        "value, and the spread of the curves (std over seeds of the validation accuracy, mean over epochs).",
        "",
        "| strategy | n_train | epochs to 95% | seconds to 95% | last valid acc | curve spread | epochs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples(index=False):
        spread = "n/a" if r.curve_spread != r.curve_spread else f"{r.curve_spread:.3f}"
        lines.append(
            f"| {r.strategy} | {r.n_train} | {r.epochs_to_95:.1f} | {r.seconds_to_95:.1f} | "
            f"{r.final_valid_acc:.3f} | {spread} | {r.n_epochs:.1f} |"
        )
    return [*lines, "", f"![training curves]({paths['training_curves'].name})", ""]


def read_results(path):
    """Read the ``results.json`` written by :func:`write_results` back into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The ``results.json`` file, or the folder holding it.

    Returns
    -------
    results : pandas.DataFrame
        One row per run, the columns of :func:`~sktransfer.compare.compare` (missing timings are
        NaN); ``results.attrs["metadata"]`` holds the file's metadata (settings, versions,
        machine), ``results.attrs["compare"]`` the settings :func:`write_results` needs again.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a ``results.json`` of :func:`write_results`.
    """
    pd = import_optional("pandas", extra="compare", purpose="reading comparison results")
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        records, info = content["records"], content["metadata"]
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a results.json written by sktransfer.reporting.write_results "
            f"({type(exc).__name__}: {exc}); pass the results.json of a comparison."
        ) from None
    results = pd.DataFrame(records)
    _check_results(results)
    if "history" not in results:  # written before strategies reported training histories
        results["history"] = None
    for column in METRICS:
        if column in results:
            results[column] = results[column].astype(float)
    results.attrs["metadata"] = info
    results.attrs["compare"] = {k: info[k] for k in COMPARE_SETTINGS if k in info}
    return results
