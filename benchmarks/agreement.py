"""Which alpha is right? LassoCV at default settings against a tight reference.

From the repository root (needs the ``bench`` extra)::

    python benchmarks/agreement.py                     # wide100 wide300 spectra1k
    python benchmarks/agreement.py --datasets wide100 --write   # -> results_agreement.md

Issue 11 asks for the same ``alpha_`` as scikit-learn's ``LassoCV`` "where
both converge". On some of the benchmark sets the two pick neighbouring grid
points at the default ``tol=1e-4``. Which one is the lasso's answer? Each
set is cross-validated three times on the same folds and grid (``cv=5``, 100
alphas):

* scikit-learn at its defaults;
* tflasso at its defaults;
* scikit-learn at ``tol=1e-10``, ``max_iter=100,000``: the reference, whose
  validation errors are those of the exact solutions to about 1e-9.

For each of the two default fits the table gives its ``alpha_`` and how far
its ``mse_path_`` is from the reference's (relative: the largest and the
median over alphas and folds). Timing is not the point here (the reference
takes minutes): see ``bench_family.py``.
"""

import argparse
import datetime
import os
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import datasets  # noqa: E402

DEFAULT_SETS = ("wide100", "wide300", "spectra1k")


def compare(name):
    """Rows ``(set, fit, alpha_, same as reference, max, median relative error)``."""
    import sklearn.linear_model as sk

    import tflasso

    X, y = datasets.load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {
            "scikit-learn, defaults": sk.LassoCV(cv=5).fit(X, y),
            "tflasso, defaults": tflasso.LassoCV(cv=5).fit(X, y),
        }
        reference = sk.LassoCV(cv=5, tol=1e-10, max_iter=100_000).fit(X, y)
    datasets.release(name)
    rows = []
    for label, fit in fits.items():
        if not np.allclose(fit.alphas_, reference.alphas_):
            raise RuntimeError(f"{name}: {label}'s grid differs from the reference's")
        error = np.abs(fit.mse_path_ - reference.mse_path_) / reference.mse_path_
        rows.append((name, label, fit.alpha_, np.isclose(fit.alpha_, reference.alpha_),
                     error.max(), np.median(error)))
    rows.append((name, "reference (scikit-learn, tol=1e-10)", reference.alpha_, True,
                 0.0, 0.0))
    return rows


def report(rows, command):
    lines = [
        "# LassoCV's alpha_ against a tight reference",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "- Sets: " + "; ".join(datasets.DESCRIPTIONS[name]
                               for name in dict.fromkeys(row[0] for row in rows)) + ".",
        "",
        "`LassoCV(cv=5)`, 100 alphas, the same folds and grid for all three. The"
        " reference is scikit-learn at `tol=1e-10`, `max_iter=100,000`. Errors are"
        " relative to the reference's `mse_path_`, over every alpha and fold.",
        "",
        "| set | fit | alpha_ | same as reference | largest error | median error |",
        "|---|---|---:|---|---:|---:|",
    ]
    for name, label, alpha, same, largest, median in rows:
        lines.append(f"| {name} | {label} | {alpha:.4g} | {'yes' if same else '**no**'}"
                     f" | {largest:.2g} | {median:.2g} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(datasets.GENERATORS),
                        default=list(DEFAULT_SETS))
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results_agreement.md")
    args = parser.parse_args(argv)
    rows = [row for name in args.datasets for row in compare(name)]
    command = "python benchmarks/agreement.py" + (
        "" if args.datasets == list(DEFAULT_SETS)
        else " --datasets " + " ".join(args.datasets)
    )
    text = report(rows, command)
    print(text)
    if args.write:
        (HERE / "results_agreement.md").write_text(text)


if __name__ == "__main__":
    main()
