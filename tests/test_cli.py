"""The command line, run as a user runs it: ``python -m tflasso`` in a subprocess.

A subprocess that fits pays TensorFlow's import (about 4 s), so there are two:
one ``fit`` shared by the tests of its outputs, one ``predict``. Bad input is
rejected before TensorFlow is imported, so the error cases are cheap.
"""

import io
import re
import subprocess
import sys
import time

import joblib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from tflasso import _cli
from tflasso._demo import run as run_demo

FEATURES = ["height", "weight", "age", "noise"]


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tflasso", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


def make_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(FEATURES))) * [10, 5, 1, 1] + [170, 70, 40, 0]
    y = 0.3 * X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return pd.DataFrame(X, columns=FEATURES).assign(target=y)


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "clean.csv"
    make_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted(clean_csv):
    out = clean_csv.parent / "out"
    result = run_cli("fit", clean_csv, "--target", "target", "--cv", "3",
                     "--n-alphas", "6", "--out", out)
    assert result.returncode == 0, result.stderr
    return out, result


def assert_one_line_error(result, *words):
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("case, words", [
    ("categorical", ["non-numeric", "'colour'", "'red'"]),
    ("nan", ["'weight'", "NaN", "row 4"]),
    ("misspelled", ["'traget'", "did you mean 'target'"]),
    ("missing_file", ["no such file"]),
    ("too_few_rows", ["too few", "5-fold"]),
])
def test_fit_bad_input_one_line_exit_2(tmp_path, case, words):
    frame = make_frame()
    target = "target"
    if case == "categorical":
        frame["colour"] = ["red", "green"] * 20
    elif case == "nan":
        frame.loc[3, "weight"] = np.nan
    elif case == "misspelled":
        target = "traget"
    elif case == "too_few_rows":
        frame = frame.head(4)
    path = tmp_path / "data.csv"
    if case != "missing_file":
        frame.to_csv(path, index=False)
    result = run_cli("fit", path, "--target", target, "--out", tmp_path / "out")
    assert_one_line_error(result, *words)
    assert not (tmp_path / "out").exists()


def test_fit_writes_model_coefficients_and_plots(fitted):
    out, result = fitted
    assert sorted(p.name for p in out.iterdir()) == [
        "coefficients.csv", "cv.png", "model.joblib", "path.png", "saved_model"]
    for plot in ["cv.png", "path.png"]:
        height, width, _ = matplotlib.image.imread(out / plot).shape
        assert height > 300 and width > 500
    table = pd.read_csv(out / "coefficients.csv")
    assert list(table.feature) == [*FEATURES, "(intercept)"]
    model = joblib.load(out / "model.joblib")
    np.testing.assert_array_equal(table.coef_scaled[:-1], model[-1].coef_)
    alpha = model[-1].alpha
    assert f"alpha = {alpha:.4g}, chosen by 3-fold cross-validation" in result.stdout
    assert "CV mean squared error" in result.stdout
    assert f"exact zeros: {int((model[-1].coef_ == 0).sum())}" in result.stdout
    # TensorFlow's native start-up lines (oneDNN, CUDA stubs) are hidden.
    assert "absl" not in result.stderr and "oneDNN" not in result.stderr
    assert "Traceback" not in result.stderr


def test_fit_original_scale_coefficients_reproduce_predictions(fitted, clean_csv):
    out, _ = fitted
    table = pd.read_csv(out / "coefficients.csv")
    model = joblib.load(out / "model.joblib")
    X = pd.read_csv(clean_csv)[FEATURES]
    by_hand = X.to_numpy() @ table.coef_original[:-1] + table.coef_original.iloc[-1]
    np.testing.assert_allclose(by_hand, model.predict(X), rtol=1e-10)


def test_predict_reproduces_python_predictions(fitted, clean_csv, tmp_path):
    out, _ = fitted
    # Extra and reordered columns are fine: the model selects its features.
    data = pd.read_csv(clean_csv)[["target", *FEATURES[::-1]]]
    data.to_csv(tmp_path / "new.csv", index=False)
    result = run_cli("predict", out / "model.joblib", tmp_path / "new.csv",
                     "--out", tmp_path / "pred.csv")
    assert result.returncode == 0, result.stderr
    expected = joblib.load(out / "model.joblib").predict(data[FEATURES])
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "pred.csv").prediction, expected)


def test_help_is_instant_imports_neither_tensorflow_nor_pandas():
    code = ("import sys; from tflasso.__main__ import main\n"
            "try:\n    main(['fit', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({'tensorflow', 'pandas', 'matplotlib'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "[]"
    assert "--standardize, --no-standardize" in result.stdout


# In-process checks of the pieces: cheap, no subprocess.


def test_main_fit_with_alpha_skips_cross_validation(clean_csv, tmp_path, capsys):
    assert _cli.main(["fit", str(clean_csv), "--target", "target", "--alpha", "0.5",
                      "--no-standardize", "--n-alphas", "4", "--out", str(tmp_path)]) == 0
    assert "alpha = 0.5 (given)" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "coefficients.csv", "model.joblib", "path.png", "saved_model"]
    table = pd.read_csv(tmp_path / "coefficients.csv")
    np.testing.assert_array_equal(table.coef_scaled, table.coef_original)


def test_main_predict_missing_feature_names_it(fitted, tmp_path, capsys):
    out, _ = fitted
    make_frame().drop(columns=["age"]).to_csv(tmp_path / "new.csv", index=False)
    assert _cli.main(["predict", str(out / "model.joblib"), str(tmp_path / "new.csv")]) == 2
    assert "no column 'age'" in capsys.readouterr().err


def test_progress_draws_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, drawn in [(Terminal(), True), (io.StringIO(), False)]:
        with _cli.Progress("work", stream=stream, interval=0.01):
            time.sleep(0.05)
        assert ("\rwork |" in stream.getvalue()) is drawn
        assert stream.getvalue().endswith("\r\033[K") is drawn


def test_demo_compares_with_scikit_learn():
    lines = []
    run_demo(print_=lines.append)
    report = "\n".join(lines)
    assert "GridSearchCV over 20 alphas x 5 folds" in report
    alphas = re.search(r"alpha_ = (\S+) \(tflasso\), (\S+) \(scikit-learn\)", report)
    assert alphas.group(1) == alphas.group(2)
    zeros = re.search(r"exact zeros +(\d+) +(\d+)", report)
    assert zeros.group(1) == zeros.group(2)
