"""The docs' build-time helpers and the README's promises, without building the docs.

The full build (``python -m sphinx -W``, examples included) runs in ``.ci/run``.
"""

import posixpath
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

import _generate  # noqa: E402
import _inventories  # noqa: E402


def test_benchmark_page_says_how_to_make_missing_results(tmp_path):
    _generate.benchmarks(tmp_path / "benchmarks", tmp_path / "out")
    page = (tmp_path / "out" / "benchmarks" / "index.rst").read_text()
    assert "python benchmarks/run.py" in page


def test_benchmark_page_includes_results_and_their_plots(tmp_path):
    source = tmp_path / "benchmarks"
    source.mkdir()
    (source / "results_quick.md").write_text("# Quick\n")
    (source / "results.md").write_text("# Results\n\n![ratios](ratios.png)\n")
    (source / "ratios.png").write_bytes(b"png")
    _generate.benchmarks(source, tmp_path / "out")
    folder = tmp_path / "out" / "benchmarks"
    assert "results.md" in (folder / "index.rst").read_text()
    assert (folder / "results.md").read_text() == (
        "# Results\n\n![ratios](/_generated/benchmarks/ratios.png)\n")
    assert (folder / "ratios.png").read_bytes() == b"png"


def test_local_inventory_resolves_scikit_learn_names(tmp_path):
    from sphinx.util.inventory import InventoryFile

    path = _inventories._write(tmp_path / "sklearn.inv", "scikit-learn", "1",
                               _inventories._sklearn_entries())
    with open(path, "rb") as stream:
        inventory = InventoryFile.load(stream, _inventories.SKLEARN_URL, posixpath.join)
    entries = inventory.data if hasattr(inventory, "data") else inventory
    lasso = entries["py:class"]["sklearn.linear_model.Lasso"]
    uri = lasso.uri if hasattr(lasso, "uri") else lasso[2]
    assert uri == (_inventories.SKLEARN_URL + "modules/generated/"
                   "sklearn.linear_model.Lasso.html#sklearn.linear_model.Lasso")
    assert "sklearn.model_selection.cross_val_score" in entries["py:function"]


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("plot_*.py")),
                         ids=lambda p: p.stem)
def test_example_has_a_gallery_title(example):
    docstring = example.read_text().split('"""')[1].strip().splitlines()
    title, underline = docstring[0], docstring[1]
    assert set(underline) == {"="} and len(underline) >= len(title)
