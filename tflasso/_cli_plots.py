"""The command line's two plots, drawn on matplotlib ``Figure`` objects directly:
no pyplot and no backend choice, so nothing global changes and no display is needed."""

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

# Selected features named in the path's legend, the largest at the chosen alpha first;
# past this a legend no longer fits beside the plot.
_LABELLED = 20


def _figure():
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    return fig, fig.add_subplot()


def _alpha_axis(ax, alpha):
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axvline(alpha, color="k", linestyle="--", linewidth=1, label=f"alpha = {alpha:.3g}")
    ax.set_xlabel("alpha (log scale; weaker penalty to the right)")


def _colours(n):
    """``n`` distinct colours: tab10's; then tab20's light shades; evenly spaced
    along turbo beyond 20."""
    if n <= 20:
        return [colormaps["tab20"](i) for i in [*range(0, 20, 2), *range(1, 20, 2)][:n]]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def plot_path(alphas, coefs, names, alpha, title=None):
    """Coefficients, shape (n_features, n_alphas), against alpha.

    The features selected at ``alpha`` are coloured and named (the largest
    ``_LABELLED`` of them in the legend); the others are grey.
    """
    fig, ax = _figure()
    at_alpha = coefs[:, np.argmin(np.abs(np.log(alphas / alpha)))]
    selected = np.flatnonzero(at_alpha)
    selected = selected[np.argsort(-np.abs(at_alpha[selected]), kind="stable")]
    others = np.setdiff1d(np.arange(len(coefs)), selected)
    if len(others):
        grey = ax.plot(alphas, coefs[others].T, color="0.7", linewidth=0.8)
        grey[0].set_label(f"not selected ({len(others)})")
    names = list(names)
    for rank, (j, colour) in enumerate(zip(selected, _colours(len(selected)))):
        label = names[j] if rank < _LABELLED else None
        ax.plot(alphas, coefs[j], color=colour, linewidth=1.4, label=label)
    if len(selected) > _LABELLED:
        ax.plot([], [], color="none", label=f"and {len(selected) - _LABELLED} more selected")
    _alpha_axis(ax, alpha)
    ax.set_ylabel("coefficient (on the scaled features)")
    ax.set_title("Regularization path" + (f": {title}" if title else ""))
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def plot_cv(alphas, mse, alpha, title=None):
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
    ax.set_title("Choosing alpha by cross-validation" + (f": {title}" if title else ""))
    ax.legend(fontsize="small")
    return fig
