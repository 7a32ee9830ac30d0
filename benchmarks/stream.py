"""Streaming: the statistics pass of ``fit(stream)`` over data too large for memory.

From the repository root::

    python benchmarks/stream.py                        # 6,000,000 x 100 float64 (4.8 GB)
    python benchmarks/stream.py --rows 200000          # a quick check
    python benchmarks/stream.py --workers 1 2 --write  # writes benchmarks/results_stream.md

The data are never materialised: batch ``b`` (``--batch`` rows) is drawn from
``numpy.random.default_rng([seed, b])`` when it is needed, so every process
can make any batch. Each measurement runs in a fresh process:

- **numpy**: ``X.T @ X`` and ``X.T @ y`` of every batch, summed (the BLAS
  limit of this machine for these statistics);
- **tflasso**: one process's statistics pass (``_stream.stream_moments``, what
  ``fit(stream)`` runs), then the Gram-form ``Lasso`` solve from it, timed apart;
- **N workers**: N processes on 127.0.0.1 with ``TF_CONFIG``, each under
  ``MultiWorkerMirroredStrategy`` streaming the batches ``b`` with
  ``b % N == index`` (its shard); the pass includes the all-reduce.

The times exclude drawing the batches (timed on its own and subtracted), and
TensorFlow's compilation (a warm-up pass on two small batches first). The peak
RSS is each process's ``ru_maxrss``, TensorFlow's import included. On the
2-core machine, two workers share the cores that one process's BLAS already
uses, so their time shows the cost of the collectives and of running twice the
processes, not a speed-up; on separate machines each would stream half the rows.
"""

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RSS_LIMIT_MB = 1024  # the bound
SEED = 0


def batches(rows, features, batch, worker=0, n_workers=1, clock=None):
    """The ``(X, y)`` batches of ``worker``'s shard; ``clock[0]`` sums the time drawing them."""
    coef = np.zeros(features)
    coef[: min(10, features)] = np.linspace(2.0, -1.0, min(10, features))
    for b in range(worker, -(-rows // batch), n_workers):
        start = time.perf_counter()
        rng = np.random.default_rng([SEED, b])
        m = min(batch, rows - b * batch)
        X = rng.standard_normal((m, features))
        X += 1.0  # non-zero means: the shift matters
        y = X @ coef + rng.standard_normal(m)
        if clock is not None:
            clock[0] += time.perf_counter() - start
        yield X, y


def _status_mb(field):
    """A field of ``/proc/self/status`` (VmRSS, VmHWM, RssFile, ...) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_peak():
    """From here, VmHWM is the peak RSS of what follows; returns the RSS now (MB)."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


class _PrivatePeak(threading.Thread):
    """Samples the process's private memory (``RssAnon``: RSS less the pages of files,
    shared libraries mostly) every 5 ms; ``peak`` is its largest value (MB)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0.0
        self.start()

    def run(self):
        while True:
            self.peak = max(self.peak, _status_mb("RssAnon"))
            time.sleep(0.005)


def _report(**values):
    """One JSON line: ``values``, the peak RSS since the warm-up and the process's."""
    print("RESULT " + json.dumps({
        **values, "pass_peak_mb": _status_mb("VmHWM"), "files_mb": _status_mb("RssFile"),
        "private_peak_mb": max(_SAMPLER.peak, _status_mb("RssAnon")),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }), flush=True)


def numpy_child(rows, features, batch):
    baseline = before = _reset_peak()
    clock, start, cpu = [0.0], time.perf_counter(), time.process_time()
    xx, xy = np.zeros((features, features)), np.zeros(features)
    for X, y in batches(rows, features, batch, clock=clock):
        xx += X.T @ X
        xy += X.T @ y
    _report(seconds=time.perf_counter() - start - clock[0], draw=clock[0],
            cpu=time.process_time() - cpu, checksum=float(xx.sum()), baseline_mb=baseline,
            before_mb=before)


def tflasso_child(rows, features, batch, strategy=None):
    import tensorflow as tf  # noqa: F401 (imported before the clock starts)

    from tflasso import Lasso
    from tflasso._stream import Replay, stream_moments

    baseline = _status_mb("VmRSS")  # after importing TensorFlow
    # Compiles the pass and the solver (not timed, its memory not in the pass's peak).
    Lasso(alpha=0.01).fit(Replay(stream_moments(batches(2 * batch, features, batch))))
    before = _reset_peak()
    worker, n_workers = 0, 1
    if strategy is not None:
        worker = strategy.cluster_resolver.task_id
        n_workers = strategy.num_replicas_in_sync
    clock, start, cpu = [0.0], time.perf_counter(), time.process_time()
    shard = batches(rows, features, batch, worker, n_workers, clock)
    if strategy is None:
        streamed = stream_moments(shard)
    else:
        with strategy.scope():
            streamed = stream_moments(shard)
    seconds, cpu = time.perf_counter() - start - clock[0], time.process_time() - cpu
    start = time.perf_counter()
    model = Lasso(alpha=0.01).fit(Replay(streamed))
    # The moments are about the means: the raw X^T X of the numpy child is s xx_c + ...
    total = streamed.moments.about(-streamed.shift[0], -streamed.shift[1])
    _report(seconds=seconds, draw=clock[0], cpu=cpu, solve=time.perf_counter() - start,
            rows=int(streamed.n_rows), nonzero=int(np.count_nonzero(model.coef_)),
            checksum=float(total.xx.sum()), baseline_mb=baseline, before_mb=before)


def worker_child(rows, features, batch):
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any other op
    tflasso_child(rows, features, batch, strategy)


def _results(outputs):
    return [json.loads(line[len("RESULT "):]) for out in outputs
            for line in out.splitlines() if line.startswith("RESULT ")]


def _example():
    spec = importlib.util.spec_from_file_location(
        "distributed_lasso", ROOT / "examples" / "distributed_lasso.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(kind, rows, features, batch, n_workers=1, timeout=7200):
    """The children's results for one row of the table."""
    command = [sys.executable, __file__, "--child", kind, "--rows", str(rows),
               "--features", str(features), "--batch", str(batch)]
    env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    example = _example()
    if kind == "worker":
        processes = example.start_workers(command, n_workers, env)
    else:
        processes = [subprocess.Popen(command, env={**os.environ, **env}, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)]
    return _results(example.wait_all(processes, timeout))


def table(rows, features, batch, measured):
    size = rows * features * 8 / 1e9
    lines = [
        f"The statistics pass over {rows:,} x {features} float64 rows ({size:.1f} GB if "
        f"materialised), in batches of {batch:,} rows drawn one at a time, measured by "
        "`benchmarks/stream.py`. Times exclude drawing the batches and compiling; rows/s "
        "is all the rows over the slowest process's time. Memory is per process (the "
        "largest): its RSS after the imports, before the measured pass (after a warm-up "
        "pass and solve that compile them), its peak over the pass and solve, that peak "
        "less the RSS before them (what the batches cost), `ru_maxrss`, the peak of "
        "the whole process, TensorFlow's import and first compilations included, and the "
        "peak of its private memory (`RssAnon`, sampled every 5 ms: the RSS less the "
        "pages of files, TensorFlow's shared libraries mostly).",
        "",
        "| statistics pass | processes | seconds | rows/s | CPU s (all) | imports (MB) "
        "| before (MB) | peak (MB) | peak - before (MB) | ru_maxrss (MB) | private peak (MB) "
        "| solve (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, results in measured:
        seconds = max(r["seconds"] for r in results)
        solve = f"{results[0]['solve']:.3f}" if "solve" in results[0] else ""
        top = max(results, key=lambda r: r["peak_rss_mb"])
        lines.append(
            f"| {label} | {len(results)} | {seconds:.2f} | {rows / seconds:,.0f} | "
            f"{sum(r['cpu'] for r in results):.1f} | {top['baseline_mb']:.0f} | "
            f"{top['before_mb']:.0f} | {top['pass_peak_mb']:.0f} | "
            f"{top['pass_peak_mb'] - top['before_mb']:.0f} | {top['peak_rss_mb']:.0f} | "
            f"{top['private_peak_mb']:.0f} | {solve} |"
        )
    results = [r for _, rs in measured for r in rs]
    peak = max(r["peak_rss_mb"] for r in results)
    files = max(r["files_mb"] for r in results)
    private = max(r["private_peak_mb"] for r in results)
    above = max(r["pass_peak_mb"] - r["before_mb"] for r in results)
    sums = {round(r["checksum"] / results[0]["checksum"], 9) for r in results}
    lines += [
        "",
        f"Largest `ru_maxrss` {peak:.0f} MB: "
        + ("under" if peak < RSS_LIMIT_MB else "over") + f" the {RSS_LIMIT_MB} MB bound "
        f"(of which up to {files:.0f} MB are pages of shared libraries, TensorFlow's); "
        f"the private memory peaks at {private:.0f} MB, "
        + ("under" if private < RSS_LIMIT_MB else "over") + " it. "
        f"The batches add at most {above:.0f} MB to the RSS before the pass. "
        + ("Every run's X^T X equals numpy's to 1e-9." if sums == {1.0} else
           f"X^T X checksums differ between runs: {sorted(sums)}."),
    ]
    return "\n".join(lines)


_SAMPLER = None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16_384)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2],
                        help="numbers of local worker processes to measure (default: 1 2)")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results_stream.md")
    parser.add_argument("--child", choices=["numpy", "tflasso", "worker"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape = (args.rows, args.features, args.batch)
    if args.child:
        global _SAMPLER
        _SAMPLER = _PrivatePeak()
        {"numpy": numpy_child, "tflasso": tflasso_child, "worker": worker_child}[args.child](
            *shape)
        return
    measured = [("numpy `X.T @ X`, `X.T @ y`", measure("numpy", *shape)),
                ("tflasso, one process", measure("tflasso", *shape))]
    for n in args.workers:
        measured.append((f"tflasso, {n} worker{'s' * (n > 1)} (MultiWorkerMirroredStrategy)",
                         measure("worker", *shape, n_workers=n)))
    text = table(*shape, measured)
    print(text)
    if args.write:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        (HERE / "results_stream.md").write_text(
            f"# Streaming\n\n{text}\n\nMeasured {stamp} ({os.cpu_count()} cores).\n")


if __name__ == "__main__":
    main()
