"""Per-feature penalty factors, checked in numpy independently of the solver.

With factors ``f`` the lasso's penalty is ``alpha * sum_j f_j |w_j|`` (the
elastic net multiplies both parts of feature ``j`` by ``f_j``, the
multi-task models the row norms). The checks:

* a factor ``c_j > 0`` is column ``j`` scaled by ``1 / c_j`` (lasso and
  multi-task lasso; not the elastic net, whose L2 part does not scale alike);
* a factor 0 leaves a feature unpenalised: its gradient is zero at any alpha,
  and above the penalised features' ``alpha_max`` (computed in numpy on the
  residual of the unpenalised least-squares fit) the solution is that fit;
* equal factors ``c`` are ``alpha * c``;
* ``dual_gap_`` is the numpy duality gap of the weighted problem;
* bad factors raise ValueError naming ``penalty_factor``;

on dense and sparse X, for ``precompute`` True, False and 'auto' (working
sets on the p > n problems). Last, fits with new alphas, ``l1_ratio``,
factors, ``n`` and ``p`` never retrace the compiled programs.
"""

import numpy as np
import pytest
from scipy import sparse

from tflasso import (ElasticNet, ElasticNetCV, Lasso, MultiTaskElasticNet, MultiTaskLasso,
                     _programs)
from tflasso._reference import _weighted_problem

from .conftest import make_problem

TIGHT = dict(tol=1e-12, max_iter=200_000)
PRECOMPUTE = [True, False, "auto"]
DENSITY = [None, 0.3]
DENSITY_IDS = ["dense", "sparse"]
N, P = 30, 60  # p > n: 'auto' uses working sets
UNPENALISED = [0, 3, 7]  # two informative features, one not


# ---------------------------------------------------------------- numpy oracle

def _scale_columns(X, c):
    """X with column j divided by c_j, in X's format."""
    if sparse.issparse(X):
        return sparse.csr_matrix(X @ sparse.diags(1.0 / c))
    return X / c


def weighted_alpha_max(X, y, factor, sample_weight=None, fit_intercept=True):
    """The smallest alpha zeroing every penalised coefficient (lasso, one output).

    ``max_{f_j > 0} |x_j^T r_U| / (n f_j)`` with ``r_U`` the residual of the
    centred, weighted y regressed on the unpenalised columns.
    """
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    free = factor == 0
    residual = yw
    if free.any():
        beta = np.linalg.lstsq(Xw[:, free], yw, rcond=None)[0]
        residual = yw - Xw[:, free] @ beta
    corr = np.abs(Xw[:, ~free].T @ residual) / Xw.shape[0]
    return (corr / factor[~free]).max()


def gradient(X, y, coef, sample_weight=None, fit_intercept=True):
    """``X_c^T (y_c - X_c w) / n`` of the centred, weighted problem."""
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    return Xw.T @ (yw - Xw @ np.asarray(coef, float)) / Xw.shape[0]


def kkt_violations(X, y, coef, alpha, factor, l1_ratio=1.0, sample_weight=None,
                   fit_intercept=True):
    """Each feature's violation of the weighted elastic net's optimality conditions.

    With ``g = X_c^T r / n - alpha (1 - l1_ratio) f_j w_j``: ``g_j = alpha
    l1_ratio f_j sign(w_j)`` where ``w_j != 0``, ``|g_j| <= alpha l1_ratio
    f_j`` where ``w_j == 0`` (so ``g_j = 0`` for an unpenalised feature).
    """
    coef = np.asarray(coef, dtype=np.float64)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    g = gradient(X, y, coef, sample_weight, fit_intercept) - l2 * factor * coef
    on = coef != 0
    return np.where(
        on, np.abs(g - l1 * factor * np.sign(coef)),
        np.maximum(np.abs(g) - l1 * factor, 0),
    )


def duality_gap(X, y, coef, alpha, factor, l1_ratio=1.0, sample_weight=None,
                fit_intercept=True):
    """scikit-learn's duality gap / n of the weighted elastic net.

    One output (``coef`` (p,)) or several tasks (``y`` (n, T), ``coef`` (p, T),
    row norms for absolute values). The elastic net is a lasso on data
    augmented by rows ``sqrt(n alpha (1 - l1_ratio) f_j) e_j``; its dual point
    is the residual with the unpenalised columns' span projected out, scaled
    by ``min(1, alpha l1_ratio / max_{f_j > 0} ||x_j^T theta / n - alpha (1 -
    l1_ratio) f_j w_j|| / f_j)``. Any such point is dual feasible, so the gap
    bounds the objective's distance to its minimum.
    """
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    n, p = Xw.shape
    W = np.asarray(coef, dtype=np.float64).reshape(p, -1)
    Y = yw.reshape(n, -1)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    residual = Y - Xw @ W
    free = factor == 0
    theta = residual
    if free.any():
        block = Xw[:, free]
        theta = residual - block @ np.linalg.lstsq(block, residual, rcond=None)[0]
    xta = Xw.T @ theta / n - l2 * factor[:, None] * W
    dual_norm = (np.linalg.norm(xta[~free], axis=1) / factor[~free]).max()
    scale = min(1.0, l1 / dual_norm) if dual_norm > 0 else 1.0
    rows = np.linalg.norm(W, axis=1)
    weighted_l2 = l2 * (factor @ rows**2)
    primal = 0.5 * (np.sum(residual**2) / n + weighted_l2) + l1 * (factor @ rows)
    dual = (-0.5 * scale**2 * (np.sum(theta**2) / n + weighted_l2)
            + scale * np.sum(theta * Y) / n)
    return primal - dual


def assert_is_unpenalised_fit(X, y, coef, intercept, alpha, factor, tol,
                              l1_ratio=1.0, sample_weight=None):
    """Above ``alpha_max``: penalised coefficients exactly zero, the rest the
    least-squares fit on the unpenalised columns, within what the gap allows.

    ``coef`` is (p,) or (p, T). With ``F(w) - F* >= ||X_c (w - w*)||^2 /
    (2 n)`` (the squared error is quadratic, the penalty convex), the numpy
    gap bounds ``||w_U - beta|| <= sqrt(2 gap / lambda_min(X_U^T X_U / n))``
    and each unpenalised gradient ``|x_j^T r| / n <= ||x_j|| / sqrt(n)
    sqrt(2 gap)``; the gap itself must be within ``tol``.
    """
    Xw, yw, x_offset, y_offset = _weighted_problem(X, y, sample_weight)
    n, p = Xw.shape
    W = np.asarray(coef, dtype=np.float64).reshape(p, -1)
    free = factor == 0
    assert np.all(W[~free] == 0)
    beta = np.linalg.lstsq(Xw[:, free], yw.reshape(n, -1), rcond=None)[0]
    yy = np.sum(yw**2) / n
    gap = duality_gap(X, y, coef, alpha, factor, l1_ratio, sample_weight)
    assert gap <= tol * yy * (1 + 1e-6) + 1e-15 * yy, (gap, tol * yy)
    gap = max(gap, 1e-15 * yy)  # the float64 floor of the gap's cancellations
    block = Xw[:, free]
    lam_min = np.linalg.eigvalsh(block.T @ block / n).min()
    bound = np.sqrt(2 * gap / lam_min)
    error = np.linalg.norm(W[free] - beta)
    assert error <= bound, (error, bound, np.abs(beta).max())
    offset = np.linalg.norm(x_offset[free])
    expected = y_offset - x_offset[free] @ beta
    assert np.linalg.norm(np.ravel(intercept) - np.ravel(expected)) <= (
        offset * bound + 1e-12 * np.abs(y_offset).max()
    )
    g = block.T @ (yw.reshape(n, -1) - Xw @ W) / n
    limit = np.linalg.norm(block, axis=0) / np.sqrt(n) * np.sqrt(2 * gap)
    assert np.all(np.linalg.norm(g, axis=1) <= limit), (g, limit)
    return error / np.abs(beta).max()


def y_variance(y, sample_weight=None):
    """``||y - mean(y)||^2 / n`` (weighted), the gap tolerance's unit."""
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * len(y) / sw.sum()
    centred = y - sw @ y / len(y)
    return sw @ centred**2 / len(y)


# --------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", params=DENSITY, ids=DENSITY_IDS)
def wide(request):
    """A p > n problem, its factors (some zero) and positive factors."""
    X, y = make_problem(N, P, density=request.param, seed=31)
    rng = np.random.default_rng(31)
    positive = rng.uniform(0.3, 3.0, P)
    with_zeros = positive.copy()
    with_zeros[UNPENALISED] = 0.0
    return X, y, positive, with_zeros


# ------------------------------------------- (a) a factor is a column scaling

@pytest.mark.parametrize("precompute", PRECOMPUTE)
def test_factor_is_a_column_scaling_lasso(wide, precompute):
    X, y, c, _ = wide
    Xs = _scale_columns(X, c)
    top = weighted_alpha_max(X, y, c)
    np.testing.assert_allclose(top, weighted_alpha_max(Xs, y, np.ones(P)), rtol=1e-12)
    for fraction in (0.3, 0.05, 0.005):
        alpha = fraction * top
        weighted = Lasso(alpha=alpha, penalty_factor=c, precompute=precompute,
                         **TIGHT).fit(X, y)
        scaled = Lasso(alpha=alpha, precompute=precompute, **TIGHT).fit(Xs, y)
        expected = scaled.coef_ / c
        case = (precompute, fraction)
        np.testing.assert_allclose(
            weighted.coef_, expected, rtol=0, atol=1e-7 * np.abs(expected).max(),
            err_msg=str(case),
        )
        np.testing.assert_array_equal(weighted.coef_ == 0, expected == 0, str(case))
        np.testing.assert_allclose(weighted.intercept_, scaled.intercept_, rtol=1e-7)
        assert kkt_violations(X, y, weighted.coef_, alpha, c).max() <= 1e-7 * alpha


@pytest.mark.parametrize("density", DENSITY, ids=DENSITY_IDS)
@pytest.mark.parametrize("shape", [(50, 12), (20, 40)], ids=["n>p", "p>n"])
def test_factor_is_a_column_scaling_multitask_lasso(density, shape):
    X, Y = make_problem(*shape, n_targets=3, density=density, seed=32)
    p = shape[1]
    c = np.random.default_rng(32).uniform(0.3, 3.0, p)
    Xs = _scale_columns(X, c)
    Xw, Yw, _, _ = _weighted_problem(X, Y)
    top = (np.linalg.norm(Xw.T @ Yw, axis=1) / c).max() / shape[0]
    for fraction in (0.3, 0.05, 0.005):
        alpha = fraction * top
        weighted = MultiTaskLasso(alpha=alpha, penalty_factor=c, **TIGHT).fit(X, Y)
        scaled = MultiTaskLasso(alpha=alpha, **TIGHT).fit(Xs, Y)
        expected = scaled.coef_ / c
        np.testing.assert_allclose(
            weighted.coef_, expected, rtol=0, atol=1e-7 * np.abs(expected).max(),
            err_msg=str(fraction),
        )
        np.testing.assert_array_equal(weighted.coef_ == 0, expected == 0)
        np.testing.assert_allclose(weighted.intercept_, scaled.intercept_,
                                   rtol=1e-7, atol=1e-9)
    # and above the weighted alpha_max every row is zero, just below not
    assert np.all(MultiTaskLasso(alpha=1.0001 * top, penalty_factor=c, **TIGHT)
                  .fit(X, Y).coef_ == 0)
    assert np.any(MultiTaskLasso(alpha=0.99 * top, penalty_factor=c, **TIGHT)
                  .fit(X, Y).coef_ != 0)


# ------------------------------------------------- (b) factor 0: unpenalised

@pytest.mark.parametrize("precompute", PRECOMPUTE)
def test_unpenalised_features_have_zero_gradient(wide, precompute):
    X, y, _, f = wide
    top = weighted_alpha_max(X, y, f)
    scale = np.abs(gradient(X, y, np.zeros(P))).max()
    for fraction in (0.5, 0.05, 0.005):
        alpha = fraction * top
        for estimator in (
            Lasso(alpha=alpha, penalty_factor=f, precompute=precompute, **TIGHT),
            ElasticNet(alpha=alpha, l1_ratio=0.5, penalty_factor=f,
                       precompute=precompute, **TIGHT),
        ):
            model = estimator.fit(X, y)
            g = gradient(X, y, model.coef_)
            case = (type(estimator).__name__, precompute, fraction)
            assert np.abs(g[UNPENALISED]).max() <= 1e-8 * scale, (case, g[UNPENALISED])
            assert np.all(model.coef_[UNPENALISED] != 0), case
            violation = kkt_violations(X, y, model.coef_, alpha, f,
                                       l1_ratio=estimator.l1_ratio)
            assert violation.max() <= 1e-7 * alpha, (case, violation.max())


@pytest.mark.parametrize("precompute", PRECOMPUTE)
def test_above_alpha_max_only_the_unpenalised_fit_remains(wide, precompute):
    X, y, _, f = wide
    top = weighted_alpha_max(X, y, f)
    penalised = f > 0
    for factor in (1.0001, 3.0):
        model = Lasso(alpha=factor * top, penalty_factor=f, precompute=precompute,
                      **TIGHT).fit(X, y)
        assert_is_unpenalised_fit(X, y, model.coef_, model.intercept_, factor * top,
                                  f, TIGHT["tol"])
    # The elastic net's alpha_max is the lasso's over l1_ratio.
    alpha = 1.0001 * top / 0.5
    enet = ElasticNet(alpha=alpha, l1_ratio=0.5, penalty_factor=f,
                      precompute=precompute, **TIGHT).fit(X, y)
    assert_is_unpenalised_fit(X, y, enet.coef_, enet.intercept_, alpha, f,
                              TIGHT["tol"], l1_ratio=0.5)
    below = Lasso(alpha=0.99 * top, penalty_factor=f, precompute=precompute,
                  **TIGHT).fit(X, y)
    assert np.any(below.coef_[penalised] != 0), precompute


def test_unpenalised_with_sample_weight(wide):
    X, y, _, f = wide
    sw = np.random.default_rng(33).uniform(0.2, 3.0, N)
    top = weighted_alpha_max(X, y, f, sample_weight=sw)
    scale = np.abs(gradient(X, y, np.zeros(P), sw)).max()
    for fraction in (0.3, 0.03):
        alpha = fraction * top
        model = Lasso(alpha=alpha, penalty_factor=f, **TIGHT)
        model.fit(X, y, sample_weight=sw)
        g = gradient(X, y, model.coef_, sw)
        assert np.abs(g[UNPENALISED]).max() <= 1e-8 * scale
        assert kkt_violations(X, y, model.coef_, alpha, f,
                              sample_weight=sw).max() <= 1e-7 * alpha
    alpha = 1.0001 * top
    above = Lasso(alpha=alpha, penalty_factor=f, **TIGHT).fit(X, y, sample_weight=sw)
    assert_is_unpenalised_fit(X, y, above.coef_, above.intercept_, alpha, f,
                              TIGHT["tol"], sample_weight=sw)
    below = Lasso(alpha=0.99 * top, penalty_factor=f, **TIGHT)
    below.fit(X, y, sample_weight=sw)
    assert np.any(below.coef_[f > 0] != 0)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_unpenalised_multitask(l1_ratio):
    X, Y = make_problem(40, 15, n_targets=3, seed=34)
    f = np.ones(15)
    f[[0, 9]] = 0.0
    model_class = MultiTaskLasso if l1_ratio == 1.0 else MultiTaskElasticNet
    params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
    Xw, Yw, _, _ = _weighted_problem(X, Y)
    free = f == 0
    beta = np.linalg.lstsq(Xw[:, free], Yw, rcond=None)[0]
    residual = Yw - Xw[:, free] @ beta
    top = np.linalg.norm(Xw[:, ~free].T @ residual, axis=1).max() / 40 / l1_ratio
    for fraction in (0.3, 0.03):
        alpha = fraction * top
        model = model_class(alpha=alpha, penalty_factor=f, **params, **TIGHT).fit(X, Y)
        g = Xw.T @ (Yw - Xw @ model.coef_.T) / 40
        assert np.abs(g[free]).max() <= 1e-8 * np.abs(Xw.T @ Yw / 40).max()
        gap = duality_gap(X, Y, model.coef_.T, alpha, f, l1_ratio)
        np.testing.assert_allclose(model.dual_gap_, gap, rtol=1e-6,
                                   atol=1e-13 * np.sum(Yw**2) / 40)
    alpha = 1.0001 * top
    above = model_class(alpha=alpha, penalty_factor=f, **params, **TIGHT).fit(X, Y)
    assert_is_unpenalised_fit(X, Y, above.coef_.T, above.intercept_, alpha, f,
                              TIGHT["tol"], l1_ratio=l1_ratio)
    below = model_class(alpha=0.99 * top, penalty_factor=f, **params, **TIGHT).fit(X, Y)
    assert np.any(below.coef_[:, ~free] != 0)


# ------------------------------------------------ (c) equal factors: alpha * c

@pytest.mark.parametrize("precompute", PRECOMPUTE)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_equal_factors_multiply_alpha(wide, precompute, l1_ratio):
    X, y, _, _ = wide
    alpha = 0.05 * weighted_alpha_max(X, y, np.ones(P)) / l1_ratio
    for c in (0.5, 2.5):
        kwargs = dict(l1_ratio=l1_ratio, precompute=precompute, **TIGHT)
        factored = ElasticNet(alpha=alpha, penalty_factor=np.full(P, c), **kwargs)
        plain = ElasticNet(alpha=alpha * c, **kwargs)
        factored.fit(X, y)
        plain.fit(X, y)
        np.testing.assert_allclose(
            factored.coef_, plain.coef_, rtol=0, atol=1e-7 * np.abs(plain.coef_).max(),
            err_msg=str((precompute, l1_ratio, c)),
        )
        np.testing.assert_array_equal(factored.coef_ == 0, plain.coef_ == 0)
    lasso = Lasso(alpha=alpha, penalty_factor=np.full(P, 2.5), precompute=precompute,
                  **TIGHT).fit(X, y)
    reference = Lasso(alpha=2.5 * alpha, precompute=precompute, **TIGHT).fit(X, y)
    np.testing.assert_allclose(lasso.coef_, reference.coef_, rtol=0,
                               atol=1e-7 * np.abs(reference.coef_).max())


def test_none_is_all_ones():
    X, y = make_problem(40, 10, seed=35)
    for model_class, Y in ((Lasso, y), (MultiTaskLasso, np.column_stack([y, -y]))):
        none = model_class(alpha=0.1, **TIGHT).fit(X, Y)
        ones = model_class(alpha=0.1, penalty_factor=np.ones(10), **TIGHT).fit(X, Y)
        as_list = model_class(alpha=0.1, penalty_factor=[1] * 10, **TIGHT).fit(X, Y)
        np.testing.assert_array_equal(none.coef_, ones.coef_)
        np.testing.assert_array_equal(none.coef_, as_list.coef_)


# ------------------------------------------------- (d) the reported dual gap

@pytest.mark.parametrize("precompute", PRECOMPUTE)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("zeros", [False, True], ids=["positive", "with_zeros"])
def test_dual_gap_is_the_numpy_gap(wide, precompute, l1_ratio, zeros):
    X, y, c, f = wide
    factor = f if zeros else c
    yy = y_variance(y)
    top = weighted_alpha_max(X, y, factor) / l1_ratio
    for fraction, tol in ((0.3, 1e-3), (0.05, 1e-4), (0.01, 1e-6)):
        alpha = fraction * top
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, penalty_factor=factor,
                           precompute=precompute, tol=tol, max_iter=100_000).fit(X, y)
        gap = duality_gap(X, y, model.coef_, alpha, factor, l1_ratio)
        case = (precompute, l1_ratio, zeros, fraction, model.dual_gap_, gap)
        assert gap >= -1e-14 * yy, case
        np.testing.assert_allclose(model.dual_gap_, gap, rtol=1e-6, atol=1e-13 * yy,
                                   err_msg=str(case))
        assert model.dual_gap_ <= tol * yy, case
        assert gap <= tol * yy * (1 + 1e-6), case


def test_dual_gap_with_sample_weight(wide):
    X, y, c, _ = wide
    sw = np.random.default_rng(36).uniform(0.2, 3.0, N)
    yy = y_variance(y, sw)
    alpha = 0.05 * weighted_alpha_max(X, y, c, sample_weight=sw)
    model = Lasso(alpha=alpha, penalty_factor=c, tol=1e-5).fit(X, y, sample_weight=sw)
    gap = duality_gap(X, y, model.coef_, alpha, c, sample_weight=sw)
    np.testing.assert_allclose(model.dual_gap_, gap, rtol=1e-6, atol=1e-13 * yy)
    assert model.dual_gap_ <= 1e-5 * yy


# ------------------------------------------------------ (e) bad penalty factors

BAD = {
    "short": lambda p: np.ones(p - 1),
    "long": lambda p: np.ones(p + 1),
    "2d": lambda p: np.ones((p, 1)),
    "negative": lambda p: np.r_[np.ones(p - 1), -0.5],
    "nan": lambda p: np.r_[np.ones(p - 1), np.nan],
    "inf": lambda p: np.r_[np.inf, np.ones(p - 1)],
}
ESTIMATORS = [Lasso, ElasticNet, MultiTaskLasso, MultiTaskElasticNet]


@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_bad_penalty_factor_raises(estimator, bad):
    X, Y = make_problem(20, 5, n_targets=2, seed=37)
    with pytest.raises(ValueError, match="penalty_factor"):
        estimator(alpha=0.1, penalty_factor=BAD[bad](5)).fit(X, Y)


# ---------------------------------------------------------------- (4) retracing

def _tracing_count():
    from tflasso._programs import PROGRAMS

    return sum(f.experimental_get_tracing_count() for f in PROGRAMS.values())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_retracing_across_alpha_l1_ratio_factor_n_and_p(monkeypatch):
    # Small certificates are evaluated by numpy: the compiled one takes them
    # all here, so that its traces are counted too.
    monkeypatch.setattr(_programs, "_NUMPY_CERTIFY", -1)

    def fits(n, p, alpha, l1_ratio, factor, seed):
        """One fit of every kind: every form, dtype and estimator."""
        X, y = make_problem(n, p, n_informative=3, seed=seed)
        Xs, _ = make_problem(n, p, n_informative=3, seed=seed, density=0.4)
        Xw, yw = make_problem(n, 3 * n, n_informative=3, seed=seed)  # p > n
        _, Y = make_problem(n, p, n_informative=3, n_targets=3, seed=seed)
        _, Y9 = make_problem(n, p, n_informative=3, n_targets=9, seed=seed)
        fw = np.ones(3 * n)
        fw[: np.count_nonzero(factor == 0)] = 0.0
        quick = dict(tol=1e-4, max_iter=300)
        enet = dict(alpha=alpha, l1_ratio=l1_ratio, penalty_factor=factor, **quick)
        for precompute in (True, False, "auto"):
            ElasticNet(precompute=precompute, **enet).fit(X, y)
            ElasticNet(precompute=precompute, **enet).fit(Xs, y)
        Lasso(alpha=alpha, penalty_factor=factor, **quick).fit(X, Y9)  # float32 stage
        ElasticNet(precompute=False, **enet).fit(X.astype(np.float32),
                                                 y.astype(np.float32))
        ElasticNet(precompute=False, **enet).fit(Xs.astype(np.float32),
                                                 y.astype(np.float32))
        ElasticNet(alpha=alpha, l1_ratio=l1_ratio, penalty_factor=fw, **quick).fit(
            Xw, yw)
        MultiTaskElasticNet(**enet).fit(X, Y)
        MultiTaskLasso(alpha=alpha, penalty_factor=factor, **quick).fit(Xs, Y)
        # A batch of folds (B > 1) of 15 problems: float32, then float64 (a
        # tolerance float32 cannot meet).
        ElasticNetCV(l1_ratio=l1_ratio, alphas=5, cv=3, penalty_factor=factor,
                     tol=1e-8, max_iter=300).fit(X, y)

    fits(30, 6, 0.1, 0.5, np.ones(6), seed=40)
    warm = np.ones(6)
    warm[0] = 0.0
    fits(30, 6, 0.1, 0.5, warm, seed=41)
    before = _tracing_count()
    from tflasso._programs import PROGRAMS

    untraced = [
        key for key, f in PROGRAMS.items()
        if not f.experimental_get_tracing_count() and key[-1] != "metric"
    ]
    # Every program has been traced by the warm-up, but the graph-mode Gram
    # programs (float32 and float64), used above 776 features only, and the
    # operator form's metric programs, for non-negative uncentred data only.
    assert len(untraced) <= 2, untraced
    rng = np.random.default_rng(42)
    for n, p, alpha, l1_ratio, zeros in [
        (40, 8, 0.05, 0.9, 0), (25, 5, 0.3, 0.2, 2), (50, 7, 0.01, 1.0, 1),
    ]:
        factor = rng.uniform(0.5, 2.0, p)
        factor[:zeros] = 0.0
        fits(n, p, alpha, l1_ratio, factor, seed=n)
    assert _tracing_count() == before
