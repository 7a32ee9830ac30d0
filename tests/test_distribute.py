"""Streamed fits under tf.distribute: the workers' statistics are all-reduced.

Two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy, ``TF_CONFIG``) run
several fits in one session (tests/distributed_worker.py); each must equal the
in-memory fit of all the rows in one process, and the workers must agree.
"""

import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

import tflasso
from tflasso._design import Moments
from tests.test_stream import _TIGHT as TIGHT
from tests.test_stream import _assert_same_fit

ROOT = Path(__file__).resolve().parents[1]
N_ROWS, N_WORKERS = 150, 2


def _example():
    """examples/distributed_lasso.py, whose launcher and fold rule the test uses."""
    spec = importlib.util.spec_from_file_location(
        "distributed_lasso", ROOT / "examples" / "distributed_lasso.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shard_data(index, n_workers):
    """Rows ``index, index + n_workers, ...`` of the test problem: ``(X, y, sw, rows)``."""
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 1.0, (N_ROWS, 7))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.2, 0.0, 1.0]) + rng.normal(size=N_ROWS)
    sw = rng.uniform(0.5, 2.0, N_ROWS)
    rows = np.arange(index, N_ROWS, n_workers)
    return X[rows], y[rows], sw[rows], rows


def test_moments_about_a_moved_shift_equal_the_moments_about_it():
    rng = np.random.default_rng(3)
    X, Y, w = rng.normal(4.0, 1.0, (50, 3)), rng.normal(-2.0, 1.0, (50, 2)), rng.random(50)
    a = (rng.normal(size=3), rng.normal(size=2))
    b = (rng.normal(size=3), rng.normal(size=2))
    moved = Moments.of_rows(X, Y, w, np.arange(50), *a).about(b[0] - a[0], b[1] - a[1])
    Xb, Yb = X - b[0], Y - b[1]  # the moments about b, from their definition
    expected = (w.sum(), w @ Xb, w @ Yb, (Xb.T * w) @ Xb, (Xb.T * w) @ Yb, w @ Yb**2)
    for value, want in zip(moved._values(), expected):
        np.testing.assert_allclose(value, want, rtol=1e-12)


def test_mirrored_strategy_in_one_process_equals_the_plain_fit():
    import tensorflow as tf

    X, y, sw, _ = shard_data(0, 1)
    dataset = tf.data.Dataset.from_tensor_slices((X, y, sw)).batch(40)
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        lasso = tflasso.Lasso(alpha=0.3, **TIGHT).fit(dataset)
        search = tflasso.LassoCV(cv=3).fit(dataset)
    _assert_same_fit(lasso, tflasso.Lasso(alpha=0.3, **TIGHT).fit(X, y, sample_weight=sw),
                     X, y, 0.3, 1.0, sw)
    plain = tflasso.LassoCV(cv=3).fit(dataset)
    assert search.alpha_ == pytest.approx(plain.alpha_, rel=1e-12)
    np.testing.assert_allclose(search.mse_path_, plain.mse_path_, rtol=1e-9)


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """The fitted models (or error messages) of the 2 workers and the mirrored process."""
    example, out = _example(), tmp_path_factory.mktemp("workers")
    command = [sys.executable, str(ROOT / "tests" / "distributed_worker.py"), str(out)]
    env = {"PYTHONPATH": str(ROOT)}
    processes = example.start_workers(command, N_WORKERS, env)
    # Meanwhile, one process under MirroredStrategy with two replicas.
    processes.append(subprocess.Popen(
        command + ["mirrored"], env={**os.environ, **env}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ))
    try:
        example.wait_all(processes, timeout=240)
    except RuntimeError as error:
        pytest.fail(f"The 2-worker session failed: {error}")
    results = []
    for name in [f"worker{index}" for index in range(N_WORKERS)] + ["mirrored"]:
        with open(out / f"{name}.pkl", "rb") as stream:
            results.append(pickle.load(stream))
    return results


@pytest.mark.parametrize(
    "name, estimator, params, weighted, to",
    [
        ("lasso", tflasso.Lasso, {}, False, np.asarray),
        ("weighted_enet", tflasso.ElasticNet, {"l1_ratio": 0.5}, True, np.asarray),
        ("sparse_no_intercept", tflasso.Lasso, {"fit_intercept": False}, False,
         sparse.csr_matrix),
        ("one_empty_shard", tflasso.Lasso, {}, False, np.asarray),
        ("zero_row_batch", tflasso.Lasso, {}, False, np.asarray),
        ("from_function", tflasso.Lasso, {}, False, np.asarray),
    ],
)
def test_two_workers_equal_the_one_process_fit(workers, name, estimator, params, weighted,
                                               to):
    X, y, sw, _ = shard_data(0, 1)
    sw = sw if weighted else None
    direct = estimator(alpha=0.3, **params, **TIGHT).fit(to(X), y, sample_weight=sw)
    first, second, mirrored = (w[name] for w in workers)
    for streamed in (first, mirrored):
        _assert_same_fit(streamed, direct, X, y, 0.3, params.get("l1_ratio", 1.0), sw)
    np.testing.assert_array_equal(first.coef_, second.coef_)
    np.testing.assert_array_equal(first.intercept_, second.intercept_)
    if name == "one_empty_shard":  # worker 1 read no batch, and learnt the names
        np.testing.assert_array_equal(second.feature_names_in_, [f"x{j}" for j in range(7)])


def test_two_workers_multi_task_fit(workers):
    X, y, _, _ = shard_data(0, 1)
    Y = np.column_stack([y, X[:, 0] - y])
    direct = tflasso.MultiTaskLasso(alpha=0.3, **TIGHT).fit(X, Y)
    first, second, mirrored = (w["multi_task"] for w in workers)
    _assert_same_fit(first, direct, X, Y, 0.3, 1.0)
    _assert_same_fit(mirrored, direct, X, Y, 0.3, 1.0)
    np.testing.assert_array_equal(first.coef_, second.coef_)


def test_two_workers_cross_validation(workers):
    # Row j of each worker's shard is in test fold j % cv.
    X, y, sw, _ = shard_data(0, 1)
    folds = _example().position_folds(N_ROWS, N_WORKERS, 4)
    direct = tflasso.LassoCV(cv=folds, **TIGHT).fit(X, y, sample_weight=sw)
    for streamed in (w["lasso_cv"] for w in workers[:2]):
        assert streamed.alpha_ == pytest.approx(direct.alpha_, rel=1e-12)
        np.testing.assert_allclose(streamed.alphas_, direct.alphas_, rtol=1e-12)
        # Certified to a gap of TIGHT's tol, in other programs (streams do
        # not compile by XLA): see test_stream's position-fold test.
        np.testing.assert_allclose(streamed.mse_path_, direct.mse_path_, rtol=1e-5)
        np.testing.assert_allclose(streamed.coef_, direct.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(workers[0]["lasso_cv"].mse_path_,
                                  workers[1]["lasso_cv"].mse_path_)
    # Two replicas of one process count its stream once: rows by position in it.
    mirrored = workers[2]["lasso_cv"]
    direct = tflasso.LassoCV(cv=_example().position_folds(N_ROWS, 1, 4), **TIGHT)
    direct.fit(X, y, sample_weight=sw)
    assert mirrored.alpha_ == pytest.approx(direct.alpha_, rel=1e-12)
    np.testing.assert_allclose(mirrored.mse_path_, direct.mse_path_, rtol=1e-5)


def test_every_row_counts_once(workers):
    # Each process's rows count once, whatever its number of replicas.
    _, _, sw, _ = shard_data(0, 1)
    position = np.arange(N_ROWS)
    for result, fold in zip(workers, [position // 2 % 4] * 2 + [position % 4]):
        statistics = result["statistics"]
        assert statistics.n_rows == N_ROWS
        np.testing.assert_array_equal(statistics.fold_rows, np.bincount(fold))
        assert statistics.moments.s == pytest.approx(sw.sum(), rel=1e-14)
        assert [m.s for m in statistics.folds] == pytest.approx(
            np.bincount(fold, weights=sw), rel=1e-14)


def test_a_failing_worker_stops_every_worker(workers):
    assert "Batch 0: X contains NaN" in workers[1]["error"]
    assert "The stream of 1 of the 2 workers failed" in workers[0]["error"]
    for result in workers[:2]:
        assert "different numbers of features" in result["widths"]


def test_other_strategies_are_refused():
    import tensorflow as tf

    X, y, _, _ = shard_data(0, 1)
    with tf.distribute.experimental.CentralStorageStrategy().scope():
        with pytest.raises(ValueError, match="MirroredStrategy or MultiWorkerMirroredStrategy"):
            tflasso.Lasso().fit(iter([(X, y)]))
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():  # one process, one device
        direct = tflasso.Lasso(alpha=0.3, **TIGHT).fit(X, y)
        _assert_same_fit(tflasso.Lasso(alpha=0.3, **TIGHT).fit(iter([(X, y)])), direct,
                         X, y, 0.3, 1.0)
