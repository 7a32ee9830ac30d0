"""Local intersphinx inventories for scikit-learn and TensorFlow.

Sphinx's intersphinx normally downloads each project's ``objects.inv``. This
build must work without the network (CI and the developers' machines reach only
package registries), and TensorFlow publishes no inventory at all. So each
inventory is written here from the installed package: the public names of the
modules the docs talk about, pointing at the real URLs of each project's
documentation. Links are the real ones; only the lookup is local.

With ``TFLASSO_DOCS_INTERSPHINX=online``, scikit-learn's published inventory is
tried first and the local one only if that fails (Sphinx logs, without
warning, a location that fails when a later one succeeds).
"""

import importlib
import inspect
import os
import zlib

SKLEARN_URL = "https://scikit-learn.org/stable/"
TENSORFLOW_URL = "https://www.tensorflow.org/api_docs/python/"
SKLEARN_MODULES = ["base", "datasets", "exceptions", "linear_model", "metrics",
                   "model_selection", "pipeline", "preprocessing"]
KERAS_NAMES = ["layers.Dense", "regularizers.L1", "regularizers.L2", "optimizers.Adam",
               "optimizers.SGD", "Sequential", "Model"]


def _role(obj):
    return "class" if inspect.isclass(obj) else "function"


def _write(path, project, version, entries):
    """An ``objects.inv`` (format version 2) of ``(name, role, uri)`` entries."""
    lines = "".join(f"{name} py:{role} 1 {uri} -\n" for name, role, uri in sorted(entries))
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress(lines.encode()))
    return str(path)


def _sklearn_entries():
    for short in SKLEARN_MODULES:
        module = importlib.import_module(f"sklearn.{short}")
        yield f"sklearn.{short}", "module", f"api/sklearn.{short}.html"
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name)
            except ImportError:  # experimental names need an explicit opt-in
                continue
            full = f"sklearn.{short}.{name}"
            yield full, _role(obj), f"modules/generated/{full}.html#$"


def _tensorflow_entries():
    import tensorflow as tf

    for name in dir(tf):
        obj = getattr(tf, name, None)
        if not name.startswith("_") and (inspect.isclass(obj) or callable(obj)):
            yield f"tf.{name}", _role(obj), f"tf/{name}"
    for name in KERAS_NAMES:
        full = f"tf.keras.{name}"
        yield full, "class", full.replace(".", "/")
        yield f"keras.{name}", "class", full.replace(".", "/")


def mapping(folder):
    """``intersphinx_mapping`` pointing at inventories written into ``folder``."""
    import sklearn
    import tensorflow as tf

    sklearn_inv = _write(folder / "sklearn.inv", "scikit-learn", sklearn.__version__,
                         _sklearn_entries())
    tf_inv = _write(folder / "tensorflow.inv", "TensorFlow", tf.__version__,
                    _tensorflow_entries())
    online = os.environ.get("TFLASSO_DOCS_INTERSPHINX") == "online"
    return {
        "sklearn": (SKLEARN_URL, (None, sklearn_inv) if online else sklearn_inv),
        "tensorflow": (TENSORFLOW_URL, tf_inv),
    }
