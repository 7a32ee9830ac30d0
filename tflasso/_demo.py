"""The diabetes demo: tune alpha by cross-validation, compare with scikit-learn."""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.linear_model import LassoCV as SklearnLassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import Lasso, LassoCV
from ._reference import objective


def _timed_fit(model, X, y, repeats=5):
    """Fit ``repeats`` times; the model and the median wall time in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return model, 1e3 * float(np.median(times))


def _compare_lasso_cv(Xs, y, cv, print_, tol=1e-6):
    """LassoCV over 100 alphas x 5 folds: one batched solve against scikit-learn's.

    At a tight tol, because the CV curve is flat near its minimum and fits
    accurate only to the default tol=1e-4 can tip the choice to a neighbour.
    """
    start = time.perf_counter()
    LassoCV(cv=cv, tol=tol).fit(Xs, y)
    compile_s = time.perf_counter() - start
    ours, ours_ms = _timed_fit(LassoCV(cv=cv, tol=tol), Xs, y, repeats=3)
    theirs, theirs_ms = _timed_fit(SklearnLassoCV(cv=cv, tol=tol), Xs, y, repeats=3)
    print_(f"LassoCV over 100 alphas x 5 folds (tol={tol:g}): tflasso {ours_ms:.0f} ms "
           f"(its first call, compiling: {compile_s:.1f} s), scikit-learn {theirs_ms:.0f} ms")
    print_(f"alpha_ = {ours.alpha_:.4g} (tflasso), {theirs.alpha_:.4g} (scikit-learn)\n")


def run(print_=print):
    """Print the demo's report."""
    data = load_diabetes()
    X, y = data.data, data.target
    grid = {"lasso__alpha": np.logspace(-3, 1, 20)}
    cv = KFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(make_pipeline(StandardScaler(), Lasso()), grid, cv=cv)
    start = time.perf_counter()
    search.fit(X, y)
    elapsed = time.perf_counter() - start
    alpha = search.best_params_["lasso__alpha"]
    print_(
        f"GridSearchCV over {len(grid['lasso__alpha'])} alphas x 5 folds on the "
        f"diabetes data ({X.shape[0]} x {X.shape[1]}): {elapsed:.2f} s"
    )
    print_(f"best alpha = {alpha:.4g}, cross-validated R^2 = {search.best_score_:.4f}")
    # The README's example passes cv=5: unshuffled folds, which may pick another alpha.
    print_("(folds shuffled with random_state=0; cv=5, as in the README's example, takes "
           "the rows in order and may choose a neighbouring alpha)")

    Xs = StandardScaler().fit_transform(X)
    _compare_lasso_cv(Xs, y, cv, print_)
    ours, ours_ms = _timed_fit(Lasso(alpha=alpha), Xs, y)
    theirs, theirs_ms = _timed_fit(SklearnLasso(alpha=alpha), Xs, y)
    print_(f"{'':>12} {'tflasso':>12} {'sklearn':>12}")
    for name, a, b in zip(data.feature_names, ours.coef_, theirs.coef_):
        print_(f"{name:>12} {a + 0.0:12.4f} {b + 0.0:12.4f}")  # + 0.0: no -0.0000
    rows = [
        ("intercept", ours.intercept_, theirs.intercept_, ".4f"),
        ("exact zeros", (ours.coef_ == 0).sum(), (theirs.coef_ == 0).sum(), "d"),
        ("objective", objective(Xs, y, ours.coef_, ours.intercept_, alpha),
         objective(Xs, y, theirs.coef_, theirs.intercept_, alpha), ".6f"),
        ("fit ms", ours_ms, theirs_ms, ".2f"),
    ]
    for label, a, b, fmt in rows:
        print_(f"{label:>12} {a:12{fmt}} {b:12{fmt}}")
