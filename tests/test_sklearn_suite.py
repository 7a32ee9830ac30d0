"""scikit-learn's own coordinate-descent tests, run against tflasso.

The two test modules are read from the installed scikit-learn at test time
(no test code is copied) and executed with ``from sklearn.linear_model import
...`` answering tflasso's estimators and paths for the names in ``REBOUND``;
everything else (LARS, ``LinearRegression``, private helpers) stays
scikit-learn's. Their test functions become this module's, so pytest collects
them here. ``EXCLUDED`` is the one list of tests that do not run, each with
its kind (a scikit-learn internal, a documented difference, or a failure that
needs the solver core) and its reason.
"""

import builtins
import importlib.util
import pathlib
import re
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

# The one list of scikit-learn's tests that do not run against tflasso. Each
# key is a regular expression matched against the whole test id (a test name
# alone covers all its parametrizations). "internal": a test of
# scikit-learn's implementation, not of the public API; "needs the core": a
# failure whose cause is in the solver core (not the estimator modules), with
# its diagnosis; "by design": a documented difference.
INTERNAL = "internal"
NEEDS_THE_CORE = "needs the core"
BY_DESIGN = "by design"
EXCLUDED = {
    "test_check_input_false": (INTERNAL, "check_input=False with C-ordered X "
        "fails in scikit-learn's Cython kernel, which needs Fortran order; "
        "tflasso has no memory-layout requirement and always checks its input"),
    "test_enet_copy_X_False_check_input_False": (INTERNAL, "asserts that "
        "scikit-learn's kernel overwrites X in place; tflasso never modifies X "
        "(copy_X is accepted and unused)"),
    r"test_lassoCV_does_not_set_precompute\[.*\]": (INTERNAL, "monkeypatches "
        "sklearn.linear_model._coordinate_descent.Lasso, scikit-learn's private "
        "per-fold estimator; tflasso's CV has none"),
    "test_lasso_dual_gap": (BY_DESIGN, "its 10 x 30 lasso is solved exactly "
        "(a single fit from zero follows the path down to its alpha by active-set "
        "steps): the reported gap, 3.6e-15, and the test's recomputation, 3.0e-15, "
        "are two roundings of zero, compared at rtol=1e-7. tests/test_penalty_factor"
        ".py::test_dual_gap_is_the_numpy_gap checks dual_gap_ against the numpy gap "
        "to rtol=1e-6 or 1e-13 of y's variance"),
    "test_enet_nonfinite_params": (BY_DESIGN, "tflasso refuses X whose squares "
        "overflow before fitting, with a ValueError naming X (docs: bad inputs); "
        "scikit-learn's ValueError names its coordinate-descent iterations"),
}


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
            tests[f"{attribute}__{name[5:]}" if attribute in tests else attribute] = value
    return tests


@pytest.fixture(autouse=True)
def _excluded(request):
    """Skip the tests of ``EXCLUDED``, with their reason."""
    for pattern, (kind, reason) in EXCLUDED.items():
        if re.fullmatch(pattern, request.node.name):
            pytest.skip(f"{kind}: {reason}")


@pytest.fixture
def global_random_seed():
    """scikit-learn's default seed for its seeded tests."""
    return 42


globals().update(_collect())
