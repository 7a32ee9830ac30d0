"""GridSearchCV over tflasso and scikit-learn's Lasso on the diabetes data.

``GridSearchCV(Pipeline(StandardScaler(), Lasso()), 20 alphas, cv=5)``: 100
small fits plus the refit, where per-fit overhead, not arithmetic, decides.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tflasso

from .suite import tracing_count

ALPHAS = np.logspace(-3, 1, 20)


def _search(lasso_class, X, y):
    """The fitted search and its wall time in seconds."""
    search = GridSearchCV(
        make_pipeline(StandardScaler(), lasso_class()), {"lasso__alpha": ALPHAS}, cv=5
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        search.fit(X, y)
    return search, time.perf_counter() - start


def compare(repeats):
    """Median search times (ours after a warm-up search), ratio and traces."""
    X, y = load_diabetes(return_X_y=True)
    traces_start, gram_start = tracing_count()
    _, first = _search(tflasso.Lasso, X, y)
    traces_warm, gram_warm = tracing_count()
    times = {"sklearn": [], "tflasso": []}
    best = {}
    for _ in range(repeats):
        for name, lasso_class in (("sklearn", SklearnLasso), ("tflasso", tflasso.Lasso)):
            search, seconds = _search(lasso_class, X, y)
            times[name].append(seconds)
            best[name] = search.best_params_["lasso__alpha"]
    traces_end, gram_end = tracing_count()
    medians = {name: float(np.median(t)) for name, t in times.items()}
    return {
        "alphas": len(ALPHAS),
        "repeats": repeats,
        "sklearn": medians["sklearn"],
        "tflasso": medians["tflasso"],
        "ratio": medians["tflasso"] / medians["sklearn"],
        "tflasso_first": first,
        "best_alpha": best,
        "traces": [traces_start, traces_warm, traces_end],
        "gram_traces": [gram_start, gram_warm, gram_end],
    }
