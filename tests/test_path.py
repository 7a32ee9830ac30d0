"""tflasso.lasso_path against sklearn.linear_model.lasso_path, and in numpy.

Both paths are solved tightly, so the coefficients must agree to 1e-5 of the
largest one; the grid, the gaps and the zero solution at alpha_max are
checked independently of the solver.
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lasso_path as sklearn_lasso_path

from tflasso import lasso_path
from tflasso._reference import alpha_max, duality_gap

from .conftest import make_problem

TIGHT = dict(tol=1e-12, max_iter=100_000)


@pytest.fixture(scope="module")
def centred():
    """A problem whose path (no intercept) is meaningful: centred X and y."""
    X, y = make_problem(200, 30, n_informative=6, seed=3)
    return X - X.mean(axis=0), y - y.mean()


@pytest.mark.parametrize("form", ["gram", "dense", "sparse"])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_path_matches_sklearn(diabetes, form, positive):
    X, y = diabetes
    X = sparse.csr_matrix(X) if form == "sparse" else X
    precompute = form == "gram"
    theirs = sklearn_lasso_path(X, y, alphas=20, positive=positive, **TIGHT)
    ours = lasso_path(
        X, y, alphas=20, positive=positive, precompute=precompute, **TIGHT
    )
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1].shape == theirs[1].shape == (X.shape[1], 20)
    assert ours[2].shape == theirs[2].shape == (20,)
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-5 * np.abs(theirs[1]).max())
    np.testing.assert_array_equal(ours[1] == 0, theirs[1] == 0)


def test_lasso_path_default_grid_is_sklearns(centred):
    X, y = centred
    alphas, coefs, gaps = lasso_path(X, y)
    theirs, _, _ = sklearn_lasso_path(X, y, alphas=100)
    assert alphas.shape == (100,) and coefs.shape == (30, 100)
    np.testing.assert_allclose(alphas, theirs, rtol=1e-12)
    a_max = alpha_max(X, y, fit_intercept=False)
    np.testing.assert_allclose(alphas[[0, -1]], [a_max, 1e-3 * a_max], rtol=1e-12)
    # alpha_max is the smallest alpha with an all-zero solution.
    assert np.all(coefs[:, 0] == 0) and np.any(coefs[:, 1] != 0)


def test_lasso_path_gaps_recomputed_in_numpy(centred):
    X, y = centred
    tol = 1e-8
    alphas, coefs, gaps = lasso_path(X, y, alphas=15, tol=tol)
    yy = y @ y / len(y)
    for k, alpha in enumerate(alphas):
        gap = duality_gap(X, y, coefs[:, k], alpha, fit_intercept=False)
        assert gap <= tol * yy
        np.testing.assert_allclose(gaps[k], gap, rtol=1e-6, atol=1e-12 * yy)


def test_lasso_path_array_alphas_sorted_largest_first(centred):
    X, y = centred
    alphas, coefs, _ = lasso_path(X, y, alphas=[0.01, 1.0, 0.1], **TIGHT)
    np.testing.assert_array_equal(alphas, [1.0, 0.1, 0.01])
    _, theirs, _ = sklearn_lasso_path(X, y, alphas=[1.0, 0.1, 0.01], **TIGHT)
    np.testing.assert_allclose(coefs, theirs, atol=1e-5 * np.abs(theirs).max())


def test_lasso_path_float32_keeps_dtype(centred):
    X, y = centred
    alphas, coefs, _ = lasso_path(X.astype(np.float32), y.astype(np.float32), alphas=5)
    assert coefs.dtype == np.float32 and alphas.dtype == np.float64


def test_lasso_path_return_n_iter_and_warning(centred):
    X, y = centred
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        *_, n_iter = lasso_path(X, y, alphas=5, max_iter=2, tol=1e-12,
                                return_n_iter=True)
    assert n_iter.shape == (5,) and n_iter.max() <= 2


@pytest.mark.parametrize("precompute", ["auto", False])
def test_lasso_path_of_several_targets_is_the_multi_task_path(centred, precompute):
    # As in scikit-learn, a 2-D y is one multi-task problem (the L2,1 norm).
    from sklearn.linear_model import lasso_path as sklearn_path

    X, y = centred
    Y = np.column_stack([y, 0.5 * y + np.linspace(-1, 1, len(y))])
    alphas, coefs, gaps = lasso_path(X, Y, alphas=8, tol=1e-10, max_iter=100_000,
                                     precompute=precompute)
    theirs_alphas, theirs, _ = sklearn_path(X, Y, alphas=8, tol=1e-12,
                                            max_iter=100_000)
    assert coefs.shape == theirs.shape == (2, X.shape[1], 8)
    np.testing.assert_allclose(alphas, theirs_alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs, theirs, atol=1e-6 * np.abs(theirs).max())
    np.testing.assert_array_equal(np.all(coefs == 0, axis=0), np.all(theirs == 0, axis=0))
    assert np.all(gaps <= 1e-10 * np.sum(Y**2) / len(Y) * 1.0001)


def _chunk_calls(monkeypatch):
    """(features, kind) of each Gram program call, as a list that fills."""
    from tflasso import _programs

    monkeypatch.setattr(_programs, "_graph_seconds", {})
    calls = []  # (features, kind) of each Gram program call
    concrete = _programs._concrete
    solve_gram = _programs.solve_gram

    def traced(gram, *args, **kwargs):
        calls.append([gram.shape[1], None])
        return solve_gram(gram, *args, **kwargs)

    def program(key):
        if key[0] == "gram" and calls and calls[-1][1] is None:
            calls[-1][1] = key[2]
        return concrete(key)

    monkeypatch.setattr(_programs, "solve_gram", traced)
    monkeypatch.setattr(_programs, "_concrete", program)
    return calls


def _chunked_path_is_exact(X, y, alphas, coefs):
    for k, a in enumerate(alphas):
        assert duality_gap(X, y, coefs[:, k], a, fit_intercept=False) <= 1e-9 * (y @ y) / 800
    theirs = sklearn_lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100_000)[1]
    np.testing.assert_allclose(coefs, theirs, atol=1e-5 * np.abs(theirs).max())


@pytest.fixture(scope="module")
def chunked():
    """A Gram path on more than _CHUNK_FEATURES features: solved in chunks."""
    from tflasso import _strategies

    X, y = make_problem(800, 400, n_informative=10, seed=11)
    X, y = X - X.mean(axis=0), y - y.mean()
    assert X.shape[1] > _strategies._CHUNK_FEATURES
    return X, y


def test_chunked_gram_path_runs_restricted_chunks_uncompiled_at_first(monkeypatch, chunked):
    """A chunked Gram path's chunks are on working sets whose sizes change
    from chunk to chunk: where the active-set steps do not finish a chunk,
    in a process that has spent nothing on its size yet, it runs in graph
    mode (no XLA compilation per size, each about a second of a first path),
    and the path is still the exact one (gaps recomputed in numpy,
    scikit-learn's coefficients)."""
    from tflasso import _homotopy

    calls = _chunk_calls(monkeypatch)
    monkeypatch.setattr(_homotopy, "path", lambda *args, **kwargs: None)  # no steps
    X, y = chunked
    alphas, coefs, gaps = lasso_path(X, y, alphas=30, eps=1e-1, precompute=True, tol=1e-10,
                                     max_iter=100_000)
    restricted = [kind for features, kind in calls if features < X.shape[1]]
    assert restricted and all(kind is False for kind in restricted)
    _chunked_path_is_exact(X, y, alphas, coefs)


def test_chunked_gram_path_chunks_finished_by_the_steps(monkeypatch, chunked):
    """The same path with the active-set steps: each restricted chunk's exact
    solutions are certified in numpy, at tol=1e-10, without a call of the
    Gram program, and the path is the exact one."""
    calls = _chunk_calls(monkeypatch)
    X, y = chunked
    alphas, coefs, gaps = lasso_path(X, y, alphas=30, eps=1e-1, precompute=True, tol=1e-10,
                                     max_iter=100_000)
    assert not [features for features, _ in calls if features < X.shape[1]]
    _chunked_path_is_exact(X, y, alphas, coefs)
