"""The path's prediction (tflasso._homotopy): its kept Cholesky factor against
numpy's, and its points against the optimality conditions of the lasso and
elastic net on the working set, recomputed in numpy, and scikit-learn."""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SklearnElasticNet
from sklearn.linear_model import LassoCV as SklearnLassoCV

import tflasso._working_set as _working_set
from tflasso import LassoCV, _homotopy, _strategies, lasso_path
from tflasso._design import Design
from tflasso._homotopy import Factor, predict
from tflasso._penalty import Penalty
from tflasso._working_set import _Columns

from .conftest import make_problem


def _setup(n, p, seed, correlated=False):
    X, y = make_problem(n, p, n_informative=6, seed=seed)
    if correlated:  # neighbouring columns share most of their signal
        X = X + 0.9 * np.roll(X, 1, axis=1)
    X = X - X.mean(axis=0)
    y = y - y.mean()
    columns = _Columns(Design(X, np.zeros(p), None), y[:, None])
    columns.cache(np.arange(p))
    return X, y, columns


def _penalty(alpha, l1_ratio, p, positive=False):
    return Penalty(np.array([alpha]), np.array([l1_ratio]), np.ones(p), positive)


def test_factor_kept_through_additions_and_removals_is_numpy_cholesky():
    X, y, columns = _setup(40, 30, seed=0)
    n = X.shape[0]
    factor = Factor(columns, n)
    ridge = 0.05
    gram = X.T @ X / n
    for add, drop in [([3, 7, 1], []), ([20, 4], [7]), ([11], [3, 20]), ([], [1])]:
        if add:
            factor.add(np.array(add), np.full(len(add), ridge))
        if drop:
            factor.remove(np.isin(factor.order, drop))
        order = factor.order
        # Kept in the products' units: the factor of n (G_SS + ridge I).
        expected = np.linalg.cholesky(n * (gram[np.ix_(order, order)]
                                           + ridge * np.eye(order.size)))
        np.testing.assert_allclose(factor.lower, expected, rtol=1e-10, atol=1e-12)
        # Its solves are those of G_SS + ridge I.
        rhs = np.arange(1.0, order.size + 1)
        np.testing.assert_allclose(
            factor.solve(rhs),
            np.linalg.solve(gram[np.ix_(order, order)] + ridge * np.eye(order.size), rhs),
            rtol=1e-10)
    assert list(factor.order) == [4, 11]


def _reference(X, y, alpha, l1_ratio, positive):
    return SklearnElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False,
                             positive=positive, tol=1e-14, max_iter=100_000).fit(X, y).coef_


def _objective(X, y, w, alpha, l1_ratio):
    r = y - X @ w
    return (r @ r / (2 * len(y)) + alpha * l1_ratio * np.abs(w).sum()
            + 0.5 * alpha * (1 - l1_ratio) * w @ w)


@pytest.mark.parametrize("l1_ratio, positive, correlated", [
    (1.0, False, False), (1.0, False, True), (0.5, False, True), (1.0, True, True),
])
def test_prediction_meets_the_optimality_conditions_on_the_working_set(
        l1_ratio, positive, correlated):
    # From the solution at a larger alpha (as along a path), the prediction
    # is the exact solution of the problem restricted to the working set:
    # the KKT conditions hold there to rounding, and it is scikit-learn's
    # solution of that problem; the kept factor serves the next alpha.
    X, y, columns = _setup(60, 120, seed=1, correlated=correlated)
    n, p = X.shape
    ws = np.arange(0, p, 2)
    Xw, xty = X[:, ws], X[:, ws].T @ y / n
    top = np.max(np.abs(xty)) / l1_ratio
    factor = Factor(columns, n)
    w = _reference(Xw, y, 0.1 * top, l1_ratio, positive)
    for alpha in (0.08 * top, 0.05 * top):
        result = predict(factor, ws, w, _penalty(alpha, l1_ratio, ws.size, positive), xty)
        assert result is not None and result[1]  # done: the working set's solution
        w = result[0]
        corr = Xw.T @ (y - Xw @ w) / n - alpha * (1 - l1_ratio) * w
        l1 = alpha * l1_ratio
        on = w != 0
        assert on.sum() >= 5
        np.testing.assert_allclose(corr[on], l1 * np.sign(w[on]), atol=1e-10 * l1)
        bound = corr[~on] if positive else np.abs(corr[~on])
        assert np.all(bound <= l1 * (1 + 1e-8))
        assert np.all(w >= 0) or not positive
        reference = _reference(Xw, y, alpha, l1_ratio, positive)
        np.testing.assert_allclose(w, reference, atol=1e-7 * np.abs(reference).max())
        assert set(factor.order) == set(ws[on])


def test_prediction_from_afar_never_raises_the_objective():
    # From three features at 0.05 alpha_max, 32 steps may not reach the
    # working set's solution on correlated columns; each step lowers the
    # objective, so the point returned is still no worse than the start.
    X, y, columns = _setup(60, 120, seed=1, correlated=True)
    n, ws = X.shape[0], np.arange(0, X.shape[1], 2)
    X = X[:, ws]
    xty = X.T @ y / n
    alpha = 0.05 * np.max(np.abs(xty))
    start = np.zeros(ws.size)
    strongest = np.argsort(-np.abs(xty))[:3]
    start[strongest] = 0.5 * np.sign(xty[strongest])
    w = predict(Factor(columns, n), ws, start, _penalty(alpha, 1.0, ws.size), xty)[0]
    before, after = _objective(X, y, start, alpha, 1.0), _objective(X, y, w, alpha, 1.0)
    best = _objective(X, y, _reference(X, y, alpha, 1.0, False), alpha, 1.0)
    # The prediction may reach the solution itself: the reference's
    # objective can then be a rounding error above it.
    assert best - 1e-12 * abs(best) <= after <= before
    assert after - best < 0.1 * (before - best)


def test_singular_support_is_left_to_the_polish():
    # Two equal columns in the support: no factor, so no prediction (the
    # polish's minimum-norm step handles it).
    X, y, _ = _setup(30, 10, seed=2)
    X[:, 5] = X[:, 4]
    columns = _Columns(Design(X, np.zeros(10), None), y[:, None])
    columns.cache(np.arange(10))
    factor = Factor(columns, 30)
    start = np.zeros(10)
    start[[4, 5]] = 0.1
    assert predict(factor, np.arange(10), start, _penalty(0.01, 1.0, 10),
                   X.T @ y / 30) is None
    assert factor.order.size == 0


def test_features_singular_together_enter_one_at_a_time():
    # Two equal columns break the optimality conditions together, from the
    # solution at a larger alpha: as a pair they cannot be factorised (as
    # where a p > n path's support nears the rank of the rows), so one
    # enters alone, and the point is still the lasso's solution on the set:
    # the KKT conditions hold (the other column's correlation is then at
    # the bound) and its objective is scikit-learn's.
    X, y, _ = _setup(30, 10, seed=2)
    X[:, 5] = X[:, 4]
    X[:, 4:6] *= 0.2
    y = y + 0.3 * X[:, 4] / np.linalg.norm(X[:, 4]) * np.linalg.norm(y)
    columns = _Columns(Design(X, np.zeros(10), None), y[:, None])
    columns.cache(np.arange(10))
    n, xty = 30, X.T @ y / 30
    top = np.max(np.abs(xty))
    # The largest alpha before columns 4 and 5 enter, and one below it.
    alphas = np.geomspace(top, 1e-3 * top, 200)
    support = [set(np.flatnonzero(_reference(X, y, a, 1.0, False))) for a in alphas]
    k = next(i for i, s in enumerate(support) if s & {4, 5})
    start = _reference(X, y, alphas[k - 1], 1.0, False)
    alpha = alphas[k]
    result = predict(Factor(columns, n), np.arange(10), start, _penalty(alpha, 1.0, 10), xty)
    assert result is not None and result[1]
    w = result[0]
    assert np.count_nonzero(w[4:6]) == 1
    corr = X.T @ (y - X @ w) / n
    on = w != 0
    np.testing.assert_allclose(corr[on], alpha * np.sign(w[on]), atol=1e-10 * alpha)
    assert np.all(np.abs(corr[~on]) <= alpha * (1 + 1e-8))
    best = _objective(X, y, _reference(X, y, alpha, 1.0, False), alpha, 1.0)
    np.testing.assert_allclose(_objective(X, y, w, alpha, 1.0), best, rtol=1e-10)


def test_ridge_has_no_prediction():
    X, y, columns = _setup(30, 10, seed=3)
    start = np.full(10, 0.1)
    assert predict(Factor(columns, 30), np.arange(10), start, _penalty(0.1, 0.0, 10),
                   X.T @ y / 30) is None


def test_wide_path_with_predictions_meets_the_gap_and_kkt(monkeypatch):
    # 40 x 400, correlated: along the path the supports grow past n's half;
    # every alpha's point is certified (gap within tol, recomputed) and
    # meets the KKT conditions to the tolerance's order; the predictions
    # were made (not left to the polish).
    X, y, _ = _setup(40, 400, seed=4, correlated=True)
    n = X.shape[0]
    made, original = [], _homotopy.predict

    def counted(*args):
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(_working_set._homotopy, "predict", counted)
    alphas, coefs, gaps = lasso_path(X, y, alphas=30, tol=1e-8)[:3]
    assert sum(w is not None for w in made) >= 20
    tol = 1e-8 * np.sum(y**2)
    for alpha, w in zip(alphas, coefs.T):
        corr = X.T @ (y - X @ w) / n
        assert np.max(np.abs(corr)) <= alpha * (1 + 1e-3)
        r = y - X @ w
        primal = 0.5 * r @ r + n * alpha * np.abs(w).sum()
        scale = min(1.0, n * alpha / np.max(np.abs(X.T @ r)))
        dual = 0.5 * (y @ y) - 0.5 * np.sum((y - scale * r) ** 2)
        assert primal - dual <= tol * (1 + 1e-6)
    assert np.all(gaps <= tol)


def _curves(n, p, seed):
    # Rows that are smooth random functions: an ill-conditioned Gram matrix.
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, p)
    centres, widths = rng.uniform(0, 1, (n, 3)), rng.uniform(0.05, 0.3, (n, 3))
    X = np.exp(-(((grid - centres[:, :, None]) / widths[:, :, None]) ** 2)).sum(axis=1)
    X += 0.01 * rng.standard_normal((n, p))
    y = X[:, [10, 40, 70]] @ np.array([3.0, -2.0, 1.5]) + 0.1 * rng.standard_normal(n)
    return X - X.mean(axis=0), y - y.mean()


def test_gram_path_predictions_are_the_exact_path():
    # On smooth curves (FISTA's worst case), each alpha's prediction from the
    # last one meets the KKT conditions on every feature, to rounding.
    X, y = _curves(150, 80, seed=5)
    n = X.shape[0]
    gram, xty = X.T @ X / n, X.T @ y / n
    assert _strategies._condition(gram) > _strategies._PREDICT_CONDITION
    top = np.max(np.abs(xty))
    alphas = top * np.geomspace(1, 1e-3, 40)
    starts = _homotopy.path(gram, xty, [_penalty(a, 1.0, 80) for a in alphas])
    for alpha, w in zip(alphas, starts.T):
        corr = xty - gram @ w
        on = w != 0
        np.testing.assert_allclose(corr[on], alpha * np.sign(w[on]), atol=1e-9 * alpha)
        assert np.all(np.abs(corr[~on]) <= alpha * (1 + 1e-8))
    assert np.count_nonzero(starts[:, -1]) >= 5


@pytest.mark.parametrize("fraction", [0.1, 0.01])
def test_single_gram_fit_finished_by_the_steps_needs_no_program(monkeypatch, fraction):
    # A single Gram-form fit on curves starts from the path's steps down to
    # its alpha; where they reach the solution, the numpy certificate
    # accepts it and the Gram program is never called: scikit-learn's
    # coefficients, the gap recomputed in numpy within tol, the steps counted.
    from sklearn.linear_model import Lasso as SklearnLasso

    from tflasso import Lasso, _programs
    from tflasso._reference import duality_gap

    X, y = _curves(150, 80, seed=8)
    alpha = fraction * np.max(np.abs(X.T @ y)) / len(y)
    calls = []
    monkeypatch.setattr(_programs, "solve_gram", lambda *a, **k: calls.append(1))
    model = Lasso(alpha=alpha, precompute=True, tol=1e-8).fit(X, y)
    assert calls == []
    gap = duality_gap(X, y, model.coef_, alpha, fit_intercept=True)
    assert gap <= 1e-8 * np.sum((y - y.mean()) ** 2) / len(y)
    assert model.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-12)
    reference = SklearnLasso(alpha=alpha, tol=1e-12, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_,
                               atol=1e-6 * np.abs(reference.coef_).max())
    assert model.n_iter_ >= 1


def test_ill_conditioned_gram_paths_start_from_predictions(monkeypatch):
    # The LassoCV folds' Gram paths on curves start from predictions that
    # FISTA's first gap check certifies: they agree with scikit-learn's
    # LassoCV, and a well-conditioned Gram matrix is left to FISTA.
    X, y = _curves(150, 80, seed=6)
    calls = []
    original = _homotopy.path

    def counted(*args):
        calls.append(original(*args))
        return calls[-1]

    monkeypatch.setattr(_strategies._homotopy, "path", counted)
    model = LassoCV(cv=3, alphas=30).fit(X, y)
    assert len(calls) == 4 and all(c is not None for c in calls)
    reference = SklearnLassoCV(cv=3, alphas=30, tol=1e-10, max_iter=100_000).fit(X, y)
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-10)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-3)
    calls.clear()
    rng = np.random.default_rng(7)
    LassoCV(cv=3, alphas=30).fit(rng.standard_normal((300, 80)), rng.standard_normal(300))
    assert calls == []


def test_orthonormal_entries_enter_together(monkeypatch):
    # Orthonormal columns: the solution is soft-thresholding, and features
    # that break the optimality conditions enter together without pulling
    # one another past zero: two solves (the start's support, then all the
    # entries), the second exact.
    rng = np.random.default_rng(8)
    n, p = 50, 20
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = Q * np.sqrt(n)  # X^T X / n = I
    y = X @ np.linspace(-2, 2, p) + 0.1 * rng.standard_normal(n)
    columns = _Columns(Design(X, np.zeros(p), None), y[:, None])
    columns.cache(np.arange(p))
    xty = X.T @ y / n
    alpha = np.sort(np.abs(xty))[-3]  # two features above it
    start = np.sign(xty) * np.maximum(np.abs(xty) - alpha, 0)
    solves = []
    original = Factor.solve
    monkeypatch.setattr(Factor, "solve", lambda self, rhs: solves.append(1) or original(self, rhs))
    lower = np.sort(np.abs(xty))[-9]  # eight above it: six enter
    w, done = predict(Factor(columns, n), np.arange(p), start, _penalty(lower, 1.0, p), xty)
    assert done and len(solves) == 2
    np.testing.assert_allclose(w, np.sign(xty) * np.maximum(np.abs(xty) - lower, 0),
                               atol=1e-12)


def test_a_bounce_drops_only_the_feature_that_bounced(monkeypatch):
    # Correlated columns, from scikit-learn's solution at 0.5 alpha_max to
    # 0.1 alpha_max: among the features that enter together one may come
    # out with the wrong sign at once (a bounce). Only it is dropped; the
    # others stay, so the four predictions take about 15 solves (when every
    # entering feature was dropped with it, and entries went one at a time,
    # 30), and each ends at the exact solution.
    solves = []
    original = Factor.solve
    monkeypatch.setattr(Factor, "solve", lambda self, rhs: solves.append(1) or original(self, rhs))
    for seed in range(4):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((30, 12))
        X[:, 1:4] += 1.5 * X[:, [0]]
        y = X[:, 0] - X[:, 5] + 0.5 * rng.standard_normal(30)
        columns = _Columns(Design(X, np.zeros(12), None), y[:, None])
        columns.cache(np.arange(12))
        xty = X.T @ y / 30
        top = np.max(np.abs(xty))
        start = _reference(X, y, 0.5 * top, 1.0, False)
        w, done = predict(Factor(columns, 30), np.arange(12), start,
                          _penalty(0.1 * top, 1.0, 12), xty)
        assert done
        np.testing.assert_allclose(w, _reference(X, y, 0.1 * top, 1.0, False), atol=1e-8)
    assert len(solves) <= 20


def _lasso_gap(X, y, w, alpha):
    """scikit-learn's duality gap of the lasso without intercept, in numpy."""
    n = len(y)
    r = y - X @ w
    scale = min(1.0, n * alpha / np.max(np.abs(X.T @ r)))
    primal = 0.5 * r @ r + n * alpha * np.abs(w).sum()
    return primal - (0.5 * y @ y - 0.5 * np.sum((y - scale * r) ** 2))


@pytest.mark.parametrize("refuse, budget", [(False, None), (True, None), (False, 0)])
def test_deferred_certificates_check_every_alpha(monkeypatch, refuse, budget):
    # Along a wide lasso path the alphas solved exactly on their working
    # sets are certified in batches; with ``refuse``, the batched
    # certificate reports every gap as too large, and each such alpha is
    # solved again. Either way every returned point's gap, recomputed in
    # numpy, is within the tolerance. With no memory ``budget`` for the
    # uncertified fits, batches hold 10 alphas at most.
    if budget is not None:
        monkeypatch.setattr(_working_set, "_DEFERRED_FLOATS", budget)
    X, y, _ = _setup(40, 300, seed=9)
    calls = []
    original = _working_set._programs.certify

    def certify(penalty, *args):
        gap, duals = original(penalty, *args)
        calls.append(len(penalty.alpha))
        if refuse and len(penalty.alpha) > 1:
            gap = gap + 1e6
        return gap, duals

    monkeypatch.setattr(_working_set._programs, "certify", certify)
    alphas, coefs, gaps, n_iters = lasso_path(X, y, alphas=40, tol=1e-6, return_n_iter=True)
    assert max(calls) > 1  # some alphas were certified together
    assert max(calls) <= (10 if budget == 0 else _working_set._DEFERRED)
    assert len(calls) < 40 or refuse
    tol = 1e-6 * np.sum(y**2)
    for alpha, w in zip(alphas, coefs.T):
        assert _lasso_gap(X, y, w, alpha) <= tol * (1 + 1e-6)
    if refuse:
        assert np.sum(n_iters > 1) >= 10  # solved again after their first pass
