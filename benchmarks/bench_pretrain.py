#!/usr/bin/env python
"""ELMo pretraining throughput beside its arithmetic limit, optionally against another git revision.

Typical run (recorded in docs/pretraining_throughput.md)::

    SKTRANSFER_DATA=/work/shared/data python benchmarks/bench_pretrain.py --compare-ref 5fcd149 \
        --repeats 5 --perplexity-words 300000

Every measurement runs in a fresh worker process (this script with ``--worker``) whose
``PYTHONPATH`` points at the code under test: the working tree, or ``git archive REV`` unpacked
into a temporary folder. Workers of the two codes alternate, so load from other processes hits
both alike. Each worker first measures the fp32 matmul rate at the model's largest matmul shape
(the input projection of a batch: ``(2, batch_size * (bptt + 2), projection_dim) @ (2,
projection_dim, 4 * cell)``), then times ``train_step`` on the first batches of epoch 0.

The limit is that matmul rate divided by the architecture's FLOPs per word (forward +
backward = 3x the forward matmul FLOPs of the LSTM, the softmax and the character CNN), with
the per-word ratios (positions, predictions, distinct words, softmax cluster sizes, CNN windows)
measured on the timed batches. Element-wise work is not counted: the limit is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

# Before torch: importing _timing sets OMP_WAIT_POLICY=PASSIVE (workers inherit it).
from _timing import REPO, cpu_model


def matmul_gflops(batch_rows: int, dim: int, out: int, seconds: float = 1.0) -> float:
    """fp32 rate of ``(2, batch_rows, dim) @ (2, dim, out)`` (median of timed chunks)."""
    import torch

    a, b = torch.randn(2, batch_rows, dim), torch.randn(2, dim, out)
    for _ in range(3):
        torch.bmm(a, b)
    rates, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 5:
        tic = time.perf_counter()
        for _ in range(5):
            torch.bmm(a, b)
        rates.append(5 * 2 * 2 * batch_rows * dim * out / (time.perf_counter() - tic) / 1e9)
    return statistics.median(rates)


def _cnn_forward_flops(chars, cnn_options) -> float:
    """Forward FLOPs of the character CNN over the distinct-word rows ``chars (n, 50)``.

    Convolution windows as the implementation computes them: a word whose last non-padding
    character sits at ``last - 1`` needs windows starting before ``last`` only (see CharCNN).
    """
    import torch

    from sktransfer.elmo.char_cnn import PADDING_ID

    filters = [(int(w), int(n)) for w, n in cnn_options["filters"]]
    char_dim = int(cnn_options["embedding"]["dim"])
    width = chars.shape[1]
    widest = max(w for w, _ in filters)
    not_pad = chars != PADDING_ID
    last = torch.where(not_pad.any(1), width - not_pad.flip(1).to(torch.uint8).argmax(1), 0)
    span = torch.clamp(last + widest - 1, min=widest, max=width).double()
    conv = sum(float((2 * (span - w + 1) * w * char_dim * n).sum()) for w, n in filters)
    n_filters = sum(n for _, n in filters)
    dense = chars.shape[0] * (int(cnn_options["n_highway"]) * 2 * n_filters * 2 * n_filters)
    return conv + dense


def _softmax_forward_flops(softmax, targets) -> float:
    """Forward FLOPs of the shared softmax for the prediction targets ``targets (n,)``."""
    if not softmax.cutoffs:
        weight = softmax.full.weight
        return float(len(targets) * 2 * weight.shape[0] * weight.shape[1])
    adaptive = softmax.adaptive
    head = adaptive.head.weight
    flops = len(targets) * 2 * head.shape[0] * head.shape[1]
    bounds = adaptive.cutoffs  # includes n_classes as the last entry
    for k, tail in enumerate(adaptive.tail):
        in_cluster = int(((targets >= bounds[k]) & (targets < bounds[k + 1])).sum())
        flops += in_cluster * sum(2 * layer.weight.shape[0] * layer.weight.shape[1] for layer in tail)
    return float(flops)


def worker(args) -> dict:
    """Time ``train_step`` of whatever ``sktransfer`` is first on ``sys.path``; one JSON record."""
    import torch

    from sktransfer.datasets import imdb_pretraining_corpus
    from sktransfer.elmo import pretrain as P
    from sktransfer.elmo.corpus import make_batch
    from sktransfer.tokenization import word_tokenize

    if args.threads:
        torch.set_num_threads(args.threads)
    docs = imdb_pretraining_corpus(args.data_home)[: args.documents]
    arch = P.architecture_options(args.architecture)
    lstm, cnn = arch["lstm"], arch["char_cnn"]
    proj, cell, layers = int(lstm["projection_dim"]), int(lstm["dim"]), int(lstm["n_layers"])
    record = {"code": os.environ.get("BENCH_CODE", "?"), "threads": torch.get_num_threads()}

    if args.perplexity_words:
        with tempfile.TemporaryDirectory() as out:
            result = P.pretrain_elmo(docs, out, architecture=args.architecture, max_tokens=args.perplexity_words,
                                     batch_size=args.batch_size, bptt=args.bptt, seed=args.seed, progress=False,
                                     checkpoint_every=None, **({"workers": args.workers} if args.workers > 1 else {}))
        record.update(workers=args.workers, words=result.tokens, held_out_perplexity=result.held_out_perplexity,
                      words_per_second=result.tokens_per_second)
        return record

    prepared = P._prepare_corpus(docs, word_tokenize, bptt=args.bptt, held_out_fraction=0.01, seed=args.seed,
                                 max_documents=None, vocab_size=50000, min_count=1)
    cutoffs = P._resolve_cutoffs("adaptive", len(prepared.vocab))
    device = torch.device("cpu")
    # The matmul rate with all of this process's threads, before any worker is forked.
    record["matmul_gflops"] = matmul_gflops(args.batch_size * (args.bptt + 2), proj, 4 * cell)

    def time_steps(group=None):
        """Build the model and trainer (sharing each batch with ``group``'s workers) and time its steps."""
        torch.manual_seed(args.seed)
        model, opt = P._build_model(arch, len(prepared.vocab), cutoffs, dropout=0.1, optimizer="adam", lr=1e-3,
                                    seed=args.seed, device=device)
        # group= only when sharing: older revisions (--compare-ref) do not take it.
        trainer = P._Pretrainer(model, opt, prepared, batch_size=args.batch_size, clip_norm=10.0, seed=args.seed,
                                device=device, out=Path("."), output_options={}, dtype="float32", config={},
                                fingerprint="", **({"group": group} if group is not None else {}))
        batches = trainer.epoch_batches()[: args.warmup + args.steps]
        if len(batches) < args.warmup + args.steps:
            raise SystemExit(f"only {len(batches)} batches in {args.documents} documents; pass more --documents")
        for members in batches[: args.warmup]:
            trainer.train_step(members)
        words = 0
        tic = time.perf_counter()
        for members in batches[args.warmup:]:
            words += trainer.train_step(members)[1]
        return model, batches, words, time.perf_counter() - tic

    if args.workers > 1:
        from sktransfer.elmo._data_parallel import run_workers

        model, batches, words, seconds = run_workers(args.workers, time_steps)
    else:
        model, batches, words, seconds = time_steps()
    record.update(words=words, seconds=seconds, words_per_second=words / seconds, workers=args.workers)

    # Arithmetic of the timed batches, per word.
    positions = predictions = 0
    cnn_flops = softmax_flops = 0.0
    for members in batches[args.warmup:]:
        batch = make_batch(prepared.data.train, members, prepared.char_table, prepared.type_to_softmax)
        targets = batch["targets"]
        valid = targets[:, 1:] >= 0
        both = torch.cat([targets[:, 1:][valid], targets[:, :-1][valid]])
        positions += int(batch["lengths"].sum())
        predictions += len(both)
        cnn_flops += _cnn_forward_flops(batch["chars"], cnn)
        softmax_flops += _softmax_forward_flops(model.softmax, both)
    lstm_per_position = 2 * layers * 2 * (proj * 4 * cell + proj * 4 * cell + cell * proj)
    forward = {"lstm": lstm_per_position * positions / words, "softmax": softmax_flops / words,
               "char_cnn": cnn_flops / words}
    record["flops_per_word"] = {k: 3 * v for k, v in forward.items()}  # backward = 2x forward
    record["positions_per_word"] = positions / words
    record["predictions_per_word"] = predictions / words
    return record


def _run_worker(code_dir: Path, label: str, args, extra=(), workers: int = 1) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code_dir), BENCH_CODE=label)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *_worker_args(args), "--workers", str(workers),
           *extra]
    # cwd=code_dir: the code under test is imported from there, never from an installed copy.
    done = subprocess.run(cmd, env=env, cwd=code_dir, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"worker for {label} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worker_args(args):
    out = ["--architecture", args.architecture, "--documents", str(args.documents), "--batch-size",
           str(args.batch_size), "--bptt", str(args.bptt), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--seed", str(args.seed), "--threads", str(args.threads)]
    if args.data_home:
        out += ["--data-home", args.data_home]
    return out


def _export(rev: str, into: Path) -> Path:
    """The ``sktransfer`` package of git revision ``rev``, unpacked under ``into``."""
    archive = into / "code.tar"
    with open(archive, "wb") as fout:
        subprocess.run(["git", "-C", str(REPO), "archive", rev, "sktransfer"], stdout=fout, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def _line(rec: dict) -> str:
    flops = sum(rec["flops_per_word"].values())
    limit = rec["matmul_gflops"] * 1e9 / flops
    wps = rec["words_per_second"]
    return (f"{rec['code']:>8}  {wps:8.0f} words/s  matmul {rec['matmul_gflops']:6.1f} GFLOP/s  "
            f"{flops / 1e6:5.1f} MFLOP/word  limit {limit:8.0f} words/s  fraction {wps / limit:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architecture", default="compact")
    parser.add_argument("--documents", type=int, default=2000, help="first N documents of the IMDB corpus")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--bptt", type=int, default=20)
    parser.add_argument("--steps", type=int, default=8, help="timed training steps per worker")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="workers per code (alternating)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="data-parallel worker processes for the working tree's code (pretrain_elmo(workers=)); "
                             "above 1, the working tree also runs with 1 worker, as '1-worker'")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--compare-ref", metavar="REV", help="also run the code of this git revision, alternately")
    parser.add_argument("--perplexity-words", type=int, default=0,
                        help="also pretrain each code for this many words (same seed) and report held-out perplexity")
    parser.add_argument("--json", help="write all records here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-perplexity", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        args.perplexity_words = args.worker_perplexity
        print(json.dumps(worker(args)))
        return

    import torch

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs); torch {torch.__version__}; "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with tempfile.TemporaryDirectory() as tmp:
        # label -> (code folder, workers)
        codes = {"current": (REPO, args.workers)}
        if args.workers > 1:
            codes["1-worker"] = (REPO, 1)
        if args.compare_ref:
            codes["ref"] = (_export(args.compare_ref, Path(tmp)), 1)
        records = []
        for repeat in range(args.repeats):
            # Alternate, and swap who goes first on odd repeats, so drifting load treats both alike.
            order = list(codes.items()) if repeat % 2 == 0 else list(codes.items())[::-1]
            for label, (code_dir, workers) in order:
                rec = _run_worker(code_dir, label, args, workers=workers)
                records.append(rec)
                print(_line(rec), flush=True)
        for label in codes if records else ():
            first = next(r for r in records if r["code"] == label)
            print(f"{label}: threads {first['threads']}; per word: {first['positions_per_word']:.3f} LSTM positions, "
                  f"{first['predictions_per_word']:.3f} predictions; FLOPs/word (fwd+bwd) "
                  + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in first["flops_per_word"].items()))
        summary = {}
        for label in codes if records else ():
            mine = [r for r in records if r["code"] == label]
            wps = statistics.median(r["words_per_second"] for r in mine)
            per_gflop = statistics.median(r["words_per_second"] / r["matmul_gflops"] for r in mine)
            gflops = statistics.median(r["matmul_gflops"] for r in mine)
            limits = [r["matmul_gflops"] * 1e9 / sum(r["flops_per_word"].values()) for r in mine]
            limit = statistics.median(limits)
            # Each worker's words/s against its own limit: the load changes between workers.
            fraction = statistics.median(r["words_per_second"] / lim for r, lim in zip(mine, limits))
            summary[label] = {"words_per_second": wps, "words_per_second_per_gflops": per_gflop,
                              "matmul_gflops": gflops, "limit": limit, "fraction": fraction}
            print(f"median {label:>8}: {wps:8.0f} words/s, matmul {gflops:.1f} GFLOP/s, limit {limit:.0f} words/s, "
                  f"fraction {fraction:.2f}, {per_gflop:.1f} words/s per GFLOP/s")
        for other in [label for label in summary if label != "current"]:
            raw = summary["current"]["words_per_second"] / summary[other]["words_per_second"]
            norm = summary["current"]["words_per_second_per_gflops"] / summary[other]["words_per_second_per_gflops"]
            print(f"speed-up current / {other}: {raw:.2f}x raw, {norm:.2f}x normalised by the same-run matmul rate")
        perplexity = []
        if args.perplexity_words:
            for label, (code_dir, workers) in codes.items():
                rec = _run_worker(code_dir, label, args, ["--worker-perplexity", str(args.perplexity_words)],
                                  workers=workers)
                perplexity.append(rec)
                print(f"{label:>8}: {rec['words']} words, held-out perplexity {rec['held_out_perplexity']:.3f} "
                      f"({rec['words_per_second']:.0f} words/s)", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"records": records, "summary": summary,
                                                   "perplexity": perplexity}, indent=2) + "\n")


if __name__ == "__main__":
    main()
