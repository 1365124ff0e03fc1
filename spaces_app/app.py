"""Seed consistency Space: upload the predictions of several seeds, get CON, CCON, VAR and where seeds disagree.

Run locally with ``python spaces_app/app.py`` (or ``python app.py`` in the Space). From a script:

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    status, warnings, summary, *_ = client.predict(
        [handle_file("seed-42.csv"), handle_file("seed-52.csv")], None, "", "", "", "classification",
        "accuracy", 0.0, "1", 1000, 20, api_name="/report",
    )

The "How many seeds are enough?" panel below the report (/seeds) is in `seeds_view`, the "Compare two runs" page
(/compare) in `compare_view`.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from seed_consistency_metric import DEFAULT_ZETA, TASKS, ZETAS_BY_TASK
from seed_consistency_metric.predictions_io import (
    MAX_EXAMPLES,
    MAX_FILE_BYTES,
    MAX_SEEDS,
    UPLOAD_SUFFIXES,
    load_uploaded_predictions,
)
from seed_consistency_metric.resampling import MIN_SEEDS_FOR_SEED_CI
from spaces_app.plots import pairwise_figure, seed_metric_figure
from spaces_app.report_view import (
    EXAMPLE_COLUMNS,
    PER_SEED_COLUMNS,
    SUMMARY_COLUMNS,
    empty_table,
    per_example_frame,
    per_seed_table,
    report_csv,
    summary_table,
    unstable_examples,
    warnings_markdown,
)

ZETA_CHOICES = {task: list(zetas) for task, zetas in ZETAS_BY_TASK.items()}
MAX_BOOTSTRAP = 2000
BOOTSTRAP_BUDGET = 10**9  # resamples x seeds x examples; keeps a report on a CPU Space under ~10 s
REPORTS_DIR = Path(tempfile.gettempdir()) / "seed-consistency-reports"
REPORT_TTL_S = 3600  # downloads (and Gradio's copies of uploads) are kept for an hour
DOWNLOAD_NAMES = ("seed_consistency_report.json", "seed_consistency_report.csv", "seed_consistency_examples.csv")
CONCURRENCY_LIMIT = 2  # reports computed at once; further requests wait in the queue
QUEUE_SIZE = 200
REPORT_PAGE, COMPARE_PAGE = "Report", "Compare two runs"  # the pages in the navigation bar

INTRO = f"""\
# Seed consistency

How much do random seeds change your fine-tuned model? Upload the predictions of **two or more seeds** on the
same examples and get the macro and micro effects of Bui, Savova & Wang, *Assessing the Macro and Micro Effects
of Random Seeds on Fine-Tuning LLMs*:
**VAR** (std of ζ over seeds), **CON** (share of examples on which two seeds predict the same, averaged over all
pairs) and **CCON** (share on which both are also correct).

Accepted: one file per seed ({", ".join(s for s in UPLOAD_SUFFIXES if s != ".zip")}; the seed is read from the
file name, e.g. `seed-42.csv`), one file with a column per seed (`seed_42, seed_52, ...`) or a `seed` column,
or a zipped run directory of `MultiSeedTrainer` (`seed-42/predictions.jsonl`, ...). Columns `id`, `label` and
`prediction` are detected; rows are matched by id when there is one. Limits: {MAX_FILE_BYTES // 2**20} MiB per
file, {MAX_SEEDS} seeds, {MAX_EXAMPLES:,} examples.
"""

FIGURE_NOTES = """\
**Heatmaps.** Colours span the range of the values between seeds (each colour bar gives it), not 0 to 1: between
seeds the values often sit within a few points of each other. The grey diagonal is a seed with itself: CON is
always 1 there, and the CCON diagonal is the seed's own share of correct examples (its accuracy). In the seed
figure, each column (ζ, mean CON and CCON with the other seeds) is coloured on its own scale, lowest to highest.
"""
EXAMPLE_NOTES = """\
**share of seed pairs agreeing**: of the S(S-1)/2 pairs of seeds, the share that predict the same for this example
(1: all seeds agree). It is not the share of seeds that agree with the majority: with 10 seeds split 7 to 3, 24 of
the 45 pairs agree (0.533) while 70% of the seeds give the majority label. Its mean over all examples is CON.
**seeds correct**: how many of the S seeds predict the reference.
"""
CSS = """
#summary-table td, #summary-table th { white-space: nowrap; }
#warnings:not(:empty) { border-left: 4px solid #f59e0b; background: #fffbeb; padding: 0 12px; }
@media (max-width: 640px) {  /* phones: figures keep a readable size and scroll sideways */
  .figure { overflow-x: auto !important; }
  .figure .matplotlib { display: block; }
  .figure img { width: 640px; max-width: none; }
}
"""


READ_FAILED = "Could not read the upload"
COMPUTE_FAILED = "Could not compute the report"


def _error(title: str, message: str) -> gr.Error:
    """An error pop-up that says what failed: Gradio 6 heads every pop-up "Error", so the title opens the message."""
    return gr.Error(f"{title}: {message}", title=title, duration=None, print_exception=False)


def _escape(text: str) -> str:
    """User-supplied text (file and column names) shown in the page as text, never as HTML."""
    return html.escape(text, quote=False)


def _columns(text: str) -> list[str] | None:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    return names or None


def _paths(files: Any) -> list[str]:
    if not files:
        raise _error("No predictions uploaded", "upload the prediction files of at least two seeds first.")
    return [str(f) for f in (files if isinstance(files, list) else [files])]


def _pos_label(text: str, references: list | None) -> Any:
    """The F1 positive label typed in the box, as the references' type (1 for int labels, 'yes' for strings)."""
    text = (text or "1").strip()
    if references and not isinstance(references[0], str):
        try:
            return int(text)
        except ValueError:
            raise _error("Bad positive label", f"{_escape(text)!r} is not a number, but the labels are.") from None
    return text


def metric_options(task: str, zeta: str, tolerance: float, pos_label: str, references: list | None) -> dict:
    """The metric keywords every view passes on from the page's task, zeta, tolerance and positive-label boxes."""
    return {
        "task": task,
        "zeta": zeta or DEFAULT_ZETA[task],
        "tolerance": float(tolerance or 0.0),
        "pos_label": _pos_label(pos_label, references),
    }


def _load(files, reference_file, id_column, prediction_columns, reference_column, notes: list[str]):
    try:
        return load_uploaded_predictions(
            _paths(files),
            reference_file or None,
            id_column=(id_column or "").strip() or None,
            prediction_columns=_columns(prediction_columns),
            reference_column=(reference_column or "").strip() or None,
            notes=notes,
        )
    except ValueError as err:
        raise _error(READ_FAILED, _escape(str(err))) from None


def inspect_upload(files, reference_file, id_column, prediction_columns, reference_column) -> str:
    """What was found in the upload: seeds, examples and which columns were used."""
    if not files:
        return ""
    notes: list[str] = []
    try:
        loaded = _load(files, reference_file, id_column, prediction_columns, reference_column, notes)
    except gr.Error as err:
        return f"**{READ_FAILED}:** {err.message.removeprefix(READ_FAILED + ': ')}"
    lines = "\n".join(f"- {_escape(n)}" for n in notes)
    return f"**Found {len(loaded.seeds)} seeds** ({', '.join(map(str, loaded.seeds))}):\n{lines}"


def _write_downloads(report: dict, examples) -> list[str]:
    """report.json, report.csv and examples.csv in a fresh folder; folders older than REPORT_TTL_S are removed."""
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    for old in REPORTS_DIR.iterdir():
        if time.time() - old.stat().st_mtime > REPORT_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=REPORTS_DIR))
    paths = [folder / name for name in DOWNLOAD_NAMES]
    paths[0].write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    paths[1].write_text(report_csv(report), encoding="utf-8")
    examples.to_csv(paths[2], index=False)
    return [str(p) for p in paths]


def compute_report(
    files,
    reference_file,
    id_column: str,
    prediction_columns: str,
    reference_column: str,
    task: str,
    zeta: str,
    tolerance: float,
    pos_label: str,
    n_bootstrap: float,
    top_k: float,
):
    """The seed-consistency report of the uploaded predictions: tables, figures and JSON / CSV files."""
    notes: list[str] = []
    loaded = _load(files, reference_file, id_column, prediction_columns, reference_column, notes)
    if task not in TASKS:
        raise _error(COMPUTE_FAILED, f"unknown task {_escape(str(task))!r}; choose one of {', '.join(TASKS)}.")
    cells = len(loaded.predictions) * len(loaded.predictions[0])
    requested_bootstrap = n_bootstrap
    n_bootstrap = int(min(max(n_bootstrap or 0, 0), MAX_BOOTSTRAP, BOOTSTRAP_BUDGET // cells))
    resample = "both" if len(loaded.seeds) >= MIN_SEEDS_FOR_SEED_CI else "examples"  # seed-level CIs need 3 seeds
    try:
        report = loaded.report(  # with the run's class probabilities when it has them (soft CON/CCON, ensemble)
            **metric_options(task, zeta, tolerance, pos_label, loaded.references),
            pairwise=True,
            per_example=True,
            n_bootstrap=n_bootstrap,
            resample=resample,
        )
    except ValueError as err:
        raise _error(COMPUTE_FAILED, _escape(str(err))) from None
    examples = per_example_frame(report, loaded.predictions, loaded.references, loaded.ids)
    downloads = _write_downloads({**report, "ids": loaded.ids, "notes": notes}, examples)
    ci_note = f"; 95% bootstrap CIs from {n_bootstrap} resamples" if n_bootstrap else ""
    if n_bootstrap < min(int(requested_bootstrap or 0), MAX_BOOTSTRAP):
        ci_note += f" (fewer than asked, to keep the report under ~10 s for {cells:,} predictions)"
    if n_bootstrap:
        notes.insert(0, f"Intervals: {report['ci_method']}.")
    if n_bootstrap and resample == "examples":
        notes.insert(
            1,
            f"Only {len(loaded.seeds)} seeds: the intervals resample the examples alone and leave out "
            f"the seed-to-seed variation (an interval over seeds needs {MIN_SEEDS_FOR_SEED_CI} seeds).",
        )
    status = (
        f"**{report['n_seeds']} seeds x {report['n_examples']} examples**, {report['task']} "
        f"({report['n_pairs']} seed pairs{ci_note})\n" + "\n".join(f"- {_escape(n)}" for n in notes)
    )
    return (
        status,
        warnings_markdown(report),
        summary_table(report),
        per_seed_table(report),
        pairwise_figure(report),
        seed_metric_figure(report),
        unstable_examples(examples, top_k),
        report,
        downloads,
    )


def clear_report() -> tuple:
    """Empty values of every report output (warnings, summary, per seed, the figures, examples, JSON, downloads)."""
    return (
        "",
        empty_table(SUMMARY_COLUMNS),
        empty_table(PER_SEED_COLUMNS),
        None,
        None,
        empty_table(EXAMPLE_COLUMNS),
        None,
        None,
    )


def report_failed() -> tuple:
    """After a failed Compute: no report on the page (the pop-up says why), so nothing stale can be downloaded."""
    return ("**No report:** computing it failed; the message at the top right says why.", *clear_report())


def zeta_dropdown(task: str) -> gr.Dropdown:
    return gr.Dropdown(choices=ZETA_CHOICES[task], value=DEFAULT_ZETA[task])


def build_demo() -> gr.Blocks:
    """The Space's page; its report is also the named API endpoint /report (see the module docstring)."""
    from spaces_app.compare_view import build_compare_view  # both views build on this module's readers
    from spaces_app.seeds_view import build_seeds_panel

    with gr.Blocks(title="Seed consistency", delete_cache=(REPORT_TTL_S, REPORT_TTL_S)) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=3):
                files = gr.File(
                    label="Predictions (one file per seed, a file with a column per seed, or a zipped run dir)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    elem_id="prediction-files",
                )
                reference_file = gr.File(
                    label="References (optional when the prediction files have a label column)",
                    file_types=[s for s in UPLOAD_SUFFIXES if s != ".zip"],
                    elem_id="reference-file",
                )
                with gr.Accordion("Column names (optional, detected automatically)", open=False):
                    id_column = gr.Textbox(label="id column", placeholder="id")
                    prediction_columns = gr.Textbox(
                        label="prediction column(s), comma-separated", placeholder="prediction"
                    )
                    reference_column = gr.Textbox(label="reference column", placeholder="label")
            with gr.Column(scale=2):
                task = gr.Dropdown(choices=list(TASKS), value="classification", label="Task")
                zeta = gr.Dropdown(  # any value passes to the metric, which names the valid ones for the task
                    choices=ZETA_CHOICES["classification"],
                    value="accuracy",
                    label="ζ (metric)",
                    allow_custom_value=True,
                )
                tolerance = gr.Number(value=0.0, label="Tolerance (regression: |a - b| <= tolerance agrees)")
                pos_label = gr.Textbox(value="1", label="Positive label (for ζ = f1)")
                n_bootstrap = gr.Slider(0, MAX_BOOTSTRAP, value=1000, step=100, label="Bootstrap resamples (CIs)")
                top_k = gr.Slider(5, 200, value=20, step=5, label="Unstable examples to show")
                run = gr.Button("Compute report", variant="primary", elem_id="compute")
        status = gr.Markdown(label="Status", show_label=False, elem_id="status")
        warnings = gr.Markdown(show_label=False, elem_id="warnings")  # the metric's warnings, beside the summary
        summary = gr.Dataframe(
            value=empty_table(SUMMARY_COLUMNS),
            label="Summary (95% bootstrap CI in brackets)",
            elem_id="summary-table",
            interactive=False,
            wrap=False,  # a number never breaks over lines; a narrow screen scrolls the table sideways
        )
        per_seed = gr.Dataframe(
            value=empty_table(PER_SEED_COLUMNS), label="Per seed", elem_id="per-seed-table", interactive=False
        )
        pairwise_plot = gr.Plot(elem_id="pairwise-plot", format="png", show_label=False, elem_classes="figure")
        seed_metric_plot = gr.Plot(elem_id="seed-metric-plot", format="png", show_label=False, elem_classes="figure")
        gr.Markdown(FIGURE_NOTES, elem_id="figure-notes")
        unstable = gr.Dataframe(
            value=empty_table(EXAMPLE_COLUMNS),
            label="Most unstable examples",
            elem_id="unstable-table",
            interactive=False,
        )
        gr.Markdown(EXAMPLE_NOTES, elem_id="example-notes")
        downloads = gr.File(
            label="Download the report (JSON, CSV, per-example CSV)", file_count="multiple", elem_id="downloads"
        )
        with gr.Accordion("Full report (JSON)", open=False):
            report_json = gr.JSON(label="Report")

        upload_inputs = [files, reference_file, id_column, prediction_columns, reference_column]
        report_outputs = [
            warnings,
            summary,
            per_seed,
            pairwise_plot,
            seed_metric_plot,
            unstable,
            report_json,
            downloads,
        ]
        task.change(zeta_dropdown, task, zeta, api_visibility="private")
        # a new or cleared upload empties the report of the previous one
        gr.on([files.change, reference_file.change], clear_report, None, report_outputs, api_visibility="private")
        gr.on([files.change, reference_file.change], inspect_upload, upload_inputs, status, api_name="inspect")
        run.click(
            compute_report,
            [*upload_inputs, task, zeta, tolerance, pos_label, n_bootstrap, top_k],
            [status, *report_outputs],
            api_name="report",
            concurrency_limit=CONCURRENCY_LIMIT,
            show_progress_on=[summary],
        ).failure(report_failed, None, [status, *report_outputs], api_visibility="private")
        build_seeds_panel(upload_inputs, [task, zeta, tolerance, pos_label])  # endpoint /seeds
        gr.Navbar(main_page_name=REPORT_PAGE)
    with demo.route(COMPARE_PAGE, "/compare"):
        gr.Navbar(main_page_name=REPORT_PAGE)
        build_compare_view()  # endpoint /compare
    demo.queue(max_size=QUEUE_SIZE)
    return demo


def launch(demo: gr.Blocks | None = None, **kwargs) -> gr.Blocks:
    """Launch with the Space's limits (upload size); keyword arguments go to `gr.Blocks.launch`."""
    demo = demo or build_demo()
    demo.launch(max_file_size=MAX_FILE_BYTES, css=CSS, **kwargs)
    return demo


if __name__ == "__main__":
    launch()
