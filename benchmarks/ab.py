"""Before/after timing of two tflasso revisions, interleaved to cancel machine drift.

From the repository root::

    python benchmarks/ab.py 21f7c7f            # that revision against the working tree
    python benchmarks/ab.py 21f7c7f HEAD --rounds 10 --datasets diabetes dense

Each round starts one fresh process per revision, in alternating order; a
process loads the datasets, warms tflasso up (compiles) with one fit per case,
then times tflasso and scikit-learn interleaved on every case. The table gives,
per case, the median over rounds of each process's median fit time, and the
ratio to scikit-learn's time measured in the same processes, so that a
slower or faster machine moves both sides. Run it on a quiet machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FRACTIONS = (0.1, 0.01)


def export(rev):
    """A directory holding ``tflasso/`` as committed at ``rev``."""
    root = tempfile.mkdtemp(prefix=f"tflasso-ab-{rev[:10]}-")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tflasso"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    return root


def child(names, fits, tol, max_iter):
    """Time every case in this process; print one JSON line."""
    import time
    import warnings

    from sklearn.linear_model import Lasso as SklearnLasso

    import tflasso
    from benchmarks import datasets

    out = {"tflasso_file": tflasso.__file__, "cases": []}
    for name in names:
        X, y = datasets.load(name)
        for fraction in FRACTIONS:
            alpha = fraction * datasets.alpha_max(X, y)
            makers = {"tflasso": lambda: tflasso.Lasso(alpha=alpha, tol=tol, max_iter=max_iter),
                      "sklearn": lambda: SklearnLasso(alpha=alpha, tol=tol, max_iter=max_iter)}
            times = {key: [] for key in makers}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                makers["tflasso"]().fit(X, y)  # compile
                for _ in range(fits):
                    for key, make in makers.items():
                        estimator = make()
                        start = time.perf_counter()
                        estimator.fit(X, y)
                        times[key].append(time.perf_counter() - start)
            out["cases"].append({"dataset": name, "fraction": fraction,
                                 **{key: statistics.median(t) for key, t in times.items()}})
        datasets.release(name)
    print("AB-RESULT " + json.dumps(out), flush=True)


def run_round(path, args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([path, str(ROOT)]),
               TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, str(Path(__file__)), "--child", "--datasets", *args.datasets,
               "--fits", str(args.fits), "--tol", str(args.tol), "--max-iter", str(args.max_iter)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    for line in done.stdout.splitlines():
        if line.startswith("AB-RESULT "):
            return json.loads(line[len("AB-RESULT "):])
    sys.exit(f"a timing process failed:\n{done.stderr[-3000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", nargs="?", help="git revision to compare against")
    parser.add_argument("after", nargs="?", default=None,
                        help="git revision (default: the working tree)")
    parser.add_argument("--datasets", nargs="+", default=["diabetes", "dense", "tall", "wide"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--fits", type=int, default=5, help="timed fits per case and process")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=10_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.datasets, args.fits, args.tol, args.max_iter)
    if args.before is None:
        parser.error("the revision to compare against (before) is required")

    paths = {"before": export(args.before),
             "after": export(args.after) if args.after else str(ROOT)}
    labels = {"before": args.before, "after": args.after or "working tree"}
    rounds = {key: [] for key in paths}
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for i in range(args.rounds):
        order = ["before", "after"] if i % 2 == 0 else ["after", "before"]
        for key in order:
            rounds[key].append(run_round(paths[key], args))
        print(f"round {i + 1}/{args.rounds} done", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}\n")
    print(f"| set | alpha / alpha_max | {labels['before']} | {labels['after']} | "
          "change in own time |")
    print("|---|---|---|---|---|")
    for index, case in enumerate(rounds["before"][0]["cases"]):
        cells = []
        own = {}
        for key in ("before", "after"):
            mine = statistics.median(r["cases"][index]["tflasso"] for r in rounds[key])
            ratio = statistics.median(r["cases"][index]["tflasso"] / r["cases"][index]["sklearn"]
                                      for r in rounds[key])
            own[key] = mine
            cells.append(f"{ratio:.2f}x ({mine * 1e3:.3g} ms)")
        change = own["after"] / own["before"] - 1
        print(f"| {case['dataset']} | {case['fraction']:g} | {cells[0]} | {cells[1]} | "
              f"{change:+.0%} |")


if __name__ == "__main__":
    main()
