"""The paper's tables and figure data from :class:`RunResult` s (no plotting here).

- Table 1: zeta (mean over seeds), VAR, CON, CCON and zeta of the seeds' ensemble (majority vote; regression:
  mean prediction) per model and task, in percent.
- Figure 3 data: zeta of every seed, min-max normalised within each task (1 = that task's best seed,
  0 = its worst; a task whose seeds all score the same gets 0.5).
- Figure 2 data: Pearson correlation, over the tasks of one model, of the training-set size with VAR, CON
  and CCON (needs at least 3 tasks of different sizes).

Example:
    >>> from pathlib import Path
    >>> report = {"zeta_name": "accuracy", "zeta_mean": 0.6, "var": 0.0, "con": 0.2, "ccon": 0.2,
    ...           "zeta": [0.6, 0.6], "seeds": [42, 52], "n_examples": 5}
    >>> run = RunResult(Path("run"), "tiny", "RTE", "GLUE", 100, report)
    >>> table_rows([run])[0]["CON (%)"]
    20.0
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import numpy as np

from .runs import RunResult

COLUMNS = (
    "Model", "Benchmark", "Task", "zeta", "zeta (%)", "VAR (%)", "CON (%)", "CCON (%)", "Ensemble (%)", "Seeds", "N"
)  # fmt: skip
METRICS = ("var", "con", "ccon")
_BENCHMARK_ORDER = {"GLUE": 0, "SuperGLUE": 1}
_PAPER_TASK_ORDER = ("CoLA", "SST-2", "MRPC", "QQP", "QNLI", "RTE", "CB", "WiC", "BoolQ", "MultiRC", "COPA")
_MIN_TASKS_FOR_CORRELATION = 3


def _percent(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def sort_runs(runs: Sequence[RunResult]) -> list[RunResult]:
    """Paper order: by model, GLUE before SuperGLUE, tasks as in the paper's Table 1, then the rest."""

    def key(run: RunResult):
        task = _PAPER_TASK_ORDER.index(run.task) if run.task in _PAPER_TASK_ORDER else len(_PAPER_TASK_ORDER)
        return (run.model, _BENCHMARK_ORDER.get(run.benchmark, 2), task, run.task)

    return sorted(runs, key=key)


def table_rows(runs: Sequence[RunResult]) -> list[dict]:
    """Table 1 rows (values in percent, unrounded)."""
    return [
        {
            "Model": run.model,
            "Benchmark": run.benchmark,
            "Task": run.task,
            "zeta": run.report["zeta_name"],
            "zeta (%)": _percent(run.report["zeta_mean"]),
            "VAR (%)": _percent(run.report["var"]),
            "CON (%)": _percent(run.report["con"]),
            "CCON (%)": _percent(run.report["ccon"]),
            "Ensemble (%)": _percent(_ensemble_zeta(run.report)),
            "Seeds": len(run.report["seeds"]),
            "N": run.report["n_examples"],
        }  # fmt: skip
        for run in sort_runs(runs)
    ]


def _ensemble_zeta(report: dict) -> float | None:
    """zeta of the majority vote of the seeds (the mean prediction for regression); None without references."""
    ensemble = report.get("ensemble") or {}
    return ensemble.get("majority_vote", ensemble.get("mean_prediction"))


def _cell(value, digits: int) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def to_markdown(rows: Sequence[dict], digits: int = 2) -> str:
    """Rows as a GitHub markdown table, percentages with ``digits`` decimals."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(_cell(row[column], digits) for column in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def to_csv(rows: Sequence[dict]) -> str:
    """Rows as CSV text, full precision."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({column: "" if row[column] is None else row[column] for column in COLUMNS} for row in rows)
    return buffer.getvalue()


def zeta_heatmap_data(runs: Sequence[RunResult]) -> tuple[list[str], list, np.ndarray]:
    """(row labels, seeds, normalised zeta matrix) for Figure 3; NaN where a run lacks a seed."""
    runs = sort_runs(runs)
    models = {run.model for run in runs}
    labels = [run.label if len(models) == 1 else f"{run.model} · {run.label}" for run in runs]
    seeds = sorted({seed for run in runs for seed in run.report["seeds"]}, key=lambda s: (isinstance(s, str), s))
    matrix = np.full((len(runs), len(seeds)), np.nan)
    for row, run in enumerate(runs):
        zeta = np.asarray(run.report["zeta"], dtype=float)
        low, high = zeta.min(), zeta.max()
        normalised = np.full_like(zeta, 0.5) if high == low else (zeta - low) / (high - low)
        for seed, value in zip(run.report["seeds"], normalised):
            matrix[row, seeds.index(seed)] = value
    return labels, seeds, matrix


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r, or None when either side is constant."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return None if denominator == 0 else float(dx @ dy) / denominator


def size_correlations(runs: Sequence[RunResult]) -> dict[str, dict]:
    """{model: {"n_tasks": k, "var": r, "con": r, "ccon": r}} for Figure 2, for models with >= 3 sized tasks."""
    by_model: dict[str, list[RunResult]] = {}
    for run in runs:
        if run.train_size is not None:
            by_model.setdefault(run.model, []).append(run)
    correlations = {}
    for model, model_runs in by_model.items():
        sizes = [run.train_size for run in model_runs]
        if len(model_runs) < _MIN_TASKS_FOR_CORRELATION or len(set(sizes)) < 2:
            continue
        correlations[model] = {"n_tasks": len(model_runs)} | {
            metric: pearson(sizes, [run.report[metric] for run in model_runs]) for metric in METRICS
        }
    return correlations
