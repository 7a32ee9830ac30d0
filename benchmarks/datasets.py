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
SEEDS = {"dense": 0, "tall": 1, "wide": 2, "sparse": 3, "spectra": 4, "fingerprints": 5,
         "tfidf": 6, "wide100": 7, "wide300": 8, "wide50": 9, "spectra200": 10,
         "spectra1k": 11, "fingerprints200": 12, "onehot": 13, "rare": 14,
         "corpus": 15}

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


def _spectra(n, p, seed):
    """Smooth, strongly correlated, non-negative curves, as spectra are.

    Each row mixes a few broad Gaussian peaks at random positions, plus a
    little noise: neighbouring features correlate above 0.99.
    """
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, p)
    centres = rng.uniform(0, 1, 12)
    peaks = np.exp(-0.5 * ((grid[None, :] - centres[:, None]) / 0.03) ** 2)
    X = rng.gamma(2.0, 1.0, (n, len(centres))) @ peaks
    X = np.maximum(X + 0.01 * rng.standard_normal((n, p)), 0)
    return X, _planted_target(rng, X, 10)


def _fingerprints(n, p, density, seed):
    """Binary features (molecular fingerprints, one-hot flags): 0/1, dense."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < density).astype(np.float64)
    return X, _planted_target(rng, X, 20)


def _tfidf(n, p, density, seed, n_nonzero=100):
    """Sparse non-negative entries in [0, 1), as tf-idf or scaled counts."""
    rng = np.random.default_rng(seed)
    X = sparse.random_array((n, p), density=density, format="csr", rng=rng)
    return X, _planted_target(rng, X, n_nonzero)


def _onehot(n, n_columns, seed):
    """Categorical columns one-hot encoded, as a user's ``OneHotEncoder``
    gives them (sparse, binary, one stored entry per row and column): 5 to
    400 levels a column, at Zipf-like frequencies (a few common levels,
    many rare ones), CSR."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(5, 401, n_columns)
    codes = np.column_stack([np.minimum(rng.zipf(1.5, n) - 1, m - 1) for m in levels])
    # Levels no row takes are dropped, as OneHotEncoder drops unseen ones.
    blocks = []
    for j in range(n_columns):
        seen, code = np.unique(codes[:, j], return_inverse=True)
        blocks.append((code, seen.size))
    starts = np.cumsum([0] + [size for _, size in blocks])
    indices = np.column_stack([code + start for (code, _), start in zip(blocks, starts)])
    X = sparse.csr_array(
        (np.ones(n * n_columns), indices.ravel().astype(np.int32),
         np.arange(0, n * n_columns + 1, n_columns, dtype=np.int32)),
        shape=(n, starts[-1]),
    )
    return X, _planted_target(rng, X, 50)


GENERATORS = {
    "diabetes": _diabetes,
    "dense": functools.partial(_gaussian, 10_000, 1_000, 20, SEEDS["dense"], rho=0.5),
    "tall": functools.partial(_gaussian, 200_000, 200, 20, SEEDS["tall"]),
    "wide": functools.partial(_gaussian, 1_000, 20_000, 20, SEEDS["wide"]),
    "sparse": functools.partial(_sparse_design, 50_000, 50_000, 1e-3, 100, SEEDS["sparse"]),
    "spectra": functools.partial(_spectra, 300, 2_000, SEEDS["spectra"]),
    "fingerprints": functools.partial(_fingerprints, 1_000, 4_000, 0.1, SEEDS["fingerprints"]),
    "tfidf": functools.partial(_tfidf, 40_000, 40_000, 1e-3, SEEDS["tfidf"]),
    # Issue 11's shapes (FAMILY), timed by bench_family.py, not by run.py.
    "wide100": functools.partial(_gaussian, 100, 5_000, 10, SEEDS["wide100"]),
    "wide300": functools.partial(_gaussian, 300, 2_000, 20, SEEDS["wide300"]),
    "wide50": functools.partial(_gaussian, 50, 100_000, 5, SEEDS["wide50"]),
    "spectra200": functools.partial(_spectra, 200, 100, SEEDS["spectra200"]),
    "spectra1k": functools.partial(_spectra, 200, 1_000, SEEDS["spectra1k"]),
    "fingerprints200": functools.partial(_fingerprints, 200, 1_000, 0.1,
                                         SEEDS["fingerprints200"]),
    "onehot": functools.partial(_onehot, 10_000, 20, SEEDS["onehot"]),
    # Rare terms: tf-idf-like but small and very sparse (2 stored entries a
    # row, 5 a column), where a Gram or working-set iteration costs far more
    # than the data's own entries.
    "rare": functools.partial(_tfidf, 5_000, 2_000, 1e-3, SEEDS["rare"], n_nonzero=20),
    # A small corpus: tf-idf-like, few documents and more terms (p > n), 100
    # stored entries a row; no other set was sparse and wide, and on such
    # data tflasso's paths took 20 to 40 times scikit-learn's time.
    "corpus": functools.partial(_tfidf, 300, 2_000, 0.05, SEEDS["corpus"], n_nonzero=20),
}

DESCRIPTIONS = {
    "diabetes": "diabetes 442 x 10, standardized",
    "dense": "dense 10,000 x 1,000, AR(1) rho=0.5, 20 true nonzeros",
    "tall": "tall 200,000 x 200, 20 true nonzeros",
    "wide": "wide 1,000 x 20,000, 20 true nonzeros",
    "sparse": "sparse CSR 50,000 x 50,000, density 1e-3, 100 true nonzeros",
    "spectra": "spectra 300 x 2,000, non-negative, neighbours correlated > 0.99, 10 true nonzeros",
    "fingerprints": "fingerprints 1,000 x 4,000, binary, density 0.1, 20 true nonzeros",
    "tfidf": "tf-idf-like CSR 40,000 x 40,000, density 1e-3, values in [0, 1), 100 true nonzeros",
    "wide100": "wide 100 x 5,000, 10 true nonzeros",
    "wide300": "wide 300 x 2,000, 20 true nonzeros",
    "wide50": "wide 50 x 100,000, 5 true nonzeros",
    "spectra200": "spectra 200 x 100, non-negative, smooth",
    "spectra1k": "spectra 200 x 1,000, non-negative, smooth",
    "fingerprints200": "fingerprints 200 x 1,000, binary, density 0.1",
    "onehot": "one-hot CSR 10,000 rows, 20 categorical columns of 5 to 400 levels "
              "at Zipf-like frequencies, 50 true nonzeros",
    "rare": "rare terms, CSR 5,000 x 2,000, density 1e-3 (10,000 stored entries), values "
            "in [0, 1), 20 true nonzeros",
    "corpus": "small corpus, CSR 300 x 2,000, density 0.05 (100 stored entries a row), "
              "values in [0, 1), 20 true nonzeros",
}

FAMILY = ("wide100", "wide300", "wide50", "spectra200", "spectra1k", "fingerprints200",
          "onehot", "rare", "corpus")
"""The sets of bench_family.py only (with tfidf)."""

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
