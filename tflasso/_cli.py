"""The ``tflasso`` command line: the demo, fitting a CSV file, predicting from a model.

Bad input is caught by ``_cli_input`` before TensorFlow is imported, so it costs
no start-up time and ends with one line on stderr and exit code 2. Heavy
imports happen inside the commands, so ``tflasso --help`` is instant.
"""

import argparse
import contextlib
import itertools
import os
import sys
import threading
import time
import warnings
from pathlib import Path

from ._lazy import import_tensorflow_quietly

EXIT_BAD_INPUT = 2
_SEED = 0


class InputError(Exception):
    """A problem with the user's input: reported as one line, exit code 2."""


def _require_cli_extra(command):
    try:
        import matplotlib  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        raise InputError(f"'tflasso {command}' needs pandas and matplotlib: "
                         "python -m pip install 'tflasso[cli]'") from None


class Progress:
    """Elapsed time of one long call, on stderr, drawn only when it is a terminal.

    The work (a batched TensorFlow solve) reports no intermediate steps, so a
    background thread redraws a spinner and the time until the block ends.
    """

    def __init__(self, label, stream=None, interval=0.1):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty()
        self.label, self.interval = label, interval
        self._done = threading.Event()

    def _draw(self):
        start = time.perf_counter()
        for spinner in itertools.cycle("|/-\\"):
            elapsed = time.perf_counter() - start
            self.stream.write(f"\r{self.label} {spinner} {elapsed:.1f} s")
            self.stream.flush()
            if self._done.wait(self.interval):
                return

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._draw, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.enabled:
            self._done.set()
            self._thread.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


@contextlib.contextmanager
def _convergence_summary():
    """Turn ConvergenceWarnings from many fits into one line on stderr."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if len(others) < len(caught):
        print("note: some fits stopped at max_iter before reaching tol (usually the "
              "smallest alphas); their coefficients are approximate", file=sys.stderr)


# --- fitting ---------------------------------------------------------------------


def make_model(alpha, standardize, positive):
    """``Pipeline(StandardScaler, Lasso)``; the scaler is the identity without
    ``standardize``, so every model has the same two steps and keeps the
    feature names."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import Lasso

    scaler = StandardScaler(with_mean=standardize, with_std=standardize)
    return Pipeline([("scale", scaler), ("lasso", Lasso(alpha=alpha, positive=positive))])


def tune(Xs, y, n_alphas, folds, positive):
    """``(alphas, mse_path, best alpha)`` by K-fold cross-validation, all in one
    batched ``LassoCV`` solve on the scaled features.

    ``y`` None: ``Xs`` is a stream read with ``folds`` folds (row i in fold i % K).
    """
    from sklearn.model_selection import KFold

    from . import LassoCV

    # Shuffled folds: CSV files are often sorted by some column.
    cv = folds if y is None else KFold(folds, shuffle=True, random_state=_SEED)
    search = LassoCV(alphas=n_alphas, cv=cv, positive=positive).fit(Xs, y)
    return search.alphas_, search.mse_path_, search.alpha_


def regularization_path(Xs, y, alphas, positive):
    """``(alphas, coefs)``, coefs of shape (n_features, n_alphas), on the scaled
    features (``alphas`` an int: that many from alpha_max down).

    ``y`` None: ``Xs`` is a read stream (a ``_stream.Replay``).
    """
    from . import lasso_path

    # lasso_path fits no intercept: centre, as the pipeline's Lasso does.
    if y is None:
        centred, y = Xs.centred(), None
    else:
        centred, y = Xs - Xs.mean(axis=0), y - y.mean()
    alphas, coefs, _ = lasso_path(centred, y, alphas=alphas, positive=positive)
    return alphas, coefs


def coefficient_table(model):
    """Coefficients on the scaled and on the original features, intercept last."""
    import numpy as np
    import pandas as pd

    scaler, lasso = model[0], model[-1]
    p = len(lasso.coef_)
    scale = np.ones(p) if scaler.scale_ is None else scaler.scale_
    mean = np.zeros(p) if scaler.mean_ is None else scaler.mean_
    original = lasso.coef_ / scale
    # ``+ 0.0`` turns the -0.0 of an exact zero times a negative scale into 0.0.
    return pd.DataFrame({
        "feature": [*scaler.feature_names_in_, "(intercept)"],
        "coef_scaled": np.array([*lasso.coef_, lasso.intercept_]) + 0.0,
        "coef_original": np.array([*original, lasso.intercept_ - original @ mean]) + 0.0,
    })


# --- the commands ----------------------------------------------------------------


def _print_report(args, shape, table, alpha, alphas, mse):
    import numpy as np

    from ._cli_input import _names

    print(f"{args.data}: {shape[0]} rows, {shape[1]} features, target {args.target!r}"
          + (" (streamed)" if args.stream else ""))
    if args.sep_note:
        print(args.sep_note)
    if mse is None:
        print(f"alpha = {alpha:.4g} (given)")
    else:
        best = mse[np.argmin(np.abs(alphas - alpha))]
        print(f"alpha = {alpha:.4g}, chosen by {mse.shape[1]}-fold cross-validation "
              f"over {len(alphas)} alphas from {alphas[0]:.3g} to {alphas[-1]:.3g}")
        print(f"CV mean squared error = {best.mean():.6g} "
              f"± {best.std(ddof=1) / np.sqrt(len(best)):.4g} (standard error)")
    coefs = table.iloc[:-1]
    zero = coefs.feature[coefs.coef_scaled == 0]
    print(f"{len(coefs) - len(zero)} of {len(coefs)} features selected; exact zeros: "
          f"{len(zero)}{' (' + _names(zero, 8) + ')' if len(zero) else ''}\n")
    shown = coefs[coefs.coef_scaled != 0]
    shown = shown.iloc[np.argsort(-np.abs(shown.coef_scaled.to_numpy()), kind="stable")]
    width = max(12, *map(len, table.feature))
    print(f"{'feature':<{width}} {'coef (scaled)':>15} {'coef (original)':>16}")
    for row in [*shown.itertuples(), table.iloc[-1]]:
        print(f"{row.feature:<{width}} {row.coef_scaled:15.6g} {row.coef_original:16.6g}")


def _write_outputs(args, model, table, alphas, coefs, alpha, mse):
    from ._cli_model import save_model
    from ._cli_plots import plot_cv, plot_path

    out, title = args.out, args.data.name
    written = [out / "model.json", out / "coefficients.csv", out / "path.png"]
    save_model(model, args.target, written[0])
    table.to_csv(written[1], index=False)
    plot_path(alphas, coefs, table.feature[:-1], alpha, title).savefig(written[2], dpi=120)
    if mse is not None:
        written.append(out / "cv.png")
        plot_cv(alphas, mse, alpha, title).savefig(written[3], dpi=120)
    if args.pickle:
        import joblib

        written.append(out / "model.joblib")
        joblib.dump(model, written[-1])
    print("\nwrote " + ", ".join(map(str, written)))


def _streamed_data(args, model, sep, folds):
    """``fit --stream``'s scaled data, read as a stream: ``(Replay, None, shape)``.

    Two passes over the file in chunks, with the rows read on a terminal: the
    first checks them and fits the scaler (``partial_fit``), the second, after
    TensorFlow's import, accumulates the statistics of the scaled chunks with
    ``folds`` folds for cross-validation (row i in fold i % K) or one.
    """
    from ._cli_input import TrainingChunks, output_folder

    chunks = TrainingChunks(args.data, args.target, sep)
    with _counting(chunks, "checking", args.data):
        for X, _ in chunks:
            model[0].partial_fit(X)
    chunks.check(folds)
    if args.out is not None:
        output_folder(args.out)
    import_tensorflow_quietly()
    from ._stream import Replay, stream_moments

    with _counting(chunks, "reading", args.data):
        scaled = ((model[0].transform(X), y) for X, y in chunks)
        streamed = stream_moments(scaled, True, folds if args.alpha is None else 1)
    return Replay(streamed), None, (streamed.n_rows, len(model[0].feature_names_in_))


def _counting(chunks, verb, path):
    """A :class:`Progress` that shows the rows ``chunks`` has read."""
    progress = Progress(f"{verb} {path}")
    chunks.on_rows = lambda n: setattr(progress, "label", f"{verb} {path}: {n:,} rows")
    return progress


def fit_command(args):
    _require_cli_extra("fit")
    from ._cli_input import output_folder, separator, separator_note, training_data

    sep = separator(args.data, args.sep)
    args.sep_note = separator_note(args.data, sep, args.sep is not None)
    folds = args.cv if args.alpha is None else 2
    model = make_model(args.alpha, args.standardize, args.positive)
    if args.stream:
        Xs, y, shape = _streamed_data(args, model, sep, folds)
    else:
        X, y = training_data(args.data, args.target, folds, sep)
        if args.out is not None:
            output_folder(args.out)
        import_tensorflow_quietly()
        Xs, shape = model[0].fit_transform(X), X.shape
    mse, alphas = None, args.n_alphas
    with _convergence_summary():
        if args.alpha is None:
            with Progress("cross-validation"):
                alphas, mse, best = tune(Xs, y, alphas, args.cv, args.positive)
            model.set_params(lasso__alpha=best)
        if args.stream:  # the scaler is fitted: fit the lasso on the scaled stream
            model[-1].fit(Xs)
        else:
            model.fit(X, y)
        with Progress("regularization path"):
            alphas, coefs = regularization_path(Xs, y, alphas, args.positive)
    alpha = model[-1].alpha
    table = coefficient_table(model)
    _print_report(args, shape, table, alpha, alphas, mse)
    if args.out is None:
        print("\n(use --out DIR to save the model, the coefficients and the plots)")
    else:
        _write_outputs(args, model, table, alphas, coefs, alpha, mse)
        from ._export import export_saved_model

        saved = export_saved_model(model, args.out / "saved_model")
        print(f"wrote {saved} (a TensorFlow SavedModel)")
    return 0


def _load_saved_model(path):
    """A ``DIR/saved_model/`` written by ``tflasso fit --out DIR`` (no pickle)."""
    import_tensorflow_quietly()
    from ._export import SavedModelPredictor

    try:
        return SavedModelPredictor(path)
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def predict_command(args):
    """Numpy and pandas only: a JSON model never imports TensorFlow, nor does a
    trusted pickle (the estimators import it only to fit)."""
    _require_cli_extra("predict")
    import pandas as pd

    from ._cli_input import (check_readable, output_file, prediction_data, separator,
                             separator_note)
    from ._cli_model import load_model

    saved_model = args.model.is_dir()  # TensorFlow's format: it needs TensorFlow
    if not saved_model:
        check_readable(args.model)
    sep = separator(args.data, args.sep)
    if args.out is not None:
        output_file(args.out, [args.model, args.data])
    if saved_model:
        model = _load_saved_model(args.model)
    else:
        model = load_model(args.model, trust_pickle=args.trust_pickle)
    X = prediction_data(args.data, list(model.feature_names_in_), sep)
    predictions = pd.DataFrame({"prediction": model.predict(X)})
    note = separator_note(args.data, sep, args.sep is not None)
    if args.out is None:
        predictions.to_csv(sys.stdout, index=False)
        if note:  # stdout holds the predictions alone
            print(f"note: {note}", file=sys.stderr)
    else:
        predictions.to_csv(args.out, index=False)
        print(f"wrote {len(predictions)} predictions to {args.out}"
              + (f" ({note})" if note else ""))
    return 0


def demo_command(args):
    import_tensorflow_quietly()
    from ._demo import run

    run()
    return 0


# --- argument parsing --------------------------------------------------------------


# A grid of this many alphas, times the folds, already takes minutes on a
# thousand features; far more only exhausts memory after a long wait.
MAX_ALPHAS = 10_000


def _number(kind, low, description, high=float("inf")):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (low <= value < high) or value != value:
            raise argparse.ArgumentTypeError(f"{text!r} is not {description}")
        return value
    return parse


def _separator(text):
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1 or text in "\"\n\r":
        raise argparse.ArgumentTypeError(f"{text!r} is not one character (or 'tab')")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other error."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} "
                                  f"(see '{self.prog} --help')\n")


def build_parser():
    parser = _Parser(
        prog="tflasso",
        description="A scikit-learn compatible lasso trained by TensorFlow. "
                    "With no command, runs the demo.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="diabetes data: tune alpha by CV, compare with scikit-learn")

    fit = commands.add_parser(
        "fit", help="fit StandardScaler + Lasso to a CSV file",
        description="Fit Pipeline(StandardScaler(), Lasso()) to a CSV file, choosing alpha "
                    "by K-fold cross-validation (shuffled folds) unless --alpha is given.")
    fit.add_argument("data", type=Path, metavar="DATA.csv",
                     help="numeric CSV file with a header row")
    fit.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    how = fit.add_mutually_exclusive_group()
    how.add_argument("--alpha", type=_number(float, 0, "a finite number >= 0"), metavar="A",
                     help="use this alpha instead of cross-validation")
    how.add_argument("--cv", type=_number(int, 2, "an integer >= 2"), default=5, metavar="K",
                     help="folds of cross-validation (default: 5)")
    fit.add_argument("--n-alphas", default=100,
                     type=_number(int, 2, f"an integer from 2 to {MAX_ALPHAS}", MAX_ALPHAS + 1),
                     metavar="N", help="alphas in the grid, log-spaced from alpha_max down "
                                       "to 1e-3 * alpha_max (default: 100)")
    fit.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                     help="scale features to zero mean, unit variance (default: yes)")
    fit.add_argument("--positive", action="store_true", help="non-negative coefficients")
    fit.add_argument("--sep", type=_separator, metavar="C",
                     help="the column separator (default: ',', ';' or tab, detected)")
    fit.add_argument("--out", type=Path, metavar="DIR",
                     help="write model.json, saved_model/ (a TensorFlow SavedModel), "
                          "coefficients.csv, path.png and cv.png here")
    fit.add_argument("--stream", action="store_true",
                     help="read DATA.csv in chunks of 65,536 rows (bounded memory; two "
                          "passes); cross-validation folds are then row i in fold i %% K, "
                          "not shuffled")
    fit.add_argument("--pickle", action="store_true",
                     help="also write model.joblib, the fitted scikit-learn pipeline "
                          "(for joblib.load in Python)")

    predict = commands.add_parser(
        "predict", help="predict with a model written by 'tflasso fit'",
        description="Predict with a model.json written by 'tflasso fit' (data only: "
                    "reading it runs no code). DATA.csv needs the model's feature "
                    "columns; other columns are ignored.")
    predict.add_argument("model", type=Path, metavar="MODEL",
                         help="model.json, or the saved_model/ directory (needs TensorFlow)")
    predict.add_argument("data", type=Path, metavar="DATA.csv")
    predict.add_argument("--sep", type=_separator, metavar="C",
                         help="the column separator (default: ',', ';' or tab, detected)")
    predict.add_argument("--out", type=Path, metavar="FILE",
                         help="write the predictions here as CSV (default: stdout)")
    predict.add_argument("--trust-pickle", action="store_true",
                         help="accept a pickle or joblib MODEL (fit --pickle); loading "
                              "one runs any code in it: only for files you trust")
    return parser


_COMMANDS = {"demo": demo_command, "fit": fit_command, "predict": predict_command}


def main(argv=None):
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    command = args.command or "demo"
    try:
        return _COMMANDS[command](args)
    except InputError as error:
        print(f"tflasso {command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into a reader that stopped early (``| head``): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
