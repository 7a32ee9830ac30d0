import numpy as np
import pytest
from scipy import sparse

from tflasso._stream import stream_moments


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 1.0, (103, 7))
    y = X @ rng.normal(size=7) + rng.normal(size=103)
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
