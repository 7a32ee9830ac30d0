"""The command line, run as a user runs it: ``python -m tflasso`` in a subprocess.

A subprocess that fits pays TensorFlow's import (about 5 s), so one ``fit``
(with ``--pickle``) is shared by the tests of its outputs; ``predict`` imports
no TensorFlow. The failures are in ``test_cli_failures.py``.
"""

import io
import json
import pickle
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

from .cli_failures import FEATURES, make_frame


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tflasso", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "clean.csv"
    make_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted(clean_csv):
    out = clean_csv.parent / "out"
    result = run_cli("fit", clean_csv, "--target", "target", "--cv", "3",
                     "--n-alphas", "6", "--out", out, "--pickle")
    assert result.returncode == 0, result.stderr
    return out, result


def test_fit_writes_model_coefficients_and_plots(fitted):
    out, result = fitted
    assert sorted(p.name for p in out.iterdir()) == [
        "coefficients.csv", "cv.png", "model.joblib", "model.json", "path.png", "saved_model"]
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
    result = run_cli("predict", out / "model.json", tmp_path / "new.csv",
                     "--out", tmp_path / "pred.csv")
    assert result.returncode == 0, result.stderr
    # The JSON model predicts exactly as the fitted pipeline (pickled by --pickle).
    expected = joblib.load(out / "model.joblib").predict(data[FEATURES])
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "pred.csv").prediction, expected)


def test_model_json_holds_the_fitted_pipeline(fitted):
    out, _ = fitted
    record = json.loads((out / "model.json").read_text())
    model = joblib.load(out / "model.joblib")
    assert record["feature_names"] == FEATURES and record["target"] == "target"
    np.testing.assert_array_equal(record["coef"], model[-1].coef_)
    np.testing.assert_array_equal(record["scaler"]["mean"], model[0].mean_)
    np.testing.assert_array_equal(record["scaler"]["scale"], model[0].scale_)
    assert record["intercept"] == model[-1].intercept_
    assert record["alpha"] == model[-1].alpha
    assert set(record["versions"]) == {"tflasso", "scikit-learn", "numpy"}


def test_predict_refuses_a_crafted_pickle_and_runs_none_of_it(fitted, tmp_path, clean_csv):
    out, _ = fitted
    marker = tmp_path / "pwned"
    (tmp_path / "evil.joblib").write_bytes(pickle.dumps(_Evil(marker)))
    for model in ["evil.joblib", "evil.json"]:  # the name does not matter
        (tmp_path / model).write_bytes((tmp_path / "evil.joblib").read_bytes())
        result = run_cli("predict", tmp_path / model, clean_csv)
        assert result.returncode == 2 and "--trust-pickle" in result.stderr
        assert not marker.exists()
    # Loading it is what would run its code; the flag is the user saying it may.
    result = run_cli("predict", out / "model.joblib", clean_csv, "--trust-pickle")
    assert result.returncode == 0, result.stderr
    expected = joblib.load(out / "model.joblib").predict(pd.read_csv(clean_csv)[FEATURES])
    np.testing.assert_array_equal(pd.read_csv(io.StringIO(result.stdout)).prediction,
                                  expected)


class _Evil:
    """Unpickling this creates ``marker``: any code could run instead."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")])
def test_semicolon_and_tab_files_are_read_and_said_so(fitted, clean_csv, tmp_path, sep, name):
    out, _ = fitted
    data = pd.read_csv(clean_csv)
    data.to_csv(tmp_path / "new.txt", sep=sep, index=False)
    result = run_cli("predict", out / "model.json", tmp_path / "new.txt")
    assert result.returncode == 0, result.stderr
    assert f"columns separated by {name} (detected)" in result.stderr
    expected = joblib.load(out / "model.joblib").predict(data[FEATURES])
    np.testing.assert_array_equal(pd.read_csv(io.StringIO(result.stdout)).prediction,
                                  expected)


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
        "coefficients.csv", "model.json", "path.png", "saved_model"]
    table = pd.read_csv(tmp_path / "coefficients.csv")
    np.testing.assert_array_equal(table.coef_scaled, table.coef_original)


def _fit_outputs(args, out, capsys):
    assert _cli.main([str(a) for a in args] + ["--out", str(out)]) == 0
    return (pd.read_csv(out / "coefficients.csv"), json.loads((out / "model.json").read_text()),
            capsys.readouterr())


@pytest.mark.parametrize("standardize", ["--standardize", "--no-standardize"])
def test_fit_stream_equals_the_in_memory_fit(tmp_path, monkeypatch, capsys, standardize):
    from tflasso import _cli_input

    path = tmp_path / "data.csv"
    make_frame(n=103, seed=1).to_csv(path, index=False)
    args = ["fit", path, "--target", "target", "--alpha", "0.05", "--n-alphas", "4",
            standardize]
    table, record, _ = _fit_outputs(args, tmp_path / "memory", capsys)
    monkeypatch.setattr(_cli_input, "CHUNK_ROWS", 10)  # 11 chunks, the last short
    streamed, streamed_record, output = _fit_outputs(
        [*args, "--stream"], tmp_path / "stream", capsys)
    assert "103 rows, 4 features, target 'target' (streamed)" in output.out
    assert "\r" not in output.err  # no progress drawn when stderr is not a terminal
    np.testing.assert_array_equal(streamed.coef_scaled == 0, table.coef_scaled == 0)
    np.testing.assert_allclose(streamed.coef_scaled, table.coef_scaled, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(streamed.coef_original, table.coef_original, rtol=1e-6)
    for key in ("mean", "scale"):
        np.testing.assert_allclose(np.asarray(streamed_record["scaler"][key], float),
                                   np.asarray(record["scaler"][key], float), rtol=1e-12)
    assert sorted(p.name for p in (tmp_path / "stream").iterdir()) == sorted(
        p.name for p in (tmp_path / "memory").iterdir())


def test_fit_stream_cross_validates_on_position_folds(tmp_path, monkeypatch, capsys):
    # With --stream, row i is in fold i % K: the in-memory LassoCV given those folds.
    from sklearn.preprocessing import StandardScaler

    from tflasso import Lasso, LassoCV, _cli_input

    frame = make_frame(n=103, seed=2)
    frame.to_csv(tmp_path / "data.csv", index=False)
    monkeypatch.setattr(_cli_input, "CHUNK_ROWS", 16)
    table, record, output = _fit_outputs(
        ["fit", tmp_path / "data.csv", "--target", "target", "--cv", "3", "--n-alphas", "8",
         "--stream"], tmp_path / "out", capsys)
    Xs = StandardScaler().fit_transform(frame[FEATURES])
    fold = np.arange(len(frame)) % 3
    folds = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(3)]
    search = LassoCV(alphas=8, cv=folds).fit(Xs, frame.target)
    assert record["alpha"] == pytest.approx(search.alpha_, rel=1e-12)
    assert "chosen by 3-fold cross-validation over 8 alphas" in output.out
    direct = Lasso(alpha=search.alpha_).fit(Xs, frame.target)
    np.testing.assert_array_equal(table.coef_scaled[:-1] == 0, direct.coef_ == 0)
    np.testing.assert_allclose(table.coef_scaled[:-1], direct.coef_, rtol=1e-6, atol=1e-9)
    assert (tmp_path / "out" / "cv.png").exists()


def test_training_chunks_count_rows_and_check_the_whole_file(tmp_path):
    from tflasso._cli import InputError
    from tflasso._cli_input import TrainingChunks

    make_frame(n=25).assign(target=1.0).to_csv(tmp_path / "data.csv", index=False)
    rows = []
    chunks = TrainingChunks(tmp_path / "data.csv", "target", ",", rows=10, on_rows=rows.append)
    shapes = [X.shape for X, _ in chunks]
    assert shapes == [(10, 4), (10, 4), (5, 4)] and rows == [10, 20, 25]
    with pytest.raises(InputError, match="constant"):  # known only once all are read
        chunks.check(2)


def test_main_predict_missing_feature_names_it(fitted, tmp_path, capsys):
    out, _ = fitted
    make_frame().drop(columns=["age"]).to_csv(tmp_path / "new.csv", index=False)
    assert _cli.main(["predict", str(out / "model.json"), str(tmp_path / "new.csv")]) == 2
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
    assert "-0.0000" not in report  # exact zeros print as 0.0000
    zeros = re.search(r"exact zeros +(\d+) +(\d+)", report)
    assert zeros.group(1) == zeros.group(2)


def test_path_plot_colours_and_names_the_selected_features_only():
    from tflasso._cli_plots import plot_path

    alphas = np.logspace(0, -2, 5)
    coefs = np.zeros((30, 5))
    coefs[:25, 2:] = np.arange(1, 26)[:, None] * [1, 2, 3]  # 25 selected at alpha[2]
    names = [f"x{j}" for j in range(30)]
    ax = plot_path(alphas, coefs, names, alphas[2], "data.csv").axes[0]
    assert ax.get_title() == "Regularization path: data.csv"
    labels = ax.get_legend_handles_labels()[1]
    # The 20 largest selected, by size at the chosen alpha, then a count of the rest.
    assert labels[:3] == ["not selected (5)", "x24", "x23"]
    assert labels[1:21] == [f"x{j}" for j in range(24, 4, -1)]
    assert "and 5 more selected" in labels
    grey = [line for line in ax.get_lines() if line.get_color() == "0.7"]
    assert len(grey) == 5
    colours = {line.get_color() for line in ax.get_lines()[5:30]}
    assert len(colours) == 25  # no colour repeats
