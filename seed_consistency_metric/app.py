"""Gradio 6 widget of the seed_consistency metric Space (evaluate's own widget uses the Gradio 3 API).

Each table row is one example: the predictions of every seed, comma-separated, and the reference.
Run locally: python seed_consistency_metric/app.py
"""

import functools
import importlib
import os
from pathlib import Path

import evaluate
import gradio as gr

SCRIPT = str(Path(__file__).resolve().parent / "seed_consistency.py")


@functools.cache
def _metric(task: str) -> evaluate.EvaluationModule:
    """The metric with the config (task type) chosen in the page, loaded once per task."""
    return evaluate.load(SCRIPT, task)


# the script imports its sibling modules relatively: read its constants through the module evaluate loaded
ZETAS_BY_TASK = importlib.import_module(type(_metric("classification")).__module__).ZETAS_BY_TASK
TASK_ZETAS = {task: list(zetas) for task, zetas in ZETAS_BY_TASK.items() if task != "token_classification"}
EXAMPLE = [["1, 1", "1"], ["1, 0", "1"], ["1, 0", "1"], ["0, 1", "1"], ["0, 1", "1"]]


def _parse(value: str, task: str):
    text = str(value).strip()
    if task == "regression":
        return float(text)
    if task == "classification":
        return int(text) if text.lstrip("-").isdigit() else text
    return text


def compute(table, task: str = "classification", zeta: str = "accuracy", n_bootstrap: float = 0) -> dict:
    """Seed consistency of a table of (comma-separated seed predictions, reference) rows."""
    rows = table.values.tolist() if hasattr(table, "values") else list(table)
    rows = [row for row in rows if any(str(cell).strip() for cell in row)]
    if not rows:
        raise gr.Error("The table is empty: add one row per example.", title="Empty table")
    try:
        predictions = [[_parse(cell, task) for cell in str(row[0]).split(",")] for row in rows]
        references = [_parse(row[1], task) for row in rows]
    except ValueError as error:
        raise gr.Error(f"Could not read the table: {error}", title="Could not read the table") from None
    try:
        return _metric(task).compute(
            predictions=predictions, references=references, zeta=zeta, n_bootstrap=int(n_bootstrap)
        )
    except ValueError as error:  # Gradio 6 heads every pop-up "Error": the message says what failed
        raise gr.Error(f"Could not compute: {error}", title="Could not compute") from None


def build_demo() -> gr.Blocks:
    """The widget: an editable table, task/zeta choices and the JSON result."""
    readme = (Path(__file__).resolve().parent / "README.md").read_text(encoding="utf-8").split("---", 2)[-1]
    with gr.Blocks(title="Seed consistency") as demo:
        gr.Markdown("# Seed consistency: CON, CCON and VAR across fine-tuning seeds")
        table = gr.Dataframe(
            value=EXAMPLE,
            headers=["predictions (one per seed, comma-separated)", "reference"],
            column_count=(2, "fixed"),
        )
        with gr.Row():
            task = gr.Dropdown(list(TASK_ZETAS), value="classification", label="task")
            zeta = gr.Dropdown(TASK_ZETAS["classification"], value="accuracy", label="zeta")
            n_bootstrap = gr.Number(value=0, precision=0, minimum=0, maximum=2000, label="bootstrap resamples")
        button = gr.Button("Compute", variant="primary")
        result = gr.JSON(label="result")
        task.change(lambda t: gr.Dropdown(choices=TASK_ZETAS[t], value=TASK_ZETAS[t][0]), task, zeta)
        button.click(compute, [table, task, zeta, n_bootstrap], result, api_name="compute")
        gr.Markdown(readme)
    return demo


if __name__ == "__main__":
    build_demo().launch(server_name=os.getenv("GRADIO_SERVER_NAME", "127.0.0.1"))
