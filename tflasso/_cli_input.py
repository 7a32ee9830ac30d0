"""Reading and checking the command line's CSV files and output paths, with pandas only.

Everything a user can get wrong in a file is caught here, before TensorFlow is
imported, and raised as an ``InputError``: one line that names the file, the
column and the row, which the command line prints before exiting with code 2.
"""

import difflib
import os
import tempfile

import numpy as np
import pandas as pd

from ._cli import InputError


def _names(names, limit=6):
    names = [str(n) for n in names]
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# Separators tried when --sep is not given, most common first.
_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def check_readable(path):
    """Raise InputError unless ``path`` is a file this process can read."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with open(path, "rb") as stream:
            return stream.read(1 << 16)
    except OSError as error:
        raise InputError(f"{path}: cannot read this file ({error.strerror})") from None


def separator(path, sep=None):
    """``sep``, or the one of commas, semicolons and tabs most frequent in the
    file's header line (commas on a tie)."""
    head = check_readable(path)
    if sep is not None:
        return sep
    header = head.decode("utf-8", errors="replace").splitlines()[:1] or [""]
    counts = {sep: header[0].count(sep) for sep in _SEPARATORS}
    return max(counts, key=counts.get)  # the first, ',', if none is there


def separator_note(path, sep, given):
    """What the commands say about a separator that is not a comma."""
    if sep == ",":
        return ""
    name = _SEPARATORS.get(sep, repr(sep))
    return f"{path}: columns separated by {name} ({'--sep' if given else 'detected'})"


def read_csv(path, sep=None):
    """The CSV file as a DataFrame, or an InputError saying why not.

    ``sep`` None detects commas, semicolons or tabs from the header line.
    """
    sep = separator(path, sep)
    try:
        frame = pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: not a readable CSV file ({reason})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read this file ({error.strerror})") from None
    if len(frame) == 0:
        raise InputError(f"{path}: no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def require_columns(frame, names, path):
    """Raise InputError naming the missing columns, with close matches for one."""
    missing = [n for n in names if n not in frame.columns]
    if len(missing) == 1:
        same_case = [c for c in frame.columns if c.casefold() == missing[0].casefold()]
        close = same_case or difflib.get_close_matches(missing[0], frame.columns, n=3)
        hint = (f"did you mean {' or '.join(map(repr, close))}?" if close
                else f"the columns are {_names(frame.columns)}")
        raise InputError(f"{path}: no column {missing[0]!r}; {hint}")
    if missing:
        raise InputError(f"{path}: missing {len(missing)} columns: {_names(missing)}")


def _first_non_number(column):
    text = column[pd.to_numeric(column, errors="coerce").isna() & column.notna()]
    return str(text.iloc[0])


def numeric_values(frame, path):
    """The frame as a float64 array; InputError on text columns, NaN or inf."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        examples = [f"{c!r} (e.g. {_first_non_number(frame[c])!r})" for c in text[:3]]
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
            f"{path}: column {frame.columns[col]!r} has {kind} in data row {row + 1}; "
            f"{n_rows} row{'s' * (n_rows > 1)} in all have NaN or inf values: "
            "drop or impute them"
        )
    # Standardising squares and sums every column: past this size that overflows.
    limit = np.sqrt(np.finfo(np.float64).max / len(values)) / 2
    large_rows, large_cols = np.nonzero(np.abs(values) >= limit)
    if len(large_rows):
        row, col = large_rows[0], large_cols[0]
        raise InputError(
            f"{path}: column {frame.columns[col]!r} has the value {values[row, col]:.3g} "
            f"in data row {row + 1}, too large to square and sum (over {limit:.3g}); "
            "rescale the column (change its unit)"
        )
    return values


def training_data(path, target, folds, sep=None):
    """Features (a float64 DataFrame, so a model keeps their names) and target.

    ``folds`` is the number of cross-validation folds the rows must fill
    (2 when alpha is given: at least two rows to fit anything).
    """
    frame = read_csv(path, sep)
    require_columns(frame, [target], path)
    values = numeric_values(frame, path)
    features = [c for c in frame.columns if c != target]
    if not features:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    y = values[:, frame.columns.get_loc(target)]
    if len(y) < folds:
        raise InputError(
            f"{path}: {len(y)} data rows are too few for {folds}-fold cross-validation; "
            f"use --cv {len(y)} or fewer, or give --alpha" if len(y) >= 2
            else f"{path}: 1 data row is too few to fit a model"
        )
    if np.ptp(y) == 0:
        raise InputError(f"{path}: the target {target!r} is constant: nothing to learn")
    X = pd.DataFrame(values[:, [frame.columns.get_loc(c) for c in features]],
                     columns=features)
    return X, y


def prediction_data(path, names, sep=None):
    """The columns ``names`` of the CSV file, checked, as a float64 DataFrame."""
    frame = read_csv(path, sep)
    require_columns(frame, names, path)
    return pd.DataFrame(numeric_values(frame[names], path), columns=names)


# --- output paths: checked before any work, so a fit never fails at its end ------


def _check_writable_folder(folder, what):
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(f"{what}: cannot write into {folder} ({error.strerror})") from None


def output_folder(out):
    """Create ``fit --out DIR`` if needed and check that it takes files."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{out}: cannot create this directory ({error.strerror})") from None
    _check_writable_folder(out, out)
    return out


def output_file(out, inputs):
    """Check ``predict --out FILE``: a writable file in an existing folder, no input."""
    if out.is_dir():
        raise InputError(f"{out}: is a directory; give a file name, e.g. {out / 'predictions.csv'}")
    folder = out.parent
    if not folder.is_dir():
        raise InputError(f"{out}: no such directory {folder}")
    for path in inputs:
        if out.exists() and path.exists() and os.path.samefile(out, path):
            raise InputError(f"{out}: is an input file too; write the predictions elsewhere")
    if out.exists() and not os.access(out, os.W_OK):
        raise InputError(f"{out}: cannot write this file (permission denied)")
    _check_writable_folder(folder, out)
    return out
