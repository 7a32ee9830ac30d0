"""Pickle, joblib and clone round-trips; a fitted model is plain numpy."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from tflasso import Lasso

from .conftest import make_problem

CASES = {
    "gram": (make_problem(60, 10, seed=50), {"precompute": True}),
    "operator": (make_problem(60, 10, seed=50), {"precompute": False}),
    "working_set": (make_problem(20, 40, seed=51), {}),
    "sparse": (make_problem(60, 10, seed=52, density=0.4), {}),
    "multi_output": (make_problem(60, 10, n_targets=3, seed=53), {}),
    "float32": (tuple(a.astype(np.float32) for a in make_problem(60, 10, seed=54)),
                {}),
}


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request):
    (X, y), params = CASES[request.param]
    return Lasso(alpha=0.1, **params).fit(X, y), X


def _round_trips(model, tmp_path):
    yield pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    yield joblib.load(path)
    joblib.dump(model, path, compress=3)
    yield joblib.load(path)


def test_round_trips_predict_identically(fitted, tmp_path):
    model, X = fitted
    for restored in _round_trips(model, tmp_path):
        np.testing.assert_array_equal(restored.predict(X), model.predict(X))
        np.testing.assert_array_equal(restored.coef_, model.coef_)
        assert restored.coef_.dtype == model.coef_.dtype
        assert restored.get_params() == model.get_params()


def test_restored_model_refits_to_the_same_answer(fitted, tmp_path):
    model, X = fitted
    restored = next(_round_trips(model, tmp_path))
    prediction, shift = model.predict(X), np.cos(np.arange(X.shape[0]))
    y = prediction + (shift[:, None] if prediction.ndim == 2 else shift)
    np.testing.assert_array_equal(restored.fit(X, y).coef_,
                                  clone(model).fit(X, y).coef_)


def _leaves(value):
    """Every object reachable through attributes, containers and dicts."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value
        if hasattr(value, "__dict__") and not isinstance(value, type):
            yield from _leaves(vars(value))


def test_fitted_model_holds_no_tensorflow_objects(fitted):
    model, _ = fitted
    for leaf in _leaves(vars(model)):
        assert not type(leaf).__module__.startswith(("tensorflow", "keras")), leaf
    # The pickle names no TensorFlow class, so loading it needs no TensorFlow.
    assert b"tensorflow" not in pickle.dumps(model)
    assert b"keras" not in pickle.dumps(model)


def test_clone_is_unfitted_with_the_same_parameters(fitted):
    model, X = fitted
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "coef_")
    assert clone(Lasso(alpha=0.3, positive=True)).get_params()["positive"] is True


def test_pickled_unfitted_model_fits():
    (X, y), _ = CASES["gram"]
    restored = pickle.loads(pickle.dumps(Lasso(alpha=0.1)))
    np.testing.assert_array_equal(restored.fit(X, y).coef_,
                                  Lasso(alpha=0.1).fit(X, y).coef_)
