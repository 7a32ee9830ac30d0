"""ElasticNetCV, MultiTaskLassoCV and MultiTaskElasticNetCV against
scikit-learn's, on the same grid and folds at tol 1e-10: the same alpha (and
l1_ratio), validation errors within 1e-4 relative; and scikit-learn's
estimator checks."""

import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from tflasso import ElasticNetCV, MultiTaskElasticNetCV, MultiTaskLassoCV

from .conftest import make_problem

PARAMS = dict(alphas=20, tol=1e-10, max_iter=100_000, cv=KFold(4))


def _agree(ours, theirs):
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    assert ours.mse_path_.shape == theirs.mse_path_.shape
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-4)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)
    if hasattr(theirs, "l1_ratio_"):
        assert ours.l1_ratio_ == theirs.l1_ratio_
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-3 * scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-3 * scale)


@pytest.mark.parametrize("shape", [(120, 12), (40, 70)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("l1_ratio", [0.5, [0.1, 0.5, 0.9]], ids=["one", "list"])
def test_elastic_net_cv_matches_sklearn(shape, l1_ratio):
    X, y = make_problem(*shape, seed=shape[0])
    ours = ElasticNetCV(l1_ratio=l1_ratio, **PARAMS).fit(X, y)
    theirs = sk.ElasticNetCV(l1_ratio=l1_ratio, **PARAMS).fit(X, y)
    _agree(ours, theirs)
    expected = (20, 4) if np.ndim(l1_ratio) == 0 else (3, 20, 4)
    assert ours.mse_path_.shape == expected


def test_elastic_net_cv_sample_weight_matches_sklearn():
    X, y = make_problem(100, 10, seed=5)
    sw = np.random.default_rng(5).uniform(0.2, 3, 100)
    ours = ElasticNetCV(l1_ratio=0.7, **PARAMS).fit(X, y, sample_weight=sw)
    theirs = sk.ElasticNetCV(l1_ratio=0.7, **PARAMS).fit(X, y, sample_weight=sw)
    _agree(ours, theirs)


@pytest.mark.parametrize("shape", [(120, 12), (40, 70)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("estimator", ["MultiTaskLassoCV", "MultiTaskElasticNetCV"])
def test_multi_task_cv_matches_sklearn(shape, estimator):
    X, Y = make_problem(*shape, n_targets=3, seed=shape[1])
    extra = {"l1_ratio": [0.5, 0.9]} if estimator == "MultiTaskElasticNetCV" else {}
    ours = {"MultiTaskLassoCV": MultiTaskLassoCV,
            "MultiTaskElasticNetCV": MultiTaskElasticNetCV}[estimator](**PARAMS, **extra)
    ours.fit(X, Y)
    theirs = getattr(sk, estimator)(**PARAMS, **extra).fit(X, Y)
    _agree(ours, theirs)
    assert ours.coef_.shape == (3, shape[1])
    # One support for all tasks.
    np.testing.assert_array_equal(np.all(ours.coef_ == 0, axis=0),
                                  np.any(ours.coef_ == 0, axis=0))


def test_cv_estimators_have_alpha_1se_at_or_above_alpha():
    X, Y = make_problem(80, 10, n_targets=2, seed=9)
    for model in (ElasticNetCV(**PARAMS).fit(X, Y[:, 0]),
                  MultiTaskLassoCV(**PARAMS).fit(X, Y)):
        assert model.alpha_1se_ >= model.alpha_


def test_multi_task_cv_rejects_a_single_task():
    X, y = make_problem(40, 5, seed=1)
    with pytest.raises(ValueError, match="mono-task"):
        MultiTaskLassoCV(cv=3).fit(X, y)


@parametrize_with_checks([
    ElasticNetCV(alphas=10, cv=3),
    MultiTaskLassoCV(alphas=10, cv=3),
    MultiTaskElasticNetCV(alphas=10, cv=3),
])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
