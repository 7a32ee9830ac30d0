"""The ``tflasso`` command line: the demo, fitting a CSV file, predicting from a model.

Everything a user can get wrong in a CSV file is checked with pandas before
TensorFlow is imported, so a bad file costs no start-up time and ends with one
line on stderr and exit code 2, never a traceback.
"""

import argparse
import contextlib
import difflib
import os
import sys
import tempfile
import warnings
from pathlib import Path

EXIT_BAD_INPUT = 2
# Alpha grid: log-spaced from alpha_max down to _EPS * alpha_max, as scikit-learn's.
_EPS = 1e-3
_SEED = 0


class InputError(Exception):
    """A problem with the user's input: reported as one line, exit code 2."""


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    _WIDTH = 30

    def __init__(self, total, label, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty()
        self.total, self.label, self.done = total, label, 0

    def update(self, n=1):
        self.done += n
        if self.enabled:
            filled = self._WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (self._WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _import_tensorflow_quietly():
    """Import TensorFlow with its native start-up log lines hidden.

    ``TF_CPP_MIN_LOG_LEVEL=3`` does not reach the lines TensorFlow's shared
    libraries log before absl's logging is initialised (oneDNN, CUDA stubs),
    so the import runs with file descriptor 2 sent to a temporary file, which
    is replayed if the import fails. A user who sets ``TF_CPP_MIN_LOG_LEVEL``
    below 3 sees everything.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def _convergence_summary(what):
    """Collect ConvergenceWarnings from many fits into one line on stderr."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    count = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if count:
        print(f"note: {count} {what} stopped at max_iter before reaching tol "
              "(usually the smallest alphas); their coefficients are approximate",
              file=sys.stderr)


# --- reading and checking the CSV file (pandas only, no TensorFlow) ---------


def _names(names, limit=6):
    shown = ", ".join(repr(str(n)) for n in list(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def read_csv(path):
    """The CSV file as a DataFrame, or an InputError saying why not."""
    import pandas as pd

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: not a readable CSV file ({reason})") from None
    if len(frame) == 0:
        raise InputError(f"{path}: no data rows")
    return frame


def require_columns(frame, names, path):
    """Raise InputError naming the missing columns, with close matches for one."""
    columns = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in columns]
    if len(missing) == 1:
        close = difflib.get_close_matches(missing[0], columns, n=3)
        hint = (f"did you mean {' or '.join(map(repr, close))}?" if close
                else f"the columns are {_names(columns)}")
        raise InputError(f"{path}: no column {missing[0]!r}; {hint}")
    if missing:
        raise InputError(f"{path}: missing {len(missing)} columns: {_names(missing)}")


def numeric_values(frame, path):
    """The frame as a float64 array; InputError on text columns, NaN or inf."""
    import numpy as np
    import pandas as pd

    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        examples = []
        for c in text[:3]:
            column = frame[c]
            bad = column[pd.to_numeric(column, errors="coerce").isna() & column.notna()]
            examples.append(f"{str(c)!r} (e.g. {str(bad.iloc[0])!r})")
        more = f" and {len(text) - 3} more" if len(text) > 3 else ""
        raise InputError(f"{path}: non-numeric columns {', '.join(examples)}{more}; "
                         "encode them as numbers or drop them")
    values = frame.to_numpy(dtype=np.float64)
    bad_rows, bad_cols = np.nonzero(~np.isfinite(values))
    if len(bad_rows):
        row, col = bad_rows[0], bad_cols[0]
        kind = "a missing value (NaN)" if np.isnan(values[row, col]) else "an infinite value"
        n_rows = len(np.unique(bad_rows))
        raise InputError(
            f"{path}: column {str(frame.columns[col])!r} has {kind} in data row "
            f"{row + 1}; {n_rows} row{'s' * (n_rows > 1)} in all have NaN or inf "
            "values: drop or impute them"
        )
    return values


def load_training_data(path, target):
    """Features (a float64 DataFrame, so the model keeps their names) and target."""
    import pandas as pd

    frame = read_csv(path)
    require_columns(frame, [target], path)
    values = numeric_values(frame, path)
    columns = [str(c) for c in frame.columns]
    y = values[:, columns.index(target)]
    features = [c for c in columns if c != target]
    if not features:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    X = pd.DataFrame(values[:, [columns.index(c) for c in features]], columns=features)
    return X, y


def check_folds(n_rows, folds, path):
    if n_rows < folds:
        raise InputError(
            f"{path}: {n_rows} data rows are too few for {folds}-fold "
            f"cross-validation; use --cv {max(2, n_rows)} or fewer, or give --alpha"
            if n_rows >= 2 else f"{path}: {n_rows} data row is too few to fit a model"
        )


# --- fitting: tuning alpha and the regularization path -----------------------


def make_model(alpha, standardize, positive):
    """``Pipeline(StandardScaler, Lasso)``; the scaler is the identity without
    ``standardize``, so every model has the same two steps and keeps its
    feature names."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import Lasso

    scaler = StandardScaler(with_mean=standardize, with_std=standardize)
    return Pipeline([("scale", scaler), ("lasso", Lasso(alpha=alpha, positive=positive))])


def alpha_grid(model, X, y, n_alphas):
    """``n_alphas`` alphas from ``alpha_max`` (all coefficients zero) down."""
    import numpy as np

    from ._reference import alpha_max

    positive = model[-1].positive
    top = alpha_max(model[0].fit_transform(X), y, positive=positive)
    if not top > 0:
        raise InputError(
            "the target is constant or not "
            f"{'positively ' if positive else ''}correlated with any feature: "
            "every alpha gives an all-zero model"
        )
    return np.geomspace(top, top * _EPS, n_alphas)


def tune(model, X, y, alphas, folds, progress):
    """Cross-validate every alpha; the refitted model and the MSE per (alpha, fold).

    ``GridSearchCV`` until ``tflasso.LassoCV`` exists; the MSE array has the
    shape of its ``mse_path_``, so only this function will change.
    """
    import numpy as np
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import GridSearchCV, KFold

    def neg_mse(estimator, X_test, y_test):
        progress.update()
        return -mean_squared_error(y_test, estimator.predict(X_test))

    search = GridSearchCV(
        model, {"lasso__alpha": alphas}, scoring=neg_mse, error_score="raise",
        cv=KFold(folds, shuffle=True, random_state=_SEED),
    ).fit(X, y)
    scores = [search.cv_results_[f"split{k}_test_score"] for k in range(folds)]
    return search.best_estimator_, -np.column_stack(scores)


def regularization_path(model, X, y, alphas, progress):
    """Coefficients, shape (n_features, n_alphas), on the model's scaled features.

    Warm-started ``Lasso`` fits until ``tflasso.lasso_path`` exists (which
    returns the same array).
    """
    import numpy as np
    from sklearn.base import clone

    Xs = model[0].transform(X)
    lasso = clone(model[-1]).set_params(warm_start=True)
    coefs = []
    for alpha in alphas:
        coefs.append(lasso.set_params(alpha=alpha).fit(Xs, y).coef_.copy())
        progress.update()
    return np.column_stack(coefs)


def coefficient_table(model):
    """Coefficients on the scaled and on the original features, intercept last."""
    import numpy as np
    import pandas as pd

    scaler, lasso = model[0], model[-1]
    p = len(lasso.coef_)
    scale = np.ones(p) if scaler.scale_ is None else scaler.scale_
    mean = np.zeros(p) if scaler.mean_ is None else scaler.mean_
    original = lasso.coef_ / scale
    return pd.DataFrame({
        "feature": [*map(str, scaler.feature_names_in_), "(intercept)"],
        "coef_scaled": [*lasso.coef_, lasso.intercept_],
        "coef_original": [*original, lasso.intercept_ - original @ mean],
    })


# --- the plots (matplotlib's Figure directly: no pyplot, no global backend) --


def _alpha_axis(ax, alpha):
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axvline(alpha, color="k", linestyle="--", linewidth=1, label=f"alpha = {alpha:.3g}")
    ax.set_xlabel("alpha (log scale; weaker penalty to the right)")


def plot_path(alphas, coefs, names, alpha):
    """The regularization path; the 10 largest coefficients at ``alpha`` labelled."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    lines = ax.plot(alphas, coefs.T, linewidth=1.2)
    at_alpha = np.abs(coefs[:, np.argmin(np.abs(np.log(alphas / alpha)))])
    for line, name, size in zip(lines, names, at_alpha):
        line.set_label(name if size > 0 and size >= np.sort(at_alpha)[-10:][0] else None)
    _alpha_axis(ax, alpha)
    ax.set_ylabel("coefficient (scaled features)")
    ax.set_title("Regularization path")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def plot_cv(alphas, mse, alpha):
    """Cross-validated MSE per alpha: folds, mean and one standard error."""
    from matplotlib.figure import Figure

    mean = mse.mean(axis=1)
    stderr = mse.std(axis=1, ddof=1) / mse.shape[1] ** 0.5
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(alphas, mse, color="0.75", linewidth=0.8)
    ax.fill_between(alphas, mean - stderr, mean + stderr, alpha=0.3,
                    label="mean ± 1 standard error")
    ax.plot(alphas, mean, color="C0", linewidth=2, label=f"mean of {mse.shape[1]} folds")
    _alpha_axis(ax, alpha)
    ax.set_ylabel("cross-validated mean squared error")
    ax.set_title("Choosing alpha by cross-validation")
    ax.legend(fontsize="small")
    return fig


# --- the commands --------------------------------------------------------------


def _print_report(args, X, table, alpha, mse, alphas):
    import numpy as np

    coefs = table.iloc[:-1]
    zero = coefs[coefs.coef_scaled == 0]
    print(f"{args.data}: {len(X)} rows, {X.shape[1]} features, target {args.target!r}")
    if mse is None:
        print(f"alpha = {alpha:.4g} (given)")
    else:
        best = np.argmin(np.abs(alphas - alpha))
        stderr = mse[best].std(ddof=1) / len(mse[best]) ** 0.5
        print(f"alpha = {alpha:.4g}, chosen by {mse.shape[1]}-fold cross-validation "
              f"over {len(alphas)} alphas from {alphas[0]:.3g} to {alphas[-1]:.3g}")
        print(f"CV mean squared error = {mse[best].mean():.6g} ± {stderr:.4g} (standard error)")
    print(f"{len(coefs) - len(zero)} of {len(coefs)} features selected; exact zeros: "
          f"{len(zero)}{' (' + _names(zero.feature, 8) + ')' if len(zero) else ''}\n")
    shown = coefs[coefs.coef_scaled != 0]
    shown = shown.iloc[np.argsort(-np.abs(shown.coef_scaled.to_numpy()), kind="stable")]
    width = max(12, *map(len, table.feature))
    print(f"{'feature':<{width}} {'coef (scaled)':>15} {'coef (original)':>16}")
    for row in [*shown.itertuples(), table.iloc[-1]]:
        print(f"{row.feature:<{width}} {row.coef_scaled:15.6g} {row.coef_original:16.6g}")


def _write_outputs(out, model, table, alphas, coefs, alpha, mse):
    import joblib

    written = [out / "model.joblib", out / "coefficients.csv", out / "path.png"]
    joblib.dump(model, written[0])
    table.to_csv(written[1], index=False)
    plot_path(alphas, coefs, table.feature[:-1], alpha).savefig(written[2], dpi=120)
    if mse is not None:
        written.append(out / "cv.png")
        plot_cv(alphas, mse, alpha).savefig(written[3], dpi=120)
    print("\nwrote " + ", ".join(map(str, written)))


def _output_dir(out):
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{out}: cannot create the output directory ({error.strerror})") from None
    return out


def fit_command(args):
    import numpy as np

    X, y = load_training_data(args.data, args.target)
    if args.alpha is None:
        check_folds(len(y), args.cv, args.data)
    else:
        check_folds(len(y), 2, args.data)
    out = _output_dir(args.out)
    _import_tensorflow_quietly()
    model = make_model(1.0 if args.alpha is None else args.alpha, args.standardize,
                       args.positive)
    alphas = alpha_grid(model, X, y, args.n_alphas)
    mse = None
    with _convergence_summary("fits"):
        if args.alpha is None:
            with Progress(len(alphas) * args.cv, "cross-validation") as progress:
                model, mse = tune(model, X, y, alphas, args.cv, progress)
        else:
            model.fit(X, y)
            alphas = np.unique(np.append(alphas, args.alpha))[::-1]
        with Progress(len(alphas), "regularization path") as progress:
            coefs = regularization_path(model, X, y, alphas, progress)
    alpha = model[-1].alpha
    table = coefficient_table(model)
    _print_report(args, X, table, alpha, mse, alphas)
    if out is None:
        print("\n(use --out DIR to save the model, the coefficients and the plots)")
    else:
        _write_outputs(out, model, table, alphas, coefs, alpha, mse)
    return 0


def load_model(path):
    """A model written by ``tflasso fit`` (joblib: load only files you trust)."""
    import joblib

    try:
        model = joblib.load(path)
    except Exception as error:
        raise InputError(f"{path}: not a model saved by 'tflasso fit' "
                         f"({type(error).__name__})") from None
    if not hasattr(model, "feature_names_in_"):
        raise InputError(f"{path}: not a model saved by 'tflasso fit'")
    return model


def predict_command(args):
    import pandas as pd

    if not args.model.is_file():
        raise InputError(f"{args.model}: no such file")
    frame = read_csv(args.data)
    _import_tensorflow_quietly()
    model = load_model(args.model)
    names = [str(n) for n in model.feature_names_in_]
    require_columns(frame, names, args.data)
    X = pd.DataFrame(numeric_values(frame[names], args.data), columns=names)
    predictions = pd.DataFrame({"prediction": model.predict(X)})
    if args.out is None:
        predictions.to_csv(sys.stdout, index=False)
    else:
        predictions.to_csv(args.out, index=False)
        print(f"wrote {len(predictions)} predictions to {args.out}")
    return 0


def demo_command(args):
    _import_tensorflow_quietly()
    from ._demo import run

    run()
    return 0


# --- argument parsing ------------------------------------------------------------


def _number(kind, low, description):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {description}") from None
        if not value >= low:
            raise argparse.ArgumentTypeError(f"{text!r} is not {description}")
        return value
    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tflasso",
        description="A scikit-learn compatible lasso trained by TensorFlow. "
                    "With no command, runs the demo.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="diabetes data: tune alpha by CV, compare with scikit-learn")

    fit = commands.add_parser(
        "fit", help="fit StandardScaler + Lasso to a CSV file",
        description="Fit Pipeline(StandardScaler(), Lasso()) to a CSV file, choosing alpha "
                    "by K-fold cross-validation unless --alpha is given.")
    fit.add_argument("data", type=Path, metavar="DATA.csv",
                     help="numeric CSV file with a header row")
    fit.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    how = fit.add_mutually_exclusive_group()
    how.add_argument("--alpha", type=_number(float, 0, "a number >= 0"), metavar="A",
                     help="use this alpha instead of cross-validation")
    how.add_argument("--cv", type=_number(int, 2, "an integer >= 2"), default=5, metavar="K",
                     help="folds of cross-validation (default: 5)")
    fit.add_argument("--n-alphas", type=_number(int, 1, "an integer >= 1"), default=30,
                     metavar="N", help="alphas in the grid, from alpha_max down to "
                                       f"{_EPS:g} * alpha_max (default: 30)")
    fit.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                     help="scale features to zero mean, unit variance (default: yes)")
    fit.add_argument("--positive", action="store_true", help="non-negative coefficients")
    fit.add_argument("--out", type=Path, metavar="DIR",
                     help="write model.joblib, coefficients.csv, path.png and cv.png here")

    predict = commands.add_parser(
        "predict", help="predict with a model written by 'tflasso fit'",
        description="Predict with a model written by 'tflasso fit' (a joblib file: "
                    "load only files you trust). DATA.csv needs the model's feature "
                    "columns; other columns are ignored.")
    predict.add_argument("model", type=Path, metavar="MODEL", help="model.joblib")
    predict.add_argument("data", type=Path, metavar="DATA.csv")
    predict.add_argument("--out", type=Path, metavar="FILE",
                         help="write the predictions here as CSV (default: stdout)")
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
        # Output piped into e.g. ``head``, which stopped reading: not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
