"""
Correlated features: the elastic net, and an adaptive lasso by penalty factors
==============================================================================

When several features carry the same signal, the lasso tends to keep some of them and
drop the rest, more or less at random; the elastic net's L2 part spreads the weight over
the whole group. Here each of the diabetes data's ten clinical variables is copied three
times with added noise, as if measured three times, and :class:`tflasso.ElasticNetCV` (which also searches
``l1_ratio``) is compared with :class:`tflasso.LassoCV`. Then ``penalty_factor`` turns
the lasso into an adaptive lasso: each feature's penalty is divided by the size of its
coefficient in a first ridge fit, so weak features pay more and strong ones less.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from tflasso import ElasticNetCV, LassoCV

data = load_diabetes()
names, y = data.feature_names, data.target
rng = np.random.default_rng(0)
# Three noisy copies of every variable: groups of three features correlated at about
# 0.8, each copy carrying a share of the same signal.
copies = 3
noise = 0.5 * data.data.std(axis=0)
X = np.hstack([data.data + noise * rng.standard_normal(data.data.shape)
               for _ in range(copies)])
X = StandardScaler().fit_transform(X)
labels = [f"{name}/{k + 1}" for k in range(copies) for name in names]
folds = KFold(5, shuffle=True, random_state=0)

lasso = LassoCV(cv=folds).fit(X, y)
ratios = [0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
enet = ElasticNetCV(l1_ratio=ratios, cv=folds).fit(X, y)

print(f"LassoCV:      alpha_ = {lasso.alpha_:.3f}, "
      f"{np.count_nonzero(lasso.coef_)} of {X.shape[1]} features, "
      f"CV error {lasso.mse_path_.mean(axis=1).min():.0f}")
print(f"ElasticNetCV: alpha_ = {enet.alpha_:.3f}, l1_ratio_ = {enet.l1_ratio_}, "
      f"{np.count_nonzero(enet.coef_)} of {X.shape[1]} features, "
      f"CV error {enet.mse_path_.mean(axis=2).min():.0f}")
print("best CV error for each l1_ratio:",
      dict(zip(ratios, enet.mse_path_.mean(axis=2).min(axis=1).round().astype(int).tolist())))

# %%
# ``mse_path_`` has one row of alphas per ``l1_ratio``; its ``l1_ratio=1`` row is the
# lasso's. The error falls as the L2 part grows: with the signal shared by correlated
# copies, averaging them beats picking one.
#
# An adaptive lasso is a lasso with penalty factors from a first fit, here
# :class:`~sklearn.linear_model.RidgeCV`: ``factor = 1 / (|w0| + eps)``. The factors are
# used as given, so they only need the right relative sizes; ``LassoCV`` puts the top of
# its grid where every penalised coefficient is zero, with the factors included.

w0 = RidgeCV(alphas=np.logspace(-3, 3, 50)).fit(X, y)
factor = 1 / (np.abs(w0.coef_) + 1e-3)
adaptive = LassoCV(cv=folds, penalty_factor=factor).fit(X, y)
print(f"adaptive lasso: {np.count_nonzero(adaptive.coef_)} features:",
      [labels[j] for j in np.flatnonzero(adaptive.coef_)])

# %%
# The adaptive lasso is the sparsest of the three. Its CV error would not be a fair
# comparison: the ridge fit that set the factors saw every fold. The coefficients, three
# bars per clinical variable (one per copy):

models = [("LassoCV", lasso), (f"ElasticNetCV (l1_ratio_={enet.l1_ratio_})", enet),
          ("adaptive lasso", adaptive)]
positions = np.arange(len(names))
fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True, sharey=True,
                         layout="constrained")
for ax, (title, model) in zip(axes, models):
    for k, coef in enumerate(model.coef_.reshape(copies, -1)):
        ax.bar(positions + (k - 1) * 0.27, coef, width=0.27, label=f"copy {k + 1}")
    ax.axhline(0, color="k", linewidth=0.8)
    ax.set_title(f"{title}: {np.count_nonzero(model.coef_)} features", fontsize=10)
    ax.set_ylabel("coefficient")
axes[-1].set_xticks(positions, names)
axes[0].legend(ncol=3, fontsize=8)
plt.show()
