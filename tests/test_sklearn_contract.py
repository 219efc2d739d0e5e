"""The scikit-learn estimator contract, for every public estimator, on text input.

``check_estimator`` runs nothing useful for string input, so the applicable individual checks are
called here, and the ones that need data are rewritten with texts.
"""

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import estimator_checks as checks

from sktransfer import BertFineTuneClassifier, BertVectorizer, ELMoVectorizer


def make_estimators(tiny_bert, elmo_files):
    return [
        BertVectorizer(tiny_bert, batch_size=4),
        BertFineTuneClassifier(tiny_bert, lr=5e-3, max_epochs=2, batch_size=8, random_state=0),
        ELMoVectorizer(*elmo_files, batch_size=4),
    ]


@pytest.fixture(params=["BertVectorizer", "BertFineTuneClassifier", "ELMoVectorizer"])
def estimator(request, tiny_bert, elmo_files):
    return {type(e).__name__: e for e in make_estimators(tiny_bert, elmo_files)}[request.param]


def fit(est, X, y):
    return est.fit(X, y)


def outputs(est, X):
    return est.transform(X) if hasattr(est, "transform") else est.predict_proba(X)


def fitted_model(est):
    """The torch module a fitted estimator computes with."""
    for name in ("model_", "bilm_"):
        if hasattr(est, name):
            return getattr(est, name)
    return est.net_.module_


# -- sklearn's own checks that apply without numeric data ------------------------------------
SKLEARN_CHECKS = [
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_mixin_order,
    # Numeric X is fine here: parameters are validated before the input is looked at.
    checks.check_param_validation,
]


@pytest.mark.parametrize("check", SKLEARN_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_check(estimator, check):
    check(type(estimator).__name__, estimator)


def test_unfitted_raises_not_fitted(estimator):
    method = estimator.transform if hasattr(estimator, "transform") else estimator.predict
    with pytest.raises(NotFittedError):
        method(["a text"])
    # sklearn's own unfitted checks feed numbers; NotFittedError must still come first.
    if hasattr(estimator, "transform"):
        checks.check_transformers_unfitted(type(estimator).__name__, clone(estimator))
    else:
        checks.check_estimators_unfitted(type(estimator).__name__, clone(estimator))


def test_tags_declare_string_input(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_fit_returns_self_keeps_params_and_is_idempotent(estimator, sentiment_texts, fresh_model_memo):
    X, y = sentiment_texts
    params = estimator.get_params()
    torch.manual_seed(0)
    assert fit(estimator, X, y) is estimator
    assert estimator.get_params() == params, "fit must not change parameters"
    first = outputs(estimator, X)
    first_model = fitted_model(estimator)
    fresh_model_memo()  # the refit must build its model again, not be handed the one just used
    torch.manual_seed(1)  # and from another global RNG state: only random_state may decide the result
    fit(estimator, X, y)
    assert fitted_model(estimator) is not first_model
    np.testing.assert_allclose(outputs(estimator, X), first, atol=1e-6)


def test_get_set_params_round_trip(estimator):
    params = estimator.get_params()
    twin = clone(estimator).set_params(**params)
    assert twin.get_params() == params
    twin.set_params(batch_size=3)
    assert twin.batch_size == 3 and estimator.batch_size != 3


def test_clone_of_fitted_is_unfitted(estimator, sentiment_texts):
    X, y = sentiment_texts
    fit(estimator, X, y)
    with pytest.raises(NotFittedError):
        outputs(clone(estimator), X)


def test_joblib_round_trip(estimator, sentiment_texts, tmp_path):
    X, y = sentiment_texts
    fit(estimator, X, y)
    expected = outputs(estimator, X)
    joblib.dump(estimator, tmp_path / "est.joblib")
    loaded = joblib.load(tmp_path / "est.joblib")
    np.testing.assert_array_equal(outputs(loaded, X), expected)


def test_sample_order_and_subset_invariance(estimator, sentiment_texts):
    X, y = sentiment_texts
    fit(estimator, X, y)
    full = outputs(estimator, X)
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(outputs(estimator, [X[i] for i in perm]), full[perm], atol=1e-5)
    np.testing.assert_allclose(outputs(estimator, X[3:7]), full[3:7], atol=1e-5)


def test_input_not_mutated(estimator, sentiment_texts):
    X, y = sentiment_texts
    X_copy, y_copy = list(X), list(y)
    fit(estimator, X, y)
    outputs(estimator, X)
    assert X == X_copy and y == y_copy


# -- composition ------------------------------------------------------------------------------
def test_pipeline_and_cross_val_score(tiny_bert, sentiment_texts):
    X, y = sentiment_texts
    pipe = Pipeline([("bert", BertVectorizer(tiny_bert)), ("clf", LogisticRegression())])
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
    clf_scores = cross_val_score(BertFineTuneClassifier(tiny_bert, max_epochs=1, random_state=0), X, y, cv=2)
    assert clf_scores.shape == (2,)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_strategies(tiny_bert, sentiment_texts, n_jobs):
    X, y = sentiment_texts
    pipe = Pipeline([("clf", BertFineTuneClassifier(tiny_bert))])
    grid = [
        {"clf": [BertFineTuneClassifier(tiny_bert, max_epochs=1, random_state=0)], "clf__lr": [1e-3, 1e-2]},
        {
            "clf": [make_pipeline(BertVectorizer(tiny_bert), LogisticRegression())],
            "clf__logisticregression__C": [0.1, 10.0],
        },
    ]
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=n_jobs, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X).shape == (len(X),)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_elmo_pipeline_cross_val_and_grid_search_over_the_layer_mix(elmo_files, sentiment_texts, n_jobs):
    X, y = sentiment_texts
    pipe = Pipeline([("elmo", ELMoVectorizer(*elmo_files)), ("clf", LogisticRegression())])
    assert cross_val_score(pipe, X, y, cv=2, n_jobs=n_jobs).shape == (2,)
    grid = {"elmo__layers": ["average", [0.0, 0.5, 0.5], 2], "elmo__pooling": ["mean", "mean_max"], "clf__C": [1.0]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=n_jobs, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
