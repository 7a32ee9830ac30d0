"""The benchmark problems, generated deterministically and cached in memory.

Each dataset is a function of nothing but its seed, so every run (and every
machine) times the same problems. ``load(name)`` builds a dataset once per
process; ``release(name)`` drops it so that the large sets are never held
together.
"""

import functools

import numpy as np
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

# Seeds, one per generated dataset.
SEEDS = {"dense": 0, "tall": 1, "wide": 2, "sparse": 3}

# Rows per block when generating or reducing large dense arrays.
_BLOCK_ROWS = 8192


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _ar1_features(rng, n, p, rho):
    """Gaussian rows whose features follow an AR(1) chain, corr(x_j, x_k) = rho^|j-k|."""
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    innovation = np.sqrt(1 - rho**2)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + innovation * rng.standard_normal(n)
    return X


def _planted_target(rng, X, n_nonzero, snr=3.0):
    """``y = X w + noise`` with ``n_nonzero`` planted coefficients at the given SNR."""
    p = X.shape[1]
    w = np.zeros(p)
    support = rng.choice(p, n_nonzero, replace=False)
    w[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(1, 3, n_nonzero)
    signal = X @ w
    noise = rng.standard_normal(X.shape[0])
    return signal + noise * (np.std(signal) / snr)


def _gaussian(n, p, n_nonzero, seed, rho=0.0):
    rng = np.random.default_rng(seed)
    if rho:
        X = _ar1_features(rng, n, p, rho)
    else:
        X = rng.standard_normal((n, p))
    return X, _planted_target(rng, X, n_nonzero)


def _sparse_design(n, p, density, n_nonzero, seed):
    rng = np.random.default_rng(seed)
    X = sparse.random_array(
        (n, p), density=density, format="csr", rng=rng, data_sampler=rng.standard_normal
    )
    return X, _planted_target(rng, X, n_nonzero)


GENERATORS = {
    "diabetes": _diabetes,
    "dense": functools.partial(_gaussian, 10_000, 1_000, 20, SEEDS["dense"], rho=0.5),
    "tall": functools.partial(_gaussian, 200_000, 200, 20, SEEDS["tall"]),
    "wide": functools.partial(_gaussian, 1_000, 20_000, 20, SEEDS["wide"]),
    "sparse": functools.partial(_sparse_design, 50_000, 50_000, 1e-3, 100, SEEDS["sparse"]),
}

DESCRIPTIONS = {
    "diabetes": "diabetes 442 x 10, standardized",
    "dense": "dense 10,000 x 1,000, AR(1) rho=0.5, 20 true nonzeros",
    "tall": "tall 200,000 x 200, 20 true nonzeros",
    "wide": "wide 1,000 x 20,000, 20 true nonzeros",
    "sparse": "sparse CSR 50,000 x 50,000, density 1e-3, 100 true nonzeros",
}

_CACHE = {}


def load(name):
    """``(X, y)`` of the named dataset, built on first use and cached."""
    if name not in _CACHE:
        _CACHE[name] = GENERATORS[name]()
    return _CACHE[name]


def release(name):
    """Forget a cached dataset, so that its memory can be reclaimed."""
    _CACHE.pop(name, None)


def alpha_max(X, y):
    """``max_j |x_j^T (y - mean(y))| / n``, the smallest alpha giving all zeros.

    Equal to ``tflasso._reference.alpha_max`` with an intercept; computed
    without centring (or densifying) X, because centred y is orthogonal to the
    column means.
    """
    centred = y - y.mean()
    return np.abs(X.T @ centred).max() / X.shape[0]
