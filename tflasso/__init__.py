"""tflasso: a scikit-learn compatible lasso trained by TensorFlow.

``tflasso.Lasso`` minimises scikit-learn's lasso objective,
``(1 / (2 n)) ||y - X w - b||^2 + alpha ||w||_1``, with a proximal-gradient
loop compiled by ``tf.function``, so its coefficients are exactly sparse.
"""

import importlib

__all__ = [
    "ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "MultiTaskElasticNet",
    "MultiTaskElasticNetCV", "MultiTaskLasso", "MultiTaskLassoCV", "enet_path",
    "export_saved_model", "lasso_path", "to_keras",
]
__version__ = "0.1.0"

# Public name -> private module. Imported on first use, so that ``import
# tflasso`` (and ``tflasso --help``) does not pay for importing TensorFlow.
_LAZY = {
    "ElasticNet": "._lasso", "Lasso": "._lasso",
    "MultiTaskElasticNet": "._multitask", "MultiTaskLasso": "._multitask",
    "ElasticNetCV": "._cv", "LassoCV": "._cv",
    "MultiTaskElasticNetCV": "._cv", "MultiTaskLassoCV": "._cv",
    "enet_path": "._path", "lasso_path": "._path",
    "export_saved_model": "._export", "to_keras": "._export",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
