"""Pretrain an ELMo biLM on an unlabelled corpus (bilm-tf's training recipe, in PyTorch).

The model is :class:`~sktransfer.elmo.bilm.ElmoBiLm` itself (shared character CNN, one
LSTM stack per direction) plus a word-level softmax shared by both directions. The loss
is the mean of the forward LM's next-token and the backward LM's previous-token
negative log-likelihoods, as in bilm-tf. The result is an ``options.json`` +
``weights.hdf5`` pair in the published layout, which :meth:`ElmoBiLm.from_files` (and
AllenNLP) load, plus ``vocab.txt`` and ``training.json``.

Design choices (measured on 2 CPU cores; see ``docs/pretraining.md``)
---------------------------------------------------------------------
* **Stateless windows.** bilm-tf concatenates sentences into one stream per batch row
  and carries the LSTM state across windows. Here every window ``<S> ... </S>`` (whole
  sentences packed up to ``bptt`` tokens) starts from a zero state, in both directions.
  That is exactly how the model is used at inference (each text wrapped in
  ``<S>``/``</S>``, zero state), so the first tokens of a text -- which a carried-state
  model never learned to handle -- get vectors from the regime the model was trained in,
  and ``</S>``/``<S>`` are predicted at real text boundaries. The cost is shorter
  contexts during training (at most ``bptt`` tokens), which matters little for the
  lower layers that feature extraction uses most.
* **Adaptive softmax** (``torch.nn.AdaptiveLogSoftmaxWithLoss``) instead of bilm-tf's
  sampled softmax: it is an exact, normalised distribution (so the training loss *is*
  the full-softmax NLL and held-out perplexity is exact with no extra pass), and on a
  CPU it is cheaper than 8192 shared negative samples. Small vocabularies (< 1 000
  words) use a plain full softmax. The softmax is kept in the checkpoint; like bilm-tf's
  ``dump_weights`` it is not written to ``weights.hdf5`` (feature extraction never uses
  it, and an embedded model must stay small).
* **Adam** (lr 1e-3) by default, the usual choice for short LM runs (bilm-tf's Adagrad
  with lr 0.2 was tuned for 10 epochs over 1B words; the two have not been compared here at
  scale); ``optimizer="adagrad"`` reproduces bilm-tf.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._device import resolve_device
from .._io import atomic_path, atomic_write, sha256_file
from ..tokenization import word_tokenize
from ._data_parallel import SingleProcess, run_workers
from .bilm import ElmoBiLm
from .corpus import TokenizedCorpus, epoch_batches, iter_documents, make_batch, sequential_batches, unigram_counts
from .vocabulary import Vocabulary, count_words
from .weights import load_options, save_weights, write_options

__all__ = ["ARCHITECTURES", "PretrainResult", "pretrain_elmo", "architecture_options", "model_files", "words_seen"]

PathLike = Union[str, os.PathLike]

_CNN_COMMON = {"activation": "relu", "n_characters": 262, "max_characters_per_token": 50}

_COMPACT_FILTERS = [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256]]


def _lstm(cell: int, projection: int) -> Dict[str, Any]:
    """ELMo's 2-layer LSTM options (bilm-tf's clips and skip connections) with these widths."""
    return {"dim": cell, "projection_dim": projection, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
            "use_skip_connections": True}


def _char_cnn(char_dim: int, filters) -> Dict[str, Any]:
    """Character-CNN options (one highway layer) with these character and filter sizes."""
    return {"embedding": {"dim": char_dim}, "filters": [list(f) for f in filters], "n_highway": 1, **_CNN_COMMON}


#: Named architectures to pretrain from scratch (ELMo options; untrained, unlike the published
#: models of ``ELMoVectorizer(preset=...)``). ``"small"`` is the architecture of the published small ELMo
#: (``2x1024_128_2048cnn_1xhighway``); ``"compact"`` keeps its 128-wide projection (256-wide
#: features) but a 256-wide cell and a 512-filter CNN, for CPU budgets of a few million
#: tokens per hour (~1.7M parameters, ~3.5 MB in float16); ``"wide"`` is compact with the small
#: ELMo's 1024-wide LSTM cell (5.4M parameters, 10.7 MB in float16), the choice of the architecture
#: sweep in ``docs/elmo_imdb_model_card.md`` (the best transfer per word read, 2.8x slower per word
#: than compact; the embedded model's architecture); ``"tiny"`` is for tests.
ARCHITECTURES: Dict[str, Dict[str, Any]] = {
    "tiny": {"lstm": _lstm(32, 16), "char_cnn": _char_cnn(4, [[1, 8], [2, 8], [3, 16]])},
    "compact": {"lstm": _lstm(256, 128), "char_cnn": _char_cnn(16, _COMPACT_FILTERS)},
    "wide": {"lstm": _lstm(1024, 128), "char_cnn": _char_cnn(16, _COMPACT_FILTERS)},
    "small": {"lstm": _lstm(1024, 128), "char_cnn": _char_cnn(16, _COMPACT_FILTERS + [[6, 512], [7, 1024]])},
}

# Adaptive-softmax cluster boundaries (by frequency rank); those >= the vocabulary size are dropped.
# A 1000-word head: on IMDB at 300k words, the held-out perplexity was lower than with
# (2000, 10000, 40000) (538/536 vs 556/556, seeds 0/1) at about half the softmax arithmetic
# (docs/pretraining_throughput.md).
_DEFAULT_CUTOFFS = (1000, 5000, 20000)
_CHECKPOINT = "checkpoint.pt"


def architecture_options(options: Union[None, str, Mapping[str, Any], PathLike]) -> dict:
    """ELMo ``lstm`` and ``char_cnn`` options of an architecture.

    Parameters
    ----------
    options : str, dict, path-like or None
        A name of :data:`ARCHITECTURES`, ELMo options as a dict, or an ``options.json`` path;
        None means ``"compact"``.

    Returns
    -------
    dict
        ``{"lstm": ..., "char_cnn": ...}`` (training keys of the input are dropped).
    """
    if options is None:
        options = "compact"
    if isinstance(options, str) and not options.endswith(".json") and os.path.sep not in options:
        if options not in ARCHITECTURES:
            names = ", ".join(map(repr, sorted(ARCHITECTURES)))
            raise ValueError(f"unknown architecture {options!r}: expected one of {names}, ELMo options as a dict, "
                             "or the path of an options.json file")
        options = ARCHITECTURES[options]
    opts = load_options(options)
    # Only ELMo's architecture is taken from the input; training keys are rewritten later.
    return {"lstm": opts["lstm"], "char_cnn": opts["char_cnn"]}


class _Softmax(nn.Module):
    """Word softmax shared by the two directions: adaptive (``cutoffs``) or full."""

    def __init__(self, dim: int, n_classes: int, cutoffs: Sequence[int]) -> None:
        super().__init__()
        self.cutoffs = list(cutoffs)
        if self.cutoffs:
            # Each tail cluster is div_value times narrower (rare words need few dimensions);
            # capped so that the last cluster keeps at least one dimension on narrow models.
            div_value = min(4.0, 0.99 * dim ** (1.0 / len(self.cutoffs)))  # 0.99: float floor
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(dim, n_classes, self.cutoffs, div_value=div_value)
        else:
            self.full = nn.Linear(dim, n_classes)

    def nll(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Exact per-row negative log-likelihood ``(N,)`` of ``targets`` under the full distribution."""
        if self.cutoffs:
            return -self.adaptive(hidden, targets).output
        return F.cross_entropy(self.full(hidden), targets, reduction="none")


class _BiLmTrainer(nn.Module):
    """``ElmoBiLm`` + shared softmax; ``forward`` returns the two directions' summed NLLs."""

    def __init__(self, bilm: ElmoBiLm, n_classes: int, cutoffs: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.bilm = bilm
        self.softmax = _Softmax(bilm.lstm.hidden_size, n_classes, cutoffs)
        self.dropout = float(dropout)
        bilm.lstm.dropout = self.dropout

    def forward(self, batch: Dict[str, torch.Tensor]):
        hidden = self.bilm.lstm.hidden_size
        # CNN once per distinct type of the batch (differentiable), then gathered per position.
        encoded = self.bilm.char_cnn(batch["chars"])
        x = encoded[batch["inputs"]]
        outputs, _ = self.bilm.lstm(x, batch["lengths"])
        top = outputs[-1]
        if self.training and self.dropout > 0:
            top = F.dropout(top, self.dropout, training=True)  # bilm-tf drops the LM output too
        targets = batch["targets"]
        # Position t of the forward LM predicts token t + 1; position t + 1 of the backward LM
        # predicts token t. Both are valid exactly where token t + 1 exists.
        valid = targets[:, 1:] >= 0
        forward_h = top[:, :-1, :hidden][valid]
        backward_h = top[:, 1:, hidden:][valid]
        nll = self.softmax.nll(torch.cat([forward_h, backward_h]),
                               torch.cat([targets[:, 1:][valid], targets[:, :-1][valid]]))
        n = forward_h.shape[0]
        return nll[:n].sum(), nll[n:].sum(), n


@dataclass
class PretrainResult:
    """What :func:`pretrain_elmo` produced.

    Attributes
    ----------
    out_dir, options_file, weight_file, vocab_file, training_file : str
    steps, tokens : int
        Optimizer steps and training tokens (words, without ``<S>``/``</S>``) processed in total.
    tokens_per_second : float
        Training throughput of this call (excluding evaluation).
    held_out_perplexity : float or None
        Exact full-softmax perplexity of the held-out split, ``exp`` of the mean of the
        forward and backward per-token NLLs (bilm-tf's definition); None without held-out data.
    unigram_perplexity : float or None
        Perplexity of the same held-out predictions under the training unigram
        distribution with add-one smoothing (the baseline to beat).
    history : list of dict
        One entry per evaluation (step, epoch, tokens, train loss, held-out perplexities, time).
    resumed_from_step : int or None
        The step of the checkpoint this call resumed from; None when it started afresh.
    """

    out_dir: str
    options_file: str
    weight_file: str
    vocab_file: str
    training_file: str
    steps: int
    tokens: int
    tokens_per_second: float
    held_out_perplexity: Optional[float]
    unigram_perplexity: Optional[float]
    history: List[Dict[str, Any]] = field(default_factory=list)
    resumed_from_step: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """The result as a plain dict (JSON-ready), as written to ``training.json``."""
        return asdict(self)


def _resolve_cutoffs(softmax: Union[str, Sequence[int]], n_classes: int) -> List[int]:
    if isinstance(softmax, str):
        if softmax == "full":
            return []
        if softmax == "adaptive":
            return [c for c in _DEFAULT_CUTOFFS if c < n_classes - 1]
        raise ValueError(f"softmax must be 'adaptive', 'full' or a list of cutoffs, got {softmax!r}")
    cutoffs = [int(c) for c in softmax]
    if cutoffs != sorted(set(cutoffs)) or (cutoffs and (cutoffs[0] <= 0 or cutoffs[-1] >= n_classes - 1)):
        raise ValueError(f"adaptive softmax cutoffs must be increasing and in (0, {n_classes - 1}), got {cutoffs}")
    return cutoffs


@dataclass(frozen=True)
class _InitModel:
    """A trained biLM a run starts from (``init_from``): its files and what identifies them."""

    options_file: Path
    weight_file: Path
    sha256: str
    tokens: Optional[int]  # words the model had already seen, from its training.json when present

    def describe(self) -> Dict[str, Any]:
        return {"dir": str(self.options_file.parent), "weights_sha256": self.sha256, "tokens": self.tokens}


def model_files(folder: PathLike) -> Tuple[Path, Path]:
    """``(options.json, weights.hdf5)`` of a model folder (an ``out_dir`` of :func:`pretrain_elmo`).

    Raises
    ------
    ValueError
        If either file is missing; the message names them.
    """
    folder = Path(folder)
    options, weights = folder / "options.json", folder / "weights.hdf5"
    missing = [f.name for f in (options, weights) if not f.is_file()]
    if missing:
        raise ValueError(f"{str(folder)!r} must be a folder holding options.json and weights.hdf5 "
                         "(a pretrain_elmo out_dir, or sktransfer.elmo.embedded.EMBEDDED_MODEL_DIR); "
                         f"{', '.join(missing)} not found there")
    return options, weights


def words_seen(training: Mapping[str, Any]) -> int:
    """Words a model has been trained on, from its ``training.json`` (as a dict).

    The run's own words plus, when it continued another model (``init_from``), the words that
    model had seen.
    """
    started_from = (training.get("config") or {}).get("init_from") or {}
    return int(training["result"]["tokens"]) + int(started_from.get("tokens") or 0)


def _init_model(init_from: PathLike) -> _InitModel:
    """Locate and identify the model of ``init_from`` (a folder with ``options.json`` and ``weights.hdf5``)."""
    try:
        options, weights = model_files(init_from)
    except ValueError as exc:
        raise ValueError(f"init_from: {exc}") from None
    tokens = None
    training = options.parent / "training.json"
    if training.is_file():
        try:
            tokens = words_seen(json.loads(training.read_text()))
        except (ValueError, KeyError, TypeError):
            tokens = None  # provenance only: an unreadable record does not stop training
    return _InitModel(options, weights, sha256_file(weights), tokens)


def _fingerprint(config: Mapping[str, Any], vocab: Vocabulary, corpus: TokenizedCorpus) -> str:
    """Hash of everything that must match for a checkpoint to be resumed."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    h.update("\n".join(vocab.tokens).encode())
    h.update(corpus.train.tokens.tobytes())
    h.update(corpus.train.offsets.tobytes())
    return h.hexdigest()


def _unigram_perplexity(train_counts: np.ndarray, held_counts: np.ndarray, n_windows: int) -> float:
    """Held-out perplexity of an add-one-smoothed training unigram model, same targets as the biLM.

    The forward LM predicts every word and one ``</S>`` per window, the backward LM every
    word and one ``<S>``; ``held_counts`` counts one of each per window.
    """
    logp = np.log(train_counts + 1.0) - math.log(train_counts.sum() + len(train_counts))
    words = held_counts.copy()
    words[0] -= n_windows
    words[1] -= n_windows
    word_nll = -(words * logp).sum()
    total = 2 * word_nll - n_windows * (logp[0] + logp[1])
    return float(math.exp(total / (2 * (words.sum() + n_windows))))


@torch.no_grad()
def _evaluate(model: _BiLmTrainer, corpus: TokenizedCorpus, char_table, type_to_softmax, batch_size, device,
              group=None):
    windows = corpus.held_out
    if len(windows) == 0:
        return None
    group = SingleProcess() if group is None else group
    was_training = model.training
    model.eval()
    fwd = bwd = 0.0
    count = 0
    # With workers, each scores every world-th batch and the sums are added up.
    for members in sequential_batches(len(windows), batch_size, windows.lengths())[group.rank::group.world]:
        batch = _to_device(make_batch(windows, members, char_table, type_to_softmax), device)
        f, b, n = model(batch)
        fwd += float(f)
        bwd += float(b)
        count += n
    model.train(was_training)
    if group.world > 1:
        fwd, bwd, count = group.sum([fwd, bwd, count])
    return {
        "held_out_perplexity": math.exp((fwd + bwd) / (2 * count)),
        "held_out_forward_perplexity": math.exp(fwd / count),
        "held_out_backward_perplexity": math.exp(bwd / count),
    }


def _worker_seed(seed: int, rank: int, step: int) -> int:
    """Seed of a worker's own random stream (dropout), distinct per run, rank and starting step."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


def _to_device(batch, device):
    return {k: (v.to(device) if isinstance(v, torch.Tensor) and k != "lengths" else v) for k, v in batch.items()}


def _write_model(model: _BiLmTrainer, options: dict, out: Path, dtype: str) -> None:
    # Each file is renamed into place only when complete: a reader (or a crash) never sees half.
    with atomic_path(out / "options.json") as tmp:
        write_options(options, tmp)
    with atomic_path(out / "weights.hdf5") as tmp:
        save_weights(model.bilm, tmp, dtype=dtype)


@dataclass
class _PreparedCorpus:
    """The tokenised corpus and the tables derived from it that training reads."""

    data: TokenizedCorpus
    vocab: Vocabulary
    char_table: np.ndarray
    type_to_softmax: np.ndarray
    unigram_perplexity: Optional[float]


def _prepare_corpus(corpus, tokenize, *, bptt, held_out_fraction, seed, max_documents, vocab_size,
                    min_count) -> _PreparedCorpus:
    """Tokenise and window the documents, hold some out, build the vocabulary and the lookup tables."""
    data = TokenizedCorpus(iter_documents(corpus), tokenize, window=bptt, held_out_fraction=held_out_fraction,
                           seed=seed, max_documents=max_documents)
    # From the training documents only, so that held-out perplexity honestly includes unknown words.
    vocab = Vocabulary.build(count_words(data.train_documents), vocab_size, min_count)
    type_to_softmax = data.softmax_ids(vocab)
    unigram_ppl = None
    if len(data.held_out):
        train_counts = unigram_counts(data.train, type_to_softmax, len(vocab))
        held_counts = unigram_counts(data.held_out, type_to_softmax, len(vocab))
        unigram_ppl = _unigram_perplexity(train_counts, held_counts, len(data.held_out))
    return _PreparedCorpus(data, vocab, data.char_table(), type_to_softmax, unigram_ppl)


def _output_options(arch: dict, prepared: _PreparedCorpus, cutoffs: List[int], *, dropout: float,
                    clip_norm: Optional[float], batch_size: int, bptt: int) -> dict:
    """``options.json``: the architecture plus bilm-tf's own training keys, for provenance."""
    options = copy.deepcopy(arch)
    options.update({"bidirectional": True, "dropout": dropout, "all_clip_norm_val": clip_norm,
                    "n_tokens_vocab": len(prepared.vocab), "batch_size": batch_size, "unroll_steps": bptt,
                    "n_train_tokens": prepared.data.train.n_tokens,
                    "softmax": {"type": "adaptive" if cutoffs else "full", "cutoffs": cutoffs}})
    return options


def _build_model(arch: dict, n_classes: int, cutoffs: List[int], *, dropout: float, optimizer: str, lr: float,
                 seed: int, device: torch.device, init: Optional[_InitModel] = None):
    """The biLM with its softmax, in training mode, and its optimizer.

    The biLM starts from ``init``'s weights when given, else from seeded random weights. The
    softmax is always new, initialised from the global torch RNG: seed it first for a
    reproducible run.
    """
    if init is not None:
        bilm = ElmoBiLm.from_files(init.options_file, init.weight_file)
    else:
        bilm = ElmoBiLm.from_options(arch, random_state=seed)
    bilm.requires_grad_(True)
    model = _BiLmTrainer(bilm, n_classes, cutoffs, dropout).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr)
    else:
        opt = torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=1.0)  # bilm-tf's setting
    return model, opt


@dataclass(frozen=True)
class _Schedule:
    """When training stops, checkpoints and evaluates (steps; None = never between epochs)."""

    max_epochs: int
    max_tokens: Optional[int]
    checkpoint_every: Optional[int]
    eval_every: Optional[int]
    snapshot_every: Optional[int] = None

    def budget_left(self, position: Mapping[str, int]) -> bool:
        return self.max_tokens is None or position["tokens"] < self.max_tokens


class _Pretrainer:
    """The state of one pretraining run and the operations that advance, score and save it.

    ``position`` (epoch, batch within the epoch, step, tokens) and ``history`` (one record per
    evaluation) are checkpointed with the model, the optimizer and the torch RNG, so that a
    resumed run continues bit for bit where the checkpoint was taken. ``running_loss`` and the
    throughput counters belong to this call only.
    """

    def __init__(self, model: _BiLmTrainer, optimizer: torch.optim.Optimizer, prepared: _PreparedCorpus, *,
                 batch_size: int, clip_norm: Optional[float], seed: int, device: torch.device, out: Path,
                 output_options: dict, dtype: str, config: Dict[str, Any], fingerprint: str,
                 softmax_warmup_steps: int = 0, shuffle_seed: Optional[int] = None, group=None) -> None:
        self.model = model
        self.optimizer = optimizer
        self.params = [p for group in optimizer.param_groups for p in group["params"]]
        self.prepared = prepared
        self.batch_size = batch_size
        self.clip_norm = clip_norm
        self.seed = seed
        self.shuffle_seed = seed if shuffle_seed is None else shuffle_seed
        self.device = device
        self.out = out
        self.output_options = output_options
        self.dtype = dtype
        self.config = config
        self.fingerprint = fingerprint
        self.softmax_warmup_steps = softmax_warmup_steps
        # The workers sharing each batch (data parallelism); one process by default.
        self.group = SingleProcess() if group is None else group
        self._bilm_frozen = False
        self.position: Dict[str, int] = {"epoch": 0, "batch": 0, "step": 0, "tokens": 0}
        self.history: List[Dict[str, Any]] = []
        self.running_loss: Optional[float] = None
        self.trained_tokens = 0
        self.trained_seconds = 0.0
        self.resumed_from_step: Optional[int] = None

    @property
    def checkpoint_path(self) -> Path:
        return self.out / _CHECKPOINT

    def resume(self) -> None:
        """Restore model, optimizer, torch RNG, position and history from the checkpoint."""
        path = self.checkpoint_path
        # weights_only: tensors and plain containers only, never arbitrary pickled objects.
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a truncated zip, a refused pickle, ...: all mean "unusable"
            raise ValueError(f"{path} cannot be read as a checkpoint ({exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); delete it (or pass "
                             "resume=False, --no-resume on the command line) to start over") from exc
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(f"{path} comes from a different corpus, vocabulary, architecture or "
                             "hyperparameters; pass resume=False (or another out_dir) to start over")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.position, self.history = state["position"], state["history"]
        rng = state.get("worker_rngs") or [state["torch_rng"]]
        if len(rng) == self.group.world:
            torch.set_rng_state(rng[self.group.rank])
        else:
            # Another number of workers than the checkpoint's: the same optimisation continues,
            # but each worker's dropout stream starts anew (seeded by the run, rank and step).
            torch.manual_seed(_worker_seed(self.seed, self.group.rank, self.position["step"]))
        self.resumed_from_step = self.position["step"]

    def epoch_batches(self) -> List[np.ndarray]:
        """The current epoch's batches of training windows (a function of shuffle seed and epoch)."""
        return epoch_batches(len(self.prepared.data.train), self.batch_size, self.shuffle_seed,
                             self.position["epoch"])

    def train_step(self, members: np.ndarray) -> Tuple[float, int]:
        """One optimizer step on the windows ``members``; advances the position.

        Returns the batch's loss and its number of words.
        """
        prepared = self.prepared
        tic = time.perf_counter()
        # A warm start's new softmax first learns alone: its early, near-random gradients would
        # otherwise move the pretrained biLM (Adam takes full-size steps whatever their quality).
        frozen = self.position["step"] < self.softmax_warmup_steps
        if frozen != self._bilm_frozen:
            self.model.bilm.requires_grad_(not frozen)  # frozen parameters get no grad; Adam skips them
            self._bilm_frozen = frozen
        group = self.group
        share = group.share(members)  # all of them in one process
        self.optimizer.zero_grad(set_to_none=True)
        fwd = bwd = None
        n = n_words = 0
        if len(share):  # a worker's share of a short last batch can be empty
            batch = _to_device(make_batch(prepared.data.train, share, prepared.char_table, prepared.type_to_softmax),
                               self.device)
            fwd, bwd, n = self.model(batch)
            n_words = batch["n_words"]
        if group.world > 1:
            n, n_words = (int(v) for v in group.sum([n, n_words]))  # the whole batch's counts
        value = 0.0
        if fwd is not None:
            loss = 0.5 * (fwd + bwd) / n  # normalised by the whole batch: the gradients then just add up
            loss.backward()
            value = float(loss.detach())
        if group.world > 1:
            (value,) = group.sum_grads(self.params, [value])
        if self.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip_norm)
        self.optimizer.step()
        self.trained_seconds += time.perf_counter() - tic
        self.trained_tokens += n_words
        self.position["batch"] += 1
        self.position["step"] += 1
        self.position["tokens"] += n_words
        self.running_loss = value if self.running_loss is None else 0.98 * self.running_loss + 0.02 * value
        return value, n_words

    def end_epoch(self) -> None:
        self.position["epoch"] += 1
        self.position["batch"] = 0

    def evaluate(self) -> None:
        """Score the held-out windows and append a record to ``history``."""
        prepared = self.prepared
        record = {"step": self.position["step"], "epoch": self.position["epoch"], "tokens": self.position["tokens"],
                  "train_loss": self.running_loss, "unigram_perplexity": prepared.unigram_perplexity,
                  "time": time.time()}
        scores = _evaluate(self.model, prepared.data, prepared.char_table, prepared.type_to_softmax,
                           max(self.batch_size, 64), self.device, self.group)
        if scores:
            record.update(scores)
        self.history.append(record)

    def write_checkpoint(self) -> None:
        """Write the checkpoint (rank 0; with workers, every worker calls this: it gathers their RNGs)."""
        rngs = self.group.rng_states()
        if self.group.rank != 0:
            return
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "torch_rng": rngs[0], "position": dict(self.position), "history": self.history,
                 "fingerprint": self.fingerprint, "config": self.config}
        if len(rngs) > 1:
            state["worker_rngs"] = rngs
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(state, tmp)

    def write_model(self) -> None:
        if self.group.rank == 0:  # every worker holds the same weights
            _write_model(self.model, self.output_options, self.out, self.dtype)

    def write_snapshot(self) -> Optional[Path]:
        """The model as it is now, in ``out/snapshots/step-NNNNNNN/`` (a loadable model folder)."""
        if self.group.rank != 0:
            return None
        folder = self.out / "snapshots" / f"step-{self.position['step']:07d}"
        folder.mkdir(parents=True, exist_ok=True)
        _write_model(self.model, self.output_options, folder, self.dtype)
        with atomic_path(folder / "vocab.txt") as tmp:
            self.prepared.vocab.save(tmp)
        with atomic_write(folder / "snapshot.json", "w") as fout:
            json.dump({**self.position, "init_tokens": (self.config.get("init_from") or {}).get("tokens")}, fout)
        return folder


def _progress_bar(schedule: _Schedule, n_train_tokens: int, tokens_done: int):
    from tqdm.auto import tqdm  # only needed for the bar; keeps the package import light

    total = schedule.max_tokens if schedule.max_tokens is not None else n_train_tokens * schedule.max_epochs
    return tqdm(total=total, initial=min(tokens_done, total), unit="tok", unit_scale=True, desc="pretrain-elmo",
                dynamic_ncols=True)


def _train(trainer: _Pretrainer, schedule: _Schedule, *, callback, bar) -> None:
    """Epochs of shuffled batches until the epochs or the token budget run out, or ``callback`` stops.

    Every epoch end evaluates, checkpoints and writes the model; the end evaluates (unless the
    last step was just evaluated) and checkpoints.
    """
    while trainer.position["epoch"] < schedule.max_epochs and schedule.budget_left(trainer.position):
        batches = trainer.epoch_batches()
        stopped = _train_epoch(trainer, batches, schedule, callback=callback, bar=bar)
        if trainer.position["batch"] >= len(batches):
            trainer.end_epoch()
            trainer.evaluate()
            trainer.write_checkpoint()
            trainer.write_model()
        if stopped:
            break
    if not trainer.history or trainer.history[-1]["step"] != trainer.position["step"]:
        trainer.evaluate()
    trainer.write_checkpoint()


def _train_epoch(trainer: _Pretrainer, batches: List[np.ndarray], schedule: _Schedule, *, callback, bar) -> bool:
    """Train on the rest of one epoch's ``batches`` (within budget); True when ``callback`` said stop."""
    while trainer.position["batch"] < len(batches) and schedule.budget_left(trainer.position):
        loss, n_words = trainer.train_step(batches[trainer.position["batch"]])
        position = trainer.position
        if bar is not None:
            bar.update(n_words)
            bar.set_postfix(loss=f"{trainer.running_loss:.3f}", ppl=f"{math.exp(trainer.running_loss):.1f}",
                            epoch=position["epoch"], refresh=False)
        if schedule.checkpoint_every and position["step"] % schedule.checkpoint_every == 0:
            trainer.write_checkpoint()
        if schedule.eval_every and position["step"] % schedule.eval_every == 0:
            trainer.evaluate()
        if schedule.snapshot_every and position["step"] % schedule.snapshot_every == 0:
            trainer.write_snapshot()
        if callback is not None:
            info = {"step": position["step"], "epoch": position["epoch"], "tokens": position["tokens"], "loss": loss}
            # Rank 0 decides (the callback runs there only); every worker must stop at the same step.
            stop = trainer.group.rank == 0 and callback(info) is False
            if trainer.group.any(stop):
                return True
    return False


def _write_training_json(result: PretrainResult, config: Dict[str, Any], prepared: _PreparedCorpus, dtype: str,
                         out: Path, workers: int = 1) -> None:
    data = prepared.data
    meta = {"result": result.to_dict(), "config": config, "n_vocab": len(prepared.vocab),
            "n_train_windows": len(data.train), "n_train_tokens": data.train.n_tokens,
            "n_held_out_windows": len(data.held_out), "n_held_out_tokens": data.held_out.n_tokens,
            "n_types": len(data.types), "weights_dtype": dtype, "workers": workers, "torch": torch.__version__}
    with atomic_write(out / "training.json", "w") as fout:
        json.dump(meta, fout, indent=2)
        fout.write("\n")


def _architecture_argument(architecture, options):
    """``architecture``, or the value of its deprecated name ``options`` (with a FutureWarning)."""
    if isinstance(options, str) and options == "deprecated":
        return architecture
    if architecture is not None:
        raise TypeError(f"pretrain_elmo got both architecture={architecture!r} and options={options!r}, its "
                        "deprecated name; pass only architecture=")
    warnings.warn("pretrain_elmo(options=...) is deprecated and will be removed; pass architecture= instead "
                  "(it takes the same values)", FutureWarning, stacklevel=3)
    return options


def pretrain_elmo(
    corpus: Union[PathLike, Iterable[str]],
    out_dir: PathLike,
    *,
    architecture: Union[None, str, Mapping[str, Any], PathLike] = None,
    vocab_size: int = 50000,
    min_count: int = 1,
    epochs: Optional[int] = None,
    max_tokens: Optional[int] = None,
    batch_size: int = 128,
    bptt: int = 20,
    optimizer: str = "adam",
    lr: Optional[float] = None,
    dropout: float = 0.1,
    clip_norm: Optional[float] = 10.0,
    softmax: Union[str, Sequence[int]] = "adaptive",
    held_out_fraction: float = 0.01,
    max_documents: Optional[int] = None,
    checkpoint_every: Optional[int] = 500,
    eval_every: Optional[int] = None,
    snapshot_every: Optional[int] = None,
    init_from: Optional[PathLike] = None,
    softmax_warmup_steps: Optional[int] = None,
    seed: int = 0,
    shuffle_seed: Optional[int] = None,
    workers: int = 1,
    resume: bool = True,
    progress: bool = True,
    device: Union[str, torch.device] = "cpu",
    tokenizer: Optional[Callable[[str], List[str]]] = None,
    callback: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None,
    dtype: str = "float32",
    options: Union[None, str, Mapping[str, Any], PathLike] = "deprecated",
) -> PretrainResult:
    """Pretrain a biLM (forward + backward LMs jointly) and write a loadable ELMo model.

    Parameters
    ----------
    corpus : path-like or iterable of str
        A text file (one document per line), a folder (``*.txt`` recursively, one document
        per line) or an iterable of document strings.
    out_dir : path-like
        Receives ``options.json``, ``weights.hdf5``, ``vocab.txt``, ``training.json`` and
        ``checkpoint.pt`` (model + optimizer + RNG + position, for ``resume``).
    architecture : str, dict, path or None, default=None
        What to pretrain: a name of :data:`ARCHITECTURES` (``"tiny"``, ``"compact"``,
        ``"wide"``, ``"small"``), ELMo options as a dict, or an ``options.json`` path. None: ``"compact"``.
    vocab_size : int, default=50000
        Softmax words (most frequent training words); ``<S>``, ``</S>``, ``<UNK>`` come on top.
    min_count : int, default=1
        Words rarer than this map to ``<UNK>`` in the softmax (the CNN still reads them).
    epochs : int or None
        Passes over the training windows. None: 1, or unlimited when ``max_tokens`` is set.
    max_tokens : int or None
        Training budget in words processed (across epochs); training stops at the first
        batch boundary at or past it.
    batch_size : int, default=128
        Windows per optimizer step (bilm-tf: 128). Larger batches amortise the per-step
        overhead of the recurrence.
    bptt : int, default=20
        Maximum tokens per window (the back-propagation length). Windows run from a
        zero state (see the module docstring for why).
    optimizer : {"adam", "adagrad"}, default="adam"
    lr : float or None
        None: 1e-3 for Adam, 0.2 for Adagrad (bilm-tf's value).
    dropout : float, default=0.1
        On every LSTM layer's input and on the top output (bilm-tf's placement).
    clip_norm : float or None, default=10.0
        Global gradient-norm clipping (bilm-tf: 10).
    softmax : "adaptive", "full" or list of int
        Adaptive softmax with default cluster cutoffs (1000/5000/20000 by frequency rank,
        falling back to a full softmax for tiny vocabularies), a full softmax, or explicit cutoffs.
    held_out_fraction : float, default=0.01
        Fraction of documents held out for perplexity (evaluated at every epoch end, every
        ``eval_every`` steps and at the end).
    max_documents : int or None
        Read at most this many documents.
    checkpoint_every : int or None, default=500
        Steps between checkpoints (also written at every epoch end and at the end).
    eval_every : int or None
        Steps between held-out evaluations (besides epoch ends and the end).
    snapshot_every : int or None
        Steps between snapshots: the model as it is then, written to
        ``out_dir/snapshots/step-NNNNNNN/`` (options, weights, vocabulary, position), to
        measure transfer against words seen.
    init_from : path-like or None
        Continue training a trained biLM: a folder holding its ``options.json`` and
        ``weights.hdf5`` (an earlier ``out_dir``, or the embedded model's
        :data:`sktransfer.elmo.embedded.EMBEDDED_MODEL_DIR`). The architecture is read from it
        (``architecture`` must be None or the same); the softmax, which the model files do not
        hold, and the optimizer start fresh. ``training.json`` records the folder, the weights'
        SHA-256 and the words the model had seen before. None: random initial weights.
    softmax_warmup_steps : int or None
        Steps at the start during which only the softmax trains and the biLM stays frozen.
        None: 200 with ``init_from`` (long enough for the new softmax to leave its random
        start, under 2 % of an epoch of IMDB), else 0.
    seed : int, default=0
        Seeds the weights, the held-out split, the batch order (unless ``shuffle_seed`` is
        given) and dropout; the caller's global torch RNG is restored afterwards.
    shuffle_seed : int or None
        Seeds the batch order alone; None: ``seed``. To continue a model (``init_from``) on
        the same held-out split without repeating the order it was trained in, keep ``seed``
        and pass another ``shuffle_seed``.
    workers : int, default=1
        Processes that share every batch on a CPU (data parallelism, :mod:`._data_parallel`):
        each computes the gradient of its share of the windows with 1/``workers`` of the torch
        threads, the gradients are summed and every worker takes the same step, so the
        optimisation is that of one process (same batches, same loss; only the dropout masks
        come from other random streams). Worth it where a second thread does not speed a step up
        (measured in ``docs/pretraining_throughput.md``). Needs ``device="cpu"`` and a platform
        that can fork (Linux, macOS); ``callback`` runs in this process only. A checkpoint resumes
        with any number of workers (bit for bit with the same number).
    resume : bool, default=True
        Continue from ``out_dir/checkpoint.pt`` when it exists; it must come from the same
        corpus, vocabulary, architecture and hyperparameters (``epochs``/``max_tokens`` may
        change, to train longer).
    progress : bool, default=True
        tqdm bar with tokens/s and the running loss.
    device : str or torch.device, default="cpu"
    tokenizer : callable or None
        str -> list of str; None: :func:`sktransfer.tokenization.word_tokenize` (words,
        punctuation and English clitics), the very function the ELMo vectorizer uses by default.
    callback : callable or None
        Called after every step with a dict (``step``, ``epoch``, ``tokens``, ``loss``);
        returning ``False`` stops training after writing a checkpoint and the model.
    dtype : {"float32", "float16"}, default="float32"
        Storage type of ``weights.hdf5``.
    options : str, dict or path
        Deprecated name of ``architecture`` (emits a ``FutureWarning``); will be removed.

    Returns
    -------
    PretrainResult
    """
    if isinstance(optimizer, str) and optimizer not in ("adam", "adagrad"):
        raise ValueError(f"optimizer must be 'adam' or 'adagrad', got {optimizer!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
    if epochs is not None and epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if shuffle_seed is not None and (isinstance(shuffle_seed, bool) or not isinstance(shuffle_seed, int)
                                     or shuffle_seed < 0):
        raise ValueError(f"shuffle_seed must be an int >= 0 or None, got {shuffle_seed!r}")
    if softmax_warmup_steps is not None and (isinstance(softmax_warmup_steps, bool)
                                             or not isinstance(softmax_warmup_steps, int) or softmax_warmup_steps < 0):
        raise ValueError(f"softmax_warmup_steps must be an int >= 0 or None, got {softmax_warmup_steps!r}")
    architecture = _architecture_argument(architecture, options)
    init = _init_model(init_from) if init_from is not None else None
    if init is not None:
        arch = architecture_options(init.options_file)
        if architecture is not None and architecture_options(architecture) != arch:
            raise ValueError(f"architecture={architecture!r} differs from the architecture of init_from="
                             f"{str(init_from)!r}; pass architecture=None to continue that model as it is")
    else:
        arch = architecture_options(architecture)
    if softmax_warmup_steps is None:
        softmax_warmup_steps = 200 if init is not None else 0
    tokenize = word_tokenize if tokenizer is None else tokenizer
    if not callable(tokenize):
        raise TypeError(f"tokenizer must be a callable str -> list of str, got {tokenizer!r}")
    device = resolve_device(device)  # a clear error for a device this machine lacks
    if workers > 1 and device.type != "cpu":
        raise ValueError(f"workers={workers} shares batches between CPU processes; on device={str(device)!r} "
                         "pass workers=1 (one process per accelerator)")
    lr = float(lr) if lr is not None else (1e-3 if optimizer == "adam" else 0.2)
    schedule = _Schedule(max_epochs=epochs if epochs is not None else (1 if max_tokens is None else 10**9),
                         max_tokens=max_tokens, checkpoint_every=checkpoint_every, eval_every=eval_every,
                         snapshot_every=snapshot_every)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prepared = _prepare_corpus(corpus, tokenize, bptt=bptt, held_out_fraction=held_out_fraction, seed=seed,
                               max_documents=max_documents, vocab_size=vocab_size, min_count=min_count)
    with atomic_path(out / "vocab.txt") as tmp:
        prepared.vocab.save(tmp)
    cutoffs = _resolve_cutoffs(softmax, len(prepared.vocab))
    config = {"options": arch, "vocab_size": vocab_size, "min_count": min_count, "batch_size": batch_size,
              "bptt": bptt, "optimizer": optimizer, "lr": lr, "dropout": dropout, "clip_norm": clip_norm,
              "cutoffs": cutoffs, "held_out_fraction": held_out_fraction, "seed": seed,
              "shuffle_seed": seed if shuffle_seed is None else shuffle_seed,
              "init_from": init.describe() if init is not None else None,
              "softmax_warmup_steps": softmax_warmup_steps}

    fingerprint = _fingerprint(config, prepared.vocab, prepared.data)
    output_options = _output_options(arch, prepared, cutoffs, dropout=dropout, clip_norm=clip_norm,
                                     batch_size=batch_size, bptt=bptt)

    def run(group) -> _Pretrainer:
        # fork_rng: the run seeds and draws from the global torch RNG; the caller's stream is restored.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model, opt = _build_model(arch, len(prepared.vocab), cutoffs, dropout=dropout, optimizer=optimizer,
                                      lr=lr, seed=seed, device=device, init=init)
            if group.rank:
                torch.manual_seed(_worker_seed(seed, group.rank, 0))  # its own dropout masks
            trainer = _Pretrainer(
                model, opt, prepared, batch_size=batch_size, clip_norm=clip_norm, seed=seed, device=device, out=out,
                output_options=output_options, dtype=dtype, config=config, fingerprint=fingerprint,
                softmax_warmup_steps=softmax_warmup_steps, shuffle_seed=shuffle_seed, group=group,
            )
            if resume and trainer.checkpoint_path.exists():
                trainer.resume()
            bar = None
            if progress and group.rank == 0:
                bar = _progress_bar(schedule, prepared.data.train.n_tokens, trainer.position["tokens"])
            try:
                _train(trainer, schedule, callback=callback, bar=bar)
            finally:
                if bar is not None:
                    bar.close()
            model.eval()
            trainer.write_model()
        return trainer

    trainer = run(SingleProcess()) if workers == 1 else run_workers(workers, run)

    seconds = trainer.trained_seconds
    last = trainer.history[-1] if trainer.history else {}
    result = PretrainResult(
        out_dir=str(out), options_file=str(out / "options.json"), weight_file=str(out / "weights.hdf5"),
        vocab_file=str(out / "vocab.txt"), training_file=str(out / "training.json"), steps=trainer.position["step"],
        tokens=trainer.position["tokens"], tokens_per_second=trainer.trained_tokens / seconds if seconds > 0 else 0.0,
        held_out_perplexity=last.get("held_out_perplexity"), unigram_perplexity=prepared.unigram_perplexity,
        history=trainer.history, resumed_from_step=trainer.resumed_from_step,
    )
    _write_training_json(result, config, prepared, dtype, out, workers=workers)
    return result
