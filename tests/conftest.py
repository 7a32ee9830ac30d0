"""Shared, deterministic test problems."""

import numpy as np
import pytest
from scipy import sparse


def make_problem(n_samples, n_features, n_informative=5, n_targets=None, seed=0,
                 density=None):
    """A random regression problem with a sparse true coefficient vector.

    Features are correlated (a shared factor) and have non-zero means, so
    centring and the intercept matter. ``density`` makes X a CSR matrix.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X += 0.5 * rng.standard_normal((n_samples, 1))  # correlation
    X += rng.uniform(-2, 2, n_features)  # non-zero means
    if density is not None:
        X *= rng.random((n_samples, n_features)) < density
    shape = (n_features,) if n_targets is None else (n_features, n_targets)
    coef = np.zeros(shape)
    coef[:n_informative] = rng.uniform(1, 3, (n_informative, *shape[1:]))
    coef[:n_informative] *= rng.choice([-1, 1], (n_informative, *shape[1:]))
    noise = rng.standard_normal((n_samples, *shape[1:]))
    y = X @ coef + 3.0 + noise
    return (sparse.csr_matrix(X) if density is not None else X), y


@pytest.fixture(scope="session")
def diabetes():
    """The diabetes data, standardized."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y

# A worker script that test_distribute.py runs in subprocesses under TF_CONFIG:
# importing it (as --doctest-modules would) starts a multi-worker strategy.
collect_ignore = ["distributed_worker.py"]
