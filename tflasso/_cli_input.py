"""Reading and checking the command line's CSV files and output paths, with pandas only.

Everything a user can get wrong in a file is caught here, before TensorFlow is
imported, and raised as an ``InputError``: one line that names the file, the
column and the row, which the command line prints before exiting with code 2.
"""

import contextlib
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


@contextlib.contextmanager
def _reading(path):
    """pandas' errors on reading ``path`` as InputErrors."""
    try:
        yield
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise InputError(f"{path}: not a readable CSV file ({reason})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read this file ({error.strerror})") from None


def read_csv(path, sep=None):
    """The CSV file as a DataFrame, or an InputError saying why not.

    ``sep`` None detects commas, semicolons or tabs from the header line.
    """
    sep = separator(path, sep)
    with _reading(path):
        frame = pd.read_csv(path, sep=sep)
    if len(frame) == 0:
        raise InputError(f"{path}: no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


# Rows per chunk of ``fit --stream``: 65,536 rows of 100 float64 columns are 50 MB,
# and pandas parses chunks this large as fast as the whole file.
CHUNK_ROWS = 65_536


def csv_chunks(path, sep, rows=None):
    """The CSV file as DataFrames of ``rows`` rows (``CHUNK_ROWS``), one at a time."""
    with _reading(path):
        for chunk in pd.read_csv(path, sep=sep, chunksize=rows or CHUNK_ROWS):
            chunk.columns = [str(c) for c in chunk.columns]
            yield chunk


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


def numeric_values(frame, path, first_row=None):
    """The frame as a float64 array; InputError on text columns, NaN or inf.

    ``first_row``: a chunk's first data row in the file (None: the whole file).
    """
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
        n_rows, start = len(np.unique(bad_rows)), first_row or 0
        where = ("in all" if first_row is None
                 else f"of data rows {start + 1}-{start + len(values)}")
        raise InputError(
            f"{path}: column {frame.columns[col]!r} has {kind} in data row "
            f"{start + row + 1}; {n_rows} row{'s' * (n_rows > 1)} {where} have NaN or "
            "inf values: drop or impute them"
        )
    return values


def largest(values, columns, first_row=0):
    """``(value, row, column name)`` of the entry of ``values`` largest in absolute value."""
    row, col = np.unravel_index(np.argmax(np.abs(values)), values.shape)
    return values[row, col], first_row + row, columns[col]


def check_magnitude(value, row, column, n_rows, path):
    """Standardising squares and sums every column: past a size that overflows."""
    limit = np.sqrt(np.finfo(np.float64).max / n_rows) / 2
    if abs(value) >= limit:
        raise InputError(
            f"{path}: column {column!r} has the value {value:.3g} in data row "
            f"{row + 1}, too large to square and sum (over {limit:.3g}); "
            "rescale the column (change its unit)"
        )


def _features_and_target(frame, values, target, path):
    """``(X, y)``: every column but ``target`` as a float64 DataFrame, and ``target``."""
    features = [c for c in frame.columns if c != target]
    if not features:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    y = values[:, frame.columns.get_loc(target)]
    X = pd.DataFrame(values[:, [frame.columns.get_loc(c) for c in features]],
                     columns=features, index=frame.index)
    return X, y


def check_rows(path, n_rows, folds, constant, target):
    """Enough rows for ``folds`` and a target that varies."""
    if n_rows < folds:
        raise InputError(
            f"{path}: {n_rows} data rows are too few for {folds}-fold cross-validation; "
            f"use --cv {n_rows} or fewer, or give --alpha" if n_rows >= 2
            else f"{path}: 1 data row is too few to fit a model"
        )
    if constant:
        raise InputError(f"{path}: the target {target!r} is constant: nothing to learn")


def training_data(path, target, folds, sep=None):
    """Features (a float64 DataFrame, so a model keeps their names) and target.

    ``folds`` is the number of cross-validation folds the rows must fill
    (2 when alpha is given: at least two rows to fit anything).
    """
    frame = read_csv(path, sep)
    require_columns(frame, [target], path)
    values = numeric_values(frame, path)
    check_magnitude(*largest(values, frame.columns), len(values), path)
    X, y = _features_and_target(frame, values, target, path)
    check_rows(path, len(y), folds, np.ptp(y) == 0, target)
    return X, y


class TrainingChunks:
    """The CSV file's ``(X, y)`` chunks for ``fit --stream``, checked as
    :func:`training_data` checks a whole file; iterated once per pass.

    ``on_rows(n)`` is told the rows read so far. After a full pass, :meth:`check`
    makes the checks that need every row (their number, a constant target, a
    value too large for their number).
    """

    def __init__(self, path, target, sep, rows=None, on_rows=None):
        self.path, self.target, self.sep, self.rows = path, target, sep, rows
        self.on_rows = on_rows
        self.n_rows = 0

    def __iter__(self):
        n, top, low, high = 0, (0.0, 0, ""), np.inf, -np.inf
        for chunk in csv_chunks(self.path, self.sep, self.rows):
            if n == 0:
                require_columns(chunk, [self.target], self.path)
            if len(chunk) == 0:
                continue
            values = numeric_values(chunk, self.path, n)
            X, y = _features_and_target(chunk, values, self.target, self.path)
            top = max(top, largest(values, chunk.columns, n), key=lambda t: abs(t[0]))
            low, high = min(low, y.min()), max(high, y.max())
            n += len(y)
            if self.on_rows is not None:
                self.on_rows(n)
            yield X, y
        self.n_rows, self._top, self._constant = n, top, low == high

    def check(self, folds):
        if self.n_rows == 0:
            raise InputError(f"{self.path}: no data rows")
        check_magnitude(*self._top, self.n_rows, self.path)
        check_rows(self.path, self.n_rows, folds, self._constant, self.target)


def prediction_data(path, names, sep=None):
    """The columns ``names`` of the CSV file, checked, as a float64 DataFrame."""
    frame = read_csv(path, sep)
    require_columns(frame, names, path)
    values = numeric_values(frame[names], path)
    check_magnitude(*largest(values, names), len(values), path)
    return pd.DataFrame(values, columns=names)


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
