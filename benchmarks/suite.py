"""Timed fits of every method on one problem, and what each fit found.

Fits are interleaved (one round runs every method once) so that a noisy
machine slows all methods alike, and ratios against scikit-learn come from the
same rounds. Each fit gets a fresh estimator.
"""

import time
import warnings

import celer
import numpy as np
import skglm
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SklearnLasso

import tflasso
import tflasso._programs

from . import baselines, metrics

SOLVERS = ("sklearn", "tflasso", "skglm", "celer")
# Fits that cheap in total are repeated up to _CHEAP_FACTOR times as often.
_CHEAP_SECONDS = 1.0
_CHEAP_FACTOR = 5
BASELINES = {"keras_l1": baselines.keras_l1, "adam_tape": baselines.adam_tape}


def estimators(alpha, tol, max_iter, skglm_tol_factor):
    """A factory of fresh estimators per solver, all on the same objective.

    skglm's ``tol`` bounds an optimality-condition violation, not the duality
    gap, so it gets ``tol * skglm_tol_factor`` (its gap is reported regardless).
    skglm and celer keep their own iteration limits (outer loops of inner CD).
    """
    return {
        "sklearn": lambda: SklearnLasso(alpha=alpha, tol=tol, max_iter=max_iter),
        "tflasso": lambda: tflasso.Lasso(alpha=alpha, tol=tol, max_iter=max_iter),
        "skglm": lambda: skglm.Lasso(alpha=alpha, tol=tol * skglm_tol_factor),
        "celer": lambda: celer.Lasso(alpha=alpha, tol=tol),
    }


def tracing_count():
    """Total traces of tflasso's compiled solvers, and of the float64 Gram one."""
    counts = {}

    def walk(node, key):
        if isinstance(node, dict):
            for name, child in node.items():
                walk(child, f"{key}/{getattr(name, 'name', name)}")
        elif hasattr(node, "experimental_get_tracing_count"):
            counts[key] = node.experimental_get_tracing_count()

    walk({str(key): f for key, f in tflasso._programs.PROGRAMS.items()}, "")
    gram = next((v for k, v in counts.items() if "'gram', tf.float64, True" in k), None)
    return sum(counts.values()), gram


def _fit(make, X, y):
    """Fit a fresh estimator; ``(estimator, seconds, warned)``."""
    estimator = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return estimator, seconds, warned


def warm_up_skglm():
    """Trigger skglm's numba compilation for dense and sparse input; seconds each."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    y = X[:, 0] + rng.standard_normal(50)
    return {
        kind: _fit(lambda: skglm.Lasso(alpha=0.1), data, y)[1]
        for kind, data in (("dense", X), ("sparse", sparse.csr_array(X)))
    }


def _describe(X, y, alpha, tol, coef, intercept):
    coef = np.asarray(coef, dtype=np.float64).ravel()
    gap = metrics.duality_gap(X, y, coef, alpha)
    return {
        "objective": metrics.objective(X, y, coef, intercept, alpha),
        "gap_over_tol": gap / (tol * metrics.gap_scale(y)),
        "zeros": int((coef == 0).sum()),
        "support": coef != 0,
    }


def time_solvers(X, y, alpha, tol, factories, repeats, cell_seconds, single_fit_seconds):
    """Median fit times and solution quality of every solver on one problem.

    tflasso is fitted once first, untimed in the median: that fit pays any
    tracing or compilation, and is reported separately with the traces it made
    (unless it alone took ``single_fit_seconds``: then it is the one timed fit,
    compilation included, and ``first_only`` says so).
    A solver stops repeating once its fits took ``cell_seconds`` in total;
    one whose fits took under ``_CHEAP_SECONDS`` in total keeps repeating (up to
    ``_CHEAP_FACTOR * repeats`` fits), because on a noisy machine the median of
    a few millisecond-long fits is mostly noise.
    """
    before = tracing_count()[0]
    estimator, first, warned = _fit(factories["tflasso"], X, y)
    after_first = tracing_count()[0]
    times = {name: [] for name in factories}
    last = {}
    first_only = first >= single_fit_seconds
    if first_only:
        # Too slow to fit twice: compilation is a small share of this one fit.
        times["tflasso"].append(first)
        last["tflasso"] = (estimator, warned)
    for round_ in range(_CHEAP_FACTOR * repeats):
        for name, make in factories.items():
            if first_only and name == "tflasso":
                continue
            spent = sum(times[name])
            if round_ and spent >= cell_seconds:
                continue
            if round_ >= repeats and spent >= _CHEAP_SECONDS:
                continue
            estimator, seconds, warned = _fit(make, X, y)
            times[name].append(seconds)
            last[name] = (estimator, warned)
    records = []
    for name in factories:
        estimator, warned = last[name]
        record = {
            "method": name,
            "times": times[name],
            "median": float(np.median(times[name])),
            "warned": warned,
            "n_iter": _n_iter(estimator),
        }
        record.update(_describe(X, y, alpha, tol, estimator.coef_, estimator.intercept_))
        if name == "tflasso":
            record["first"] = first
            record["traces_first"] = after_first - before
            record["traces_timed"] = tracing_count()[0] - after_first
            record["first_only"] = first_only
        records.append(record)
    return records


# The reference solution whose support the report calls exact.
REFERENCE_TOL = 1e-10


def reference(X, y, alpha):
    """celer run to a gap below 1e-10, untimed: its support, size and gap.

    At tol 1e-4 every solver's support may miss coefficients far below the
    others' scale, and solvers miss different ones; this is the support they
    converge to. celer's own gap is computed at its dual point, so it is asked
    for 1e-12 to put the gap recomputed here below 1e-10 (on the wide set at
    0.01 alpha_max, celer at 1e-12, skglm at 1e-12, scikit-learn at 1e-10 and
    tflasso at 1e-12 all give this support).
    """
    estimator = celer.Lasso(alpha=alpha, tol=REFERENCE_TOL / 100, max_iter=1000,
                            max_epochs=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    coef = np.asarray(estimator.coef_, dtype=np.float64).ravel()
    gap = metrics.duality_gap(X, y, coef, alpha)
    return {"support": coef != 0, "nonzeros": int((coef != 0).sum()),
            "gap_over_tol": gap / (REFERENCE_TOL * metrics.gap_scale(y))}


def _n_iter(estimator):
    n_iter = getattr(estimator, "n_iter_", None)
    return None if n_iter is None else int(np.max(n_iter))


def run_baselines(X, y, alpha, tol, budget, learning_rates):
    """Each TensorFlow first try, trained once for ``budget`` seconds."""
    records = []
    for name, train in BASELINES.items():
        start = time.perf_counter()
        coef, intercept, steps = train(X, y, alpha, budget, learning_rates[name])
        seconds = time.perf_counter() - start
        record = {"method": name, "times": [seconds], "median": seconds, "steps": steps,
                  "budget": budget}
        record.update(_describe(X, y, alpha, tol, coef, intercept))
        records.append(record)
    return records
