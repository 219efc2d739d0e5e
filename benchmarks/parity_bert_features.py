"""Feature parity: BertVectorizer mean pooling vs a plain transformers forward pass with mask-mean pooling.

    SKTRANSFER_DATA=../shared/data python benchmarks/parity_bert_features.py [--n-texts 200] [--max-length 256]

The reference runs one text at a time (no padding at all); BertVectorizer runs length-sorted,
padded batches. Prints the max absolute difference over all texts and dimensions.
"""

import argparse

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from sktransfer import BertVectorizer
from sktransfer.datasets import fetch_imdb
from sktransfer.hf import DEFAULT_MODEL, resolve_model_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-texts", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    texts, _ = fetch_imdb("test", n_samples=args.n_texts, random_state=0, return_X_y=True)
    path = resolve_model_path(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    reference = []
    with torch.inference_mode():
        for text in texts:
            enc = tokenizer([text], truncation=True, max_length=args.max_length, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            reference.append(((hidden * mask).sum(1) / mask.sum(1))[0].numpy())
    reference = np.stack(reference)
    ours = BertVectorizer(path, max_length=args.max_length, batch_size=args.batch_size).fit_transform(texts)
    diff = np.abs(ours - reference)
    print(f"{len(texts)} IMDB test reviews, max_length={args.max_length}, batch_size={args.batch_size}: "
          f"max abs diff {diff.max():.2e}, mean abs diff {diff.mean():.2e}")
    return diff.max()


if __name__ == "__main__":
    main()
