"""Why are an ELMo's features weak? Layers, pooling and feature scaling, pretrained vs random.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_feature_diagnosis.py
        [--options options.json --weights weights.hdf5] [--n-train 500] [--n-test 1000]

Balanced IMDB training and test reviews. The per-layer mean and max pools are computed once
(``layers="all", pooling="mean_max"``) for the model (default: the embedded one) and for its
seeded random-weight twin, and every view of them is scored with LogisticRegression, raw (C=1)
and standardised (C=0.1). Prints a markdown table.
"""

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import ELMoVectorizer
from sktransfer.datasets import fetch_imdb


def views(features, dim):
    """Name -> feature matrix: column blocks of mean [layer 0, 1, 2] then max [layer 0, 1, 2]."""
    mean = [features[:, k * dim:(k + 1) * dim] for k in range(3)]
    return {
        "mean, layer 0 (char CNN)": mean[0],
        "mean, layer 1": mean[1],
        "mean, layer 2": mean[2],
        "mean, average of layers (the default)": sum(mean) / 3,
        "mean, 3 layers concatenated": features[:, :3 * dim],
        "max, 3 layers": features[:, 3 * dim:6 * dim],
        "mean + max, 3 layers": features,
    }


def score(train, y_train, test, y_test, scaled):
    if scaled:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1))
    else:
        clf = LogisticRegression(max_iter=3000, C=1.0)
    return clf.fit(train, y_train).score(test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--options", default=None, help="options.json (default: the embedded model)")
    parser.add_argument("--weights", default=None, help="weights.hdf5 (default: the embedded model)")
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--n-test", type=int, default=1000)
    args = parser.parse_args(argv)

    X_train, y_train = fetch_imdb("train", n_samples=args.n_train, random_state=0, return_X_y=True)
    X_test, y_test = fetch_imdb("test", n_samples=args.n_test, random_state=0, return_X_y=True)
    scores = {}
    for model, kwargs in (("pretrained", {}), ("random", {"pretrained": False, "random_state": 0})):
        vectorizer = ELMoVectorizer(args.options, args.weights, layers="all", pooling="mean_max", max_tokens=512,
                                    verbose=True, **kwargs).fit(X_train)
        train, test = vectorizer.transform(X_train), vectorizer.transform(X_test)
        dim = train.shape[1] // 6
        train_views, test_views = views(train, dim), views(test, dim)
        for name in train_views:
            for scaled in (False, True):
                scores[name, model, scaled] = score(train_views[name], y_train, test_views[name], y_test, scaled)
        print(f"{model}: mean |value| of the top layer's mean pool {np.abs(train[:, 2 * dim:3 * dim]).mean():.3f}")

    print(f"\n{args.n_train} training reviews, {args.n_test} test reviews, accuracy:\n")
    print("| features | pretrained, raw | pretrained, scaled | random, raw | random, scaled |")
    print("|---|---:|---:|---:|---:|")
    for name in views(np.zeros((1, 6)), 1):
        cells = [scores[name, model, scaled] for model in ("pretrained", "random") for scaled in (False, True)]
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
