"""The two lasso fits users write first in TensorFlow, each given a time budget.

Both minimise the lasso objective by (sub)gradient steps with Adam, so neither
ever puts a coefficient exactly on zero: that is what the table shows next to
tflasso's proximal step.

* ``keras_l1``: ``Dense(1)`` with ``kernel_regularizer=L1(2 * alpha)`` and a
  mean-squared-error loss, trained by ``model.fit`` (Keras' defaults: float32,
  batch size 32) until the budget runs out. ``mse + 2 alpha ||w||_1`` is twice
  the lasso objective, so it has the same minimiser.
* ``adam_tape``: a ``tf.GradientTape`` loop with Adam on the full-batch
  objective ``||y - X w - b||^2 / (2 n) + alpha ||w||_1``, in the data's float64,
  one compiled step per Python iteration.

Each returns ``(coef, intercept, steps)``; the budget includes building the
model and tracing, as a user would experience it.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from scipy import sparse


class _StopAfter(keras.callbacks.Callback):
    """Stop ``fit`` at the first batch that ends after the deadline."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = deadline
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.perf_counter() >= self.deadline:
            self.model.stop_training = True


def keras_l1(X, y, alpha, budget, learning_rate, batch_size=32):
    """A Keras ``Dense(1)`` layer with an L1 kernel regulariser, fit for ``budget`` s."""
    deadline = time.perf_counter() + budget
    inputs = keras.Input(shape=(X.shape[1],), sparse=sparse.issparse(X))
    layer = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L1(2 * alpha))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    stop = _StopAfter(deadline)
    model.fit(X, y, batch_size=batch_size, epochs=10**9, verbose=0, callbacks=[stop])
    kernel, bias = layer.get_weights()
    return kernel.ravel().astype(np.float64), float(bias[0]), stop.steps


def _as_tensor(X):
    if not sparse.issparse(X):
        return tf.constant(X)
    coo = X.tocoo()
    indices = np.column_stack([coo.row, coo.col]).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(indices, coo.data, coo.shape))


def _matmul(X, w):
    if isinstance(X, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(X, w)
    return tf.matmul(X, w)


def adam_tape(X, y, alpha, budget, learning_rate):
    """Adam on the full lasso objective through ``tf.GradientTape``, for ``budget`` s."""
    deadline = time.perf_counter() + budget
    X_tf = _as_tensor(X)
    y_tf = tf.constant(y[:, None])
    w = tf.Variable(tf.zeros((X.shape[1], 1), tf.float64))
    b = tf.Variable(tf.zeros((), tf.float64))
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            residual = y_tf - _matmul(X_tf, w) - b
            loss = 0.5 * tf.reduce_mean(residual**2) + alpha * tf.reduce_sum(tf.abs(w))
        gradients = tape.gradient(loss, [w, b])
        optimizer.apply_gradients(zip(gradients, [w, b]))

    steps = 0
    while time.perf_counter() < deadline:
        step()
        steps += 1
    return w.numpy().ravel(), float(b.numpy()), steps
