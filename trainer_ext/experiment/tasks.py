"""The paper's GLUE / SuperGLUE tasks: names, label sets, zeta, and how one example becomes model input.

Every task is described in the Hub schema of ``nyu-mll/glue`` / ``aps/super_glue``; the local-file readers in
:mod:`trainer_ext.experiment.loaders` convert the original tsv/jsonl files into that same schema, so one
formatter per task serves both sources.

Example:
    >>> spec = get_task("cola")
    >>> spec.display_name, spec.zeta, spec.label_names
    ('CoLA', 'mcc', ('unacceptable', 'acceptable'))
    >>> get_task("super_glue/copa").multiple_choice
    True
    >>> get_task("rte").format({"sentence1": "A dog runs.", "sentence2": "An animal moves.", "label": 0})
    ('A dog runs.', 'An animal moves.')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Formatted = tuple[str, str | None] | list[tuple[str, str]]


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark task.

    ``format(row)`` turns a Hub-schema row into ``(text, text_pair)`` for classification, or into one
    ``(first, second)`` pair per answer choice for multiple choice (COPA).
    """

    name: str  # canonical name, "<benchmark>/<config>"
    display_name: str
    benchmark: str  # "GLUE" | "SuperGLUE"
    hub_path: str
    hub_config: str
    local_dir: str  # directory name of the original distribution (CoLA, SST-2, ...)
    label_names: tuple[str, ...]
    format: Callable[[dict], Formatted]
    zeta: str = "accuracy"
    multiple_choice: bool = False

    @property
    def num_labels(self) -> int:
        return len(self.label_names)


def _single(column: str) -> Callable[[dict], Formatted]:
    return lambda row: (row[column], None)


def _pair(first: str, second: str) -> Callable[[dict], Formatted]:
    return lambda row: (row[first], row[second])


def _wic(row: dict) -> Formatted:
    return (f"{row['word']}: {row['sentence1']}", row["sentence2"])


def _multirc(row: dict) -> Formatted:
    return (f"{row['question']} {row['answer']}", row["paragraph"])


def _copa(row: dict) -> Formatted:
    connector = "because" if row["question"] == "cause" else "so"
    return [
        (row["premise"], f"{connector} {choice[:1].lower()}{choice[1:]}") for choice in (row["choice1"], row["choice2"])
    ]


_GLUE = "nyu-mll/glue"
_SUPER_GLUE = "aps/super_glue"
_BOOL = ("False", "True")
_ENTAILMENT = ("entailment", "not_entailment")

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("glue/cola", "CoLA", "GLUE", _GLUE, "cola", "CoLA", ("unacceptable", "acceptable"),
                 _single("sentence"), zeta="mcc"),
        TaskSpec("glue/sst2", "SST-2", "GLUE", _GLUE, "sst2", "SST-2", ("negative", "positive"),
                 _single("sentence")),
        TaskSpec("glue/mrpc", "MRPC", "GLUE", _GLUE, "mrpc", "MRPC", ("not_equivalent", "equivalent"),
                 _pair("sentence1", "sentence2")),
        TaskSpec("glue/qqp", "QQP", "GLUE", _GLUE, "qqp", "QQP", ("not_duplicate", "duplicate"),
                 _pair("question1", "question2")),
        TaskSpec("glue/qnli", "QNLI", "GLUE", _GLUE, "qnli", "QNLI", _ENTAILMENT, _pair("question", "sentence")),
        TaskSpec("glue/rte", "RTE", "GLUE", _GLUE, "rte", "RTE", _ENTAILMENT, _pair("sentence1", "sentence2")),
        TaskSpec("super_glue/rte", "RTE", "SuperGLUE", _SUPER_GLUE, "rte", "RTE", _ENTAILMENT,
                 _pair("premise", "hypothesis")),
        TaskSpec("super_glue/cb", "CB", "SuperGLUE", _SUPER_GLUE, "cb", "CB",
                 ("entailment", "contradiction", "neutral"), _pair("premise", "hypothesis")),
        TaskSpec("super_glue/wic", "WiC", "SuperGLUE", _SUPER_GLUE, "wic", "WiC", _BOOL, _wic),
        TaskSpec("super_glue/boolq", "BoolQ", "SuperGLUE", _SUPER_GLUE, "boolq", "BoolQ", _BOOL,
                 _pair("question", "passage")),
        TaskSpec("super_glue/multirc", "MultiRC", "SuperGLUE", _SUPER_GLUE, "multirc", "MultiRC", _BOOL, _multirc),
        TaskSpec("super_glue/copa", "COPA", "SuperGLUE", _SUPER_GLUE, "copa", "COPA", ("choice1", "choice2"),
                 _copa, multiple_choice=True),
    )
}  # fmt: skip

# Short names as users type them (run_glue.py style). A bare "rte" is GLUE's; SuperGLUE's is "rtes".
ALIASES: dict[str, str] = {
    **{spec.hub_config: name for name, spec in TASKS.items() if name != "super_glue/rte"},
    "sst-2": "glue/sst2",
    "rtes": "super_glue/rte",
    "superglue/rte": "super_glue/rte",
}

PAPER_TASKS: tuple[str, ...] = tuple(TASKS)


def get_task(name: str) -> TaskSpec:
    """The task called ``name`` ("cola", "glue/rte", "super_glue/rte", "rtes", "copa", ...)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key).replace("superglue/", "super_glue/")
    if key not in TASKS:
        known = ", ".join(sorted({*ALIASES, *TASKS}))
        raise ValueError(f"unknown task {name!r}; known tasks: {known}")
    return TASKS[key]
