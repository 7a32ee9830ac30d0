"""Reading and checking the command line's CSV files, with pandas only.

Everything a user can get wrong in a file is caught here, before TensorFlow is
imported, and raised as an ``InputError``: one line that names the file, the
column and the row, which the command line prints before exiting with code 2.
"""

import difflib

import numpy as np
import pandas as pd

from ._cli import InputError


def _names(names, limit=6):
    names = [str(n) for n in names]
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def read_csv(path):
    """The CSV file as a DataFrame, or an InputError saying why not."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: not a readable CSV file ({reason})") from None
    if len(frame) == 0:
        raise InputError(f"{path}: no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def require_columns(frame, names, path):
    """Raise InputError naming the missing columns, with close matches for one."""
    missing = [n for n in names if n not in frame.columns]
    if len(missing) == 1:
        close = difflib.get_close_matches(missing[0], frame.columns, n=3)
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
    return values


def training_data(path, target, folds):
    """Features (a float64 DataFrame, so a model keeps their names) and target.

    ``folds`` is the number of cross-validation folds the rows must fill
    (2 when alpha is given: at least two rows to fit anything).
    """
    frame = read_csv(path)
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


def prediction_data(path, names):
    """The columns ``names`` of the CSV file, checked, as a float64 DataFrame."""
    frame = read_csv(path)
    require_columns(frame, names, path)
    return pd.DataFrame(numeric_values(frame[names], path), columns=names)
