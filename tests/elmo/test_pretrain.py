"""ELMo pretraining: vocabulary, windows, learning, output format, checkpoint/resume, errors."""

import json
import math
import os
import random
import warnings

import h5py
import numpy as np
import pytest
import torch

from sktransfer.elmo import ElmoBiLm, batch_to_ids, load_options
from sktransfer.elmo.corpus import TokenizedCorpus, _split_windows, iter_documents
from sktransfer.elmo.lstm import ElmoLstm
from sktransfer.elmo.pretrain import ARCHITECTURES, _Softmax, _unigram_perplexity, pretrain_elmo
from sktransfer.elmo.vocabulary import Vocabulary, count_words

SUBJECTS = ["the cat", "a dog", "my friend", "the old man", "her sister"]
VERBS = ["likes", "sees", "hates", "wants", "finds"]
OBJECTS = ["the ball", "a red apple", "the big house", "some music", "the garden"]


def grammar_corpus(n_docs=300, seed=0):
    """Documents of short templated sentences: predictable from context, not from unigrams."""
    rng = random.Random(seed)
    return [" ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ."
                     for _ in range(rng.randint(2, 5))) for _ in range(n_docs)]


FAST = dict(architecture="tiny", batch_size=16, lr=1e-2, progress=False, held_out_fraction=0.1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("elmo_pretrained")
    result = pretrain_elmo(grammar_corpus(), out, epochs=3, eval_every=20, **FAST)
    return out, result


# ---------------------------------------------------------------- vocabulary and corpus
def test_vocabulary_build_order_and_file(tmp_path):
    counts = count_words([["b", "a", "c", "a"], ["b", "d", "a"], ["<S>", "<UNK>"]])
    vocab = Vocabulary.build(counts, max_size=3)
    # specials first; then by count, ties alphabetically; specials in the text are not words
    assert vocab.tokens == ["<S>", "</S>", "<UNK>", "a", "b", "c"]
    assert vocab.id("d") == vocab.unk_id == 2 and vocab.id("a") == 3
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines() == vocab.tokens
    assert Vocabulary.load(tmp_path / "vocab.txt").tokens == vocab.tokens
    assert Vocabulary.build(counts, min_count=2).tokens[3:] == ["a", "b"]
    with pytest.raises(ValueError, match="vocab_size"):
        Vocabulary.build(counts, max_size=0)


def test_windows_pack_whole_sentences_and_cut_long_ones():
    tokens = "a b . c d e ! f g h i j k l m".split()
    windows = _split_windows(tokens, 6)
    assert windows == [["a", "b", "."], ["c", "d", "e", "!"], ["f", "g", "h", "i", "j", "k"], ["l", "m"]]
    assert _split_windows("a . b . c .".split(), 4) == [["a", ".", "b", "."], ["c", "."]]
    assert sum(map(len, _split_windows(tokens, 1))) == len(tokens)


def test_held_out_split_is_by_document_and_seeded():
    docs = [f"doc{i} word ." for i in range(50)]
    a = TokenizedCorpus(docs, str.split, window=5, held_out_fraction=0.2, seed=0)
    b = TokenizedCorpus(docs, str.split, window=5, held_out_fraction=0.2, seed=0)
    c = TokenizedCorpus(docs, str.split, window=5, held_out_fraction=0.2, seed=1)
    assert len(a.held_out_documents) == 10 and len(a.train_documents) == 40
    assert a.held_out_documents == b.held_out_documents != c.held_out_documents
    assert not {d[0] for d in a.held_out_documents} & {d[0] for d in a.train_documents}


def test_corpus_sources(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("second doc\n\nthird doc\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first doc\n", encoding="utf-8")
    (tmp_path / "ignored.md").write_text("not a txt file\n", encoding="utf-8")
    assert [d.strip() for d in iter_documents(tmp_path)] == ["first doc", "second doc", "third doc"]
    assert [d.strip() for d in iter_documents(tmp_path / "a.txt")] == ["first doc"]
    assert list(iter_documents(["x", "  ", "y"])) == ["x", "y"]


# ---------------------------------------------------------------- model pieces
def test_training_forward_of_the_lstm_equals_the_inference_path():
    """The autograd path (unbind/split instead of in-place ops) computes the same numbers."""
    torch.manual_seed(0)
    lstm = ElmoLstm(8, 8, 16, 2, cell_clip=3, proj_clip=3)
    with torch.no_grad():
        for p in lstm.parameters():
            p.normal_(0, 0.3)
    x, lengths = torch.randn(4, 7, 8), torch.tensor([7, 3, 5, 1])
    with torch.inference_mode():
        ref, _ = lstm(x, lengths)
    lstm.train()  # dropout is 0 by default: training mode alone changes nothing
    got, _ = lstm(x.requires_grad_(), lengths)
    for a, b in zip(ref, got):
        torch.testing.assert_close(a, b.detach(), atol=1e-6, rtol=1e-6)
    got[-1].sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in lstm.parameters())
    lstm.dropout = 0.5
    dropped, _ = lstm(x, lengths)
    assert not torch.allclose(dropped[-1], got[-1])
    lstm.eval()
    with torch.inference_mode():
        again, _ = lstm(x, lengths)
    torch.testing.assert_close(again[-1], ref[-1])


@pytest.mark.parametrize("cutoffs", [[], [5, 20]])
def test_softmax_nll_is_the_exact_normalised_nll(cutoffs):
    torch.manual_seed(0)
    head = _Softmax(8, 50, cutoffs)
    hidden, targets = torch.randn(30, 8), torch.randint(0, 50, (30,))
    if cutoffs:
        full = head.adaptive.log_prob(hidden)
    else:
        full = torch.log_softmax(head.full(hidden), -1)
    torch.testing.assert_close(full.exp().sum(-1), torch.ones(30))  # a proper distribution
    torch.testing.assert_close(head.nll(hidden, targets), -full.gather(1, targets[:, None]).squeeze(1))


def test_unigram_perplexity_formula():
    train = np.array([4, 4, 0, 10, 2])  # <S>, </S>, <UNK>, w3, w4 (4 windows)
    held = np.array([2, 2, 1, 3, 0])    # 2 windows: 1 <UNK>, 3 w3
    p = (train + 1) / (train.sum() + 5)
    # forward: 4 words + </S> per window; backward: 4 words + <S> per window
    nll = 2 * (-math.log(p[2]) - 3 * math.log(p[3])) - 2 * math.log(p[1]) - 2 * math.log(p[0])
    assert _unigram_perplexity(train, held, 2) == pytest.approx(math.exp(nll / 12))


# ---------------------------------------------------------------- training
def test_learns_below_unigram_perplexity(trained):
    out, result = trained
    history = result.history
    assert result.steps > 0 and len(history) >= 3
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["held_out_perplexity"] < history[0]["held_out_perplexity"]
    assert result.held_out_perplexity < 0.5 * result.unigram_perplexity
    # each direction on its own (a broken direction must not hide behind the mean)
    assert history[-1]["held_out_forward_perplexity"] < 0.5 * result.unigram_perplexity
    assert history[-1]["held_out_backward_perplexity"] < 0.5 * result.unigram_perplexity
    assert result.tokens_per_second > 0
    meta = json.loads((out / "training.json").read_text())
    assert meta["result"]["held_out_perplexity"] == result.held_out_perplexity
    assert meta["n_train_tokens"] > 0 and meta["n_vocab"] == len((out / "vocab.txt").read_text().splitlines())


def test_cannot_cheat_on_unpredictable_text(tmp_path):
    """i.i.d. random words: a correctly shifted LM cannot beat the unigram model by much.

    A forward LM that saw the token it predicts (an off-by-one in the target alignment of
    either direction) would reach a perplexity near 1 here.
    """
    rng = random.Random(1)
    words = [f"w{i}" for i in range(12)]
    docs = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(200)]
    result = pretrain_elmo(docs, tmp_path, epochs=2, bptt=12, **FAST)
    assert result.held_out_perplexity > 0.8 * result.unigram_perplexity


def test_output_loads_and_gives_finite_activations(trained):
    out, _ = trained
    vocab = (out / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab[:3] == ["<S>", "</S>", "<UNK>"] and "cat" in vocab
    options = json.loads((out / "options.json").read_text())
    assert options["n_tokens_vocab"] == len(vocab) and options["lstm"] == load_options(ARCHITECTURES["tiny"])["lstm"]
    model = ElmoBiLm.from_files(out / "options.json", out / "weights.hdf5")
    with torch.inference_mode():
        acts = model(batch_to_ids([["the", "cat", "sees", "a", "zebra"], ["."]]))["activations"]
    assert len(acts) == 3 and all(torch.isfinite(a).all() for a in acts)
    assert acts[2].abs().max() > 0


def test_hdf5_layout_matches_the_reference_fixture(tmp_path, options_file, weight_file):
    pretrain_elmo(grammar_corpus(40), tmp_path, epochs=1, **{**FAST, "architecture": options_file})

    def layout(path):
        found = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: found.__setitem__(name, (obj.shape, obj.dtype))
                         if isinstance(obj, h5py.Dataset) else None)
        return found

    assert layout(tmp_path / "weights.hdf5") == layout(weight_file)
    assert load_options(tmp_path / "options.json")["char_cnn"] == load_options(options_file)["char_cnn"]


def test_float16_storage_round_trip(tmp_path):
    docs = grammar_corpus(60)
    kw = {**FAST, "epochs": 1}
    pretrain_elmo(docs, tmp_path / "f32", **kw)
    pretrain_elmo(docs, tmp_path / "f16", dtype="float16", **kw)
    with h5py.File(tmp_path / "f16" / "weights.hdf5", "r") as f:
        assert f["CNN_proj/W_proj"].dtype == np.float16 and f["char_embed"].dtype == np.float16
    a = ElmoBiLm.from_files(tmp_path / "f32" / "options.json", tmp_path / "f32" / "weights.hdf5")
    b = ElmoBiLm.from_files(tmp_path / "f16" / "options.json", tmp_path / "f16" / "weights.hdf5")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert y.dtype == torch.float32
        torch.testing.assert_close(y, x, atol=2e-3, rtol=1e-3, msg=name)
    ids = batch_to_ids([["the", "cat", "likes", "some", "music", "."]])
    with torch.inference_mode():
        for u, v in zip(a(ids)["activations"], b(ids)["activations"]):
            torch.testing.assert_close(v, u, atol=1e-2, rtol=1e-2)


# ---------------------------------------------------------------- checkpoint / resume
def _weights(out):
    with h5py.File(out / "weights.hdf5", "r") as f:
        found = {}
        f.visititems(lambda n, o: found.__setitem__(n, o[...]) if isinstance(o, h5py.Dataset) else None)
    return found


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path):
    docs = grammar_corpus(120)
    kw = {**FAST, "epochs": 2, "checkpoint_every": 4, "seed": 3, "dropout": 0.2}
    full = pretrain_elmo(docs, tmp_path / "full", **kw)

    class Crash(Exception):
        pass

    def crash_at_7(info):
        if info["step"] == 7:
            raise Crash

    with pytest.raises(Crash):
        pretrain_elmo(docs, tmp_path / "resumed", callback=crash_at_7, **kw)
    state = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)  # tensors and plain data only
    assert state["position"]["step"] == 4  # the last periodic checkpoint before the crash
    resumed = pretrain_elmo(docs, tmp_path / "resumed", **kw)
    assert resumed.steps == full.steps and resumed.tokens == full.tokens
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed.held_out_perplexity == full.held_out_perplexity


def test_graceful_stop_then_resume_and_extend(tmp_path):
    docs = grammar_corpus(120)
    kw = {**FAST, "checkpoint_every": None, "seed": 5}
    full = pretrain_elmo(docs, tmp_path / "full", epochs=2, **kw)
    stopped = pretrain_elmo(docs, tmp_path / "part", epochs=2, callback=lambda i: i["step"] < 5, **kw)
    assert stopped.steps == 5 and (tmp_path / "part" / "weights.hdf5").exists()
    resumed = pretrain_elmo(docs, tmp_path / "part", epochs=2, **kw)
    for name, value in _weights(tmp_path / "full").items():
        np.testing.assert_array_equal(value, _weights(tmp_path / "part")[name], err_msg=name)
    assert resumed.steps == full.steps
    # a changed hyperparameter must not silently continue someone else's run
    with pytest.raises(ValueError, match="resume=False"):
        pretrain_elmo(docs, tmp_path / "part", epochs=2, **{**kw, "lr": 0.5})
    fresh = pretrain_elmo(docs, tmp_path / "part", max_tokens=100, resume=False, **{**kw, "lr": 0.5})
    assert fresh.steps < full.steps


def test_token_budget_stops_training(tmp_path):
    result = pretrain_elmo(grammar_corpus(100), tmp_path, max_tokens=500, **FAST)
    assert 500 <= result.tokens < 500 + 16 * 25 and result.history[-1]["tokens"] == result.tokens


# ---------------------------------------------------------------- errors
def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        pretrain_elmo(["", "   ", "\n"], tmp_path / "a", **FAST)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pretrain_elmo(tmp_path / "missing.txt", tmp_path / "b", **FAST)
    expected = "unknown architecture 'huge': expected one of 'compact', 'small', 'tiny', 'wide'"
    with pytest.raises(ValueError, match=expected):
        pretrain_elmo(["some text"], tmp_path / "c", **{**FAST, "architecture": "huge"})
    with pytest.raises(ValueError, match="softmax"):
        pretrain_elmo(["some text"], tmp_path / "d", softmax="sampled", **FAST)
    with pytest.raises(TypeError, match="str"):
        pretrain_elmo(["ok", 3], tmp_path / "e", **FAST)


def test_options_is_a_deprecated_name_of_architecture(tmp_path):
    docs = grammar_corpus(40)
    kw = {**{k: v for k, v in FAST.items() if k != "architecture"}, "epochs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns about nothing
        pretrain_elmo(docs, tmp_path / "new", architecture="tiny", **kw)
    with pytest.warns(FutureWarning, match=r"options=\.\.\.\) is deprecated.*pass architecture= instead") as caught:
        pretrain_elmo(docs, tmp_path / "old", options="tiny", **kw)
    assert caught[0].filename == __file__  # attributed to the caller's line
    new, old = _weights(tmp_path / "new"), _weights(tmp_path / "old")
    assert new.keys() == old.keys()
    for name in new:
        np.testing.assert_array_equal(new[name], old[name], err_msg=name)
    with pytest.raises(TypeError, match=r"both architecture='tiny' and options='small'.*pass only architecture="):
        pretrain_elmo(docs, tmp_path / "both", architecture="tiny", options="small", **kw)
    assert not (tmp_path / "both").exists()


class _Payload:
    """Unpickling it creates the file ``marker``: proof that arbitrary code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("kind", ["pickled-object", "truncated"])
def test_a_bad_checkpoint_is_refused_never_unpickled(tmp_path, kind):
    out = tmp_path / "run"
    out.mkdir()
    marker = tmp_path / "code_ran"
    if kind == "pickled-object":
        torch.save({"fingerprint": "x", "payload": _Payload(marker)}, out / "checkpoint.pt")
    else:
        torch.save({"fingerprint": "x", "model": {"w": torch.ones(1000)}}, out / "checkpoint.pt")
        data = (out / "checkpoint.pt").read_bytes()
        (out / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"checkpoint\.pt cannot be read as a checkpoint.*resume=False"):
        pretrain_elmo(grammar_corpus(20), out, epochs=1, **FAST)
    assert not marker.exists()


# ---------------------------------------------------------------- warm start and snapshots
def test_init_from_continues_a_trained_model(trained, tmp_path):
    start, first = trained
    docs = grammar_corpus()
    budget = dict(max_tokens=600, **{**FAST, "architecture": None})
    # Softmax warm-up longer than the run: the biLM must come out exactly as it went in.
    frozen = pretrain_elmo(docs, tmp_path / "frozen", init_from=start, softmax_warmup_steps=10**6, **budget)
    before, after = _weights(start), _weights(tmp_path / "frozen")
    assert before.keys() == after.keys()
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    # The biLM's features are good from the first step: a new softmax on them alone beats a
    # random biLM trained for as long, end to end.
    scratch = pretrain_elmo(docs, tmp_path / "scratch", **{**budget, "architecture": "tiny"})
    assert frozen.held_out_perplexity < 0.8 * scratch.held_out_perplexity
    # Without warm-up every part trains.
    moving = pretrain_elmo(docs, tmp_path / "moving", init_from=start, softmax_warmup_steps=0, **budget)
    assert any(not np.array_equal(_weights(tmp_path / "moving")[n], before[n]) for n in before)
    config = json.loads((tmp_path / "moving" / "training.json").read_text())["config"]
    assert config["init_from"]["tokens"] == first.tokens and config["softmax_warmup_steps"] == 0
    assert len(config["init_from"]["weights_sha256"]) == 64
    assert moving.tokens >= 600 and moving.steps == frozen.steps


def test_init_from_default_warmup_and_resume_identity(trained, tmp_path):
    start, _ = trained
    docs = grammar_corpus(120)
    result = pretrain_elmo(docs, tmp_path / "w", init_from=start, max_tokens=300, **{**FAST, "architecture": None})
    assert json.loads((tmp_path / "w" / "training.json").read_text())["config"]["softmax_warmup_steps"] == 200
    assert result.steps > 0
    # Another starting model is another run: its checkpoint is not silently continued.
    other = tmp_path / "other"
    other.mkdir()
    for name in ("options.json", "weights.hdf5"):
        (other / name).write_bytes((tmp_path / "w" / name).read_bytes())
    with pytest.raises(ValueError, match="resume=False"):
        pretrain_elmo(docs, tmp_path / "w", init_from=other, max_tokens=600, **{**FAST, "architecture": None})


def test_init_from_errors(trained, tmp_path):
    start, _ = trained
    with pytest.raises(ValueError, match="options.json and weights.hdf5.*weights.hdf5 not found"):
        (tmp_path / "half").mkdir()
        (tmp_path / "half" / "options.json").write_text("{}")
        pretrain_elmo(["some text ."], tmp_path / "a", init_from=tmp_path / "half", **FAST)
    with pytest.raises(ValueError, match="differs from the architecture of init_from"):
        pretrain_elmo(["some text ."], tmp_path / "b", init_from=start, **{**FAST, "architecture": "compact"})
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="softmax_warmup_steps must be an int >= 0"):
            pretrain_elmo(["some text ."], tmp_path / "c", softmax_warmup_steps=bad, **FAST)


def test_snapshots_are_loadable_models_along_the_run(tmp_path):
    result = pretrain_elmo(grammar_corpus(120), tmp_path, epochs=2, snapshot_every=3, **FAST)
    folders = sorted((tmp_path / "snapshots").iterdir())
    assert [f.name for f in folders] == [f"step-{s:07d}" for s in range(3, result.steps + 1, 3)]
    positions = [json.loads((f / "snapshot.json").read_text()) for f in folders]
    assert [p["step"] for p in positions] == list(range(3, result.steps + 1, 3))
    assert all(a["tokens"] < b["tokens"] for a, b in zip(positions, positions[1:]))
    assert all(p["init_tokens"] is None for p in positions)
    first = ElmoBiLm.from_files(folders[0] / "options.json", folders[0] / "weights.hdf5")
    assert (folders[0] / "vocab.txt").read_text() == (tmp_path / "vocab.txt").read_text()
    assert _weights(folders[0]).keys() == _weights(tmp_path).keys()
    assert any(not np.array_equal(_weights(folders[0])[n], v) for n, v in _weights(tmp_path).items())
    with torch.inference_mode():
        assert all(torch.isfinite(a).all() for a in first(batch_to_ids([["the", "cat", "."]]))["activations"])
    if result.steps % 3 == 0:  # the last snapshot is the final model
        for n, v in _weights(tmp_path).items():
            np.testing.assert_array_equal(_weights(folders[-1])[n], v, err_msg=n)


# ---------------------------------------------------------------- batch order and data-parallel workers
def test_shuffle_seed_changes_the_batch_order_only(tmp_path):
    docs = grammar_corpus(120)
    kw = {**FAST, "epochs": 1, "seed": 2, "checkpoint_every": None}
    same = pretrain_elmo(docs, tmp_path / "same", shuffle_seed=2, **kw)
    plain = pretrain_elmo(docs, tmp_path / "plain", **kw)
    other = pretrain_elmo(docs, tmp_path / "other", shuffle_seed=9, **kw)
    for name, value in _weights(tmp_path / "plain").items():  # shuffle_seed=None means seed
        np.testing.assert_array_equal(value, _weights(tmp_path / "same")[name], err_msg=name)
    assert any(not np.array_equal(v, _weights(tmp_path / "other")[n]) for n, v in _weights(tmp_path / "plain").items())
    # the held-out split and the words trained on are the seed's, whatever the order
    assert other.unigram_perplexity == plain.unigram_perplexity and other.tokens == plain.tokens
    config = json.loads((tmp_path / "other" / "training.json").read_text())["config"]
    assert config["seed"] == 2 and config["shuffle_seed"] == 9
    assert same.history[-1]["held_out_perplexity"] == plain.history[-1]["held_out_perplexity"]
    with pytest.raises(ValueError, match="shuffle_seed must be an int >= 0 or None"):
        pretrain_elmo(docs, tmp_path / "bad", shuffle_seed=-1, **kw)


def test_workers_train_the_model_one_process_trains(tmp_path):
    # Without dropout the two runs compute the same gradients, up to the rounding of matmuls over
    # fewer rows: the same steps, words, perplexity curve and weights.
    docs = grammar_corpus(200)
    kw = {**FAST, "epochs": 2, "seed": 3, "dropout": 0.0, "checkpoint_every": 5, "eval_every": 7}
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # each of the 2 workers then gets 1 thread, like the single run below
    try:
        two = pretrain_elmo(docs, tmp_path / "two", workers=2, **kw)
        torch.set_num_threads(1)
        one = pretrain_elmo(docs, tmp_path / "one", **kw)
    finally:
        torch.set_num_threads(threads)
    assert (two.steps, two.tokens) == (one.steps, one.tokens) and len(two.history) == len(one.history)
    # (measured 1e-5 apart on the weights; a control trained half as long is 0.2 apart)
    np.testing.assert_allclose([h["held_out_perplexity"] for h in two.history],
                               [h["held_out_perplexity"] for h in one.history], rtol=1e-3)
    np.testing.assert_allclose([h["train_loss"] for h in two.history], [h["train_loss"] for h in one.history],
                               rtol=1e-3)
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(b[name], a[name], atol=1e-3, err_msg=name)
    assert json.loads((tmp_path / "two" / "training.json").read_text())["workers"] == 2
    # a control trained half as long differs by far more than that tolerance: the comparison can fail
    control = pretrain_elmo(docs, tmp_path / "control", **{**kw, "epochs": 1})
    assert any(np.abs(_weights(tmp_path / "control")[n] - v).max() > 1e-2 for n, v in a.items())
    assert control.steps < one.steps


def test_workers_stop_resume_bit_for_bit(tmp_path):
    docs = grammar_corpus(120)
    kw = {**FAST, "epochs": 2, "seed": 5, "dropout": 0.2, "checkpoint_every": None, "workers": 2}
    full = pretrain_elmo(docs, tmp_path / "full", **kw)
    stopped = pretrain_elmo(docs, tmp_path / "part", callback=lambda i: i["step"] < 6, **kw)
    assert stopped.steps == 6  # every worker stopped at rank 0's word
    state = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    assert len(state["worker_rngs"]) == 2 and not torch.equal(*state["worker_rngs"])  # own dropout streams
    resumed = pretrain_elmo(docs, tmp_path / "part", **kw)
    assert resumed.resumed_from_step == 6 and resumed.steps == full.steps
    for name, value in _weights(tmp_path / "full").items():
        np.testing.assert_array_equal(_weights(tmp_path / "part")[name], value, err_msg=name)
    # and one process can take over a workers' checkpoint (same optimisation, its own dropout stream)
    pretrain_elmo(docs, tmp_path / "part2", callback=lambda i: i["step"] < 6, **kw)
    single = pretrain_elmo(docs, tmp_path / "part2", **{**kw, "workers": 1})
    assert single.resumed_from_step == 6 and single.steps == full.steps


def test_a_failing_worker_fails_the_run_and_names_it(tmp_path, monkeypatch):
    from sktransfer.elmo import pretrain as P

    parent, make_batch = os.getpid(), P.make_batch

    def fails_in_a_worker(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("disk on fire")
        return make_batch(*args, **kwargs)

    monkeypatch.setattr(P, "make_batch", fails_in_a_worker)
    with pytest.raises(RuntimeError, match=r"pretraining worker\(s\) pretrain-worker-1 \(exit code 1\) failed"):
        pretrain_elmo(grammar_corpus(60), tmp_path, epochs=1, workers=2, **FAST)
    assert not (tmp_path / "weights.hdf5").exists()


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_int(tmp_path, workers):
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        pretrain_elmo(grammar_corpus(20), tmp_path, workers=workers, **FAST)
