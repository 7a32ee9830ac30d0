"""``python -m tflasso`` and the ``tflasso`` console script (see ``_cli.py``)."""

import os
import sys


def main(argv=None):
    """Run the command line; returns the process exit code."""
    # An application, unlike the library, may choose its log level: hide
    # TensorFlow's start-up banner unless the user asked for it. It must be
    # set before TensorFlow is imported; ``_cli`` imports it only when needed.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from ._cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
