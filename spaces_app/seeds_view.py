"""The Space's "how many seeds are enough" panel, on the run uploaded in the report page.

Every number comes from `seeds_needed`: for k = 2..S seeds, the spread of CON, CCON, VAR and mean ζ over subsets
of k seeds and the mean half-width of the metric's default interval (the variance-component t-interval), fitted as
half_width^2 = example_part + seed_part / k (times t_df(k) / z) and extrapolated beyond S; the smallest k whose
half-width reaches the user's target. Endpoint /seeds:

    status, table, figure, result = client.predict(
        [handle_file("seed-1.csv"), ...], None, "", "", "", "classification", "accuracy", 0.0, "1",
        "con", 0.005, 200, api_name="/seeds",
    )

>>> row = {"k": 3, "n_subsets": 1, "con_mean": 0.9, "con_sd": 0.0, "con_half_width": 0.01}
>>> seeds_table({"rows": [row], "fit": {"con": {}}}).iloc[0, 2:].tolist()
['0.9000 (0.0000)', '0.0100']
"""

from __future__ import annotations

import math

import gradio as gr
import pandas as pd

from seed_consistency_metric import TASKS, seeds_needed
from seed_consistency_metric.resampling import MIN_SEEDS_FOR_SEED_CI
from spaces_app.app import CONCURRENCY_LIMIT, _error, _escape, _load, metric_options
from spaces_app.assess_plots import NAMES, seeds_figure
from spaces_app.report_view import _number, empty_table

SEEDS_FAILED = "Could not count the seeds needed"
MAX_SEEDS_BOOTSTRAP = 1000
MIN_SEEDS_BOOTSTRAP = 20
N_SUBSETS = 10  # subsets of k seeds per k
SEEDS_BUDGET = 25 * 10**8  # resamples x subsets x seed pairs x (examples + EXAMPLE_OVERHEAD): ~10 s on 2 CPUs
EXAMPLE_OVERHEAD = 3000  # the per-resample cost that does not grow with the examples, in examples (measured)
TARGETS = [(name, key) for key, name in NAMES.items()]
BASE_COLUMNS = ("k", "subsets")

INTRO = f"""\
## How many seeds are enough?

For every number of seeds k from 2 to S, the spread of CON, CCON, VAR and mean ζ over subsets of k of the
uploaded seeds (mean and standard deviation over up to {N_SUBSETS} subsets) and, from k = {MIN_SEEDS_FOR_SEED_CI},
the half-width of their interval over seeds and examples (the report's t-interval). The half-width is fitted as
half_width² = example_part + seed_part / k, widened by the t quantile of k seeds, and extrapolated beyond S; the
status line gives the smallest k that reaches your target (in the metric's own unit: 0.005 is half a point of
CON). When the examples alone leave the interval wider than the target, no number of seeds reaches it: more test
examples are needed.
"""


def seeds_table(result: dict) -> pd.DataFrame:
    """One row per k: the number of subsets, then per metric mean (sd) over the subsets and the half-width."""
    metrics = [key for key in NAMES if key in result["fit"]]
    rows = [
        [row["k"], row["n_subsets"]]
        + [
            cell
            for key in metrics
            for cell in (
                f"{_number(row[f'{key}_mean'])} ({_number(row[f'{key}_sd'])})",
                "—" if row[f"{key}_half_width"] is None else _number(row[f"{key}_half_width"]),
            )
        ]
        for row in result["rows"]
    ]
    return pd.DataFrame(rows, columns=_columns(metrics))


def _columns(metrics) -> list[str]:
    return [*BASE_COLUMNS, *(f"{NAMES[key]} {part}" for key in metrics for part in ("mean (sd)", "half-width"))]


def _verdict(result: dict, metric: str) -> str:
    needed = result["seeds_needed"][metric]
    name, target = NAMES[metric], f"{needed['target']:g}"
    if needed["k"] is None:
        return f"**No number of seeds gets the {name} half-width to {target}**: {needed['from']}."
    where = (
        "measured on the uploaded seeds"
        if needed["from"] == "measured"
        else f"extrapolated from the fit beyond the {result['n_seeds']} uploaded seeds"
    )
    return f"**{needed['k']} seeds** give a {name} interval half-width of at most {target} ({where})."


def seeds_panel(
    files,
    reference_file,
    id_column: str,
    prediction_columns: str,
    reference_column: str,
    task: str,
    zeta: str,
    tolerance: float,
    pos_label: str,
    target_metric: str,
    target: float,
    n_bootstrap: float,
):
    """Seeds needed for the uploaded run: status (the smallest k for the target), table, figure, full result."""
    loaded = _load(files, reference_file, id_column, prediction_columns, reference_column, [])
    if task not in TASKS:
        raise _error(SEEDS_FAILED, f"unknown task {_escape(str(task))!r}; choose one of {', '.join(TASKS)}")
    if target_metric not in NAMES:
        raise _error(SEEDS_FAILED, f"unknown target metric {_escape(str(target_metric))!r}")
    n_seeds, n_examples = len(loaded.seeds), len(loaded.predictions[0])
    cost = (
        N_SUBSETS
        * (n_examples + EXAMPLE_OVERHEAD)
        * sum(math.comb(k, 2) for k in range(MIN_SEEDS_FOR_SEED_CI, n_seeds + 1))
    )
    requested = int(n_bootstrap or 0)
    allowed = min(requested, MAX_SEEDS_BOOTSTRAP, SEEDS_BUDGET // max(cost, 1))
    if allowed < min(MIN_SEEDS_BOOTSTRAP, requested):
        raise _error(
            SEEDS_FAILED,
            f"{n_seeds} seeds x {n_examples:,} examples is too large for this panel on a CPU Space; run "
            "seed_consistency_metric.seeds_needed(...) (or the CLI) on your machine",
        )
    try:
        result = seeds_needed(
            loaded.as_mapping(),
            loaded.references,
            target={target_metric: float(target)} if target is not None else None,
            n_bootstrap=allowed,
            n_subsets=N_SUBSETS,
            **metric_options(task, zeta, tolerance, pos_label, loaded.references),
        )
    except ValueError as err:
        raise _error(SEEDS_FAILED, _escape(str(err))) from None
    lines = [f"Intervals: {result['ci_method']}."]
    if allowed < min(requested, MAX_SEEDS_BOOTSTRAP):
        lines.append(f"{allowed} resamples per subset (fewer than asked, to keep it under ~10 s).")
    status = _verdict(result, target_metric) + "\n" + "\n".join(f"- {_escape(line)}" for line in lines)
    return status, seeds_table(result), seeds_figure(result, target_metric), result


def clear_seeds() -> tuple:
    """Empty values of the panel's outputs (table, figure, JSON)."""
    return empty_table(_columns(list(NAMES))), None, None


def seeds_failed() -> tuple:
    return ("**No seed count:** it failed; the message at the top right says why.", *clear_seeds())


def build_seeds_panel(upload_inputs: list, settings: list) -> None:
    """The panel's components and events, inside the report page's Blocks.

    upload_inputs: the page's files, reference file and the three column boxes; settings: task, ζ, tolerance and
    positive label. A new or cleared upload empties the panel.
    """
    gr.Markdown(INTRO, elem_id="seeds-intro")
    with gr.Row():
        target_metric = gr.Dropdown(choices=TARGETS, value="con", label="Target metric", elem_id="seeds-metric")
        target = gr.Number(value=0.005, minimum=0, label="Target interval half-width", elem_id="seeds-target")
        n_bootstrap = gr.Slider(
            MIN_SEEDS_BOOTSTRAP, MAX_SEEDS_BOOTSTRAP, value=200, step=10, label="Bootstrap resamples per subset"
        )
    run = gr.Button("How many seeds?", elem_id="seeds-run")
    status = gr.Markdown(elem_id="seeds-status")
    table = gr.Dataframe(
        value=clear_seeds()[0], label="Over subsets of k seeds", elem_id="seeds-table", interactive=False, wrap=False
    )
    figure = gr.Plot(elem_id="seeds-plot", format="png", show_label=False, elem_classes="figure")
    with gr.Accordion("Full result (JSON)", open=False):
        result = gr.JSON(label="Seeds needed")
    outputs = [table, figure, result]
    files, reference_file = upload_inputs[:2]
    gr.on(
        [files.change, reference_file.change],
        lambda: ("", *clear_seeds()),
        None,
        [status, *outputs],
        api_visibility="private",
    )
    run.click(
        seeds_panel,
        [*upload_inputs, *settings, target_metric, target, n_bootstrap],
        [status, *outputs],
        api_name="seeds",
        concurrency_limit=CONCURRENCY_LIMIT,
        show_progress_on=[table],
    ).failure(seeds_failed, None, [status, *outputs], api_visibility="private")
