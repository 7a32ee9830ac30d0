"""Input and result checks shared by ``Lasso``, ``LassoCV`` and ``lasso_path``."""

from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.utils.validation import _check_sample_weight


def check_squares_finite(array, name):
    """Raise if a sum of ``n_samples`` squared entries overflows the dtype.

    Every solver forms such sums (the Gram matrix, the residual norm); past
    this point they turn to inf and the fit to NaN or to silent zeros.
    """
    values = array.data if sparse.issparse(array) else array
    if values.size == 0:
        return
    largest = max(abs(float(values.max())), abs(float(values.min())))  # no copy
    if not largest < np.sqrt(np.finfo(array.dtype).max / array.shape[0]):
        raise ValueError(
            f"Input {name} contains values too large to square in "
            f"{array.dtype} (largest magnitude {largest:.3g}); rescale it, for "
            "example with StandardScaler."
        )


def check_sample_weight(sample_weight, X, dtype):
    """scikit-learn's checks, and a scalar's; None or weights of largest value 1.

    A positive scalar weight changes nothing (as in scikit-learn), so it
    becomes None, but it must still be a valid weight.
    """
    if isinstance(sample_weight, Real):
        if not (np.isfinite(sample_weight) and sample_weight > 0):
            raise ValueError(
                "sample_weight must be a positive finite number or an "
                f"array of shape (n_samples,); got {sample_weight!r}."
            )
        return None
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=dtype, ensure_non_negative=True
    )
    if not sample_weight.max() > 0:
        raise ValueError("sample_weight must have a positive sum.")
    # Scaling weights changes nothing; dividing by the largest keeps their
    # sums from overflowing (near 1e308) or underflowing (subnormal).
    return sample_weight / sample_weight.max()


def check_finite_result(*arrays):
    """Raise if a fit produced NaN or inf, rather than return it."""
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError(
            "The solver produced non-finite coefficients. The input data "
            "may contain values too large to square; rescale them (for "
            "example with StandardScaler)."
        )
