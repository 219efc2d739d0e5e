"""The strategy registry of ``sktransfer compare``: one entry per strategy, and the run profiles.

A :class:`Strategy` entry holds everything the comparison needs to know about a strategy: its
name, a one-line description (help texts), a factory that builds the unfitted estimator from
the shared :class:`StrategySettings`, its requirements (e.g. an ELMo model; unmet ones skip the
strategy with a note) and the name of its random-weight twin. The twin is derived from the base
entry (same factory, ``pretrained=False``), so declaring ``random_twin`` is enough.
:func:`sktransfer.compare.default_strategies`, the ``compare`` command line (``--help``,
``--strategies``) and the legend of :func:`sktransfer.reporting.plot_learning_curve` all read
:data:`REGISTRY`: adding a strategy is one :meth:`StrategyRegistry.register` call.

:data:`PROFILES` holds the two run profiles (``full`` and ``--quick``) and
:func:`resolve_profile` is the one place where explicitly given values override a profile.

Estimators are imported inside the factories, so importing this module stays cheap.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PROFILES",
    "REGISTRY",
    "REQUIREMENTS",
    "Profile",
    "Requirement",
    "Strategy",
    "StrategyRegistry",
    "StrategySettings",
    "elmo_unavailable_reason",
    "resolve_profile",
]


# --------------------------------------------------------------------------------------------
# profiles and settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Run settings of a comparison: what ``--quick`` (or its absence) stands for."""

    train_sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    n_test: int
    max_length: int
    epochs: int


#: ``quick`` took 551 s on 2 CPU cores with IMDB (docs/compare_quick); ``full`` is the paper-style run.
PROFILES = {
    "full": Profile(train_sizes=(100, 500, 2000), seeds=(0, 1, 2), n_test=2000, max_length=256, epochs=3),
    "quick": Profile(train_sizes=(100, 300), seeds=(0,), n_test=500, max_length=128, epochs=3),
}


def resolve_profile(quick=False, **explicit):
    """The profile of ``quick``, with every explicitly given (not None) setting taking precedence.

    Parameters
    ----------
    quick : bool, default=False
        Start from ``PROFILES["quick"]`` instead of ``PROFILES["full"]``.
    **explicit
        Fields of :class:`Profile` (``train_sizes``, ``seeds``, ``n_test``, ``max_length``,
        ``epochs``); None means "not given": the profile's value is kept.

    Returns
    -------
    profile : Profile

    Raises
    ------
    TypeError
        If a keyword is not a field of :class:`Profile`.
    """
    profile = PROFILES["quick" if quick else "full"]
    fields = {f.name for f in dataclasses.fields(Profile)}
    unknown = sorted(set(explicit) - fields)
    if unknown:
        raise TypeError(
            f"resolve_profile() got unknown settings {unknown}; the settings of a profile are {sorted(fields)}."
        )
    given = {k: tuple(v) if k in ("train_sizes", "seeds") else v for k, v in explicit.items() if v is not None}
    return dataclasses.replace(profile, **given)


#: What ``--truncation`` accepts; the first is the default of :class:`StrategySettings`.
TRUNCATIONS = ("head+tail", "head", "tail", "chunks")


@dataclass(frozen=True)
class StrategySettings:
    """What the factories of the registry read: model sizes, training and model files.

    Parameters
    ----------
    max_length : int, default=256
        Tokens kept per text: BERT word pieces, or ELMo words (``max_tokens``).
    epochs : int, default=3
        Training epochs of the strategies that train a network.
    lr : float, default=1e-4
        Learning rate of those strategies (higher than the usual 2e-5, which suits larger
        training sets).
    cache : str, path-like, joblib.Memory or None, default=None
        Feature cache, passed only to vectorizers that have a ``cache`` parameter.
    bert_model : str or None, default=None
        ``model_name_or_path`` of the BERT strategies; None keeps the estimators' default.
    elmo_files : tuple of (str, str) or None, default=None
        ``(options_file, weight_file)`` of the ELMo strategies; None uses ``ELMoVectorizer()``'s
        default model.
    head_epochs : int, default=20
        Epochs of the heads trained on token vectors on 80 % of the training texts, to draw
        their validation curves and find the best epoch; each head is then trained again on
        every text for that many epochs (``refit=True``). Early stopping on the small split cost
        about 7 points at 100 labels (docs/feature_heads.md).
    truncation : {"head+tail", "head", "tail", "chunks"}, default="head+tail"
        What the BERT strategies read of a text longer than ``max_length`` word pieces (see
        :class:`~sktransfer.BertVectorizer`). "head+tail" is the measured best at no extra cost:
        on IMDB at ``max_length=256`` it beat "head" by 1.1-2.4 points fine-tuned and 1.1-2.3 points
        with MiniLM features + logistic regression, in the same time (docs/long_texts.md). "chunks"
        reads every token and suits only ``bert-lr`` (it led those features by 1.8 points at 2,000
        labels, for 1.5x their time): the strategies on token vectors or fine-tuning refuse it.
    """

    max_length: int = PROFILES["full"].max_length
    epochs: int = PROFILES["full"].epochs
    lr: float = 1e-4
    cache: Any = None
    bert_model: str | None = None
    elmo_files: tuple[str, str] | None = None
    head_epochs: int = 20
    truncation: str = "head+tail"

    def __post_init__(self):
        if self.truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {list(TRUNCATIONS)}, got {self.truncation!r}.")
        if self.elmo_files is not None:
            files = tuple(self.elmo_files)
            if len(files) != 2:
                raise ValueError(f"elmo_files must be (options_file, weight_file), got {self.elmo_files!r}.")
            object.__setattr__(self, "elmo_files", files)


# --------------------------------------------------------------------------------------------
# requirements
# --------------------------------------------------------------------------------------------


def elmo_unavailable_reason(elmo_files=None):
    """Say why the ELMo strategies cannot run, or return None when they can.

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


@dataclass(frozen=True)
class Requirement:
    """Something a strategy needs besides the package itself, e.g. an ELMo model.

    ``unavailable_reason(settings)`` returns None when the requirement is met, else a sentence
    that says how to meet it. ``label`` names the strategies in messages ("the ELMo strategies").
    """

    label: str
    unavailable_reason: Callable[[StrategySettings], str | None]


#: Requirements a :class:`Strategy` can name in ``requires``.
REQUIREMENTS = {
    # Looked up at call time so that tests (and users) can replace elmo_unavailable_reason.
    "elmo": Requirement("ELMo", lambda settings: elmo_unavailable_reason(settings.elmo_files)),
}


# --------------------------------------------------------------------------------------------
# entries and the registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Strategy:
    """One strategy of the comparison.

    Parameters
    ----------
    name : str
        The name in tables, ``--strategies`` and the plot legend.
    description : str
        One line for help texts.
    factory : callable
        ``factory(settings, pretrained=...)`` returns the unfitted estimator for a
        :class:`StrategySettings`; ``pretrained=False`` builds the random-weight twin.
    requires : tuple of str, default=()
        Keys of :data:`REQUIREMENTS`; when one is unmet the strategy is skipped with a note
        (or, when asked for by name, refused with the reason).
    random_twin : str, bool or None, default=None
        Name of the ``pretrained=False`` twin (True: ``<name>-random``); None: no twin.
    twin_description : str, default="the same from random weights (pretrained=False)"
        The twin's line for help texts.
    twin_requires : tuple of str or None, default=None
        The twin's requirements when they differ from the base entry's (None: the same).
    pretrained : bool, default=True
        False on a derived twin.
    twin_of : str or None, default=None
        On a derived twin, the name of its base entry.
    """

    name: str
    description: str
    factory: Callable[..., Any]
    requires: tuple[str, ...] = ()
    random_twin: str | bool | None = None
    twin_description: str = "the same from random weights (pretrained=False)"
    twin_requires: tuple[str, ...] | None = None
    pretrained: bool = True
    twin_of: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"A strategy name must be a non-empty string, got {self.name!r}.")
        if not callable(self.factory):
            raise TypeError(f"The factory of strategy {self.name!r} must be callable, got {self.factory!r}.")
        object.__setattr__(self, "requires", tuple(self.requires))
        if self.twin_requires is not None:
            object.__setattr__(self, "twin_requires", tuple(self.twin_requires))
        unknown = [r for r in (*self.requires, *(self.twin_requires or ())) if r not in REQUIREMENTS]
        if unknown:
            raise ValueError(
                f"Strategy {self.name!r} requires {unknown}, which are not known requirements; "
                f"use keys of sktransfer.strategies.REQUIREMENTS: {sorted(REQUIREMENTS)}."
            )
        if self.random_twin is True:
            object.__setattr__(self, "random_twin", f"{self.name}-random")
        elif self.random_twin is False:
            object.__setattr__(self, "random_twin", None)

    def twin(self):
        """The derived ``pretrained=False`` entry, or None when this entry declares no twin."""
        if self.random_twin is None:
            return None
        requires = self.requires if self.twin_requires is None else self.twin_requires
        return dataclasses.replace(
            self, name=self.random_twin, description=self.twin_description, random_twin=None,
            requires=requires, twin_requires=None, pretrained=False, twin_of=self.name,
        )

    def build(self, settings):
        """The unfitted estimator of this strategy for ``settings``."""
        return self.factory(settings, pretrained=self.pretrained)


class StrategyRegistry:
    """Strategies by name, in table order, each base entry followed by its random twin."""

    def __init__(self):
        self._entries = {}

    def register(self, entry):
        """Add ``entry`` (and its derived twin) after the strategies registered so far.

        Parameters
        ----------
        entry : Strategy

        Returns
        -------
        entry : Strategy
            The same entry.

        Raises
        ------
        ValueError
            If the name of the entry or of its twin is taken.
        """
        if not isinstance(entry, Strategy):
            raise TypeError(f"register() takes a sktransfer.strategies.Strategy, got {type(entry).__name__}.")
        new = [entry] + ([entry.twin()] if entry.random_twin else [])
        taken = [e.name for e in new if e.name in self._entries]
        if taken or len({e.name for e in new}) != len(new):
            raise ValueError(
                f"Strategy name(s) {taken or [entry.name]} already registered; choose another name or "
                "unregister() the existing entry first."
            )
        for e in new:
            self._entries[e.name] = e
        return entry

    def unregister(self, name):
        """Remove the base entry ``name`` and its twin."""
        entry = self[name]
        if entry.twin_of is not None:
            raise ValueError(f"{name!r} is the twin of {entry.twin_of!r}; unregister {entry.twin_of!r} instead.")
        del self._entries[name]
        self._entries.pop(entry.random_twin, None)

    def __getitem__(self, name):
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"No strategy {name!r} in the registry; registered: {self.names()}.") from None

    def __contains__(self, name):
        return name in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self):
        return len(self._entries)

    def names(self):
        """Every strategy name, in table order."""
        return list(self._entries)

    def descriptions(self):
        """``{name: description}`` in table order."""
        return {name: e.description for name, e in self._entries.items()}

    def check_names(self, names):
        """``names`` without repeats, in the given order.

        Raises
        ------
        ValueError
            If a name is not registered.
        """
        wanted = list(dict.fromkeys(names))
        unknown = [n for n in wanted if n not in self._entries]
        if unknown:
            raise ValueError(
                f"Unknown strategy name(s) {unknown}; the default strategies are "
                f"{self.names()}. Pass your own estimators to compare() for others."
            )
        return wanted

    def build(self, names=None, settings=None, *, stacklevel=2):
        """Build the estimators of ``names`` (None: every registered strategy) for ``settings``.

        A strategy whose requirement is unmet is left out with a :class:`UserWarning` that says
        why when ``names`` is None, and refused with a ValueError when it was asked for by name.

        Returns
        -------
        strategies : dict of str -> estimator
            Unfitted estimators, in the order of ``names`` (table order when None).
        """
        explicit = names is not None
        wanted = self.check_names(names) if explicit else self.names()
        settings = StrategySettings() if settings is None else settings
        available = set(wanted)
        for key in dict.fromkeys(r for n in wanted for r in self._entries[n].requires):
            blocked = [n for n in wanted if key in self._entries[n].requires]
            requirement = REQUIREMENTS[key]
            reason = requirement.unavailable_reason(settings)
            if reason is None:
                continue
            if explicit:
                raise ValueError(f"Cannot build {blocked}: {reason}.")
            warnings.warn(f"Skipping the {requirement.label} strategies {blocked}: {reason}.", UserWarning,
                          stacklevel=stacklevel + 1)
            available -= set(blocked)
        return {n: self._entries[n].build(settings) for n in wanted if n in available}

    def base_of(self, name):
        """The name whose colour a strategy shares in plots: its base entry for a twin, else itself."""
        entry = self._entries.get(name)
        return name if entry is None or entry.twin_of is None else entry.twin_of


# --------------------------------------------------------------------------------------------
# the default strategies
# --------------------------------------------------------------------------------------------


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


def _bert_kwargs(settings):
    return {} if settings.bert_model is None else {"model_name_or_path": settings.bert_model}


def _tfidf_lr(settings, pretrained=True):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=1000),
    )


def _elmo_vectorizer(settings, pretrained=True):
    from .elmo_vectorizer import ELMoVectorizer

    files = {}
    if settings.elmo_files is not None:
        files = {"options_file": settings.elmo_files[0], "weight_file": settings.elmo_files[1]}
    return ELMoVectorizer(**files, max_tokens=settings.max_length, pretrained=pretrained,
                          **_vectorizer_kwargs(ELMoVectorizer, settings.cache))


def _elmo_lr(settings, pretrained=True):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_elmo_vectorizer(settings, pretrained), LogisticRegression(max_iter=2000))


#: Share of each training set the heads hold out to draw their training curves and pick their epochs.
HEAD_VALIDATION_FRACTION = 0.2


def _trained_head(head, encoder, settings):
    from .feature_head import FeatureHeadClassifier

    # The refit protocol: the split only measures (every epoch, no early stop), then the head is
    # trained again on every text for the best epoch count. On a 20-text split, stopping early
    # ended training after 4-6 epochs and cost ~7 points at 100 labels (docs/feature_heads.md).
    return FeatureHeadClassifier(encoder, head=head, max_epochs=settings.head_epochs,
                                 validation_fraction=HEAD_VALIDATION_FRACTION, patience=None, refit=True)


def _elmo_head(head):
    """Factory of the lecture's feature-based recipe with ``head`` on the frozen ELMo.

    Its random counterpart (``pretrained=False``) is the lecture's baseline: the same head on
    randomly initialised word embeddings trained with it, over the same words (ELMo's tokenizer,
    ``max_length`` words per text).
    """

    def factory(settings, pretrained=True):
        encoder = _elmo_vectorizer(settings) if pretrained else _random_word_embeddings(settings)
        return _trained_head(head, encoder, settings)

    return factory


def _random_word_embeddings(settings):
    """The random-embedding baseline's vocabulary: ELMo's words, ``max_length`` per text."""
    from .word_embedding import WordEmbeddingEncoder

    return WordEmbeddingEncoder(max_tokens=settings.max_length)


def _elmo_embed_head(settings, pretrained=True):
    """The ELMo paper's recipe: ELMo joined to the word vectors of the random-embedding baseline."""
    head = _trained_head("mlp", _elmo_vectorizer(settings, pretrained), settings)
    return head.set_params(word_embeddings=_random_word_embeddings(settings))


def _bert_vectorizer(settings, pretrained=True, **params):
    from .bert_vectorizer import BertVectorizer

    return BertVectorizer(**_bert_kwargs(settings), max_length=settings.max_length, pretrained=pretrained,
                          truncation=settings.truncation, **params,
                          **_vectorizer_kwargs(BertVectorizer, settings.cache))


def _one_window_truncation(settings, strategy):
    """``settings.truncation`` for a strategy that reads one window per text; "chunks" is refused."""
    if settings.truncation == "chunks":
        raise ValueError(
            f"truncation 'chunks' pools whole-text vectors and suits only bert-lr; {strategy} reads one window "
            "per text. Use --truncation head+tail (or head, tail), or leave it out of --strategies."
        )
    return settings.truncation


def _bert_head_mlp(settings, pretrained=True):
    # The BERT paper's feature-based variant: a learned mix of the last four hidden layers.
    _one_window_truncation(settings, "bert-head-mlp")
    return _trained_head("mlp", _bert_vectorizer(settings, pretrained, layers=[-4, -3, -2, -1]), settings)


def _bert_lr(settings, pretrained=True):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_bert_vectorizer(settings, pretrained), LogisticRegression(max_iter=2000))


def _bert_finetune(settings, pretrained=True):
    from .finetune import BertFineTuneClassifier

    return BertFineTuneClassifier(**_bert_kwargs(settings), max_length=settings.max_length,
                                  truncation=_one_window_truncation(settings, "bert-finetune"),
                                  max_epochs=settings.epochs, lr=settings.lr, pretrained=pretrained)


#: The strategies of ``sktransfer compare``, in table order.
REGISTRY = StrategyRegistry()
REGISTRY.register(Strategy(
    "tfidf-lr", "TF-IDF of word uni- and bigrams + logistic regression (no transfer)", _tfidf_lr,
))
REGISTRY.register(Strategy(
    "elmo-lr", "frozen ELMo features (mean-pooled) + logistic regression", _elmo_lr, requires=("elmo",),
    random_twin=True, twin_description="the same with a randomly initialised ELMo (pretrained=False)",
))
_RANDOM_EMBEDDINGS = "the same head on randomly initialised word embeddings trained with it (the lecture's baseline)"
REGISTRY.register(Strategy(
    "elmo-head-mlp", "learned mix of frozen ELMo layers, mean-pooled, into a trained W2 tanh(W1 x) + b head",
    _elmo_head("mlp"), requires=("elmo",),
    random_twin="embed-head-mlp", twin_description=_RANDOM_EMBEDDINGS, twin_requires=(),
))
REGISTRY.register(Strategy(
    "elmo-head-bilstm", "learned mix of frozen ELMo layers into a trained BiLSTM + linear head",
    _elmo_head("bilstm"), requires=("elmo",),
    random_twin="embed-head-bilstm", twin_description=_RANDOM_EMBEDDINGS, twin_requires=(),
))
REGISTRY.register(Strategy(
    "elmo-embed-head-mlp", "the MLP head on frozen ELMo's learned mix joined to word embeddings trained with it "
    "([ELMo; x], the ELMo paper's recipe; its baseline is embed-head-mlp)",
    _elmo_embed_head, requires=("elmo",),
))
REGISTRY.register(Strategy(
    "bert-lr", "frozen BERT features (mean-pooled) + logistic regression", _bert_lr,
    random_twin=True, twin_description="the same with a randomly initialised BERT (pretrained=False)",
))
REGISTRY.register(Strategy(
    "bert-head-mlp", "learned mix of frozen BERT's last 4 layers, mean-pooled, into a trained W2 tanh(W1 x) + b head",
    _bert_head_mlp,
))
REGISTRY.register(Strategy(
    "bert-finetune", "BERT fine-tuned end to end with a classification head", _bert_finetune,
    random_twin=True, twin_description="the same from random weights (pretrained=False)",
))
