"""A worker of tests/test_distribute.py: several streamed fits under MultiWorkerMirroredStrategy.

Run by the test with ``TF_CONFIG`` set (see ``examples/distributed_lasso.py``);
``python tests/distributed_worker.py OUT`` pickles its fitted models, and the errors
its fits raised, to ``OUT/worker<index>.pkl``. With ``mirrored`` after ``OUT``: one
process under a MirroredStrategy of two CPU devices (all the rows), to
``OUT/mirrored.pkl``.
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

if sys.argv[2:] == ["mirrored"]:  # one process, two CPU devices (replicas)
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
else:  # the strategy comes first: it sets up the collectives before any other op
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

import pandas as pd  # noqa: E402
from scipy import sparse  # noqa: E402

import tflasso  # noqa: E402
from tflasso._stream import stream_moments  # noqa: E402
from tests.test_distribute import TIGHT, shard_data  # noqa: E402

mirrored = isinstance(strategy, tf.distribute.MirroredStrategy)
index, n_workers = (0, 1) if mirrored else (strategy.cluster_resolver.task_id,
                                            strategy.num_replicas_in_sync)
X, y, sw, rows = shard_data(index, n_workers)


def chunks(*arrays, size=16, to=np.asarray):
    """Row batches of this worker's shard, X converted by ``to``."""
    for start in range(0, len(arrays[0]), size):
        part = [a[start : start + size] for a in arrays]
        yield (to(part[0]), *part[1:])


def columns(X):
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])


dataset = tf.data.Dataset.from_tensor_slices((X, y)).batch(25)
bad = X.copy()
bad[3, 1] = np.nan
fits = {
    "lasso": lambda: tflasso.Lasso(alpha=0.3, **TIGHT).fit(dataset),
    "weighted_enet": lambda: tflasso.ElasticNet(alpha=0.3, l1_ratio=0.5, **TIGHT).fit(
        chunks(X, y, sw)
    ),
    "sparse_no_intercept": lambda: tflasso.Lasso(alpha=0.3, fit_intercept=False, **TIGHT).fit(
        chunks(X, y, to=sparse.csr_matrix)
    ),
    # Worker 1 streams nothing; worker 0 all the rows, as named DataFrame batches.
    "one_empty_shard": lambda: tflasso.Lasso(alpha=0.3, **TIGHT).fit(
        chunks(*shard_data(0, 1)[:2], to=columns) if index == 0 else iter([])
    ),
    # Worker 1 streams one batch of no rows.
    "zero_row_batch": lambda: tflasso.Lasso(alpha=0.3, **TIGHT).fit(
        iter([shard_data(0, 1)[:2]] if index == 0 else [(X[:0], y[:0])])
    ),
    # strategy.distribute_datasets_from_function: tf.distribute shards, replicas' batches.
    "from_function": lambda: tflasso.Lasso(alpha=0.3, **TIGHT).fit(
        strategy.distribute_datasets_from_function(lambda context: tf.data.Dataset
            .from_tensor_slices(shard_data(0, 1)[:2])
            .shard(context.num_input_pipelines, context.input_pipeline_id).batch(16))
    ),
    "lasso_cv": lambda: tflasso.LassoCV(cv=4, **TIGHT).fit(chunks(X, y, sw, size=9)),
    "multi_task": lambda: tflasso.MultiTaskLasso(alpha=0.3, **TIGHT).fit(
        chunks(X, np.column_stack([y, X[:, 0] - y]))
    ),
    # Worker 1's shard has a NaN: every worker raises (none waits in a collective).
    "error": lambda: tflasso.Lasso().fit(chunks(bad if index == 1 else X, y)),
    "statistics": lambda: stream_moments(chunks(X, y, sw), n_folds=4),
    # Worker 1's batches have a feature fewer: every worker raises.
    "widths": lambda: tflasso.Lasso().fit(chunks(X[:, : 7 - index], y)),
}
results = {}
with strategy.scope():
    for name, fit in fits.items():
        try:
            results[name] = fit()
        except ValueError as error:
            results[name] = str(error)
with open(Path(sys.argv[1]) / ("mirrored.pkl" if mirrored else f"worker{index}.pkl"),
          "wb") as stream:
    pickle.dump(results, stream)
