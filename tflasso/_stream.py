"""One streamed pass over batches of rows: the float64 ``Moments`` of all of them.

Step 1 of issue 14, partial: the accumulator only; the estimators do not dispatch to it yet.
"""

import numpy as np
from scipy import sparse

from ._design import Moments

# The statistics are p x p float64 (10,000 features: 800 MB).
MAX_STREAM_FEATURES = 10_000


def _batches(source):
    """``(X, y, sample_weight or None)`` numpy batches from a Dataset or an iterable."""
    if hasattr(source, "as_numpy_iterator"):  # a tf.data.Dataset
        source = source.as_numpy_iterator()
    for index, batch in enumerate(source):
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(
                f"Batch {index} of the stream must be (X, y) or (X, y, sample_weight); "
                f"got {type(batch).__name__}."
            )
        X, y = batch[0], batch[1]
        X = X.toarray() if sparse.issparse(X) else np.asarray(X)
        y = np.asarray(y)
        sw = None if len(batch) == 2 or batch[2] is None else np.asarray(batch[2], np.float64)
        yield index, X, y, sw


def stream_moments(source):
    """The ``Moments`` of every row of ``source``, the shift and the input dtype.

    The shift is the first batch's weighted means: the moments about a point near the
    data's mean keep ``xx / s - outer(mean, mean)`` free of the cancellation that raw
    sums of squares suffer when the columns' means are large against their spread.
    """
    total = shift = dtype = None
    width = None
    for index, X, y, sw in _batches(source):
        if X.ndim != 2:
            raise ValueError(f"Batch {index}: X must be 2-d, got shape {X.shape}.")
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if width is None:
            width = (X.shape[1], Y.shape[1], y.ndim)
            if width[0] > MAX_STREAM_FEATURES:
                raise ValueError(
                    f"Streamed X has {width[0]} features; the streamed statistics are "
                    f"p x p and allow at most {MAX_STREAM_FEATURES}. Select features or "
                    "fit in memory."
                )
            dtype = np.float32 if X.dtype == np.float32 else np.float64
        elif (X.shape[1], Y.shape[1], y.ndim) != width:
            raise ValueError(
                f"Batch {index} has X of {X.shape[1]} features and y of shape {y.shape}; "
                f"the first batch had {width[0]} features and {width[1]} target(s)."
            )
        if Y.shape[0] != X.shape[0] or (sw is not None and sw.shape != (X.shape[0],)):
            raise ValueError(
                f"Batch {index}: X has {X.shape[0]} rows, y {Y.shape[0]}"
                + ("" if sw is None else f", sample_weight shape {sw.shape}") + "."
            )
        if X.shape[0] == 0:
            continue
        w = np.ones(X.shape[0]) if sw is None else sw
        if shift is None:
            s = w.sum()
            if s <= 0:
                raise ValueError(f"Batch {index}: sample weights sum to {s}.")
            shift = (w @ X.astype(np.float64) / s, w @ Y.astype(np.float64) / s)
        rows = np.arange(X.shape[0])
        part = Moments.of_rows(X, Y, w, rows, *shift)
        total = part if total is None else total + part
    if total is None:
        raise ValueError("The stream yielded no rows.")
    return total, shift, dtype
