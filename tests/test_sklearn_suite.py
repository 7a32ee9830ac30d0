"""scikit-learn's own coordinate-descent tests, run against tflasso.

The two test modules are read from the installed scikit-learn at test time
(no test code is copied) and executed with ``from sklearn.linear_model import
...`` answering tflasso's estimators and paths for the names in ``REBOUND``;
everything else (LARS, ``LinearRegression``, private helpers) stays
scikit-learn's. Their test functions become this module's, so pytest collects
them here. ``EXCLUDED`` is the one list of tests that cannot apply, each with
its reason; ``NEEDS_THE_CORE`` lists those that fail for a reason in the
solver core, with the diagnosis.
"""

import builtins
import importlib.util
import pathlib
import types

import pytest
import sklearn
import sklearn.linear_model

import tflasso

REBOUND = (
    "ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "MultiTaskElasticNet",
    "MultiTaskElasticNetCV", "MultiTaskLasso", "MultiTaskLassoCV", "enet_path",
    "lasso_path",
)
MODULES = ("test_coordinate_descent", "test_sparse_coordinate_descent")

# Tests of scikit-learn internals, or of behaviour tflasso documents as its
# own; a name excludes every parametrization of that test.
INTERNALS = "tests a scikit-learn internal, not the public API"
EXCLUDED = {}
# Failures whose cause is in the solver core (not the estimator modules).
NEEDS_THE_CORE = {}


def _tflasso_linear_model():
    """``sklearn.linear_model`` with tflasso's names in front."""
    module = types.ModuleType("sklearn.linear_model")
    module.__dict__.update(vars(sklearn.linear_model))
    for name in REBOUND:
        setattr(module, name, getattr(tflasso, name))
    return module


def _load(name):
    """Execute scikit-learn's test module ``name`` with the names rebound."""
    path = pathlib.Path(sklearn.__file__).parent / "linear_model" / "tests" / f"{name}.py"
    rebound = _tflasso_linear_model()

    def importer(module_name, globals=None, locals=None, fromlist=(), level=0):
        if module_name == "sklearn.linear_model" and fromlist and level == 0:
            return rebound
        return builtins.__import__(module_name, globals, locals, fromlist, level)

    module = types.ModuleType(f"_sklearn_suite_{name}")
    module.__file__ = str(path)
    module.__builtins__ = {**vars(builtins), "__import__": importer}
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def _collect():
    tests = {}
    for name in MODULES:
        module = _load(name)
        for attribute, value in vars(module).items():
            if not attribute.startswith("test_") or not callable(value):
                continue
            reason = EXCLUDED.get(attribute) or NEEDS_THE_CORE.get(attribute)
            if reason is not None:
                value = pytest.mark.skip(reason=reason)(value)
            tests[f"{attribute}__{name[5:]}" if attribute in tests else attribute] = value
    return tests


@pytest.fixture
def global_random_seed():
    """scikit-learn's default seed for its seeded tests."""
    return 42


globals().update(_collect())
