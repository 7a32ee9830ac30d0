"""Time tflasso.Lasso against scikit-learn, skglm, celer and TensorFlow first tries.

From the repository root::

    python benchmarks/run.py            # everything, about 10 minutes on 2 cores
    python benchmarks/run.py --quick    # diabetes and dense only, a minute or two

The full run writes ``benchmarks/results.md`` (the table the docs show),
``benchmarks/ratios.png`` and ``benchmarks/results.json``; ``--quick`` writes
the same files under ``benchmarks/quick/`` instead. Needs the ``bench`` extra
(``pip install -e ".[bench]"``). See ``--help`` for the knobs.
"""

import argparse
import datetime
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import datasets  # noqa: E402

# Baseline budget of each dataset, as a fraction of the dense set's ``--budget``.
BUDGET_SHARE = {"diabetes": 1 / 6, "dense": 1, "tall": 1 / 3, "wide": 1 / 3, "sparse": 1 / 3,
                "spectra": 1 / 6, "fingerprints": 1 / 3, "tfidf": 1 / 3}
FRACTIONS = (0.1, 0.01)
QUICK = {"datasets": ["diabetes", "dense"], "repeats": 3, "cell_seconds": 5.0,
         "budget": 6.0, "tight_tol": 0.0, "grid_repeats": 2}


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small subset with short budgets, for iterating")
    parser.add_argument("--datasets", nargs="+", choices=list(datasets.GENERATORS),
                        default=[n for n in datasets.GENERATORS if n not in datasets.FAMILY])
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per solver")
    parser.add_argument("--cell-seconds", type=float, default=20.0,
                        help="stop repeating a solver once its fits took this long")
    parser.add_argument("--single-fit-seconds", type=float, default=120.0,
                        help="a tflasso first fit this slow is the only, timed, fit")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds for each baseline on the dense set (others less)")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--tight-tol", type=float, default=1e-8,
                        help="a second, tighter tol for the solvers (0 to skip)")
    parser.add_argument("--tight-datasets", nargs="+", default=["diabetes", "dense", "tall"])
    parser.add_argument("--max-iter", type=int, default=10_000,
                        help="max_iter of scikit-learn and tflasso")
    parser.add_argument("--skglm-tol-factor", type=float, default=1e-4)
    parser.add_argument("--keras-lr", type=float, default=1e-3)
    parser.add_argument("--adam-lr", type=float, default=1e-2)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--grid-repeats", type=int, default=5,
                        help="GridSearchCV repeats (0 to skip)")
    parser.add_argument("--out", default=None, help="output stem under benchmarks/ (default: results, or quick/results)")
    parser.add_argument("--tflasso-rev", default=None,
                        help="benchmark tflasso as committed at this git revision "
                        "(default: the working tree)")
    args = parser.parse_args(argv)
    if args.quick:
        defaults = {a.dest: a.default for a in parser._actions}
        for key, value in QUICK.items():
            if getattr(args, key) == defaults[key]:
                setattr(args, key, value)
    return args


def import_revision(rev):
    """Put a read-only export of ``tflasso/`` at ``rev`` first on the import path."""
    root = tempfile.mkdtemp(prefix="tflasso-bench-")
    archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", rev, "tflasso"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
    sys.path.insert(0, root)


def run_case(args, dataset, X, y, fraction):
    alpha = fraction * datasets.alpha_max(X, y)
    case = {"dataset": dataset, "fraction": fraction, "alpha": alpha, "runs": {},
            "reference": suite.reference(X, y, alpha)}
    tols = [args.tol]
    if args.tight_tol and dataset in args.tight_datasets:
        tols.append(args.tight_tol)
    for tol in tols:
        factories = suite.estimators(alpha, tol, args.max_iter, args.skglm_tol_factor)
        records = suite.time_solvers(X, y, alpha, tol, factories, args.repeats,
                                     args.cell_seconds, args.single_fit_seconds)
        if tol == args.tol and not args.no_baselines:
            budget = args.budget * BUDGET_SHARE[dataset]
            rates = {"keras_l1": args.keras_lr, "adam_tape": args.adam_lr}
            records += suite.run_baselines(X, y, alpha, tol, budget, rates)
        case["runs"][tol] = records
        for r in records:
            print(f"{dataset:9} {fraction:<5g} {tol:<6g} {r['method']:9} "
                  f"{r['median']:9.4f} s  gap/tol {r['gap_over_tol']:.2g}  "
                  f"zeros {r['zeros']}", flush=True)
    best = min(r["objective"] for records in case["runs"].values() for r in records)
    for records in case["runs"].values():
        for r in records:
            r["subopt"] = (r["objective"] - best) / abs(best)
    return case


def main(argv=None):
    args = parse(argv)
    if args.tflasso_rev:
        import_revision(args.tflasso_rev)
    global gridsearch, report, suite
    from benchmarks import gridsearch, report, suite
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    stem = args.out or ("quick/results" if args.quick else "results")
    plot_name = stem.replace("results", "ratios") + ".png"
    (HERE / stem).parent.mkdir(parents=True, exist_ok=True)
    skglm_jit = suite.warm_up_skglm()
    cases = []
    for dataset in args.datasets:
        X, y = datasets.load(dataset)
        cases += [run_case(args, dataset, X, y, f) for f in FRACTIONS]
        del X, y
        datasets.release(dataset)
    grid = gridsearch.compare(args.grid_repeats) if args.grid_repeats else None
    if grid:
        print(f"GridSearchCV: sklearn {grid['sklearn']:.3f} s, tflasso "
              f"{grid['tflasso']:.3f} s, ratio {grid['ratio']:.2f}", flush=True)
    meta = {
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]
                              if argv is None else ["python", "benchmarks/run.py", *argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration": time.perf_counter() - start,
        "load": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "machine": report.machine(args.tflasso_rev),
        "tol": args.tol,
        "skglm_tol_factor": args.skglm_tol_factor,
        "learning_rates": {"keras_l1": args.keras_lr, "adam_tape": args.adam_lr},
        "plot": plot_name,
    }
    report.plot(cases, args.tol, HERE / plot_name)
    (HERE / f"{stem}.md").write_text(report.markdown(meta, cases, grid, skglm_jit) + "\n")
    report.dump(meta, cases, grid, skglm_jit, HERE / f"{stem}.json")
    print(f"wrote {HERE / stem}.md, {HERE / plot_name} in {meta['duration'] / 60:.1f} min")


if __name__ == "__main__":
    main()
