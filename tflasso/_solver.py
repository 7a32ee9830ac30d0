"""FISTA for the lasso, written in TensorFlow.

Pure TensorFlow: no scikit-learn and no estimator logic here. Every problem is
the normalised, centred lasso

    min_W  sum_k  (1 / (2 n)) ||Y_k - X W_k||^2 + alpha_k ||W_k||_1

solved for all K columns of ``W`` at once (multi-output targets and, later,
several alphas share one design matrix). Each column stops on its own duality
gap, computed exactly as scikit-learn's coordinate descent computes it.

Two forms of the same problem:

* Gram form: the data enter only through ``G = X^T X / n``, ``q = X^T Y / n``
  and ``yy = ||Y_k||^2 / n``, so an iteration costs p^2 (n >= p).
* Operator form: ``X`` itself (dense or ``tf.SparseTensor``) with the centring
  and the square roots of the sample weights applied implicitly, so ``X`` is
  never copied or densified.

The smooth part of the objective is differentiated by ``tf.GradientTape``; the
L1 part is applied by its proximal operator (soft-thresholding), which is what
puts coefficients exactly on zero.

One ``tf.function`` per (form, dtype) serves every fit: shapes are ``None``
dimensions and every scalar is a tensor, so new ``alpha``, ``n`` or ``p``
never retrace.
"""

import functools

import numpy as np
import tensorflow as tf

# Power iterations used to estimate the Lipschitz constant, and the margin
# added to the estimate (a Rayleigh quotient never exceeds the true value).
_POWER_ITERATIONS = 30
_LIPSCHITZ_MARGIN = 1.05


def _soft_threshold(u, threshold, positive):
    shrunk = tf.sign(u) * tf.maximum(tf.abs(u) - threshold, 0)
    return tf.where(positive, tf.maximum(u - threshold, 0), shrunk)


def _duality_gap(rr, ry, xtr, w, alpha, n, positive, penalty=1):
    """scikit-learn's duality gap, divided by ``n``.

    ``rr = ||R||^2 / n``, ``ry = R.Y / n`` and ``xtr = X^T R / n`` for the
    residual ``R`` of each column. The dual point is ``R`` rescaled into the
    dual feasible set; with ``alpha == 0`` there is no dual and, like
    scikit-learn, the squared norm of the gradient ``||X^T R||^2 / n`` is used.
    ``penalty`` (p x 1) weighs each feature's L1 term; a problem in rescaled
    features ``w_j = v_j / d_j`` has ``penalty = 1 / d`` and the same gap.
    """
    scaled = xtr / penalty
    dual_norm = tf.where(
        positive, tf.reduce_max(scaled, axis=0), tf.reduce_max(tf.abs(scaled), axis=0)
    )
    infeasible = dual_norm > alpha
    scale = tf.where(infeasible, alpha / tf.where(infeasible, dual_norm, 1), 1)
    primal = 0.5 * rr + alpha * tf.reduce_sum(tf.abs(w) * penalty, axis=0)
    dual = -0.5 * scale**2 * rr + scale * ry
    ols = n * tf.reduce_sum(scaled**2, axis=0)
    return tf.where(alpha > 0, primal - dual, ols)


def _lipschitz(normal_matvec, p, dtype):
    """Largest eigenvalue of the normal operator, from power iterations."""
    # A fixed, generic start vector keeps fits deterministic without seeds.
    v0 = 1 + 0.5 * tf.sin(tf.cast(tf.range(1, p + 1), dtype))
    v0 = v0[:, None] / tf.norm(v0)

    def step(i, v):
        u = normal_matvec(v)
        return i + 1, u / tf.maximum(tf.norm(u), tf.constant(1e-300, dtype))

    _, v = tf.while_loop(
        lambda i, v: i < _POWER_ITERATIONS, step, (tf.constant(0), v0)
    )
    rayleigh = tf.reduce_sum(v * normal_matvec(v))
    return _LIPSCHITZ_MARGIN * rayleigh


def _fista(smooth, gap_at, w0, alpha, lipschitz, tol, max_iter, gap_every, positive,
           penalty=1):
    """Accelerated proximal gradient with adaptive restart, column by column.

    ``smooth(W)`` is the summed smooth part of the objective (its gradient
    comes from the tape), ``gap_at(W)`` the per-column duality gap, and
    ``penalty`` (p x 1) weighs each feature's L1 term. A column
    stops iterating once its gap is at most ``tol``; the loop ends when every
    column has stopped or ``max_iter`` iterations were made.
    """
    dtype = w0.dtype
    one = tf.ones_like(alpha)
    step = 1 / tf.maximum(lipschitz, tf.constant(1e-300, dtype))

    def gradient(z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            value = smooth(z)
        return tape.gradient(value, z)

    def body(it, w, w_prev, t, n_iter, gap):
        active = gap > tol
        t_next = (1 + tf.sqrt(1 + 4 * t**2)) / 2
        z = w + ((t - 1) / t_next) * (w - w_prev)
        threshold = step * alpha * penalty
        w_new = _soft_threshold(z - step * gradient(z), threshold, positive)
        # Restart the momentum when it points against the prox-gradient step
        # (O'Donoghue and Candes, 2015); this keeps FISTA near-monotone.
        restart = tf.reduce_sum((z - w_new) * (w_new - w), axis=0) > 0
        t_next = tf.where(restart, one, t_next)
        w_new = tf.where(active, w_new, w)
        w_prev = tf.where(active, w, w_prev)
        n_iter = n_iter + tf.cast(active, tf.int32)
        it = it + 1
        check = tf.logical_or(it % gap_every == 0, it >= max_iter)
        gap = tf.cond(
            check, lambda: tf.where(active, gap_at(w_new), gap), lambda: gap
        )
        return it, w_new, w_prev, t_next, n_iter, gap

    def keep_going(it, w, w_prev, t, n_iter, gap):
        return tf.logical_and(it < max_iter, tf.reduce_any(gap > tol))

    state = (
        tf.constant(0),
        w0,
        w0,
        one,
        tf.zeros(tf.shape(alpha), tf.int32),
        gap_at(w0),
    )
    _, w, _, _, n_iter, gap = tf.while_loop(keep_going, body, state)
    return w, gap, n_iter


def _solve_gram(gram, xty, yy, n, penalty, alpha, w0, tol, max_iter, gap_every,
                positive):
    def smooth(w):
        return 0.5 * tf.reduce_sum(w * tf.matmul(gram, w)) - tf.reduce_sum(xty * w)

    def gap_at(w):
        gram_w = tf.matmul(gram, w)
        wq = tf.reduce_sum(w * xty, axis=0)
        rr = tf.maximum(yy - 2 * wq + tf.reduce_sum(w * gram_w, axis=0), 0)
        return _duality_gap(
            rr, yy - wq, xty - gram_w, w, alpha, n, positive, penalty[:, None]
        )

    p = tf.shape(gram)[0]
    lipschitz = _lipschitz(lambda v: tf.matmul(gram, v), p, gram.dtype)
    return _fista(
        smooth, gap_at, w0, alpha, lipschitz, tol, max_iter, gap_every, positive,
        penalty[:, None],
    )


def _operator_solver(matmul):
    """Operator-form solver for a design matrix multiplied by ``matmul``.

    Like the Gram form it iterates on rescaled features ``v = w / penalty``
    (``penalty_j`` the inverse norm of column j), so that one step size
    suits columns of any scale; ``w`` goes in and comes out.
    """

    def solve(
        X, x_offset, sqrt_sw, y, penalty, alpha, w0, tol, max_iter, gap_every,
        positive,
    ):
        n = tf.cast(tf.shape(y)[0], y.dtype)
        weights = sqrt_sw[:, None]
        penalty = penalty[:, None]

        def forward(v):  # sqrt(sw) * (X - x_offset) @ (penalty * v)
            w = penalty * v
            return weights * (matmul(X, w) - tf.matmul(x_offset[None, :], w))

        def backward(r):  # penalty * (X - x_offset)^T @ (sqrt(sw) * r)
            r = weights * r
            xtr = matmul(X, r, adjoint_a=True) - x_offset[:, None] * tf.reduce_sum(
                r, axis=0, keepdims=True
            )
            return penalty * xtr

        def smooth(v):
            return 0.5 / n * tf.reduce_sum((y - forward(v)) ** 2)

        def gap_at(v):
            r = y - forward(v)
            rr = tf.reduce_sum(r**2, axis=0) / n
            ry = tf.reduce_sum(r * y, axis=0) / n
            return _duality_gap(rr, ry, backward(r) / n, v, alpha, n, positive, penalty)

        p = tf.shape(x_offset)[0]
        lipschitz = _lipschitz(lambda v: backward(forward(v)) / n, p, y.dtype)
        v, gap, n_iter = _fista(
            smooth, gap_at, w0 / penalty, alpha, lipschitz, tol, max_iter, gap_every,
            positive, penalty,
        )
        return penalty * v, gap, n_iter

    return solve


def _dense_matmul(X, w, adjoint_a=False):
    return tf.matmul(X, w, transpose_a=adjoint_a)


def _sparse_matmul(X, w, adjoint_a=False):
    return tf.sparse.sparse_dense_matmul(X, w, adjoint_a=adjoint_a)


def _scalar(dtype):
    return tf.TensorSpec([], dtype)


def _vector(dtype):
    return tf.TensorSpec([None], dtype)


def _matrix(dtype):
    return tf.TensorSpec([None, None], dtype)


def _controls(dtype):
    """Signature of the trailing arguments shared by every form."""
    return [
        _vector(dtype),  # alpha, one per column
        _matrix(dtype),  # w0
        _vector(dtype),  # tol, absolute, one per column
        _scalar(tf.int32),  # max_iter
        _scalar(tf.int32),  # gap_every
        _scalar(tf.bool),  # positive
    ]


def _build(dtype):
    operator_head = [
        _vector(dtype),  # x_offset
        _vector(dtype),  # sqrt_sw
        _matrix(dtype),  # y, centred and weighted
        _vector(dtype),  # penalty: inverse column norms
        *_controls(dtype),
    ]
    dense = tf.function(
        _operator_solver(_dense_matmul),
        input_signature=[_matrix(dtype), *operator_head],
    )
    sparse = tf.function(
        _operator_solver(_sparse_matmul),
        input_signature=[tf.SparseTensorSpec([None, None], dtype), *operator_head],
    )
    return {"dense": dense, "sparse": sparse}


# The Gram form is XLA-compiled (its iterations are tiny, so per-op dispatch
# would dominate). XLA compiles once per concrete shape, so ``solve_gram``
# pads p and K up to a few bucket sizes.
_GRAM = tf.function(
    _solve_gram,
    input_signature=[
        _matrix(tf.float64),  # gram
        _matrix(tf.float64),  # xty
        _vector(tf.float64),  # yy
        _scalar(tf.float64),  # n
        _vector(tf.float64),  # penalty, one weight per feature
        *_controls(tf.float64),
    ],
    jit_compile=True,
)

SOLVERS = {dtype: _build(dtype) for dtype in (tf.float32, tf.float64)}
"""Operator-form solvers, ``SOLVERS[dtype]["dense" | "sparse"]``; each returns
``(W, gap, n_iter)``."""
SOLVERS[tf.float64]["gram"] = _GRAM


@functools.cache
def _gram_program():
    """The traced Gram program: calling it directly skips ``tf.function``'s
    argument binding, about half of a small fit's time."""
    return _GRAM.get_concrete_function()


def _bucket(size):
    """The smallest power of two, at least 16, that holds ``size``.

    Coarse on purpose: each new bucket costs an XLA compilation (about a
    second), each padded feature only p^2 work per iteration.
    """
    return max(16, 1 << (int(size) - 1).bit_length())


def _padded(array, shape, fill=0.0):
    """``array`` (float64) in the leading corner of a ``shape`` array of ``fill``."""
    out = np.full(shape, fill)
    out[tuple(slice(0, size) for size in np.shape(array))] = array
    return out


def solve_gram(gram, xty, yy, n, alpha, w0, tol, max_iter, gap_every, positive):
    """Solve the Gram form in float64; numpy in and out.

    The features are rescaled to unit norm first (``v_j = d_j w_j`` with
    ``d_j^2 = G_jj``, the L1 term weighted by ``1 / d_j`` so the problem is
    unchanged): one global step size then suits features of any scale, where
    on the raw problem a 1e8 column would freeze a 1e-8 one.

    Padding to bucket sizes: padded features have zero rows and columns in
    ``gram`` and zero ``xty``, so they stay at zero and change neither the
    Lipschitz constant nor the gap; padded targets have ``yy = 0`` and
    ``tol = 0`` and are converged before the first iteration.
    """
    p, k = xty.shape
    pp, kk = _bucket(p), 1 if k == 1 else _bucket(k)
    diagonal = np.diag(gram)
    scale = np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    inputs = [
        _padded(gram / np.outer(scale, scale), (pp, pp)),
        _padded(xty / scale[:, None], (pp, kk)),
        _padded(yy, (kk,)),
        np.float64(n),
        _padded(1 / scale, (pp,), fill=1.0),
        _padded(alpha, (kk,)),
        _padded(w0 * scale[:, None], (pp, kk)),
        _padded(tol, (kk,)),
        np.int32(max_iter),
        np.int32(gap_every),
        np.bool_(positive),
    ]
    # Tensors in, not numpy: binding numpy arguments to the signature costs
    # more than converting them first (about 1 ms of a 1.5 ms diabetes fit).
    v, gap, n_iter = _gram_program()(*map(tf.constant, inputs))
    return v.numpy()[:p, :k] / scale[:, None], gap.numpy()[:k], n_iter.numpy()[:k]
