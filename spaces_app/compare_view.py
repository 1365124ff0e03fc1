"""The Space's comparison page: two runs (A, B) on the same examples, the differences B minus A with intervals.

Every number comes from `compare_seed_consistency`; this module reads the two uploads, matches their examples
(`predictions_io.align_runs`) and lays the result out. Built by `build_compare_view()` inside the app's Blocks; the
endpoint is /compare:

    status, table, figure, result = client.predict(
        [handle_file("a/seed-1.csv"), ...], [handle_file("b/seed-1.csv"), ...], None, "", "", "",
        "classification", "accuracy", 0.0, "1", False, 1000, 0.95, api_name="/compare",
    )

>>> comparison_table({"a": {"con": 0.9, "ci": {"con": [0.8, 0.95]}}, "b": {"con": 0.8, "ci": {}},
...                   "difference": {"con": -0.1}, "ci": {"con": [-0.2, 0.0]}, "p_value": {"con": 0.04}}).iloc[0, 3]
'-0.1000 [-0.2000, 0.0000]'
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from seed_consistency_metric import TASKS, compare_seed_consistency
from seed_consistency_metric.predictions_io import UPLOAD_SUFFIXES, align_runs
from seed_consistency_metric.resampling import MIN_SEEDS_FOR_SEED_CI
from spaces_app.app import (
    BOOTSTRAP_BUDGET,
    CONCURRENCY_LIMIT,
    MAX_BOOTSTRAP,
    READ_FAILED,
    ZETA_CHOICES,
    _error,
    _escape,
    _load,
    inspect_upload,
    metric_options,
    zeta_dropdown,
)
from spaces_app.assess_plots import difference_figure
from spaces_app.report_view import _number, _with_ci, empty_table

METRICS = {"con": "CON", "ccon": "CCON", "var": "VAR", "zeta_mean": "ζ (mean)"}
COMPARE_FAILED = "Could not compare A and B"
MIN_COLUMN_PX = 320  # narrower screens stack the columns
COMPARE_COLUMNS = ("Metric", "A", "B", "B − A", "p-value (B − A = 0)")

INTRO = f"""\
## Compare two runs

Is recipe B more stable than recipe A? Upload the predictions of **A** (several seeds) and of **B** (several
seeds) on the **same examples**, in any of the formats of the report page. You get CON, CCON, VAR and mean ζ
of each, and the differences **B − A** with their bootstrap intervals and two-sided p-values. Each resample draws
the examples once for both runs (they are the same examples) and the seeds of each run independently, or the
same seeds for both with *Paired seeds* (seed 42 of A and seed 42 of B share their seed: data order,
initialisation). The intervals cover the population of seeds and of test examples; with fewer than
{MIN_SEEDS_FOR_SEED_CI} seeds in a run only the examples are resampled (the status line says so). VAR's p-value
comes from a permutation test of the seeds' ζ: in simulation it caught a doubled seed spread in 1 of 10
comparisons at 5 seeds per run and 1 of 4 at 10; with 5 paired seeds it cannot go below 0.0625.
"""


def comparison_table(result: dict) -> pd.DataFrame:
    """One row per metric: A and B with their intervals, B - A with its interval, and the p-value."""
    difference = {**result["difference"], "ci": result["ci"]}
    rows = [
        [
            name,
            _with_ci(result["a"], key),
            _with_ci(result["b"], key),
            _with_ci(difference, key),
            _number(result["p_value"].get(key)),
        ]
        for key, name in METRICS.items()
        if result["difference"].get(key) is not None
    ]
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _load_run(name: str, files, reference_file, columns):
    """One run's upload; an unreadable one is a pop-up that names the run (A or B), the file and the row."""
    try:
        return _load(files, reference_file, *columns, [])
    except gr.Error as err:
        raise _error(f"Could not read run {name}", err.message.removeprefix(READ_FAILED + ": ")) from None


def compare_runs(
    files_a,
    files_b,
    reference_file,
    id_column: str,
    prediction_columns: str,
    reference_column: str,
    task: str,
    zeta: str,
    tolerance: float,
    pos_label: str,
    paired_seeds: bool,
    n_bootstrap: float,
    confidence_level: float,
):
    """The comparison of runs A and B: status, the table of differences, their figure and the full result."""
    columns = (id_column, prediction_columns, reference_column)
    run_a = _load_run("A", files_a, reference_file, columns)
    run_b = _load_run("B", files_b, reference_file, columns)
    if task not in TASKS:
        raise _error(COMPARE_FAILED, f"unknown task {_escape(str(task))!r}; choose one of {', '.join(TASKS)}")
    try:
        run_a, run_b = align_runs(run_a, run_b)
    except ValueError as err:
        raise _error(COMPARE_FAILED, _escape(str(err))) from None
    cells = (len(run_a.seeds) + len(run_b.seeds)) * len(run_a.predictions[0])
    requested = int(n_bootstrap or 0)
    n_bootstrap = max(1, int(min(requested, MAX_BOOTSTRAP, BOOTSTRAP_BUDGET // cells)))
    fewest = min(len(run_a.seeds), len(run_b.seeds))
    resample = "both" if fewest >= MIN_SEEDS_FOR_SEED_CI else "examples"
    try:
        result = compare_seed_consistency(
            run_a.as_mapping(),
            run_b.as_mapping(),
            run_a.references,
            paired_seeds=bool(paired_seeds),
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            resample=resample,
            **metric_options(task, zeta, tolerance, pos_label, run_a.references),
        )
    except ValueError as err:
        raise _error(COMPARE_FAILED, _escape(str(err))) from None
    lines = [f"Intervals: {result['ci_method']}."]
    if resample == "examples":
        lines.append(
            f"A run has only {fewest} seeds: a seed-level interval needs {MIN_SEEDS_FOR_SEED_CI}, so only the "
            "examples are resampled; the intervals leave out the seed-to-seed variation."
        )
    if n_bootstrap < min(requested, MAX_BOOTSTRAP):
        lines.append(f"{n_bootstrap} resamples (fewer than asked, to keep it under ~10 s for {cells:,} predictions).")
    status = (  # what was read from each upload is shown under it
        f"**A: {len(run_a.seeds)} seeds, B: {len(run_b.seeds)} seeds, {result['n_examples']} examples**\n"
        + "\n".join(f"- {_escape(line)}" for line in lines)
    )
    return status, comparison_table(result), difference_figure(result), result


def clear_comparison() -> tuple:
    """Empty values of the comparison outputs (table, figure, JSON): nothing from an earlier upload stays."""
    return empty_table(COMPARE_COLUMNS), None, None


def comparison_failed() -> tuple:
    return ("**No comparison:** it failed; the message at the top right says why.", *clear_comparison())


def _inspect_run(name: str):
    def inspect(files, reference_file, id_column, prediction_columns, reference_column) -> str:
        text = inspect_upload(files, reference_file, id_column, prediction_columns, reference_column)
        return f"**Run {name}.** {text}" if text else ""

    return inspect


def _run_column(name: str) -> tuple[gr.File, gr.Markdown]:
    """One run's column: its upload box and, under it, what was found in the upload (`_inspect_run`)."""
    with gr.Column(min_width=MIN_COLUMN_PX):
        files = gr.File(
            label=f"Run {name}: predictions of its seeds",
            file_count="multiple",
            file_types=list(UPLOAD_SUFFIXES),
            elem_id=f"compare-files-{name.lower()}",
        )
        found = gr.Markdown(elem_id=f"compare-found-{name.lower()}")
    return files, found


def build_compare_view() -> None:
    """The comparison page's components and events; call inside a Blocks context (or a `demo.route` page)."""
    gr.Markdown(INTRO)
    with gr.Row():  # side by side on a wide screen, one above the other on a phone
        runs = {name: _run_column(name) for name in ("A", "B")}
    (files_a, _), (files_b, _) = runs.values()
    with gr.Row():
        with gr.Column(min_width=MIN_COLUMN_PX):
            reference_file = gr.File(
                label="References for both (optional when the files have a label column)",
                file_types=[s for s in UPLOAD_SUFFIXES if s != ".zip"],
                elem_id="compare-reference-file",
            )
            with gr.Accordion("Column names (optional, detected automatically; the same for A and B)", open=False):
                id_column = gr.Textbox(label="id column", placeholder="id")
                prediction_columns = gr.Textbox(label="prediction column(s), comma-separated", placeholder="prediction")
                reference_column = gr.Textbox(label="reference column", placeholder="label")
        with gr.Column():
            task = gr.Dropdown(choices=list(TASKS), value="classification", label="Task")
            zeta = gr.Dropdown(
                choices=ZETA_CHOICES["classification"], value="accuracy", label="ζ (metric)", allow_custom_value=True
            )
            tolerance = gr.Number(value=0.0, label="Tolerance (regression: |a - b| <= tolerance agrees)")
            pos_label = gr.Textbox(value="1", label="Positive label (for ζ = f1)")
            paired = gr.Checkbox(value=False, label="Paired seeds (A and B were trained with the same seeds)")
            n_bootstrap = gr.Slider(100, MAX_BOOTSTRAP, value=1000, step=100, label="Bootstrap resamples")
            confidence = gr.Slider(0.5, 0.99, value=0.95, step=0.01, label="Confidence level")
            run = gr.Button("Compare A and B", variant="primary", elem_id="compare")
    status = gr.Markdown(elem_id="compare-status")
    table = gr.Dataframe(
        value=empty_table(COMPARE_COLUMNS),
        label="A, B and B − A (interval in brackets)",
        elem_id="compare-table",
        interactive=False,
        wrap=False,
    )
    figure = gr.Plot(elem_id="compare-plot", format="png", show_label=False, elem_classes="figure")
    with gr.Accordion("Full comparison (JSON)", open=False):
        result = gr.JSON(label="Comparison")

    columns = [id_column, prediction_columns, reference_column]
    outputs = [table, figure, result]
    task.change(zeta_dropdown, task, zeta, api_visibility="private")
    changes = [files_a.change, files_b.change, reference_file.change]
    gr.on(changes, clear_comparison, None, outputs, api_visibility="private")
    gr.on(changes, lambda: "", None, status, api_visibility="private")
    for name, (files, found) in runs.items():
        gr.on(
            [files.change, reference_file.change],
            _inspect_run(name),
            [files, reference_file, *columns],
            found,
            api_visibility="private",
        )
    run.click(
        compare_runs,
        [files_a, files_b, reference_file, *columns, task, zeta, tolerance, pos_label, paired, n_bootstrap, confidence],
        [status, *outputs],
        api_name="compare",
        concurrency_limit=CONCURRENCY_LIMIT,
        show_progress_on=[table],
    ).failure(comparison_failed, None, [status, *outputs], api_visibility="private")
