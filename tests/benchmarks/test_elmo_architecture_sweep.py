"""benchmarks/elmo_architecture_sweep.py: candidate sizes, the 25 MB bound, and what a run reports."""

import os
import time

import elmo_architecture_sweep as bench
import h5py
import numpy as np
import pytest

from sktransfer.elmo.pretrain import ARCHITECTURES, pretrain_elmo

DOCS = [f"the film number {i} was good . the plot was bad ." for i in range(60)]


def test_compact_matches_the_shipped_models_parameter_count():
    # The model card's figure for the embedded model (compact architecture).
    assert bench.describe(bench.CANDIDATES["compact"])["parameters"] == 1_812_704


def test_the_chosen_candidate_is_the_wide_architecture_with_the_swept_size():
    # docs/elmo_imdb_model_card.md reports c1024-p128 as 5.36M parameters, 10.7 MB in float16.
    assert bench.CANDIDATES["c1024-p128"] == ARCHITECTURES["wide"]
    assert bench.describe(ARCHITECTURES["wide"])["parameters"] == 5_363_936


def test_every_candidate_fits_the_float16_bound_and_they_grow():
    facts = {name: bench.describe(options) for name, options in bench.CANDIDATES.items()}
    assert all(2 * f["parameters"] <= bench.MAX_FLOAT16_BYTES for f in facts.values())
    assert facts["c1024-p256"]["parameters"] > 6 * facts["compact"]["parameters"]
    assert facts["c512-p256"]["feature_dim"] == 512 and facts["compact"]["feature_dim"] == 256


def test_the_published_small_architecture_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(bench.CANDIDATES, "small", ARCHITECTURES["small"])
    with pytest.raises(SystemExit, match="exceed the 25 MB"):
        bench.main(["--candidates", "small", "--work", str(tmp_path), "--pretrain-only"])
    assert not any(tmp_path.iterdir())


def test_training_facts_and_float16_size_of_a_finished_run(tmp_path):
    result = pretrain_elmo(DOCS, tmp_path / "run", architecture="tiny", batch_size=8, lr=1e-2, progress=False,
                           held_out_fraction=0.1, max_tokens=300, eval_every=2, dtype="float16")
    facts = bench.training_facts(tmp_path / "run")
    assert facts["words"] == result.tokens and facts["held_out_perplexity"] == result.held_out_perplexity
    assert facts["seconds"] == pytest.approx(result.tokens / result.tokens_per_second)
    assert [h["step"] for h in facts["history"]] == [h["step"] for h in result.history
                                                     if h.get("held_out_perplexity") is not None]
    with h5py.File(tmp_path / "run" / "weights.hdf5", "r") as f:
        stored = []
        f.visititems(lambda _, obj: stored.append(obj) if isinstance(obj, h5py.Dataset) else None)
        n_stored = sum(int(np.prod(d.shape)) for d in stored if d.dtype == np.float16)
    # bilm-tf's layout does not store the character embedding's padding row (one row of 4 here).
    char_dim = ARCHITECTURES["tiny"]["char_cnn"]["embedding"]["dim"]
    assert n_stored + char_dim == bench.describe(ARCHITECTURES["tiny"])["parameters"]


def test_a_failed_pretraining_stops_the_sweep_and_its_neighbour(tmp_path, monkeypatch):
    # A stand-in for the interpreter: the compact run would train for a minute, the other fails.
    fake = tmp_path / "python"
    pid_file = tmp_path / "compact.pid"
    fake.write_text(f'#!/bin/sh\ncase "$*" in *"/compact "*) echo $$ > {pid_file}; exec sleep 60;; '
                    '*) sleep 2; echo broken; exit 3;; esac\n')
    fake.chmod(0o755)
    monkeypatch.setattr(bench.sys, "executable", str(fake))
    tic = time.monotonic()
    with pytest.raises(SystemExit, match=r"pretraining c512-p128 failed \(exit 3\); see .*c512-p128\.log"):
        bench.main(["--candidates", "compact", "c512-p128", "--work", str(tmp_path / "work"), "--pretrain-only",
                    "--parallel", "2"])
    # The compact run was terminated (and reaped), not left running or waited for.
    assert time.monotonic() - tic < 45
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert (tmp_path / "work" / "c512-p128.log").read_text(encoding="utf-8").strip().endswith("broken")
