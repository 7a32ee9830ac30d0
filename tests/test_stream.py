import numpy as np
import pytest
from scipy import sparse

import tflasso
from tflasso._base import is_stream
from tflasso._stream import stream_moments


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 1.0, (103, 7))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.2, 0.0, 1.0]) + rng.normal(size=103)
    sw = rng.uniform(0.5, 2.0, 103)
    return X, y, sw


def _chunks(X, y, sw, size, to=np.asarray):
    for start in range(0, len(y), size):
        part = slice(start, start + size)
        yield (to(X[part]), y[part]) if sw is None else (to(X[part]), y[part], sw[part])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("to", [np.asarray, sparse.csr_matrix])
def test_centred_statistics_equal_numpy(data, weighted, to):
    X, y, sw = data
    w = sw if weighted else np.ones(len(y))
    moments = stream_moments(_chunks(X, y, sw if weighted else None, 10, to)).moments
    gram, xty, yy, _, _ = moments.centred(True)
    mx, my = w @ X / w.sum(), w @ y / w.sum()
    Xc, yc = X - mx, y - my
    np.testing.assert_allclose(gram, (Xc.T * w) @ Xc / w.sum(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xty.ravel(), (Xc.T * w) @ yc / w.sum(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(yy, [w @ yc**2 / w.sum()], rtol=1e-12)
    assert moments.s == pytest.approx(w.sum())


def test_bad_streams(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="features"):
        stream_moments([(X, y), (X[:, :3], y)])
    with pytest.raises(ValueError, match="rows"):
        stream_moments([(X, y[:5])])
    with pytest.raises(ValueError, match="no rows"):
        stream_moments([])
    with pytest.raises(ValueError, match="must be"):
        stream_moments([X])


def test_tf_data_dataset_with_short_last_batch(data):
    import tensorflow as tf

    X, y, sw = data
    dataset = tf.data.Dataset.from_tensor_slices((X, y, sw)).batch(25)
    streamed = stream_moments(dataset)
    moments, dtype = streamed.moments, streamed.dtype
    direct = stream_moments([(X, y, sw)]).moments
    # The means are about each stream's own shift (its first batch); compare G, q, yy.
    for a, b in zip(moments.centred(True)[:3], direct.centred(True)[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert dtype == np.float64
    with pytest.raises(ValueError, match="infinite"):
        stream_moments(dataset.repeat())


# Streamed fits against in-memory fits of the same rows. Both are solved to a tight
# tolerance, so whatever form each takes, both are certified near the optimum.
_TIGHT = {"tol": 1e-10, "max_iter": 20_000}


def _objective(X, Y, coef, intercept, alpha, l1_ratio, sw=None):
    """scikit-learn's (multi-task) elastic-net objective, in numpy from the rows."""
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64).reshape(len(X), -1)
    W = np.asarray(coef, np.float64).reshape(Y.shape[1], -1).T  # (p, K)
    w = np.ones(len(X)) if sw is None else sw
    residual = Y - X @ W - np.asarray(intercept, np.float64)
    l1 = np.sqrt((W**2).sum(axis=1)).sum()  # |w|_1 for one target, L2,1 for tasks
    return (w @ (residual**2).sum(axis=1) / (2 * w.sum()) + alpha * l1_ratio * l1
            + alpha * (1 - l1_ratio) / 2 * (W**2).sum())


def _assert_same_fit(streamed, direct, X, Y, alpha, l1_ratio, sw=None):
    objectives = [_objective(X, Y, m.coef_, m.intercept_, alpha, l1_ratio, sw)
                  for m in (streamed, direct)]
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-9)
    np.testing.assert_array_equal(streamed.coef_ == 0, direct.coef_ == 0)
    assert 0 < np.count_nonzero(direct.coef_) < direct.coef_.size  # a real lasso case
    assert streamed.coef_.shape == direct.coef_.shape
    assert streamed.coef_.dtype == direct.coef_.dtype
    assert np.shape(streamed.intercept_) == np.shape(direct.intercept_)
    assert type(streamed.dual_gap_) is type(direct.dual_gap_)
    assert type(streamed.n_iter_) is type(direct.n_iter_)
    assert streamed.n_features_in_ == X.shape[1]
    assert 0 <= np.max(streamed.dual_gap_) <= _TIGHT["tol"] * np.var(Y) * 10


@pytest.mark.parametrize(
    "estimator, weighted, fit_intercept, to",
    [
        (tflasso.Lasso, False, True, np.asarray),
        (tflasso.ElasticNet, False, True, np.asarray),
        (tflasso.Lasso, True, True, np.asarray),
        (tflasso.ElasticNet, True, False, np.asarray),
        (tflasso.Lasso, False, False, np.asarray),
        (tflasso.Lasso, True, True, sparse.csr_matrix),
        (tflasso.ElasticNet, False, False, sparse.csr_matrix),
    ],
)
def test_streamed_fit_equals_in_memory_fit(data, estimator, weighted, fit_intercept, to):
    X, y, sw = data
    sw = sw if weighted else None
    alpha, l1_ratio = 0.3, 1.0 if estimator is tflasso.Lasso else 0.5
    params = {"alpha": alpha, "fit_intercept": fit_intercept, **_TIGHT}
    streamed = estimator(**params).fit(_chunks(X, y, sw, 17, to))
    direct = estimator(**params).fit(to(X), y, sample_weight=sw)
    _assert_same_fit(streamed, direct, X, y, alpha, l1_ratio, sw)
    if not fit_intercept:
        assert streamed.intercept_ == 0.0


@pytest.mark.parametrize("estimator", [tflasso.MultiTaskLasso, tflasso.MultiTaskElasticNet])
def test_streamed_multi_task_fit_equals_in_memory_fit(data, estimator):
    X, _, sw = data
    rng = np.random.default_rng(1)
    Y = X @ (rng.normal(size=(7, 3)) * np.array([[1], [0], [1], [0], [1], [0], [1]]))
    Y += rng.normal(size=Y.shape)
    alpha, l1_ratio = 0.3, 1.0 if estimator is tflasso.MultiTaskLasso else 0.5
    streamed = estimator(alpha=alpha, **_TIGHT).fit(_chunks(X, Y, sw, 40))
    direct = estimator(alpha=alpha, **_TIGHT).fit(X, Y, sample_weight=sw)
    _assert_same_fit(streamed, direct, X, Y, alpha, l1_ratio, sw)
    assert streamed.intercept_.shape == (3,)


def test_streamed_pandas_chunks_and_multi_output_lasso(data):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    Y = np.column_stack([y, -2 * y + X[:, 0]])
    chunks = ((pd.DataFrame(X[i : i + 30]), pd.DataFrame(Y[i : i + 30]))
              for i in range(0, len(y), 30))
    streamed = tflasso.Lasso(alpha=0.3, **_TIGHT).fit(chunks)
    direct = tflasso.Lasso(alpha=0.3, **_TIGHT).fit(X, Y)
    for k in range(2):  # independent targets: each its own objective
        one = [type("M", (), {"coef_": m.coef_[k], "intercept_": m.intercept_[k]})
               for m in (streamed, direct)]
        objectives = [_objective(X, Y[:, k], m.coef_, m.intercept_, 0.3, 1.0) for m in one]
        assert objectives[0] == pytest.approx(objectives[1], rel=1e-9)
    np.testing.assert_array_equal(streamed.coef_ == 0, direct.coef_ == 0)
    assert not hasattr(streamed, "feature_names_in_")


def test_streamed_feature_names_from_dataframe_batches(data):
    pd = pytest.importorskip("pandas")
    X, y, _ = data
    names = [f"f{j}" for j in range(X.shape[1])]

    def frames(columns=names, last=names):
        for i in range(0, len(y), 30):
            part = pd.DataFrame(X[i : i + 30], columns=last if i >= 90 else columns)
            yield part, y[i : i + 30]

    direct = tflasso.Lasso(alpha=0.3).fit(pd.DataFrame(X, columns=names), y)
    for estimator in (tflasso.Lasso(alpha=0.3), tflasso.LassoCV(cv=3)):
        estimator.fit(frames())
        np.testing.assert_array_equal(estimator.feature_names_in_, direct.feature_names_in_)
        assert estimator.feature_names_in_.dtype == object
        with pytest.raises(ValueError, match="feature names"):  # scikit-learn's check
            estimator.predict(pd.DataFrame(X, columns=names[::-1]))
        estimator.fit(_chunks(X, y, None, 30))  # names of an earlier fit do not stay
        assert not hasattr(estimator, "feature_names_in_")
    with pytest.raises(ValueError, match="Batch 3 has feature names"):
        tflasso.Lasso().fit(frames(last=names[::-1]))
    with pytest.raises(ValueError, match="Batch 1 has feature names .* first batch had None"):
        tflasso.Lasso().fit(iter([(X[:10], y[:10])] + list(frames())))


def test_streamed_negative_sample_weights_raise_as_in_memory(data):
    X, y, sw = data
    sw = sw.copy()
    sw[40] = -1.0
    message = "Negative values in data passed to `sample_weight`"
    with pytest.raises(ValueError, match=message):
        tflasso.Lasso().fit(X, y, sample_weight=sw)
    for estimator in (tflasso.Lasso(), tflasso.LassoCV(cv=3)):
        with pytest.raises(ValueError, match="Batch 2: " + message):
            estimator.fit(_chunks(X, y, sw, 20))


def test_streamed_column_vector_y_as_scikit_learn(data):
    from sklearn.exceptions import DataConversionWarning
    from sklearn.linear_model import Lasso, LassoCV

    X, y, _ = data
    column = y[:, None]
    # Lasso keeps scikit-learn's (n, 1) shapes: coef_ (p,), intercept_ (1,).
    reference = Lasso(alpha=0.3).fit(X, column)
    streamed = tflasso.Lasso(alpha=0.3, **_TIGHT).fit(_chunks(X, column, None, 30))
    assert streamed.coef_.shape == reference.coef_.shape
    assert np.shape(streamed.intercept_) == np.shape(reference.intercept_)
    direct = tflasso.Lasso(alpha=0.3, **_TIGHT).fit(X, column)
    _assert_same_fit(streamed, direct, X, column, 0.3, 1.0)
    # LassoCV takes it as 1-d y, with scikit-learn's warning.
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        reference = LassoCV(cv=3).fit(X, column)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        streamed = tflasso.LassoCV(cv=3).fit(_chunks(X, column, None, 30))
    flat = tflasso.LassoCV(cv=3).fit(_chunks(X, y, None, 30))
    assert streamed.coef_.shape == reference.coef_.shape
    assert np.shape(streamed.intercept_) == np.shape(reference.intercept_)
    np.testing.assert_allclose(streamed.mse_path_, flat.mse_path_, rtol=1e-12)
    assert streamed.alpha_ == flat.alpha_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streamed_fit_of_a_dataset_with_short_last_batch(data, dtype):
    import tensorflow as tf

    X, y, sw = data
    X, y = X.astype(dtype), y.astype(dtype)
    dataset = tf.data.Dataset.from_tensor_slices((X, y, sw)).batch(25)  # 4 x 25 + 3
    params = {"alpha": 0.3, **_TIGHT} if dtype == np.float64 else {"alpha": 0.3}
    streamed = tflasso.Lasso(**params).fit(dataset)
    direct = tflasso.Lasso(**params).fit(X, y, sample_weight=sw)
    assert streamed.coef_.dtype == dtype
    if dtype == np.float64:
        _assert_same_fit(streamed, direct, X, y, 0.3, 1.0, sw)
    else:  # float32 data: both fits are certified to the default tolerance
        objectives = [_objective(X, y, m.coef_, m.intercept_, 0.3, 1.0, sw)
                      for m in (streamed, direct)]
        assert objectives[0] == pytest.approx(objectives[1], rel=1e-5)


def test_stream_errors(data):
    X, y, sw = data
    with pytest.raises(ValueError, match="y=None"):
        tflasso.Lasso().fit(_chunks(X, y, None, 10), y)
    with pytest.raises(ValueError, match="y=None"):
        tflasso.Lasso().fit(_chunks(X, y, None, 10), sample_weight=sw)
    with pytest.raises(ValueError, match="precompute"):
        tflasso.Lasso(precompute=False).fit(_chunks(X, y, None, 10))
    with pytest.raises(ValueError, match="mono-task"):
        tflasso.MultiTaskLasso().fit(_chunks(X, y, None, 10))
    with pytest.raises(ValueError, match="Batch 1 has X of 3 features"):
        tflasso.Lasso().fit(iter([(X, y), (X[:, :3], y)]))
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="Batch 0: X contains NaN"):
        tflasso.Lasso().fit(iter([(bad, y)]))
    with pytest.raises(ValueError, match="batch the dataset"):
        tflasso.Lasso().fit(iter([(X[0], y[:1])]))
    with pytest.raises(ValueError, match="at most 10000"):
        tflasso.Lasso().fit(iter([(np.zeros((2, 10_001)), np.zeros(2))]))


def test_arrays_and_lists_are_data_not_streams(data):
    X, y, _ = data
    assert is_stream(iter([(X, y)])) and is_stream(_chunks(X, y, None, 10))
    for array_like in (X, X.tolist(), [(X, y)], sparse.csr_matrix(X), (X, y)):
        assert not is_stream(array_like)
    with pytest.raises(ValueError):  # scikit-learn's own check of a list of tuples
        tflasso.Lasso().fit([(X, y)])


def _position_folds(n, cv):
    """The folds a stream of n rows gets: row i is in test fold i % cv."""
    fold = np.arange(n) % cv
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(cv)]


@pytest.mark.parametrize(
    "estimator, params, weighted, multi_task",
    [
        (tflasso.LassoCV, {}, True, False),
        (tflasso.LassoCV, {"fit_intercept": False}, False, False),
        (tflasso.ElasticNetCV, {"l1_ratio": [0.5, 1.0]}, True, False),
        (tflasso.MultiTaskLassoCV, {}, False, True),
    ],
)
def test_streamed_cv_equals_in_memory_cv_on_position_folds(data, estimator, params,
                                                           weighted, multi_task):
    X, y, sw = data
    sw = sw if weighted else None
    Y = np.column_stack([y, X[:, 0] - y]) if multi_task else y
    # Both certified near the optimum (the stream's solves do not compile by
    # XLA, the in-memory ones do: other rounding, other stopping points at tol).
    params = {**params, **_TIGHT}
    streamed = estimator(cv=4, **params).fit(_chunks(X, Y, sw, 30))
    direct = estimator(cv=_position_folds(len(y), 4), **params).fit(X, Y, sample_weight=sw)
    assert streamed.alpha_ == pytest.approx(direct.alpha_, rel=1e-12)
    np.testing.assert_allclose(streamed.alphas_, direct.alphas_, rtol=1e-12)
    # Two fits certified to a duality gap of 1e-10 (relative) agree in
    # objective, but their coefficients may differ by about the gap's square
    # root along flat directions of the objective: 2e-6 in a fold's error.
    np.testing.assert_allclose(streamed.mse_path_, direct.mse_path_, rtol=1e-5)
    np.testing.assert_array_equal(streamed.coef_ == 0, direct.coef_ == 0)
    np.testing.assert_allclose(streamed.coef_, direct.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(streamed.intercept_, direct.intercept_, rtol=1e-7, atol=1e-9)
    assert streamed.n_features_in_ == X.shape[1]
    # The folds are the rows' positions, not the batches: other batch sizes, same result.
    again = estimator(cv=4, **params).fit(_chunks(X, Y, sw, 7))
    np.testing.assert_allclose(again.mse_path_, streamed.mse_path_, rtol=1e-9)


def test_streamed_cv_errors(data):
    from sklearn.model_selection import KFold

    X, y, _ = data
    with pytest.raises(ValueError, match="cv must be an int"):
        tflasso.LassoCV(cv=KFold(3)).fit(_chunks(X, y, None, 10))
    with pytest.raises(ValueError, match="y=None"):
        tflasso.LassoCV().fit(_chunks(X, y, None, 10), y)
    with pytest.raises(ValueError, match="greater than the number of rows"):
        tflasso.LassoCV(cv=5).fit(iter([(X[:3], y[:3])]))
    with pytest.raises(ValueError, match="1-d y"):
        tflasso.LassoCV().fit(iter([(X, np.column_stack([y, y]))]))
    with pytest.raises(ValueError, match="mono-task"):
        tflasso.MultiTaskLassoCV().fit(iter([(X, y)]))
    with pytest.raises(ValueError, match="precompute"):
        tflasso.LassoCV(precompute=False).fit(iter([(X, y)]))


def test_lasso_path_of_a_stream_equals_the_in_memory_path(data):
    X, y, _ = data
    alphas, coefs, gaps = tflasso.lasso_path(_chunks(X, y, None, 20), None, alphas=5,
                                             tol=1e-10)
    direct_alphas, direct, _ = tflasso.lasso_path(X, y, alphas=5, tol=1e-10)
    np.testing.assert_allclose(alphas, direct_alphas, rtol=1e-12)
    np.testing.assert_array_equal(coefs == 0, direct == 0)
    np.testing.assert_allclose(coefs, direct, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="y=None"):
        tflasso.lasso_path(_chunks(X, y, None, 20), y)


def test_a_replay_serves_every_fit_from_one_pass(data):
    from tflasso._stream import Replay

    X, y, sw = data
    replay = Replay(stream_moments(_chunks(X, y, sw, 20), n_folds=4))
    search = tflasso.LassoCV(cv=4).fit(replay)
    again = tflasso.LassoCV(cv=4).fit(_chunks(X, y, sw, 20))
    np.testing.assert_allclose(search.mse_path_, again.mse_path_, rtol=1e-12)
    for fit_intercept in (True, False):
        params = {"alpha": 0.3, "fit_intercept": fit_intercept, **_TIGHT}
        _assert_same_fit(tflasso.Lasso(**params).fit(replay),
                         tflasso.Lasso(**params).fit(X, y, sample_weight=sw), X, y, 0.3, 1.0, sw)
    # The centred rows' path: lasso_path of X and y less their weighted means.
    mx, my = sw @ X / sw.sum(), sw @ y / sw.sum()
    root = np.sqrt(sw * len(y) / sw.sum())  # weights as rows: sqrt(w) * (x - mean)
    _, coefs, _ = tflasso.lasso_path(replay.centred(), None, alphas=[0.5, 0.1], tol=1e-10)
    _, direct, _ = tflasso.lasso_path((X - mx) * root[:, None], (y - my) * root,
                                      alphas=[0.5, 0.1], tol=1e-10)
    np.testing.assert_allclose(coefs, direct, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="read with 4 folds, not 3"):
        tflasso.LassoCV(cv=3).fit(replay)
