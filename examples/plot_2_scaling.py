"""
Why scaling matters
===================

The L1 penalty charges each coefficient in units of the target per unit of its feature.
Change a feature's unit and you change how much the lasso charges for it, and so which
features it selects. Standardising first makes the selection independent of units.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tflasso import Lasso

X, y = load_diabetes(return_X_y=True)
names = load_diabetes().feature_names
# The diabetes features come with unit variance already; give them their own units
# back, as real data would have: one feature is in units 10 times smaller
# (``s4`` multiplied by 10), another in units 10 times larger (``bmi`` divided by 10).
scale = np.ones(X.shape[1])
scale[names.index("s4")], scale[names.index("bmi")] = 10.0, 0.1
X_units = X * scale / X.std(axis=0)
alpha = 2.0


def selected(model, X):
    return np.flatnonzero(model.fit(X, y)[-1].coef_)


raw = make_pipeline(Lasso(alpha=alpha))
standardised = make_pipeline(StandardScaler(), Lasso(alpha=alpha))
for label, model in [("without scaling", raw), ("with StandardScaler", standardised)]:
    print(f"{label:>20}: selects {[names[j] for j in selected(model, X_units)]}")

# %%
# Without scaling, ``bmi``, the strongest predictor, now takes small values, so it needs a
# huge coefficient to matter, and the penalty on that coefficient is huge too: it is
# dropped. ``s4``, now taking large values, needs only a small coefficient, costs almost
# nothing and stays in. With a ``StandardScaler`` in front, the selection is the same
# whatever the units:

for factor in [0.01, 1.0, 100.0]:
    print(f"all features x {factor:>6}: selects "
          f"{[names[j] for j in selected(standardised, X_units * factor)]}")

# %%
# The two fits side by side, each coefficient expressed per standard deviation of its
# feature so they compare: without scaling, ``bmi`` is gone and ``s4`` is in; with
# scaling, the fit is the one any choice of units gives.

per_sd = raw.fit(X_units, y)[-1].coef_ * X_units.std(axis=0)
standard = standardised.fit(X_units, y)[-1].coef_
positions = np.arange(len(names))
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.bar(positions - 0.2, per_sd, width=0.4, label="without scaling")
ax.bar(positions + 0.2, standard, width=0.4, label="with StandardScaler")
ax.set_xticks(positions, names)
ax.axhline(0, color="k", linewidth=0.8)
ax.set_ylabel("coefficient per standard deviation")
ax.legend()
plt.show()
