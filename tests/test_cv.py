"""tflasso.LassoCV against sklearn.linear_model.LassoCV, the 1-SE rule in numpy.

Both sides use the same grid and folds and tol=1e-6, so they must choose the
same alpha, with per-fold validation errors within 1e-4 relative.
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.linear_model import LassoCV as SklearnLassoCV
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from tflasso import LassoCV
from tflasso._reference import kkt_violation

from .conftest import make_problem

PARAMS = dict(alphas=30, tol=1e-6, max_iter=100_000)


def _fit_both(X, y, sample_weight=None, **params):
    params = {**PARAMS, "cv": KFold(5), **params}
    ours = LassoCV(**params).fit(X, y, sample_weight=sample_weight)
    theirs = SklearnLassoCV(**params).fit(X, y, sample_weight=sample_weight)
    return ours, theirs


def _assert_agree(ours, theirs, mse_rtol=1e-4):
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    assert ours.mse_path_.shape == theirs.mse_path_.shape
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=mse_rtol)
    # The same alpha: the same grid point (grids agree to rounding).
    assert np.argmin(np.abs(ours.alphas_ - ours.alpha_)) == np.argmin(
        np.abs(theirs.alphas_ - theirs.alpha_)
    )
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-2 * scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-2 * scale)


@pytest.fixture(scope="module")
def diabetes_fits(diabetes):
    return _fit_both(*diabetes)


def test_lasso_cv_matches_sklearn_on_diabetes(diabetes_fits):
    _assert_agree(*diabetes_fits)


def test_lasso_cv_attributes(diabetes_fits, diabetes):
    ours, _ = diabetes_fits
    X, y = diabetes
    assert ours.mse_path_.shape == (30, 5) and ours.alphas_.shape == (30,)
    assert np.all(np.diff(ours.alphas_) < 0)
    assert ours.coef_.shape == (10,) and isinstance(ours.intercept_, float)
    assert isinstance(ours.n_iter_, int) and ours.dual_gap_ >= 0
    assert ours.alpha_ == ours.alphas_[np.argmin(ours.mse_path_.mean(axis=1))]
    # The refit is the lasso on all the data at alpha_: check its KKT conditions.
    violation = kkt_violation(X, y, ours.coef_, ours.alpha_)
    assert violation <= 1e-3 * ours.alpha_


def test_lasso_cv_one_standard_error_rule_in_numpy(diabetes_fits):
    ours, _ = diabetes_fits
    mse = ours.mse_path_
    mean = mse.mean(axis=1)
    se = np.sqrt(((mse - mean[:, None]) ** 2).sum(axis=1) / (mse.shape[1] - 1))
    se /= np.sqrt(mse.shape[1])
    best = np.argmin(mean)
    within = [a for a, m in zip(ours.alphas_, mean) if m <= mean[best] + se[best]]
    assert ours.alpha_1se_ == max(within)
    assert ours.alpha_1se_ >= ours.alpha_


def test_lasso_cv_selection_1se_refits_at_alpha_1se(diabetes_fits, diabetes):
    X, y = diabetes
    model = LassoCV(**PARAMS, cv=KFold(5), refit_alpha="1se").fit(X, y)
    assert model.alpha_1se_ == diabetes_fits[0].alpha_1se_
    lasso = SklearnLasso(alpha=model.alpha_1se_, tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, lasso.coef_, atol=1e-2)
    assert np.sum(model.coef_ != 0) <= np.sum(diabetes_fits[0].coef_ != 0)


def test_lasso_cv_sample_weight_matches_sklearn(diabetes):
    X, y = diabetes
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    _assert_agree(*_fit_both(X, y, sample_weight=weights))


def test_lasso_cv_sparse_matches_sklearn(diabetes):
    X, y = diabetes
    _assert_agree(*_fit_both(sparse.csr_matrix(X), y))


@pytest.mark.parametrize(
    "params",
    [
        dict(fit_intercept=False),
        dict(positive=True),
        dict(alphas=[0.5, 0.05, 2.0, 0.005, 0.2]),
        # Splits that do not partition the rows: training folds from scratch.
        dict(cv=ShuffleSplit(4, test_size=0.2, train_size=0.6, random_state=0)),
    ],
    ids=["no-intercept", "positive", "alpha-array", "shuffle-split"],
)
def test_lasso_cv_options_match_sklearn(diabetes, params):
    _assert_agree(*_fit_both(*diabetes, **params))


def test_lasso_cv_wide_operator_form_matches_sklearn():
    # More features than samples: the objective is flat in some directions,
    # so at tol=1e-6 both sides' validation errors still differ by 1e-3 from
    # the exact ones; at 1e-10 they agree.
    X, y = make_problem(60, 120, n_informative=4, seed=5)
    _assert_agree(*_fit_both(X, y, alphas=10, tol=1e-10))


def test_lasso_cv_in_a_pipeline():
    X, y = make_problem(150, 12, seed=2)
    model = make_pipeline(StandardScaler(), LassoCV(alphas=10, cv=3)).fit(X, y)
    assert model.score(X, y) > 0.8
    assert model.predict(X[:3]).shape == (3,)


def test_lasso_cv_does_not_retrace():
    from tflasso._programs import PROGRAMS

    X, y = make_problem(120, 8, seed=1)
    LassoCV(alphas=10, cv=3).fit(X, y)
    counts = {key: f.experimental_get_tracing_count() for key, f in PROGRAMS.items()}
    for n, p, cv, alphas in [(90, 8, 3, 10), (200, 5, 4, 7), (150, 12, 5, 12)]:
        X, y = make_problem(n, p, seed=n)
        LassoCV(alphas=alphas, cv=cv, tol=1e-3).fit(X, y)
    after = {key: f.experimental_get_tracing_count() for key, f in PROGRAMS.items()}
    assert counts == after


@parametrize_with_checks([LassoCV(alphas=10, cv=3)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dense", "tall"])
def test_lasso_cv_matches_sklearn_on_benchmark_sets(name):
    from benchmarks.datasets import load

    X, y = load(name)
    _assert_agree(*_fit_both(X, y, alphas=100))


def test_lasso_cv_working_sets_match_sklearn(monkeypatch):
    # Working sets along the path serve many features (over 256); lowering
    # the thresholds runs them here, in chunks of 4 alphas, in graph mode.
    from tflasso import _programs, _strategies

    monkeypatch.setattr(_programs, "_MAX_XLA_FEATURES", 0)
    monkeypatch.setattr(_strategies, "_CHUNK_FEATURES", 0)
    monkeypatch.setattr(_strategies, "_CHUNK_ALPHAS", 4)
    monkeypatch.setattr(_strategies, "_MAX_SET_SHARE", 0.9)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, 60))
    y = X[:, :5] @ [3.0, -2.0, 2.0, 1.5, -1.0] + rng.standard_normal(300)
    _assert_agree(*_fit_both(X, y, alphas=20))
    _assert_agree(*_fit_both(X, y, alphas=20, positive=True))


def test_lasso_cv_routes_groups_to_the_splitter_like_sklearn():
    """With metadata routing, ``groups`` reaches GroupKFold, as in scikit-learn."""
    import sklearn
    from sklearn.model_selection import GroupKFold

    X, y = make_problem(60, 8)
    groups = np.repeat(np.arange(6), 10)
    params = dict(alphas=10, tol=1e-8, max_iter=100_000)
    with sklearn.config_context(enable_metadata_routing=True):
        ours = LassoCV(cv=GroupKFold(3), **params).fit(X, y, groups=groups)
        theirs = SklearnLassoCV(cv=GroupKFold(3), **params).fit(X, y, groups=groups)
    # Each fold holds out whole groups: the folds are GroupKFold's.
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-4)
    assert ours.alpha_ == theirs.alpha_
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        LassoCV(cv=GroupKFold(3)).fit(X, y, groups=groups)


def test_lasso_cv_takes_folds_as_boolean_masks():
    X, y = make_problem(40, 6)
    index_folds = list(KFold(4).split(X))
    n = len(y)
    mask_folds = [(np.isin(np.arange(n), tr), np.isin(np.arange(n), te))
                  for tr, te in index_folds]
    by_index = LassoCV(cv=index_folds, alphas=8).fit(X, y)
    by_mask = LassoCV(cv=mask_folds, alphas=8).fit(X, y)
    np.testing.assert_array_equal(by_index.mse_path_, by_mask.mse_path_)


def test_lasso_cv_selection_is_sklearns_and_sparse_y_is_refused():
    X, y = make_problem(30, 5)
    # scikit-learn's coordinate order: accepted, and it changes nothing.
    cyclic = LassoCV(alphas=5, cv=3, selection="cyclic").fit(X, y)
    random = LassoCV(alphas=5, cv=3, selection="random", random_state=0).fit(X, y)
    np.testing.assert_array_equal(cyclic.coef_, random.coef_)
    with pytest.raises(ValueError, match="'selection' parameter of LassoCV"):
        LassoCV(selection="1se").fit(X, y)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        LassoCV(alphas=5).fit(X, sparse.csr_matrix(y[:, None]))


@pytest.mark.parametrize("layout", ["dense", "csr", "csc"])
@pytest.mark.parametrize("partitioned", [True, False])
def test_lazy_fold_moments_equal_numpy(partitioned, layout):
    # One fold at a time: the training fold's Gram matrix made in place (the
    # full data's minus the test rows', or its own rows), and the test
    # fold's errors from its rows, checked against numpy on the fold's rows.
    # Sparse X's moments come from sparse products, moved to the shift.
    from tflasso._strategies import fold_moments

    rng = np.random.default_rng(0)
    X = (rng.standard_normal((60, 7)) + 3) * (rng.random((60, 7)) < 0.4)
    Y = rng.standard_normal((60, 2))
    sw = rng.uniform(0.5, 2, 60)
    test = np.arange(10, 25)
    train = np.setdiff1d(np.arange(60), test)[: None if partitioned else 40]
    given = X if layout == "dense" else getattr(sparse, f"{layout}_matrix")(X)
    _, pairs, x_shift, y_shift = fold_moments(given, Y, sw, [(train, test)], True, lazy=True)
    (moments, held_out), = pairs
    gram, xty, yy, x_mean, y_mean = moments.centred(True)
    w = sw[train] / sw[train].sum()
    xc, yc = X[train] - w @ X[train], Y[train] - w @ Y[train]
    np.testing.assert_allclose(gram, xc.T @ (w[:, None] * xc), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xty, xc.T @ (w[:, None] * yc), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x_shift + x_mean, w @ X[train], rtol=1e-12)
    coef, intercept = rng.standard_normal((7, 3, 2)), rng.standard_normal((3, 2))
    residual = (np.einsum("ij,jck->ick", X[test] - x_shift, coef) + intercept
                - (Y[test] - y_shift)[:, None, :])
    expected = np.average(residual**2, axis=0, weights=sw[test]).mean(axis=1)
    np.testing.assert_allclose(held_out.mse(coef, intercept), expected, rtol=1e-12)


def test_solve_gram_overwrite_is_the_same_solve():
    # Scaling the caller's aligned Gram matrix in place (a fold's, in
    # cross-validation) solves the same problem as scaling a copy. At
    # tol=1e-10 the fit is polished once converged, on the matrix unscaled
    # again (a copy): equal to rounding, not to the bit.
    from tflasso import _programs
    from tflasso._problem import penalty

    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 384))
    y = X[:, :5] @ np.ones(5) + rng.standard_normal(500)
    gram = _programs.aligned_zeros((1, 384, 384))
    gram[0] = X.T @ X / 500
    xty, yy = (X.T @ y / 500)[None, :, None, None], np.array([[y @ y / 500]])
    args = (xty, yy, np.array([500.0]), penalty(np.array([0.1]), 1.0, np.ones(384), False, 1),
            None, np.array([[1e-10]]), 10_000)
    copied = _programs.solve_gram(gram.copy(), *args)
    in_place = _programs.solve_gram(gram, *args, overwrite=True)
    assert not np.allclose(gram[0], X.T @ X / 500)  # it was scaled in place
    np.testing.assert_allclose(in_place[0], copied[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(in_place[1], copied[1], rtol=0, atol=1e-14 * yy[0, 0])
    np.testing.assert_array_equal(in_place[2], copied[2])


@pytest.mark.parametrize("sample_weight", [False, True])
def test_lasso_cv_fold_by_fold_matches_sklearn(monkeypatch, diabetes, sample_weight):
    # Past _CV_BATCH_BYTES of Gram matrices, the full data and then each fold
    # are solved one at a time, each fold's moments made when it is solved.
    from tflasso import _strategies

    monkeypatch.setattr(_strategies, "_CV_BATCH_BYTES", 0)
    X, y = diabetes
    sw = np.random.default_rng(3).uniform(0.5, 2, len(y)) if sample_weight else None
    _assert_agree(*_fit_both(X, y, sample_weight=sw))
    # ElasticNetCV's grid per l1_ratio, on folds that do not partition the rows.
    from sklearn.linear_model import ElasticNetCV as SklearnElasticNetCV

    from tflasso import ElasticNetCV

    params = {**PARAMS, "cv": ShuffleSplit(3, test_size=0.3, random_state=0),
              "l1_ratio": [0.5, 0.9]}
    ours = ElasticNetCV(**params).fit(X, y, sample_weight=sw)
    theirs = SklearnElasticNetCV(**params).fit(X, y, sample_weight=sw)
    assert ours.l1_ratio_ == theirs.l1_ratio_
    _assert_agree(ours, theirs)
