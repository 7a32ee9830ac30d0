"""``python -m tflasso``: the command line (for now, the diabetes demo)."""

import os
import sys


def main(argv=None):
    """Run the command line; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    # An application, unlike the library, may choose its log level: hide
    # TensorFlow's start-up banner unless the user asked for it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if argv in ([], ["demo"]):
        from ._demo import run

        run()
        return 0
    print(f"tflasso: unknown command {' '.join(argv)!r}; try 'tflasso demo'",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
