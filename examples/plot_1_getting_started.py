"""
Getting started: a lasso in a pipeline
======================================

Fit :class:`tflasso.Lasso` behind a :class:`~sklearn.preprocessing.StandardScaler` on the
diabetes data, and check it against :class:`sklearn.linear_model.Lasso`: same objective,
same alpha, same coefficients, same exact zeros.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tflasso import Lasso

data = load_diabetes()
X, y = data.data, data.target

ours = make_pipeline(StandardScaler(), Lasso(alpha=1.0)).fit(X, y)
theirs = make_pipeline(StandardScaler(), SklearnLasso(alpha=1.0)).fit(X, y)
coef, reference = ours[-1].coef_, theirs[-1].coef_

print("largest difference from scikit-learn:", np.abs(coef - reference).max())
print("exact zeros:", [name for name, c in zip(data.feature_names, coef) if c == 0])
print("R^2 on the training data:", round(ours.score(X, y), 4))

# %%
# The coefficients side by side. They are on the scaled features, so their sizes compare:
# ``bmi`` and ``s5`` matter most, two features are removed.

positions = np.arange(len(coef))
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.bar(positions - 0.2, coef, width=0.4, label="tflasso")
ax.bar(positions + 0.2, reference, width=0.4, label="scikit-learn")
ax.set_xticks(positions, data.feature_names)
ax.axhline(0, color="k", linewidth=0.8)
ax.set_ylabel("coefficient (per standard deviation)")
ax.legend()
plt.show()
