"""Single fits, lasso_path and LassoCV on the data lasso is used for (issue 11).

From the repository root (needs the ``bench`` extra; run it on a quiet machine)::

    python benchmarks/bench_family.py                      # every set, every kind
    python benchmarks/bench_family.py --datasets wide100 --kinds cv
    python benchmarks/bench_family.py --write              # -> benchmarks/results_family.md

Wide Gaussian, smooth non-negative curves (spectra), binary fingerprints,
sparse non-negative tf-idf-like data (large; small and very sparse: rare
terms; a small corpus, wider than tall), and one-hot encoded categorical
columns (``datasets.FAMILY``, with ``onehot``, ``rare`` and ``corpus``, and
``tfidf``), at default settings
(``tol=1e-4``, default ``max_iter``), float64:

* ``single``: ``Lasso`` at 0.1 and 0.01 ``alpha_max``: tflasso, scikit-learn,
  celer, skglm (skglm's ``tol`` is not a duality gap: it gets ``tol * 1e-4``);
* ``path``: ``lasso_path`` with 100 alphas (``eps=1e-3``): tflasso,
  scikit-learn, ``celer.celer_path`` (skglm has no path function);
* ``cv``: ``LassoCV(cv=5)``, 100 alphas: tflasso, scikit-learn, celer's
  ``LassoCV`` (the same unshuffled folds and grid; celer 0.7.4's fails on
  scikit-learn 1.9, which the table says) and, with ``--skglm-cv``, skglm's
  ``GeneralizedLinearEstimatorCV`` (its own folds; off by default: at its
  tolerance it took 54 s on spectra 200 x 100, where scikit-learn took 0.3 s).

Paths run on the data as given, with no intercept (``lasso_path``'s problem);
dense sets are centred first, so that the problem is the one ``LassoCV``
solves. Each method's first call is a warm-up (tflasso's compilation, skglm's
numba), untimed; the timed calls alternate between methods, in rounds (at
least ``--repeats``; more, up to 15, while a case's calls have taken less
than 3 s), and the table shows each method's median time and the median of
its ratios to scikit-learn's call of the same round.
Convergence: the ``ConvergenceWarning`` count of one call, and the largest
duality gap over ``tol`` (recomputed in numpy by ``metrics``, scikit-learn's
rule: <= 1 is converged) of the fit or of every alpha of the path. Memory is
measured apart, by ``memory.py --family``.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import datasets, metrics  # noqa: E402

SETS = (*datasets.FAMILY, "tfidf")
KINDS = ("single", "path", "cv")
TOL = 1e-4
N_ALPHAS = 100
# A method whose first timed call took longer than this is not repeated.
_SLOW_SECONDS = 20.0
# Past --repeats rounds, more (at most _MAX_ROUNDS) while the timed calls of
# a case have taken less than _ROUNDS_SECONDS: fits of milliseconds get
# enough rounds for a median that the machine's spread does not move.
_MAX_ROUNDS = 15
_ROUNDS_SECONDS = 3.0


def _single(X, y, fraction):
    import celer
    import skglm
    from sklearn.linear_model import Lasso

    import tflasso

    alpha = fraction * datasets.alpha_max(X, y)

    def gap(model):
        return metrics.duality_gap(X, y, model.coef_, alpha) / (TOL * metrics.gap_scale(y))

    methods = {
        "tflasso": lambda: tflasso.Lasso(alpha=alpha, tol=TOL).fit(X, y),
        "sklearn": lambda: Lasso(alpha=alpha, tol=TOL).fit(X, y),
        "celer": lambda: celer.Lasso(alpha=alpha, tol=TOL).fit(X, y),
        "skglm": lambda: skglm.Lasso(alpha=alpha, tol=TOL * 1e-4).fit(X, y),
    }
    return methods, gap, lambda model: ""


def _centred(X, y):
    """Dense sets centred (the problem LassoCV solves on each fold); sparse as given."""
    if sparse.issparse(X):
        return X, y
    return X - X.mean(axis=0), y - y.mean()


def _path(X, y):
    import celer
    from sklearn.linear_model import lasso_path

    import tflasso

    X, y = _centred(X, y)
    if sparse.issparse(X):
        X = X.tocsc()  # celer_path and scikit-learn's coordinate descent want columns
    top = np.abs(X.T @ y).max() / X.shape[0]
    alphas = np.geomspace(top, top * 1e-3, N_ALPHAS)

    def gap(result):
        alphas_, coefs = result[0], result[1]
        scale = TOL * metrics.gap_scale(y, fit_intercept=False)
        return max(
            metrics.duality_gap(X, y, coefs[:, k], a, fit_intercept=False) / scale
            for k, a in enumerate(alphas_)
        )

    methods = {
        "tflasso": lambda: tflasso.lasso_path(X, y, alphas=alphas, tol=TOL),
        "sklearn": lambda: lasso_path(X, y, alphas=alphas, tol=TOL),
        "celer": lambda: celer.celer_path(X, y, "lasso", alphas=alphas, tol=TOL),
    }
    return methods, gap, lambda result: ""


def _cv(X, y, with_skglm):
    import celer
    from skglm import GeneralizedLinearEstimatorCV
    from skglm.datafits import Quadratic
    from skglm.penalties import L1
    from skglm.solvers import AndersonCD
    from sklearn.linear_model import LassoCV

    import tflasso

    def skglm_cv():
        solver = AndersonCD(tol=TOL * 1e-4, fit_intercept=True)
        return GeneralizedLinearEstimatorCV(Quadratic(), L1(1.0), solver, cv=5,
                                            n_alphas=N_ALPHAS).fit(X, y)

    methods = {
        "tflasso": lambda: tflasso.LassoCV(cv=5, tol=TOL).fit(X, y),
        "sklearn": lambda: LassoCV(cv=5, tol=TOL).fit(X, y),
        "celer": lambda: celer.LassoCV(cv=5, tol=TOL).fit(X, y),
    }
    if with_skglm:
        methods["skglm"] = skglm_cv
    return methods, None, lambda model: f"{model.alpha_:.4g}"


def _call(method):
    """``(seconds, result, ConvergenceWarnings raised)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = method()
        seconds = time.perf_counter() - start
    warned = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, result, warned


def measure(methods, gap, describe, repeats):
    """Median seconds, ratio to scikit-learn, warnings, gap/tol and a note per method.

    A method that fails (celer 0.7.4's LassoCV passes ``n_alphas``, which
    scikit-learn 1.9 removed) gets its error as its note.
    """
    first, results, warned, failed = {}, {}, {}, {}
    for name, method in list(methods.items()):  # warm-up: compilation, numba
        try:
            first[name], results[name], warned[name] = _call(method)
        except Exception as error:  # a competitor's incompatibility, not ours
            if name in ("tflasso", "sklearn"):
                raise
            failed[name] = f"fails: {type(error).__name__}: {str(error)[:80]}"
            del methods[name]
    times = {name: [] for name in methods}
    spent, round_ = 0.0, 0
    while round_ < repeats or round_ < _MAX_ROUNDS and spent < _ROUNDS_SECONDS:
        for name, method in methods.items():
            if round_ and times[name][0] > _SLOW_SECONDS:
                times[name].append(None)
                continue
            seconds = _call(method)[0]
            times[name].append(seconds)
            spent += seconds
        round_ += 1
    reference = times["sklearn"]
    rows = {}
    for name in methods:
        ran = [t for t in times[name] if t is not None]
        # Paired: each round's ratio to scikit-learn's call of the same
        # round, so that a slow stretch of the machine weighs on both.
        paired = [t / r for t, r in zip(times[name], reference)
                  if t is not None and r is not None]
        median = statistics.median(ran)
        rows[name] = {
            "seconds": median,
            "ratio": statistics.median(paired) if paired
            else median / statistics.median([t for t in reference if t is not None]),
            "first": first[name], "warnings": warned[name], "runs": len(ran),
            "gap": gap(results[name]) if gap else None, "note": describe(results[name]),
        }
    for name, note in failed.items():
        rows[name] = {"note": note}
    return rows


def run(names, kinds, repeats, with_skglm=False):
    table = []
    for name in names:
        X, y = datasets.load(name)
        for kind in kinds:
            cases = [(f"{f:g} alpha_max", _single(X, y, f)) for f in (0.1, 0.01)] \
                if kind == "single" else [("", _path(X, y) if kind == "path" else _cv(X, y, with_skglm))]
            for label, (methods, gap, describe) in cases:
                rows = measure(methods, gap, describe, repeats)
                table.append({"data": name, "kind": f"{kind} {label}".strip(), "rows": rows})
                print(_format([table[-1]]), flush=True)
        datasets.release(name)
    return table


def _format(table):
    lines = []
    for case in table:
        for method, row in case["rows"].items():
            if "seconds" not in row:
                lines.append(f"| {case['data']} | {case['kind']} | {method} | | | | "
                             f"| {row['note']} | | |")
                continue
            gap = "" if row["gap"] is None else f"{row['gap']:.2g}"
            lines.append(
                f"| {case['data']} | {case['kind']} | {method} | {row['seconds']:.3g} s "
                f"| {row['ratio']:.2f}x | {row['warnings']} | {gap} | {row['note']} "
                f"| {row['first']:.3g} s | {row['runs']} |"
            )
    return "\n".join(lines)


def report(table, command):
    head = [
        "# Single fits, paths and cross-validation on wide, correlated and sparse data",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"load average {os.getloadavg()[0]:.2f} at the end",
        "",
        __doc__[__doc__.index("Wide Gaussian"):].strip(),
        "",
        "Sets: " + "; ".join(datasets.DESCRIPTIONS[name] for name in SETS) + ".",
        "",
        "| data | what | method | median | / scikit-learn | ConvergenceWarnings | "
        "largest gap / tol | alpha_ | first call | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head) + "\n" + _format(table) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skglm-cv", action="store_true",
                        help="also time skglm's GeneralizedLinearEstimatorCV (slow)")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results_family.md")
    args = parser.parse_args(argv)
    table = run(args.datasets, args.kinds, args.repeats, args.skglm_cv)
    text = report(table, "python benchmarks/bench_family.py " + " ".join(argv or sys.argv[1:]))
    if args.write:
        (HERE / "results_family.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
