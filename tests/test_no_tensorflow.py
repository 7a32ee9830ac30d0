"""Prediction never needs TensorFlow: unpickling a fitted estimator, its
``predict`` and ``tflasso predict`` all run where ``import tensorflow`` fails.

The subprocesses put a fake ``tensorflow`` package first on ``PYTHONPATH``
whose import raises ImportError, as on a machine without TensorFlow.
"""

import io
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tflasso import ElasticNet, Lasso, LassoCV, MultiTaskLasso
from tflasso._cli import main as cli_main

from .cli_failures import FEATURES, make_frame
from .conftest import make_problem

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def without_tensorflow(tmp_path_factory):
    """``run(args)``: ``python *args`` in a process that cannot import TensorFlow."""
    fake = tmp_path_factory.mktemp("fake") / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        'raise ImportError("TensorFlow is blocked by tests/test_no_tensorflow.py")\n')
    environment = {"PYTHONPATH": f"{fake.parent}:{ROOT}", "PATH": "/usr/bin:/bin"}

    def run(*args, cwd=None):
        return subprocess.run([sys.executable, *map(str, args)], capture_output=True,
                              text=True, env=environment, cwd=cwd, timeout=120)
    return run


def test_the_blocker_blocks(without_tensorflow):
    result = without_tensorflow("-c", "import tensorflow")
    assert result.returncode == 1 and "blocked by tests/test_no_tensorflow.py" in result.stderr
    # A fit needs TensorFlow, so it fails there: the blocker reaches tflasso.
    result = without_tensorflow("-c", "import numpy as np; from tflasso import Lasso; "
                                "Lasso().fit(np.eye(3), np.arange(3.0))")
    assert result.returncode == 1 and "blocked by tests/test_no_tensorflow.py" in result.stderr


def _fitted_models():
    X, y = make_problem(50, 8, seed=70)
    _, Y = make_problem(50, 8, n_targets=2, seed=70)
    return X, {
        "lasso": Lasso(alpha=0.1).fit(X, y),
        "elastic_net_float32": ElasticNet(alpha=0.1).fit(X.astype(np.float32), y),
        "lasso_cv": LassoCV(cv=3, alphas=5).fit(X, y),
        "multitask": MultiTaskLasso(alpha=0.1).fit(X, Y),
        "pipeline": make_pipeline(StandardScaler(), Lasso(alpha=0.1)).fit(X, y),
    }


def test_unpickled_estimators_predict_without_tensorflow(without_tensorflow, tmp_path):
    X, models = _fitted_models()
    np.save(tmp_path / "X.npy", X)
    for name, model in models.items():
        joblib.dump(model, tmp_path / f"{name}.joblib")
    code = (
        "import sys, joblib, numpy as np\n"
        "X = np.load('X.npy')\n"
        f"for name in {list(models)!r}:\n"
        "    np.save(name + '.npy', joblib.load(name + '.joblib').predict(X))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tensorflow', 'keras'))))\n"
    )
    result = without_tensorflow("-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    for name, model in models.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), model.predict(X))


def test_tflasso_predict_without_tensorflow(without_tensorflow, tmp_path):
    make_frame().to_csv(tmp_path / "data.csv", index=False)
    assert cli_main(["fit", str(tmp_path / "data.csv"), "--target", "target", "--alpha", "0.05",
                     "--n-alphas", "3", "--out", str(tmp_path / "model"), "--pickle"]) == 0
    expected = joblib.load(tmp_path / "model" / "model.joblib").predict(
        pd.read_csv(tmp_path / "data.csv")[FEATURES])
    for model in [["model/model.json"], ["model/model.joblib", "--trust-pickle"]]:
        result = without_tensorflow("-m", "tflasso", "predict", model[0], "data.csv",
                                    *model[1:], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        predictions = pd.read_csv(io.StringIO(result.stdout)).prediction
        np.testing.assert_array_equal(predictions, expected)
