"""The array operations of the penalty's duality gap, for tensors and numpy
arrays alike.

The gap and the features' dual terms (:func:`tflasso._penalty.duality_gap`,
:func:`tflasso._programs._certify`) are written once, against the namespace
:func:`of` their coefficients: the compiled programs evaluate them on
tensors, and small certificates (see tflasso._programs._NUMPY_CERTIFY) in
numpy, where a call of the compiled certificate costs more than its
arithmetic (0.5 to 1 ms, against tens of microseconds).
"""

from types import SimpleNamespace

import numpy as np
import tensorflow as tf

TENSORFLOW = SimpleNamespace(
    sqrt=tf.sqrt,
    sum=tf.reduce_sum,
    max=tf.reduce_max,
    where=tf.where,
    maximum=tf.maximum,
    zeros_like=tf.zeros_like,
    gather=tf.gather,
    matmul=tf.matmul,
    reshape=tf.reshape,
    shape=tf.shape,
)

NUMPY = SimpleNamespace(
    sqrt=np.sqrt,
    sum=np.sum,
    # As TensorFlow's, the maximum over no element is -inf, not an error.
    max=lambda x, axis: np.max(x, axis=axis, initial=-np.inf),
    where=np.where,
    maximum=np.maximum,
    zeros_like=np.zeros_like,
    gather=lambda x, indices, axis: np.take(x, indices, axis=axis),
    matmul=np.matmul,
    reshape=np.reshape,
    shape=np.shape,
)


def of(x):
    """The namespace of ``x``: numpy's for a numpy array, else TensorFlow's."""
    return NUMPY if isinstance(x, np.ndarray) else TENSORFLOW
