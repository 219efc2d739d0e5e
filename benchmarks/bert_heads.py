"""Does a trained head on frozen MiniLM token vectors earn a place among the default strategies?

FeatureHeadClassifier on all-MiniLM-L6-v2's last four hidden layers (the BERT paper's
feature-based variant: a learned mix of hidden layers into a head), MLP and BiLSTM, against
mean-pooled MiniLM features + LogisticRegression (``bert-lr``), on IMDB with the protocol of
``sktransfer compare`` (same subsamples, 2,000 test reviews, 3 seeds, 256 word pieces).

    SKTRANSFER_DATA=../shared/data python benchmarks/bert_heads.py --out docs/bert_heads --cache /tmp/cache
"""

import argparse

from sktransfer import BertVectorizer, FeatureHeadClassifier
from sktransfer.compare import compare, format_table, write_results
from sktransfer.datasets import fetch_imdb
from sktransfer.strategies import HEAD_VALIDATION_FRACTION, REGISTRY, StrategySettings


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--head-epochs", type=int, default=20)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    settings = StrategySettings(max_length=args.max_length, cache=args.cache, head_epochs=args.head_epochs)
    strategies = {"bert-lr": REGISTRY["bert-lr"].build(settings)}
    for head in ("mlp", "bilstm"):
        encoder = BertVectorizer(layers=[-4, -3, -2, -1], max_length=args.max_length, cache=args.cache)
        strategies[f"bert-head-{head}"] = FeatureHeadClassifier(
            encoder, head=head, max_epochs=args.head_epochs, validation_fraction=HEAD_VALIDATION_FRACTION, patience=3)
    X_train, y_train = fetch_imdb("train", return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    results = compare(X_train, y_train, X_test, y_test, strategies, train_sizes=args.train_sizes, seeds=args.seeds)
    print(format_table(results))
    write_results(results, args.out, metadata={"dataset": "imdb", "max_length": args.max_length,
                                               "command": "python benchmarks/bert_heads.py"})


if __name__ == "__main__":
    main()
