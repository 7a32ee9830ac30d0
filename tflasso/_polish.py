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
support after a failure until its gap has fallen tenfold. A support that
misses a feature can be solved exactly, within tol, off the solution: the
features that then break the optimality conditions enter (at a tiny value
along their correlation) and the support is polished again.

Numpy, one problem at a time (supports are small), float64; one batched
call of the certificate checks every candidate.
"""

import numpy as np
import scipy.linalg

from . import _programs, _threads

# Polishing a problem (factorisations, |S|^3 / 3 multiply-adds, of |S| T
# unknowns with T tasks) may cost in all this share of its iterations'
# multiply-adds so far: where it never succeeds, it adds at most a quarter
# to a fit's work. (At 1.0, single fits with supports of 800 features,
# fingerprints and wide at 0.01 alpha_max, took 1.6-1.9x the CPU time of
# fits without a polish, which had converged within tol.) A factorisation
# of at most _FREE_SIZE unknowns is always allowed: under half a millisecond
# (a 300 x 300 Cholesky took 1.5 ms of CPU here); at 128, the multi-task CV
# folds of 50 features x 3 tasks (scikit-learn's test_multitask_enet_and_
# lasso_cv) were never polished and stopped within tol off the solution.
_COST_SHARE = 0.25
_FREE_SIZE = 192
# A multiply-add of the products X_S^T X_S costs this fraction of one of a
# pass over X (memory-bound): measured here, X^T X of a 10,000 x 200 block at
# 26 G multiply-adds/s of CPU, a pass X v, X^T r over 10,000 x 1,000 at
# 1.7 G/s.
_BLAS3_SPEEDUP = 8
# A multiply-add of a Cholesky factorisation inside a fit costs this many of
# an iteration's: on fingerprints (1,000 x 4,000) at 0.01 alpha_max, 800 x
# 800 factorisations took 120 ms of CPU each (1.3 G/s, against 8 G/s outside
# a fit: TensorFlow's threads compete with BLAS's).
_FACTOR_COST = 4
# Solves of a one-task support (each drops a feature whose sign changed), or
# Newton steps on the rows of a multi-task support; the Armijo constant of
# the Newton steps' backtracking line search.
_STEPS = 8
_ARMIJO = 1e-4
# Objective increase tolerated as rounding, relative to ||y||^2 / n.
_ROUNDING = 1e-13
# Further polishes of a support grown by the features that break the
# optimality conditions (by more than _VIOLATION relative); they enter at
# _ENTRY times the largest coefficient, along their correlation.
_GROW = 2
# A signed support that failed is tried again once the gap is this many
# times smaller.
_RETRY = 10.0
_VIOLATION = 1e-9
_ENTRY = 1e-9


class Ledger:
    """Per problem, the polish work already spent, and the signed support
    that failed last with the gap there: a support is tried again once the
    gap has fallen by _RETRY (Newton's steps converge from closer starts)."""

    def __init__(self):
        self.failed = {}
        self.used = {}

    def affordable(self, key, cost, spent):
        # Small polishes always are (see _FREE_SIZE); larger ones within
        # the share of the iterations' work, with what was spent before.
        return affordable(cost, 0.0) or affordable(cost + self.used.get(key, 0.0), spent)

    def charge(self, key, cost):
        self.used[key] = self.used.get(key, 0.0) + cost

    def skip(self, key, signature, gap):
        signed, at = self.failed.get(key, (None, 0.0))
        return signed == signature and gap > at / _RETRY

    def record(self, key, signature, gap, success):
        if success:
            self.failed.pop(key, None)
        else:
            self.failed[key] = (signature, gap)


def affordable(cost, spent):
    """Whether polishing work of ``cost`` multiply-adds is worth it after
    ``spent`` multiply-adds of iterations."""
    return cost <= max(_COST_SHARE * spent, factor_cost(_FREE_SIZE))


def factor_cost(size):
    """The cost of one factorisation of ``size`` unknowns, in multiply-adds
    of an iteration (see _FACTOR_COST)."""
    return _FACTOR_COST * size**3 / 3


def products_cost(n, k):
    """The cost of ``X_S^T X_S`` for ``k`` columns of ``n`` rows, in
    multiply-adds of a pass (see _BLAS3_SPEEDUP)."""
    return n * k * k / _BLAS3_SPEEDUP


def polish(gram, xty, yy, n, penalty, free, w, gap, tol, spent, ledger=None,
           only=None, certify=True):
    """Polish each problem of a batch of Gram problems: ``(W, gap, accepted)``.

    ``gram`` (B, p, p), ``xty`` (B, p, C, T), ``yy`` (B, C), ``n`` (B,)
    unscaled and float64, ``penalty`` a :class:`~tflasso._penalty.Penalty` of numpy arrays,
    ``free`` an :class:`~tflasso._programs.Unpenalised` or None, ``w`` (B, p,
    C, T) the current points and ``gap`` (B, C) their gaps, ``tol`` (B, C)
    absolute. ``spent`` (B, C), the multiply-adds of iterations so far,
    sets the cost gate (see :func:`affordable`); a :class:`Ledger` keeps
    the polish work and failures across calls; ``only``
    (B, C) bool restricts the problems tried. Returns the new points and
    gaps (the old ones where not accepted) and which were accepted. Without
    ``certify`` (for a caller that certifies the point itself, with a full
    pass: the working sets), a candidate is accepted where it does not raise
    the objective, and its gap is ``inf``; no certificate is computed.
    numpy's BLAS runs on one thread meanwhile (see :mod:`tflasso._threads`:
    ElasticNet with l1_ratio=0 on 300 x 100 at tol=1e-11, whose polish is
    one solve, took 125 ms of CPU a fit with two threads, 4.5 ms with one).
    """
    with _threads.one_blas_thread():
        return _polish_batch(gram, xty, yy, n, penalty, free, w, gap, tol, spent, ledger,
                             only, certify)


def _polish_batch(gram, xty, yy, n, penalty, free, w, gap, tol, spent, ledger, only,
                  certify):
    """:func:`polish`, at whatever BLAS threads are set."""
    n_sets, p, c, t = xty.shape
    w = np.array(w, np.float64)
    gap = np.array(gap, np.float64)
    accepted = np.zeros((n_sets, c), bool)
    entering = np.zeros(w.shape, np.float64)  # start rows of features let in
    todo = np.ones((n_sets, c), bool) if only is None else np.array(only, bool)
    w_corr = None  # the correlations X^T R / n of w, for its objective
    for attempt in range(1 + _GROW):
        candidate, trying, signatures = _candidates(
            gram, xty, penalty, w, gap, entering, spent, todo, ledger, attempt == 0
        )
        if not trying.any():
            break
        if certify:
            new_gap, corr = _gap(gram, xty, yy, n, penalty, free, candidate)
        else:
            new_gap, corr = np.zeros_like(gap), _correlations(gram, xty, candidate)[0]
        if w_corr is None:
            w_corr = _correlations(gram, xty, w)[0]
        better = trying & _improves(xty, yy, penalty, w, w_corr, candidate, corr, gap,
                                    new_gap, tol)
        if ledger is not None and not attempt:
            # A point that improved may improve again from the next start.
            for (b, k), signature in signatures.items():
                ledger.record((b, k), signature, gap[b, k], bool(better[b, k]))
        w = np.where(better[:, None, :, None], candidate, w)
        w_corr = np.where(better[:, None, :, None], corr, w_corr)
        gap = np.where(better, new_gap, gap)
        accepted |= better
        # A support that misses a feature can be solved exactly within tol
        # yet off the solution: let the features that break the optimality
        # conditions in, along their correlation, and solve again.
        entering = _violators(penalty, w, corr) * better[:, None, :, None]
        todo = np.any(entering != 0, axis=(1, 3))
        if not todo.any():
            break
    if not certify:
        gap = np.where(accepted, np.inf, gap)
    return w, gap, accepted


def _candidates(gram, xty, penalty, w, gap, entering, spent, todo, ledger, first):
    """The polished points of the problems ``todo`` (B, C) whose supports
    (with the ``entering`` rows) are affordable and, on a ``first`` attempt,
    have not failed before."""
    n_sets, p, c, t = xty.shape
    factor = np.asarray(penalty.factor, np.float64)
    l1 = np.asarray(penalty.alpha) * np.asarray(penalty.l1_ratio)
    l2 = np.asarray(penalty.alpha) - l1
    unpenalised = factor == 0
    candidate = w.copy()
    trying = np.zeros((n_sets, c), bool)
    signatures, jobs = {}, []
    for b, k in zip(*np.nonzero(todo)):
        current = np.where(w[b, :, k] != 0, w[b, :, k], entering[b, :, k])
        support = np.flatnonzero(current.any(axis=1) | unpenalised)
        # Without an L1 part the tasks separate: one factorisation.
        size = support.size * (t if l1[k] > 0 else 1)
        # (Newton's steps are counted as one: they mostly take two or three.)
        cost = factor_cost(size)
        ok = (affordable(cost, spent[b, k]) if ledger is None
              else ledger.affordable((b, k), cost, spent[b, k]))
        if not support.size or not ok:
            continue
        signature = (support.tobytes(), np.sign(current[support]).tobytes())
        if ledger is not None:
            if first and ledger.skip((b, k), signature, gap[b, k]):
                continue
            ledger.charge((b, k), cost)
        signatures[b, k] = signature
        jobs.append((b, k, support, current[support]))
    if t == 1:
        solved = _signed_solves(gram, xty, jobs, l1[:, None] * factor, l2[:, None] * factor,
                                penalty.positive)
    else:
        solved = [
            _rows_newton(principal_block(gram[b], support), xty[b, support, k], start,
                         l1[k] * factor[support], l2[k] * factor[support])
            for b, k, support, start in jobs
        ]
    for (b, k, support, _), new in zip(jobs, solved):
        if new is None:
            continue
        candidate[b, :, k] = 0.0
        candidate[b, support, k] = new
        trying[b, k] = True
    return candidate, trying, signatures


def _signed_solves(gram, xty, jobs, l1, l2, positive):
    """One task: :func:`_signed_solve` of every job ``(b, c, support,
    start)``, batched by padded support size; ``l1``, ``l2`` (C, p)."""
    solved = [None] * len(jobs)
    buckets = {}
    for i, (_, _, support, _) in enumerate(jobs):
        buckets.setdefault(max(8, 1 << int(support.size - 1).bit_length()), []).append(i)
    # A lone problem is solved at its own size (padding 260 features to 512
    # made a path's solves 8 times the work).
    buckets = {(jobs[m[0]][2].size if len(m) == 1 else size): m
               for size, m in buckets.items()}
    for size, members in buckets.items():
        n = len(members)
        matrix, rhs = np.zeros((n, size, size)), np.zeros((n, size))
        start, weight, valid = np.zeros((n, size)), np.zeros((n, size)), np.zeros((n, size), bool)
        for row, i in enumerate(members):
            b, k, support, current = jobs[i]
            m = support.size
            block = matrix[row, :m, :m]
            block[...] = principal_block(gram[b], support)
            block.flat[:: m + 1] += l2[k, support]
            rhs[row, :m] = xty[b, support, k, 0]
            start[row, :m] = current[:, 0]
            weight[row, :m] = l1[k, support]
            valid[row, :m] = True
        x = _signed_solve(matrix, rhs, start, weight, valid, positive)
        for row, i in enumerate(members):
            if np.all(np.isfinite(x[row])):
                solved[i] = x[row, : jobs[i][2].size, None]
    return solved


def principal_block(matrix, index):
    """``matrix[np.ix_(index, index)]``, by two takes: a third less time than
    one such gather (0.83 against 1.2 ms for 520 of 1,100 features)."""
    return matrix.take(index, axis=0).take(index, axis=1)


def _improves(xty, yy, penalty, w, w_corr, candidate, corr, gap, new_gap, tol):
    """Where ``candidate`` does not raise the objective and its gap is
    within ``tol`` or below ``gap``; ``w_corr`` and ``corr`` are the
    correlations ``X^T R / n`` of ``w`` and ``candidate``.

    Gaps within _ROUNDING of ``||y||^2 / n`` are rounding (the Gram form's
    squared residual ``yy - 2 w.q + w.Gw`` cancels to about that): a
    tolerance tighter than that is met by any of them, or a finishing polish
    at scikit-learn's tol=1e-16 (test_enet_ridge_consistency) would hang on
    which of the iterate's and the exact point's gaps rounded lower (-2e-15
    against 2e-14, tol 8e-15; the exact point's coefficients 5e-8 from
    Ridge's, the iterate's 6e-4).
    """
    factor = np.asarray(penalty.factor, np.float64)
    l1 = np.asarray(penalty.alpha) * np.asarray(penalty.l1_ratio)
    l2 = np.asarray(penalty.alpha) - l1
    before = _objective(xty, w, w_corr, factor, l1, l2)
    after = _objective(xty, candidate, corr, factor, l1, l2)
    rounding = _ROUNDING * np.abs(yy)
    return (np.isfinite(new_gap) & (after <= before + rounding)
            & ((new_gap <= np.maximum(tol, rounding)) | (new_gap < gap)))


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
    """``matrix^{-1} rhs`` for symmetric positive semi-definite matrices
    (N, k, k) and right-hand sides (N, k, m), on their unit-diagonal
    rescaling; minimum-norm least squares (an eigenvalue pseudo-inverse)
    where a matrix is singular or its solve inaccurate."""
    d = np.sqrt(np.diagonal(matrix, axis1=1, axis2=2).copy())
    d[~(d > 0)] = 1.0
    scaled = matrix / (d[:, :, None] * d[:, None, :])
    b = rhs / d[:, :, None]
    try:
        with np.errstate(all="ignore"):
            x = _cholesky_solve(scaled, b)
            residual = np.linalg.norm(scaled @ x - b, axis=(1, 2))
        bad = ~(residual <= 1e-10 * np.maximum(np.linalg.norm(b, axis=(1, 2)), 1e-300))
    except np.linalg.LinAlgError:
        x, bad = np.zeros_like(b), np.ones(len(b), bool)
    if bad.any():
        values, vectors = np.linalg.eigh(scaled[bad])
        keep = values > 1e-12 * np.max(values, axis=1, keepdims=True)
        inverse = np.where(keep, 1 / np.where(keep, values, 1.0), 0.0)
        x[bad] = vectors @ (inverse[:, :, None] * (np.swapaxes(vectors, 1, 2) @ b[bad]))
    return x / d[:, :, None]


def _cholesky_solve(matrix, rhs):
    """``np.linalg.solve``, by Cholesky for a lone positive definite matrix
    (half the multiply-adds of LU; a path's supports are solved one at a
    time), by LU otherwise."""
    if len(matrix) == 1:
        try:
            factor = scipy.linalg.cho_factor(matrix[0], check_finite=False)
        except np.linalg.LinAlgError:
            pass
        else:
            return scipy.linalg.cho_solve(factor, rhs[0], check_finite=False)[None]
    return np.linalg.solve(matrix, rhs)


def _signed_solve(matrix, rhs, x, l1, valid, positive):
    """One task, feature-sign steps (as in Lee et al., 2007), for N padded
    problems: ``matrix`` (N, k, k) is ``G_SS + alpha (1 - l1_ratio) f_S``,
    ``rhs`` (N, k) ``q_S``, ``x`` (N, k) the start, ``l1`` (N, k) ``alpha
    l1_ratio f_S``, ``valid`` (N, k) the entries that are not padding.

    Solve for the active features with their signs fixed; where the solution
    changes a sign, go to the first sign change along the segment (the
    objective decreases along it), set that coordinate to zero, drop it, and
    solve again: at most _STEPS solves. A problem that has landed is not
    solved again (a batch of 100 path problems whose supports landed at
    different steps solved all 100 at every step).
    """
    n, k = x.shape
    # Coefficients held to a sign: those with an L1 part, and all of them
    # when positive (the prox keeps even unpenalised ones >= 0).
    constrained = valid & ((l1 > 0) | positive)
    signs = np.where(positive, 1.0, np.where(l1 > 0, np.sign(x), 0.0))
    rhs = rhs - l1 * signs
    active, out, x = valid.copy(), x.copy(), x.copy()
    eye = np.eye(k)
    pending = np.arange(n)  # the problems not landed yet: only they are solved
    for _ in range(_STEPS):
        # Inactive (and padded) entries: identity rows, zero right-hand side.
        on = active[pending]
        if on.all():  # nothing dropped or padded: the matrices themselves
            restricted = matrix if pending.size == n else matrix[pending]
        else:
            restricted = np.where(on[:, :, None] & on[:, None, :], matrix[pending], 0.0)
            restricted += eye * ~on[:, None, :]
        target = _solve(restricted, np.where(on, rhs[pending], 0.0)[:, :, None])[:, :, 0]
        crossed = on & constrained[pending] & (target * signs[pending] <= 0)
        landed = ~crossed.any(axis=1)
        out[pending[landed]] = target[landed]
        moving = ~landed
        pending, target, crossed = pending[moving], target[moving], crossed[moving]
        if not pending.size:
            break
        start = x[pending]
        drop = start - target
        with np.errstate(all="ignore"):
            steps = np.where(crossed, np.where(drop != 0, start / drop, 0.0), np.inf)
        step = steps.min(axis=1, keepdims=True)
        start = start + step * (target - start)
        start[crossed & (steps <= step)] = 0.0
        start[constrained[pending] & (start * signs[pending] < 0)] = 0.0  # rounding past zero
        x[pending] = start
        active[pending] &= (start != 0) | ~constrained[pending]
    out[pending] = x[pending]
    return out


def _rows_newton(gram, xty, w, l1, l2):
    """Several tasks: damped Newton steps on the rows ``w`` (k, T) of the
    support, where the L2,1 penalty is smooth."""
    k, t = w.shape
    if not np.any(l1 > 0):  # ridge: a linear system, the tasks separate
        return _solve((gram + np.diag(l2))[None], xty[None])[0]
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
    for _ in range(_STEPS):
        direction = -_solve(hessian(v, norms, safe)[None], grad.reshape(1, -1, 1)).reshape(k, t)
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


def _objective(xty, w, corr, factor, l1, l2):
    """The objective less ``||y||^2 / (2 n)``, (B, C), from the correlations
    ``corr = q - G w`` of ``w``: ``w.Gw / 2 - w.q = -(w.q + w.corr) / 2``."""
    quadratic = np.einsum("bpct,bpct->bc", w, xty - corr)
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
    corr, gram_w = _correlations(gram, xty, w)
    wq = np.einsum("bpct,bpct->bc", w, xty)
    rr = np.maximum(yy - 2 * wq + np.einsum("bpct,bpct->bc", w, gram_w), 0)
    if free is None:
        free = _programs.no_unpenalised(n_sets, p, c, t)
    gap, _ = _programs.certify(penalty, free, w, rr, yy - wq, corr,
                               np.asarray(n, np.float64)[:, None])
    # A duality gap is >= 0: at a polished point the Gram form's cancellation
    # (||R||^2 from ||y||^2 - 2 w.q + w.G w) leaves rounding of either sign.
    return np.maximum(gap, 0.0), corr


def _correlations(gram, xty, w):
    """``X^T R / n`` (B, p, C, T) of ``w`` from the Gram statistics, and ``G w``."""
    n_sets, p, c, t = w.shape
    rows = np.flatnonzero(np.any(w != 0, axis=(0, 2, 3)))
    gram_w = np.matmul(gram[:, :, rows], w[:, rows].reshape(n_sets, rows.size, c * t))
    gram_w = gram_w.reshape(n_sets, p, c, t)
    return xty - gram_w, gram_w


def polish_design(design, y, penalty, free, w, gap, tol, spent, only):
    """Polish operator-form solutions: ``(W (p, C, T), gap (C,))``.

    ``design`` is a :class:`~tflasso._design.Design`, ``y`` (n, C, T) its
    centred, weighted targets, ``w`` (p, C, T) and ``gap`` (C,) the loop's
    points and gaps, ``tol`` (C,) absolute, ``spent`` the loop's multiply-adds,
    ``only`` (C,) the problems to polish. Their supports' columns give the
    Gram problem to polish (``n |S|^2``); a full pass certifies the
    candidates, kept where within tol or better. None where the polish is
    not affordable.
    """
    n = design.shape[0]
    p, c, t = w.shape
    factor = np.asarray(penalty.factor, np.float64)
    support = np.flatnonzero(w[:, only].any(axis=(1, 2)) | (factor == 0))
    k = support.size
    if not k or not affordable(products_cost(n, k) + factor_cost(k * t), spent):
        return None
    block = design.block(support)
    flat = np.asarray(y, np.float64).reshape(n, c * t)
    gram = block.T @ block / n
    xty = (block.T @ flat / n).reshape(k, c, t)
    yy = np.einsum("nct,nct->c", y, y)[None] / n
    sub = penalty._replace(factor=factor[support])
    candidate, _, polished = polish(
        gram[None], xty[None], yy, np.array([float(n)]), sub,
        _programs.unpenalised_of_gram(gram[None], xty[None], sub.factor),
        w[None, support].astype(np.float64), np.full((1, c), np.inf), np.zeros((1, c)),
        np.full((1, c), spent / c), only=only[None],
    )
    if not polished.any():
        return w, gap
    full = np.zeros((p, c, t))
    full[support] = candidate[0]
    residual = flat - block @ candidate[0].reshape(k, c * t)
    new_gap, _ = _programs.certify_residual(design, penalty, free, full, y,
                                            residual.reshape(n, c, t))
    accepted = polished[0] & ((new_gap <= tol) | (new_gap < gap))
    return (np.where(accepted[None, :, None], full, w),
            np.where(accepted, new_gap, gap))
