"""scikit-learn's own estimator checks, and the estimator inside sklearn's tools."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from tflasso import Lasso


@parametrize_with_checks([Lasso()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_grid_search_picks_sklearns_alpha_on_diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    grid = {"lasso__alpha": np.logspace(-3, 1, 20)}
    cv = KFold(5, shuffle=True, random_state=0)
    searches = [
        GridSearchCV(make_pipeline(StandardScaler(), estimator), grid, cv=cv).fit(X, y)
        for estimator in (
            Lasso(tol=1e-8, max_iter=100_000),
            SklearnLasso(tol=1e-8, max_iter=100_000),
        )
    ]
    ours, theirs = searches
    assert ours.best_params_ == theirs.best_params_
    np.testing.assert_allclose(ours.best_score_, theirs.best_score_, rtol=1e-6)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        theirs.cv_results_["mean_test_score"],
        rtol=1e-5,
    )


@pytest.mark.parametrize("bad", [{"alpha": -1.0}, {"max_iter": 0}, {"tol": -1e-3},
                                 {"precompute": "always"}, {"positive": "yes"}])
def test_invalid_parameters_name_the_argument(bad):
    X, y = np.ones((5, 2)), np.arange(5.0)
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"'{name}' parameter of Lasso"):
        Lasso(**bad).fit(X, y)


@pytest.mark.parametrize("interface", ["spmatrix", "sparray"])
def test_sparse_coef_follows_sklearns_sparse_interface(interface):
    import sklearn

    X, y = np.eye(3), np.array([1.0, 2.0, 3.0])
    with sklearn.config_context(sparse_interface=interface):
        ours = Lasso(alpha=0.1, tol=1e-12).fit(X, y).sparse_coef_
        theirs = SklearnLasso(alpha=0.1, tol=1e-12).fit(X, y).sparse_coef_
    assert type(ours) is type(theirs)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), atol=1e-6)
