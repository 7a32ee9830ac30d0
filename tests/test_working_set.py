"""The working-set solver's column cache, checked against numpy, and its fits
against scikit-learn where the cache is exercised (growth, restart, warm
starts)."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.linear_model import lasso_path as sklearn_lasso_path

from tflasso import Lasso, _homotopy, _working_set, lasso_path
from tflasso._reference import alpha_max, duality_gap
from tflasso._design import Design
from tflasso._working_set import _Columns, _extrapolated

from .conftest import make_problem


@pytest.fixture(scope="module")
def weighted_problem():
    X, y = make_problem(60, 40, seed=3)
    sw = np.random.default_rng(3).uniform(0.2, 3, 60)
    sw *= 60 / sw.sum()
    x_offset = sw @ X / 60
    root = np.sqrt(sw)
    yc = (y - sw @ y / 60) * root
    return X, x_offset, root, yc, root[:, None] * (X - x_offset)


@pytest.mark.parametrize("held", [None, 2**20, 1500, 0])
@pytest.mark.parametrize("sequence", [
    [[1, 5, 9], [1, 2, 5, 9, 30], [0, 1, 2, 5, 9, 11, 30, 39]],  # growing
    [list(range(0, 40, 2)), [3, 7], [3, 7, 8]],  # restarts from the new set
    [[1, 5], list(range(30)), list(range(40))],  # outgrows 1,500 entries (60 x 25)
])
def test_cached_gram_and_products_match_numpy(weighted_problem, sequence, held,
                                               monkeypatch):
    # held: dense X (None), or sparse X whose columns the cache holds densely
    # while they fit in that many entries (_HELD_ENTRIES): always, until the
    # room grows past 25 columns, never.
    X, x_offset, root, yc, design_matrix = weighted_problem
    if held is not None:
        X = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))  # about 60% zeros
        design_matrix = root[:, None] * (X.toarray() - x_offset)
        monkeypatch.setattr(_working_set, "_HELD_ENTRIES", held)
    design = Design(X, x_offset, root)
    columns = _Columns(design, yc[:, None])
    for features in sequence:
        idx = np.array(features)
        gram, xty = columns.products(idx)
        if held is not None:
            assert columns.held == (60 * len(columns.gram) <= held)
        block = design_matrix[:, idx]
        np.testing.assert_allclose(gram, block.T @ block, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(xty[:, 0], block.T @ yc, rtol=1e-12, atol=1e-10)
        assert columns.cached.size <= 2 * idx.size
        w = np.linspace(-1, 1, idx.size)[:, None]
        np.testing.assert_allclose(columns.matvec(idx, w), block @ w, atol=1e-10)
    uncached = np.setdiff1d(np.arange(40), columns.cached)[:4]
    w = np.arange(1.0, 1.0 + uncached.size)
    np.testing.assert_allclose(design.matvec(uncached, w),
                               design_matrix[:, uncached] @ w, atol=1e-10)
    np.testing.assert_allclose(design.rmatvec(yc), design_matrix.T @ yc, atol=1e-10)


@pytest.mark.parametrize("fraction", [0.3, 0.02])
def test_warm_started_working_sets_agree_with_sklearn(fraction):
    # 50 x 200: working sets; the warm start enters with a support that is
    # not cached yet.
    X, y = make_problem(50, 200, n_informative=8, seed=4)
    top = alpha_max(X, y)
    model = Lasso(alpha=2 * fraction * top, tol=1e-10, warm_start=True).fit(X, y)
    model.set_params(alpha=fraction * top).fit(X, y)
    reference = SklearnLasso(alpha=fraction * top, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)
    gap = duality_gap(X, y, model.coef_, fraction * top)
    assert gap <= 1e-10 * np.sum((y - y.mean()) ** 2) / 50 * 1.0001


def test_unreachable_float32_tolerance_stops_at_its_best_point():
    # float32 X at tol=1e-12: the gap cannot reach the tolerance. The fit
    # warns, stops well before max_iter once its rounds no longer lower the
    # gap, and returns the best point it certified, not its last one: its
    # gap, reported and recomputed in numpy, is no worse than that of a fit
    # to a reachable tolerance.
    X, y = make_problem(60, 400, n_informative=8, seed=6)
    X, y = X.astype(np.float32), y.astype(np.float32)
    alpha = 0.02 * alpha_max(X, y)
    reachable = Lasso(alpha=alpha, tol=1e-6).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        model = Lasso(alpha=alpha, tol=1e-12).fit(X, y)
    assert model.n_iter_ < model.max_iter
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    # (float32 coefficients: their gap in float64 is above the one the fit
    # certified before rounding them.)
    assert model.dual_gap_ <= 1.01 * reachable.dual_gap_
    assert (duality_gap(X64, y64, model.coef_, alpha)
            <= 1.01 * duality_gap(X64, y64, reachable.coef_, alpha))


def test_extrapolated_warm_start_is_the_path_between_knots():
    # Orthonormal design: the path is piecewise linear in alpha, with a knot
    # where |z_j| = alpha. Between knots the line through two solutions is
    # the solution; a feature whose knot lies between is left at zero.
    z = np.array([3.0, -2.0, 1.2, 0.95, -0.5])
    solve = lambda alpha: np.sign(z)[:, None] * np.maximum(np.abs(z) - alpha, 0)[:, None]
    solved = [(1.4, solve(1.4)), (1.3, solve(1.3))]
    np.testing.assert_allclose(_extrapolated(solved, 1.25), solve(1.25), atol=1e-15)
    # Feature 3 enters at 0.95: its line stays at zero, the others are exact.
    start = _extrapolated([(1.1, solve(1.1)), (1.0, solve(1.0))], 0.9)
    expected = solve(0.9)
    expected[3] = 0
    np.testing.assert_allclose(start, expected, atol=1e-15)
    # A coefficient the line would carry through zero is left at zero; on
    # an uneven grid the step is cut to the last one's length.
    solved = [(1.0, np.array([[0.2], [1.0]])), (0.9, np.array([[0.05], [1.1]]))]
    np.testing.assert_allclose(_extrapolated(solved, 0.1), [[0.0], [1.2]], atol=1e-15)
    # Not a decreasing grid: the last solution itself.
    assert _extrapolated([(0.9, solved[1][1]), (1.0, solved[0][1])], 0.5) is solved[0][1]


def test_path_start_certified_when_the_set_holds_every_feature():
    # Multi-task elastic net on 33 x 200 (scikit-learn's own CV test data):
    # low on the path the working set holds every feature, and a warm start
    # that FISTA's first gap check accepted (no iteration) was returned with
    # the infinite gap of a start never certified: enet_path raised "non-finite
    # coefficients" and MultiTaskElasticNetCV warned with "Duality gap: inf".
    from sklearn.linear_model import MultiTaskElasticNetCV as SkCV
    from sklearn.linear_model.tests.test_coordinate_descent import build_dataset

    from tflasso import MultiTaskElasticNetCV, enet_path

    X, y, _, _ = build_dataset(n_targets=3)
    train, target = X[:33], y[:33] - y[:33].mean(axis=0)
    tol = 1e-3
    for l1_ratio in (0.3, 1.0):
        alphas, coefs, gaps = enet_path(train, target, l1_ratio=l1_ratio, alphas=10,
                                        eps=1e-3, max_iter=200, tol=tol)
        assert np.all(np.isfinite(gaps))
        assert np.all(gaps <= tol * np.sum(target**2) / len(target))
        for k, alpha in enumerate(alphas):  # the gap, recomputed for the lasso case
            if l1_ratio == 1.0:
                residual = target - train @ coefs[:, :, k].T
                corr = train.T @ residual / len(target)
                norms = np.sqrt((coefs[:, :, k] ** 2).sum(axis=0))
                dual_norm = np.sqrt((corr**2).sum(axis=1)).max()
                scale = min(1.0, alpha / dual_norm)
                primal = 0.5 * np.sum(residual**2) / len(target) + alpha * norms.sum()
                dual = (scale * np.sum(residual * target)
                        - 0.5 * scale**2 * np.sum(residual**2)) / len(target)
                assert primal - dual <= 1.01 * tol * np.sum(target**2) / len(target)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MultiTaskElasticNetCV(alphas=10, eps=1e-3, max_iter=200,
                                      l1_ratio=[0.3, 0.5], tol=tol, cv=3).fit(X, y)
    reference = SkCV(alphas=10, eps=1e-3, max_iter=100_000, l1_ratio=[0.3, 0.5],
                     tol=1e-10, cv=3).fit(X, y)
    assert (model.alpha_, model.l1_ratio_) == pytest.approx(
        (reference.alpha_, reference.l1_ratio_), rel=1e-9)


@pytest.mark.parametrize("shape, precompute", [((60, 150), "auto"), ((150, 80), True)],
                         ids=["working sets", "Gram"])
@pytest.mark.parametrize("fraction", [0.1, 0.01])
@pytest.mark.parametrize("positive", [False, True])
def test_single_fit_from_zero_starts_at_the_path_solution(shape, precompute, fraction,
                                                          positive):
    # A single lasso fit from zero follows the path down to its alpha by
    # active-set steps: at the default tol its point is the exact solution
    # (gap, recomputed in numpy, at rounding level, where FISTA's rounds
    # stop anywhere within tol), and it is scikit-learn's; the alphas it
    # stepped through count in n_iter_ (7 from alpha_max to a tenth of it on
    # working sets, 0.7 apart; 2 in the Gram form, 0.3 apart).
    # With max_iter too small for them, the fit is the usual one, within it.
    X, y = make_problem(*shape, n_informative=8, seed=11)
    X = X + 0.5 * np.roll(X, 1, axis=1)  # correlated neighbours
    if positive and alpha_max(X, y, positive=True) < 0.5 * alpha_max(X, y):
        y = -y  # a target the positive lasso can fit
    alpha = fraction * alpha_max(X, y, positive=positive)
    yy = np.var(y)
    model = Lasso(alpha=alpha, precompute=precompute, positive=positive).fit(X, y)
    gap = duality_gap(X, y, model.coef_, alpha, positive=positive)
    assert gap <= 1e-10 * yy
    assert model.dual_gap_ <= 1e-10 * yy
    from tflasso import _strategies, _working_set

    ratio = _strategies._GRAM_START_RATIO if precompute is True else _working_set._START_RATIO
    steps = int(np.ceil(np.log(fraction) / np.log(ratio)))
    assert model.n_iter_ >= steps
    reference = SklearnLasso(alpha=alpha, positive=positive, tol=1e-12,
                             max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_,
                               atol=1e-6 * np.abs(reference.coef_).max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = Lasso(alpha=alpha, precompute=precompute, positive=positive,
                      max_iter=2).fit(X, y)
    assert short.n_iter_ <= 2


def test_wide_short_fit_starts_at_the_path_solution():
    # X of few rows past the start's size gate (50 x 25,000) starts on the
    # path too: at a hundredth of alpha_max the support nears the rank of the
    # rows, where FISTA's rounds on the nearly singular restricted problems
    # are slow (a tenth of the time without them here). The alphas it stepped
    # through count in n_iter_ (13 from alpha_max, 0.7 apart), and the point
    # is the exact solution (gap recomputed in numpy at rounding level).
    from tflasso import _working_set

    X, y = make_problem(50, 25_000, n_informative=5, seed=3)
    assert X.size > _working_set._START_ENTRIES and len(X) <= _working_set._START_ROWS
    alpha = 0.01 * alpha_max(X, y)
    model = Lasso(alpha=alpha).fit(X, y)
    assert model.n_iter_ >= np.ceil(np.log(0.01) / np.log(_working_set._START_RATIO))
    assert duality_gap(X, y, model.coef_, alpha) <= 1e-10 * np.var(y)
    assert np.count_nonzero(model.coef_) < len(X)  # at most the rank of centred X
    reference = SklearnLasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_,
                               atol=1e-5 * np.abs(reference.coef_).max())


def test_restricted_sizes_compile_once_graph_mode_has_paid_for_it(monkeypatch):
    # Working sets' restricted Gram problems of a new padded size run in graph
    # mode, not compiled by XLA (half a second a size, for solves of
    # milliseconds), until their estimated time there would have paid for a
    # compilation; then that size is compiled. Both programs solve the same
    # problem to the tolerance (gap recomputed in numpy).
    from tflasso import _programs
    from tflasso._problem import penalty

    monkeypatch.setattr(_programs, "_graph_seconds", {})
    monkeypatch.setattr(_programs, "_COMPILE_SECONDS", 0.02)
    kinds = []
    concrete = _programs._concrete

    def program(key):  # the Gram programs' kinds, in call order
        if key[0] == "gram":
            kinds.append(key[2])
        return concrete(key)

    monkeypatch.setattr(_programs, "_concrete", program)
    X, y = make_problem(300, 200, n_informative=8, seed=5)
    X, y = X - X.mean(axis=0), y - y.mean()
    n, p = X.shape
    alpha = 0.05 * np.abs(X.T @ y).max() / n
    yy = y @ y / n
    tol = 1e-6 * yy
    fits = []
    while not fits or kinds[-1] is False:
        assert len(fits) < 50, "the size was never compiled"
        kinds.clear()
        w, gap, _ = _programs.solve_gram(
            (X.T @ X / n)[None], (X.T @ y / n)[None, :, None, None], np.array([[yy]]),
            np.array([float(n)]), penalty(alpha, 1.0, np.ones(p), False), None,
            np.array([[tol]]), 10_000, few_sizes=_programs._FEW_SIZES)
        fits.append(w[0, :, 0, 0])
    assert len(fits) >= 2  # the first ran in graph mode
    assert kinds[-1] == "one"  # XLA's program for one problem
    assert _programs._graph_seconds[256] >= 0.02
    for coef in (fits[0], fits[-1]):
        assert duality_gap(X, y, coef, alpha, fit_intercept=False) <= tol
    np.testing.assert_allclose(fits[-1], fits[0], atol=1e-3 * np.abs(fits[0]).max())


@pytest.mark.parametrize("kind", ["fit", "weighted fit", "path"])
def test_sparse_x_takes_active_set_steps_and_agrees(kind, monkeypatch):
    # Sparse X takes the active-set steps as dense X does (a single fit's
    # start, the path's alphas), its columns held densely by the cache:
    # spied on, and checked against the dense copy, scikit-learn, and the
    # duality gap recomputed in numpy.
    rng = np.random.default_rng(8)
    n, p, tol = 120, 400, 1e-8
    X = sparse.random_array((n, p), density=0.08, rng=rng, format="csr")
    coef = np.zeros(p)
    coef[:10] = rng.uniform(1, 3, 10)
    y = X @ coef + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.3, 3, n) if kind == "weighted fit" else None
    calls = []
    predict = _homotopy.predict
    monkeypatch.setattr(_homotopy, "predict", lambda *a: calls.append(1) or predict(*a))
    if kind == "path":
        alphas = np.geomspace(1, 0.01, 20) * alpha_max(X, y, fit_intercept=False)
        _, coefs, _ = lasso_path(X, y, alphas=alphas, tol=tol)
        _, reference, _ = sklearn_lasso_path(X.toarray(), y, alphas=alphas, tol=1e-12,
                                             max_iter=100_000)
        assert calls
        for k, alpha in enumerate(alphas):
            assert duality_gap(X, y, coefs[:, k], alpha, fit_intercept=False) <= (
                1.01 * tol * (y @ y) / n)
        np.testing.assert_allclose(coefs, reference, atol=1e-5)
        return
    alpha = 0.05 * alpha_max(X, y, sample_weight=sw)
    model = Lasso(alpha=alpha, tol=tol).fit(X, y, sample_weight=sw)
    assert calls
    dense = Lasso(alpha=alpha, tol=tol).fit(X.toarray(), y, sample_weight=sw)
    reference = SklearnLasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(
        X.toarray(), y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, dense.coef_, atol=1e-6)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=1e-6)
    w = np.ones(n) if sw is None else sw * n / sw.sum()
    scale = tol * (w @ (y - w @ y / n) ** 2) / n
    assert duality_gap(X, y, model.coef_, alpha, sample_weight=sw) <= 1.01 * scale
