"""Peak memory of a fit stays within 3x the size of X (issue 6).

Slow (each case imports TensorFlow in a fresh process); the full-size figure
is ``benchmarks/memory.py``'s, in ``benchmarks/results_memory.md``.
"""

import pytest

from benchmarks import memory


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in memory.CASES if "cold" not in c[0]],
                         ids=lambda case: case[0])
def test_fit_peak_memory_within_three_times_x(case):
    # 100,000 x 100 float64 is 76 MB: large beside the 32 MB Gram blocks and
    # TensorFlow's own allocations, small enough for CI.
    row = memory.measure(100_000, 100, case)
    assert row["peak"] - row["baseline"] <= memory.LIMIT * row["x_bytes"], row
