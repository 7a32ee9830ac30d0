"""Time tflasso.LassoCV against scikit-learn's LassoCV and GridSearchCV(Lasso()).

From the repository root::

    python benchmarks/bench_cv.py                 # everything, several minutes
    python benchmarks/bench_cv.py --no-gridsearch # without the ~100 s GridSearchCV run
    python benchmarks/bench_cv.py --no-agreement  # without the untimed tol=1e-6 fits

Both estimators get the same grid (``alphas=100``, scikit-learn's automatic
grid, which both compute from the full data), the same folds (``cv=5``:
KFold without shuffling) and the same tolerance, in float64. Fits alternate
between the two so that both see the same machine load; the table shows
medians and their ratio. tflasso's first fit (tracing and XLA compilation)
is timed apart and excluded from the medians. Writes
``benchmarks/results_cv.md``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import datasets  # noqa: E402

REPEATS = {"diabetes": 9, "dense": 5, "tall": 3, "wide": 3, "spectra": 3, "fingerprints": 3,
           "tfidf": 3}


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def compare(name, repeats, tol):
    """Median times of both LassoCVs on one dataset, and how well they agree."""
    from sklearn.linear_model import LassoCV as SklearnLassoCV

    from tflasso import LassoCV

    X, y = datasets.load(name)
    params = dict(alphas=100, cv=5, tol=tol)
    compile_time, _ = _timed(lambda: LassoCV(**params).fit(X, y))
    ours, theirs = [], []
    for _ in range(repeats):
        seconds, mine = _timed(lambda: LassoCV(**params).fit(X, y))
        ours.append(seconds)
        seconds, reference = _timed(lambda: SklearnLassoCV(**params).fit(X, y))
        theirs.append(seconds)
    same = np.argmin(np.abs(mine.alphas_ - mine.alpha_)) == np.argmin(
        np.abs(reference.alphas_ - reference.alpha_)
    )
    mse_error = np.abs(mine.mse_path_ / reference.mse_path_ - 1).max()
    return {
        "data": datasets.DESCRIPTIONS[name],
        "sklearn": np.median(theirs),
        "tflasso": np.median(ours),
        "first": compile_time,
        "same_alpha": bool(same),
        "mse_error": mse_error,
        "runs": repeats,
    }


def agreement(name, tol=1e-6):
    """Both LassoCVs solved tightly: same alpha_?, largest relative mse_path_ gap."""
    from sklearn.linear_model import LassoCV as SklearnLassoCV

    from tflasso import LassoCV

    X, y = datasets.load(name)
    params = dict(alphas=100, cv=5, tol=tol, max_iter=100_000)
    mine = LassoCV(**params).fit(X, y)
    reference = SklearnLassoCV(**params).fit(X, y)
    same = np.argmin(np.abs(mine.alphas_ - mine.alpha_)) == np.argmin(
        np.abs(reference.alphas_ - reference.alpha_)
    )
    return bool(same), np.abs(mine.mse_path_ / reference.mse_path_ - 1).max()


def gridsearch(tol):
    """GridSearchCV(sklearn Lasso) over LassoCV's grid on the tall set, once."""
    from sklearn.linear_model import Lasso
    from sklearn.model_selection import GridSearchCV

    from tflasso import LassoCV

    X, y = datasets.load("tall")
    ours = LassoCV(alphas=100, cv=5, tol=tol)
    ours_time = min(_timed(lambda: ours.fit(X, y))[0] for _ in range(2))
    search = GridSearchCV(
        Lasso(tol=tol), {"alpha": ours.alphas_}, cv=5, scoring="neg_mean_squared_error"
    )
    search_time, _ = _timed(lambda: search.fit(X, y))
    same = search.best_params_["alpha"] == ours.alpha_
    return ours_time, search_time, same


def report(rows, grid, tol):
    lines = [
        "# LassoCV: tflasso vs scikit-learn",
        "",
        f"`LassoCV(alphas=100, cv=5, tol={tol})` on both sides: the same automatic",
        "grid and folds, float64, on this machine (2 cores, no GPU, shared with other",
        "work: re-measure before relying on a figure). Medians of alternating runs;",
        "tflasso's first fit (tracing, XLA compilation) is excluded and shown apart.",
        "",
        "| data | sklearn LassoCV | tflasso LassoCV | speed-up | tflasso first fit "
        "| same alpha_ | max rel. diff. of mse_path_ | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['data']} | {row['sklearn']:.3f} s | {row['tflasso']:.3f} s "
            f"| {row['sklearn'] / row['tflasso']:.1f}x | {row['first']:.2f} s "
            f"| {'yes' if row['same_alpha'] else 'NO'} | {row['mse_error']:.1e} "
            f"| {row['runs']} |"
        )
    tight = [row for row in rows if "tight" in row]
    if tight:
        lines += [
            "",
            "Agreement with both sides at `tol=1e-6` (`max_iter=100000`, untimed):",
            "",
            "| data | same alpha_ | max rel. diff. of mse_path_ |",
            "|---|---|---|",
        ]
        for row in tight:
            same, error = row["tight"]
            lines.append(f"| {row['data']} | {'yes' if same else 'NO'} | {error:.1e} |")
    if grid is not None:
        ours, search, same = grid
        lines += [
            "",
            "`GridSearchCV(sklearn.linear_model.Lasso(), {'alpha': grid}, cv=5)`",
            "over the same 100 alphas on the tall set, run once, against tflasso's",
            "`LassoCV` (best of 2):",
            "",
            "| GridSearchCV(Lasso()) | tflasso LassoCV | speed-up | same alpha |",
            "|---|---|---|---|",
            f"| {search:.1f} s | {ours:.3f} s | {search / ours:.0f}x "
            f"| {'yes' if same else 'NO'} |",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(REPEATS),
                        choices=list(REPEATS))
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--no-gridsearch", action="store_true")
    parser.add_argument("--agreement", action=argparse.BooleanOptionalAction,
                        default=True, help="also compare both at tol=1e-6 (untimed)")
    parser.add_argument("--output", default=str(HERE / "results_cv.md"))
    args = parser.parse_args(argv)
    rows = []
    for name in args.datasets:
        rows.append(compare(name, REPEATS[name], args.tol))
        if args.agreement:
            rows[-1]["tight"] = agreement(name)
        print(rows[-1], flush=True)
        if name != "tall" or args.no_gridsearch:
            datasets.release(name)
    grid = None if args.no_gridsearch else gridsearch(args.tol)
    text = report(rows, grid, args.tol)
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
