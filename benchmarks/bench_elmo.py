#!/usr/bin/env python
"""Throughput of sktransfer's ELMo against AllenNLP 0.9.0 and against the arithmetic limit.

Typical run (see docs/elmo_benchmark.md for the recorded numbers)::

    /work/bench-run .venv/bin/python benchmarks/bench_elmo.py --allen-venv /tmp/allen09-venv \
        --ref-root /tmp/elmo-ref --out-dir /tmp/elmo_bench

Without ``--sents`` it builds 1,000 IMDB sentences of 15-30 tokens from
``../shared/data/aclImdb_v1.tar.gz`` (deterministic: archive order, training reviews,
at most two sentences per review). Without ``--options/--weights`` it writes the
official "small" architecture with seeded random weights (sktransfer's own writer).

Every contender runs in its own process, loaded and warmed up once; the timed passes
are then alternated (contender order rotated each round), and medians are reported.
Contenders: this checkout's sktransfer, optionally another checkout's (``--ref-root``,
e.g. a ``git worktree`` of main: before/after in one run) and AllenNLP 0.9.0
(``--allen-venv``, the harness in ``../shared/tools/allennlp09``).

sktransfer is timed end to end through ``ElmoBiLm.embed_tokens`` (token strings in,
per-token activations out, including the character mapping); AllenNLP is timed on
``Elmo.forward`` over precomputed character ids (batches sorted by length, states reset
before every batch), as its own harness does. Each runs at its own default batch size:
512 sentences for sktransfer (``ELMoVectorizer``'s), 64 for AllenNLP (its ``ElmoEmbedder``'s);
``--allen-same-batch`` also times AllenNLP at sktransfer's batch size. Outputs are compared as mean-pooled
vectors per sentence against AllenNLP (the three biLM layers and their mean = ``Elmo``
with its untrained scalar mix) and per token between the two sktransfer checkouts.

**The limit.** The forward FLOPs of the architecture on these sentences, counted as
the implementation needs them: the character CNN once per distinct token of the call
(only the convolution windows that touch the word, see ``CharCNN._convolve_and_pool``),
highway and projection; per LSTM position (tokens + ``<S>``/``</S>``), layer and
direction the input, state and projection matmuls. Element-wise work is not counted.
Divided by the fp32 matmul rate measured in the same run on the LSTM's gate matmul shape
(``(2, 2048, 128) @ (2, 128, 4096)``, ~90% of the LSTM's FLOPs), this gives the tokens/s
that a perfect implementation could reach at that rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path


def _wait_policy_argument(argv) -> str:
    """The value of ``--omp-wait-policy`` in ``argv`` (read before torch loads OpenMP)."""
    for i, arg in enumerate(argv):
        if arg.startswith("--omp-wait-policy="):
            return arg.split("=", 1)[1]
        if arg == "--omp-wait-policy" and i + 1 < len(argv):
            return argv[i + 1]
    return "PASSIVE"


# On 2 shared, noisy cores, OpenMP's spin-waiting turns every small parallel op into a stall
# whenever another process holds a core (measured: 5x slower), so PASSIVE (sleeping waits) is
# the default here. On quiet cores libgomp's own default ("default": spin briefly, then sleep)
# is what users get, and every contender ran faster with it; ACTIVE (spin forever) made the idle
# worker processes steal the cores (every pass stalled) and is unusable here. Set before torch
# loads OpenMP and passed on to the worker processes, so every contender runs under the same
# policy. An exported OMP_WAIT_POLICY wins.
OMP_POLICY = _wait_policy_argument(sys.argv)
if OMP_POLICY != "default":
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_POLICY)

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

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


def cpu_stall_us() -> int:
    """Whole-VM CPU-pressure stall counter (growth during a pass = other processes competed)."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return -1


def read_sentences(path) -> list:
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    return [line.split() for line in lines if line.split()]


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


# ---------------------------------------------------------------------------- workers
def _sktransfer_worker(a, sentences):
    sys.path.insert(0, str(Path(a.root).resolve()))
    from sktransfer.elmo import ElmoBiLm

    model = ElmoBiLm.from_files(a.options, a.weights)
    model.embed_tokens(sentences[: a.batch_size], batch_size=a.batch_size)  # warm-up

    def run():
        model.embed_tokens(sentences, batch_size=a.batch_size)

    def dump(path):
        out = model.embed_tokens(sentences, batch_size=a.batch_size)
        # per token (n_tokens, layers, D), sentences concatenated in file order
        np.save(path, torch.cat([t.transpose(0, 1) for t in out]).numpy())

    return run, dump


def _allennlp_worker(a, sentences):
    sys.path.insert(0, str(Path(a.allen_tools).resolve()))
    import allen09_elmo as AE

    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    batches = [order[i: i + a.batch_size] for i in range(0, len(order), a.batch_size)]
    batch_ids = [AE.batch_to_ids([sentences[i] for i in b]) for b in batches]
    elmo = AE.Elmo(a.options, a.weights, 1, dropout=0.0).eval()
    with torch.no_grad():
        elmo(batch_ids[0])  # warm-up

    def run():
        with torch.no_grad():
            for ids in batch_ids:
                AE.reset_elmo_states(elmo)
                elmo(ids)

    def pooled(rep, mask):
        m = mask.to(rep.dtype).unsqueeze(-1)
        return ((rep * m).sum(1) / m.sum(1)).numpy()

    def dump(path):
        # (N, 4, D): [:, 0] Elmo output (untrained scalar mix), [:, 1:] _ElmoBiLm layers; pooled
        result = None
        with torch.no_grad():
            for b, ids in zip(batches, batch_ids):
                AE.reset_elmo_states(elmo)
                out = elmo(ids)
                mix = pooled(out["elmo_representations"][0], out["mask"])
                AE.reset_elmo_states(elmo)
                bilm = elmo._elmo_lstm(ids)
                layers = [pooled(*AE.remove_sentence_boundaries(act, bilm["mask"])) for act in bilm["activations"]]
                if result is None:
                    result = np.zeros((len(sentences), 1 + len(layers), mix.shape[1]), dtype=np.float32)
                result[b] = np.stack([mix] + layers, axis=1)
        np.save(path, result)

    return run, dump


def serve(a):
    """Worker loop: load and warm up, then answer ``run`` (one timed pass) and ``dump PATH`` on stdin."""
    torch.set_num_threads(a.threads)
    sentences = read_sentences(a.sents)
    run, dump = (_allennlp_worker if a.serve == "allennlp" else _sktransfer_worker)(a, sentences)
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "run":
            stall0, cpu0 = cpu_stall_us(), time.process_time()
            t = time.perf_counter()
            run()
            wall = time.perf_counter() - t
            print(json.dumps({"wall_s": wall, "cpu_s": time.process_time() - cpu0,
                              "stall_s": (cpu_stall_us() - stall0) / 1e6}), flush=True)
        elif command == "dump":
            dump(arg)
            print("done", flush=True)


class Worker:
    def __init__(self, name, cmd):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._expect("ready")

    def _expect(self, word):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"worker {self.name} exited before answering {word!r}")
            if line.strip() == word:
                return

    def run(self) -> dict:
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"worker {self.name} exited during a pass")
            if line.startswith("{"):
                return json.loads(line)

    def dump(self, path):
        self.proc.stdin.write(f"dump {path}\n")
        self.proc.stdin.flush()
        self._expect("done")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ---------------------------------------------------------------------------- the limit
def forward_flops(options: dict, sentences: list) -> dict:
    """Multiply-add FLOPs (2 per MAC) of one pass over ``sentences``, by component."""
    from sktransfer.elmo import word_to_char_ids
    from sktransfer.elmo.char_cnn import PADDING_ID
    from sktransfer.elmo.characters import BOS_CHAR_IDS, EOS_CHAR_IDS

    cnn, lstm = options["char_cnn"], options["lstm"]
    filters = [(int(w), int(n)) for w, n in cnn["filters"]]
    char_dim, n_filters = int(cnn["embedding"]["dim"]), sum(n for _, n in filters)
    proj, cell, layers = int(lstm["projection_dim"]), int(lstm["dim"]), int(lstm["n_layers"])
    distinct = sorted({token for sentence in sentences for token in sentence})
    rows = np.stack([word_to_char_ids(t) for t in distinct] + [BOS_CHAR_IDS, EOS_CHAR_IDS])
    width, widest = rows.shape[1], max(w for w, _ in filters)
    not_pad = rows != PADDING_ID
    last = np.where(not_pad.any(1), width - np.argmax(not_pad[:, ::-1], axis=1), 0)
    span = np.clip(last + widest - 1, widest, width)  # windows the implementation computes
    conv = sum(2.0 * (span - w + 1).sum() * w * char_dim * n for w, n in filters)
    highway = 2.0 * len(rows) * int(cnn["n_highway"]) * n_filters * 2 * n_filters
    projection = 2.0 * len(rows) * n_filters * proj
    positions = sum(len(s) + 2 for s in sentences)
    lstm_gates = 2.0 * positions * layers * 2 * (proj * 4 * cell + proj * 4 * cell)
    lstm_projection = 2.0 * positions * layers * 2 * cell * proj
    parts = {"char_cnn_conv": conv, "char_cnn_highway": highway, "char_cnn_projection": projection,
             "lstm_gates": lstm_gates, "lstm_projection": lstm_projection}
    parts["total"] = sum(parts.values())
    parts["distinct_tokens"] = len(distinct)
    parts["lstm_positions"] = positions
    return parts


def matmul_rate(repeats: int = 7) -> float:
    """fp32 GFLOP/s of the LSTM gate matmul shape, both directions: (2, 2048, 128) @ (2, 128, 4096)."""
    x, w = torch.randn(2, 2048, 128), torch.randn(2, 128, 4096)
    out = torch.empty(2, 2048, 4096)
    torch.bmm(x, w, out=out)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        torch.bmm(x, w, out=out)
        times.append(time.perf_counter() - t)
    return 2 * 2 * 2048 * 128 * 4096 / statistics.median(times) / 1e9


# ---------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--options", help="options.json (default: write the 'small' architecture)")
    ap.add_argument("--weights", help="weights.hdf5 (default: seeded random weights for --options)")
    ap.add_argument("--sents", help="one whitespace-tokenised sentence per line (default: IMDB)")
    ap.add_argument("--imdb", default=str(ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"))
    ap.add_argument("--n-sents", type=int, default=1000)
    ap.add_argument("--min-tokens", type=int, default=15)
    ap.add_argument("--max-tokens", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=512,
                    help="sktransfer sentences per LSTM batch (512: ELMoVectorizer's default)")
    ap.add_argument("--allen-batch-size", type=int, default=64,
                    help="AllenNLP sentences per batch (64: its ElmoEmbedder's default)")
    ap.add_argument("--allen-same-batch", action="store_true",
                    help="also time AllenNLP at --batch-size (the ratio at equal batches)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE", "default"], default="PASSIVE",
                    help="OpenMP wait policy of every contender (default: PASSIVE, for contended cores; "
                         "'default' leaves libgomp's own, for quiet cores)")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds (every contender once per round)")
    ap.add_argument("--ref-root", default="", help="another sktransfer checkout to time as well (before/after)")
    ap.add_argument("--allen-venv", default="/tmp/allen09-venv", help="AllenNLP 0.9.0 venv ('' to skip)")
    ap.add_argument("--allen-tools", default=str(ROOT.parent / "shared" / "tools" / "allennlp09"))
    ap.add_argument("--out-dir", default="elmo_bench_out")
    ap.add_argument("--serve", choices=["sktransfer", "allennlp"], help=argparse.SUPPRESS)
    ap.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        return serve(a)

    sys.path.insert(0, str(ROOT))
    from sktransfer.elmo import ElmoBiLm, load_options, save_weights, write_options

    torch.set_num_threads(a.threads)
    out_dir = Path(a.out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if a.options is None:
        a.options = str(out_dir / "small_options.json")
        write_options(SMALL_OPTIONS, a.options)
    if a.weights is None:
        a.weights = str(out_dir / "random_weights.hdf5")
        save_weights(ElmoBiLm.from_options(a.options, random_state=0), a.weights)
    if a.sents:
        sentences = read_sentences(a.sents)
    else:
        sentences = imdb_sentences(Path(a.imdb), a.n_sents, a.min_tokens, a.max_tokens)
    sents_file = out_dir / "sentences.txt"
    sents_file.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
    n_sent, n_tok = len(sentences), sum(len(s) for s in sentences)
    flops = forward_flops(load_options(a.options), sentences)
    print(f"{cpu_name()} | torch {torch.__version__}, {a.threads} threads | {n_sent} sentences, {n_tok} tokens "
          f"({n_tok / n_sent:.1f}/sentence, {flops['distinct_tokens']} distinct) | options {a.options}")
    shown = ("char_cnn_conv", "char_cnn_highway", "char_cnn_projection", "lstm_gates", "lstm_projection", "total")
    print("forward GFLOP: " + ", ".join(f"{k} {flops[k] / 1e9:.1f}" for k in shown)
          + f" | {flops['total'] / n_tok / 1e6:.2f} MFLOP/token")

    common = ["--options", a.options, "--weights", a.weights, "--sents", str(sents_file),
              "--threads", str(a.threads), f"--omp-wait-policy={a.omp_wait_policy}"]
    ours = common + ["--batch-size", str(a.batch_size)]
    workers = [Worker("sktransfer", [sys.executable, __file__, "--serve", "sktransfer", "--root", str(ROOT)] + ours)]
    if a.ref_root:
        workers.append(Worker("sktransfer (ref)", [sys.executable, __file__, "--serve", "sktransfer",
                                                   "--root", a.ref_root] + ours))
    allen_python = Path(a.allen_venv) / "bin" / "python" if a.allen_venv else None
    if allen_python and allen_python.exists() and (Path(a.allen_tools) / "allen09_elmo.py").exists():
        allen = [str(allen_python), __file__, "--serve", "allennlp", "--allen-tools", a.allen_tools] + common
        # "AllenNLP 0.9.0" (the ratios' reference) runs at its own default batch size.
        workers.append(Worker("AllenNLP 0.9.0", allen + ["--batch-size", str(a.allen_batch_size)]))
        if a.allen_same_batch and a.batch_size != a.allen_batch_size:
            workers.append(Worker(f"AllenNLP batch {a.batch_size}", allen + ["--batch-size", str(a.batch_size)]))
    else:
        print("AllenNLP reference not found (set --allen-venv); timing sktransfer only")

    passes = {w.name: [] for w in workers}
    rates = []
    for rnd in range(a.repeats):
        rates.append(matmul_rate())
        shift = rnd % len(workers)
        for w in workers[shift:] + workers[:shift]:
            result = w.run()
            passes[w.name].append(result)
            print(f"round {rnd} {w.name:>16}: wall {result['wall_s']:.2f}s, cpu {result['cpu_s']:.2f}s, "
                  f"VM cpu-pressure stall {result['stall_s']:.2f}s", flush=True)
        print(f"round {rnd} matmul rate {rates[-1]:.1f} GFLOP/s", flush=True)

    rate = statistics.median(rates)
    limit_tok_s = n_tok / (flops["total"] / (rate * 1e9))
    report = {"cpu": cpu_name(), "torch": torch.__version__, "threads": a.threads,
              "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "libgomp default"),
              "n_sentences": n_sent, "n_tokens": n_tok,
              "batch_size": a.batch_size, "allen_batch_size": a.allen_batch_size,
              "options": a.options, "weights": a.weights, "flops": flops,
              "matmul_gflop_s": rates, "limit_tok_per_s": limit_tok_s, "contenders": {}}
    medians = {name: statistics.median(p["wall_s"] for p in runs) for name, runs in passes.items()}
    allen = medians.get("AllenNLP 0.9.0")
    print(f"\nlimit: {flops['total'] / n_tok / 1e6:.2f} MFLOP/token at {rate:.1f} GFLOP/s (median matmul rate) "
          f"-> {limit_tok_s:.0f} tokens/s")
    print(f"(sktransfer at batch {a.batch_size}, AllenNLP 0.9.0 at batch {a.allen_batch_size})")
    # Paired per round as well: each pass against the matmul rate measured in its own round and
    # against AllenNLP's pass of the same round (they share that round's load), then the median.
    print(f"{'contender':>16} | median pass | tokens/s | sent/s | fraction of limit (paired) | vs AllenNLP (paired)")
    for name, t in medians.items():
        walls = [p["wall_s"] for p in passes[name]]
        row = {"pass_s": walls, "stall_s": [p["stall_s"] for p in passes[name]],
               "median_s": t, "tok_per_s": n_tok / t, "sent_per_s": n_sent / t,
               "fraction_of_limit": n_tok / t / limit_tok_s,
               "fraction_of_limit_paired": statistics.median(
                   flops["total"] / (r * 1e9) / w for r, w in zip(rates, walls))}
        if allen:
            row["speedup_vs_allennlp"] = allen / t
            row["speedup_vs_allennlp_paired"] = statistics.median(
                p["wall_s"] / w for p, w in zip(passes["AllenNLP 0.9.0"], walls))
        report["contenders"][name] = row
        print(f"{name:>16} | {t:10.2f}s | {row['tok_per_s']:8.0f} | {row['sent_per_s']:6.1f} | "
              f"{row['fraction_of_limit']:6.1%} ({row['fraction_of_limit_paired']:6.1%}) | "
              + (f"{allen / t:.2f}x ({row['speedup_vs_allennlp_paired']:.2f}x)" if allen else "-"))

    dumps = {}
    for w in workers:
        dumps[w.name] = out_dir / (re.sub(r"\W+", "_", w.name).strip("_") + ".npy")
        w.dump(dumps[w.name])
        w.close()
    ours = np.load(dumps["sktransfer"])  # (n_tokens, layers, D)
    if "sktransfer (ref)" in dumps:
        diff = float(np.abs(ours - np.load(dumps["sktransfer (ref)"])).max())
        report["max_abs_diff_per_token_vs_ref"] = diff
        print(f"max |sktransfer - sktransfer (ref)| over all per-token activations: {diff:.2e}")
    if "AllenNLP 0.9.0" in dumps:
        ref = np.load(dumps["AllenNLP 0.9.0"])
        bounds = np.cumsum([0] + [len(s) for s in sentences])
        pooled = np.stack([ours[bounds[i]: bounds[i + 1]].mean(0) for i in range(n_sent)])
        layer_diff = np.abs(pooled - ref[:, 1:]).max(axis=(0, 2))
        mix_diff = float(np.abs(pooled.mean(axis=1) - ref[:, 0]).max())
        report["max_abs_diff_pooled_per_layer_vs_allennlp"] = [float(d) for d in layer_diff]
        report["max_abs_diff_pooled_scalar_mix_vs_allennlp"] = mix_diff
        print("max |pooled sktransfer - pooled AllenNLP| per layer: "
              + ", ".join(f"{d:.2e}" for d in layer_diff) + f"; Elmo (mean of layers): {mix_diff:.2e}")
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    print("wrote", out_dir / "report.json")


if __name__ == "__main__":
    main()
