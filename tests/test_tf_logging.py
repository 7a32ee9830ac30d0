"""TensorFlow's start-up lines: hidden from a library user who set nothing,
all there for one who set ``TF_CPP_MIN_LOG_LEVEL`` (see ``tflasso/_lazy.py``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tflasso._lazy import quiet_lines

ROOT = Path(__file__).resolve().parents[1]

LOG = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796237798.610709    4247 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1796237798.611233    4247 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
W0000 00:00:1796237798.692746    4247 some_op.cc:12] a warning worth reading
E0000 00:00:1796237833.735204    4305 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
a line of the user's own
"""


def test_info_lines_and_the_no_driver_cuinit_error_are_dropped():
    kept = quiet_lines(LOG, level=1, user_level=False).splitlines()
    assert kept == [LOG.splitlines()[3], "a line of the user's own"]


def test_a_level_the_user_set_decides_alone():
    assert quiet_lines(LOG, level=0, user_level=True) == LOG
    kept = quiet_lines(LOG, level=2, user_level=True).splitlines()
    assert [line[:5] for line in kept[:2]] == ["W0000", "E0000"]  # cuInit: they asked


def test_cuinit_error_is_kept_when_a_driver_exists():
    log = "".join(line + "\n" for line in LOG.splitlines() if "cuda drivers" not in line)
    assert "failed call to cuInit" in quiet_lines(log, level=1, user_level=False)


FIT = ("import os, numpy as np\n"
       "from tflasso import Lasso\n"
       "Lasso(alpha=0.1).fit(np.eye(4), np.arange(4.0))\n"
       "Lasso(alpha=0.1, precompute=False).fit(np.eye(4), np.arange(4.0))\n"
       "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n")


def _fit(level):
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        environment["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True,
                          cwd=ROOT, env=environment, timeout=240)


@pytest.mark.parametrize("level", [None, "0"])
def test_first_fit_prints_no_tensorflow_noise_unless_asked(level):
    result = _fit(level)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(level)  # the environment is as it was
    noise = ["absl::InitializeLog", "oneDNN", "cuInit", "I0000"]
    if level is None:
        assert not [word for word in noise if word in result.stderr], result.stderr
    else:  # the user's own setting: TensorFlow says everything
        # Its first line and its info lines, on every machine; oneDNN's and
        # cuInit's lines depend on the CPU and the drivers (an AMD EPYC
        # printed neither).
        assert all(word in result.stderr for word in noise[::3]), result.stderr
