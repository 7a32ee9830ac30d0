"""Fitted models and pipelines as TensorFlow programs: SavedModel, Keras, TFLite.

A fitted pipeline becomes a *plan*: plain data (numpy arrays and index lists)
describing the preprocessing ops and the final linear map. The plan is built
backwards from the estimator's selected features, so each step computes only the
columns the next one uses: a lasso that keeps 10 of 1,000 polynomial features
makes the SavedModel compute those 10 monomials and read only their inputs.
The same plan drives the ``tf.Module`` written as a SavedModel and the Keras
layer, and being plain data it is also the Keras layer's config.

Each step maps sorted output columns it must produce to the sorted input columns
it needs and a list of ops (dicts) that compute the former from the latter.
"""

import re
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import LinearPredictor

_SUPPORTED = ("StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, "
              "PolynomialFeatures, SimpleImputer, FunctionTransformer() (the identity), "
              "'passthrough', and Pipeline or ColumnTransformer of those")
# What TensorFlow accepts as a signature's input name.
_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")


# --- the plan: numpy only ------------------------------------------------------------


def _unsupported(name, step, why=None):
    what = f"Cannot export step {name!r} ({type(step).__name__})"
    return ValueError(f"{what}: {why}." if why else
                      f"{what}: the supported steps are {_SUPPORTED}.")


def _columnwise(name, step, need):
    """Ops of a step whose output column j depends on its input column j only."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    if not isinstance(step, (SimpleImputer, StandardScaler, RobustScaler, MaxAbsScaler,
                             MinMaxScaler)):
        return None
    check_is_fitted(step)

    def take(values):
        return None if values is None else np.asarray(values, np.float64)[need]

    if isinstance(step, SimpleImputer):
        if step.add_indicator:
            raise _unsupported(name, step, "add_indicator=True is not supported")
        statistics = np.asarray(step.statistics_, np.float64)
        # Columns whose statistic is NaN (all missing in fit) are dropped.
        kept = (np.arange(len(statistics)) if step.keep_empty_features
                else np.flatnonzero(~np.isnan(statistics)))
        missing = step.missing_values
        if not isinstance(missing, Real) or isinstance(missing, bool):
            raise _unsupported(name, step, f"missing_values={missing!r} is not a number")
        return kept[need], [{"kind": "impute", "missing": float(missing),
                             "fill": statistics[kept[need]].tolist()}]
    # The scalers keep statistics they do not use: the flags decide.
    if isinstance(step, StandardScaler):
        op = {"sub": take(step.mean_) if step.with_mean else None,
              "div": take(step.scale_) if step.with_std else None}
    elif isinstance(step, RobustScaler):
        op = {"sub": take(step.center_) if step.with_centering else None,
              "div": take(step.scale_) if step.with_scaling else None}
    elif isinstance(step, MaxAbsScaler):
        op = {"div": take(step.scale_)}
    else:  # MinMaxScaler
        op = {"mul": take(step.scale_), "add": take(step.min_)}
        if step.clip:
            op["clip"] = [float(v) for v in step.feature_range]
    op = {key: (v.tolist() if isinstance(v, np.ndarray) else v)
          for key, v in op.items() if v is not None}
    return need, [{"kind": "affine", **op}]


def _monomials(step, need):
    """PolynomialFeatures: each needed output is a product of input columns."""
    powers = np.asarray(step.powers_)[need]
    inputs = np.flatnonzero(powers.any(axis=0))
    powers = powers[:, inputs]
    degree = max(1, int(powers.sum(axis=1).max(initial=0)))
    # Row k lists the positions of its factors, padded with the column of ones
    # appended at position len(inputs) (so the bias column is all padding).
    factors = np.full((len(need), degree), len(inputs), dtype=np.int64)
    for k, row in enumerate(powers):
        listed = np.repeat(np.arange(len(inputs)), row)
        factors[k, :len(listed)] = listed
    return inputs, [{"kind": "monomials", "factors": factors.tolist()}]


def _column_indices(transformer, columns):
    """A ColumnTransformer's column specification as sorted-or-not int indices."""
    n = transformer.n_features_in_
    names = list(getattr(transformer, "feature_names_in_", []))
    if isinstance(columns, slice):
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            start = names.index(columns.start) if columns.start is not None else None
            stop = names.index(columns.stop) + 1 if columns.stop is not None else None
            columns = slice(start, stop, columns.step)
        return np.arange(n)[columns]
    columns = np.atleast_1d(np.asarray(columns, dtype=object))
    if columns.size and isinstance(columns[0], (bool, np.bool_)):
        return np.flatnonzero(columns.astype(bool))
    return np.array([names.index(c) if isinstance(c, str) else int(c) for c in columns],
                    dtype=np.int64)


def _branches(transformer, need):
    """ColumnTransformer: one branch per transformer that produces a needed column."""
    branches, inputs = [], []
    for name, step, columns in transformer.transformers_:
        where = transformer.output_indices_[name]
        local = need[(need >= where.start) & (need < where.stop)] - where.start
        if len(local) == 0:
            continue
        columns = _column_indices(transformer, columns)
        step_in, ops = _backward(name, step, local)
        branches.append((columns[step_in], ops))
        inputs.append(columns[step_in])
    used = np.unique(np.concatenate(inputs)) if inputs else np.zeros(0, np.int64)
    ops = [{"columns": np.searchsorted(used, cols).tolist(), "ops": ops}
           for cols, ops in branches]
    return used, [{"kind": "branches", "branches": ops}]


def _backward(name, step, need):
    """``(input columns, ops)`` for a step to produce its output columns ``need``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return need, []
    if isinstance(step, str):
        raise ValueError(f"Cannot export step {name!r} ({step!r}): only 'passthrough' "
                         "and 'drop' are supported as strings.")
    if isinstance(step, FunctionTransformer) and step.func is None:
        return need, []
    if isinstance(step, Pipeline):
        return _backward_steps(step.steps, need)
    if isinstance(step, ColumnTransformer):
        check_is_fitted(step)
        return _branches(step, need)
    if isinstance(step, PolynomialFeatures):
        check_is_fitted(step)
        return _monomials(step, need)
    planned = _columnwise(name, step, need)
    if planned is None:
        raise _unsupported(name, step)
    return planned


def _backward_steps(steps, need):
    """``_backward`` through a list of ``(name, step)``, last step first."""
    ops = []
    for name, step in reversed(steps):
        need, step_ops = _backward(name, step, need)
        ops = step_ops + ops
    return need, ops


def _final_estimator(model):
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        steps, (name, estimator) = model.steps[:-1], model.steps[-1]
    else:
        steps, name, estimator = [], "model", model
    if not isinstance(estimator, LinearPredictor):
        raise ValueError(
            f"Cannot export {name!r} ({type(estimator).__name__}): the model must be a "
            "fitted tflasso estimator, or a Pipeline ending in one.")
    check_is_fitted(estimator)
    return steps, estimator


def build_plan(model, selected=True):
    """The plan of a fitted estimator or Pipeline: plain, JSON-able data.

    With ``selected``, only the features with a non-zero coefficient (in any
    task) are computed; otherwise every feature the estimator sees.
    """
    steps, estimator = _final_estimator(model)
    coef = np.atleast_2d(np.asarray(estimator.coef_, np.float64))  # (K, p)
    need = np.flatnonzero(coef.any(axis=0)) if selected else np.arange(coef.shape[1])
    inputs, ops = _backward_steps(steps, need)
    # The first step that is not 'passthrough' saw the raw columns.
    first = next(step for _, step in [*steps, ("", estimator)]
                 if step is not None and not isinstance(step, str))
    names = getattr(first, "feature_names_in_", None)
    return {
        "n_features": int(first.n_features_in_),
        "feature_names": None if names is None else [str(n) for n in names],
        "inputs": inputs.tolist(),
        "ops": ops,
        "kernel": coef[:, need].T.tolist(),  # (selected, K)
        "bias": np.broadcast_to(np.asarray(estimator.intercept_, np.float64),
                                coef.shape[:1]).tolist(),
        "single_target": np.ndim(estimator.coef_) == 1,
        "dtype": np.dtype(estimator.coef_.dtype).name,
    }


# --- the plan as TensorFlow ops -------------------------------------------------------


def _affine(op, x, tf):
    for key, apply in (("sub", tf.subtract), ("div", tf.divide), ("mul", tf.multiply),
                       ("add", tf.add)):
        if key in op:
            x = apply(x, tf.constant(op[key], x.dtype))
    if "clip" in op:
        x = tf.clip_by_value(x, *[tf.constant(v, x.dtype) for v in op["clip"]])
    return x


def _impute(op, x, tf):
    missing = op["missing"]
    where = tf.math.is_nan(x) if np.isnan(missing) else tf.equal(x, missing)
    return tf.where(where, tf.constant(op["fill"], x.dtype)[None, :], x)


def _apply(ops, x):
    """The ops of a plan applied to a (n, d) tensor."""
    import tensorflow as tf

    for op in ops:
        kind = op["kind"]
        if kind == "affine":
            x = _affine(op, x, tf)
        elif kind == "impute":
            x = _impute(op, x, tf)
        elif kind == "monomials":
            ones = tf.ones_like(x[:, :1])
            factors = tf.gather(tf.concat([x, ones], axis=1), op["factors"], axis=1)
            x = tf.reduce_prod(factors, axis=2)
        elif kind == "branches":
            parts = [_apply(b["ops"], tf.gather(x, b["columns"], axis=1))
                     for b in op["branches"]]
            x = tf.concat(parts, axis=1) if parts else x[:, :0]
    return x


def features(plan, x):
    """The selected (or all) transformed features of the raw input batch ``x``."""
    import tensorflow as tf

    return _apply(plan["ops"], tf.gather(x, plan["inputs"], axis=1))


def predict(plan, x):
    """The plan's predictions for a (n, n_features) tensor, in ``x``'s dtype."""
    import tensorflow as tf

    bias = tf.constant(plan["bias"], x.dtype)
    if plan["inputs"] or plan["kernel"]:
        kernel = tf.constant(np.reshape(plan["kernel"], (-1, len(plan["bias"]))), x.dtype)
        y = tf.matmul(features(plan, x), kernel) + bias
    else:  # no feature selected: the intercept alone
        y = tf.zeros_like(x[:, :1]) + bias
    return y[:, 0] if plan["single_target"] else y


# --- the SavedModel ---------------------------------------------------------------------


def _module(plan):
    import tensorflow as tf

    module = tf.Module()
    dtypes = {"float32": tf.float32, "float64": tf.float64}
    fitted = dtypes[plan["dtype"]]
    signatures = {}
    for name, dtype in dtypes.items():
        spec = tf.TensorSpec([None, plan["n_features"]], dtype, name="inputs")
        function = tf.function(lambda inputs: {"predictions": predict(plan, inputs)},
                               input_signature=[spec])
        setattr(module, f"predict_{name}", function)
        signatures[f"serving_{name}"] = function
        if dtype == fitted:
            signatures["serving_default"] = function
            module.__call__ = tf.function(lambda inputs: predict(plan, inputs),
                                          input_signature=[spec])
    names = plan["feature_names"]
    if names is not None:
        module.feature_names = tf.function(lambda: tf.constant(names), input_signature=[])
        if all(_VALID_NAME.match(n) for n in names) and len(set(names)) == len(names):
            spec = {n: tf.TensorSpec([None], fitted, name=n) for n in names}
            module.predict_columns = tf.function(
                lambda columns: {"predictions": predict(
                    plan, tf.stack([columns[n] for n in names], axis=1))},
                input_signature=[spec])
            signatures["serving_columns"] = module.predict_columns
    return module, signatures


def export_saved_model(model, path):
    """Write a fitted tflasso estimator or Pipeline as a TensorFlow SavedModel.

    The SavedModel needs TensorFlow only (neither tflasso nor scikit-learn)
    to load and predict, so it can be served by TF Serving, converted by
    :class:`tf.lite.TFLiteConverter`, or called from any TensorFlow program.
    Only the features with a non-zero coefficient are computed: the inputs
    they need are gathered, and the preprocessing runs on those alone.

    Parameters
    ----------
    model : estimator or :class:`~sklearn.pipeline.Pipeline`
        A fitted tflasso estimator (:class:`Lasso`, :class:`ElasticNet`, the
        multi-task and cross-validated ones), or a Pipeline ending in one whose
        other steps are :class:`~sklearn.preprocessing.StandardScaler`,
        :class:`~sklearn.preprocessing.MinMaxScaler`,
        :class:`~sklearn.preprocessing.MaxAbsScaler`,
        :class:`~sklearn.preprocessing.RobustScaler`,
        :class:`~sklearn.preprocessing.PolynomialFeatures`,
        :class:`~sklearn.impute.SimpleImputer` (without ``add_indicator``),
        ``'passthrough'``, or a :class:`~sklearn.compose.ColumnTransformer` or
        Pipeline of those.

    path : str or path-like
        The directory to write.

    Returns
    -------
    path : str
        ``path``, as given.

    Notes
    -----
    The SavedModel's signatures each return ``{"predictions": y}``, ``y`` of
    shape (n,) for a single target, or (n, n_tasks):

    - ``serving_default``: ``inputs`` of shape (None, n_features) in the dtype
      the model was fitted in;
    - ``serving_float32`` and ``serving_float64``: the same in each dtype
      (``serving_float32`` is the one to convert to TFLite, which has few
      float64 kernels);
    - ``serving_columns``, when the model was fitted on a DataFrame whose
      column names are valid TensorFlow names: one (None,) tensor per column.

    The loaded object is also callable on a batch in the fitted dtype, and
    its ``feature_names()`` returns the column names where there are some.

    Examples
    --------
    >>> import tempfile, numpy as np, tensorflow as tf
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tflasso import Lasso, export_saved_model
    >>> X = np.random.default_rng(0).standard_normal((50, 3))
    >>> y = X @ [1.0, 0.0, -2.0] + 1.0
    >>> model = make_pipeline(StandardScaler(), Lasso(alpha=0.1)).fit(X, y)
    >>> path = export_saved_model(model, tempfile.mkdtemp())
    >>> loaded = tf.saved_model.load(path)
    >>> served = loaded.signatures["serving_default"](inputs=tf.constant(X))
    >>> bool(np.allclose(served["predictions"].numpy(), model.predict(X)))
    True
    """
    import tensorflow as tf

    module, signatures = _module(build_plan(model))
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)


# --- Keras ------------------------------------------------------------------------------


def _preprocessing_layer():
    """The Keras layer class, defined on first use so that Keras loads lazily."""
    global _Preprocessing
    if _Preprocessing is not None:
        return _Preprocessing
    import keras

    @keras.saving.register_keras_serializable(package="tflasso")
    class Preprocessing(keras.layers.Layer):
        """A fitted pipeline's preprocessing, to the features its estimator uses."""

        def __init__(self, plan, **kwargs):
            super().__init__(**kwargs)
            self.plan = plan

        def call(self, inputs):
            return features(self.plan, inputs)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], len(self.plan["kernel"]))

        def get_config(self):
            return {**super().get_config(), "plan": self.plan}

    _Preprocessing = Preprocessing
    return Preprocessing


_Preprocessing = None


def to_keras(model, selected=True):
    """A Keras model holding a fitted estimator's or Pipeline's weights.

    The preprocessing steps become one layer without weights (their fitted
    statistics are constants), and the estimator a trainable
    :class:`keras.layers.Dense` layer initialised at ``coef_`` and
    ``intercept_``. The model predicts what ``model.predict`` does and can be
    fine-tuned, saved as a ``.keras`` file, or called inside a larger Keras
    model. It needs Keras with its TensorFlow backend.

    Parameters
    ----------
    model : estimator or :class:`~sklearn.pipeline.Pipeline`
        A fitted tflasso estimator, or a Pipeline ending in one, with the steps
        :func:`export_saved_model` supports.

    selected : bool, default=True
        Give the Dense layer the selected features only (those with a non-zero
        coefficient), so that fine-tuning refits on the lasso's support (a
        relaxed lasso). With ``False``, it sees every feature, the zero
        coefficients included, and fine-tuning may make them non-zero.

    Returns
    -------
    keras_model : keras.Model
        Inputs of shape (None, n_features) in the dtype the model was fitted
        in; outputs of shape (None, n_targets), so (None, 1) for a single
        target (where ``predict`` gives (n,)), as Keras' Dense does.

    Examples
    --------
    >>> import numpy as np
    >>> from tflasso import Lasso, to_keras
    >>> X = np.random.default_rng(0).standard_normal((50, 3))
    >>> lasso = Lasso(alpha=0.1).fit(X, X @ [1.0, 0.0, -2.0])
    >>> net = to_keras(lasso)
    >>> bool(np.allclose(net(X).numpy()[:, 0], lasso.predict(X)))
    True
    """
    import keras

    plan = build_plan(model, selected=selected)
    dtype = plan["dtype"]
    inputs = keras.Input((plan["n_features"],), dtype=dtype, name="inputs")
    x = _preprocessing_layer()(plan, dtype=dtype, name="preprocessing")(inputs)
    dense = keras.layers.Dense(len(plan["bias"]), dtype=dtype, name="linear")
    outputs = dense(x)
    kernel = np.reshape(plan["kernel"], (-1, len(plan["bias"])))
    dense.set_weights([kernel.astype(dtype), np.asarray(plan["bias"], dtype)])
    return keras.Model(inputs, outputs, name="tflasso")


# --- the command line's SavedModel ----------------------------------------------------


class SavedModelPredictor:
    """A SavedModel written by :func:`export_saved_model` with a ``predict`` of numpy
    arrays or DataFrames, and the ``feature_names_in_`` of the model it came from."""

    def __init__(self, path):
        import tensorflow as tf

        try:
            self._loaded = tf.saved_model.load(str(path))
            self._serve = self._loaded.signatures["serving_default"]
            spec = self._serve.structured_input_signature[1]["inputs"]
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"not a SavedModel written by tflasso "
                             f"({type(error).__name__})") from None
        self._dtype = spec.dtype.as_numpy_dtype
        if not hasattr(self._loaded, "feature_names"):
            raise ValueError("a SavedModel of a model fitted without feature names")
        names = self._loaded.feature_names().numpy()
        self.feature_names_in_ = np.array([n.decode() for n in names], dtype=object)

    def predict(self, X):
        import tensorflow as tf

        X = tf.constant(np.asarray(X, dtype=self._dtype))
        return self._serve(inputs=X)["predictions"].numpy()

