"""First fits in a fresh process: what one fit costs a new Python process.

From the repository root::

    python benchmarks/first_fit.py                       # diabetes, dense, wide, spectra
    python benchmarks/first_fit.py --datasets diabetes   # one set

Each case runs in a fresh subprocess that imports TensorFlow (untimed, as the
issue asks: "after import tensorflow"), builds the data (untimed), then times
tflasso's first ``Lasso`` fit and the median of ``--warm`` more; scikit-learn's
first and warm fits are timed the same way in their own fresh process. With
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
FRACTIONS = (0.1, 0.01)


def child(library, dataset, fraction, warm):
    """Time the first and warm fits in this (fresh) process; print JSON."""
    import time

    import numpy as np

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if library == "tflasso":
        import tensorflow  # noqa: F401  (untimed: the issue's "after import tensorflow")
    sys.path.insert(0, str(HERE.parent))
    from benchmarks import datasets

    X, y = datasets.load(dataset)
    alpha = fraction * datasets.alpha_max(X, y)
    if library == "tflasso":
        from tflasso import Lasso
    else:
        from sklearn.linear_model import Lasso
    times = []
    for _ in range(1 + warm):
        start = time.perf_counter()
        model = Lasso(alpha=alpha).fit(X, y)
        times.append(time.perf_counter() - start)
    print(json.dumps({"first": times[0], "warm": float(np.median(times[1:])),
                      "n_iter": int(model.n_iter_)}))


def run(library, dataset, fraction, warm, env=None):
    out = subprocess.run(
        [sys.executable, __file__, "--child", library, dataset, str(fraction), str(warm)],
        capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seconds(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["diabetes", "dense", "wide", "spectra"])
    parser.add_argument("--warm", type=int, default=3, help="warm fits after the first")
    parser.add_argument("--cache", action="store_true",
                        help="also time tflasso with the persistent XLA cache")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    from benchmarks import report

    rows = []
    load = [os.getloadavg()[0]]
    for dataset in args.datasets:
        for fraction in FRACTIONS:
            row = {"case": f"{dataset} {fraction:g}",
                   "sklearn": run("sklearn", dataset, fraction, args.warm),
                   "tflasso": run("tflasso", dataset, fraction, args.warm)}
            if args.cache:
                with tempfile.TemporaryDirectory() as cache:
                    env = {"TF_XLA_FLAGS": f"--tf_xla_persistent_cache_directory={cache}"}
                    run("tflasso", dataset, fraction, 0, env)
                    row["cached"] = run("tflasso", dataset, fraction, args.warm, env)
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
        "(untimed), data built (untimed), then the first `Lasso` fit, then the median "
        f"of {args.warm} more. Goal (issue 11): tflasso's first fit within 1 s of its "
        "warm fit.",
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
        library, dataset, fraction, warm = sys.argv[2:6]
        child(library, dataset, float(fraction), int(warm))
    else:
        main()
