"""The command line's two plots, drawn on matplotlib ``Figure`` objects directly:
no pyplot and no backend choice, so nothing global changes and no display is needed."""

import numpy as np
from matplotlib.figure import Figure

# Lines labelled in the path's legend: the largest coefficients at the chosen alpha.
_LABELLED = 10


def _figure():
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    return fig, fig.add_subplot()


def _alpha_axis(ax, alpha):
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axvline(alpha, color="k", linestyle="--", linewidth=1, label=f"alpha = {alpha:.3g}")
    ax.set_xlabel("alpha (log scale; weaker penalty to the right)")


def plot_path(alphas, coefs, names, alpha):
    """Coefficients, shape (n_features, n_alphas), against alpha."""
    fig, ax = _figure()
    lines = ax.plot(alphas, coefs.T, linewidth=1.2)
    size = np.abs(coefs[:, np.argmin(np.abs(np.log(alphas / alpha)))])
    threshold = max(np.sort(size)[-_LABELLED:][0], np.finfo(float).tiny)
    for line, name, s in zip(lines, names, size):
        line.set_label(name if s >= threshold else None)
    _alpha_axis(ax, alpha)
    ax.set_ylabel("coefficient (on the scaled features)")
    ax.set_title("Regularization path")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def plot_cv(alphas, mse, alpha):
    """Cross-validated MSE, shape (n_alphas, n_folds): folds, mean, standard error."""
    mean = mse.mean(axis=1)
    stderr = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1])
    fig, ax = _figure()
    ax.plot(alphas, mse, color="0.75", linewidth=0.8)
    ax.fill_between(alphas, mean - stderr, mean + stderr, alpha=0.3,
                    label="mean ± 1 standard error")
    ax.plot(alphas, mean, color="C0", linewidth=2, label=f"mean of {mse.shape[1]} folds")
    _alpha_axis(ax, alpha)
    ax.set_ylabel("cross-validated mean squared error")
    ax.set_title("Choosing alpha by cross-validation")
    ax.legend(fontsize="small")
    return fig
