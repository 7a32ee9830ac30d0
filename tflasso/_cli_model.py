"""The command line's model file: JSON, data only, so reading one cannot run code.

``tflasso fit --out DIR`` writes ``DIR/model.json``: the feature names, the
scaler's statistics, the coefficients and the intercept (floats written as the
shortest decimal that reads back to the same float64), and the versions that
wrote it. ``tflasso predict`` reads it with :mod:`json` and predicts with numpy
in the pipeline's order of operations, so its predictions equal the fitted
pipeline's. A pickle (``fit --pickle``) is for Python users; ``predict``
refuses one unless told that the file is trusted, since loading a pickle runs
whatever code it names.
"""

import json
import math

import numpy as np

from ._cli import InputError

FORMAT = "tflasso-model"
FORMAT_VERSION = 1


def model_record(model, target):
    """The fitted ``Pipeline(StandardScaler, Lasso)`` as a dict of plain data."""
    import sklearn

    from . import __version__

    scaler, lasso = model[0], model[-1]

    def floats(values):
        return None if values is None else [float(v) for v in np.ravel(values)]

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "versions": {"tflasso": __version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
        "model": "Pipeline(StandardScaler, Lasso)",
        "target": target,
        "feature_names": [str(n) for n in scaler.feature_names_in_],
        "alpha": float(lasso.alpha), "positive": bool(lasso.positive),
        "scaler": {"mean": floats(scaler.mean_), "scale": floats(scaler.scale_)},
        "coef": floats(lasso.coef_),
        "intercept": float(lasso.intercept_),
    }


def save_model(model, target, path):
    with open(path, "w") as stream:
        json.dump(model_record(model, target), stream, indent=1, allow_nan=False)
        stream.write("\n")


class SavedModel:
    """A model read from ``model.json``: feature names and a numpy ``predict``."""

    def __init__(self, record):
        self.feature_names_in_ = np.asarray(record["feature_names"], dtype=object)
        self.target = record.get("target")
        scaler = record["scaler"]
        self.mean_ = _vector(scaler["mean"], len(self.feature_names_in_), "scaler.mean")
        self.scale_ = _vector(scaler["scale"], len(self.feature_names_in_), "scaler.scale")
        self.coef_ = _vector(record["coef"], len(self.feature_names_in_), "coef")
        self.intercept_ = _number(record["intercept"], "intercept")

    def predict(self, X):
        """Predictions for the feature columns ``X`` (in ``feature_names_in_`` order)."""
        X = np.array(X, dtype=np.float64)
        # StandardScaler.transform then Lasso.predict, operation for operation.
        if self.mean_ is not None:
            X -= self.mean_
        if self.scale_ is not None:
            X /= self.scale_
        return X @ self.coef_ + self.intercept_


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number")
    return float(value)


def _vector(values, length, what):
    if values is None and what.startswith("scaler"):
        return None
    if not isinstance(values, list) or len(values) != length:
        raise ValueError(f"{what} is not a list of {length} numbers")
    return np.array([_number(v, what) for v in values])


def _looks_like_json(path):
    with open(path, "rb") as stream:
        return stream.read(64).lstrip()[:1] == b"{"


def load_model(path, trust_pickle=False):
    """The model in ``path``: JSON always, a pickle only with ``trust_pickle``."""
    try:
        is_json = _looks_like_json(path)
    except OSError as error:
        raise InputError(f"{path}: cannot read this file ({error.strerror})") from None
    if not is_json:
        if not trust_pickle:
            raise InputError(
                f"{path}: not a model.json written by 'tflasso fit'; if it is a pickle "
                "or joblib file from a source you trust, add --trust-pickle (loading a "
                "pickle runs any code it contains)")
        return _load_pickle(path)
    try:
        with open(path, encoding="utf-8") as stream:
            record = json.load(stream)
        if record.get("format") != FORMAT:
            raise ValueError("no 'format': 'tflasso-model' entry")
        if record.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {record.get('format_version')!r}, "
                             f"this tflasso reads {FORMAT_VERSION}")
        names = record["feature_names"]
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)
                and len(set(names)) == len(names)):
            raise ValueError("feature_names is not a list of distinct strings")
        return SavedModel(record)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        reason = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise InputError(f"{path}: not a model written by 'tflasso fit' ({reason})") from None


def _load_pickle(path):
    import joblib

    try:
        model = joblib.load(path)
    except Exception as error:  # noqa: BLE001 - any failure of a foreign file
        raise InputError(f"{path}: not a model saved by 'tflasso fit' "
                         f"({type(error).__name__})") from None
    if not (hasattr(model, "feature_names_in_") and hasattr(model, "predict")):
        raise InputError(f"{path}: not a model saved by 'tflasso fit'")
    return model
