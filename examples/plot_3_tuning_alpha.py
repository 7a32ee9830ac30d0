"""
Tuning alpha by cross-validation
================================

:class:`tflasso.LassoCV` fits every alpha of a 100-value grid on every fold in one batched
TensorFlow program, picks the alpha with the lowest held-out error, and refits. Here it
is compared with :class:`sklearn.linear_model.LassoCV` on the same grid and folds, and the
regularization path from :func:`tflasso.lasso_path` shows what each alpha selects.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LassoCV as SklearnLassoCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from tflasso import LassoCV, lasso_path

data = load_diabetes()
X = StandardScaler().fit_transform(data.data)
y = data.target
folds = KFold(5, shuffle=True, random_state=0)
# A tight tolerance on both sides: near its minimum the CV curve is flat, and solutions
# accurate to the default tol=1e-4 can tip the choice to a neighbouring alpha.
tol = 1e-6

LassoCV(cv=folds, tol=tol).fit(X, y)  # the first fit compiles the TensorFlow program
start = time.perf_counter()
ours = LassoCV(cv=folds, tol=tol).fit(X, y)
ours_s = time.perf_counter() - start
start = time.perf_counter()
theirs = SklearnLassoCV(cv=folds, tol=tol).fit(X, y)
theirs_s = time.perf_counter() - start

print(f"tflasso:      alpha_ = {ours.alpha_:.4f}  ({1e3 * ours_s:.0f} ms)")
print(f"scikit-learn: alpha_ = {theirs.alpha_:.4f}  ({1e3 * theirs_s:.0f} ms)")
print(f"largest relative difference in mse_path_: "
      f"{np.max(np.abs(ours.mse_path_ / theirs.mse_path_ - 1)):.1e}")
print(f"one-standard-error alpha: {ours.alpha_1se_:.4f}, "
      f"selects {np.count_nonzero(LassoCV(cv=folds, tol=tol, refit_alpha='1se').fit(X, y).coef_)} "
      f"features instead of {np.count_nonzero(ours.coef_)}")

# %%
# The regularization path, from :func:`tflasso.lasso_path`, which fits no intercept:
# centre first. Then the cross-validation curve above it: each fold's held-out error,
# their mean, and one standard error around it. The one-standard-error rule moves left,
# to a sparser model whose error is statistically indistinguishable from the minimum.

alphas, coefs, _ = lasso_path(X - X.mean(axis=0), y - y.mean(), alphas=ours.alphas_)

mean = ours.mse_path_.mean(axis=1)
stderr = ours.mse_path_.std(axis=1, ddof=1) / np.sqrt(ours.mse_path_.shape[1])
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, layout="constrained")
top.plot(ours.alphas_, ours.mse_path_, color="0.8", linewidth=0.8)
top.fill_between(ours.alphas_, mean - stderr, mean + stderr, alpha=0.3)
top.plot(ours.alphas_, mean, linewidth=2, label="mean over folds")
top.set_ylabel("held-out mean squared error")
bottom.plot(alphas, coefs.T)
bottom.set_ylabel("coefficient")
bottom.set_xlabel("alpha")
bottom.set_xscale("log")
bottom.invert_xaxis()
for ax in (top, bottom):
    ax.axvline(ours.alpha_, color="k", linestyle="--", label="alpha_ (minimum)")
    ax.axvline(ours.alpha_1se_, color="k", linestyle=":", label="alpha_1se_")
top.legend()
plt.show()
