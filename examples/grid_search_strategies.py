"""One GridSearchCV over whole strategies: BERT fine-tuning vs frozen BERT features + logistic regression.

The Pipeline has a single step, "clf", and the parameter grid switches it between
``BertFineTuneClassifier`` and ``make_pipeline(BertVectorizer(), LogisticRegression())``, each with
its own hyper-parameters, so one cross-validated search picks the strategy and its settings on
the training sample; the winner, refitted on the whole sample, is then scored on held-out reviews.

    python examples/grid_search_strategies.py                  # 100 train / 200 test reviews, a few minutes on a CPU
    python examples/grid_search_strategies.py --n-train 400 --n-test 1000 --max-length 256 --cv 3

The IMDB archive is looked up in --data-home, else $SKTRANSFER_DATA, else ~/sktransfer_data.
For learning curves over several training sizes and seeds, see ``sktransfer compare``.
"""

import argparse
import time

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

from sktransfer import BertFineTuneClassifier, BertVectorizer
from sktransfer.datasets import fetch_imdb


def build_search(args):
    """The Pipeline, its strategy-switching grid and the GridSearchCV around them."""
    bert = {} if args.model is None else {"model_name_or_path": args.model}
    pipe = Pipeline([("clf", BertFineTuneClassifier(**bert))])
    grid = [
        {   # strategy 1: fine-tune the whole network; tune the learning rate
            "clf": [BertFineTuneClassifier(**bert, max_length=args.max_length, max_epochs=args.epochs,
                                           random_state=args.seed)],
            "clf__lr": [3e-5, 1e-4],
        },
        {   # strategy 2: frozen features + logistic regression; tune pooling and regularisation
            "clf": [make_pipeline(BertVectorizer(**bert, max_length=args.max_length),
                                  LogisticRegression(max_iter=2000))],
            "clf__bertvectorizer__pooling": ["mean", "cls"],
            "clf__logisticregression__C": [0.1, 1.0, 10.0],
        },
    ]
    cv = StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.seed)
    return GridSearchCV(pipe, grid, cv=cv, scoring="accuracy", verbose=1, error_score="raise")


def strategy_name(clf):
    return type(clf).__name__ if not isinstance(clf, Pipeline) else " + ".join(type(s).__name__ for _, s in clf.steps)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--n-train", type=int, default=100, help="balanced training reviews searched over (default 100)"
    )
    parser.add_argument("--n-test", type=int, default=200, help="balanced held-out test reviews (default 200)")
    parser.add_argument("--max-length", type=int, default=128, help="word pieces per review (default 128)")
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs (default 2)")
    parser.add_argument("--cv", type=int, default=2, help="cross-validation folds (default 2)")
    parser.add_argument("--model", default=None, help="BERT model directory or hub id (default all-MiniLM-L6-v2)")
    parser.add_argument("--data-home", default=None, help="folder holding aclImdb_v1.tar.gz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X_train, y_train = fetch_imdb("train", data_home=args.data_home, n_samples=args.n_train,
                                  random_state=args.seed, return_X_y=True)
    X_test, y_test = fetch_imdb("test", data_home=args.data_home, n_samples=args.n_test,
                                random_state=args.seed, return_X_y=True)
    search = build_search(args)
    n_candidates = len(ParameterGrid(search.param_grid))
    print(f"IMDB: {len(X_train)} training / {len(X_test)} test reviews; {n_candidates} candidates x {args.cv} folds")

    start = time.perf_counter()
    search.fit(X_train, y_train)
    elapsed = time.perf_counter() - start

    print(f"\n{'mean CV accuracy':>16}  {'std':>5}  candidate")
    order = sorted(range(len(search.cv_results_["params"])), key=lambda i: search.cv_results_["rank_test_score"][i])
    for i in order:
        params = dict(search.cv_results_["params"][i])
        name = strategy_name(params.pop("clf"))
        settings = ", ".join(f"{k.rsplit('__', 1)[-1]}={v}" for k, v in params.items())
        print(f"{search.cv_results_['mean_test_score'][i]:>16.3f}  {search.cv_results_['std_test_score'][i]:>5.3f}  "
              f"{name} ({settings})")
    best = dict(search.best_params_)
    print(f"\nBest: {strategy_name(best.pop('clf'))} {best}; test accuracy of the refitted winner: "
          f"{search.score(X_test, y_test):.3f} (search took {elapsed:.0f} s)")


if __name__ == "__main__":
    main()
