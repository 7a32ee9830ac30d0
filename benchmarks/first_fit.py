"""First fits in a fresh process: what one fit costs a new Python process.

From the repository root::

    python benchmarks/first_fit.py                       # diabetes, dense, wide, spectra
    python benchmarks/first_fit.py --datasets diabetes   # one set
    python benchmarks/first_fit.py --kinds path cv       # lasso_path and LassoCV only

Each case runs in a fresh subprocess that imports TensorFlow (untimed, as the
issue asks: "after import tensorflow"), builds the data (untimed), then times
tflasso's first call and the median of ``--warm`` more; scikit-learn's first
and warm calls are timed the same way in their own fresh process. The calls
(``--kinds``): ``Lasso`` fits at 0.1 and 0.01 ``alpha_max``, ``lasso_path``
(100 alphas, on centred dense data as ``bench_family.py`` runs it) and
``LassoCV(cv=5)``. With
``--cache``, every tflasso case runs twice more with TensorFlow's persistent
XLA compilation cache (``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory``,
a fresh directory per case): the first run fills it, the second is what a
later process (a ``GridSearchCV(n_jobs=...)`` worker, a rerun) pays.
Writes ``benchmarks/results_first_fit.md``.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {"single": ("0.1", "0.01"), "path": ("path",), "cv": ("cv",)}


def child(library, dataset, case, warm):
    """Time the first and warm calls of ``case`` in this (fresh) process;
    print JSON."""
    import time

    import numpy as np
    from scipy import sparse

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if library == "tflasso":
        import tensorflow  # noqa: F401  (untimed: the issue's "after import tensorflow")
    sys.path.insert(0, str(HERE.parent))
    from benchmarks import datasets

    X, y = datasets.load(dataset)
    if library == "tflasso":
        from tflasso import Lasso, LassoCV, lasso_path
    else:
        from sklearn.linear_model import Lasso, LassoCV, lasso_path
    if case == "path":
        if sparse.issparse(X):
            X = X.tocsc()
        else:  # the problem LassoCV solves on each fold, as bench_family.py
            X, y = X - X.mean(axis=0), y - y.mean()

        def call():
            return lasso_path(X, y, alphas=100)
    elif case == "cv":
        def call():
            return LassoCV(cv=5).fit(X, y)
    else:
        alpha = float(case) * datasets.alpha_max(X, y)

        def call():
            return Lasso(alpha=alpha).fit(X, y)
    times = []
    for _ in range(1 + warm):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"first": times[0], "warm": float(np.median(times[1:]))}))


def run(library, dataset, case, warm, env=None):
    out = subprocess.run(
        [sys.executable, __file__, "--child", library, dataset, case, str(warm)],
        capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seconds(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["diabetes", "dense", "wide", "spectra"])
    parser.add_argument("--kinds", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--warm", type=int, default=3, help="warm calls after the first")
    parser.add_argument("--cache", action="store_true",
                        help="also time tflasso with the persistent XLA cache")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    from benchmarks import report

    rows = []
    load = [os.getloadavg()[0]]
    cases = [case for kind in args.kinds for case in CASES[kind]]
    for dataset in args.datasets:
        for case in cases:
            row = {"case": f"{dataset} {case}",
                   "sklearn": run("sklearn", dataset, case, args.warm),
                   "tflasso": run("tflasso", dataset, case, args.warm)}
            if args.cache:
                with tempfile.TemporaryDirectory() as cache:
                    env = {"TF_XLA_FLAGS": f"--tf_xla_persistent_cache_directory={cache}"}
                    run("tflasso", dataset, case, 0, env)
                    row["cached"] = run("tflasso", dataset, case, args.warm, env)
            rows.append(row)
            t = row["tflasso"]
            print(f"{row['case']:14} tflasso first {t['first']:.3f} s warm {t['warm']:.4f} s"
                  f"  sklearn first {row['sklearn']['first']:.3f} s", flush=True)
    load.append(os.getloadavg()[0])
    meta = report.machine()
    lines = [
        "# First fits in a fresh process",
        "",
        f"- Command: `python benchmarks/first_fit.py {' '.join(argv or sys.argv[1:])}`",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"load average {load[0]:.2f} at start, {load[1]:.2f} at end",
        f"- Machine: {meta['cores']} cores, {meta['cpu']}, {meta['memory']}, "
        f"Python {meta['python']}",
        f"- tflasso commit: {meta['commit']}",
        "",
        "Each cell is one fresh process per library and case: TensorFlow imported "
        "(untimed), data built (untimed), then the first call, then the median "
        f"of {args.warm} more: `Lasso` at 0.1 and 0.01 alpha_max, `lasso_path` (100 "
        "alphas; dense data centred) and `LassoCV(cv=5)`. Goal (issue 11): tflasso's "
        "first fit within 1 s of its warm fit.",
        "",
        "| case | tflasso first | tflasso warm | first - warm | within 1 s | "
        "scikit-learn first | scikit-learn warm |"
        + (" first with XLA cache | first - warm, cached |" if args.cache else ""),
        "|---|---|---|---|---|---|---|" + ("---|---|" if args.cache else ""),
    ]
    for row in rows:
        t, s = row["tflasso"], row["sklearn"]
        extra = t["first"] - t["warm"]
        line = (f"| {row['case']} | {_seconds(t['first'])} | {_seconds(t['warm'])} | "
                f"{_seconds(extra)} | {'yes' if extra <= 1 else '**no**'} | "
                f"{_seconds(s['first'])} | {_seconds(s['warm'])} |")
        if args.cache:
            c = row["cached"]
            line += f" {_seconds(c['first'])} | {_seconds(c['first'] - c['warm'])} |"
        lines.append(line)
    (HERE / "results_first_fit.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        library, dataset, case, warm = sys.argv[2:6]
        child(library, dataset, case, int(warm))
    else:
        main()
