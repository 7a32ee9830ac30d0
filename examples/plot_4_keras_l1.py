"""
Keras' L1 penalty versus a proximal step: where the exact zeros come from
=========================================================================

A Keras ``Dense`` layer with ``kernel_regularizer=L1(2 * alpha)`` and the mean squared
error minimises the same objective as ``Lasso(alpha)`` (its loss is exactly twice ours).
Train both on the diabetes data and compare: Keras' gradient steps leave the coefficients
that should vanish small but non-zero; tflasso's proximal step puts them exactly on zero,
where scikit-learn puts them too.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso as SklearnLasso
from sklearn.preprocessing import StandardScaler

from tflasso import Lasso
from tflasso._reference import objective

data = load_diabetes()
X = StandardScaler().fit_transform(data.data).astype(np.float32)
y = data.target.astype(np.float32)
alpha = 1.0

# %%
# Keras: full-batch Adam for 2,000 steps, the bias started at the mean of ``y``. The
# dataset repeats the whole data set as one batch, and ``steps_per_execution`` runs 100
# steps per call, to keep this quick.

keras.utils.set_random_seed(0)
layer = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L1(2 * alpha),
                           bias_initializer=keras.initializers.Constant(y.mean()))
net = keras.Sequential([keras.Input((X.shape[1],)), layer])
net.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse", steps_per_execution=100)
batches = tf.data.Dataset.from_tensors((X, y)).repeat(2000)
net.fit(batches, epochs=1, verbose=0, shuffle=False)
keras_coef = layer.kernel.numpy().ravel()
keras_intercept = float(layer.bias.numpy()[0])

# %%
# tflasso and scikit-learn at the same alpha.

ours = Lasso(alpha=alpha).fit(X, y)
theirs = SklearnLasso(alpha=alpha).fit(X, y)

rows = [("Keras L1", keras_coef, keras_intercept), ("tflasso", ours.coef_, ours.intercept_),
        ("scikit-learn", theirs.coef_, theirs.intercept_)]
print(f"{'':>13} {'objective':>12} {'exact zeros':>12} {'smallest |w|':>13}")
for name, coef, intercept in rows:
    print(f"{name:>13} {objective(X, y, coef, intercept, alpha):12.4f} "
          f"{int(np.sum(coef == 0)):12d} {np.abs(coef).min():13.2e}")

# %%
# All three reach practically the same objective, but only the proximal solvers give
# exact zeros. On a log scale the difference is plain: Keras' "zeros" are 1e-4 to 1e-2,
# and where they land depends on the learning rate and when training stopped.

positions = np.arange(X.shape[1])
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
floor = 1e-7  # where to draw an exact zero on a log axis
for offset, (name, coef, _) in zip([-0.25, 0, 0.25], rows):
    ax.bar(positions + offset, np.maximum(np.abs(coef), floor), width=0.25, label=name)
ax.set_yscale("log")
ax.set_ylim(floor / 2, 100)
ax.axhline(floor, color="k", linewidth=0.8)
ax.text(-0.6, floor * 1.6, "exactly zero", fontsize="small")
ax.set_xticks(positions, data.feature_names)
ax.set_ylabel("|coefficient|")
ax.legend(loc="upper left", ncols=3)
plt.show()
