"""Per-task differences between two models (the paper's RoBERTa-large vs Llama-3.2-3B-LoRA, now with tests):
for every task that two models both ran, `compare_seed_consistency` of their seeds' predictions.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from seed_consistency_metric.paper_report import load_runs
    >>> from seed_consistency_metric.predictions_io import write_seed_predictions
    >>> root = Path(tempfile.mkdtemp())
    >>> for model, rows in {"A": [[1, 1, 0, 0]] * 3, "B": [[1, 1, 1, 0]] * 3}.items():
    ...     for seed, row in zip((1, 2, 3), rows):
    ...         _ = write_seed_predictions(root / model / f"seed-{seed}" / "predictions.jsonl", row, references=[1] * 4)
    ...     _ = (root / model / "run_config.json").write_text(json.dumps({"model_label": model, "task": "T"}))
    >>> rows = model_differences(load_runs([root]), n_bootstrap=50)
    >>> rows[0]["A"], rows[0]["B"], rows[0]["Δ zeta (pp)"]
    ('A', 'B', 25.0)
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence

from ..predictions_io import align_runs, read_run_dir
from .runs import RunResult

METRICS = {"zeta_mean": "zeta", "var": "VAR", "con": "CON", "ccon": "CCON"}
COLUMNS = ("Task", "A", "B", "zeta", *(f"Δ {name} (pp)" for name in METRICS.values()),
           *(f"{name} CI" for name in METRICS.values()), *(f"{name} p" for name in METRICS.values()))  # fmt: skip


def model_differences(
    runs: Sequence[RunResult],
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    random_state: int = 0,
    notes: list[str] | None = None,
) -> list[dict]:
    """One row per task and pair of models (B minus A, in percentage points), with intervals and p-values.

    A pair whose runs are not on the same examples (or used different zetas) is left out, with a line in `notes`.
    """
    from .. import compare_seed_consistency

    by_task: dict[str, list[RunResult]] = {}
    for run in runs:
        by_task.setdefault(run.label, []).append(run)
    rows = []
    for task, task_runs in by_task.items():
        for run_a, run_b in itertools.combinations(task_runs, 2):
            if run_a.model == run_b.model:
                continue
            zeta = run_a.report["zeta_name"]
            try:
                if run_b.report["zeta_name"] != zeta:
                    raise ValueError(f"{run_a.model} used zeta {zeta} but {run_b.model} {run_b.report['zeta_name']}")
                names = (str(run_a.run_dir), str(run_b.run_dir))
                pair = align_runs(read_run_dir(run_a.run_dir), read_run_dir(run_b.run_dir), names)
                result = compare_seed_consistency(
                    pair[0].as_mapping(), pair[1].as_mapping(), pair[0].references, zeta=zeta,
                    n_bootstrap=n_bootstrap, confidence_level=confidence_level, random_state=random_state,
                )  # fmt: skip
            except ValueError as error:
                if notes is not None:
                    notes.append(f"{task}: {run_a.model} vs {run_b.model} not compared: {error}")
                continue
            row = {"Task": task, "A": run_a.model, "B": run_b.model, "zeta": zeta}
            for key, name in METRICS.items():
                row[f"Δ {name} (pp)"] = 100 * result["difference"][key]
                row[f"{name} CI"] = [100 * v for v in result["ci"][key]]
                row[f"{name} p"] = result["p_value"][key]
            rows.append(row)
    return rows


def _cell(value, digits: int) -> str:
    if isinstance(value, list):
        return f"[{value[0]:.{digits}f}, {value[1]:.{digits}f}]"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def to_markdown(rows: Sequence[dict], digits: int = 2) -> str:
    """Rows as a markdown table: per metric the difference (pp) with its interval, then the p-values."""
    header = ["Task", "A", "B", "zeta"] + [f"Δ {n} (pp) [CI]" for n in METRICS.values()]
    header += [f"p ({n})" for n in METRICS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["Task"], row["A"], row["B"], row["zeta"]]
        cells += [f"{_cell(row[f'Δ {n} (pp)'], digits)} {_cell(row[f'{n} CI'], digits)}" for n in METRICS.values()]
        cells += [f"{row[f'{n} p']:.3f}" for n in METRICS.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_csv(rows: Sequence[dict]) -> str:
    """Rows as CSV, full precision; an interval as two columns (low, high)."""
    buffer = io.StringIO()
    fields = [c for c in COLUMNS if not c.endswith(" CI")]
    fields += [f"{n} CI {end}" for n in METRICS.values() for end in ("low", "high")]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = {k: v for k, v in row.items() if not k.endswith(" CI")}
        flat.update(
            {f"{n} CI {end}": row[f"{n} CI"][i] for n in METRICS.values() for i, end in enumerate(("low", "high"))}
        )
        writer.writerow(flat)
    return buffer.getvalue()
