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

So :func:`import_tensorflow_quietly` imports TensorFlow and lists its devices
with file descriptor 2 captured, then writes back the captured lines that the
log level asks for: INFO lines (and absl's banner) are dropped at level 1 and
above, as TensorFlow itself drops its later ones. If the user has set
``TF_CPP_MIN_LOG_LEVEL``, that level is used and nothing else is hidden. If
not, the level is ``1`` during the import (INFO hidden for the process, since
TensorFlow keeps it; warnings and errors shown) and the variable is removed
again, and the cuInit error is dropped when TensorFlow has just said that the
machine has no CUDA driver. Nothing is done when TensorFlow is already imported.
"""

import importlib
import os
import re
import sys
import tempfile
import threading

_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_INFO = re.compile(r"I\d{4} [\d:.]+ +\d+ \S+:\d+\] ")
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
_NO_DRIVER = "Could not find cuda drivers on your machine"
_CUINIT = "failed call to cuInit"
_ONE_AT_A_TIME = threading.Lock()


def quiet_lines(log, level, user_level):
    """The lines of TensorFlow's start-up ``log`` worth showing at log ``level``.

    ``user_level`` is whether the user chose the level.
    """
    lines = log.splitlines(keepends=True)
    no_driver = not user_level and any(_NO_DRIVER in line for line in lines)
    return "".join(
        line for line in lines
        if not ((level >= 1 and (_INFO.match(line) or line.startswith(_BANNER)))
                or (no_driver and _CUINIT in line))
    )


def _level(text):
    try:
        return int(text)
    except ValueError:
        return 0  # what TensorFlow makes of a value it cannot read


def import_tensorflow_quietly():
    """Import TensorFlow without its start-up noise (see the module docstring)."""
    with _ONE_AT_A_TIME:  # first fits in several threads share file descriptor 2
        if "tensorflow" not in sys.modules:
            _import_capturing_stderr()


def _import_capturing_stderr():
    user_level = _LEVEL in os.environ
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no usable stderr: nothing to hide
        import tensorflow  # noqa: F401
        return
    if not user_level:
        os.environ[_LEVEL] = "1"
    level = _level(os.environ[_LEVEL])
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # where the cuInit error is logged
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if not user_level:
                del os.environ[_LEVEL]
            log.seek(0)
            sys.stderr.write(quiet_lines(log.read().decode(errors="replace"), level,
                                         user_level))
            sys.stderr.flush()


FORKED_AFTER_FIT = (
    "tflasso cannot fit in a process forked (os.fork) from one in which tflasso had "
    "already fitted: TensorFlow's thread pools do not survive a fork, and the fit would "
    "hang. Run parallel fits in fresh processes instead: joblib's default backend, "
    "'loky' (GridSearchCV(n_jobs=2) as it is, without parallel_backend('multiprocessing')), "
    "or multiprocessing's 'spawn' or 'forkserver' start method; or use "
    "backend='threading' or n_jobs=1."
)
# Whether this process has used the solver core (so TensorFlow has run), and
# whether it is a child forked after that.
_STATE = {"used": False, "forked": False}


def _after_fork_in_child():
    _STATE["forked"] = _STATE["forked"] or _STATE["used"]


os.register_at_fork(after_in_child=_after_fork_in_child)


class LazyModule:
    """A tflasso module imported, TensorFlow first and quietly, on first use.

    In a child forked after a fit it raises instead (see ``FORKED_AFTER_FIT``):
    a forked copy of a running TensorFlow hangs at its first operation.
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        if _STATE["forked"]:
            raise RuntimeError(FORKED_AFTER_FIT)
        if "tensorflow" not in sys.modules:
            import_tensorflow_quietly()
        _STATE["used"] = True
        return getattr(importlib.import_module(self._name, __package__), attribute)


class LazyName:
    """A callable of a :class:`LazyModule`, looked up on each call."""

    def __init__(self, module, name):
        self._module, self._name = module, name

    def __call__(self, *args, **kwargs):
        return getattr(self._module, self._name)(*args, **kwargs)


_strategies = LazyModule("._strategies")
Problem = LazyName(LazyModule("._problem"), "Problem")
_stream = LazyModule("._stream")
