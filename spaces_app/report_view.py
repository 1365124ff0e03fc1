"""Turn a seed_consistency report (the metric's dict) into the tables and files the Space shows.

Pure presentation: every number comes from the metric; nothing here recomputes CON, CCON or VAR.

>>> from seed_consistency_metric import seed_consistency
>>> report = seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, [1] * 5, pairwise=True, per_example=True)
>>> summary_table(report).loc[0, "CON"]
'0.2000'
>>> summary_table(report).loc[0, "ζ (ensemble)"]  # majority vote: 4 ties go to label 0, wrong
'0.2000'
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence

import pandas as pd

DIGITS = 4
SEED_COLUMNS_UP_TO = 12


def _number(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{DIGITS}f}"


def _with_ci(report: dict, key: str) -> str:
    """'0.8123 [0.7900, 0.8350]' when the report has a bootstrap CI for `key`, else the value alone."""
    interval = (report.get("ci") or {}).get(key)
    text = _number(report.get(key))
    if not interval or report.get(key) is None:
        return text
    return f"{text} [{_number(interval[0])}, {_number(interval[1])}]"


def summary_table(report: dict) -> pd.DataFrame:
    """One row in the paper's layout: zeta (mean over seeds) beside the zeta of the seeds' ensemble, VAR, CON, CCON,
    each with its CI if computed.

    Seeds, examples and task are in the status line above the table: without them the row fits a desktop window.
    """
    ensemble = report.get("ensemble") or {}
    single = ensemble.get("majority_vote", ensemble.get("mean_prediction"))
    values = [report["zeta_name"], _with_ci(report, "zeta_mean"), _number(single)]
    columns = list(SUMMARY_COLUMNS)
    if "mean_probabilities" in ensemble:  # with class probabilities: also the argmax of their mean
        columns.insert(3, "ζ (ensemble of probabilities)")
        values.append(_number(ensemble["mean_probabilities"]))
    values += [_with_ci(report, key) for key in ("var", "con", "ccon")]
    if report.get("soft_con") is not None:  # from class probabilities: 1 - TV distance, p(true class) products
        columns += ["soft CON", "soft CCON"]
        values += [_with_ci(report, "soft_con"), _with_ci(report, "soft_ccon")]
    return pd.DataFrame([values], columns=columns)


SUMMARY_COLUMNS = ("ζ", "ζ (mean)", "ζ (ensemble)", "VAR", "CON", "CCON")


def warnings_markdown(report: dict) -> str:
    """The metric's warnings (`report["warnings"]`: degenerate seeds, identical seeds...) as a Markdown list."""
    warnings = report.get("warnings") or []
    if not warnings:
        return ""
    lines = "\n".join(f"- {html.escape(str(w), quote=False)}" for w in warnings)
    return f"### ⚠️ Read these numbers with care\n{lines}"


PER_SEED_COLUMNS = ("Seed", "ζ", "CON with other seeds", "CCON with other seeds")
AGREEMENT = "share of seed pairs agreeing"  # per example: of the S(S-1)/2 seed pairs, the share predicting the same
N_CORRECT = "seeds correct"
EXAMPLE_COLUMNS = ("id", "reference", "majority", AGREEMENT, N_CORRECT)


def empty_table(columns: Sequence[str]) -> pd.DataFrame:
    """A table with `columns` and no rows, shown before the first report."""
    return pd.DataFrame(columns=list(columns))


def mean_with_other_seeds(matrix: Sequence[Sequence[float]] | None) -> list[float | None]:
    """Row means of a pairwise S x S matrix without its diagonal: one seed against all the others."""
    if matrix is None:
        return []
    size = len(matrix)
    return [sum(v for b, v in enumerate(row) if b != a) / (size - 1) for a, row in enumerate(matrix)]


def per_seed_table(report: dict) -> pd.DataFrame:
    """One row per seed: its zeta and its mean CON / CCON with the other seeds (needs pairwise=True)."""
    seeds = report["seeds"]
    zeta = report["zeta"] or [None] * len(seeds)
    con = mean_with_other_seeds(report.get("con_matrix")) or [None] * len(seeds)
    ccon = mean_with_other_seeds(report.get("ccon_matrix")) or [None] * len(seeds)
    columns = [[str(s) for s in seeds], *([_number(v) for v in values] for values in (zeta, con, ccon))]
    frame = pd.DataFrame(dict(zip(PER_SEED_COLUMNS, columns, strict=True)))
    return frame.rename(columns={"ζ": f"ζ ({report['zeta_name']})"})


def _cell(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def per_example_frame(report: dict, predictions: Sequence[Sequence], references, ids) -> pd.DataFrame:
    """Every example with its share of agreeing seed pairs, how many seeds got it right, and each seed's prediction."""
    per_example = report["per_example"]
    columns = [
        [_cell(i) for i in ids] if ids is not None else [str(k + 1) for k in range(report["n_examples"])],
        [_cell(r) for r in references] if references is not None else "",
        [_cell(m) for m in per_example["majority"]],
        per_example["agreement"],
        per_example["n_correct"] if per_example["n_correct"] is not None else "",
    ]
    frame = pd.DataFrame(dict(zip(EXAMPLE_COLUMNS, columns, strict=True)))
    for seed, row in zip(report["seeds"], predictions, strict=True):
        frame[f"seed {seed}"] = [_cell(v) for v in row]
    return frame


def unstable_examples(examples: pd.DataFrame, top_k: int) -> pd.DataFrame:
    """The `top_k` examples on which the seeds agree least (ties: fewest seeds correct first).

    With more than SEED_COLUMNS_UP_TO seeds, their predictions are shown in one column, in seed order.
    """
    keys = [AGREEMENT, N_CORRECT] if (examples[N_CORRECT] != "").all() else [AGREEMENT]
    shown = examples.sort_values(keys, kind="stable").head(max(int(top_k), 0)).copy()
    shown[AGREEMENT] = shown[AGREEMENT].map(_number)
    seed_columns = [c for c in shown.columns if c.startswith("seed ")]
    if len(seed_columns) > SEED_COLUMNS_UP_TO:
        joined = shown[seed_columns].apply(" | ".join, axis=1)
        shown = shown.drop(columns=seed_columns).assign(**{"predictions (seed order)": joined})
    return shown


def report_rows(report: dict) -> list[dict]:
    """The report as tidy rows (scope, seed_a, seed_b, metric, value, ci_low, ci_high) for report.csv."""
    ci = report.get("ci") or {}
    rows = [
        {
            "scope": "summary",
            "metric": key,
            "value": report[key],
            "ci_low": ci.get(key, [None])[0],
            "ci_high": ci.get(key, [None, None])[1],
        }
        for key in ("zeta_mean", "var", "con", "ccon")
        if report.get(key) is not None
    ]
    rows += [
        {"scope": "seed", "seed_a": seed, "metric": f"zeta_{report['zeta_name']}", "value": value}
        for seed, value in zip(report["seeds"], report["zeta"] or [], strict=False)
    ]
    for key in ("con_matrix", "ccon_matrix"):
        matrix = report.get(key) or []
        rows += [
            {
                "scope": "pair",
                "seed_a": report["seeds"][a],
                "seed_b": report["seeds"][b],
                "metric": key[:-7],
                "value": matrix[a][b],
            }
            for a in range(len(matrix))
            for b in range(a + 1, len(matrix))
        ]
    return rows


def report_csv(report: dict) -> str:
    """CSV text of `report_rows`, with the run's settings (task, zeta, seeds, examples) on every row."""
    buffer = io.StringIO()
    fields = [
        "scope",
        "seed_a",
        "seed_b",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "task",
        "zeta",
        "n_seeds",
        "n_examples",
    ]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    context = {
        "task": report["task"],
        "zeta": report["zeta_name"],
        "n_seeds": report["n_seeds"],
        "n_examples": report["n_examples"],
    }
    for row in report_rows(report):
        writer.writerow({**row, **context})
    return buffer.getvalue()
