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
from pathlib import Path

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
    """``_generated/benchmarks/index.rst``: the benchmark scripts' reports, if any.

    The full run's ``results.md`` if there is one, else the quick run's, then
    the LassoCV (``results_cv.md``) and memory (``results_memory.md``) reports
    after it. The Markdown, made readable for users by
    :func:`public_report`, and its plots are copied here.
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
    pages = [(report, "results.md")] + [
        (source / name, name) for name in SECTIONS if (source / name).is_file()]
    index = []
    for number, (path, name) in enumerate(pages):
        text = path.read_text()
        if number and not text.startswith("#"):
            text = f"# {SECTIONS[name]}\n\n{text}"
        text = public_report(text)
        (folder / name).write_text(_absolute_images(text))
        index.append(f".. include:: /_generated/benchmarks/{name}\n"
                     "   :parser: myst_parser.sphinx_\n")
    (folder / "index.rst").write_text("\n".join(index))


# The reports shown after the main one, and their titles
# (for a report that starts without one).
SECTIONS = {"results_cv.md": "LassoCV",
            "results_family.md": "Wide, correlated and sparse data: fits, paths and LassoCV",
            "results_agreement.md": "LassoCV's alpha_ against a tight reference",
            "results_memory.md": "Memory",
            "results_memory_family.md": "Memory of cross-validation, paths and sparse fits",
            "results_stream.md": "Streaming"}


def public_report(text):
    """A benchmark report without the project's internal words.

    The scripts write for the developers: a table of one issue's targets with
    a "met" column, the full commit message, the plot's file name in code
    quotes. Users get the ratios, the commit's hash and the plot itself.
    """
    text = re.sub(r"^(- tflasso commit: [0-9a-f]{7,40}) .*$", r"\1", text, flags=re.M)
    text = re.sub(r"^## Issue \d+ targets \(", "## Summary (", text, flags=re.M)
    text = re.sub(r"^Plot of these ratios: `(?:benchmarks/)?([\w.-]+\.png)`\.$",
                  r"![Time ratios against scikit-learn](\1)", text, flags=re.M)
    text = re.sub(r"[:;,] within the [^.]* bound of issue \d+\.", ".", text)
    return _drop_columns(text, {"target", "met"})


def _drop_columns(text, names):
    """Remove the Markdown table columns headed by one of ``names``."""
    lines, drop = text.splitlines(keepends=True), None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            drop = None
            continue
        cells = line.rstrip("\n").strip("|").split("|")
        if drop is None:
            drop = {j for j, cell in enumerate(cells) if cell.strip() in names}
        if drop:
            lines[i] = "|" + "|".join(c for j, c in enumerate(cells) if j not in drop) + "|\n"
    return "".join(lines)


def _absolute_images(text):
    # Included text resolves image paths from the including page: make the
    # report's relative ones absolute (from the docs' source folder).
    return re.sub(r"(!\[[^\]]*\]\()(?![a-z]+://|/)", r"\1/_generated/benchmarks/", text)


def cli_help(target, commands=("", "demo", "fit", "predict")):
    """``_generated/cli_<command>.txt``: each command's ``--help``, as a user sees it."""
    environment = {**os.environ, "COLUMNS": "88"}
    target.mkdir(parents=True, exist_ok=True)
    for command in commands:
        help_text = subprocess.run(
            [sys.executable, "-m", "tflasso", *command.split(), "--help"],
            capture_output=True, text=True, check=True, env=environment,
            cwd=Path(__file__).resolve().parents[1],  # this checkout's tflasso
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


def cli_failures(target):
    """``_generated/cli_failures.rst``: every command-line failure that
    ``tests/test_cli_failures.py`` checks, run here, with what the user sees."""
    import tempfile

    from bad_inputs import table

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.cli_failures import FAILURES, run

    rows = []
    for case in FAILURES:
        with tempfile.TemporaryDirectory() as folder:
            code, _, stderr = run(case, Path(folder))
        args = " ".join(a if a and " " not in a else repr(a) for a in case.args)
        # The message as text, so that it wraps; inline markup characters escaped.
        message = re.sub(r"([\\`*|_])", r"\\\1", stderr.strip())
        rows.append((case.what, f"tflasso {args}", code, message))
    target.mkdir(parents=True, exist_ok=True)
    _write_if_changed(target / "cli_failures.rst", table(
        rows, ("Failure", "Command", "Exit", "Message (stderr)"), literal=(1,)))


def mathjax(target):
    """``_generated/mathjax/``: MathJax 3's self-contained ``tex-svg.js`` (and its
    licence), copied from the ``mathjax`` package of django-static-mathjax."""
    from importlib.resources import files

    source = files("mathjax") / "static" / "mathjax"
    folder = target / "mathjax"
    folder.mkdir(parents=True, exist_ok=True)
    for name, destination in [("es5/tex-svg.js", "tex-svg.js"), ("LICENSE", "MATHJAX-LICENSE")]:
        data = (source / name).read_bytes()
        path = folder / destination
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    return folder
