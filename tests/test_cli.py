"""Tests of the command line: ``sktransfer compare`` end to end on a small CSV, help texts, errors."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from sktransfer.cli import main  # noqa: E402
from sktransfer.compare import DEFAULT_STRATEGY_NAMES  # noqa: E402

from .conftest import REPO_ROOT  # noqa: E402
from .test_compare import synthetic_texts  # noqa: E402


@pytest.fixture
def reviews_csv(tmp_path):
    """A CSV of 48 balanced synthetic reviews with columns id, review, sentiment."""
    texts, labels = synthetic_texts(48, seed=3)
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "review", "sentiment"])
        for i, (text, label) in enumerate(zip(texts, labels)):
            writer.writerow([i, text, label])
    return path


def run_cli(*args):
    return main(["compare", *map(str, args)])


def test_compare_end_to_end_on_a_csv(reviews_csv, tiny_bert, tmp_path, capsys):
    out = tmp_path / "results"
    status = run_cli(
        reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--test-size", "0.25",
        "--strategies", "tfidf-lr,bert-lr", "--bert-model", tiny_bert, "--max-length", "32",
        "--train-sizes", "8", "20", "--seeds", "0", "1", "--out", out, "--no-progress",
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "| strategy | n=8 | n=20 |" in printed
    assert "| tfidf-lr | " in printed and "| bert-lr | " in printed and "±" in printed
    assert str(out / "learning_curve.png") in printed

    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    records = payload["records"]
    assert len(records) == 2 * 2 * 2
    assert {(r["strategy"], r["n_train"], r["seed"]) for r in records} == {
        (s, n, seed) for s in ("tfidf-lr", "bert-lr") for n in (8, 20) for seed in (0, 1)
    }
    assert {r["n_test"] for r in records} == {12}  # 25% of 48 held out
    meta = payload["metadata"]
    assert meta["dataset"] == str(reviews_csv) and meta["n_train_pool"] == 36
    assert meta["label_column"] == "sentiment" and meta["max_length"] == 32 and meta["bert_model"] == tiny_bert
    assert "tiny" in meta["strategies"]["bert-lr"] or tiny_bert in meta["strategies"]["bert-lr"]
    # compare reads long texts' head and tail unless told otherwise (docs/long_texts.md)
    assert meta["truncation"] == "head+tail" and "truncation='head+tail'" in meta["strategies"]["bert-lr"]
    assert "| tfidf-lr |" in (out / "results.md").read_text(encoding="utf-8")
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_says_once_that_long_texts_are_cut_instead_of_warning_per_fit(reviews_csv, tiny_bert, tmp_path,
                                                                             capsys):
    import warnings

    from sktransfer.exceptions import TruncationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)  # one escaping warning fails the run
        status = run_cli(reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies",
                         "bert-lr", "--bert-model", tiny_bert, "--max-length", "4", "--train-sizes", "10",
                         "--seeds", "0", "--out", tmp_path / "o", "--no-progress")
    assert status == 0
    captured = capsys.readouterr()
    note = "the bert-* strategies read at most 4 word pieces per text; a longer text is cut with --truncation head+tail"
    assert note in captured.err and note in captured.out
    notes = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))["metadata"]["notes"]
    assert [n for n in notes if n.startswith(note)] == [note + " (docs/long_texts.md)"]


def test_compare_n_test_caps_the_held_out_texts(reviews_csv, tmp_path, capsys):
    status = run_cli(reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies",
                     "tfidf-lr", "--train-sizes", "10", "--seeds", "0", "--n-test", "6", "--out", tmp_path / "o",
                     "--no-progress")
    assert status == 0
    payload = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert [r["n_test"] for r in payload["records"]] == [6]
    assert "| tfidf-lr | " in capsys.readouterr().out


def test_compare_with_elmo_files(reviews_csv, elmo_files, tmp_path):
    status = run_cli(reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies", "elmo-lr",
                     "--elmo-options", elmo_files[0], "--elmo-weights", elmo_files[1], "--max-length", "16",
                     "--train-sizes", "10", "--seeds", "0", "--out", tmp_path / "o", "--no-progress")
    assert status == 0
    payload = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert [r["strategy"] for r in payload["records"]] == ["elmo-lr"]
    assert payload["metadata"]["elmo_files"] == list(elmo_files)


def test_compare_resume_runs_only_what_is_missing(reviews_csv, tmp_path, capsys, monkeypatch):
    out = tmp_path / "o"
    common = [reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--seeds", "0",
              "--out", out, "--no-progress"]
    assert run_cli(*common, "--strategies", "tfidf-lr", "--train-sizes", "10") == 0
    first = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert first["metadata"]["complete"] is True
    capsys.readouterr()

    # Interrupt the resumed run after its first new run: the progress saved so far stays.
    import sktransfer.compare as cmp

    real_compare = cmp.compare

    def interrupted(*args, on_result, **kwargs):
        def stop_after_one(frame):
            on_result(frame)
            if len(frame) == 2:
                raise KeyboardInterrupt

        return real_compare(*args, on_result=stop_after_one, **kwargs)

    monkeypatch.setattr(cmp, "compare", interrupted)
    assert run_cli(*common, "--strategies", "tfidf-lr", "--train-sizes", "10", "20", "30", "--resume") == 130
    assert "interrupted. The finished runs are saved" in capsys.readouterr().err
    partial = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert partial["metadata"]["complete"] is False
    assert [(r["n_train"], r["accuracy"]) for r in partial["records"]][0] == (10, first["records"][0]["accuracy"])
    assert [r["n_train"] for r in partial["records"]] == [10, 20]
    monkeypatch.setattr(cmp, "compare", real_compare)

    assert run_cli(*common, "--strategies", "tfidf-lr", "--train-sizes", "10", "20", "30", "--resume") == 0
    captured = capsys.readouterr()
    assert "taking over 2 runs" in captured.err
    final = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [r["n_train"] for r in final["records"]] == [10, 20, 30]
    assert final["records"][:2] == partial["records"]  # taken over unchanged, not refitted
    assert final["metadata"]["complete"] is True and final["metadata"]["resumed"]["records"] == 2
    assert "| tfidf-lr |" in captured.out and (out / "learning_curve.png").exists()


def test_compare_resume_refuses_other_settings(reviews_csv, tmp_path, capsys):
    out = tmp_path / "o"
    common = [reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies", "tfidf-lr",
              "--train-sizes", "10", "--seeds", "0", "--out", out, "--no-progress"]
    assert run_cli(*common, "--n-test", "6") == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as excinfo:
        run_cli(*common, "--n-test", "8", "--resume")
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "n_test: 6 then, 8 now" in err and "another --out" in err


def test_compare_resume_without_earlier_results_starts_afresh(reviews_csv, tmp_path, capsys):
    out = tmp_path / "new"
    assert run_cli(reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies", "tfidf-lr",
                   "--train-sizes", "10", "--seeds", "0", "--out", out, "--no-progress", "--resume") == 0
    assert "starting afresh" in capsys.readouterr().err
    assert len(json.loads((out / "results.json").read_text(encoding="utf-8"))["records"]) == 1


def test_compare_quick_reads_the_profile_and_explicit_values_override_it(reviews_csv, tiny_bert, tmp_path,
                                                                            monkeypatch):
    from sktransfer import strategies

    monkeypatch.setitem(strategies.PROFILES, "quick", strategies.Profile(
        train_sizes=(10,), seeds=(1,), n_test=6, max_length=24, epochs=1))
    common = [reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--strategies", "bert-lr",
              "--bert-model", tiny_bert, "--no-progress", "--quick"]
    assert run_cli(*common, "--out", tmp_path / "quick") == 0
    payload = json.loads((tmp_path / "quick" / "results.json").read_text(encoding="utf-8"))
    assert [(r["n_train"], r["seed"], r["n_test"]) for r in payload["records"]] == [(10, 1, 6)]
    assert payload["metadata"]["max_length"] == 24 and payload["metadata"]["epochs"] == 1
    assert "max_length=24" in payload["metadata"]["strategies"]["bert-lr"]

    # An explicit --max-length wins over the profile, in the recorded settings and in the estimator.
    assert run_cli(*common, "--max-length", "16", "--train-sizes", "12", "--out", tmp_path / "explicit") == 0
    payload = json.loads((tmp_path / "explicit" / "results.json").read_text(encoding="utf-8"))
    assert [(r["n_train"], r["seed"], r["n_test"]) for r in payload["records"]] == [(12, 1, 6)]
    assert payload["metadata"]["max_length"] == 16
    assert "max_length=16" in payload["metadata"]["strategies"]["bert-lr"]


def test_compare_resume_reruns_a_strategy_whose_settings_changed(reviews_csv, tmp_path, capsys):
    out = tmp_path / "o"
    common = [reviews_csv, "--text-column", "review", "--label-column", "sentiment", "--train-sizes", "10",
              "--seeds", "0", "--out", out, "--no-progress"]
    assert run_cli(*common, "--strategies", "tfidf-lr") == 0
    first = json.loads((out / "results.json").read_text(encoding="utf-8"))
    first["metadata"]["strategies"]["tfidf-lr"] = "TfidfVectorizer(other settings)"
    (out / "results.json").write_text(json.dumps(first), encoding="utf-8")
    capsys.readouterr()
    assert run_cli(*common, "--strategies", "tfidf-lr", "--resume") == 0
    err = capsys.readouterr().err
    assert "settings of tfidf-lr changed" in err and "taking over 0 runs" in err


@pytest.mark.imdb
@pytest.mark.minilm
def test_readme_main_job_end_to_end_on_imdb(imdb_data_home, minilm_path, tmp_path):
    """``python -m sktransfer compare imdb --quick``, reduced: the real entry point, data and models."""
    out = tmp_path / "out"
    env = dict(os.environ, SKTRANSFER_DATA=imdb_data_home,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "sktransfer", "compare", "imdb", "--quick", "--train-sizes", "20",
               "--n-test", "40", "--strategies", "tfidf-lr", "bert-lr", "elmo-lr", "embed-head-mlp", "--epochs", "1",
               "--head-epochs", "2", "--out", str(out), "--no-progress"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    lines = done.stdout.splitlines()
    assert "Test accuracy on imdb (40 texts), mean ± std over seeds [0]:" in lines
    header = lines.index("| strategy | n=20 |")
    assert lines[header + 1] == "|---|---:|"
    rows = [line.split(" | ") for line in lines[header + 2:header + 6]]
    assert [r[0] for r in rows] == ["| tfidf-lr", "| bert-lr", "| elmo-lr", "| embed-head-mlp"]
    assert all(0.0 <= float(r[1].rstrip(" |")) <= 1.0 for r in rows)

    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    records = payload["records"]
    assert [(r["strategy"], r["n_train"], r["seed"], r["n_test"]) for r in records] == [
        (s, 20, 0, 40) for s in ("tfidf-lr", "bert-lr", "elmo-lr", "embed-head-mlp")
    ]
    assert [r["history"] is None for r in records] == [True, True, True, False]
    assert [e["epoch"] for e in records[3]["history"]] in ([1], [1, 2]) and "valid_acc" in records[3]["history"][0]
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["fit_seconds"] > 0 for r in records)
    meta = payload["metadata"]
    assert meta["dataset"] == "imdb" and meta["quick"] is True and meta["complete"] is True
    assert meta["n_train_pool"] == 25000 and meta["max_length"] == 128 and meta["epochs"] == 1
    assert meta["head_epochs"] == 2
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "| strategy | n=20 |" in markdown and "| elmo-lr |" in markdown
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| embed-head-mlp | 20 |" in markdown and f"training curves: {out / 'training_curves.png'}" in done.stdout


def test_top_level_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "compare" in text and "examples:" in text and "sktransfer compare --quick" in text


def test_compare_help_lists_strategies_and_quick(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for name in DEFAULT_STRATEGY_NAMES:
        assert f"  {name} " in text
    for flag in ("--quick", "--train-sizes", "--seeds", "--n-test", "--out", "--max-length", "--epochs",
                 "--cache", "--elmo-options", "--elmo-weights", "--bert-model", "--text-column", "--test-size",
                 "--truncation"):
        assert flag in text
    assert "examples:" in text and "results.json" in text and "learning_curve.png" in text


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "subcommand" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--strategies", "tfidf-lr,bogus"], "unknown strategy 'bogus' in --strategies; choose from: tfidf-lr"),
        (["--text-column", "body"], "has no column 'body'"),
        (["--train-sizes", "10", "500"], "--train-sizes 500 exceed the 36 training texts"),
        (["--train-sizes", "1"], "--train-sizes 1: Cannot draw a stratified subsample"),
        (["--elmo-options", "options.json"], "pass both --elmo-options and --elmo-weights"),
        (["--seeds", "-1"], "expected a non-negative integer seed"),
        (["--test-size", "1.5"], "strictly between 0 and 1"),
        (["--strategies", "bert-finetune", "--truncation", "chunks"],
         "truncation 'chunks' pools whole-text vectors and suits only bert-lr; bert-finetune reads one window"),
        (["--truncation", "middle"], "argument --truncation: invalid choice: 'middle'"),
    ],
)
def test_compare_usage_errors(reviews_csv, tmp_path, capsys, extra, message):
    args = ["compare", str(reviews_csv), "--label-column", "sentiment", "--out", str(tmp_path / "o"), "--no-progress"]
    if "--text-column" not in extra:
        args += ["--text-column", "review"]
    if "--train-sizes" not in extra:
        args += ["--train-sizes", "10"]
    with pytest.raises(SystemExit) as exc:
        main(args + extra + (["--strategies", "tfidf-lr"] if "--strategies" not in extra else []))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message.lower() in err.lower()
    assert not (tmp_path / "o").exists()


def test_missing_dataset_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(tmp_path / "missing.csv"), "--strategies", "tfidf-lr"])
    assert exc.value.code == 2
    assert "neither 'imdb' nor an existing file" in capsys.readouterr().err


def test_python_dash_m_and_package_never_imports_cli():
    done = subprocess.run([sys.executable, "-m", "sktransfer", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage: sktransfer" in done.stdout
    code = ("import sys, sktransfer, sktransfer.compare, sktransfer.datasets; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
            "sktransfer.BertVectorizer; sktransfer.BertFineTuneClassifier; sktransfer.ELMoVectorizer; "
            "assert 'sktransfer.cli' not in sys.modules, 'cli imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_pretrain_elmo_end_to_end(tmp_path, capsys):
    from sktransfer import ELMoVectorizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the film was great . i loved it .", "the film was bad . i hated it ."] * 40))
    out = tmp_path / "elmo"
    status = main(["pretrain-elmo", str(corpus), "--out", str(out), "--architecture", "tiny", "--max-tokens", "2000",
                   "--vocab-size", "50", "--batch-size", "16", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "held-out perplexity" in printed and str(out.resolve()) in printed
    vec = ELMoVectorizer(str(out / "options.json"), str(out / "weights.hdf5")).fit(["x"])
    assert vec.transform(["the film was great"]).shape == (1, vec.n_features_out_)


def test_pretrain_elmo_missing_corpus(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["pretrain-elmo", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    assert "neither 'imdb' nor an existing file" in capsys.readouterr().err


@pytest.fixture
def pretrain_calls(monkeypatch):
    """Records the arguments pretrain-elmo passes to pretrain_elmo, and stops there."""
    from sktransfer.elmo import pretrain

    calls = []

    class Stop(Exception):
        pass

    def record(corpus, out_dir, **kwargs):
        calls.append(kwargs)
        raise Stop

    monkeypatch.setattr(pretrain, "pretrain_elmo", record)
    return calls, Stop


@pytest.mark.parametrize("flags, expected", [([], "compact"), (["--architecture", "small"], "small"),
                                             (["--architecture", "tiny"], "tiny"),
                                             (["--architecture", "wide"], "wide")])
def test_pretrain_elmo_architecture(tmp_path, capsys, pretrain_calls, flags, expected):
    calls, stop = pretrain_calls
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text .\n")
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), *flags])
    assert calls[0]["architecture"] == expected and "options" not in calls[0]
    assert "deprecated" not in capsys.readouterr().err


@pytest.mark.parametrize("flags, expected", [([], "adaptive"), (["--softmax-cutoffs", "2000", "10000", "40000"],
                                                                [2000, 10000, 40000])])
def test_pretrain_elmo_softmax_cutoffs(tmp_path, pretrain_calls, flags, expected):
    calls, stop = pretrain_calls
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text .\n")
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), *flags])
    assert calls[0]["softmax"] == expected


def test_pretrain_elmo_preset_is_a_deprecated_spelling_of_architecture(tmp_path, capsys, pretrain_calls):
    calls, stop = pretrain_calls
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text .\n")
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--preset", "small"])
    assert calls[0]["architecture"] == "small"
    assert "--preset is deprecated for pretrain-elmo and will be removed; use --architecture small" in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit) as info:
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--preset", "small",
              "--architecture", "tiny"])
    assert info.value.code == 2 and len(calls) == 1
    assert "pass only --architecture (got --architecture tiny and --preset small)" in capsys.readouterr().err


def test_pretrain_elmo_unknown_architecture(tmp_path, capsys, pretrain_calls):
    calls, _ = pretrain_calls
    with pytest.raises(SystemExit) as info:
        main(["pretrain-elmo", str(tmp_path), "--out", str(tmp_path / "o"), "--architecture", "huge"])
    assert info.value.code == 2 and not calls
    assert "--architecture: unknown architecture 'huge': expected one of 'compact', 'small', 'tiny', 'wide'" in (
        capsys.readouterr().err)


# -- faults: a real process killed mid-run, user errors without a traceback ----------------------------


def _sktransfer(*args):
    """The command line of ``python -m sktransfer ARGS``, run from the repository root."""
    return [sys.executable, "-m", "sktransfer", *map(str, args)]


def _kill_when(proc, ready, timeout=120):
    """SIGKILL ``proc`` as soon as ``ready()`` holds; False if it ended first."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    return False


def _records(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))["records"]
    except (OSError, ValueError, KeyError):
        return []


def test_compare_killed_then_resumed_loses_no_finished_run(tmp_path, tiny_bert):
    from .datasets.tiny_imdb import make_imdb_archive

    make_imdb_archive(tmp_path / "aclImdb_v1.tar.gz")
    out = tmp_path / "out"
    command = _sktransfer("compare", "imdb", "--data-home", tmp_path, "--n-test", "6", "--strategies", "bert-lr",
                          "--bert-model", tiny_bert, "--max-length", "32", "--train-sizes", "4", "8", "--seeds", "0",
                          "1", "--out", out, "--no-progress")
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when(proc, lambda: len(_records(out / "results.json")) >= 1), "compare finished before the kill"
    killed = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert killed["metadata"]["complete"] is False and 1 <= len(killed["records"]) < 4

    done = subprocess.run(command + ["--resume"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"taking over {len(killed['records'])} runs" in done.stderr
    final = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert final["metadata"]["complete"] is True and len(final["records"]) == 4
    assert final["records"][: len(killed["records"])] == killed["records"]  # kept, not refitted


def test_pretrain_elmo_killed_then_rerun_resumes(tmp_path):
    from sktransfer import ELMoVectorizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the film was great . i loved it .", "the film was bad . i hated it ."] * 40))
    out = tmp_path / "elmo"
    command = _sktransfer("pretrain-elmo", corpus, "--out", out, "--architecture", "tiny", "--max-tokens", "700",
                          "--vocab-size", "50", "--batch-size", "16", "--checkpoint-every", "1", "--no-progress")
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _kill_when(proc, (out / "checkpoint.pt").exists), "pretraining finished before the kill"
    assert not (out / "weights.hdf5").exists()

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resumed from the checkpoint of step " in done.stdout
    step = int(done.stdout.split("resumed from the checkpoint of step ")[1].split()[0])
    assert step >= 1
    training = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert training["result"]["resumed_from_step"] == step and training["result"]["steps"] > step
    vec = ELMoVectorizer(str(out / "options.json"), str(out / "weights.hdf5")).fit(["x"])
    assert np.isfinite(vec.transform(["the film was great"])).all()


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "{csv}", "--bert-model", "{bad_model}", "--strategies", "bert-lr", "--train-sizes", "8",
          "--seeds", "0", "--out", "{out}"], "config.json is not valid JSON"),
        (["compare", "{csv}", "--elmo-options", "{bad_json}", "--elmo-weights", "{bad_json}", "--strategies",
          "elmo-lr", "--train-sizes", "8", "--seeds", "0", "--out", "{out}"], "is not valid JSON"),
        (["compare", "{csv}", "--cache", "{a_file}", "--strategies", "bert-lr", "--bert-model", "{tiny_bert}",
          "--train-sizes", "8", "--seeds", "0", "--out", "{out}"], "is a file, not a folder"),
        (["compare", "{csv}", "--strategies", "tfidf-lr", "--out", "{a_file}"], "is a file; pass a folder"),
        (["pretrain-elmo", "{csv}", "--out", "{out}", "--architecture", "tiny", "--device", "cuda:7"],
         "is not available here"),
        (["pretrain-elmo", "{csv}", "--out", "{out}", "--architecture", "{bad_json}"], "not valid JSON"),
        (["compare", "{csv}", "--text-column", "nope", "--out", "{out}"], "nope"),
        (["compare", "--strategies", "nope"], "unknown strategy"),
    ],
    ids=["corrupt-bert-config", "corrupt-elmo-options", "cache-is-a-file", "out-is-a-file", "absent-device",
         "bad-architecture", "missing-column", "unknown-strategy"],
)
def test_user_errors_get_one_line_and_no_traceback(args, message, reviews_csv, tiny_bert, tmp_path):
    import shutil

    bad_model = tmp_path / "bad_model"
    shutil.copytree(tiny_bert, bad_model)
    (bad_model / "config.json").write_text("{not json")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "a_file").write_text("x")
    names = dict(csv=reviews_csv, bad_model=bad_model, bad_json=tmp_path / "bad.json", a_file=tmp_path / "a_file",
                 out=tmp_path / "out", tiny_bert=tiny_bert)
    argv = [a.format(**names) for a in args]
    if argv[0] == "compare" and argv[1:2] == [str(reviews_csv)] and "--text-column" not in argv:
        argv += ["--text-column", "review", "--label-column", "sentiment"]
    done = subprocess.run(_sktransfer(*argv, "--no-progress"), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sktransfer {argv[0]}: error: ") and message in last


def test_pretrain_elmo_init_from(tmp_path, capsys, pretrain_calls):
    from sktransfer.elmo.embedded import EMBEDDED_MODEL_DIR

    calls, stop = pretrain_calls
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text .\n")
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--init-from", "embedded",
              "--softmax-warmup-steps", "50", "--snapshot-every", "1000"])
    # the architecture is the starting model's, not the --architecture default
    assert calls[0]["init_from"] == EMBEDDED_MODEL_DIR and calls[0]["architecture"] is None
    assert calls[0]["softmax_warmup_steps"] == 50 and calls[0]["snapshot_every"] == 1000
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o")])
    assert calls[1]["init_from"] is None and calls[1]["softmax_warmup_steps"] is None
    assert calls[1]["snapshot_every"] is None
    with pytest.raises(SystemExit) as info:
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--init-from", str(tmp_path)])
    assert info.value.code == 2 and len(calls) == 2
    assert "expected 'embedded' or a folder holding options.json and weights.hdf5" in capsys.readouterr().err


def test_pretrain_elmo_workers_and_shuffle_seed(tmp_path, capsys, pretrain_calls):
    calls, stop = pretrain_calls
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text .\n")
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--workers", "2", "--shuffle-seed", "7"])
    assert calls[0]["workers"] == 2 and calls[0]["shuffle_seed"] == 7 and calls[0]["seed"] == 0
    with pytest.raises(stop):
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o")])
    assert calls[1]["workers"] == 1 and calls[1]["shuffle_seed"] is None
    with pytest.raises(SystemExit) as info:
        main(["pretrain-elmo", str(corpus), "--out", str(tmp_path / "o"), "--workers", "0"])
    assert info.value.code == 2 and len(calls) == 2
    assert "--workers" in capsys.readouterr().err
