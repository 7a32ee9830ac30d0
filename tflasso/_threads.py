"""numpy's BLAS threads during a fit.

In a process that runs TensorFlow, OpenBLAS's threads wait for the cores
that TensorFlow's thread pools spin on after each call: on 2 cores a 128 x
128 ``np.linalg.solve`` took 108 ms with OpenBLAS's 2 threads, 0.13 ms with
one. So the polish (:mod:`tflasso._polish`) always runs numpy on one thread,
and so do whole fits on small data (see :func:`for_data`). The limit is
threadpoolctl's, as scikit-learn's own estimators set it, scoped to the call
and restored after it: no thread setting outlives a fit.
"""

import contextlib
import functools
import inspect
import threading

import numpy as np
from scipy import sparse
from threadpoolctl import ThreadpoolController

# Fits on data of at most this many stored entries run numpy's BLAS on one
# thread. Measured on a quiet 2-core machine, median of 7 fits (whole fit
# under the limit, against the default two threads): wide 300 x 2,000 at 0.1
# and 0.01 alpha_max 29 -> 21 ms and 334 -> 260 ms, wide 100 x 5,000 at 0.01
# 868 -> 693 ms, fingerprints 200 x 1,000 at 0.01 334 -> 224 ms, diabetes
# and spectra 200 x 100 unchanged; on larger data two threads still pay or
# tie (200,000 x 200: 352 -> 383 ms; 10,000 x 1,000: 89 -> 91 ms at 0.1,
# 222 -> 220 at 0.01; 1,000 x 20,000 at 0.01: 1.60 -> 1.53 s).
_SMALL_ENTRIES = 4_000_000


@functools.cache
def _controller():
    """numpy's BLAS, as threadpoolctl sees it (made once, at the first fit:
    about a millisecond; a limit then costs about 30 us)."""
    return ThreadpoolController()


_lock = threading.Lock()
_depth = 0  # fits (in any thread) inside the limit
_limit = None  # the limit they share: restored by the last one out


@contextlib.contextmanager
def one_blas_thread():
    """A context in which numpy's BLAS runs on one thread.

    Fits in several threads share one limit, set by the first in and
    restored by the last out: each with a limit of its own would restore
    the others' setting, and the last could leave one thread behind.
    """
    global _depth, _limit
    with _lock:
        if not _depth:
            _limit = _controller().limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if not _depth:
                _limit.restore_original_limits()
                _limit = None


def for_data(X):
    """:func:`one_blas_thread` when ``X`` (an array, data frame or sparse
    matrix) holds at most _SMALL_ENTRIES stored entries; otherwise (and for
    streams, whose passes are the fit's time) no limit."""
    if sparse.issparse(X):
        entries = X.nnz
    elif hasattr(X, "shape") and not hasattr(X, "element_spec"):
        entries = int(np.prod(X.shape))
    else:
        return contextlib.nullcontext()
    return one_blas_thread() if entries <= _SMALL_ENTRIES else contextlib.nullcontext()


def limited(name="X"):
    """Decorate a function to run under :func:`for_data` of its argument
    ``name`` (given by position or by keyword)."""
    def decorate(function):
        position = list(inspect.signature(function).parameters).index(name)

        @functools.wraps(function)
        def run(*args, **kwargs):
            X = kwargs[name] if name in kwargs else (
                args[position] if position < len(args) else None)
            with for_data(X):
                return function(*args, **kwargs)
        return run
    return decorate
