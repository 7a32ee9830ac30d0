"""The penalty: a weighted elastic net on rows of coefficients, in TensorFlow.

One penalty serves every estimator. Coefficients are a tensor ``W`` of shape
``(B, p, C, T)``: ``B`` data sets (cross-validation folds, or one), ``p``
features, ``C`` independent problems per data set (targets, or alphas along a
path) and ``T`` tasks per problem. Row ``W[b, j, c, :]`` is feature ``j``'s
coefficients in problem ``(b, c)`` and is penalised as a whole:

    alpha_c * f_j * (l1_ratio_c * ||w_j||_2 + (1 - l1_ratio_c) / 2 * ||w_j||_2^2)

with ``f_j >= 0`` the penalty factor of feature ``j``. With ``T = 1`` the norm
is an absolute value: the lasso (``l1_ratio = 1``) and scikit-learn's elastic
net. With ``T > 1`` it is the L2,1 norm of scikit-learn's multi-task lasso and
elastic net. ``f_j = 0`` leaves feature ``j`` unpenalised.

The dual norm and the duality gap take numpy arrays too (their operations
are those of :func:`tflasso._namespace.of` their arguments): small
certificates are evaluated by numpy, by the same formula.

Everything here is in the user's coordinates ``w``. The solver iterates on
rescaled features ``v_j = s_j w_j`` (see :mod:`tflasso._programs`); only the
proximal step needs to know ``s``.
"""

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from . import _namespace


class Penalty(NamedTuple):
    """The penalty's parameters, as tensors (a ``tf.function`` argument)."""

    alpha: tf.Tensor  # (C,) strength of each problem
    l1_ratio: tf.Tensor  # (C,) share of the L1 part, in [0, 1]
    factor: tf.Tensor  # (p,) per-feature multiplier of alpha, >= 0
    positive: tf.Tensor  # () bool: constrain coefficients to be >= 0 (T = 1)


def _strengths(penalty):
    """The L1 and L2 strengths, shaped ``(1, 1, C)`` to broadcast over ``(B, p, C)``."""
    l1 = penalty.alpha * penalty.l1_ratio
    l2 = penalty.alpha - l1
    return l1[None, None, :], l2[None, None, :]


def row_norms(w):
    """``||w[b, j, c, :]||_2``, shaped ``(B, p, C)``.

    With one task it is exactly ``|w|`` (the square root of a square is
    exact in IEEE arithmetic, short of underflow).
    """
    ops = _namespace.of(w)
    return ops.sqrt(ops.sum(w * w, axis=-1))


def _feasible(penalty, u):
    ops = _namespace.of(u)
    return ops.where(penalty.positive, ops.maximum(u, 0), u)


def prox(penalty, step, scale):
    """The proximal operator of ``step`` times the penalty, in rescaled features.

    Returns a function of ``u`` ``(B, p, C, T)`` in the coordinates ``v =
    scale * w`` (``scale`` is ``(B, p)``, ``step`` broadcasts to ``(B, 1,
    C)``), where the penalty of row ``j`` has L1 weight ``f_j / s_j`` and L2
    weight ``f_j / s_j^2``. Rows whose norm is at most the threshold become
    exactly zero. The thresholds are computed once, outside the loop.
    """
    return _prox_and_slope(penalty, step, scale)[0]


def _prox_and_slope(penalty, step, scale):
    """:func:`prox`, and the slope ``(B, p, C)`` of its output for one task
    (the derivative of each coordinate of the prox at its result ``x``)."""
    l1, l2 = _strengths(penalty)
    factor = penalty.factor[None, :, None] / scale[:, :, None]
    threshold = step * l1 * factor
    unshrink = 1 / (1 + step * l2 * factor / scale[:, :, None])
    tiny = tf.constant(np.finfo(scale.dtype.as_numpy_dtype).tiny, scale.dtype)

    def apply(u):
        u = _feasible(penalty, u)
        keep = tf.nn.relu(1 - threshold / tf.maximum(row_norms(u), tiny))
        return u * (keep * unshrink)[..., None]

    def slope(x):  # one task: 1 / (1 + step l2 f_j / s_j^2) where x_j != 0, else 0
        return tf.where(x[..., 0] != 0, unshrink, tf.zeros_like(unshrink))

    return apply, slope


# Newton steps at most, per proximal step in a metric (see metric_prox): on
# a piecewise linear equation each lands on the root once on its piece;
# 2 to 4 sufficed on the benchmarks.
_METRIC_NEWTON = 30


def metric_prox(penalty, step, scale, u):
    """The proximal operator of the penalty in the metric ``H = I / step + u
    u^T`` (one task), in rescaled features: ``argmin_x g(x) + ||x - w||_H^2 /
    2``.

    As in Becker and Fadili (2012, "A quasi-Newton proximal splitting
    method"): the optimality conditions give ``x = prox_step(w - step beta
    u)`` (:func:`prox`) with the scalar ``beta = u^T (x - w)``, the root of
    ``h(beta) = u^T (prox_step(w - step beta u) - w) - beta``, which is
    piecewise linear and decreasing (slope between -1 and ``-1 - step
    ||u||^2``): Newton's method on the root's bracket ``[0, h(0)]``, bisecting
    where a step leaves it, finds it exactly once on its linear piece.
    Coefficients are exactly zero where the prox makes them so, whatever the
    rounding of ``beta``. ``u`` is ``(B, p, 1, 1)``, ``step`` ``(B, 1, 1)``.

    Returns a function of ``(w, beta)`` ``(B, p, C, 1)`` and ``(B, 1, C, 1)``
    (a warm start, as the last step's root) giving ``(x, beta)``.
    """
    plain, slope = _prox_and_slope(penalty, step, scale)
    step = step[..., None]  # (B, 1, 1, 1)
    u2 = tf.reduce_sum(u * u, axis=-1)  # (B, p, 1)
    dtype = scale.dtype
    # h is a sum over the features: its rounding grows with their number.
    eps = tf.constant(max(1e-12, 64 * np.finfo(dtype.as_numpy_dtype).eps), dtype)

    def apply(w, beta):
        def at(b):
            x = plain(w - (step * b) * u)
            return x, tf.reduce_sum(u * (x - w), axis=1, keepdims=True) - b

        _, h0 = at(tf.zeros_like(beta))
        lo, hi = tf.minimum(h0, 0), tf.maximum(h0, 0)
        beta = tf.clip_by_value(beta, lo, hi)
        x, h = at(beta)

        def unsolved(i, beta, lo, hi, x, h):
            return tf.logical_and(
                i < _METRIC_NEWTON,
                tf.reduce_any(tf.abs(h) > eps * (tf.abs(beta) + tf.abs(h0))),
            )

        def newton(i, beta, lo, hi, x, h):
            lo = tf.where(h > 0, beta, lo)  # h decreases: the root lies above beta
            hi = tf.where(h < 0, beta, hi)
            d = -1 - step[..., 0] * tf.reduce_sum(u2 * slope(x), axis=1, keepdims=True)
            guess = beta - h / d[..., None]
            inside = tf.logical_and(guess > lo, guess < hi)
            beta = tf.where(h == 0, beta, tf.where(inside, guess, (lo + hi) / 2))
            x, h = at(beta)
            return i + 1, beta, lo, hi, x, h

        _, beta, _, _, x, _ = tf.while_loop(
            unsolved, newton, (tf.constant(0), beta, lo, hi, x, h)
        )
        return x, beta

    return apply


def feature_dual(penalty, corr):
    """Each feature's dual-norm term ``||x_j^T theta|| / f_j``, shaped ``(B, p, C)``.

    ``corr`` is ``X^T theta / n`` ``(B, p, C, T)``; unpenalised features
    (``f_j = 0``) give 0: their constraint is handled by projection (see
    :func:`duality_gap`). The penalty's dual norm is the maximum over ``j``.
    """
    ops = _namespace.of(corr)
    factor = penalty.factor[None, :, None]
    penalised = factor > 0
    norm = row_norms(_feasible(penalty, corr))
    return ops.where(penalised, norm / ops.where(penalised, factor, 1), ops.zeros_like(norm))


def duality_gap(penalty, w, rr, theta, corr, n):
    """scikit-learn's duality gap / ``n`` ``(B, C)``, and each feature's dual term.

    ``w`` is ``(B, p, C, T)``; ``rr = ||R||^2 / n`` for the residual ``R``
    (summed over tasks), ``(B, C)``. The dual point is the residual with the
    unpenalised features' span projected out, ``theta = (||theta||^2 / n,
    theta . y / n)`` ``(B, C)`` each, and ``corr = X^T theta / n``
    ``(B, p, C, T)``; without unpenalised features ``theta`` is ``R`` itself.
    ``n`` broadcasts to ``(B, C)``.

    With an L1 part (scikit-learn's "formulation A"), the elastic net is a
    lasso on data augmented by ``sqrt(n alpha (1 - l1_ratio) f_j)`` rows, and
    the dual point is rescaled into the dual feasible set. Without one it is
    scikit-learn's ridge gap ("formulation B"), and with no penalty at all the
    squared gradient norm ``n ||X^T R / n||^2``. The feature terms ``(B, p,
    C)`` are :func:`feature_dual` of ``X^T theta / n`` less the L2 part; their
    maximum is the dual norm (working sets rank features by them).
    """
    ops = _namespace.of(w)
    l1, l2 = _strengths(penalty)
    l1, l2 = l1[0], l2[0]  # (1, C)
    factor = penalty.factor[None, :, None]
    norms = row_norms(w)
    weighted_l1 = ops.sum(factor * norms, axis=1)
    weighted_l2 = l2 * ops.sum(factor * norms**2, axis=1)
    theta_rr, theta_ry = theta

    xta = corr - (l2 * factor)[..., None] * w
    duals = feature_dual(penalty, xta)
    dual_norm = ops.max(duals, axis=1)
    infeasible = dual_norm > l1
    scale = ops.where(infeasible, l1 / ops.where(infeasible, dual_norm, 1), 1)
    primal = 0.5 * (rr + weighted_l2) + l1 * weighted_l1
    dual = -0.5 * scale**2 * (theta_rr + weighted_l2) + scale * theta_ry
    lasso = primal - dual

    penalised = factor > 0
    corr2 = ops.sum(corr**2, axis=-1)
    over_factor = ops.where(penalised, corr2 / ops.where(penalised, factor, 1), 0)
    ridge = (
        0.5 * (rr + theta_rr + weighted_l2) - theta_ry
        + ops.sum(over_factor, axis=1) / (2 * ops.where(l2 > 0, l2, 1))
    )
    ols = n * ops.sum(corr2, axis=1)
    gap = ops.where(l1 > 0, lasso, ops.where(l2 > 0, ridge, ols))
    return gap, duals
