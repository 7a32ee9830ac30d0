"""``python -m tflasso`` and the ``tflasso`` console script (see ``_cli.py``)."""

import sys


def main(argv=None):
    """Run the command line; returns the process exit code."""
    # TensorFlow's start-up lines are hidden as in the library (``_lazy.py``),
    # where ``_cli`` imports it, and only when a command needs it.
    from ._cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
