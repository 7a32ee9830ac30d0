"""Sphinx configuration of the tflasso documentation.

Build from the repository root with ``python -m sphinx -W -b html docs docs/_build/html``
(what ``tests/test_docs.py`` runs). Nothing here needs the network; see
``_inventories.py`` for how the links to scikit-learn and TensorFlow resolve.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Set before the gallery's first ``import tensorflow``.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _generate  # noqa: E402
import _inventories  # noqa: E402

import tflasso  # noqa: E402
from tflasso._lazy import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()  # keep TensorFlow's start-up lines out of the build log

project = "tflasso"
copyright = "the tflasso developers"
release = version = tflasso.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # only to include benchmarks/results.md as it is written
]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated"]
templates_path = ["_templates"]
html_theme = "pydata_sphinx_theme"
html_title = f"tflasso {release}"
html_theme_options = {"navigation_with_keys": False}
# MathJax ships with the docs (the ``docs`` extra's django-static-mathjax holds
# MathJax 3's files), so the maths renders offline; tex-svg.js needs no fonts.
html_static_path = [str(_generate.mathjax(HERE / "_generated"))]
mathjax_path = "tex-svg.js"

autosummary_generate = True
autodoc_typehints = "none"
# Methods are listed by the class template, not by numpydoc (which would list
# them twice and warn about stubs).
numpydoc_show_class_members = False
numpydoc_validation_checks = {"GL08"}  # a public object without a docstring

intersphinx_mapping = _inventories.mapping(HERE / "_build" / "inventories")
intersphinx_timeout = 5

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("tflasso",),
    "reference_url": {"tflasso": None},
    "backreferences_dir": "generated",
    "download_all_examples": False,
    "remove_config_comments": True,
    # Every example must finish well inside the CI budget.
    "min_reported_time": 0,
}

_generate.benchmarks(HERE.parent / "benchmarks", HERE / "_generated")
_generate.cli_help(HERE / "_generated")
_generate.cli_session(HERE / "_generated")
_generate.cli_failures(HERE / "_generated")


def _quote_shapes(app, what, name, obj, options, lines):
    # ``(n_features_in_,)`` in a numpydoc type is read as a link target by
    # docutils (a trailing underscore); quote it, as scikit-learn's docstrings do.
    lines[:] = [line.replace("(n_features_in_,)", "(`n_features_in_`,)") for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _quote_shapes)
