"""A grid search on joblib's 'multiprocessing' backend (forked workers) after a
fit in the parent: forked copies of a running TensorFlow hang at their first
operation, so each worker's fit fails at once with an error naming the fix.
Bounded by the subprocess's timeout: a hang fails the test instead of the suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import warnings
import joblib, numpy as np
from sklearn.model_selection import GridSearchCV
from tflasso import Lasso

rng = np.random.default_rng(0)
X = rng.standard_normal((60, 6)); y = X[:, 0] + 0.1 * rng.standard_normal(60)
Lasso(alpha=0.1).fit(X, y)  # TensorFlow now runs in the parent
search = GridSearchCV(Lasso(precompute=False), {"alpha": [0.01, 0.1]}, cv=2, n_jobs=2)
with joblib.parallel_backend("multiprocessing"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        search.fit(X, y)
    except ValueError as error:  # scikit-learn: "All the 4 fits failed", with the reasons
        print(error)
# In the parent, fitting still works.
print("parent fit", Lasso(alpha=0.1).fit(X, y).coef_[0] > 0)
"""


def test_fork_backend_grid_search_fails_fast_naming_the_fix():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "All the 4 fits failed" in result.stdout
    assert "RuntimeError: tflasso cannot fit in a process forked" in result.stdout
    assert "'loky'" in result.stdout and "'spawn'" in result.stdout
    assert result.stdout.strip().endswith("parent fit True")
