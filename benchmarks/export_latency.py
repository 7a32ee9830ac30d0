"""Batch prediction: the exported SavedModel against the pipeline's ``predict``.

From the repository root::

    python benchmarks/export_latency.py            # writes benchmarks/results_export.md
    python benchmarks/export_latency.py --quick    # fewer batch sizes, shorter timing
    python benchmarks/export_latency.py --shared   # say so when the machine is busy

Two fitted pipelines (a scaled lasso on 100 columns, and a lasso on the 231
degree-2 polynomial features of 20 columns), each exported with
``tflasso.export_saved_model`` and loaded with ``tf.saved_model.load``. For each
batch size, the median wall time of repeated calls after one warm-up call:
``pipeline.predict(X)`` (numpy and scikit-learn), and the SavedModel's
``serving_default`` and ``serving_float32`` signatures called on a numpy batch
(the conversion to a tensor and back included, as a Python caller pays it).
Throughput is rows per second at the median. The fits are not timed.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's tflasso, not an installed one
BATCHES = [1, 100, 10_000, 100_000]
QUICK_BATCHES = [1, 1_000]


def pipelines(rng):
    """``(label, fitted pipeline, n_features)``, each selecting some of its features."""
    import numpy as np
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    from tflasso import Lasso

    cases = []
    for label, p, steps, alpha in [
        ("StandardScaler + Lasso, 100 columns", 100, [StandardScaler()], 0.1),
        ("poly(2) of 20 columns + Lasso", 20,
         [StandardScaler(), PolynomialFeatures(2), StandardScaler()], 0.1),
    ]:
        X = rng.standard_normal((2_000, p))
        y = X[:, :5] @ np.arange(1.0, 6.0) + X[:, 0] * X[:, 1] + rng.standard_normal(2_000)
        model = make_pipeline(*steps, Lasso(alpha=alpha)).fit(X, y)
        selected = int(np.count_nonzero(model[-1].coef_))
        cases.append((f"{label}, {selected} of {model[-1].coef_.size} selected", model, p))
    return cases


def median_seconds(call, budget):
    """Median time of ``call()`` over repeats filling about ``budget`` seconds (>= 5)."""
    import numpy as np

    call()  # warm-up: the first call of a loaded function pays for its set-up
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < budget:
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return float(np.median(times))


def measure(batches, budget):
    import numpy as np
    import tensorflow as tf

    from tflasso import export_saved_model

    rng = np.random.default_rng(0)
    rows = []
    for label, model, p in pipelines(rng):
        loaded = tf.saved_model.load(export_saved_model(model, tempfile.mkdtemp()))
        serve64 = loaded.signatures["serving_default"]
        serve32 = loaded.signatures["serving_float32"]
        for n in batches:
            X = rng.standard_normal((n, p))
            X32 = X.astype(np.float32)
            timings = {
                "predict": median_seconds(lambda: model.predict(X), budget),
                "SavedModel float64": median_seconds(
                    lambda: serve64(inputs=tf.constant(X))["predictions"].numpy(), budget),
                "SavedModel float32": median_seconds(
                    lambda: serve32(inputs=tf.constant(X32))["predictions"].numpy(), budget),
            }
            rows.append((label, n, timings))
            print(label, n, {k: f"{v * 1e3:.3f} ms" for k, v in timings.items()}, flush=True)
    return rows


def table(rows):
    lines = ["| model | batch | method | median latency (ms) | throughput (rows/s) | "
             "vs predict |", "|---|---:|---|---:|---:|---:|"]
    for label, n, timings in rows:
        for method, seconds in timings.items():
            lines.append(f"| {label} | {n:,} | {method} | {seconds * 1e3:.3f} | "
                         f"{n / seconds:,.0f} | {timings['predict'] / seconds:.2f}x |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two batch sizes, short timing")
    parser.add_argument("--out", type=Path, default=HERE / "results_export.md")
    parser.add_argument("--shared", action="store_true",
                        help="say in the results that the machine was busy with other work")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    batches, budget = (QUICK_BATCHES, 0.2) if args.quick else (BATCHES, 1.0)
    rows = measure(batches, budget)
    header = [
        "# Batch prediction: SavedModel vs predict",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores, TensorFlow {tf.__version__}, "
        "`python benchmarks/export_latency.py`. "
        + ("The machine was shared with other work while this ran, so the times are "
           "noisy; the ratios, measured in the same run, are the figures to read. "
           if args.shared else "")
        + "`vs predict` above 1 means faster than `predict`.",
        "",
    ]
    args.out.write_text("\n".join(header + table(rows)) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
