"""Several Gram-form lasso problems, each along a grid of alphas, in one program.

The program is pure TensorFlow, like :mod:`tflasso._solver`; ``solve_gram``
and ``solve_gram_path`` are its numpy entry points. Batch member ``b`` (a
cross-validation training fold, or the full data) is the centred problem

    min_W  (1 / 2) tr(W^T G_b W) - tr(q_b^T W) + sum_k alpha_k ||W_k||_1

with ``G_b = X_b^T X_b / n_b`` and ``q_b = X_b^T y_b / n_b``; column ``k`` of
``W`` is the solution at ``alpha_k``. The coefficients of all members are one
``B x p x K`` tensor, so an iteration is one batched matrix product. The loop
itself (FISTA with restart, the smooth part differentiated by
``tf.GradientTape``, a soft-threshold prox, every column stopped on its own
duality gap) is :func:`tflasso._solver._fista`, run on the ``p x (B K)``
matrix whose column ``b K + k`` is member ``b`` at ``alpha_k``.
"""

import functools

import numpy as np
import tensorflow as tf

from ._solver import _LIPSCHITZ_MARGIN, _POWER_ITERATIONS, _duality_gap, _fista

# Iterations between two duality-gap evaluations (each costs one more pass).
GAP_EVERY = 10
# The best relative duality gap asked of float32 iterations (it stalls near 1e-6).
_FLOAT32_TOL = 3e-5
# Problems up to this many features run XLA-compiled (see solve_gram).
_MAX_XLA_FEATURES = 256
# Alphas per chunk of the path when solving on working sets.
_CHUNK_ALPHAS = 10
# Past this share of the features, a working set is not worth it.
_MAX_SET_SHARE = 0.25


def _batched_lipschitz(gram, dtype):
    """Largest eigenvalue of each ``G_b``, from batched power iterations in ``dtype``.

    Each float64 ``G_b`` is first divided by its largest diagonal entry (its
    largest entry), so that float32 iterations neither overflow nor underflow
    whatever the scale of X.
    """
    scale = tf.reduce_max(tf.linalg.diag_part(gram), axis=1)
    scale = tf.where(scale > 0, scale, tf.ones_like(scale))
    gram = tf.cast(gram / scale[:, None, None], dtype)
    p = tf.shape(gram)[1]
    # A fixed, generic start vector keeps fits deterministic without seeds.
    v0 = 1 + 0.5 * tf.sin(tf.cast(tf.range(1, p + 1), dtype))
    v0 = tf.tile(v0[None, :, None], [tf.shape(gram)[0], 1, 1]) / tf.norm(v0)
    tiny = tf.constant(np.finfo(dtype.as_numpy_dtype).tiny, dtype)

    def step(i, v):
        u = tf.matmul(gram, v)
        return i + 1, u / tf.maximum(tf.norm(u, axis=1, keepdims=True), tiny)

    _, v = tf.while_loop(
        lambda i, v: i < _POWER_ITERATIONS, step, (tf.constant(0), v0)
    )
    rayleigh = tf.reduce_sum(v * tf.matmul(gram, v), axis=[1, 2])
    lipschitz = _LIPSCHITZ_MARGIN * tf.cast(rayleigh, tf.float64) * scale
    # An all-zero Gram matrix must still give a finite step.
    return tf.maximum(tf.cast(lipschitz, dtype), tiny)


def _solve_batched(gram, xty, yy, n, alpha, w0, tol, max_iter, gap_every, positive):
    """All ``K`` alphas of all ``B`` members; ``(W, gap, n_iter)``, shaped (B, ...).

    ``gram`` is (B, p, p), ``xty`` (B, p), ``yy = ||y_b||^2 / n_b`` and ``n``
    (B,), ``alpha`` (K,) and ``tol`` (B,), the absolute gap tolerance; all
    float64. The iterations run in the precision of ``w0`` (p, B K); the
    duality gap is always evaluated in float64, so a float32 loop still
    stops on an exact criterion.
    """
    dtype = w0.dtype
    shape = tf.shape(gram)
    n_members, p, k = shape[0], shape[1], tf.shape(alpha)[0]

    def members(w):  # (p, B K) -> (B, p, K)
        return tf.transpose(tf.reshape(w, [p, n_members, k]), [1, 0, 2])

    def columns(v):  # (B, p, K) -> (p, B K)
        return tf.reshape(tf.transpose(v, [1, 0, 2]), [p, n_members * k])

    def per_column(v):  # (B,) -> (B K,)
        return tf.repeat(v, k)

    xty = xty[:, :, None]
    gram_it, xty_it = tf.cast(gram, dtype), tf.cast(xty, dtype)

    def smooth(w):
        w = members(w)
        return 0.5 * tf.reduce_sum(w * tf.matmul(gram_it, w)) - tf.reduce_sum(
            xty_it * w
        )

    alphas = tf.tile(alpha, [n_members])

    def gap_at(w):
        w = tf.cast(w, tf.float64)
        wb = members(w)
        gram_w = tf.matmul(gram, wb)
        wq = tf.reduce_sum(wb * xty, axis=1)
        wgw = tf.reduce_sum(wb * gram_w, axis=1)
        rr = tf.maximum(yy[:, None] - 2 * wq + wgw, 0)
        ry = yy[:, None] - wq
        flat = lambda v: tf.reshape(v, [-1])  # noqa: E731
        return _duality_gap(
            flat(rr), flat(ry), columns(xty - gram_w), w, alphas, per_column(n),
            positive,
        )

    lipschitz = per_column(_batched_lipschitz(gram, dtype))
    w, gap, n_iter = _fista(
        smooth, gap_at, w0, tf.cast(alphas, dtype), lipschitz, per_column(tol),
        max_iter, gap_every, positive,
    )
    unflat = lambda v: tf.reshape(v, [n_members, k])  # noqa: E731
    return members(w), unflat(gap), unflat(n_iter)


def _build(dtype, jit_compile):
    return tf.function(
        _solve_batched,
        input_signature=[
            tf.TensorSpec([None, None, None], tf.float64),  # gram
            tf.TensorSpec([None, None], tf.float64),  # xty
            tf.TensorSpec([None], tf.float64),  # yy
            tf.TensorSpec([None], tf.float64),  # n
            tf.TensorSpec([None], tf.float64),  # alpha, one per column
            tf.TensorSpec([None, None], dtype),  # w0, (p, B K)
            tf.TensorSpec([None], tf.float64),  # tol, absolute, one per member
            tf.TensorSpec([], tf.int32),  # max_iter
            tf.TensorSpec([], tf.int32),  # gap_every
            tf.TensorSpec([], tf.bool),  # positive
        ],
        jit_compile=jit_compile,
    )


# Small problems are XLA-compiled: XLA fuses each iteration into a few
# kernels, where plain graph mode would spend its time dispatching the loop's
# many small ops. XLA compiles once per concrete shape, so callers pad p and
# K to a few sizes. Large problems are dominated by their matrix products and
# run in graph mode, which never recompiles.
BATCHED = {
    (dtype, jit): _build(dtype, jit)
    for dtype in (tf.float32, tf.float64)
    for jit in (False, True)
}
"""The compiled batched Gram solvers, ``BATCHED[iteration dtype, jit_compile]``."""


@functools.cache
def _concrete(dtype, jit_compile):
    """The traced program itself: calling it skips the argument binding of
    :func:`tf.function` (about a millisecond, a tenth of a small fit)."""
    return BATCHED[dtype, jit_compile].get_concrete_function()


def _padded_size(size):
    """The smallest of 8, 12, 16, 24, 32, 48, ... that holds ``size``."""
    bucket = 8
    while bucket < size:
        bucket = bucket * 3 // 2 if bucket & (bucket - 1) == 0 else bucket * 4 // 3
    return bucket


def solve_gram(gram, xty, yy, n, alphas, tol, max_iter, positive, w0=None):
    """The batched Gram solver, numpy in and out: ``(W, gap, n_iter)``.

    ``gram`` is (B, p, p); ``xty``, ``yy``, ``n`` and ``tol`` (absolute) have
    one entry per batch member, ``alphas`` one per column; all float64.
    ``w0`` (B, p, K), zeros by default, is the starting point.

    Small problems run XLA-compiled, padded to a few sizes so that XLA
    compiles once per size, not per problem: padded features have zero rows
    and columns in ``gram`` and zero ``xty`` (zero gradient: they stay at zero
    and change neither the step nor the gap); padded columns have an alpha
    above ``alpha_max``, so zero is their solution and they never iterate.

    The loop first runs in float32 (its matrix products cost a fifth of
    float64's here) down to a relative gap of ``_FLOAT32_TOL`` at best, where
    float32 rounding is still far below the gap; columns with a tighter
    tolerance are then finished in float64 from there.
    """
    n_members, p = xty.shape
    k = len(alphas)
    jit = p <= _MAX_XLA_FEATURES
    # Columns pad to a multiple of 8 only: the loop's cost grows with them.
    size, width = (_padded_size(p), -(-k // 8) * 8) if jit else (p, k)
    padded = np.zeros((n_members, size, size))
    padded[:, :p, :p] = gram
    padded_xty = np.zeros((n_members, size))
    padded_xty[:, :p] = xty
    above_max = 2 * max(np.abs(xty).max(initial=0.0), alphas.max()) + 1
    padded_alphas = np.concatenate([alphas, np.full(width - k, above_max)])
    w = np.zeros((size, n_members, width), np.float32)
    if w0 is not None:
        w[:p, :, :k] = w0.transpose(1, 0, 2)
    w = w.reshape(size, -1)
    n_iter = np.zeros((n_members, width), np.int32)
    # Float32 gets half the iterations: if it stalls, float64 takes over.
    for dtype, tolerance, budget in (
        (tf.float32, np.maximum(tol, _FLOAT32_TOL * yy), (max_iter + 1) // 2),
        (tf.float64, tol, max_iter),
    ):
        w, gap, steps = _concrete(dtype, jit)(
            padded, padded_xty, yy, n, padded_alphas,
            w.astype(dtype.as_numpy_dtype), tolerance,
            np.int32(budget - n_iter.max()), np.int32(GAP_EVERY),
            np.bool_(positive),
        )
        gap, n_iter = gap.numpy(), n_iter + steps.numpy()
        w = w.numpy().transpose(1, 0, 2).reshape(size, -1)
        if np.all(gap <= tol[:, None]) or n_iter.max() >= max_iter:
            break
    w = w.reshape(size, n_members, width).transpose(1, 0, 2)
    return w[:, :p, :k].astype(np.float64), gap[:, :k], n_iter[:, :k]


def solve_gram_path(gram, xty, yy, n, alphas, tol, max_iter, positive):
    """:func:`solve_gram` along the path, on working sets when p is large.

    Where most features end at zero, a p x p product per iteration is mostly
    wasted. The alphas (largest first) are then solved in chunks, each
    warm-started from the previous chunk's last solution and restricted to a
    working set: that solution's support, and the features that break the
    optimality conditions (``|x_j^T r| / n > alpha``) there at the chunk's
    smallest alpha. Features that still break them at the chunk's solutions
    are added and the chunk solved again; once none does, the restricted
    duality gaps are the full ones.
    """
    n_members, p = xty.shape
    if p <= _MAX_XLA_FEATURES:
        return solve_gram(gram, xty, yy, n, alphas, tol, max_iter, positive)
    k = len(alphas)
    w = np.zeros((n_members, p, k))
    gap, n_iter = np.zeros((n_members, k)), np.zeros((n_members, k), np.int32)
    previous = np.zeros((n_members, p))
    first = 0
    while first < k:
        chunk = np.arange(first, min(first + _CHUNK_ALPHAS, k))
        correlation = xty - np.einsum("bij,bj->bi", gram, previous)
        if not positive:
            correlation = np.abs(correlation)
        violated = correlation > alphas[chunk[-1]]
        keep = np.flatnonzero(np.any(violated | (previous != 0), axis=0))
        if len(keep) > p * _MAX_SET_SHARE:
            # A product with the full Gram matrix costs its memory traffic
            # whatever the width: the rest of the path goes in one call.
            chunk, keep = np.arange(first, k), np.arange(p)
        start = np.repeat(previous[:, keep, None], len(chunk), axis=2)
        while True:
            w_set, gap_set, steps = solve_gram(
                gram[:, keep][:, :, keep], xty[:, keep], yy, n, alphas[chunk],
                tol, max_iter, positive, start,
            )
            n_iter[:, chunk] += steps
            grad = xty[:, :, None] - np.matmul(gram[:, :, keep], w_set)
            violated = (grad if positive else np.abs(grad)) > alphas[chunk]
            violated[:, keep] = False
            if not violated.any():
                break
            start = np.zeros((n_members, p, len(chunk)))
            start[:, keep] = w_set
            keep = np.union1d(keep, np.flatnonzero(violated.any(axis=(0, 2))))
            start = start[:, keep]
        w[:, keep[:, None], chunk] = w_set
        gap[:, chunk] = gap_set
        previous = w[:, :, chunk[-1]]
        first = chunk[-1] + 1
    return w, gap, n_iter
