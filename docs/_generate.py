"""Pages written at build time from files the docs do not own.

``benchmarks/results.md`` and ``benchmarks/*.png`` come from the benchmark
scripts, which may not have been run: the page then says how to produce them
instead of failing the build. The command line's help comes from its parser,
so the docs cannot drift from it.
"""

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys

MISSING = """\
Benchmarks
==========

No benchmark results have been generated in this checkout. Produce them with::

    python -m pip install -e ".[bench]"
    python benchmarks/run.py

which writes ``benchmarks/results.md`` (and ``--quick``, ``results_quick.md``) and the
plots that this page shows.
"""


def benchmarks(source, target):
    """``_generated/benchmarks/index.rst``: the benchmark scripts' report, if any.

    The full run's ``results.md`` if there is one, else the quick run's. The
    Markdown and its plots are copied here; the report's first heading is the
    page's title.
    """
    folder = target / "benchmarks"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    reports = [source / "results.md", source / "results_quick.md"]
    report = next((r for r in reports if r.is_file()), None)
    if report is None:
        (folder / "index.rst").write_text(MISSING)
        return
    for plot in source.glob("*.png"):
        shutil.copyfile(plot, folder / plot.name)
    # Included text resolves image paths from the including page: make the
    # report's relative ones absolute (from the docs' source folder).
    text = re.sub(r"(!\[[^\]]*\]\()(?![a-z]+://|/)", r"\1/_generated/benchmarks/",
                  report.read_text())
    (folder / "results.md").write_text(text)
    (folder / "index.rst").write_text(
        ".. include:: /_generated/benchmarks/results.md\n   :parser: myst_parser.sphinx_\n")


def cli_help(target, commands=("", "demo", "fit", "predict")):
    """``_generated/cli_<command>.txt``: each command's ``--help``, as a user sees it."""
    environment = {**os.environ, "COLUMNS": "88"}
    target.mkdir(parents=True, exist_ok=True)
    for command in commands:
        help_text = subprocess.run(
            [sys.executable, "-m", "tflasso", *command.split(), "--help"],
            capture_output=True, text=True, check=True, env=environment,
        ).stdout
        _write_if_changed(target / f"cli_{command or 'tflasso'}.txt", help_text)


def cli_session(target):
    """``_generated/cli_session/``: a real ``tflasso fit`` on the diabetes data."""
    from sklearn.datasets import load_diabetes

    from tflasso._cli import main

    folder = target / "cli_session"
    folder.mkdir(parents=True, exist_ok=True)
    load_diabetes(as_frame=True).frame.to_csv(folder / "diabetes.csv", index=False)
    output = io.StringIO()
    here = os.getcwd()
    os.chdir(folder)  # so that the printed paths are the relative ones a user sees
    try:
        with contextlib.redirect_stdout(output):
            status = main(["fit", "diabetes.csv", "--target", "target", "--out", "model"])
    finally:
        os.chdir(here)
    if status != 0:
        raise RuntimeError(f"tflasso fit failed with exit code {status}")
    _write_if_changed(folder / "stdout.txt", output.getvalue())


def _write_if_changed(path, text):
    # An unchanged file keeps its time stamp, so Sphinx does not rebuild the page.
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
