"""Every command-line failure ends with one line on stderr and exit code 2.

The cases are ``FAILURES`` in ``tests/cli_failures.py``, which the docs' table
of command-line errors is generated from.
"""

import pytest

from .cli_failures import FAILURES, run


@pytest.mark.parametrize("case", FAILURES, ids=[f"{c.args[0]}: {c.what}" for c in FAILURES])
def test_failure_is_one_line_and_exit_2(case, tmp_path):
    code, stdout, stderr = run(case, tmp_path)
    assert code == 2, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"tflasso {case.args[0]}: error: ")
    for word in case.words:
        assert word in lines[0]
    if case.args[0] == "fit":  # nothing written, nothing created
        assert not (tmp_path / "read_only" / "model").exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(case.files)


def test_cases_have_distinct_descriptions():
    assert len({(c.args[0], c.what) for c in FAILURES}) == len(FAILURES)
