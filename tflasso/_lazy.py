"""TensorFlow, imported on the first fit and never for prediction or unpickling.

The estimator modules name the solver core (which imports TensorFlow) through
the proxies below, so importing them, unpickling a fitted model and
``predict`` cost numpy and scikit-learn only; the core is imported when a fit
first touches it.

That first import is also where TensorFlow's start-up log lines appear. What
TensorFlow 2.21 reads, measured on a CPU-only Linux machine:

- the lines its shared libraries log while loading, before absl's logging is
  initialised (``WARNING: All log messages before absl::InitializeLog()``,
  oneDNN's notice, ``Could not find cuda drivers``), ignore
  ``TF_CPP_MIN_LOG_LEVEL`` and go straight to file descriptor 2;
- every later line obeys ``TF_CPP_MIN_LOG_LEVEL``, read once, at the first such
  line (during the import) and kept for the life of the process: restoring the
  variable afterwards does not bring INFO lines back;
- ``failed call to cuInit: ... CUDA error`` is an ERROR line logged when the
  devices are first listed, on every machine without a CUDA driver.

So, only if the user has not set ``TF_CPP_MIN_LOG_LEVEL`` (any value set is
theirs and is left alone, as is everything when TensorFlow is already
imported), :func:`import_tensorflow_quietly` imports TensorFlow and lists its
devices with the variable at ``1`` (INFO hidden; warnings and errors shown) and
file descriptor 2 captured, then restores the variable and writes back every
captured line except INFO lines, absl's banner and the cuInit error when
TensorFlow found no CUDA driver. Nothing else is changed.
"""

import importlib
import os
import re
import sys
import tempfile

_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_INFO = re.compile(r"I\d{4} [\d:.]+ +\d+ \S+:\d+\] ")
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_NO_DRIVER = "Could not find cuda drivers on your machine"
_CUINIT = "failed call to cuInit"


def quiet_lines(log):
    """The lines of TensorFlow's start-up ``log`` that are worth showing."""
    lines = log.splitlines(keepends=True)
    no_driver = any(_NO_DRIVER in line for line in lines)
    return "".join(
        line for line in lines
        if not (_INFO.match(line) or line.startswith(_BANNER)
                or (no_driver and _CUINIT in line))
    )


def import_tensorflow_quietly():
    """Import TensorFlow without its start-up noise (see the module docstring)."""
    if "tensorflow" in sys.modules or _LEVEL in os.environ:
        import tensorflow  # noqa: F401 - already imported, or the user's settings
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no usable stderr: nothing to hide
        import tensorflow  # noqa: F401
        return
    os.environ[_LEVEL] = "1"
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # where the cuInit error is logged
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            del os.environ[_LEVEL]
            log.seek(0)
            sys.stderr.write(quiet_lines(log.read().decode(errors="replace")))
            sys.stderr.flush()


class LazyModule:
    """A tflasso module imported, TensorFlow first and quietly, on first use."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        if "tensorflow" not in sys.modules:
            import_tensorflow_quietly()
        return getattr(importlib.import_module(self._name, __package__), attribute)


class LazyName:
    """A callable of a :class:`LazyModule`, looked up on each call."""

    def __init__(self, module, name):
        self._module, self._name = module, name

    def __call__(self, *args, **kwargs):
        return getattr(self._module, self._name)(*args, **kwargs)


_strategies = LazyModule("._strategies")
Problem = LazyName(LazyModule("._problem"), "Problem")
