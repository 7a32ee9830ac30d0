"""The compiled programs: their signatures, padding and float32/float64 policy.

Every fit runs one of three kinds of ``tf.function``, built once per dtype
with ``None`` dimensions, so new data, alphas, ``l1_ratio``, penalty factors,
``n`` or ``p`` never retrace:

* the Gram form: ``B`` data sets enter only through ``G_b = X_b^T X_b / n_b``
  and ``q_b = X_b^T Y_b / n_b`` (an iteration costs ``p^2`` per column);
* the operator form: ``X`` itself, dense or sparse (:class:`SparseX`), centred and
  weighted implicitly, never copied or densified;
* the certificate: the duality gap of a point whose residual correlations
  were computed elsewhere (the working sets' full passes).

All three solve on unit-norm features, ``v_j = s_j w_j`` with ``s_j`` the
norm of centred, weighted column ``j`` over ``sqrt(n)``: one step size then
suits columns of any scale (on raw columns a 1e8 column freezes a 1e-8 one).
The penalty is rewritten to match, so the problem, its solution and its
duality gap are unchanged; ``w`` goes in and comes out.

Features with penalty factor 0 are unpenalised: the dual point is the
residual with their span projected out (``Unpenalised`` holds what that
needs), so the gap certifies exactly the problem asked.
"""

import functools
import itertools
import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from . import _namespace, _polish
from ._loop import fista, lipschitz
from ._penalty import Penalty, duality_gap, metric_prox, prox

# Iterations between two duality-gap evaluations (each costs one more pass).
GAP_EVERY = 10
# The exact polish's gate: FISTA's first call runs this many iterations
# uninterrupted, and only the problems it leaves above the tolerance are
# polished, while their budget lasts. Measured without the polish, the
# well-conditioned problems stop well before: diabetes fits at 30 and 60
# iterations, diabetes LassoCV's batch at 130, the working sets' restricted
# solves on dense 10,000 x 1,000 at <= 30 and on fingerprints at <= 190;
# on spectra they take thousands (809 passes), which the polish cuts.
_POLISH_AFTER = 300
# After the gate, FISTA goes on in rounds of 300, 600, 1200, ... iterations,
# each followed by a polish. Each round restarts the momentum: rounds of 10,
# 20, 40, ... (the polish as first written) left 2 of the 40 fits of a small
# weighted LassoCV(alphas=10, cv=3) unconverged at max_iter=1000, where one
# uninterrupted call converges; with these, none (spectra 300 x 2,000 at 0.01
# alpha_max: 84 passes against 49, 0.56 against 0.48 s of CPU).
# Gram problems up to this many (padded) features run XLA-compiled: XLA fuses
# an iteration into a few kernels, where graph mode would spend its time
# dispatching the loop's small ops (per iteration here, XLA / graph: 128
# features 0.01 / 0.26 ms, 384 0.35 / 0.6 ms, 776 1.2 / 2.9 ms); above, XLA's
# products fall behind (1032: 4.9 / 3.1 ms) and graph mode never recompiles.
_MAX_XLA_FEATURES = 800
# Gram matrices of at least this many features, of which at most this share
# of entries is stored (judged first on this many of their rows), take
# sparse products in graph mode (a sparse X whose columns rarely share a
# row: rare terms 5,000 x 2,000, whose Gram matrix stores 0.55% of its
# entries).
_SPARSE_GRAM_FEATURES = 256
_SPARSE_GRAM_DENSITY = 0.05
_SPARSE_GRAM_SAMPLE = 64
_SPARSE_COLUMNS = 16  # columns per sparse product (see _sparse_gram_products)
# The padded sizes of working sets' restricted problems: a wide fit at 0.01
# alpha_max grew its set through 16, 32, 64, 128, 256 and 520 features, six
# XLA compilations of 1.5 to 2.3 s each (on a loaded machine) for solves of
# 1 to 28 ms; with these sizes, at most four. 512 and 768 pay for their
# compilations on wide data: along a path on 300 x 2,000, restricted
# problems of 260 to 600 features take 5,000 iterations, per iteration
# 1.0-1.3 ms uncompiled, 0.13 ms compiled at 512 (quiet machine). Above,
# uncompiled: at 1,024 compiled, 0.8 against 1.2 ms, but padding 600
# features to 1,024 made a path slower than uncompiled (1.4 ms, loaded).
_FEW_SIZES = (64, 256, 512, 768)
# The padded sizes of a chunked Gram path's restricted chunks
# (tflasso._strategies.gram_path), under the same rental: compiled at first
# use, each new size of those chunks cost an XLA compilation (0.6 to 0.8 s)
# in a process's first path or LassoCV. Fresh processes, first call / median
# of the last 8 of 20 (path) or 12 (LassoCV(cv=5)), at each size compiled
# at first use -> these sizes: dense 10,000 x 1,000 lasso_path 3.9-5.3 s /
# 0.27-0.36 s -> 1.0-1.2 s / 0.29-0.33 s, LassoCV 6.2-7.0 s / 1.1-1.2 s ->
# 2.3 s / 1.0-1.2 s; one-hot 10,000 x 4,060 lasso_path 6.3 s / 0.62 s ->
# 1.9 s / 0.61 s. (_FEW_SIZES' coarser padding: dense path 0.28 s warm.)
_CHUNK_SIZES = (32, 64, 128, 256, 520, 776)
# Each of those sizes is compiled by XLA only once its restricted problems
# have spent about a compilation's time (_COMPILE_SECONDS) more in graph mode
# than they would have compiled: ski rental, at most twice the better of the
# two in hindsight. A dense 10,000 x 1,000 fit at 0.01 alpha_max had compiled
# 64, 256 and 512 features, half a second each, for solves of 20 to 30
# iterations: 1.5 s of its first fit's 2.0 s. Measured per call of k
# iterations (quiet machine, graph / XLA): 64 features 1.2 + 0.066 k /
# 0.57 + 0.001 k ms, 256 2.5 + 0.12 k / 1.1 + 0.007 k, 512 5.4 + 0.15 k /
# 2.4 + 0.044 k, 768 5.1 + 0.18 k / 5.9 + 0.05 k: graph mode costs about
# (k + _GRAPH_CALL) (_GRAPH_ITERATION[0] + _GRAPH_ITERATION[1] size^2) s
# more. The estimate counts iterations, not the clock, so that the same
# fits in a process take the same programs.
_COMPILE_SECONDS = 0.5
_GRAPH_CALL = 20
_GRAPH_ITERATION = (70e-6, 1e-10)
_graph_seconds = {}  # padded size -> estimated seconds its problems ran in graph mode
# The best relative duality gap asked of float32 iterations (they stall near
# 1e-6); tighter tolerances are finished in float64.
_FLOAT32_TOL = 3e-5
# A relative tolerance tighter than float32 iterations meet asks for
# float64's precision, which FISTA's iterate does not give: stopped within
# a gap of tol, its coefficients carry about half the gap's digits (they
# enter the objective squared), where coordinate descent lands nearly on the
# solution. So a problem converged to such a tolerance is polished once
# (exact on its signed support, kept only if certified within tol):
# scikit-learn's agreement with Ridge at tol 1e-11 (rtol 5e-7) and OLS at
# 1e-15, and 3 decimals at tol 1e-6, which FISTA's iterates missed by 1e-5
# to 5e-3 relative (they converged in 20 to 190 iterations, before the
# gate). At the default 1e-4 nothing changes.
_EXACT_TOL = _FLOAT32_TOL
# In the metric program (see _operator_program) the step grows by at most
# this factor: where C is (nearly) zero (one row, or rows that differ only by
# a multiple of their mean), a step of 1 / L_C would magnify rounding
# without bound.
_METRIC_GAIN = 100.0
# Batches of more problems than this iterate in float32 first: their matrix
# products cost a fifth of float64's here. Single fits stay in float64.
_FLOAT32_PROBLEMS = 8


class GramData(NamedTuple):
    """The Gram form of ``B`` data sets, rescaled to unit-norm features (float64)."""

    gram: object  # (B, p, p)  G_b / (s s^T)
    xty: object  # (B, p, C, T)  q_b / s
    yy: object  # (B, C)  ||y||^2 / n, summed over tasks
    n: object  # (B,)
    scale: object  # (B, p)  s


class OperatorData(NamedTuple):
    """One data set as ``sqrt(sw) * (X - x_offset)``, never formed."""

    X: object  # (n, p), dense or SparseX
    x_offset: object  # (p,)
    root: object  # (n,) square roots of the sample weights
    y: object  # (n, C, T) centred, weighted targets
    scale: object  # (p,)  s
    # () an upper bound on the largest eigenvalue of the Hessian in rescaled
    # features, or 0: then estimated by power iterations. In the metric
    # program, that of the Hessian less the rows' mean direction (L_C).
    curvature: object


class Unpenalised(NamedTuple):
    """What projecting the unpenalised features' span out of a residual needs.

    In the user's coordinates, for the ``u`` features of ``index``:
    ``inverse`` is the pseudo-inverse of their Gram block, ``gram`` the Gram
    matrix's columns ``G[:, index]`` and ``xty`` the rows ``q[index]``.
    Padded entries are zero (index 0) and project nothing.
    """

    index: object  # (u,) int32
    inverse: object  # (B, u, u)
    gram: object  # (B, p, u)
    xty: object  # (B, u, C, T)


class Controls(NamedTuple):
    """When to stop."""

    tol: object  # (B, C) absolute gap tolerance, float64
    max_iter: object  # () int32
    gap_every: object  # () int32


def _batched_matmul(gram, v, shape=None):
    """``gram`` (B, p, q) times ``v`` (B, q, C, T), keeping v's trailing shape.

    ``shape``, v's, saves computing it inside the loop when it is known.
    """
    ops = _namespace.of(v)
    shape = ops.shape(v) if shape is None else shape
    out = ops.matmul(gram, ops.reshape(v, [shape[0], -1, shape[2] * shape[3]]))
    return ops.reshape(out, [shape[0], -1, shape[2], shape[3]])


def _project(free, rr, ry, corr):
    """The residual's dual statistics with the unpenalised span projected out.

    ``R - X_U a`` with ``a = G_UU^+ X_U^T R / n`` is orthogonal to the
    unpenalised columns; its squared norm and product with y follow from
    ``a`` without another pass over the data.
    """
    ops = _namespace.of(corr)
    corr_u = ops.gather(corr, free.index, axis=1)
    a = _batched_matmul(free.inverse, corr_u)
    corr = corr - _batched_matmul(free.gram, a)
    theta_rr = rr - ops.sum(a * corr_u, axis=(1, 3))
    theta_ry = ry - ops.sum(a * free.xty, axis=(1, 3))
    return (theta_rr, theta_ry), corr


def _gram_statistics(w, xty, yy, gram_w):
    """The residual's statistics ``(rr, ry, corr)`` of Gram problems (see
    :func:`_certify`) from ``G w``: ``||R||^2 / n = yy - 2 w.q + w.Gw``
    (at least 0), ``R.y / n = yy - w.q`` and ``X^T R / n = q - G w``; for
    tensors (the Gram program's gap check) and numpy arrays alike."""
    ops = _namespace.of(w)
    wq = ops.sum(w * xty, axis=(1, 3))
    rr = ops.maximum(yy - 2 * wq + ops.sum(w * gram_w, axis=(1, 3)), 0)
    return rr, yy - wq, xty - gram_w


def _certify(penalty, free, w, rr, ry, corr, n):
    """Duality gap ``(B, C)`` and feature dual terms ``(B, p, C)``."""
    theta, corr = _project(free, rr, ry, corr)
    return duality_gap(penalty, w, rr, theta, corr, n)


def _cast(penalty, dtype):
    return Penalty(
        tf.cast(penalty.alpha, dtype), tf.cast(penalty.l1_ratio, dtype),
        tf.cast(penalty.factor, dtype), penalty.positive,
    )


def _gram_products(gram, v_shape, one):
    """``v -> gram v`` for ``v`` of shape ``v_shape`` (B, p, C, T); with
    ``one`` (B = 1), as a product of 2-D operands (see :func:`_gram_program`)."""
    if not one:
        return lambda v: _batched_matmul(gram, v, v_shape)
    matrix = tf.reshape(gram, [v_shape[1], v_shape[1]])  # outside the loop
    return lambda v: tf.reshape(tf.matmul(matrix, tf.reshape(v, [v_shape[1], -1])), v_shape)


def _sparse_gram_products(gram, v_shape):
    """``values -> (v -> gram v)``: for the stored entries ``values`` of a
    block-diagonal sparse ``gram`` (:class:`SparseX`, (B p, B p)), in the
    dtype to multiply in, the product with ``v`` of shape ``v_shape`` (B,
    p, C, T).

    TensorFlow's sparse product walks the columns of its dense operand one by
    one below 32 of them and vectorised from 32, which here is slower (rare
    terms' 2,000 x 2,000 Gram matrix, 22,000 entries, an iteration's product
    in a loop: 0.23 ms for 20 columns, 1.4 ms for 32 to 40): the columns are
    taken ``_SPARSE_COLUMNS`` at a time, as the product of the block-diagonal
    matrix of that many copies of ``gram`` (made once, outside the loop; its
    positions shared by the dtypes) with those blocks of columns stacked.
    """
    rows = v_shape[0] * v_shape[1]
    m = v_shape[2] * v_shape[3]
    width = tf.where(m < 2 * _SPARSE_COLUMNS, m, _SPARSE_COLUMNS)
    blocks = (m + width - 1) // width
    shift = tf.range(blocks) * rows  # each copy's offset
    indices = tuple(tf.reshape(i[None] + shift[:, None, None], [-1, 2]) for i in gram.indices)
    shape = tf.cast(tf.stack([blocks * rows, blocks * rows]), tf.int64)
    padding = [[0, 0], [0, blocks * width - m]]

    def products(values):
        copies = SparseX(indices, tuple(tf.tile(v, [blocks]) for v in values), shape)

        def product(v):
            flat = tf.pad(tf.reshape(v, [rows, m]), padding)
            stacked = tf.reshape(
                tf.transpose(tf.reshape(flat, [rows, blocks, width]), [1, 0, 2]),
                [blocks * rows, width])
            out = tf.reshape(_sparse_matmul(copies, stacked), [blocks, rows, width])
            out = tf.reshape(tf.transpose(out, [1, 0, 2]), [rows, blocks * width])
            return tf.reshape(out[:, :m], v_shape)

        return product

    return products


def _gram_program(data, free, penalty, controls, w0, one=False):
    """FISTA on the Gram form, iterating in ``w0``'s dtype, gap in float64.

    ``one``: for a single data set (B = 1) compiled by XLA, the products are
    of 2-D operands. As a batched product, XLA drops the batch dimension of
    size 1 by a bitcast of the Gram matrix inside the loop, fuses that
    bitcast into the product and emits a fused matrix-vector product as
    naive loops, which for the transposed product the tape makes walk the
    matrix by columns (per iteration at 1,024 features: 5.3 ms, against
    0.84 ms in 2-D and 1.2 ms uncompiled; at 256, 0.054 against 0.017 ms).
    A program of its own rather than a branch on B: a first fit traces and
    compiles one of the two (both in one program added 0.4 s to a first
    diabetes fit).
    """
    dtype = w0.dtype
    xty = tf.cast(data.xty, dtype)
    scale = data.scale[:, :, None, None]
    scale_it = tf.cast(data.scale, dtype)
    penalty_it, penalty64 = _cast(penalty, dtype), _cast(penalty, tf.float64)

    v_shape = tf.shape(w0)  # computed once, outside the loop
    if isinstance(data.gram, SparseX):  # block-diagonal (B p, B p), see _sparse_gram
        gram = data.gram._replace(values=tuple(tf.cast(v, dtype) for v in data.gram.values))
        products = _sparse_gram_products(data.gram, v_shape)
        product = products(gram.values)
        product64 = product if dtype == tf.float64 else products(data.gram.values)
    else:
        gram = tf.cast(data.gram, dtype)
        product = _gram_products(gram, v_shape, one)
        product64 = product if dtype == tf.float64 else _gram_products(data.gram, v_shape, one)

    @tf.custom_gradient
    def quadratic(v):
        # v.Gv / 2, whose gradient is Gv since G is symmetric: autodiff,
        # which cannot know that, would add the product G^T v.
        gram_v = product(v)
        return 0.5 * tf.reduce_sum(v * gram_v), lambda upstream: upstream * gram_v

    def smooth(v):
        return quadratic(v) - tf.reduce_sum(xty * v)

    def gap_at(v):
        v = tf.cast(v, tf.float64)
        rr, ry, corr = _gram_statistics(v, data.xty, data.yy, product64(v))
        return _certify(
            penalty64, free, v / scale, rr, ry, corr * scale, data.n[:, None]
        )[0]

    shape = tf.shape(data.xty)
    if isinstance(gram, SparseX):
        def normal(v):  # (B, p, 1) -> (B, p, 1)
            return tf.reshape(_sparse_matmul(gram, tf.reshape(v, [-1, 1])), tf.shape(v))
    else:
        def normal(v):
            return tf.matmul(gram, v)
    constant = lipschitz(normal, shape[0], shape[1], dtype)
    v, gap, n_iter = fista(
        smooth, lambda step: prox(penalty_it, step, scale_it), gap_at,
        w0 * tf.cast(scale, dtype), constant, controls.tol, controls.max_iter,
        controls.gap_every,
    )
    return v / tf.cast(scale, dtype), gap, n_iter


def _operator_program(matmul, metric=False):
    """FISTA on one data set given as an operator; everything in X's dtype.
    ``metric``: FISTA in the metric ``L_C I + u u^T`` (one task; the data's
    ``curvature`` is ``L_C``), a program of its own so that fits that do not
    need it do not compile it (it added 1.3 s to a first operator fit)."""

    def program(data, free, penalty, controls, w0):
        X = data.X
        dtype = data.y.dtype
        shape = tf.shape(data.y)  # (n, C, T)
        n = tf.cast(shape[0], dtype)
        y = tf.reshape(data.y, [shape[0], -1])
        root = data.root[:, None]
        scale = data.scale[:, None]
        penalty = _cast(penalty, dtype)

        unscale = 1 / scale  # multiplied, not divided, in the loop: fewer gradient ops

        @tf.custom_gradient
        def product(w):
            # X w, whose gradient is X^T times the upstream gradient: the
            # tape's own also differentiates X's stored entries (sparse X, a
            # loop of gradient steps alone on tf-idf-like 40,000 x 40,000
            # data: 16.2 against 11.9 ms an iteration; in this program, where
            # TensorFlow may prune that work, within the spread).
            return matmul(X, w), lambda up: matmul(X, up, adjoint_a=True)

        def forward(v):  # (p, m) in rescaled features -> (n, m)
            w = v * unscale
            return root * (product(w) - tf.matmul(data.x_offset[None, :], w))

        def correlation(r):  # (n, m) -> X^T R / n, (p, m), user's coordinates
            r = root * r
            xtr = matmul(X, r, adjoint_a=True)
            return (xtr - data.x_offset[:, None] * tf.reduce_sum(r, 0, keepdims=True)) / n

        def members(m):  # (p, C T) -> (1, p, C, T)
            return tf.reshape(m, [1, -1, shape[1], shape[2]])

        p = tf.shape(data.x_offset)[0]

        def flat(v):  # (1, p, C, T) -> (p, C T)
            return tf.reshape(v, [p, -1])

        def per_problem(m):  # (n, C T) -> (1, C)
            return tf.reduce_sum(tf.reshape(m, [1, shape[0], shape[1], shape[2]]), [1, 3])

        def smooth(v):
            return 0.5 / n * tf.reduce_sum((y - forward(flat(v))) ** 2)

        def gap_at(v):
            r = y - forward(flat(v))
            corr = members(correlation(r))
            return _certify(
                penalty, free, v / scale[None, :, :, None], per_problem(r * r) / n,
                per_problem(r * y) / n, corr, n,
            )[0]

        def normal(v):  # (1, p, 1)
            return (correlation(forward(v[0])) / scale)[None]

        def proximal(step):
            return prox(penalty, step, data.scale[None])

        start = w0 * scale[None, :, :, None]
        if not metric:
            constant = tf.cond(data.curvature > 0, lambda: data.curvature[None],
                               lambda: lipschitz(normal, 1, p, dtype))
            v, gap, n_iter = fista(smooth, proximal, gap_at, start, constant, controls.tol,
                                   controls.max_iter, controls.gap_every)
            return v / scale[None, :, :, None], gap, n_iter
        # The Hessian is C + u u^T: u the (rescaled) correlation of the
        # columns with the rows' direction e (their means, unweighted), C that
        # of the columns with it projected out, whose largest eigenvalue L_C
        # the caller gives as the curvature. Non-negative, uncentred data (no
        # intercept) have a large u (tf-idf-like 40,000 x 40,000: ||u||^2 30,
        # L_C 4), which would set the step for every direction; FISTA steps in
        # the metric L_C I + u u^T instead (see tflasso._loop.fista).
        e = data.root[:, None] / tf.norm(data.root)
        u = (tf.sqrt(n) * correlation(e) / scale)[None, :, :, None]  # (1, p, 1, 1)
        constant = tf.maximum(data.curvature, (data.curvature + tf.reduce_sum(u * u))
                              / _METRIC_GAIN)[None]
        v, gap, n_iter = fista(
            smooth, proximal, gap_at, start, constant, controls.tol, controls.max_iter,
            controls.gap_every,
            metric=(u, lambda step: metric_prox(penalty, step, data.scale[None], u)),
        )
        return v / scale[None, :, :, None], gap, n_iter

    return program


def _dense_matmul(X, w, adjoint_a=False):
    return tf.matmul(X, w, transpose_a=adjoint_a)


class SparseX(NamedTuple):
    """Sparse X for the operator programs: its stored entries in two halves,
    each as int32 (row, column) pairs and their values, and its shape (int64).

    TensorFlow multiplies a sparse matrix by one column on one thread, and
    the halves' products run side by side (two cores, a loop of gradient
    steps alone on tf-idf-like 40,000 x 40,000 data: 16.3 -> 8.1 ms an
    iteration; FISTA's there, 19 -> 12.6 ms with the metric step). Its
    product kernel takes int32 pairs, which ``tf.SparseTensor`` cannot hold:
    they take half the memory of int64 ones (the whole tensor, float32
    values, the size of X's own CSC arrays instead of 1.7 times it) and a
    product pair there took 4.7 ms against 5.6 with int64 halves. The halves
    are made once, in numpy (see tflasso._design.Design.tensor); slicing them
    in the program copied them at every call.
    """

    indices: tuple  # two (k, 2) int32
    values: tuple  # two (k,)
    shape: object  # (2,) int64


def in_halves(indices, values, shape, convert=lambda a: a):
    """:class:`SparseX` of the entries ``indices`` (k, 2) int32 and ``values``
    (k,), in 64-byte aligned buffers, and ``shape``: the halves split at a
    multiple of 16 entries, so that each is aligned too; each half passed
    through ``convert`` (:func:`tensor_of`, or numpy's as they are)."""
    half = len(values) // 32 * 16
    parts = (slice(None, half), slice(half, None))
    return SparseX(tuple(convert(indices[part]) for part in parts),
                   tuple(convert(values[part]) for part in parts), shape)


def _sparse_matmul(X, w, adjoint_a=False):
    return tf.add_n([
        tf.raw_ops.SparseTensorDenseMatMul(a_indices=i, a_values=v, a_shape=X.shape, b=w,
                                           adjoint_a=adjoint_a)
        for i, v in zip(X.indices, X.values)
    ])


def _spec(rank, dtype):
    return tf.TensorSpec([None] * rank, dtype)


def _penalty_spec(dtype):
    return Penalty(_spec(1, dtype), _spec(1, dtype), _spec(1, dtype), _spec(0, tf.bool))


def _free_spec(dtype):
    return Unpenalised(_spec(1, tf.int32), _spec(3, dtype), _spec(3, dtype), _spec(4, dtype))


def _controls_spec():
    return Controls(_spec(2, tf.float64), _spec(0, tf.int32), _spec(0, tf.int32))


def _compiled(program, signature, **options):
    """``program`` as a ``tf.function`` of its arguments flattened.

    Binding a flat list of tensors to a concrete function costs a fraction of
    binding nested named tuples (a diabetes fit: 1.5 -> 1.1 ms); the
    program sees its named arguments again.
    """

    def flat_program(*flat):
        return program(*tf.nest.pack_sequence_as(signature, flat))

    # The programs write their loops and branches as tf.while_loop and
    # tf.cond: AutoGraph would only re-parse their source, which was most of
    # a first fit (tracing the Gram program: 2.0 s of CPU, 0.7 s without).
    return tf.function(
        flat_program, input_signature=tf.nest.flatten(signature), autograph=False,
        **options,
    )


def _sparse_spec(dtype):
    return SparseX((_spec(2, tf.int32),) * 2, (_spec(1, dtype),) * 2, _spec(1, tf.int64))


def _gram_function(dtype, jit_compile, one=False, sparse=False):
    f64 = tf.float64
    gram = _sparse_spec(f64) if sparse else _spec(3, f64)
    data = GramData(gram, _spec(4, f64), _spec(2, f64), _spec(1, f64), _spec(2, f64))
    signature = [data, _free_spec(f64), _penalty_spec(f64), _controls_spec(), _spec(4, dtype)]
    return _compiled(functools.partial(_gram_program, one=one), signature,
                     jit_compile=jit_compile)


def _operator_function(dtype, kind, metric=False):
    X = _sparse_spec(dtype) if kind == "sparse" else _spec(2, dtype)
    data = OperatorData(X, _spec(1, dtype), _spec(1, dtype), _spec(3, dtype), _spec(1, dtype),
                        _spec(0, dtype))
    controls = Controls(_spec(2, dtype), _spec(0, tf.int32), _spec(0, tf.int32))
    program = (_operator_program(_sparse_matmul, metric=metric) if kind == "sparse"
               else _operator_program(_dense_matmul, metric=metric))
    signature = [data, _free_spec(dtype), _penalty_spec(dtype), controls, _spec(4, dtype)]
    return _compiled(program, signature)


_F64 = tf.float64
CERTIFY = _compiled(_certify, [
    _penalty_spec(_F64), _free_spec(_F64), _spec(4, _F64), _spec(2, _F64),
    _spec(2, _F64), _spec(4, _F64), _spec(0, _F64),
])
PROGRAMS = {
    **{("gram", dtype, jit): _gram_function(dtype, jit)
       for dtype in (tf.float32, tf.float64) for jit in (False, True)},
    # One data set compiled by XLA (see _gram_program's ``one``).
    **{("gram", dtype, "one"): _gram_function(dtype, True, one=True)
       for dtype in (tf.float32, tf.float64)},
    # Sparse Gram matrices, in graph mode (see _sparse_gram).
    **{("gram", dtype, "sparse"): _gram_function(dtype, False, sparse=True)
       for dtype in (tf.float32, tf.float64)},
    **{(kind, dtype): _operator_function(dtype, kind)
       for kind in ("dense", "sparse") for dtype in (tf.float32, tf.float64)},
    # FISTA in a metric (see _operator_program), for non-negative uncentred data.
    **{(kind, dtype, "metric"): _operator_function(dtype, kind, metric=True)
       for kind in ("dense", "sparse") for dtype in (tf.float32, tf.float64)},
    "certify": CERTIFY,
}
"""Every compiled program; tests count their traces."""


@functools.cache
def _traced(key):
    return PROGRAMS[key].get_concrete_function()


def _concrete(key):
    """The traced program itself, called with its arguments flattened: this
    skips :func:`tf.function`'s argument binding (about a millisecond, half
    of a small fit)."""
    program = _traced(key)
    if not hasattr(program, "_call_flat"):  # pragma: no cover - other TF versions
        return lambda *args: program(*tf.nest.flatten(args))
    # The arguments were built to the signature, so the binding (its checks
    # cost about 30 us a tensor, a third of a small fit) has nothing to do.
    captured = program.captured_inputs
    return lambda *args: program._call_flat(
        tf.nest.flatten(args, expand_composites=True), captured
    )


def _tensors(structure, dtype=None):
    """numpy to tensors, flattened (before the call: binding numpy arguments
    costs more); float leaves in ``dtype`` when given. Large arrays from
    :func:`_pad` are shared with TensorFlow, not copied; small ones are
    looked up by value (:func:`_small`)."""
    out = []
    for x in tf.nest.flatten(structure):
        x = np.asarray(x)
        cast = dtype if dtype is not None and x.dtype.kind == "f" else None
        out.append(
            _shared(x) if _shareable(x, dtype)
            else _small(x, cast) if x.nbytes <= _SMALL_BYTES
            else tf.constant(x, cast)
        )
    return out


# Arguments of at most this many bytes (scalars, one value per problem, the
# empty arrays of a fit with no unpenalised feature) are mostly the same from
# fit to fit; converting each costs 7 to 12 us (a diabetes fit has 16: a fifth
# of its time), a lookup by value about 1 us. Tensors are immutable, so
# sharing them is safe; the memo is emptied when it reaches _MAX_SMALL.
_SMALL_BYTES = 64
_MAX_SMALL = 4096
_SMALL = {}


def _small(x, dtype):
    key = (x.dtype.str, x.shape, x.tobytes(), dtype)
    tensor = _SMALL.get(key)
    if tensor is None:
        if len(_SMALL) >= _MAX_SMALL:
            _SMALL.clear()
        tensor = _SMALL[key] = tf.constant(x, dtype)
    return tensor


# Arrays of at least this many bytes are handed to TensorFlow without a copy
# (DLPack), which needs them aligned to 64 bytes (Eigen's alignment; numpy
# aligns to 16, so tf.constant copies twice: measured, a 183 MB float64
# array costs +374 MB resident, a 64-byte aligned one +183 MB, DLPack +0).
_SHARED_BYTES = 2**20
_ALIGN = 64


def _shareable(x, dtype):
    return (
        isinstance(x, np.ndarray) and _large_and_aligned(x)
        and x.dtype == np.float64 and dtype in (None, np.float64, tf.float64)
    )


def _large_and_aligned(x):
    return (x.nbytes >= _SHARED_BYTES and x.flags.c_contiguous
            and x.ctypes.data % _ALIGN == 0)


def _shared(x):
    """A tensor on ``x``'s memory: ``x`` must not change while it is in use."""
    return tf.experimental.dlpack.from_dlpack(x.__dlpack__())


def _aligned_full(shape, fill, dtype):
    """``np.full``, 64-byte aligned when large (see :func:`_shareable`)."""
    # (math.prod, not np.prod: this runs for every small argument of every fit.)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _SHARED_BYTES:
        return np.full(shape, fill, dtype)
    out = aligned_empty(shape, dtype, zeroed=True)  # pages untouched until written
    if fill:
        out.fill(fill)
    return out


def aligned_empty(shape, dtype, zeroed=False):
    """An array, 64-byte aligned (see :func:`_shareable`): uninitialised, or
    zeros with ``zeroed``."""
    shape = shape if isinstance(shape, tuple) else (shape,)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = (np.zeros if zeroed else np.empty)(nbytes + _ALIGN, np.uint8)
    start = -raw.ctypes.data % _ALIGN
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def tensor_of(x):
    """``x`` as a tensor of its dtype, on ``x``'s own memory where it is large
    and aligned (see :func:`_shareable`; ``x`` must not change while in use)."""
    return _shared(x) if _large_and_aligned(x) else tf.constant(x)


def aligned_zeros(shape):
    """float64 zeros that :func:`solve_gram` hands to TensorFlow without a copy
    (or scales in place, with ``overwrite``)."""
    return _aligned_full(shape, 0.0, np.float64)


# The scaling's temporary, a block of rows of s s^T, takes at most this: a
# whole p x p one was 122 MB of LassoCV's peak on 5,000 x 4,000.
_SCALE_BYTES = 2**22


def padded_size(size):
    """The smallest of 8, 12, 16, 24, ..., 256, 384, 520, 776, ... that holds ``size``.

    Each new size costs an XLA compilation (about a second); each padded
    feature only ``p`` more work per iteration and column. From 512 on, the
    sizes are 8 more than a multiple of 256: XLA's CPU loops over a Gram
    matrix whose rows are a multiple of 2 KiB apart thrash the cache (per
    iteration here: 512 -> 1.0 ms, 520 -> 0.5 ms; 768 -> 3.2 ms, 776 -> 1.2 ms;
    1024 -> 14 ms, 1032 -> 4.9 ms). Those were the naive column walks of a
    single data set's batched product (see :func:`_gram_program`); with
    2-D products, 512 takes 0.13 ms. Batches keep the shifted sizes.
    """
    def shifted(bucket):
        return bucket + 8 if bucket >= 512 else bucket

    bucket = 8
    while shifted(bucket) < size:
        bucket = bucket * 3 // 2 if bucket & (bucket - 1) == 0 else bucket * 4 // 3
    return shifted(bucket)


def _pad(array, shape, fill=0.0):
    out = _aligned_full(shape, fill, np.result_type(array))
    out[tuple(slice(0, size) for size in np.shape(array))] = array
    return out


def unpenalised_of_gram(gram, xty, factor):
    """:class:`Unpenalised` from unscaled Gram statistics ``(B, p, p)``, ``(B, p, C, T)``."""
    index = np.flatnonzero(np.asarray(factor) == 0).astype(np.int32)
    if not index.size:
        return no_unpenalised(*xty.shape)
    block = gram[:, index][:, :, index]
    return Unpenalised(
        index, np.linalg.pinv(block, hermitian=True), gram[:, :, index], xty[:, index]
    )


def no_unpenalised(n_sets, p, c, t, dtype=np.float64):
    """:class:`Unpenalised` for a penalty with no zero factor."""
    return Unpenalised(
        np.zeros(0, np.int32), np.zeros((n_sets, 0, 0), dtype),
        np.zeros((n_sets, p, 0), dtype), np.zeros((n_sets, 0, c, t), dtype),
    )


def asks_exact(tol, yy):
    """Which problems' absolute tolerances ``tol`` (with their ``||y||^2 / n``,
    ``yy``) ask for float64's precision: a polish once converged (see
    _EXACT_TOL)."""
    return np.asarray(tol) < _EXACT_TOL * np.asarray(yy)


def unit_scale(diagonal):
    """``s``: square roots of a Gram diagonal, 1 where a column is zero."""
    return np.sqrt(np.where(diagonal > 0, diagonal, 1.0))


def solve_gram(gram, xty, yy, n, penalty, free, tol, max_iter, w0=None, few_sizes=None,
               xla=True, overwrite=False, exact=None):
    """The Gram form, numpy in and out: ``(W, gap, n_iter)``.

    ``gram`` (B, p, p), ``xty`` (B, p, C, T), ``yy`` and ``tol`` (absolute)
    (B, C), ``n`` (B,), all float64 and unscaled; ``penalty`` a
    :class:`Penalty` of numpy arrays; ``free`` an :class:`Unpenalised` (or
    None); ``w0`` (B, p, C, T), zeros by default.

    Padding, for XLA (which compiles once per concrete shape): padded features
    have zero rows and columns in ``gram`` and zero ``xty``, so they stay at
    zero and change neither the step nor the gap; padded problems have zero
    data and tolerance, so zero is their solution and they never iterate;
    padded tasks have zero targets; padded unpenalised entries project nothing.

    ``few_sizes`` (increasing padded sizes, as ``_FEW_SIZES``) is for
    problems whose size changes from fit to fit (the restricted problems of
    working sets and of chunked paths): each new size's XLA compilation
    (about half a second) costs a first fit more than its solves. They run in
    graph mode, unpadded, until the problems of their size (the first of
    ``few_sizes`` that holds them) have spent a compilation's time more there
    (see _COMPILE_SECONDS), then padded to it and compiled; beyond the
    largest, never compiled.
    ``xla=False`` never compiles by XLA: for fits whose time is elsewhere (a
    streamed fit's pass over the data), where XLA's compiler would add its
    ~130 MB of resident memory (measured: a first 100-feature Gram fit adds
    163 MB with XLA, 31 MB without) and its compile time for a solve of
    milliseconds either way.

    Uncompiled Gram matrices that are mostly zeros (see :func:`_sparse_gram`)
    are multiplied by their stored entries alone (the ``"sparse"`` program).

    ``overwrite``: ``gram`` may be scaled in place (its contents are then
    undefined), which it is when it needs no padding and is from
    :func:`aligned_zeros`: the copy of the largest arrays of a fit is saved.

    Batches of more than ``_FLOAT32_PROBLEMS`` problems iterate in float32
    first, to a relative gap of ``_FLOAT32_TOL`` at best, then finish in
    float64 from there; every gap is evaluated in float64.

    Problems still above the tolerance after ``_POLISH_AFTER`` iterations
    are polished exactly (:mod:`tflasso._polish`) while their budget lasts;
    the others take one uninterrupted FISTA call per precision. Problems
    ``exact`` (B, C), by default those whose tolerance :func:`asks_exact`,
    are polished once more when converged.
    """
    n_sets, p, c, t = xty.shape
    if not p:  # no feature (a chunk of a path where none is active): nothing to solve
        return np.zeros((n_sets, 0, c, t)), np.zeros((n_sets, c)), np.zeros((n_sets, c), np.int32)
    exact = asks_exact(tol, yy) if exact is None else np.broadcast_to(exact, (n_sets, c))
    scale = unit_scale(np.diagonal(gram, axis1=1, axis2=2))
    unpadded_penalty, unpadded_free = penalty, free
    uncompiled = None  # a size of few_sizes run in graph mode until it pays
    if few_sizes is not None:
        size = next((s for s in few_sizes if p <= s), p)
        compilable = xla and p <= few_sizes[-1]
        jit = compilable and _graph_seconds.get(size, 0.0) >= _COMPILE_SECONDS
        if compilable and not jit:
            uncompiled = size
    else:
        size = padded_size(p)
        jit = xla and size <= _MAX_XLA_FEATURES
    if free is None:
        free = no_unpenalised(n_sets, p, c, t)
    u = len(free.index)
    if jit:
        pp, cc = size, 1 if c == 1 else -(-c // 8) * 8
        tt, uu = 1 if t == 1 else padded_size(t), 0 if u == 0 else padded_size(u)
    else:
        pp, cc, tt, uu = p, c, t, u
    # Scaled in the padded copy itself (or, with overwrite, in gram): the
    # Gram matrices are the largest arrays of a fit (of a batch of CV folds:
    # (folds + 1) p^2), so one copy at most. Sparse ones: their stored
    # entries alone.
    scaled = None if jit else _sparse_gram(gram, scale, c * t)
    key = "one" if jit and n_sets == 1 else jit
    if scaled is not None:
        key = "sparse"
    else:
        scaled = (
            gram if overwrite and pp == p and _shareable(gram, None)
            else _aligned_full((n_sets, pp, pp), 0.0, np.float64)
        )
        step = max(1, _SCALE_BYTES // (8 * p))
        for b, start in itertools.product(range(n_sets), range(0, p, step)):
            rows = slice(start, min(start + step, p))
            np.divide(gram[b, rows], np.outer(scale[b, rows], scale[b]),
                      out=scaled[b, rows, :p])
    data = GramData(
        scaled,
        _pad(xty / scale[:, :, None, None], (n_sets, pp, cc, tt)),
        _pad(yy, (n_sets, cc)),
        np.asarray(n, np.float64),
        _pad(scale, (n_sets, pp), fill=1.0),
    )
    free = Unpenalised(
        _pad(free.index, (uu,)), _pad(free.inverse, (n_sets, uu, uu)),
        _pad(free.gram, (n_sets, pp, uu)), _pad(free.xty, (n_sets, uu, cc, tt)),
    )
    penalty = Penalty(
        _pad(penalty.alpha, (cc,), 1.0), _pad(penalty.l1_ratio, (cc,), 1.0),
        _pad(penalty.factor, (pp,), 1.0), np.bool_(penalty.positive),
    )
    tol = _pad(tol, (n_sets, cc))
    w = np.zeros((n_sets, pp, cc, tt))
    if w0 is not None:
        w[:, :p, :c, :t] = w0
    stages = [(tf.float64, tol)]
    if n_sets * c > _FLOAT32_PROBLEMS:
        stages.insert(0, (tf.float32, np.maximum(tol, _FLOAT32_TOL * data.yy)))
    n_iter = np.zeros((n_sets, cc), np.int32)
    args = _tensors((data, free, penalty))

    @functools.cache  # made when first needed: a fast fit runs as without it
    def polisher():
        return _Polisher(_unscaled(gram, scaled, scale), xty, yy, n, unpadded_penalty,
                         unpadded_free, tol[:, :c])

    for dtype, tolerance in stages:
        budget = max_iter if dtype == tf.float64 else (max_iter + 1) // 2
        for round_ in itertools.count():
            # A first uninterrupted call, as if there were no polish; the
            # problems still above the tolerance after it (see
            # _POLISH_AFTER), budget left, are polished (see
            # tflasso._polish), and FISTA goes on from the polished points in
            # rounds of doubling length; where no polish was affordable, in
            # one round (restarts would only slow FISTA).
            size = budget - n_iter.max()
            if not round_:
                size = min(size, _POLISH_AFTER)
            elif polisher().ledger.used:
                size = min(size, _POLISH_AFTER << (round_ - 1))
            controls = Controls(tolerance, np.int32(size), np.int32(GAP_EVERY))
            w_new, gap_new, steps = _concrete(("gram", dtype, key))(
                *args, _tensors(controls), tf.constant(w, dtype)
            )
            steps = steps.numpy()
            if uncompiled is not None:
                _book_graph_time(uncompiled, int(steps.max()), n_sets * c * t)
            if round_:
                # After a polish, in float32, problems that did not iterate
                # keep their float64 point (a polished one would lose its
                # precision).
                moved = (steps > 0) | (dtype == tf.float64)
                w = np.where(moved[:, None, :, None], w_new.numpy(), w)
                gap = np.where(moved, gap_new.numpy(), gap)
            else:
                w, gap = w_new.numpy(), gap_new.numpy()
            n_iter = n_iter + steps
            # No polish once the budget is spent: max_iter bounds the work,
            # and a fit stopped by it warns, as scikit-learn's does.
            if np.all(gap <= tolerance) or n_iter.max() >= budget:
                break
            w, gap = np.array(w, np.float64), np.array(gap)  # polished in place
            polisher()(w, gap, n_iter, gap > tolerance)
            if np.all(gap <= tolerance) or not np.any(steps):
                break
        if np.all(gap <= tol) or n_iter.max() >= max_iter:
            break
    finish = _pad(exact, (n_sets, cc), False) & (gap <= tol)
    if finish.any():
        w, gap = np.array(w, np.float64), np.array(gap)
        polisher()(w, gap, n_iter, finish)
    return w[:, :p, :c, :t].astype(np.float64), gap[:, :c], n_iter[:, :c]


def _sparse_gram(gram, scale, columns=1):
    """The Gram matrices ``gram`` (B, p, p) rescaled by ``scale`` (B, p), as
    the block-diagonal :class:`SparseX` (B p, B p) of their stored entries,
    for products with ``columns`` columns; None unless their stored entries,
    times the copies the products make (see _sparse_gram_products), are at
    most ``_SPARSE_GRAM_DENSITY`` of their entries (judged first on a sample
    of rows). The copies then take at most a tenth of the dense matrices'
    memory."""
    n_sets, p, _ = gram.shape
    if p < _SPARSE_GRAM_FEATURES:
        return None
    copies = 1 if columns < 2 * _SPARSE_COLUMNS else -(-columns // _SPARSE_COLUMNS)
    sample = gram[0, :: max(1, p // _SPARSE_GRAM_SAMPLE)]
    if copies * np.count_nonzero(sample) > _SPARSE_GRAM_DENSITY * sample.size:
        return None
    stored = np.flatnonzero(gram)
    if copies * stored.size > _SPARSE_GRAM_DENSITY * gram.size:
        return None
    block, within = np.divmod(stored, p * p)
    rows, cols = np.divmod(within, p)
    indices = aligned_empty((stored.size, 2), np.int32)
    indices[:, 0] = block * p + rows
    indices[:, 1] = block * p + cols
    values = aligned_empty(stored.size, np.float64)
    values[:] = gram.ravel()[stored] / (scale[block, rows] * scale[block, cols])
    return in_halves(indices, values, np.array([n_sets * p, n_sets * p], np.int64))


def _book_graph_time(size, iterations, problems=1):
    """Add to ``_graph_seconds`` what a graph-mode call of ``iterations`` on
    ``problems`` problems of the padded ``size`` cost more than compiled
    ones would have (see _GRAPH_ITERATION)."""
    cost = _GRAPH_ITERATION[0] + _GRAPH_ITERATION[1] * size * size * problems
    _graph_seconds[size] = _graph_seconds.get(size, 0.0) + cost * (iterations + _GRAPH_CALL)


def _unscaled(gram, scaled, scale):
    """The unscaled Gram matrices the polish needs: ``gram`` itself, or, when
    :func:`solve_gram` scaled it in place (``overwrite``), a copy unscaled
    again (made only for a polish; the polish on the scaled matrix with
    unscaled ``xty`` had solved, and certified, the wrong problem)."""
    if scaled is not gram:
        return gram
    out = scaled * scale[:, :, None]
    out *= scale[:, None, :]
    return out


class _Polisher:
    """The exact polish of :func:`solve_gram`'s padded iterates, in place."""

    def __init__(self, gram, xty, yy, n, penalty, free, tol):
        self.problem = (gram, xty, yy, np.asarray(n, np.float64), penalty, free)
        self.tol = tol
        self.ledger = _polish.Ledger()
        self.exact = np.zeros(tol.shape, bool)  # (B, C), unpadded

    def __call__(self, w, gap, n_iter, only):
        """Polish the problems ``only`` (padded, B x C) not yet exact.

        (Waiting for a support to settle lost most of the gain: on spectra
        300 x 2,000 at 0.01 alpha_max, FISTA's supports shrink for hundreds
        of iterations, and polishing them anyway, each polish dropping the
        features whose signs change, took 119 passes against 889.)
        """
        n_sets, p, c, t = self.problem[1].shape
        # An iteration costs a p x p product per column.
        spent = n_iter[:, :c].astype(np.float64) * p * p * t
        w_new, gap_new, accepted = _polish.polish(
            *self.problem, w[:, :p, :c, :t], gap[:, :c], self.tol, spent,
            self.ledger, only[:, :c] & ~self.exact,
        )
        # A problem polished within tol is as exact as float64 allows.
        self.exact |= accepted & (gap_new <= self.tol)
        w[:, :p, :c, :t] = w_new
        gap[:, :c] = gap_new


def polished_rounds(solve, polish, tol, max_iter, w0, exact=False):
    """FISTA calls gated as :func:`solve_gram`'s, for the operator forms:
    ``(W, gap, n_iter)``.

    ``solve(w0, max_iter)`` is one uninterrupted FISTA call ``(W, gap,
    n_iter)``, ``polish(W, gap, n_iter, only)`` polishes the problems
    ``only`` (C,) and returns ``(W, gap)`` (gaps it did not certify are
    ``inf``; the next call evaluates them), or None where no polish was
    affordable. A first call of at most _POLISH_AFTER iterations; while
    some problem is above ``tol`` (C,) and the budget is not spent, a polish
    and a call twice as long as the last (a polish of the operator form
    costs a pass: fewer rounds than the Gram form's). Where no polish was
    affordable, FISTA goes on in one call, as :func:`solve_gram`'s: each
    call restarts the momentum and re-estimates the step (30 power
    iterations, a pass each; a wide fit's restricted solve of 1,000 x 865
    at 0.01 alpha_max paid 40 ms for a second call of 20 iterations).
    Then the problems ``exact`` (C,) that converged are polished once more
    (see :func:`asks_exact`).
    """
    w, gap, n_iter = solve(w0, min(max_iter, _POLISH_AFTER))
    size = _POLISH_AFTER
    while np.any(gap > tol) and n_iter.max() < max_iter:
        polished = polish(w, gap, n_iter, gap > tol)
        if polished is None:
            size = max_iter
        else:
            (w, gap), size = polished, 2 * size
        w, gap, steps = solve(w, min(max_iter - n_iter.max(), size))
        n_iter = n_iter + steps
    finish = exact & (gap <= tol)
    if np.any(finish):
        polished = polish(w, gap, n_iter, finish)
        if polished is not None:
            w, gap = polished
    return w, gap, n_iter


def solve_operator(X, x_offset, root, y, scale, penalty, free, tol, max_iter, w0,
                   curvature=0.0, metric=False):
    """The operator form of one data set, numpy in and out: ``(W, gap, n_iter)``.

    ``X`` is a dense tensor or :class:`SparseX`; ``y`` (n, C, T) the
    centred, weighted targets; ``scale`` the column norms ``s``; ``tol``
    (C,) absolute; ``w0`` (p, C, T). Computes in ``y``'s dtype.
    ``curvature``: see :class:`OperatorData` (0: estimated); with
    ``metric`` (one task), ``L_C``, and FISTA steps in the metric ``L_C I +
    u u^T`` (see :func:`_operator_program`).
    """
    dtype = y.dtype
    p, c, t = w0.shape
    if free is None:
        free = no_unpenalised(1, p, c, t, dtype)
    data = OperatorData(
        X, *(tf.constant(a, dtype) for a in (x_offset, root, y, scale, curvature))
    )
    controls = Controls(np.asarray(tol, dtype)[None], np.int32(max_iter), np.int32(GAP_EVERY))
    kind = "sparse" if isinstance(X, SparseX) else "dense"
    key = (kind, tf.as_dtype(dtype), "metric") if metric else (kind, tf.as_dtype(dtype))
    w, gap, n_iter = _concrete(key)(
        data, *_tensors((free, penalty, controls), dtype), tf.constant(w0[None], dtype)
    )
    return w.numpy()[0], gap.numpy()[0].astype(np.float64), n_iter.numpy()[0]


# Certificates of at most this many coefficients (B p C T) are evaluated by
# numpy: a call of the compiled certificate costs about 0.6 ms whatever its
# size, a sixth of a small single fit (fingerprints 200 x 1,000 at 0.1
# alpha_max) and half of one that ends at zero. Medians of 30, one task
# (TensorFlow / numpy): p = 10 to 1,000 0.58-0.63 / 0.16 ms; 40,000 1.9 /
# 1.0 ms; 2,000 x 100 alphas 4.3 / 3.5 ms; but 10,000 x 100 19.5 / 26.6 ms
# and 200,000 x 10 43 / 66 ms, where TensorFlow's two threads pay.
_NUMPY_CERTIFY = 2**18


def certify(penalty, free, w, rr, ry, corr, n):
    """The duality gap ``(B, C)`` and feature dual terms ``(B, p, C)`` (float64).

    ``w`` and ``corr = X^T R / n`` are (B, p, C, T), ``rr`` and ``ry`` (B, C).
    Certificates of at most _NUMPY_CERTIFY coefficients are evaluated by
    numpy (the same maths, see :mod:`tflasso._namespace`), larger ones by
    the compiled program.
    """
    if np.size(w) <= _NUMPY_CERTIFY:
        f64 = functools.partial(np.asarray, dtype=np.float64)
        with np.errstate(all="ignore"):  # as TensorFlow: inf and nan, no warning
            return _certify(
                Penalty(*(f64(x) for x in penalty[:3]), bool(penalty.positive)),
                Unpenalised(np.asarray(free.index, np.intp), *(f64(x) for x in free[1:])),
                *(f64(x) for x in (w, rr, ry, corr, n)),
            )
    gap, duals = _concrete("certify")(
        *_tensors((penalty, free), np.float64),
        *(tf.constant(np.asarray(x, np.float64)) for x in (w, rr, ry, corr, n)),
    )
    return gap.numpy(), duals.numpy()


def certify_gram(gram, xty, yy, n, penalty, free, w):
    """The duality gap ``(B, C)`` and dual terms of ``w`` (B, p, C, T) on
    Gram problems (as :func:`solve_gram` takes them; ``free`` an
    :class:`Unpenalised` or None): the residual's statistics from ``G w``
    (:func:`_gram_statistics`), as the Gram program's own gap check."""
    if free is None:
        free = no_unpenalised(*w.shape)
    rr, ry, corr = _gram_statistics(w, xty, yy, _batched_matmul(gram, w))
    return certify(penalty, free, w, rr, ry, corr, np.asarray(n, np.float64)[:, None])


def certify_residual(design, penalty, free, w, y, residual):
    """The duality gap ``(C,)`` and dual terms ``(p, C)`` of ``w`` (p, C, T)
    from its residual (n, C, T) on ``design``: one full pass ``X^T R``."""
    n = design.shape[0]
    p, c, t = w.shape
    corr = design.rmatvec(residual.reshape(n, c * t)) / n
    return certify_correlated(penalty, free, w, y, residual, corr.reshape(p, c, t))


def certify_correlated(penalty, free, w, y, residual, corr):
    """:func:`certify_residual` of a pass already made: ``corr`` (p, C, T)
    is ``X^T R / n`` of the residual (n, C, T)."""
    n = residual.shape[0]
    p, c, t = w.shape
    if free is None:
        free = no_unpenalised(1, p, c, t)
    gap, duals = certify(
        penalty, free, w[None], np.einsum("nct,nct->c", residual, residual)[None] / n,
        np.einsum("nct,nct->c", residual, y)[None] / n, corr[None], n,
    )
    return gap[0], duals[0]
