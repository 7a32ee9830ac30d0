"""The results as markdown, a bar plot of time ratios, and raw JSON."""

import json
import os
import platform
import subprocess
from importlib.metadata import version

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .datasets import DESCRIPTIONS  # noqa: E402

# Issue 3's targets for tflasso time / scikit-learn time (single fits, same tol).
TARGETS = {"diabetes": 3.0, "dense": 1.5, "tall": 1.0, "wide": 2.0, "sparse": 0.3,
           "spectra": 1.0, "fingerprints": 1.0, "tfidf": 1.0}
GRIDSEARCH_TARGET = 3.0
PLOTTED = ("tflasso", "skglm", "celer")
COLOURS = {"tflasso": "tab:orange", "skglm": "tab:green", "celer": "tab:purple"}
_PACKAGES = ("numpy", "scipy", "scikit-learn", "tensorflow", "keras", "skglm", "celer")


def machine(rev=None):
    """Cores, CPU model, memory, library versions and tflasso's commit, as strings."""
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), platform.processor())
    with open("/proc/meminfo") as f:
        memory_kb = int(f.readline().split()[1])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = subprocess.run(["git", "-C", root, "log", "-1", "--format=%h %s", rev or "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = not rev and subprocess.run(
        ["git", "-C", root, "status", "--porcelain", "tflasso"],
        capture_output=True, text=True).stdout.strip()
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{memory_kb / 2**20:.0f} GiB",
        "python": platform.python_version(),
        "versions": ", ".join(f"{p} {version(p)}" for p in _PACKAGES),
        "commit": commit + (" (tflasso/ had uncommitted changes)" if dirty else "")
        + (f" (`--tflasso-rev {rev}`: tflasso/ exported from git)" if rev else ""),
    }


def _seconds(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _support(record, other):
    differ = int(np.sum(record["support"] != other["support"]))
    return "yes" if differ == 0 else f"no ({differ} differ)"


def _row(record, sklearn, reference, tol):
    baseline = "steps" in record
    time = _seconds(record["median"])
    if baseline:
        # A step (or Keras' set-up) can stall on a loaded machine and overrun.
        over = record["median"] > 1.5 * record.get("budget", np.inf)
        time += f" (budget {record['budget']:g} s, overran)" if over else " (budget)"
        work = f"{record['steps']} steps"
    else:
        work = "" if record["n_iter"] is None else str(record["n_iter"])
        if record["warned"]:
            work += " (max_iter)"
    subopt = record["subopt"]
    return "| " + " | ".join([
        f"{tol:g}",
        record["method"],
        str(len(record["times"])),
        time,
        f"{record['median'] / sklearn['median']:.2f}x",
        "0 (best)" if subopt == 0 else f"{subopt:.1e}",
        f"{record['gap_over_tol']:.2g}",
        str(record["zeros"]),
        _support(record, sklearn),
        _support(record, reference),
        work,
    ]) + " |"


_HEADER = (
    "| tol | method | runs | median time | / sklearn | rel. subopt. | gap / (tol·‖y_c‖²/n) "
    "| exact zeros | support = sklearn | support = exact | iterations |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _results(cases):
    lines = []
    for case in cases:
        sklearn = {tol: next(r for r in case["runs"][tol] if r["method"] == "sklearn")
                   for tol in case["runs"]}
        lines += [
            f"### {DESCRIPTIONS[case['dataset']]}, alpha = {case['fraction']:g} alpha_max "
            f"= {case['alpha']:.4g}",
            "",
            f"Exact support: {case['reference']['nonzeros']} non-zeros (celer, gap / "
            f"(1e-10·‖y_c‖²/n) = {case['reference']['gap_over_tol']:.2g}).",
            "",
            _HEADER,
        ]
        for tol, records in case["runs"].items():
            lines += [_row(r, sklearn[tol], case["reference"], tol) for r in records]
        lines.append("")
    return lines


def _tflasso(case, tol):
    return next(r for r in case["runs"][tol] if r["method"] == "tflasso")


def _ratio(case, tol, method="tflasso"):
    records = {r["method"]: r for r in case["runs"][tol]}
    return records[method]["median"] / records["sklearn"]["median"]


def _supports(cases, tol, dataset):
    """tflasso's support against sklearn's and the exact one, both alphas."""
    cells = []
    for case in (c for c in cases if c["dataset"] == dataset):
        records = {r["method"]: r for r in case["runs"][tol]}
        ours = records["tflasso"]
        cells.append(f"{_support(ours, records['sklearn'])} / "
                     f"{_support(ours, case['reference'])}")
    return "; ".join(cells)


def _targets(cases, tol, grid):
    lines = ["| data | target | alpha = 0.1 alpha_max | alpha = 0.01 alpha_max | met "
             "| tflasso support = sklearn / = exact (0.1; 0.01) | gap <= tol |",
             "|---|---|---|---|---|---|---|"]
    for dataset in dict.fromkeys(c["dataset"] for c in cases):
        ratios = [_ratio(c, tol) for c in cases if c["dataset"] == dataset]
        cells = [f"{r:.2f}x" for r in ratios]
        met = "yes" if max(ratios) <= TARGETS[dataset] else "**no**"
        gaps = [_tflasso(c, tol)["gap_over_tol"] for c in cases if c["dataset"] == dataset]
        converged = "yes" if max(gaps) <= 1 else "**no**"
        lines.append(f"| {dataset} | <= {TARGETS[dataset]:g}x | " + " | ".join(cells)
                     + f" | {met} | {_supports(cases, tol, dataset)} | {converged} |")
    if grid:
        met = "yes" if grid["ratio"] <= GRIDSEARCH_TARGET else "**no**"
        lines.append(f"| GridSearchCV diabetes | <= {GRIDSEARCH_TARGET:g}x | "
                     f"{grid['ratio']:.2f}x | | {met} | | |")
    return lines


def _compilation(cases, tol, skglm_jit):
    lines = ["| case | first fit | median fit | first - median | traces in first fit "
             "| traces in timed fits |", "|---|---|---|---|---|---|"]
    for case in cases:
        r = _tflasso(case, tol)
        extra = ("(the only fit, timed)" if r.get("first_only")
                 else _seconds(max(r["first"] - r["median"], 0)))
        lines.append(
            f"| {case['dataset']} {case['fraction']:g} | {_seconds(r['first'])} | "
            f"{_seconds(r['median'])} | {extra} | {r['traces_first']} | {r['traces_timed']} |"
        )
    jit = ", ".join(f"{kind} {_seconds(s)}" for kind, s in skglm_jit.items())
    return lines + ["", f"skglm's first fits (numba compilation, excluded likewise): {jit}."]


def _grid(grid):
    traces = grid["traces"]
    gram = grid["gram_traces"]
    return [
        f"`GridSearchCV(make_pipeline(StandardScaler(), Lasso()), "
        f"{grid['alphas']} alphas in logspace(-3, 1), cv=5)` on the raw diabetes data, "
        f"{grid['alphas'] * 5 + 1} fits; median of {grid['repeats']} searches.",
        "",
        "| | scikit-learn | tflasso | tflasso / sklearn |",
        "|---|---|---|---|",
        f"| search time | {_seconds(grid['sklearn'])} | {_seconds(grid['tflasso'])} "
        f"| {grid['ratio']:.2f}x |",
        f"| first search (tflasso warm-up) | | {_seconds(grid['tflasso_first'])} | |",
        f"| best alpha | {grid['best_alpha']['sklearn']:.4g} "
        f"| {grid['best_alpha']['tflasso']:.4g} | |",
        "",
        f"Tracing count of all tflasso solvers before / after the warm-up search / after "
        f"the timed searches: {traces[0]} / {traces[1]} / {traces[2]}; "
        f"the float64 XLA Gram program alone: {gram[0]} / {gram[1]} / {gram[2]}.",
    ]


def markdown(meta, cases, grid, skglm_jit):
    """The whole results page."""
    tol = meta["tol"]
    m = meta["machine"]
    lines = [
        "# Benchmarks: tflasso.Lasso against scikit-learn, skglm, celer and TensorFlow "
        "first tries",
        "",
        f"- Command: `{meta['command']}` (from the repository root)",
        f"- Date: {meta['date']}; whole run {meta['duration'] / 60:.1f} min; "
        f"load average {meta['load'][0]} at start, {meta['load'][1]} at end",
        f"- Machine: {m['cores']} cores (`nproc`), {m['cpu']}, {m['memory']} RAM, "
        f"Python {m['python']}",
        f"- Versions: {m['versions']}",
        f"- tflasso commit: {m['commit']}",
        "",
        "Time ratios are tflasso (or other) median time / scikit-learn median time, from "
        "the same interleaved rounds. Suboptimality is relative to the lowest objective "
        "any method reached on that problem (all tols), computed in float64 numpy. The "
        "gap is scikit-learn's duality gap of the centred problem (intercept profiled "
        "out), divided by scikit-learn's stopping threshold: <= 1 means converged to the "
        "tol asked. 'support = exact' compares with celer's solution run to a gap below 1e-10, "
        "untimed; at tol 1e-4 a solver may leave out (or keep) coefficients many orders "
        "below the others, so scikit-learn's own support can differ from the exact one. "
        "skglm ran with tol x "
        f"{meta['skglm_tol_factor']:g} (its tol is not a duality gap). The Keras-L1 "
        f"(Adam lr {meta['learning_rates']['keras_l1']:g}, batch 32, float32) and "
        f"GradientTape-Adam (full batch, lr {meta['learning_rates']['adam_tape']:g}, "
        "float64) rows ran once for a fixed budget; their time is that budget.",
        "",
        f"## Issue 3 targets (tflasso / scikit-learn, tol {tol:g})",
        "",
        *_targets(cases, tol, grid),
        "",
        f"Plot of these ratios: `benchmarks/{meta['plot']}`.",
        "",
    ]
    if grid:
        lines += ["## GridSearchCV", "", *_grid(grid), ""]
    lines += [
        "## Compilation (tflasso's first fit per problem, excluded from the medians)",
        "",
        *_compilation(cases, tol, skglm_jit),
        "",
        "## Results",
        "",
        *_results(cases),
    ]
    return "\n".join(lines)


def plot(cases, tol, path):
    """Bars of time / scikit-learn per problem, log scale, with tflasso's targets."""
    labels = [f"{c['dataset']}\n{c['fraction']:g} α_max" for c in cases]
    x = np.arange(len(cases))
    width = 0.8 / len(PLOTTED)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(cases)), 4.5))
    for i, method in enumerate(PLOTTED):
        ratios = [_ratio(c, tol, method) for c in cases]
        ax.bar(x + (i - 1) * width, ratios, width, label=method, color=COLOURS[method])
    for xi, case in zip(x, cases):
        ax.hlines(TARGETS[case["dataset"]], xi - 1.5 * width, xi - 0.5 * width,
                  colors="black", linestyles="dotted")
    ax.axhline(1, color="grey", linewidth=1)
    ax.plot([], [], "k:", label="tflasso target")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("median fit time / scikit-learn's")
    ax.set_title(f"Lasso fit time relative to scikit-learn (tol {tol:g}; lower is faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def dump(meta, cases, grid, skglm_jit, path):
    """Everything measured, minus the support masks, as JSON."""
    def clean(record):
        return {k: v for k, v in record.items() if k != "support"}

    data = {
        "meta": meta,
        "gridsearch": grid,
        "skglm_jit": skglm_jit,
        "cases": [
            {**{k: v for k, v in c.items() if k not in ("runs", "reference")},
             "reference": clean(c["reference"]),
             "runs": {str(tol): [clean(r) for r in rs] for tol, rs in c["runs"].items()}}
            for c in cases
        ],
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=1, default=float)
