"""SavedModel, TFLite and Keras export: the exported programs predict what ``predict`` does.

Every case (each supported step, each estimator, float32 and float64) is fitted
once and written as a SavedModel. One subprocess, in which importing tflasso
and scikit-learn fails, loads them all with TensorFlow alone, calls every
signature, converts each to TFLite and runs it, and writes the predictions
back; the tests compare them with the pipeline's ``predict``. Relative
tolerances are taken against the largest prediction, so that a prediction
near zero does not turn rounding into a failure.
"""

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

import tflasso
from tflasso import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    export_saved_model,
    to_keras,
)
from tflasso._export import build_plan

# Column f is all missing in the imputer cases, on purpose; the docs page uses
# tf.lite.Interpreter, which TensorFlow announces it will move elsewhere.
pytestmark = [pytest.mark.filterwarnings("ignore:Skipping features:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")]

NAMES = ["a", "b", "c", "d", "e", "f"]


def make_data(n=80, n_targets=None, seed=0):
    """Features of differing scales and signs; targets from columns a, b, d and a*b.

    Columns e and f carry no signal, so a lasso at a moderate alpha drops them.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(NAMES))) * [1, 3, 0.5, 2, 1, 1] + [0, 5, -1, 2, 0, 0]
    signal = X[:, 0] - 0.5 * X[:, 1] + 2 * X[:, 3] + 0.3 * X[:, 0] * X[:, 1]
    if n_targets is None:
        y = signal + 0.1 * rng.standard_normal(n)
    else:
        y = signal[:, None] * [1.0, -0.5, 2.0][:n_targets] + 0.1 * rng.standard_normal(
            (n, n_targets))
    return X, y


def with_nans(X, seed=1):
    """About 10% missing, and column f all missing (the imputer drops it)."""
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < 0.1] = np.nan
    X[:, 5] = np.nan
    return X


def with_sentinels(X):
    """Missing values marked -1 (column f all -1, dropped by the imputer too)."""
    return np.where(np.isnan(with_nans(X)), -1.0, X)


def frame_with_nans_in_d(X):
    X = X.copy()
    X[::7, 3] = np.nan
    return frame(X)


def frame(X):
    return pd.DataFrame(X, columns=NAMES)


def column_transformer():
    return ColumnTransformer([
        ("scaled", StandardScaler(), ["a", "b"]),
        ("robust", make_pipeline(SimpleImputer(strategy="median"), RobustScaler()), ["d"]),
        ("poly", PolynomialFeatures(2, include_bias=False), [0, 2]),
        ("kept", "passthrough", ["e"]),
        ("dropped", "drop", ["c"]),
    ], remainder=MaxAbsScaler())


# name -> (make the model, make (X, y), the input transform applied to X).
CASES = {
    "lasso": (lambda: Lasso(alpha=0.1), make_data, None),
    "elastic_net": (lambda: ElasticNet(alpha=0.1, l1_ratio=0.5), make_data, None),
    "lasso_cv": (lambda: LassoCV(cv=3, alphas=8), make_data, None),
    "elastic_net_cv": (lambda: ElasticNetCV(l1_ratio=[0.5, 0.9], cv=3, alphas=8),
                       make_data, None),
    "multitask_lasso": (lambda: MultiTaskLasso(alpha=0.1),
                        lambda: make_data(n_targets=3), None),
    "multitask_elastic_net": (lambda: MultiTaskElasticNet(alpha=0.1, l1_ratio=0.5),
                              lambda: make_data(n_targets=2), None),
    "multitask_lasso_cv": (lambda: MultiTaskLassoCV(cv=3, alphas=6),
                           lambda: make_data(n_targets=3), None),
    "multitask_elastic_net_cv": (
        lambda: MultiTaskElasticNetCV(l1_ratio=[0.5, 0.9], cv=3, alphas=6),
        lambda: make_data(n_targets=2), None),
    "standard_scaler": (lambda: make_pipeline(StandardScaler(), Lasso(alpha=0.05)),
                        make_data, None),
    "standard_scaler_no_mean": (
        lambda: make_pipeline(StandardScaler(with_mean=False), Lasso(alpha=0.05)),
        make_data, None),
    "min_max_scaler_clip": (
        lambda: make_pipeline(MinMaxScaler((-1, 2), clip=True), Lasso(alpha=0.01)),
        make_data, None),
    "max_abs_scaler": (lambda: make_pipeline(MaxAbsScaler(), Lasso(alpha=0.01)),
                       make_data, None),
    "passthrough_then_nested_pipeline": (
        lambda: make_pipeline("passthrough", make_pipeline(MaxAbsScaler(), "passthrough"),
                              Lasso(alpha=0.01)), make_data, None),
    "robust_scaler": (lambda: make_pipeline(RobustScaler(), Lasso(alpha=0.05)),
                      make_data, None),
    "robust_scaler_scaling_only": (
        lambda: make_pipeline(RobustScaler(with_centering=False), Lasso(alpha=0.05)),
        make_data, None),
    "polynomial": (lambda: make_pipeline(StandardScaler(), PolynomialFeatures(2),
                                         Lasso(alpha=0.05)), make_data, None),
    "polynomial_interactions": (
        lambda: make_pipeline(PolynomialFeatures(2, interaction_only=True),
                              StandardScaler(), MultiTaskLasso(alpha=0.05)),
        lambda: make_data(n_targets=2), None),
    "imputer_mean": (lambda: make_pipeline(SimpleImputer(), StandardScaler(),
                                           Lasso(alpha=0.05)), make_data, with_nans),
    "imputer_constant_sentinel": (
        lambda: make_pipeline(SimpleImputer(missing_values=-1.0, strategy="constant",
                                            fill_value=3.0), Lasso(alpha=0.05)),
        make_data, with_sentinels),
    "column_transformer_frame": (
        lambda: make_pipeline(column_transformer(), Lasso(alpha=0.02)), make_data,
        frame_with_nans_in_d),
    "float32_pipeline": (
        lambda: make_pipeline(StandardScaler(), PolynomialFeatures(2), Lasso(alpha=0.05)),
        lambda: tuple(v.astype(np.float32) for v in make_data()), None),
    "float32_multitask": (
        lambda: MultiTaskElasticNet(alpha=0.05),
        lambda: tuple(v.astype(np.float32) for v in make_data(n_targets=2)), None),
}


@pytest.fixture(scope="module")
def fitted():
    """Every case fitted once: ``name -> (model, X)``, X as the model was fitted on."""
    models = {}
    for name, (make_model, make_xy, transform) in CASES.items():
        X, y = make_xy()
        X = X if transform is None else transform(X)
        models[name] = make_model().fit(X, y), X
    return models


def as_array(X):
    return X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)


SERVE = textwrap.dedent("""
    import importlib.abc, json, sys

    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("tflasso", "sklearn"):
                raise ImportError(f"{name} is blocked in this process")

    sys.meta_path.insert(0, Blocked())
    for name in ("tflasso", "sklearn"):
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            sys.exit(f"importing {name} should have failed")

    import numpy as np
    import tensorflow as tf

    folder = sys.argv[1]
    out = {}
    for name in json.load(open(f"{folder}/cases.json")):
        X = np.load(f"{folder}/{name}.npy")
        loaded = tf.saved_model.load(f"{folder}/{name}")
        signatures = loaded.signatures
        for key in ("serving_default", "serving_float32", "serving_float64"):
            dtype = signatures[key].structured_input_signature[1]["inputs"].dtype
            result = signatures[key](inputs=tf.constant(X.astype(dtype.as_numpy_dtype)))
            out[f"{name}/{key}"] = result["predictions"].numpy()
        out[f"{name}/call"] = loaded(tf.constant(X.astype(
            signatures["serving_default"].structured_input_signature[1]["inputs"]
            .dtype.as_numpy_dtype))).numpy()
        if "serving_columns" in signatures:
            names = [n.decode() for n in loaded.feature_names().numpy()]
            dtype = signatures["serving_default"].structured_input_signature[1]["inputs"].dtype
            columns = {n: tf.constant(X[:, j].astype(dtype.as_numpy_dtype))
                       for j, n in enumerate(names)}
            out[f"{name}/serving_columns"] = (
                signatures["serving_columns"](**columns)["predictions"].numpy())
        converter = tf.lite.TFLiteConverter.from_saved_model(
            f"{folder}/{name}", signature_keys=["serving_float32"])
        interpreter = tf.lite.Interpreter(model_content=converter.convert())
        runner = interpreter.get_signature_runner("serving_float32")
        out[f"{name}/tflite"] = runner(inputs=X.astype(np.float32))["predictions"]
    assert not any(m.partition(".")[0] in ("tflasso", "sklearn") for m in sys.modules)
    np.savez(f"{folder}/served.npz", **out)
""")


@pytest.fixture(scope="module")
def served(fitted, tmp_path_factory):
    """The predictions of every exported case, computed without tflasso or scikit-learn."""
    folder = tmp_path_factory.mktemp("exported")
    for name, (model, X) in fitted.items():
        export_saved_model(model, folder / name)
        np.save(folder / f"{name}.npy", as_array(X))
    (folder / "cases.json").write_text(json.dumps(list(fitted)))
    result = subprocess.run([sys.executable, "-c", SERVE, str(folder)],
                            capture_output=True, text=True, timeout=600,
                            cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(folder / "served.npz") as data:
        return dict(data)


def assert_close(got, want, rtol):
    """Equal up to ``rtol`` relative to the largest prediction, and of the same shape."""
    want = np.asarray(want, np.float64)
    assert np.shape(got) == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


@pytest.mark.parametrize("name", CASES)
def test_saved_model_predicts_as_the_pipeline_without_tflasso_or_sklearn(name, fitted,
                                                                         served):
    model, X = fitted[name]
    want = model.predict(X)
    float32 = want.dtype == np.float32
    assert_close(served[f"{name}/serving_default"], want, 1e-6 if float32 else 1e-12)
    assert_close(served[f"{name}/call"], want, 1e-6 if float32 else 1e-12)
    # The other dtype's signature: float32 weights or a float32 input lose
    # float32's precision, no more.
    assert_close(served[f"{name}/serving_float32"], want, 1e-6)
    assert_close(served[f"{name}/serving_float64"], want, 1e-6 if float32 else 1e-12)


@pytest.mark.parametrize("name", CASES)
def test_tflite_model_predicts_as_the_pipeline(name, fitted, served):
    model, X = fitted[name]
    assert_close(served[f"{name}/tflite"], model.predict(X), 1e-5)


def test_dataframe_pipeline_has_a_signature_of_named_columns(fitted, served):
    model, X = fitted["column_transformer_frame"]
    assert_close(served["column_transformer_frame/serving_columns"], model.predict(X), 1e-12)
    # Models fitted on arrays have no names, so no such signature.
    assert [key for key in served if key.endswith("serving_columns")] == [
        "column_transformer_frame/serving_columns"]


def test_cases_cover_nans_and_dropped_columns(fitted):
    """The cases exercise what they claim: imputed NaNs, a dropped empty column."""
    assert np.isnan(fitted["imputer_mean"][1]).any()
    assert fitted["imputer_mean"][0][1].n_features_in_ == len(NAMES) - 1
    assert np.isnan(fitted["column_transformer_frame"][1]["d"]).any()
    for name in ("lasso", "polynomial", "column_transformer_frame"):
        estimator = fitted[name][0]
        estimator = estimator[-1] if hasattr(estimator, "steps") else estimator
        assert (estimator.coef_ == 0).any() and (estimator.coef_ != 0).any()


def test_saved_model_reads_only_the_inputs_of_selected_features(fitted, tmp_path):
    """A NaN in an input that no selected feature uses changes nothing: it is not read."""
    import tensorflow as tf

    model, X = fitted["standard_scaler"]
    unused = np.flatnonzero(model[-1].coef_ == 0)
    assert len(unused) > 0
    loaded = tf.saved_model.load(export_saved_model(model, tmp_path / "m"))
    poisoned = X.copy()
    poisoned[:, unused] = np.nan
    got = loaded.signatures["serving_default"](inputs=tf.constant(poisoned))["predictions"]
    assert_close(got.numpy(), model.predict(X), 1e-12)


def test_polynomial_plan_computes_only_selected_monomials(fitted):
    model, _ = fitted["polynomial"]
    plan = build_plan(model)
    (monomials,) = [op for op in plan["ops"] if op["kind"] == "monomials"]
    assert len(monomials["factors"]) == np.count_nonzero(model[-1].coef_)
    assert len(build_plan(model, selected=False)["ops"][1]["factors"]) == \
        model[1].n_output_features_


def test_model_with_no_selected_feature_predicts_the_intercept(tmp_path):
    import tensorflow as tf

    X, y = make_data()
    model = make_pipeline(StandardScaler(), Lasso(alpha=1e3)).fit(X, y)
    assert not model[-1].coef_.any()
    loaded = tf.saved_model.load(export_saved_model(model, tmp_path / "m"))
    got = loaded.signatures["serving_default"](inputs=tf.constant(X))["predictions"]
    assert_close(got.numpy(), np.full(len(X), y.mean()), 1e-12)


@pytest.mark.parametrize("name", CASES)
def test_keras_model_predicts_as_the_pipeline(name, fitted):
    model, X = fitted[name]
    want = model.predict(X)
    got = to_keras(model)(as_array(X)).numpy()
    assert got.dtype == want.dtype
    assert_close(got[:, 0] if want.ndim == 1 else got, want,
                 1e-6 if want.dtype == np.float32 else 1e-12)


def test_keras_model_composes_fine_tunes_and_saves(fitted, tmp_path):
    import keras

    model, X = fitted["polynomial"]
    net = to_keras(model, selected=False)
    inputs = keras.Input((X.shape[1],), dtype="float64")
    doubled = keras.layers.Rescaling(2.0, dtype="float64")(net(inputs))
    larger = keras.Model(inputs, keras.layers.Concatenate(dtype="float64")([net(inputs), doubled]))
    got = larger(X).numpy()
    assert_close(got, np.stack([model.predict(X), 2 * model.predict(X)], axis=1), 1e-12)

    # Saved and reloaded as a .keras file, it predicts the same.
    larger.save(tmp_path / "larger.keras")
    reloaded = keras.models.load_model(tmp_path / "larger.keras")
    assert_close(reloaded(X).numpy(), got, 1e-12)

    # Fine-tuning moves the weights (the zeros included: selected=False) and
    # lowers the loss on a shifted target.
    target = model.predict(X) + 1.0
    before = float(np.mean((net(X).numpy()[:, 0] - target) ** 2))
    net.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    net.fit(X, target, epochs=20, batch_size=len(X), verbose=0)
    after = float(np.mean((net(X).numpy()[:, 0] - target) ** 2))
    assert after < 0.5 * before
    assert len(net.trainable_weights) == 2
    assert (net.get_layer("linear").kernel.numpy()[model[-1].coef_ == 0] != 0).any()


def test_keras_model_of_selected_features_has_one_weight_per_selected_feature(fitted):
    model, _ = fitted["multitask_lasso"]
    kernel = to_keras(model).get_layer("linear").kernel.numpy()
    selected = np.flatnonzero(model.coef_.any(axis=0))
    np.testing.assert_array_equal(kernel, model.coef_[:, selected].T)


@pytest.mark.parametrize("model, words", [
    (make_pipeline(StandardScaler(), PCA(2), Lasso()), ["'pca'", "PCA", "supported"]),
    (make_pipeline(SimpleImputer(add_indicator=True), Lasso()),
     ["'simpleimputer'", "add_indicator"]),
    (make_pipeline(StandardScaler(), SklearnLasso()), ["'lasso'", "tflasso estimator"]),
    (make_pipeline(ColumnTransformer([("pca", PCA(1), [0, 1])]), Lasso()),
     ["'pca'", "PCA"]),
])
def test_unsupported_step_is_named(model, words):
    X, y = make_data()
    model.fit(X, y)
    with pytest.raises(ValueError) as error:
        export_saved_model(model, "unused")
    for word in words:
        assert word in str(error.value)
    with pytest.raises(ValueError):
        to_keras(model)


def test_unfitted_model_or_step_raises_not_fitted():
    with pytest.raises(NotFittedError):
        export_saved_model(make_pipeline(StandardScaler(), Lasso()), "unused")
    X, y = make_data()
    for step in (SimpleImputer(), PolynomialFeatures(), column_transformer()):
        with pytest.raises(NotFittedError):
            export_saved_model(make_pipeline(step, Lasso().fit(X, y)), "unused")


def test_public_names():
    assert {"export_saved_model", "to_keras"} <= set(tflasso.__all__)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tflasso", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_fit_writes_a_saved_model_that_predict_accepts(tmp_path):
    import joblib

    X, y = make_data()
    frame(X).assign(target=y).to_csv(tmp_path / "train.csv", index=False)
    new = frame(make_data(n=15, seed=3)[0])[NAMES[::-1]]  # any column order
    new.to_csv(tmp_path / "new.csv", index=False)
    fit = run_cli("fit", tmp_path / "train.csv", "--target", "target", "--alpha", "0.05",
                  "--n-alphas", "5", "--out", tmp_path / "out", "--pickle")
    assert fit.returncode == 0, fit.stderr
    assert (tmp_path / "out" / "saved_model" / "saved_model.pb").is_file()
    predict = run_cli("predict", tmp_path / "out" / "saved_model", tmp_path / "new.csv")
    assert predict.returncode == 0, predict.stderr
    got = pd.read_csv(io.StringIO(predict.stdout))["prediction"].to_numpy()
    want = joblib.load(tmp_path / "out" / "model.joblib").predict(new[NAMES])
    # The CSV holds the predictions as pandas prints them (17 significant digits).
    assert_close(got, want, 1e-12)


@pytest.mark.parametrize("content", ["empty", "unnamed"])
def test_cli_predict_rejects_a_directory_that_is_not_its_saved_model(content, tmp_path,
                                                                     capsys, fitted):
    from tflasso._cli import main

    model = tmp_path / "model"
    if content == "unnamed":  # a SavedModel of a model fitted on an array
        export_saved_model(fitted["lasso"][0], model)
    else:
        model.mkdir()
    frame(make_data(n=5)[0]).to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(model), str(tmp_path / "new.csv")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and str(model) in error[0]
    assert ("SavedModel" if content == "empty" else "feature names") in error[0]


def test_docs_page_code_runs(tmp_path, monkeypatch):
    """The Python blocks of docs/export.rst, run in order in one namespace."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "export.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", page)
    assert len(blocks) == 3
    monkeypatch.setattr("tempfile.mkdtemp", lambda: str(tmp_path / "model"))
    namespace = {}
    for block in blocks:
        exec(textwrap.dedent(block), namespace)
    assert_close(namespace["y_lite"], namespace["model"].predict(namespace["X"]), 1e-5)
    larger = namespace["larger"]
    assert larger.output.shape == (None, 1)
    assert len(larger.trainable_weights) == 6  # the lasso's Dense and two more
