"""Several Gram-form lasso problems, each along a grid of alphas, in one program.

Pure TensorFlow, like :mod:`tflasso._solver`. Batch member ``b`` (a
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

import numpy as np
import tensorflow as tf

from ._solver import _LIPSCHITZ_MARGIN, _POWER_ITERATIONS, _duality_gap, _fista


def _batched_lipschitz(gram):
    """Largest eigenvalue of each ``G_b``, from batched power iterations."""
    dtype = gram.dtype
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
    # An all-zero Gram matrix must still give a finite step.
    return tf.maximum(_LIPSCHITZ_MARGIN * rayleigh, tiny)


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

    lipschitz = per_column(_batched_lipschitz(gram_it))
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
