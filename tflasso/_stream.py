"""A streamed data source: one pass over batches of rows, then the Gram form.

A ``tf.data.Dataset`` or any iterable yielding ``(X, y)`` or ``(X, y,
sample_weight)`` batches (numpy, pandas or scipy.sparse) is read once; its
float64 :class:`~tflasso._design.Moments` give the centred Gram problem, which
:class:`StreamProblem` presents to :func:`tflasso._strategies.fit` as an
in-memory :class:`~tflasso._problem.Problem` would in the Gram form.
"""

from collections import namedtuple

import numpy as np
import tensorflow as tf
from scipy import sparse

from . import _distribute, _strategies
from ._design import Moments
from ._problem import Problem, layout

# The statistics are p x p float64 (10,000 features: 800 MB).
MAX_STREAM_FEATURES = 10_000


def _names(X):
    """A DataFrame batch's column names when they are all strings (as scikit-learn)."""
    columns = getattr(X, "columns", None)
    if columns is None or not all(isinstance(c, str) for c in columns):
        return None
    return tuple(columns)


def _batches(source):
    """``(index, X, y, sample_weight or None, names)`` numpy batches of a stream."""
    if hasattr(source, "as_numpy_iterator"):  # a tf.data.Dataset
        if int(source.cardinality()) == -1:  # tf.data.INFINITE_CARDINALITY
            raise ValueError(
                "The tf.data.Dataset is infinite (dataset.repeat() without a count?): "
                "a fit reads its stream to the end once."
            )
        source = source.as_numpy_iterator()
    for index, batch in enumerate(source):
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(
                f"Batch {index} of the stream must be (X, y) or (X, y, sample_weight); "
                f"got {type(batch).__name__}."
            )
        X, y = _local(batch[0]), _local(batch[1])
        names = _names(X)
        X = X.toarray() if sparse.issparse(X) else np.asarray(X)
        y = np.asarray(y)
        sw = None if len(batch) == 2 or batch[2] is None else np.asarray(
            _local(batch[2]), np.float64)
        yield index, X, y, sw, names


def _local(value):
    """A batch's item; a per-replica one (of a distributed dataset, under a strategy
    with several devices here) as its local replicas' rows, stacked."""
    if not isinstance(value, tf.distribute.DistributedValues):
        return value
    parts = tf.distribute.get_strategy().experimental_local_results(value)
    return np.concatenate([np.asarray(part) for part in parts])


# ``folds``: the moments of the rows at positions ``f, f + n_folds, ...`` (one
# Moments and one row count per fold); ``moments`` is their sum. ``names``: the
# DataFrame batches' column names, or None.
Streamed = namedtuple("Streamed", "moments shift dtype n_rows y_1d folds fold_rows names")

# What one process read: ``width`` is ``(n_features, n_targets, y.ndim)``; with no
# batch at all it is None and ``folds`` are None; ``shift`` is None with no row.
Local = namedtuple("Local", "folds fold_rows shift width dtype n_rows names")


def stream_moments(source, centre=True, n_folds=1):
    """One pass over ``source``: a :class:`Streamed` (its ``Moments`` about ``shift``).

    Row ``i`` of the stream (counted from 0 across batches) goes to fold
    ``i % n_folds``: a rule that needs neither the number of rows in advance nor
    any shuffling of the source.

    With ``centre``, the shift is the first batch's weighted means: the moments about
    a point near the data's mean keep ``xx / s - outer(mean, mean)`` free of the
    cancellation that raw sums of squares suffer when the columns' means are large
    against their spread. Without (no intercept), the moments are about zero, the raw
    ones the uncentred problem needs.

    Called in the scope of a ``MirroredStrategy`` or ``MultiWorkerMirroredStrategy``,
    ``source`` is this worker's shard and the result is the sum over all the workers
    (:mod:`tflasso._distribute`; row ``i`` of each shard goes to fold ``i % n_folds``).
    """
    if isinstance(source, Replay):
        return source.streamed_as(centre, n_folds)
    strategy = _distribute.strategy()
    if strategy is None:
        local = _read(source, centre, n_folds)
    else:
        local = Local(*_distribute.combine(
            strategy, lambda: _read(source, centre, n_folds), n_folds, centre
        ))
    if local.n_rows == 0:
        raise ValueError("The stream yielded no rows.")
    if local.n_rows < n_folds:
        raise ValueError(
            f"Cannot have number of folds cv={n_folds} greater than the number of "
            f"rows in the stream: {local.n_rows}."
        )
    folds = local.folds
    total = sum(folds[1:], folds[0])
    if total.s <= 0:
        raise ValueError(f"The stream's sample weights sum to {total.s}.")
    return Streamed(total, local.shift, local.dtype, local.n_rows, local.width[2] == 1,
                    folds, local.fold_rows, local.names)


def _check_batch(index, X, y, sw, width):
    """``y`` as 2-d columns, after checking the batch against the first one's width."""
    if X.ndim != 2:
        raise ValueError(
            f"Batch {index}: X must be 2-d, got shape {X.shape}"
            + (" (batch the dataset: dataset.batch(size))." if X.ndim == 1 else ".")
        )
    for name, values in (("X", X), ("y", y)):
        if not (np.issubdtype(values.dtype, np.number)
                or np.issubdtype(values.dtype, np.bool_)):
            raise ValueError(f"Batch {index}: {name} must be numeric, got {values.dtype}.")
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    if width is not None and (X.shape[1], Y.shape[1], y.ndim) != width:
        raise ValueError(
            f"Batch {index} has X of {X.shape[1]} features and y of shape {y.shape}; "
            f"the first batch had {width[0]} features and {width[1]} target(s)."
        )
    if Y.shape[0] != X.shape[0] or (sw is not None and sw.shape != (X.shape[0],)):
        raise ValueError(
            f"Batch {index}: X has {X.shape[0]} rows, y {Y.shape[0]}"
            + ("" if sw is None else f", sample_weight shape {sw.shape}") + "."
        )
    for name, values in (("X", X), ("y", Y), ("sample_weight", sw)):
        if values is not None and not np.all(np.isfinite(values)):
            raise ValueError(f"Batch {index}: {name} contains NaN or infinity.")
    if sw is not None and np.any(sw < 0):
        raise ValueError(f"Batch {index}: Negative values in data passed to `sample_weight`.")
    return Y


def _read(source, centre, n_folds):
    """This process's pass over ``source``: a :class:`Local`."""
    shift = dtype = width = names = None
    folds, fold_rows = [None] * n_folds, np.zeros(n_folds, np.int64)
    n_rows = 0
    for index, X, y, sw, batch_names in _batches(source):
        Y = _check_batch(index, X, y, sw, width)
        if width is None:
            width, names = (X.shape[1], Y.shape[1], y.ndim), batch_names
            if width[0] > MAX_STREAM_FEATURES:
                raise ValueError(
                    f"Streamed X has {width[0]} features; the streamed statistics are "
                    f"p x p and allow at most {MAX_STREAM_FEATURES}. Select features or "
                    "fit in memory."
                )
            dtype = np.float32 if X.dtype == np.float32 else np.float64
        elif batch_names != names:
            raise ValueError(
                f"Batch {index} has feature names {batch_names}; the first batch had "
                f"{names}. Every batch must have the same columns."
            )
        if X.shape[0] == 0:
            continue
        w = np.ones(X.shape[0]) if sw is None else sw
        if shift is None and not centre:
            shift = (np.zeros(X.shape[1]), np.zeros(Y.shape[1]))
        if shift is None:
            # A first batch of zero weights still has means to centre about.
            v = w if w.sum() > 0 else np.ones(X.shape[0])
            shift = (v @ X.astype(np.float64) / v.sum(), v @ Y.astype(np.float64) / v.sum())
        fold_of_row = (n_rows + np.arange(X.shape[0])) % n_folds
        n_rows += X.shape[0]
        for f in range(n_folds):
            rows = np.flatnonzero(fold_of_row == f)
            if len(rows):
                part = Moments.of_rows(X, Y, w, rows, *shift)
                folds[f] = part if folds[f] is None else folds[f] + part
                fold_rows[f] += len(rows)
    if width is not None:
        folds = [Moments.zeros(*width[:2]) if m is None else m for m in folds]
    return Local(folds, fold_rows, shift, width, dtype, n_rows, names)


class Replay:
    """A stream already read: fits take it as a stream and read nothing.

    It holds the :class:`Streamed` of one pass, so that the command line fits
    one file several ways (cross-validation, the refit, the path) from a single
    read. A fit must ask for the pass's number of folds, or for one.
    """

    def __init__(self, streamed):
        self.streamed = streamed

    def __iter__(self):  # a stream to is_stream; read through streamed_as only
        raise TypeError("A Replay holds the statistics of a stream, not its batches.")

    def streamed_as(self, centre, n_folds):
        """The :class:`Streamed` a pass with ``centre`` and ``n_folds`` would give."""
        streamed = self.streamed
        if n_folds not in (1, len(streamed.folds)):
            raise ValueError(
                f"This stream was read with {len(streamed.folds)} folds, not {n_folds}."
            )
        if n_folds == 1:
            streamed = streamed._replace(folds=[streamed.moments],
                                         fold_rows=np.array([streamed.n_rows]))
        if not centre:  # the moments about zero
            streamed = _moved(streamed, -streamed.shift[0], -streamed.shift[1])
        return streamed

    def centred(self):
        """The replay of the rows less their weighted means, in one fold."""
        streamed = self.streamed_as(True, 1)
        total = streamed.moments
        return Replay(_moved(streamed, total.x / total.s, total.y / total.s))


def _moved(streamed, dx, dy):
    """The moments of the rows less ``shift + (dx, dy)``, about zero."""
    folds = [m.about(dx, dy) for m in streamed.folds]
    zero = (np.zeros_like(streamed.shift[0]), np.zeros_like(streamed.shift[1]))
    return streamed._replace(moments=sum(folds[1:], folds[0]), folds=folds, shift=zero)


class _Statistics:
    """What the Gram form asks of a design: its shape, dtype and Gram statistics."""

    def __init__(self, gram, xty, n_rows, dtype):
        self._gram, self._xty = gram, xty
        self.shape, self.dtype = (n_rows, gram.shape[0]), dtype

    def gram(self, y):
        return self._gram, self._xty


class StreamProblem(Problem):
    """The centred, weighted Gram problem of a stream, from one pass over it.

    The statistics are the weighted means (weights summing to anything) that
    :class:`~tflasso._problem.Problem` builds with weights rescaled to sum to
    ``n``; ``n`` is the number of rows, as for an in-memory fit.
    """

    # The pass over the stream is the fit's time; the solve, of milliseconds,
    # is not worth XLA's compiler in memory (see _programs.solve_gram).
    xla = False

    def __init__(self, streamed, fit_intercept, tasks=False):
        """``streamed``: a :class:`Streamed`, or a source to read with :func:`stream_moments`."""
        if not isinstance(streamed, Streamed):
            streamed = stream_moments(streamed, centre=fit_intercept)
        gram, xty, yy, x_mean, y_mean = streamed.moments.centred(fit_intercept)
        self.n = streamed.n_rows
        self.fit_intercept = fit_intercept
        self.layout = layout(xty.shape[1], tasks)
        self.x_offset = streamed.shift[0] + x_mean
        self.y_offset = streamed.shift[1] + y_mean
        self.design = _Statistics(gram, xty, self.n, streamed.dtype)
        self.y = None  # the design's statistics already hold it
        self.yy_targets = yy
        self.y_1d = streamed.y_1d
        self.feature_names = streamed.names


def cross_validate(streamed, alphas, l1_ratios, factor, positive, eps, tol, max_iter,
                   fit_intercept):
    """Cross-validation of a :class:`Streamed` with folds: ``(grids, mse, refits)``.

    The pass gave every test fold's moments; the training folds' are the full
    data's minus them, then the batch of Gram problems is solved as in-memory
    cross-validation solves it (see :func:`tflasso._strategies.cross_validate`).
    """
    full = streamed.moments
    trains = (full - test for test in streamed.folds)  # one at a time
    counts = np.append(streamed.n_rows - streamed.fold_rows, streamed.n_rows).astype(float)
    grids, mse, (w, gap, n_iter, x_mean, y_mean) = _strategies.cross_validate_moments(
        full, zip(trains, streamed.folds), counts, alphas, l1_ratios, factor, positive,
        eps, tol, max_iter, fit_intercept, xla=StreamProblem.xla,
    )
    x_shift, y_shift = streamed.shift
    return grids, mse, (w, gap, n_iter, x_shift + x_mean, y_shift + y_mean)
