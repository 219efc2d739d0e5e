#!/usr/bin/env python
"""Throughput and output equality of sktransfer's ELMo against AllenNLP 0.9.0.

Typical run (see docs/elmo_benchmark.md for the recorded numbers)::

    python benchmarks/bench_elmo.py --options small_options.json --weights small_random_weights.hdf5 \
        --allen-venv /tmp/allen09-venv --out-dir /tmp/elmo_bench

Without ``--sents`` it builds 2,000 IMDB sentences of 15-30 tokens from
``../shared/data/aclImdb_v1.tar.gz`` (deterministic: archive order, training reviews,
at most two sentences per review). Without ``--options/--weights`` it writes the
official "small" architecture with seeded random weights (sktransfer's own writer).

sktransfer is timed end to end through ``ElmoBiLm.embed_tokens`` (token strings in,
per-token activations out, including the character mapping); the AllenNLP harness
(``bench_allennlp.py``, states reset before every batch of 64) times ``Elmo.forward``
on precomputed character ids. Both run with the same thread count. Outputs are
compared as mean-pooled vectors per sentence: the three biLM layers and their mean
(= AllenNLP ``Elmo`` with its untrained scalar mix).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

# On 2 shared, noisy cores, OpenMP's default spin-waiting turns every small parallel op
# into a stall whenever another process holds a core (measured: 5x slower). Sleeping
# waits avoid that; set before torch loads OpenMP, and inherited by the AllenNLP
# subprocess so both sides run under the same policy. Export another value to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sktransfer.elmo import ElmoBiLm, save_weights, write_options  # noqa: E402

SMALL_OPTIONS = {  # == elmo_2x1024_128_2048cnn_1xhighway_options.json
    "lstm": {"use_skip_connections": True, "projection_dim": 128, "cell_clip": 3, "proj_clip": 3,
             "dim": 1024, "n_layers": 2},
    "char_cnn": {"activation": "relu",
                 "filters": [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]],
                 "n_highway": 1, "embedding": {"dim": 16}, "n_characters": 262,
                 "max_characters_per_token": 50},
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def imdb_sentences(archive: Path, n: int, min_tokens: int, max_tokens: int, per_review: int = 2) -> list:
    """First ``n`` sentences with ``min_tokens..max_tokens`` tokens, in archive order."""
    out = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = member.name
            if not (member.isfile() and name.endswith(".txt") and ("/train/pos/" in name or "/train/neg/" in name)):
                continue
            text = tar.extractfile(member).read().decode("utf-8", "replace").replace("<br />", " ")
            taken = 0
            for sentence in _SENTENCE_END.split(text):
                tokens = _TOKEN.findall(sentence)
                if min_tokens <= len(tokens) <= max_tokens:
                    out.append(tokens)
                    taken += 1
                    if taken == per_review or len(out) == n:
                        break
            if len(out) == n:
                return out
    raise SystemExit(f"only {len(out)} sentences of {min_tokens}-{max_tokens} tokens in {archive}")


def pooled_layers(per_sentence: list) -> np.ndarray:
    """(N, layers, D) mean over each sentence's tokens."""
    return np.stack([t.mean(dim=1).numpy() for t in per_sentence])


def cpu_stall_us() -> int:
    """Whole-VM CPU-pressure stall counter (growth during a pass = other processes competed)."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return -1


def run_sktransfer(options, weights, sentences, batch_size, repeats):
    model = ElmoBiLm.from_files(options, weights)
    model.embed_tokens(sentences[:batch_size], batch_size=batch_size)  # warm-up
    times, stalls, result = [], [], None
    for rep in range(repeats):
        stall0, cpu0 = cpu_stall_us(), time.process_time()
        t = time.perf_counter()
        out = model.embed_tokens(sentences, batch_size=batch_size)
        times.append(time.perf_counter() - t)
        stalls.append((cpu_stall_us() - stall0) / 1e6)
        print(f"sktransfer pass {rep}: wall {times[-1]:.2f}s, process cpu {time.process_time() - cpu0:.2f}s, "
              f"VM cpu-pressure stall {stalls[-1]:.2f}s", flush=True)
        if result is None:
            result = pooled_layers(out)
    return result, times, stalls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--options", help="options.json (default: write the 'small' architecture)")
    ap.add_argument("--weights", help="weights.hdf5 (default: seeded random weights for --options)")
    ap.add_argument("--sents", help="one whitespace-tokenised sentence per line (default: IMDB)")
    ap.add_argument("--imdb", default=str(ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"))
    ap.add_argument("--n-sents", type=int, default=2000)
    ap.add_argument("--min-tokens", type=int, default=15)
    ap.add_argument("--max-tokens", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64, help="sktransfer sentences per LSTM batch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="timed passes (best reported)")
    ap.add_argument("--allen-venv", default="/tmp/allen09-venv", help="AllenNLP 0.9.0 venv ('' to skip)")
    ap.add_argument("--allen-tools", default=str(ROOT.parent / "shared" / "tools" / "allennlp09"))
    ap.add_argument("--allen-repeats", type=int, default=1)
    ap.add_argument("--out-dir", default="elmo_bench_out")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    out_dir = Path(a.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if a.options is None:
        a.options = str(out_dir / "small_options.json")
        write_options(SMALL_OPTIONS, a.options)
    if a.weights is None:
        a.weights = str(out_dir / "random_weights.hdf5")
        save_weights(ElmoBiLm.from_options(a.options, random_state=0), a.weights)

    if a.sents:
        lines = Path(a.sents).read_text(encoding="utf-8").split("\n")
        sentences = [line.split() for line in lines if line.split()]
    else:
        sentences = imdb_sentences(Path(a.imdb), a.n_sents, a.min_tokens, a.max_tokens)
    sents_file = out_dir / "sentences.txt"
    sents_file.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
    n_tok = sum(len(s) for s in sentences)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads | {len(sentences)} sentences, "
          f"{n_tok} tokens ({n_tok / len(sentences):.1f}/sentence) | options {a.options}")

    report = {"n_sentences": len(sentences), "n_tokens": n_tok, "threads": a.threads,
              "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"), "options": a.options,
              "weights": a.weights, "batch_size": a.batch_size}

    ours, times, stalls = run_sktransfer(a.options, a.weights, sentences, a.batch_size, a.repeats)
    best = min(times)
    report["sktransfer"] = {"pass_s": times, "cpu_pressure_stall_s": stalls,
                            "sent_per_s": len(sentences) / best, "tok_per_s": n_tok / best}
    print(f"sktransfer ElmoBiLm.embed_tokens: passes {', '.join(f'{t:.2f}s' for t in times)} -> "
          f"{len(sentences) / best:.1f} sent/s, {n_tok / best:.0f} tok/s")

    allen_python = Path(a.allen_venv) / "bin" / "python" if a.allen_venv else None
    harness = Path(a.allen_tools) / "bench_allennlp.py"
    if allen_python and allen_python.exists() and harness.exists():
        ref_out = out_dir / "allennlp_pooled.npy"
        cmd = [str(allen_python), str(harness), "--options", a.options, "--weights", a.weights,
               "--sents", str(sents_file), "--out", str(ref_out), "--threads", str(a.threads),
               "--repeats", str(a.allen_repeats), "--which", "both"]
        print("running:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        ref = np.load(ref_out)
        meta = json.loads(ref_out.with_suffix(".json").read_text())
        ref_sps = meta["timings"]["Elmo"]["sent_per_s"]
        layer_diff = np.abs(ours - ref[:, 1:4]).max(axis=(0, 2))
        mix_diff = float(np.abs(ours.mean(axis=1) - ref[:, 0]).max())
        report["allennlp"] = {"Elmo_sent_per_s": ref_sps, "Elmo_pass_s": meta["timings"]["Elmo"]["all_pass_s"],
                              "Elmo_cpu_pressure_stall_s": meta["timings"]["Elmo"]["cpu_pressure_stall_s"],
                              "ElmoBiLm_sent_per_s": meta["timings"]["_ElmoBiLm"]["sent_per_s"],
                              "Elmo_forward_s": meta["timings"]["Elmo"]["forward_s"]}
        report["speedup_vs_Elmo"] = report["sktransfer"]["sent_per_s"] / ref_sps
        report["max_abs_diff_pooled_per_layer"] = [float(d) for d in layer_diff]
        report["max_abs_diff_pooled_scalar_mix"] = mix_diff
        print(f"AllenNLP 0.9.0 Elmo: {ref_sps:.1f} sent/s | speed-up {report['speedup_vs_Elmo']:.2f}x")
        print("max |pooled sktransfer - pooled AllenNLP| per layer: "
              + ", ".join(f"{d:.2e}" for d in layer_diff) + f"; Elmo (mean of layers): {mix_diff:.2e}")
    else:
        print("AllenNLP reference not found (set --allen-venv); reporting sktransfer only")
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    print("wrote", out_dir / "report.json")


if __name__ == "__main__":
    main()
