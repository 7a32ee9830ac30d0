"""Every command-line failure tried, and how to run one: the cases that
``tests/test_cli_failures.py`` checks and that the docs' table of command-line
errors shows (``docs/_generate.py``), so the two cannot disagree.

A case is a ``Failure``: the files it needs (written into a fresh folder,
which is the working directory, so messages show the relative paths a user
types), the arguments after ``tflasso``, and words its one-line error must
contain. No case gets as far as TensorFlow, so they run in-process, except the
ones about file permissions, which run ``python -m tflasso`` in a subprocess
that, under root, gives up the capabilities that let root ignore them.
Plain Python, no pytest: the docs build imports it.
"""

import contextlib
import ctypes
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ["height", "weight", "age", "noise"]


class Failure(NamedTuple):
    what: str
    args: list
    words: list
    files: tuple = ("data.csv",)
    permissions: bool = False  # run in a subprocess, see the module docstring


def make_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(FEATURES))) * [10, 5, 1, 1] + [170, 70, 40, 0]
    y = 0.3 * X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return pd.DataFrame(X, columns=FEATURES).assign(target=y)


def _model_record():
    """A model.json as ``tflasso fit`` writes it, fitted by scikit-learn (no TensorFlow)."""
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from tflasso._cli_model import model_record

    frame = make_frame()
    model = Pipeline([("scale", StandardScaler()), ("lasso", Lasso(alpha=0.1))])
    return model_record(model.fit(frame[FEATURES], frame.target), "target")


def _with(frame, row, column, value):
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


# name -> writes that file into a folder
FILES = {
    "data.csv": lambda p: make_frame().to_csv(p, index=False),
    "categorical.csv": lambda p: make_frame().assign(
        colour=["red", "green"] * 20).to_csv(p, index=False),
    "nan.csv": lambda p: _with(make_frame(), 3, "weight", np.nan).to_csv(p, index=False),
    "big_target.csv": lambda p: _with(make_frame(), 7, "target", 1e200).to_csv(p, index=False),
    "big_feature.csv": lambda p: _with(make_frame(), 2, "age", -3e200).to_csv(p, index=False),
    "four_rows.csv": lambda p: make_frame().head(4).to_csv(p, index=False),
    "constant.csv": lambda p: make_frame().assign(target=1.0).to_csv(p, index=False),
    "semicolons.csv": lambda p: make_frame().to_csv(p, sep=";", index=False),
    "tabs.tsv": lambda p: make_frame().to_csv(p, sep="\t", index=False),
    "no_age.csv": lambda p: make_frame().drop(columns=["age"]).to_csv(p, index=False),
    "binary.csv": lambda p: p.write_bytes(bytes(range(256)) * 8),
    "locked.csv": lambda p: (make_frame().to_csv(p, index=False), p.chmod(0)),
    "model.json": lambda p: p.write_text(json.dumps(_model_record())),
    "broken.json": lambda p: p.write_text('{"format": "tflasso-model", "coef": '),
    "other.json": lambda p: p.write_text('{"name": "not a model"}'),
    "model.joblib": lambda p: p.write_bytes(b"\x80\x04\x95 any pickle"),
    "empty.csv": lambda p: p.write_text(""),
    "header_only.csv": lambda p: p.write_text(",".join([*FEATURES, "target"]) + "\n"),
    "folder": lambda p: p.mkdir(),
    "read_only": lambda p: (p.mkdir(), p.chmod(0o555)),
}

FIT = ["fit", "data.csv", "--target", "target"]

FAILURES = [
    # fit: the data file
    Failure("a missing data file", ["fit", "nothing.csv", "--target", "y"],
            ["nothing.csv", "no such file"], files=()),
    Failure("a folder given as the data file", ["fit", "folder", "--target", "y"],
            ["is a directory"], files=("folder",)),
    Failure("a data file without read permission", ["fit", "locked.csv", "--target", "target"],
            ["locked.csv", "cannot read", "Permission denied"], files=("locked.csv",),
            permissions=True),
    Failure("a binary file", ["fit", "binary.csv", "--target", "y"],
            ["binary.csv", "not a readable CSV file"], files=("binary.csv",)),
    Failure("a misspelled target", ["fit", "data.csv", "--target", "traget"],
            ["no column 'traget'", "did you mean 'target'"]),
    Failure("a target in the wrong case", ["fit", "data.csv", "--target", "TARGET"],
            ["no column 'TARGET'", "did you mean 'target'"]),
    Failure("a misspelled target in a semicolon-separated file",
            ["fit", "semicolons.csv", "--target", "Target"],
            ["no column 'Target'", "did you mean 'target'"], files=("semicolons.csv",)),
    Failure("a text column", ["fit", "categorical.csv", "--target", "target"],
            ["non-numeric", "'colour'", "'red'"], files=("categorical.csv",)),
    Failure("a missing value", ["fit", "nan.csv", "--target", "target"],
            ["'weight'", "NaN", "row 4"], files=("nan.csv",)),
    Failure("a target value of 1e200", ["fit", "big_target.csv", "--target", "target"],
            ["'target'", "1e+200", "row 8", "too large"], files=("big_target.csv",)),
    Failure("a feature value of -3e200 (standardised)",
            ["fit", "big_feature.csv", "--target", "target"],
            ["'age'", "-3e+200", "row 3", "too large"], files=("big_feature.csv",)),
    Failure("too few rows for the folds", ["fit", "four_rows.csv", "--target", "target"],
            ["4 data rows are too few", "5-fold"], files=("four_rows.csv",)),
    Failure("a constant target", ["fit", "constant.csv", "--target", "target"],
            ["constant"], files=("constant.csv",)),
    # fit --stream: the same checks, chunk by chunk
    Failure("a misspelled target (--stream)", [*FIT[:2], "--target", "traget", "--stream"],
            ["no column 'traget'", "did you mean 'target'"]),
    Failure("a text column (--stream)",
            ["fit", "categorical.csv", "--target", "target", "--stream"],
            ["non-numeric", "'colour'", "'red'"], files=("categorical.csv",)),
    Failure("a missing value (--stream)", ["fit", "nan.csv", "--target", "target", "--stream"],
            ["'weight'", "NaN", "row 4"], files=("nan.csv",)),
    Failure("an empty file (--stream)", ["fit", "empty.csv", "--target", "target", "--stream"],
            ["empty.csv", "not a readable CSV file"], files=("empty.csv",)),
    Failure("a header without rows (--stream)",
            ["fit", "header_only.csv", "--target", "target", "--stream"],
            ["header_only.csv", "no data rows"], files=("header_only.csv",)),
    Failure("a target value of 1e200 (--stream)",
            ["fit", "big_target.csv", "--target", "target", "--stream"],
            ["'target'", "1e+200", "row 8", "too large"], files=("big_target.csv",)),
    Failure("a constant target (--stream)",
            ["fit", "constant.csv", "--target", "target", "--stream"],
            ["constant"], files=("constant.csv",)),
    Failure("too few rows for the folds (--stream)",
            ["fit", "four_rows.csv", "--target", "target", "--stream", "--out", "model"],
            ["4 data rows are too few", "5-fold"], files=("four_rows.csv",)),
    # fit: the options
    Failure("--alpha inf", [*FIT, "--alpha", "inf"], ["--alpha", "'inf'", "finite"]),
    Failure("--alpha -1", [*FIT, "--alpha", "-1"], ["--alpha", "'-1'", ">= 0"]),
    Failure("--n-alphas 1000000000", [*FIT, "--n-alphas", "1000000000"],
            ["--n-alphas", "from 2 to 10000"]),
    Failure("--cv 1", [*FIT, "--cv", "1"], ["--cv", "'1'", ">= 2"]),
    Failure("--sep of two characters", [*FIT, "--sep", ";;"], ["--sep", "one character"]),
    Failure("--out naming a file", [*FIT, "--out", "data.csv"],
            ["data.csv", "not a directory"]),
    Failure("--out in a read-only folder", [*FIT, "--out", "read_only/model"],
            ["read_only/model", "cannot create", "Permission denied"],
            files=("data.csv", "read_only"), permissions=True),
    Failure("--out a read-only folder", [*FIT, "--out", "read_only"],
            ["cannot write into read_only", "Permission denied"],
            files=("data.csv", "read_only"), permissions=True),
    # predict
    Failure("a missing model file", ["predict", "model.json", "data.csv"],
            ["model.json", "no such file"]),
    Failure("a pickle as the model", ["predict", "model.joblib", "data.csv"],
            ["model.joblib", "--trust-pickle", "runs any code"],
            files=("model.joblib", "data.csv")),
    Failure("a truncated model.json", ["predict", "broken.json", "data.csv"],
            ["broken.json", "not a model written by 'tflasso fit'"],
            files=("broken.json", "data.csv")),
    Failure("a JSON file that is not a model", ["predict", "other.json", "data.csv"],
            ["other.json", "not a model written by 'tflasso fit'", "format"],
            files=("other.json", "data.csv")),
    Failure("data without a feature of the model", ["predict", "model.json", "no_age.csv"],
            ["no_age.csv", "no column 'age'"], files=("model.json", "no_age.csv")),
    Failure("--out naming a folder", ["predict", "model.json", "data.csv", "--out", "folder"],
            ["folder", "is a directory"], files=("model.json", "data.csv", "folder")),
    Failure("--out in a missing folder",
            ["predict", "model.json", "data.csv", "--out", "missing/predictions.csv"],
            ["missing/predictions.csv", "no such directory"], files=("model.json", "data.csv")),
    Failure("--out in a read-only folder",
            ["predict", "model.json", "data.csv", "--out", "read_only/predictions.csv"],
            ["cannot write into read_only", "Permission denied"],
            files=("model.json", "data.csv", "read_only"), permissions=True),
    Failure("--out naming the data file",
            ["predict", "model.json", "data.csv", "--out", "data.csv"],
            ["data.csv", "input file"], files=("model.json", "data.csv")),
    Failure("--out naming the model file",
            ["predict", "model.json", "data.csv", "--out", "./model.json"],
            ["model.json", "input file"], files=("model.json", "data.csv")),
]


def write_files(case, folder):
    for name in case.files:
        FILES[name](folder / name)


def _drop_file_permission_override():
    """Under root, give up CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (prctl
    PR_CAPBSET_DROP), so file permissions apply to this process's program."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run(case, folder):
    """``(exit code, stdout, stderr)`` of ``tflasso *case.args`` run in ``folder``."""
    write_files(case, folder)
    if case.permissions:
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-m", "tflasso", *case.args], capture_output=True, text=True,
            cwd=folder, env=environment, timeout=120,
            preexec_fn=_drop_file_permission_override,
        )
        return result.returncode, result.stdout, result.stderr
    from tflasso._cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(case.args)
            except SystemExit as exit_:  # argparse
                code = exit_.code
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()
