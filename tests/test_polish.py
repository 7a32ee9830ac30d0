"""The exact polish (tflasso/_polish.py): its answers checked by the maths.

A polished fit meets the optimality conditions to round-off (recomputed
here in numpy on explicitly centred, weighted data), equals scikit-learn's
coordinate descent run to tol=1e-12, stays finite and certified on a
rank-deficient support, and traces no program. The polish is gated (see
``tflasso._programs._POLISH_AFTER``): a fit that FISTA finishes within the
gate never calls it, unless its tolerance asks for float64's precision
(``_programs._EXACT_TOL``: then it is polished once converged), and a fit
whose ``max_iter`` runs out is not polished (max_iter bounds the work; it
warns, as scikit-learn's does).
The small problems here converge within the gate, so the maths tests lower
it (the ``eager`` fixture) to make them polish.
"""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn import linear_model as sk

import tflasso
from tflasso import _polish, _programs
from tflasso._problem import penalty as make_penalty
from tflasso._reference import _weighted_problem

from .conftest import make_problem


def _kkt(X, y, coef, alpha, l1_ratio=1.0, factor=None, sample_weight=None,
         positive=False):
    """Largest violation of the elastic net's optimality conditions, over alpha.

    With ``g = X^T R / n`` (centred, weighted): ``g_j = alpha f_j (l1_ratio
    s_j + (1 - l1_ratio) w_j)`` on the support, ``|g_j| <= alpha l1_ratio
    f_j`` off it (``g_j <=`` with ``positive``); rows of several tasks use
    the row's norm and direction.
    """
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight)
    coef = np.asarray(coef, float).reshape(X.shape[1], -1)
    yw = yw.reshape(X.shape[0], -1)
    factor = np.ones(X.shape[1]) if factor is None else np.asarray(factor, float)
    g = Xw.T @ (yw - Xw @ coef) / X.shape[0]
    norms = np.linalg.norm(coef, axis=1)
    on = norms > 0
    direction = coef[on] / norms[on, None]
    expected = alpha * factor[on, None] * (l1_ratio * direction + (1 - l1_ratio) * coef[on])
    on_support = np.abs(g[on] - expected).max(initial=0.0)
    off = g[~on, 0] if positive else np.linalg.norm(g[~on], axis=1)
    off_support = np.maximum(off - alpha * l1_ratio * factor[~on], 0).max(initial=0.0)
    return max(on_support, off_support) / alpha


@pytest.fixture(scope="module")
def small():
    return make_problem(80, 12, n_informative=4, seed=3)


@pytest.fixture
def eager(monkeypatch):
    """Polish after FISTA's first 10 iterations, not after the gate's."""
    monkeypatch.setattr(_programs, "_POLISH_AFTER", _programs.GAP_EVERY)


def test_fit_within_the_gate_is_not_polished(small, monkeypatch):
    # FISTA meets the tolerance before the gate: the polish is never called,
    # so the fit is the one without a polish.
    def refuse(*args, **kwargs):
        raise AssertionError("polished")

    X, y = small
    monkeypatch.setattr(_polish, "polish", refuse)
    tflasso.Lasso(alpha=0.1).fit(X, y)
    tflasso.Lasso(alpha=0.1, precompute=False).fit(X, y)
    tflasso.LassoCV(cv=3).fit(X, y)


@pytest.mark.parametrize("precompute", [True, False])
def test_fit_out_of_iterations_is_not_polished(small, precompute, eager, monkeypatch):
    # max_iter runs out long before FISTA meets tol=1e-12. Even with the gate
    # lowered below max_iter, no polish runs once the budget is spent: the
    # fit stops at max_iter passes, above the tolerance, and warns.
    from sklearn.exceptions import ConvergenceWarning

    X, y = small
    calls = []
    real = _polish.polish
    monkeypatch.setattr(_polish, "polish", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.warns(ConvergenceWarning):
        model = tflasso.Lasso(alpha=0.1, tol=1e-12, max_iter=_programs.GAP_EVERY,
                              precompute=precompute).fit(X, y)
    assert model.n_iter_ == _programs.GAP_EVERY and not calls


CASES = {
    "lasso": (tflasso.Lasso, dict(alpha=0.1), {}),
    "enet": (tflasso.ElasticNet, dict(alpha=0.1, l1_ratio=0.6), {}),
    "positive": (tflasso.Lasso, dict(alpha=0.05, positive=True), {}),
    "weighted": (tflasso.Lasso, dict(alpha=0.02), {"sample_weight": True}),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dense", [True, False], ids=["dense", "sparse"])
def test_polished_fit_meets_kkt(small, case, dense, eager):
    X, y = small
    estimator, params, options = CASES[case]
    sw = np.random.default_rng(0).uniform(0.2, 3, len(y)) if options else None
    data = X if dense else sparse.csr_matrix(X)
    # (tol=1e-8: FISTA's first 10 iterations do not meet it, so the fit polishes)
    model = estimator(tol=1e-8, **params).fit(data, y, sample_weight=sw)
    violation = _kkt(X, y, model.coef_, params["alpha"], params.get("l1_ratio", 1.0),
                     sample_weight=sw, positive=params.get("positive", False))
    assert violation < 1e-10
    # tol=1e-8, yet the gap is at round-off: the polish landed.
    assert model.dual_gap_ <= 1e-12 * np.var(y)


def test_polished_penalty_factors_meet_kkt(small, eager):
    X, y = small
    factor = np.r_[0.0, 0.0, np.linspace(0.5, 2, 10)]  # two unpenalised
    model = tflasso.Lasso(alpha=0.1, penalty_factor=factor).fit(X, y)
    assert model.coef_[0] != 0 and model.coef_[1] != 0
    assert _kkt(X, y, model.coef_, 0.1, factor=factor) < 1e-10


def test_polished_multitask_meets_kkt(eager):
    X, Y = make_problem(60, 10, n_informative=3, n_targets=3, seed=4)
    model = tflasso.MultiTaskElasticNet(alpha=0.2, l1_ratio=0.7, tol=1e-8).fit(X, Y)
    assert _kkt(X, Y, model.coef_.T, 0.2, 0.7) < 1e-9


@pytest.mark.parametrize("name, params", [
    ("Lasso", dict(alpha=0.05)),
    ("ElasticNet", dict(alpha=0.1, l1_ratio=0.3)),
    ("MultiTaskLasso", dict(alpha=0.3)),
])
def test_polished_fit_equals_sklearn_at_tight_tol(name, params, eager):
    multi = name.startswith("MultiTask")
    X, y = make_problem(100, 15, n_informative=5, n_targets=2 if multi else None, seed=5)
    reference = getattr(sk, name)(tol=1e-12, max_iter=100_000, **params).fit(X, y)
    model = getattr(tflasso, name)(**params).fit(X, y)  # default tol
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-10)


def test_rank_deficient_support_is_finite_and_certified(eager):
    # Five distinct rows, repeated with weights: any support of more than
    # five features has a singular block.
    rng = np.random.default_rng(6)
    rows = rng.standard_normal((5, 30))
    X = np.repeat(rows, 8, axis=0)
    y = X @ rng.standard_normal(30) + 0.1 * rng.standard_normal(40)
    sw = rng.uniform(0.5, 2, 40)
    model = tflasso.ElasticNet(alpha=1e-3, l1_ratio=0.5, tol=1e-8).fit(
        X, y, sample_weight=sw
    )
    assert np.all(np.isfinite(model.coef_))
    yc = _weighted_problem(X, y, sw)[1]
    assert model.dual_gap_ <= 1e-8 * yc @ yc / len(y)


def test_polish_step_on_singular_block_takes_min_norm_step():
    # Two identical features: G is singular, and the lasso's solution splits
    # the weight; the min-norm step splits it evenly and is certified.
    x = np.linspace(-1, 1, 20)
    gram = np.full((1, 2, 2), x @ x / 20)
    xty = np.full((1, 2, 1, 1), x @ (3 * x) / 20)
    yy = np.array([[9 * x @ x / 20]])
    penalty = make_penalty(0.1, 1.0, np.ones(2), False)
    w = np.array([0.5, 0.9]).reshape(1, 2, 1, 1)
    w_new, gap, accepted = _polish.polish(
        gram, xty, yy, np.array([20.0]), penalty, None, w, np.array([[1.0]]),
        np.array([[1e-12]]), np.array([[100]]),
    )
    assert accepted[0, 0] and np.all(np.isfinite(w_new))
    # Optimality: x^T r / n = alpha for both (equal) features.
    residual = 3 * x - x * w_new[0, :, 0, 0].sum()
    np.testing.assert_allclose(x @ residual / 20, 0.1, rtol=1e-10)
    np.testing.assert_allclose(w_new[0, 0], w_new[0, 1], rtol=1e-10)
    assert gap[0, 0] <= 1e-12


def test_polish_step_drops_the_feature_whose_sign_changes():
    # From a point whose sign is wrong for feature 1, the sign-fixed
    # solution crosses zero: the step stops there, sets feature 1 to an
    # exact zero, drops it and solves again; the objective decreases.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([2.0, 0.0, -1.0]) + 0.01 * rng.standard_normal(50)
    X -= X.mean(0)
    y -= y.mean()
    gram, q = X.T @ X / 50, X.T @ y / 50
    w = np.array([1.5, -0.3, -0.8])
    new = _polish._signed_solve(gram[None], q[None], w[None], np.full((1, 3), 0.05),
                                np.ones((1, 3), bool), False)[0]
    assert new[1] == 0.0 and new[0] > 0 and new[2] < 0

    def objective(v):
        return 0.5 * v @ gram @ v - q @ v + 0.05 * np.abs(v).sum()

    assert objective(new) < objective(w)
    # On the support {0, 2} it is the lasso's solution: KKT in numpy.
    g = q - gram @ new
    np.testing.assert_allclose(g[[0, 2]], 0.05 * np.sign(new[[0, 2]]), rtol=1e-12)
    assert abs(g[1]) <= 0.05


def test_polish_traces_no_program(small, eager):
    from tflasso._programs import PROGRAMS

    X, y = small
    tflasso.Lasso(alpha=0.1).fit(X, y)
    tflasso.MultiTaskLasso(alpha=0.1).fit(X, np.c_[y, y])
    before = {key: f.experimental_get_tracing_count() for key, f in PROGRAMS.items()}
    for alpha, p in [(0.2, 12), (0.01, 7), (0.05, 10)]:
        tflasso.Lasso(alpha=alpha).fit(X[:, :p], y)
        tflasso.ElasticNet(alpha=alpha, l1_ratio=0.3).fit(X[:60, :p], y[:60])
        tflasso.MultiTaskLasso(alpha=alpha).fit(X[:, :p], np.c_[y, -y])
    after = {key: f.experimental_get_tracing_count() for key, f in PROGRAMS.items()}
    assert before == after


def test_rounds_after_the_gate_do_not_cost_convergence():
    # Each round after the gate restarts FISTA's momentum: rounds of 10, 20,
    # 40, ... left 2 of this weighted LassoCV's 40 fits above tol at
    # max_iter=1000, where one uninterrupted call converges.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        check_sample_weight_equivalence_on_dense_data(
            "LassoCV", tflasso.LassoCV(alphas=10, cv=3))


@pytest.mark.parametrize("precompute", [True, False])
def test_fit_converged_at_a_tight_tol_is_polished(small, precompute):
    # tol=1e-10 is below what float32 iterations meet (_programs._EXACT_TOL):
    # FISTA converges within the gate, and the fit is polished once, to
    # scikit-learn's coordinate descent run to tol=1e-14 (FISTA's own
    # iterate is off by about the square root of the gap).
    X, y = small
    params = dict(alpha=0.02, l1_ratio=0.7)
    reference = sk.ElasticNet(tol=1e-14, max_iter=100_000, **params).fit(X, y)
    model = tflasso.ElasticNet(tol=1e-10, precompute=precompute, **params).fit(X, y)
    assert model.n_iter_ < _programs._POLISH_AFTER
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9, atol=1e-12)

