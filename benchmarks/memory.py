"""Peak memory of one fit, relative to the size of X.

From the repository root::

    python benchmarks/memory.py                 # 200,000 x 200 float64
    python benchmarks/memory.py --n 50000       # smaller
    python benchmarks/memory.py --family        # LassoCV, lasso_path, sparse X
    python benchmarks/memory.py --family --only dense "Lasso, sparse"

``--family`` measures issue 11's cases, each fitted twice in its process
(the second fit is measured, so no compilation is counted), beside
scikit-learn's on the same data: ``LassoCV(cv=5)`` and ``lasso_path`` on a
dense 5,000 x 4,000 X, ``Lasso`` and ``LassoCV(cv=5)`` on a sparse
200,000 x 200,000 X with 4 million stored entries. Its bound is 2x the size
of X (dense) or of X's stored entries (sparse), plus one p x p Gram matrix
where the Gram form is used. It writes ``benchmarks/results_memory_family.md``.
It is slow: tflasso's sparse ``LassoCV`` is (one fit of a 40,000 x 40,000
sparse X took 382 s on the quiet machine; at 200,000 x 200,000 one did not
finish in 24 minutes under load), a performance problem of issue 11.

Each case runs in a fresh subprocess that imports TensorFlow and tflasso,
builds X and y, optionally warms the solver up on a tiny problem, resets the
kernel's peak-RSS counter (``/proc/self/clear_refs``), and fits. The figure
is the peak RSS during the fit (``VmHWM``) minus the RSS just before it,
divided by ``X.nbytes``. Writes ``benchmarks/results_memory.md`` (keeping
any ``## Notes`` section already below the table).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (label, Lasso parameters, dtype, weighted, warm up first)
# (200,000 x 200 is past 'auto''s Gram budget: 'auto' means working sets there.)
CASES = [
    ("auto (working sets), cold", {}, "float64", False, False),
    ("auto (working sets)", {}, "float64", False, True),
    ("auto (working sets), sample_weight", {}, "float64", True, True),
    ("auto (working sets), float32 X", {}, "float32", False, True),
    ("Gram (precompute=True)", {"precompute": True}, "float64", False, True),
    ("operator (precompute=False)", {"precompute": False}, "float64", False, True),
]
LIMIT = 3.0  # the bound, in multiples of X.nbytes
NOTES = "## Notes"


def _status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def child(n, p, params, dtype, weighted, warm):
    """Fit once in this process; print a JSON line of byte counts."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    sys.path.insert(0, str(HERE.parent))
    from tflasso import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p)).astype(dtype, copy=False)
    y = (X[:, :10] @ rng.uniform(1, 2, 10) + rng.standard_normal(n)).astype(dtype)
    sw = rng.uniform(0.5, 2, n) if weighted else None
    if warm:  # compile and start TensorFlow's runtime outside the measurement
        Lasso(alpha=0.1, **params).fit(X[:500], y[:500])
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    start = time.perf_counter()
    model = Lasso(alpha=0.1, **params).fit(X, y, sample_weight=sw)
    seconds = time.perf_counter() - start
    print(json.dumps({"x_bytes": X.nbytes, "baseline": baseline,
                      "peak": _status("VmHWM"), "seconds": seconds,
                      "n_iter": model.n_iter_}))


# (label, library, estimator, data); data "dense" is 5,000 x 4,000 float64,
# "sparse" 200,000 x 200,000 CSC at density 1e-4.
FAMILY = [
    ("LassoCV(cv=5), dense", "tflasso", "LassoCV", "dense"),
    ("LassoCV(cv=5), dense", "scikit-learn", "LassoCV", "dense"),
    ("lasso_path, dense", "tflasso", "path", "dense"),
    ("lasso_path, dense", "scikit-learn", "path", "dense"),
    ("Lasso, sparse", "tflasso", "Lasso", "sparse"),
    ("Lasso, sparse", "scikit-learn", "Lasso", "sparse"),
    ("LassoCV(cv=5), sparse", "tflasso", "LassoCV", "sparse"),
    ("LassoCV(cv=5), sparse", "scikit-learn", "LassoCV", "sparse"),
]


def family_child(library, estimator, data):
    """Fit twice in this process, measure the second; print a JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    import numpy as np
    from scipy import sparse

    sys.path.insert(0, str(HERE.parent))
    if library == "tflasso":
        import tflasso as lib
    else:
        import sklearn.linear_model as lib
    rng = np.random.default_rng(0)
    if data == "dense":
        X = rng.standard_normal((5_000, 4_000))
        x_bytes, gram_bytes = X.nbytes, 8 * X.shape[1] ** 2
    else:
        X = sparse.random(200_000, 200_000, density=1e-4, format="csc", random_state=rng)
        x_bytes, gram_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes, 0
    y = np.asarray(X[:, :20] @ rng.uniform(1, 2, 20)).ravel()
    y += 0.5 * rng.standard_normal(X.shape[0])
    alpha = 0.1 * np.abs(X.T @ (y - y.mean())).max() / X.shape[0]

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if estimator == "Lasso":
                return lib.Lasso(alpha=alpha).fit(X, y)
            if estimator == "LassoCV":
                return lib.LassoCV(cv=5).fit(X, y)
            return lib.lasso_path(X, y)

    fit()
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    start = time.perf_counter()
    fit()
    seconds = time.perf_counter() - start
    print(json.dumps({"x_bytes": x_bytes, "gram_bytes": gram_bytes, "baseline": baseline,
                      "peak": _status("VmHWM"), "seconds": seconds}))


def family(out, only=None):
    rows = []
    for label, library, estimator, data in FAMILY:
        if only and not any(word in label for word in only):
            continue
        code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import memory; "
                f"memory.family_child({library!r}, {estimator!r}, {data!r})")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stderr[-2000:])
            raise SystemExit(f"{label} ({library}) failed")
        rows.append({"label": label, "library": library,
                     **json.loads(done.stdout.strip().splitlines()[-1])})
        print(rows[-1], flush=True)
    lines = [
        "Peak memory of issue 11's cases: peak RSS during a fit above the RSS just "
        "before it (the second of two identical fits in one process, so no "
        "compilation is counted), measured by `benchmarks/memory.py --family`. "
        "Dense X is 5,000 x 4,000 float64; sparse X is 200,000 x 200,000 CSC with "
        "4 million stored entries (density 1e-4), its size the bytes of "
        "`data`, `indices` and `indptr`. The bound is 2x the size of X plus one "
        "p x p Gram matrix (122 MB here) for dense X.",
        "",
        "| fit | library | X (MB) | peak above baseline (MB) | x size of X | bound (MB) | fit (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        extra = row["peak"] - row["baseline"]
        bound = 2 * row["x_bytes"] + row["gram_bytes"]
        mark = "" if extra <= bound or row["library"] != "tflasso" else " (over)"
        lines.append(
            f"| {row['label']} | {row['library']} | {row['x_bytes'] / 2**20:.0f} "
            f"| {extra / 2**20:.0f}{mark} | {extra / row['x_bytes']:.2f} "
            f"| {bound / 2**20:.0f} | {row['seconds']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    _write(out, text)


def _write(out, text):
    """Write ``text``, keeping the hand-written ``## Notes`` below the old table."""
    old = out.read_text() if out.exists() else ""
    notes = old[old.find(NOTES):] if NOTES in old else ""
    out.write_text(text + ("\n" + notes if notes else ""))


def measure(n, p, case):
    label, params, dtype, weighted, warm = case
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import memory; "
            f"memory.child({n}, {p}, {params!r}, {dtype!r}, {weighted}, {warm})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return {"label": label, **result}


def table(n, p, rows):
    x_mb = rows[0]["x_bytes"] / 2**20
    lines = [
        f"Peak memory of one `Lasso(alpha=0.1).fit` on a {n:,} x {p} problem "
        f"(X of float64 is {x_mb:.0f} MB); peak RSS during the fit above the RSS "
        "just before it, measured by `benchmarks/memory.py`. *Cold* includes "
        "TensorFlow's first-call compilation; the other rows warm up on a tiny "
        "problem first.",
        "",
        "| fit | X (MB) | peak above baseline (MB) | x size of X | fit (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        extra = row["peak"] - row["baseline"]
        lines.append(
            f"| {row['label']} | {row['x_bytes'] / 2**20:.0f} | {extra / 2**20:.0f} "
            f"| {extra / row['x_bytes']:.2f} | {row['seconds']:.2f} |"
        )
    worst = max((r["peak"] - r["baseline"]) / r["x_bytes"] for r in rows)
    verdict = "within" if worst <= LIMIT else "OVER"
    lines += ["", f"Worst case {worst:.2f}x the size of X: {verdict} the {LIMIT:g}x "
              "bound of issue 6.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "results_memory.md")
    parser.add_argument("--family", action="store_true",
                        help="issue 11's cases: LassoCV, lasso_path, sparse X")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="with --family, the cases whose label contains one of these")
    args = parser.parse_args(argv)
    if args.family:
        return family(HERE / "results_memory_family.md", args.only)
    rows = [measure(args.n, args.p, case) for case in CASES]
    text = table(args.n, args.p, rows)
    print(text)
    _write(args.out, text)


if __name__ == "__main__":
    main()
