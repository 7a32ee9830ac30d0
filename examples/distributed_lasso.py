"""
Two workers, one lasso: ``tf.distribute`` on 127.0.0.1
======================================================

This script starts two TensorFlow worker processes on this machine, each with a
``TF_CONFIG`` naming the cluster and its own index. Each worker, in the scope of a
``tf.distribute.MultiWorkerMirroredStrategy``, streams *its own shard* of the rows
(``dataset.shard(2, index)``) into ``fit``. The strategy all-reduces the statistics
(sums of weights, ``X^T X``, ``X^T y``, ...), and each worker solves the same small
Gram problem, so both end with the same model. The script then fits all the rows in
one process, in memory, and shows that the models agree.

``LassoCV`` on a sharded stream puts row ``j`` *of each worker's shard* in test fold
``j % cv``; the in-memory fit is given those folds.

It is not run with the gallery (it starts processes). Run it with::

    python examples/distributed_lasso.py [--rows 100000] [--features 50]
"""

import argparse
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def make_data(rows, features, seed=0):
    """A regression problem with 5 informative features and non-zero means."""
    rng = np.random.default_rng(seed)
    X = rng.normal(2.0, 1.0, (rows, features))
    coef = np.zeros(features)
    coef[:5] = [3.0, -2.0, 1.5, 1.0, -0.5]
    return X, X @ coef + 1.0 + rng.normal(size=rows)


def shard_rows(n_rows, n_workers, index):
    """The rows ``dataset.shard(n_workers, index)`` keeps, in order."""
    return np.arange(index, n_rows, n_workers)


def position_folds(n_rows, n_workers, cv):
    """The CV folds of a sharded stream: row j of each shard is in test fold j % cv."""
    fold = np.empty(n_rows, np.int64)
    for index in range(n_workers):
        rows = shard_rows(n_rows, n_workers, index)
        fold[rows] = np.arange(len(rows)) % cv
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(cv)]


def start_workers(command, n_workers, env=None):
    """``n_workers`` processes running ``command``, each with its ``TF_CONFIG``."""
    sockets = [socket.socket() for _ in range(n_workers)]
    for s in sockets:  # free ports, held until all are chosen so they differ
        s.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    processes = []
    for index in range(n_workers):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            command, env={**os.environ, **(env or {}), "TF_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))
    return processes


def wait_all(processes, timeout):
    """Every process's output; all are killed if one fails or the time runs out."""
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=timeout)[0])
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        raise RuntimeError(
            f"The workers did not finish within {timeout} s (killed). Output so far:\n"
            + "\n".join(p.communicate()[0][-2000:] for p in processes)
        ) from None
    failed = [i for i, p in enumerate(processes) if p.returncode != 0]
    if failed:
        raise RuntimeError(
            f"Worker(s) {failed} failed:\n" + "\n".join(outputs[i][-3000:] for i in failed)
        )
    return outputs


def worker(rows, features, out):
    """One worker: fit this worker's shard under MultiWorkerMirroredStrategy."""
    import tensorflow as tf

    from tflasso import Lasso, LassoCV

    # The strategy comes first: it sets up the collectives before any other op.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    index = strategy.cluster_resolver.task_id
    n_workers = strategy.num_replicas_in_sync
    X, y = make_data(rows, features)  # each worker would read only its own files
    shard = tf.data.Dataset.from_tensor_slices((X, y)).shard(n_workers, index).batch(4096)
    with strategy.scope():
        models = {
            "lasso": Lasso(alpha=0.05, tol=1e-8).fit(shard),
            "lasso_cv": LassoCV(cv=5, tol=1e-8).fit(shard),
        }
    with open(Path(out) / f"worker{index}.pkl", "wb") as stream:
        pickle.dump(models, stream)


def main(rows, features, n_workers=2, timeout=300):
    import tflasso
    from tflasso import Lasso, LassoCV

    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, __file__, "--worker", "--rows", str(rows),
                   "--features", str(features), "--out", out]
        # The workers import the tflasso this process imported.
        path = os.pathsep.join([str(Path(tflasso.__file__).parents[1]),
                                os.environ.get("PYTHONPATH", "")])
        wait_all(start_workers(command, n_workers, {"PYTHONPATH": path}), timeout)
        fitted = []
        for index in range(n_workers):
            with open(Path(out) / f"worker{index}.pkl", "rb") as stream:
                fitted.append(pickle.load(stream))
    X, y = make_data(rows, features)
    one = {
        "lasso": Lasso(alpha=0.05, tol=1e-8).fit(X, y),
        "lasso_cv": LassoCV(cv=position_folds(rows, n_workers, 5), tol=1e-8).fit(X, y),
    }
    print(f"{rows} x {features} rows, {n_workers} workers, each streaming its shard")
    for name, model in one.items():
        print(f"{name}: {np.count_nonzero(model.coef_)} non-zero coefficients")
        for index, models in enumerate(fitted):
            gap = np.max(np.abs(models[name].coef_ - model.coef_))
            print(f"  worker {index}: max |coef - one-process coef| = {gap:.1e}, "
                  f"intercept {models[name].intercept_:.6f} "
                  f"(one process {model.intercept_:.6f})")
    print(f"LassoCV alpha_: workers {[m['lasso_cv'].alpha_ for m in fitted]}, "
          f"one process {one['lasso_cv'].alpha_}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.rows, args.features, args.out)
    else:
        main(args.rows, args.features, args.workers)
