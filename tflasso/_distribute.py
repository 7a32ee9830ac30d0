"""A streamed fit's statistics, summed over the workers of a ``tf.distribute`` strategy.

Under ``MirroredStrategy`` or ``MultiWorkerMirroredStrategy`` (``fit`` called in
``strategy.scope()``), each worker has streamed its own shard. The strategy
all-reduces (sums) what the workers read, in three steps every worker takes in
the same order, so that all of them hold the moments of all the rows and solve
the same Gram problem:

1. a header of small counts: the workers agree on the widths and fail together
   (a worker whose stream raised, or whose batches disagree with the others',
   makes every worker raise rather than leave the others waiting in a collective);
2. with an intercept, the raw weighted sums: their ratio, the weighted means of
   all the rows, is the common shift every worker moves its moments to (each
   worker's pass was about its own first batch's means);
3. the moments, one cross-validation fold at a time (one p x p sum in flight).
"""

import zlib

import numpy as np
import tensorflow as tf

from ._design import Moments


def strategy():
    """The strategy whose workers share this fit, or None for a one-process fit."""
    if not tf.distribute.has_strategy():
        return None
    current = tf.distribute.get_strategy()
    if isinstance(current, tf.distribute.OneDeviceStrategy):
        return None
    if not isinstance(current, (tf.distribute.MirroredStrategy,
                                tf.distribute.MultiWorkerMirroredStrategy)):
        raise ValueError(
            "A stream is fitted under tf.distribute.MirroredStrategy or "
            f"MultiWorkerMirroredStrategy; got {type(current).__name__}."
        )
    if not tf.distribute.in_cross_replica_context():
        raise ValueError(
            "Call fit(stream) in strategy.scope(), not inside strategy.run: every "
            "worker calls fit once, on its own shard."
        )
    return current


def all_reduce(strategy, values):
    """The sum over the workers of float64 ``values``, each worker's counted once.

    A worker with several local devices (replicas) contributes from its first one.
    """
    values = np.asarray(values, np.float64)
    zeros = np.zeros_like(values)
    local = len(strategy.extended.worker_devices)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(
            zeros if context.replica_id_in_sync_group % local else values
        )
    )
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()


def _all_equal(total, squares, count):
    """Whether ``count`` integers of sum ``total`` and sum of squares ``squares`` are equal."""
    return total * total == count * squares  # Cauchy-Schwarz, exact on small integers


def _names_code(names):
    """The names as bytes and a 24-bit checksum (its square is exact in float64)."""
    code = "\0".join(names).encode()
    return code, zlib.crc32(code) & 0xFFFFFF


def combine(strategy, read, n_folds, centre):
    """``read()``, the local pass, summed over the workers.

    ``read`` returns a ``_stream.Local``; the result has its fields
    ``(folds, fold_rows, shift, width, dtype, n_rows, names)`` for all the
    workers' rows, the same on every worker.
    """
    try:
        local, error = read(), None
    except Exception as exc:  # the other workers must not wait for this one
        local, error = None, exc
    if local is not None and local.width is None:  # no batch at all
        local = None
    width, dtype, n_rows, names = _agree(strategy, local, error, n_folds, centre)
    p, k, _ = width
    if local is None:
        folds, shift = [Moments.zeros(p, k) for _ in range(n_folds)], (np.zeros(p), np.zeros(k))
        fold_rows = np.zeros(n_folds)
    else:  # replaced in place below: one copy of a fold's moments at a time
        folds, fold_rows = local.folds, local.fold_rows.astype(float)
        shift = local.shift or (np.zeros(p), np.zeros(k))  # None: batches without rows
        del local
    if centre:
        shift = _common_shift(strategy, shift, folds)
    for f in range(n_folds):  # one p x p sum in flight
        folds[f], fold_rows[f] = _reduced(strategy, folds[f], fold_rows[f])
    return folds, fold_rows.round().astype(np.int64), shift, width, dtype, n_rows, names


def _agree(strategy, local, error, n_folds, centre):
    """The all-reduced header: ``(width, dtype, n_rows, names)`` of all the rows.

    Each entry is summed with its square over the workers that have it, which
    tells whether they all have the same value (``_all_equal``).
    """
    has = local is not None
    p, k, ndim = local.width if has else (0, 0, 0)
    names = local.names if has else None
    named = names is not None
    code, check = _names_code(names) if named else (b"", 0)
    counts = [
        (1, 1), (error is not None, 0), (n_folds, n_folds**2), (centre, centre),
        (has, has), (has * p, has * p**2), (has * k, has * k**2),
        (has * ndim, has * ndim**2), (has and local.dtype == np.float32, 0),
        (local.n_rows if has else 0, 0),
        (named, named), (named * len(code), named * len(code) ** 2),
        (named * check, named * check**2),
    ]
    summed = all_reduce(strategy, np.array(counts, np.float64).ravel()).reshape(-1, 2)
    (workers, _), (failed, _) = summed[:2]
    if failed:
        if error is not None:
            raise error
        raise ValueError(
            f"The stream of {failed:.0f} of the {workers:.0f} workers failed; see its "
            "error. Every worker stops."
        )
    if not (_all_equal(*summed[2], workers) and _all_equal(*summed[3], workers)):
        raise ValueError("Every worker must fit the same estimator (cv, fit_intercept).")
    holders = summed[4, 0]
    if holders == 0:
        raise ValueError(f"The streams of all {workers:.0f} workers yielded no rows.")
    if not all(_all_equal(*summed[i], holders) for i in (5, 6, 7)):
        raise ValueError(
            "The workers' batches have different numbers of features or targets; "
            "every shard must have the same columns."
        )
    name_holders = summed[10, 0]
    if name_holders not in (0, holders) or not all(
        _all_equal(*summed[i], name_holders) for i in (11, 12)
    ):
        raise ValueError(
            "The workers' DataFrame batches have different column names (or some "
            "have none); every shard must have the same columns."
        )
    if name_holders:  # a worker without batches learns the names from the others
        size = int(summed[11, 0] / name_holders)
        mine = np.frombuffer(code, np.uint8) if named else np.zeros(size)
        code = (all_reduce(strategy, mine) / name_holders).round().astype(np.uint8)
        names = tuple(code.tobytes().decode().split("\0"))
    width = tuple(int(summed[i, 0] / holders) for i in (5, 6, 7))
    dtype = np.float32 if summed[8, 0] == holders else np.float64
    return width, dtype, int(summed[9, 0]), names


def _common_shift(strategy, shift, folds):
    """The weighted means of all the workers' rows; ``folds`` are moved to them."""
    total = sum(folds[1:], folds[0])
    x_shift, y_shift = shift
    raw = np.concatenate([[total.s], total.x + total.s * x_shift, total.y + total.s * y_shift])
    raw = all_reduce(strategy, raw)
    p = len(x_shift)
    s = raw[0] if raw[0] > 0 else 1.0  # weights summing to 0 raise later
    common = raw[1 : 1 + p] / s, raw[1 + p :] / s
    dx, dy = common[0] - x_shift, common[1] - y_shift
    for f, moments in enumerate(folds):
        folds[f] = moments.about(dx, dy)
    return common


def _reduced(strategy, moments, rows):
    """One fold's :class:`Moments` and row count, summed over the workers."""
    p, k = moments.xy.shape
    packed = all_reduce(
        strategy, np.concatenate([np.ravel(v) for v in moments._values()] + [[rows]])
    )
    ends = np.cumsum([1, p, k, p * p, p * k, k])
    s, x, y, xx, xy, yy = np.split(packed[:-1], ends[:-1])
    return Moments(s[0], x, y, xx.reshape(p, p), xy.reshape(p, k), yy), packed[-1]
