"""The ``sktransfer`` command line: ``sktransfer compare`` (and later subcommands).

Run ``sktransfer --help`` or ``python -m sktransfer --help``. Nothing in the package imports this
module; it is the entry point named in ``pyproject.toml``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Transfer learning on text as scikit-learn estimators.

Subcommands:
  compare        learning curves of transfer strategies (TF-IDF, frozen ELMo/BERT features,
                 BERT fine-tuning, each against its random-weight twin) on IMDB or your own data
  pretrain-elmo  pretrain an ELMo biLM on unlabelled text; writes options.json + weights.hdf5
"""

_EPILOG = """\
examples:
  sktransfer compare --quick                 # IMDB, all default strategies, a few minutes on a CPU
  sktransfer compare reviews.csv --text-column review --label-column sentiment
  sktransfer compare --help                  # every option of compare
  sktransfer pretrain-elmo corpus.txt --out my-elmo --max-tokens 5000000

Run `sktransfer <subcommand> --help` for the options of a subcommand.
"""


def _compare_description():
    from .strategies import REGISTRY

    lines = "\n".join(f"  {name:<22} {text}" for name, text in REGISTRY.descriptions().items())
    return f"""\
Compare transfer-learning strategies on learning curves.

Every strategy is fitted on stratified subsamples of the training set (one per training size
and seed, the same subsample for every strategy) and scored on a fixed test set. The table of
test accuracy (mean ± std over seeds) is printed and written, with the raw results and a plot,
to --out: results.json (every run, settings, versions, machine, per-epoch histories), results.md
(tables), learning_curve.png (accuracy against labelled examples, log scale) and, when strategies
train for epochs on a validation split (the *-head-* ones), training_curves.png (validation
accuracy and loss against epoch).

strategies (--strategies; default: all that can run):
{lines}

The ELMo strategies need an ELMo model: pass --elmo-options and --elmo-weights; without them
they are skipped with a note unless ELMoVectorizer() has a default model. The BERT strategies
use all-MiniLM-L6-v2 (offline with the sktransfer[minilm] extra) unless --bert-model is given.
"""


def _profile_flags(profile):
    return (f"--train-sizes {' '.join(map(str, profile.train_sizes))} --seeds {' '.join(map(str, profile.seeds))} "
            f"--n-test {profile.n_test} --max-length {profile.max_length} --epochs {profile.epochs}")


def _compare_epilog():
    from .strategies import PROFILES

    return f"""\
--quick sets {_profile_flags(PROFILES['quick'])}
(each can still be overridden); without it: {_profile_flags(PROFILES['full'])}.

examples:
  sktransfer compare --quick
  sktransfer compare imdb --train-sizes 100 1000 --seeds 0 1 --out results/imdb
  sktransfer compare imdb --strategies tfidf-lr bert-lr bert-finetune --cache ~/.cache/sktransfer
  sktransfer compare reviews.csv --text-column review --label-column sentiment \\
      --test-size 0.3 --train-sizes 50 200
  sktransfer compare imdb --elmo-options options.json --elmo-weights weights.hdf5
  sktransfer compare imdb --out results/imdb --resume   # continue after an interruption

The IMDB archive (aclImdb_v1.tar.gz) is read from --data-home, else $SKTRANSFER_DATA, else
~/sktransfer_data, and downloaded there if missing.
"""


def _int_at_least(minimum, what):
    """An argparse type: an int >= ``minimum``, with an error that names ``what`` was expected."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "a non-negative integer")
_seed = _int_at_least(0, "a non-negative integer seed")


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction strictly between 0 and 1, got {value}")
    return value


def _add_compare(subparsers):
    from .strategies import PROFILES, TRUNCATIONS, StrategySettings

    full, quick = PROFILES["full"], PROFILES["quick"]
    p = subparsers.add_parser(
        "compare",
        help="learning curves of transfer strategies on IMDB or your own labelled texts",
        description=_compare_description(),
        epilog=_compare_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "dataset", nargs="?", default="imdb",
        help="'imdb' (default), or a .csv, .tsv or .jsonl file of labelled texts",
    )
    data.add_argument("--text-column", default="text", help="column/field of the texts in a file (default: text)")
    data.add_argument("--label-column", default="label", help="column/field of the labels in a file (default: label)")
    data.add_argument(
        "--test-size", type=_fraction, default=0.25,
        help="fraction of a file held out (stratified) as the test set (default: 0.25); not used for imdb",
    )
    data.add_argument(
        "--n-test", type=_positive_int, default=None,
        help=f"test texts: a balanced sample of IMDB's test set, or at most this many of a file's held-out "
             f"texts (default: {full.n_test}; --quick: {quick.n_test})",
    )
    data.add_argument("--data-home", default=None, help="folder holding aclImdb_v1.tar.gz (default: $SKTRANSFER_DATA)")

    runs = p.add_argument_group("runs")
    runs.add_argument("--quick", action="store_true", help="small settings that finish in minutes on a CPU (see below)")
    runs.add_argument(
        "--strategies", nargs="+", metavar="NAME", default=None,
        help="strategies to run, space- or comma-separated (default: all that can run; listed above)",
    )
    runs.add_argument("--train-sizes", nargs="+", type=_positive_int, metavar="N", default=None,
                      help=f"numbers of labelled training texts (default: {' '.join(map(str, full.train_sizes))}; "
                           f"--quick: {' '.join(map(str, quick.train_sizes))})")
    runs.add_argument("--seeds", nargs="+", type=_seed, metavar="SEED", default=None,
                      help=f"one run per seed: it draws the subsample and seeds the models (default: "
                           f"{' '.join(map(str, full.seeds))}; --quick: {' '.join(map(str, quick.seeds))})")
    runs.add_argument("--out", default="results", help="output folder (default: results/)")
    runs.add_argument(
        "--resume", action="store_true",
        help="take over the runs already in OUT/results.json (saved after every run) and run only the "
             "missing ones: continues an interrupted comparison, or adds strategies, sizes or seeds to it",
    )
    runs.add_argument("--no-progress", action="store_true", help="no progress bar")

    models = p.add_argument_group("models")
    models.add_argument("--max-length", type=_positive_int, default=None,
                        help=f"tokens kept per text (BERT word pieces, ELMo words) (default: {full.max_length}; "
                             f"--quick: {quick.max_length})")
    models.add_argument("--epochs", type=_positive_int, default=None,
                        help=f"fine-tuning epochs (default: {full.epochs}; --quick: {quick.epochs})")
    models.add_argument("--lr", type=float, default=None,
                        help=f"fine-tuning learning rate (default: {StrategySettings().lr:g})")
    models.add_argument("--head-epochs", type=_positive_int, default=None,
                        help="epochs of the heads on token vectors, *-head-*, on a validation split; each "
                             "is then trained again on every text for its best epoch count (default: "
                             f"{StrategySettings().head_epochs})")
    models.add_argument("--truncation", choices=TRUNCATIONS, default=None,
                        help="what the bert-* strategies read of a text longer than --max-length: head+tail "
                             "(default: the measured best, docs/long_texts.md), head, tail, or chunks (every "
                             "token in windows; bert-lr only)")
    models.add_argument("--bert-model", default=None, metavar="NAME_OR_DIR",
                        help="BERT model of the bert-* strategies: a local directory or hub id "
                             "(default: all-MiniLM-L6-v2)")
    models.add_argument("--elmo-options", default=None, metavar="FILE",
                        help="ELMo options.json for the elmo-* strategies")
    models.add_argument("--elmo-weights", default=None, metavar="FILE",
                        help="ELMo weights.hdf5 for the elmo-* strategies")
    models.add_argument("--cache", default=None, metavar="DIR",
                        help="feature cache folder for the frozen-feature strategies (vectorizers that support it)")
    p.set_defaults(handler=_run_compare, subparser=p)
    return p


def build_parser():
    """The ``sktransfer`` argument parser, with one subparser per subcommand.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sktransfer",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<subcommand>", title="subcommands")
    subparsers.required = True
    _add_compare(subparsers)
    _add_pretrain_elmo(subparsers)
    return parser


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


def _check_out_folder(out, parser):
    """Fail before any work when --out names a file: its results could not be written at the end."""
    if Path(out).exists() and not Path(out).is_dir():
        parser.error(f"--out {out} is a file; pass a folder (it is created when missing)")


def _strategy_names(values, parser):
    from .strategies import REGISTRY

    if values is None:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown or not names:
        parser.error(
            f"unknown strategy {', '.join(map(repr, unknown)) or '(none given)'} in --strategies; "
            f"choose from: {', '.join(REGISTRY.names())}"
        )
    return names


def _load_data(args, n_test, parser):
    """(X_train, y_train, X_test, y_test, description) of the dataset argument."""
    import numpy as np

    if args.dataset.lower() == "imdb":
        from .datasets import fetch_imdb

        try:
            X_train, y_train = fetch_imdb("train", data_home=args.data_home, return_X_y=True)
            X_test, y_test = fetch_imdb(
                "test", data_home=args.data_home, n_samples=n_test, random_state=0, return_X_y=True
            )
        except (OSError, ValueError) as exc:
            parser.error(f"could not load IMDB: {exc}")
        return X_train, y_train, X_test, y_test, {"dataset": "imdb", "n_train_pool": len(y_train)}

    from sklearn.model_selection import train_test_split

    from .datasets import load_text_dataset

    path = Path(args.dataset)
    if not path.exists():
        parser.error(
            f"dataset {args.dataset!r} is neither 'imdb' nor an existing file; pass imdb or a .csv/.tsv/.jsonl path"
        )
    try:
        X, y = load_text_dataset(path, args.text_column, args.label_column, return_X_y=True)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        parser.error(
            f"{path} has a single label {classes.tolist()} in column {args.label_column!r}; "
            "a classifier needs two or more"
        )
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=args.test_size, stratify=y, random_state=0
        )
    except ValueError as exc:
        parser.error(
            f"cannot hold out --test-size {args.test_size} of {path} ({len(y)} texts, label counts "
            f"{dict(zip(classes.tolist(), counts.tolist()))}) stratified by label: {exc}"
        )
    if n_test is not None and n_test < len(y_test):
        X_test, _, y_test, _ = train_test_split(X_test, y_test, train_size=n_test, stratify=y_test, random_state=0)
    info = {"dataset": str(path), "text_column": args.text_column, "label_column": args.label_column,
            "test_size": args.test_size, "n_train_pool": len(y_train)}
    return list(X_train), np.asarray(y_train), list(X_test), np.asarray(y_test), info


def _run_compare(args, parser):
    from .compare import compare, draw_subsample
    from .reporting import format_table, write_results
    from .strategies import REGISTRY, StrategySettings, resolve_profile

    _check_out_folder(args.out, parser)
    run = resolve_profile(args.quick, train_sizes=args.train_sizes, seeds=args.seeds, n_test=args.n_test,
                          max_length=args.max_length, epochs=args.epochs)
    train_sizes, seeds = list(run.train_sizes), list(run.seeds)
    names = _strategy_names(args.strategies, parser)
    if (args.elmo_options is None) != (args.elmo_weights is None):
        parser.error("pass both --elmo-options and --elmo-weights (an options.json and its weights.hdf5), or neither")
    elmo_files = (args.elmo_options, args.elmo_weights) if args.elmo_options else None
    settings = StrategySettings(max_length=run.max_length, epochs=run.epochs, cache=args.cache,
                                bert_model=args.bert_model, elmo_files=elmo_files,
                                **({} if args.lr is None else {"lr": args.lr}),
                                **({} if args.head_epochs is None else {"head_epochs": args.head_epochs}),
                                **({} if args.truncation is None else {"truncation": args.truncation}))

    X_train, y_train, X_test, y_test, info = _load_data(args, run.n_test, parser)
    too_large = [n for n in train_sizes if n > len(y_train)]
    if too_large:
        parser.error(
            f"--train-sizes {' '.join(map(str, too_large))} exceed the {len(y_train)} training texts of "
            f"{info['dataset']}; pass sizes of at most {len(y_train)}"
        )

    for n in train_sizes:  # fail now, not after hours of fitting
        for seed in seeds:
            try:
                draw_subsample(y_train, n, seed)
            except ValueError as exc:
                parser.error(f"--train-sizes {n}: {exc}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            strategies = REGISTRY.build(names, settings)
        except ValueError as exc:
            parser.error(str(exc))
    notes = [str(w.message) for w in caught]
    if any(name.startswith("bert-") for name in strategies):
        # Every fit and transform of a BERT strategy would warn about the texts it cut (dozens of
        # TruncationWarnings per comparison); one note says it once.
        notes.append(f"the bert-* strategies read at most {settings.max_length} word pieces per text; a longer "
                     f"text is cut with --truncation {settings.truncation} (docs/long_texts.md)")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    print(
        f"{info['dataset']}: {len(y_train)} training texts to draw from, {len(y_test)} test texts; "
        f"strategies: {', '.join(strategies)}; train sizes {train_sizes}; seeds {seeds}",
        file=sys.stderr,
    )
    metadata = dict(info, max_length=settings.max_length, truncation=settings.truncation,
                    epochs=settings.epochs, lr=settings.lr,
                    head_epochs=settings.head_epochs, quick=args.quick,
                    bert_model=args.bert_model or "default", elmo_files=elmo_files, notes=notes,
                    command="sktransfer " + " ".join(args.argv))
    previous = None
    if args.resume:
        previous, command_then = _previous_results(args, metadata, len(y_test), strategies, parser)
        if previous is not None:
            metadata["resumed"] = {"records": len(previous), "from": command_then}

    def save_progress(partial):
        write_results(partial, args.out, metadata=dict(metadata, complete=False), plot=False)

    from .exceptions import TruncationWarning

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TruncationWarning)  # said once in the notes
        results = compare(X_train, y_train, X_test, y_test, strategies, train_sizes, seeds,
                          progress=not args.no_progress, previous_results=previous, on_result=save_progress)
    elapsed = time.perf_counter() - start

    metadata.update(complete=True, wall_seconds=round(elapsed, 1))
    paths = write_results(results, args.out, metadata=metadata)
    print()
    print(f"Test accuracy on {info['dataset']} ({len(y_test)} texts), mean ± std over seeds {seeds}:")
    print()
    print(format_table(results, "accuracy"))
    print()
    for note in notes:
        print(f"note: {note}")
    curves = f", training curves: {paths['training_curves']}" if "training_curves" in paths else ""
    print(f"Finished in {elapsed:.0f} s. Results: {paths['json']}, table: {paths['markdown']}, "
          f"learning curve: {paths['plot']}{curves}")
    return 0


def _previous_results(args, metadata, n_test, strategies, parser):
    """(runs of ``OUT/results.json`` that ``--resume`` takes over, the command that made them), or (None, None).

    The rules are :func:`sktransfer.reporting.reusable_runs`'; this only turns their verdict into messages.
    """
    from importlib.metadata import version

    from .reporting import (
        RESUME_SETTINGS,
        IncompatibleResultsError,
        read_results,
        reusable_runs,
    )

    path = Path(args.out) / "results.json"
    if not path.exists():
        print(f"note: --resume: no {path} yet, starting afresh", file=sys.stderr)
        return None, None
    try:
        previous = read_results(path)
    except ValueError as exc:
        parser.error(f"--resume: {exc}")
    current = {key: metadata.get(key) for key in RESUME_SETTINGS}
    current.update(n_test=n_test, sktransfer_version=version("sktransfer"),
                   strategies={name: repr(est) for name, est in strategies.items()})
    try:
        reusable = reusable_runs(previous, current)
    except IncompatibleResultsError as exc:
        parser.error(
            f"--resume: {path} was made with other settings ({'; '.join(exc.changes)}); pass the same "
            "settings, or another --out to start a new comparison"
        )
    if reusable.changed:
        print(f"note: --resume: settings of {', '.join(reusable.changed)} changed since {path}; running them again",
              file=sys.stderr)
    print(f"--resume: taking over {len(reusable)} runs from {path}", file=sys.stderr)
    return reusable.to_frame(), previous.attrs["metadata"].get("command")


# --------------------------------------------------------------------------------------------
# pretrain-elmo
# --------------------------------------------------------------------------------------------

_PRETRAIN_DESCRIPTION = """\
Pretrain an ELMo biLM (forward and backward language models with a shared character CNN and
softmax, as in bilm-tf) on unlabelled text, on a CPU or GPU.

CORPUS is a text file (one document per line), a folder of .txt files, or 'imdb': IMDB's
unlabelled reviews plus the training reviews (never the test split), read from --data-home or
$SKTRANSFER_DATA. The output folder receives options.json and weights.hdf5 (the bilm-tf/AllenNLP
layout, for ELMoVectorizer(options_file, weight_file) or any AllenNLP-compatible loader),
vocab.txt, training.json (per-evaluation held-out and unigram perplexity, tokens/s) and
checkpoint.pt; running the same command again resumes from the checkpoint.
"""

_PRETRAIN_EPILOG = """\
examples:
  sktransfer pretrain-elmo reviews.txt --out my-elmo                     # compact model, one epoch
  sktransfer pretrain-elmo reviews.txt --out small-elmo --architecture small --device cuda
  sktransfer pretrain-elmo imdb --out imdb-elmo --max-tokens 6000000 --dtype float16
  sktransfer compare --elmo-options my-elmo/options.json --elmo-weights my-elmo/weights.hdf5
"""


def _add_pretrain_elmo(subparsers):
    p = subparsers.add_parser(
        "pretrain-elmo",
        help="pretrain an ELMo biLM on unlabelled text",
        description=_PRETRAIN_DESCRIPTION,
        epilog=_PRETRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("corpus", help="a text file (one document per line), a folder of .txt files, or 'imdb'")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (resumes when it holds a checkpoint)")
    p.add_argument("--architecture", default=None, metavar="NAME_OR_FILE",
                   help="what to pretrain from scratch: tiny, compact (default), wide, small, or an "
                        "options.json")
    # Deprecated: "preset" also names the published, trained models of ELMoVectorizer(preset=...).
    p.add_argument("--preset", default=None, help=argparse.SUPPRESS)
    p.add_argument("--max-tokens", type=_positive_int, default=None,
                   help="training budget in words (default: one epoch)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="passes over the corpus (default: 1)")
    p.add_argument("--vocab-size", type=_positive_int, default=50000, help="softmax vocabulary (default: 50000)")
    p.add_argument("--softmax-cutoffs", type=_positive_int, nargs="+", default=None, metavar="N",
                   help="adaptive softmax cut-offs, increasing word ranks (default: 1000 5000 20000, those the "
                        "embedded IMDB model was trained with)")
    p.add_argument("--batch-size", type=_positive_int, default=128, help="windows per step (default: 128)")
    p.add_argument("--bptt", type=_positive_int, default=20, help="tokens per training window (default: 20)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 1e-3 with Adam)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the held-out split, batches and weights (default: 0)")
    p.add_argument("--shuffle-seed", type=_seed, default=None,
                   help="seed of the batch order alone (default: --seed); with --init-from, keep --seed (the same "
                        "held-out split) and change this to avoid repeating the order the model was trained in")
    p.add_argument("--eval-every", type=_positive_int, default=None, metavar="STEPS",
                   help="held-out perplexity every STEPS steps as well as after each epoch (default: epochs only)")
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32", help="storage of weights.hdf5")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="CPU processes that share every batch, each with 1/N of the torch threads (default: 1); "
                        "the same training, faster where a second thread does not speed a step up "
                        "(measured with 2 on a 2-core machine: 1.6-2.0x one process, docs/pretraining_throughput.md)")
    p.add_argument("--data-home", default=None, help="folder holding aclImdb_v1.tar.gz, for CORPUS 'imdb'")
    p.add_argument("--checkpoint-every", type=_positive_int, default=500, metavar="STEPS",
                   help="steps between checkpoints, what a killed run loses at most (default: 500)")
    p.add_argument("--init-from", default=None, metavar="DIR",
                   help="continue training a trained biLM instead of random weights: a folder with options.json "
                        "and weights.hdf5, or 'embedded' for the model ELMoVectorizer() ships (the softmax and "
                        "optimizer start fresh; the architecture is the model's)")
    p.add_argument("--softmax-warmup-steps", type=_non_negative_int, default=None, metavar="STEPS",
                   help="steps during which only the new softmax trains (default: 200 with --init-from, else 0)")
    p.add_argument("--snapshot-every", type=_positive_int, default=None, metavar="STEPS",
                   help="also write the model every STEPS steps to DIR/snapshots/step-NNNNNNN/ (default: never)")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if --out holds a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run_pretrain_elmo, subparser=p)
    return p


def _pretrain_architecture(args, parser):
    """The --architecture value, or that of its deprecated spelling --preset (with a warning)."""
    if args.preset is None:
        return args.architecture or "compact"
    if args.architecture is not None:
        parser.error(f"--preset is the deprecated spelling of --architecture; pass only --architecture "
                     f"(got --architecture {args.architecture} and --preset {args.preset})")
    print(f"warning: --preset is deprecated for pretrain-elmo and will be removed; use --architecture "
          f"{args.preset} (a preset is a published, trained model, as in ELMoVectorizer(preset=...))",
          file=sys.stderr)
    return args.preset


def _run_pretrain_elmo(args, parser):
    from .elmo.pretrain import architecture_options, pretrain_elmo

    _check_out_folder(args.out, parser)
    architecture = _pretrain_architecture(args, parser)
    init_from = args.init_from
    if init_from == "embedded":
        from .elmo.embedded import EMBEDDED_MODEL_DIR

        init_from = EMBEDDED_MODEL_DIR
    if init_from is not None:
        from .elmo.pretrain import model_files

        try:
            model_files(init_from)  # fail now, not after reading the corpus
        except ValueError:
            parser.error(f"--init-from {args.init_from}: expected 'embedded' or a folder holding options.json "
                         "and weights.hdf5 (e.g. an earlier --out folder)")
        # The architecture is the model's; an explicit --architecture must agree (pretrain_elmo checks).
        architecture = args.architecture
    try:
        architecture_options(architecture)
    except (OSError, ValueError) as exc:  # fail now, not after reading the corpus
        parser.error(f"--architecture: {exc}")
    corpus = args.corpus
    if corpus == "imdb":
        from .datasets import imdb_pretraining_corpus

        corpus = imdb_pretraining_corpus(data_home=args.data_home)
    elif not Path(corpus).exists():
        parser.error(f"CORPUS {corpus!r} is neither 'imdb' nor an existing file or folder.")
    start = time.perf_counter()
    result = pretrain_elmo(
        corpus, args.out, architecture=architecture, vocab_size=args.vocab_size, epochs=args.epochs,
        max_tokens=args.max_tokens, batch_size=args.batch_size, bptt=args.bptt, lr=args.lr, seed=args.seed,
        shuffle_seed=args.shuffle_seed, workers=args.workers,
        eval_every=args.eval_every, checkpoint_every=args.checkpoint_every, resume=not args.no_resume,
        progress=not args.no_progress, device=args.device, init_from=init_from,
        softmax_warmup_steps=args.softmax_warmup_steps, snapshot_every=args.snapshot_every,
        dtype=args.dtype, softmax="adaptive" if args.softmax_cutoffs is None else args.softmax_cutoffs,
    )
    if result.resumed_from_step is not None:
        print(f"resumed from the checkpoint of step {result.resumed_from_step} in {Path(args.out) / 'checkpoint.pt'}")
    print(f"\npretrained in {time.perf_counter() - start:.0f} s: {result.tokens} words in {result.steps} steps, "
          f"{result.tokens_per_second:.0f} words/s")
    if result.held_out_perplexity is not None:
        print(f"held-out perplexity {result.held_out_perplexity:.1f} "
              f"(unigram baseline {result.unigram_perplexity:.1f})")
    print(f"model written to {Path(result.out_dir).resolve()}: options.json, weights.hdf5, vocab.txt, training.json")
    return 0


def main(argv=None):
    """Run the ``sktransfer`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success. Usage errors exit with status 2 and a message (argparse's convention); an
        error met while running (a model file, the disk, a setting the machine cannot honour) exits
        with status 1 and a one-line message, without a traceback (set ``SKTRANSFER_DEBUG=1`` to
        see it); Ctrl-C exits with status 130 and says how to continue.
    """
    from .exceptions import MissingDependencyError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.handler(args, args.subparser)
    except MissingDependencyError as exc:
        args.subparser.error(str(exc))
    except KeyboardInterrupt:
        print(f"\n{args.subparser.prog}: interrupted. {_RESUME_HINTS[args.handler](args)}", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:  # user errors: files, settings; never a traceback for those
        if os.environ.get("SKTRANSFER_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or repr(exc)
        print(f"{args.subparser.prog}: error: {message}", file=sys.stderr)
        return 1


def _compare_resume_hint(args):
    return (f"The finished runs are saved in {Path(args.out) / 'results.json'}; run the same command with "
            "--resume to continue without repeating them.")


def _pretrain_resume_hint(args):
    return (f"Run the same command again to resume from the last checkpoint in {Path(args.out) / 'checkpoint.pt'} "
            f"(written every {args.checkpoint_every} steps and at each epoch end).")


_RESUME_HINTS = {_run_compare: _compare_resume_hint, _run_pretrain_elmo: _pretrain_resume_hint}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
