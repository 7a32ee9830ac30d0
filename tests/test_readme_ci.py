"""CI runs the README's two commands exactly as written, in a fresh virtual
environment, so it cannot pass where a newcomer following the README fails."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    """The lines of the README's first ``bash`` block, comments included."""
    readme = (ROOT / "README.md").read_text()
    return re.search(r"```bash\n(.*?)```", readme, re.S).group(1).splitlines()


def test_readme_opens_with_install_demo_then_install_tests():
    first, second = readme_commands()
    assert first.startswith("python -m pip install -e . && python -m tflasso ")
    assert second.startswith('python -m pip install -e ".[test]" && python -m pytest ')


def test_ci_runs_the_readme_commands_verbatim_in_a_fresh_venv():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = readme_commands()
    positions = [lines.index(command) for command in commands]  # whole lines, verbatim
    assert positions == sorted(positions)
    venv = next(i for i, line in enumerate(lines) if re.match(r"python -m venv ", line))
    activate = next(i for i, line in enumerate(lines) if re.match(r"source .*/bin/activate", line))
    assert venv < activate < positions[0]
    # Each command's exit code is kept, and none is run under `|| true`.
    for position in positions:
        assert re.fullmatch(r"\w+=\$\?", lines[position + 1])
    # Under `set -e`, `a && b` hides a's failure: the script must not set it.
    assert not [line for line in lines if re.match(r"set -\w*e", line)]
