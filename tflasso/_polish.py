"""Exact polish: solve the smooth problem on the support, signs fixed.

FISTA finds the support of a lasso early, then crawls towards the solution
at a rate set by the conditioning of the data (correlated spectra, binary
fingerprints), and stops anywhere within the duality-gap tolerance, where
coordinate descent lands nearly on the solution. Once the support ``S`` and
the signs ``s`` of an iterate are right, the solution is that of a smooth
problem: for one task, the linear system

    (G_SS + alpha (1 - l1_ratio) diag(f_S)) w_S = q_S - alpha l1_ratio f_S s_S

with ``G = X^T X / n`` and ``q = X^T y / n`` of the centred, weighted data
(unpenalised features have ``f_j = 0``); for several tasks (the L2,1 norm)
a few damped Newton steps on the rows of ``S``.

Safeguards: a one-task solution whose signs differ from ``s`` is stepped
back along the segment to the first sign change (that coordinate becomes
exactly zero; the objective decreases along the segment, which lies in the
orthant where the smooth problem is the objective), and the proximal loop
continues from there. A new point must not raise the objective and is
accepted only if its duality gap (:func:`tflasso._programs.certify`, the one
gap) is within the tolerance or lower than the current one, so every point
returned is certified. A rank-deficient block takes the minimum-norm
least-squares step. Each problem is polished only when ``|S|^3`` is small
against the iterations' cost so far, and not again on the same signed
support after a failure.

Numpy, one problem at a time (supports are small), float64; one batched
call of the certificate checks every candidate.
"""

import numpy as np
from scipy import linalg

from . import _programs

# A polish (a Cholesky factorisation, |S|^3 / 3 multiply-adds, or (|S| T)^3 / 3
# per Newton step) is tried when it costs at most this share of the
# iterations' time so far, or less than _FREE_SIZE^3 multiply-adds (then
# less than a compiled call's overhead, about a millisecond).
_COST_SHARE = 1.0
# A multiply-add of a matrix product or factorisation costs this fraction of
# one of a matrix-vector product (memory-bound): measured here, X^T X of a
# 10,000 x 200 block at 26 G multiply-adds/s of CPU, a pass X v, X^T r over
# 10,000 x 1,000 at 1.7 G/s.
_BLAS3_SPEEDUP = 8
_FREE_SIZE = 128
# Newton steps on the rows of a multi-task support, and the Armijo constant
# of their backtracking line search.
_NEWTON_STEPS = 8
_ARMIJO = 1e-4
# Objective increase tolerated as rounding, relative to ||y||^2 / n.
_ROUNDING = 1e-13
# Further polishes of a support grown by the features that break the
# optimality conditions (by more than _VIOLATION relative); they enter at
# _ENTRY times the largest coefficient, along their correlation.
_GROW = 2
_VIOLATION = 1e-9
_ENTRY = 1e-9


class Tried:
    """The signed supports already polished without success, per problem."""

    def __init__(self):
        self.failed = {}

    def skip(self, key, signature):
        return self.failed.get(key) == signature

    def record(self, key, signature, success):
        if success:
            self.failed.pop(key, None)
        else:
            self.failed[key] = signature


def affordable(cost, spent):
    """Whether a polish of ``cost`` multiply-adds (matrix products and
    factorisations) is worth trying after ``spent`` multiply-adds of
    iterations (matrix-vector products)."""
    return cost <= max(_COST_SHARE * _BLAS3_SPEEDUP * spent, _FREE_SIZE**3)


def polish(gram, xty, yy, n, penalty, free, w, gap, tol, spent, tried=None,
           only=None):
    """Polish each problem of a batch of Gram problems: ``(W, gap, accepted)``.

    ``gram`` (B, p, p), ``xty`` (B, p, C, T), ``yy`` (B, C), ``n`` (B,)
    unscaled and float64, ``penalty`` a :class:`~tflasso._penalty.Penalty` of numpy arrays,
    ``free`` an :class:`~tflasso._programs.Unpenalised` or None, ``w`` (B, p,
    C, T) the current points and ``gap`` (B, C) their gaps, ``tol`` (B, C)
    absolute. ``spent`` (B, C), the multiply-adds of iterations so far,
    sets the cost gate (see :func:`affordable`);
    ``tried`` (a :class:`Tried`) remembers failures across calls; ``only``
    (B, C) bool restricts the problems tried. Returns the new points and
    gaps (the old ones where not accepted) and which were accepted.
    """
    n_sets, p, c, t = xty.shape
    w = np.array(w, np.float64)
    gap = np.array(gap, np.float64)
    accepted = np.zeros((n_sets, c), bool)
    entering = np.zeros(w.shape, np.float64)  # start rows of features let in
    todo = np.ones((n_sets, c), bool) if only is None else np.array(only, bool)
    for attempt in range(1 + _GROW):
        candidate, trying, signatures = _candidates(
            gram, xty, penalty, w, entering, spent, todo, None if attempt else tried
        )
        if not trying.any():
            break
        new_gap, corr = _gap(gram, xty, yy, n, penalty, free, candidate)
        better = trying & _improves(gram, xty, yy, penalty, w, candidate, gap, new_gap,
                                    tol)
        if tried is not None and not attempt:
            for (b, k), signature in signatures.items():
                tried.record((b, k), signature, bool(better[b, k] and new_gap[b, k] <= tol[b, k]))
        w = np.where(better[:, None, :, None], candidate, w)
        gap = np.where(better, new_gap, gap)
        accepted |= better
        # A support that misses a feature can be solved exactly within tol
        # yet off the solution: let the features that break the optimality
        # conditions in, along their correlation, and solve again.
        entering = _violators(penalty, w, corr) * better[:, None, :, None]
        todo = np.any(entering != 0, axis=(1, 3))
        if not todo.any():
            break
    return w, gap, accepted


def _candidates(gram, xty, penalty, w, entering, spent, todo, tried):
    """The polished points of the problems ``todo`` (B, C) whose supports
    (with the ``entering`` rows) are affordable and not ``tried`` before."""
    n_sets, p, c, t = xty.shape
    factor = np.asarray(penalty.factor, np.float64)
    l1 = np.asarray(penalty.alpha) * np.asarray(penalty.l1_ratio)
    l2 = np.asarray(penalty.alpha) - l1
    unpenalised = factor == 0
    candidate = w.copy()
    trying = np.zeros((n_sets, c), bool)
    signatures = {}
    for b, k in zip(*np.nonzero(todo)):
        current = np.where(w[b, :, k] != 0, w[b, :, k], entering[b, :, k])
        support = np.flatnonzero(current.any(axis=1) | unpenalised)
        # Without an L1 part the tasks separate: one factorisation.
        size = support.size * (t if l1[k] > 0 else 1)
        if not support.size or not affordable(size**3 / 3, spent[b, k]):
            continue
        signature = (support.tobytes(), np.sign(current[support]).tobytes())
        if tried is not None and tried.skip((b, k), signature):
            continue
        step = _signed_solve if t == 1 else _rows_newton
        new = step(gram[b][np.ix_(support, support)], xty[b, support, k],
                   current[support], l1[k] * factor[support],
                   l2[k] * factor[support], penalty.positive)
        if new is None:
            continue
        candidate[b, :, k] = 0.0
        candidate[b, support, k] = new
        trying[b, k] = True
        signatures[b, k] = signature
    return candidate, trying, signatures


def _improves(gram, xty, yy, penalty, w, candidate, gap, new_gap, tol):
    """Where ``candidate`` does not raise the objective and its gap is
    within ``tol`` or below ``gap``."""
    factor = np.asarray(penalty.factor, np.float64)
    l1 = np.asarray(penalty.alpha) * np.asarray(penalty.l1_ratio)
    l2 = np.asarray(penalty.alpha) - l1
    before = _objective(gram, xty, w, factor, l1, l2)
    after = _objective(gram, xty, candidate, factor, l1, l2)
    return (np.isfinite(new_gap) & (after <= before + _ROUNDING * np.abs(yy))
            & ((new_gap <= tol) | (new_gap < gap)))


def _violators(penalty, w, corr):
    """Start rows (B, p, C, T) for the zero features whose dual term exceeds
    ``alpha l1_ratio f_j``: tiny, along their correlation ``corr``."""
    factor = np.asarray(penalty.factor, np.float64)[None, :, None]
    l1 = (np.asarray(penalty.alpha) * np.asarray(penalty.l1_ratio))[None, None, :]
    direction = np.maximum(corr, 0) if penalty.positive else corr
    norms = np.sqrt(np.sum(direction**2, axis=3))
    breaks = (~np.any(w != 0, axis=3)) & (factor > 0) & (l1 > 0) & (
        norms > factor * l1 * (1 + _VIOLATION)
    )
    scale = _ENTRY * np.max(np.abs(w), axis=(1, 3), keepdims=True)[:, :, :, 0]
    safe = np.where(norms > 0, norms, 1.0)
    return np.where(breaks[..., None], direction * (scale / safe)[..., None], 0.0)


def _solve(matrix, rhs):
    """``matrix^{-1} rhs`` for a symmetric positive semi-definite ``matrix``,
    on its unit-diagonal rescaling; minimum-norm least squares where the
    Cholesky factorisation fails or does not solve the system."""
    d = np.sqrt(np.diagonal(matrix).copy())
    d[~(d > 0)] = 1.0
    scaled = matrix / np.outer(d, d)
    d = d.reshape(-1, *[1] * (rhs.ndim - 1))
    b = rhs / d
    try:
        x = linalg.cho_solve(linalg.cho_factor(scaled, check_finite=False), b,
                             check_finite=False)
        residual = np.linalg.norm(scaled @ x - b)
        if np.all(np.isfinite(x)) and residual <= 1e-10 * max(np.linalg.norm(b), 1e-300):
            return x / d
    except linalg.LinAlgError:
        pass
    x = linalg.lstsq(scaled, b, cond=1e-12, check_finite=False)[0]
    return x / d


def _signed_solve(gram, xty, w, l1, l2, positive):
    """One task: the sign-fixed solution on the support, or the first sign
    change along the segment to it. ``w`` (k, 1)."""
    w = w[:, 0]
    # Coefficients held to a sign: those with an L1 part, and all of them
    # when positive (the prox keeps even unpenalised ones >= 0).
    constrained = (l1 > 0) | positive
    signs = np.where(positive, 1.0, np.where(l1 > 0, np.sign(w), 0.0))
    x = _solve(gram + np.diag(l2), xty[:, 0] - l1 * signs)
    if not np.all(np.isfinite(x)):
        return None
    crossed = constrained & (x * signs <= 0)
    if crossed.any():
        # The objective is convex along the segment and decreasing towards x:
        # stop where the first coordinate reaches zero, and set it there.
        steps = w[crossed] / (w[crossed] - x[crossed])
        step = steps.min()
        x = w + step * (x - w)
        first = np.flatnonzero(crossed)[steps <= step]
        x[first] = 0.0
        x[constrained & (x * signs < 0)] = 0.0  # rounding past zero
    return x[:, None]


def _rows_newton(gram, xty, w, l1, l2, positive):
    """Several tasks: damped Newton steps on the rows ``w`` (k, T) of the
    support, where the L2,1 penalty is smooth."""
    k, t = w.shape
    if not np.any(l1 > 0):  # ridge: a linear system, the tasks separate
        return _solve(gram + np.diag(l2), xty)
    eye = np.eye(t)

    def value(v):
        norms = np.sqrt(np.sum(v * v, axis=1))
        return (0.5 * np.sum(v * (gram @ v)) - np.sum(xty * v) + l1 @ norms
                + 0.5 * l2 @ norms**2)

    def gradient(v):
        norms = np.sqrt(np.sum(v * v, axis=1))
        safe = np.where(norms > 0, norms, 1.0)
        return gram @ v - xty + (l1 / safe)[:, None] * v + l2[:, None] * v, norms, safe

    def hessian(v, norms, safe):
        u = v / safe[:, None]
        h = np.kron(gram, eye)
        for j in range(k):
            block = l2[j] * eye
            if norms[j] > 0:
                block = block + l1[j] / norms[j] * (eye - np.outer(u[j], u[j]))
            h[j * t:(j + 1) * t, j * t:(j + 1) * t] += block
        return h

    v = w.copy()
    current = value(v)
    grad, norms, safe = gradient(v)
    for _ in range(_NEWTON_STEPS):
        direction = -_solve(hessian(v, norms, safe), grad.ravel()).reshape(k, t)
        slope = np.sum(grad * direction)
        if not np.all(np.isfinite(direction)) or slope >= 0:
            break
        step = 1.0
        while step > 1e-10:
            trial = v + step * direction
            trial_value = value(trial)
            trial_grad = gradient(trial)
            # Near the solution the objective's decrease is below rounding:
            # a full step that shrinks the gradient is then taken.
            if trial_value <= current + _ARMIJO * step * slope or (
                step == 1.0 and trial_value <= current + _ROUNDING * abs(current)
                and np.linalg.norm(trial_grad[0]) < np.linalg.norm(grad)
            ):
                break
            step /= 2
        else:
            break
        v, current, (grad, norms, safe) = trial, trial_value, trial_grad
    return v


def _objective(gram, xty, w, factor, l1, l2):
    """The objective less ``||y||^2 / (2 n)``, (B, C)."""
    n_sets, p, c, t = w.shape
    rows = np.flatnonzero(np.any(w != 0, axis=(0, 2, 3)))
    sub = w[:, rows].reshape(n_sets, rows.size, c * t)
    quadratic = np.einsum("bic,bic->bc", sub, gram[:, rows][:, :, rows] @ sub)
    quadratic = quadratic.reshape(n_sets, c, t).sum(axis=2)
    linear = np.einsum("bpct,bpct->bc", w, xty)
    norms = np.sqrt(np.sum(w * w, axis=3))  # (B, p, C)
    penalty = l1 * np.einsum("p,bpc->bc", factor, norms) + 0.5 * l2 * np.einsum(
        "p,bpc->bc", factor, norms**2
    )
    return 0.5 * quadratic - linear + penalty


def _gap(gram, xty, yy, n, penalty, free, w):
    """The duality gap (B, C) of ``w`` (B, p, C, T) from the Gram statistics,
    and the residual's correlations ``X^T R / n`` (B, p, C, T)."""
    n_sets, p, c, t = w.shape
    rows = np.flatnonzero(np.any(w != 0, axis=(0, 2, 3)))
    gram_w = np.matmul(gram[:, :, rows], w[:, rows].reshape(n_sets, rows.size, c * t))
    gram_w = gram_w.reshape(n_sets, p, c, t)
    wq = np.einsum("bpct,bpct->bc", w, xty)
    rr = np.maximum(yy - 2 * wq + np.einsum("bpct,bpct->bc", w, gram_w), 0)
    if free is None:
        free = _programs.no_unpenalised(n_sets, p, c, t)
    corr = xty - gram_w
    gap, _ = _programs.certify(penalty, free, w, rr, yy - wq, corr,
                               np.asarray(n, np.float64)[:, None])
    return gap, corr


def polish_design(design, y, penalty, free, w, gap, tol, spent):
    """Polish operator-form solutions: ``(W (p, C, T), gap (C,))``.

    ``design`` is a :class:`~tflasso._design.Design`, ``y`` (n, C, T) its
    centred, weighted targets, ``w`` (p, C, T) and ``gap`` (C,) the loop's
    points and gaps, ``tol`` (C,) absolute, ``spent`` the loop's multiply-adds.
    The support's columns give the Gram problem to polish (``n |S|^2``); a
    full pass certifies the candidates, kept where within tol or better.
    """
    n = design.shape[0]
    p, c, t = w.shape
    factor = np.asarray(penalty.factor, np.float64)
    support = np.flatnonzero(w.any(axis=(1, 2)) | (factor == 0))
    k = support.size
    if not k or not affordable(n * k * k + c * (k * t) ** 3 / 3, spent):
        return w, gap
    block = design.block(support)
    flat = np.asarray(y, np.float64).reshape(n, c * t)
    gram = block.T @ block / n
    xty = (block.T @ flat / n).reshape(k, c, t)
    yy = np.einsum("nct,nct->c", y, y)[None] / n
    sub = penalty._replace(factor=factor[support])
    candidate, _, tried = polish(
        gram[None], xty[None], yy, np.array([float(n)]), sub,
        _programs.unpenalised_of_gram(gram[None], xty[None], sub.factor),
        w[None, support].astype(np.float64), np.full((1, c), np.inf), np.zeros((1, c)),
        np.full((1, c), spent / c),
    )
    if not tried.any():
        return w, gap
    full = np.zeros((p, c, t))
    full[support] = candidate[0]
    residual = flat - block @ candidate[0].reshape(k, c * t)
    new_gap, _ = _programs.certify_residual(design, penalty, free, full, y,
                                            residual.reshape(n, c, t))
    accepted = tried[0] & ((new_gap <= tol) | (new_gap < gap))
    return (np.where(accepted[None, :, None], full, w),
            np.where(accepted, new_gap, gap))
