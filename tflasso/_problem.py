"""The problem: one fit's (or one fold's) data, centred and weighted, built once.

The intercept never reaches the solver: X and Y are centred with the sample
weights, and the intercept is recovered as ``y_offset - x_offset @ coef``, as
scikit-learn does. The tolerance is made absolute here, and only here:
``tol * ||y - mean(y)||^2 / n`` per problem (summed over tasks), scikit-learn's
rule.

Targets are laid out as ``C`` problems of ``T`` tasks: a multi-output lasso
has ``K`` independent problems of one task, a multi-task lasso one problem of
``K`` tasks (the penalty couples them).
"""

import numpy as np

from . import _programs
from ._design import Design, normalise_weights, offsets
from ._penalty import Penalty


def layout(n_targets, tasks):
    """``(C, T)``: problems and tasks for ``n_targets`` columns of Y."""
    return (1, n_targets) if tasks else (n_targets, 1)


class Problem:
    """The centred, weighted data of one fit.

    ``Y`` is (n, K); with ``tasks`` its columns are the tasks of one problem.
    """

    xla = True  # whether its Gram-form solves may compile by XLA

    def __init__(self, X, Y, sample_weight, fit_intercept, tasks=False):
        self.n = X.shape[0]
        self.fit_intercept = fit_intercept
        self.layout = layout(Y.shape[1], tasks)
        sw = normalise_weights(sample_weight, self.n)
        self.x_offset, self.y_offset = offsets(X, Y, sw, fit_intercept)
        root = None if sw is None else np.sqrt(sw)
        self.design = Design(X, self.x_offset, root)
        y = Y.astype(np.float64) - self.y_offset
        self.y = y if root is None else y * root[:, None]  # (n, K)
        self.yy_targets = np.einsum("ik,ik->k", self.y, self.y) / self.n

    def problems(self, array):
        """The trailing K axis of ``array`` as ``(C, T)``."""
        return np.reshape(array, (*np.shape(array)[:-1], *self.layout))

    @property
    def yy(self):
        """``||y - mean(y)||^2 / n`` of each problem, (C,)."""
        return self.problems(self.yy_targets).sum(axis=-1)

    def tolerance(self, tol):
        """scikit-learn's absolute gap tolerance of each problem, (C,)."""
        return tol * self.yy

    def intercept(self, w):
        """The unpenalised intercepts of coefficients ``w`` (p, K) or (p, A, T)."""
        shift = np.tensordot(self.x_offset, w, 1)
        if not self.fit_intercept:
            return np.zeros_like(shift)
        return self.y_offset - shift

    def scale(self):
        """Unit-norm scales of the features: ``||x_j - mean||`` / sqrt(n)."""
        return _programs.unit_scale(self.design.col_norm2() / self.n)

    def xty(self):
        """``X^T y / n`` of the centred, weighted data, (p, C, T)."""
        return self.problems(self.design.rmatvec(self.y) / self.n)

    def unpenalised(self, factor, repeat=1):
        """:class:`~tflasso._programs.Unpenalised` for penalty factors ``factor``.

        ``repeat`` copies each problem (a path solves one problem at several
        alphas). None when every feature is penalised.
        """
        index = np.flatnonzero(factor == 0).astype(np.int32)
        if not index.size:
            return None
        block = self.design.block(index)
        xty = self.problems(block.T @ self.y / self.n)
        return _programs.Unpenalised(
            index,
            np.linalg.pinv(block.T @ block / self.n, hermitian=True)[None],
            (self.design.rmatvec(block) / self.n)[None],
            np.repeat(xty, repeat, axis=1)[None],
        )


def penalty(alpha, l1_ratio, factor, positive, n_problems=1):
    """A :class:`~tflasso._penalty.Penalty` of numpy arrays.

    ``alpha`` and ``l1_ratio`` are scalars or one per problem.
    """
    alpha = np.broadcast_to(np.asarray(alpha, np.float64), (n_problems,)).copy()
    ratio = np.broadcast_to(np.asarray(l1_ratio, np.float64), alpha.shape).copy()
    return Penalty(alpha, ratio, np.asarray(factor, np.float64), np.bool_(positive))


def alpha_max(xty, factor, l1_ratio, free=None, positive=False):
    """The smallest alpha at which every penalised coefficient is zero, (C,).

    ``xty`` is ``X^T y / n`` (p, C, T) of the centred, weighted data. As in
    scikit-learn, the largest feature dual term (row norms over tasks)
    divided by ``l1_ratio`` (with ``positive``, of the positive parts only,
    as scikit-learn 1.9 does); features with factor 0 are unpenalised, so the
    residual is taken after regressing y on them (their span is projected
    out), and the other features' terms are divided by their factors.
    """
    p, c, t = xty.shape
    if free is None:
        free = _programs.no_unpenalised(1, p, c, t)
    unit = penalty(1.0, 1.0, factor, positive, c)
    zeros = np.zeros((1, c))
    _, duals = _programs.certify(unit, free, np.zeros((1, p, c, t)), zeros, zeros,
                                 xty[None], 1.0)
    return duals[0].max(axis=0, initial=0.0) / l1_ratio
