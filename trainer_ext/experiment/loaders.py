"""Load a task's train / evaluation examples from the Hub, the original local files, or a user's file.

All sources end in the same :class:`TaskData`: two ``datasets.Dataset`` with an integer ``label`` column and
the columns the task's formatter reads. Bad files raise ``ValueError`` naming the file, line and column.

Example (original GLUE files; CoLA's have no header, MRPC's start with a byte-order mark):
    >>> data = load_glue_dir("glue/rte", "/work/shared/data/RTE")  # doctest: +SKIP
    >>> data.train[0]["label"], data.label_names  # doctest: +SKIP
    (1, ['entailment', 'not_entailment'])
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tasks import Formatted, TaskSpec, get_task


@dataclass
class TaskData:
    """Examples of one task, ready to tokenize: ``format(row)`` gives the model input of a row."""

    name: str
    display_name: str
    benchmark: str
    train: Any  # datasets.Dataset
    eval: Any  # datasets.Dataset
    label_names: list[str]
    format: Callable[[dict], Formatted]
    zeta: str
    multiple_choice: bool
    source: str

    def subsample(self, max_train: int | None, max_eval: int | None) -> TaskData:
        """The first ``max_train`` / ``max_eval`` examples (as run_glue.py's ``max_*_samples``)."""
        if max_train is not None:
            self.train = self.train.select(range(min(max_train, len(self.train))))
        if max_eval is not None:
            self.eval = self.eval.select(range(min(max_eval, len(self.eval))))
        return self


# Original GLUE tsv: file column -> Hub column. CoLA has no header (source, label, orig_label, sentence).
_GLUE_TSV_COLUMNS: dict[str, dict[str, str] | None] = {
    "cola": None,
    "sst2": {"sentence": "sentence", "label": "label"},
    "mrpc": {"#1 String": "sentence1", "#2 String": "sentence2", "Quality": "label"},
    "qqp": {"question1": "question1", "question2": "question2", "is_duplicate": "label"},
    "qnli": {"question": "question", "sentence": "sentence", "label": "label"},
    "rte": {"sentence1": "sentence1", "sentence2": "sentence2", "label": "label"},
}
_COLA_FIELDS = 4
_GENERIC_STEMS = frozenset({"train", "training"})
_GLUE_FILES = {"train": "train.tsv", "eval": "dev.tsv"}
_SUPER_GLUE_FILES = {"train": "train.jsonl", "eval": "val.jsonl"}


def label_index(value: Any, label_names: Sequence[str], where: str) -> int:
    """``value`` (a label name, an index, or a JSON boolean) as an index into ``label_names``."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        if text in label_names:
            return label_names.index(text)
        if text.lstrip("-").isdigit():
            value = int(text)
    if isinstance(value, int) and 0 <= value < len(label_names):
        return value
    raise ValueError(f"{where}: label {value!r} is not one of {list(label_names)} (or an index into them)")


def _read_tsv(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def read_glue_tsv(spec: TaskSpec, path: Path) -> list[dict]:
    """Rows of an original GLUE tsv file, in the Hub schema of ``spec``."""
    lines = _read_tsv(path)
    columns = _GLUE_TSV_COLUMNS[spec.hub_config]
    if columns is None:
        positions, start = {"label": 1, "sentence": 3}, 0
        width = _COLA_FIELDS
    else:
        if not lines:
            raise ValueError(f"{path}: the file is empty")
        header = [name.strip() for name in lines[0]]
        missing = [name for name in columns if name not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; the header has {header}")
        positions = {hub: header.index(name) for name, hub in columns.items()}
        start, width = 1, len(header)
    rows = []
    for number, fields in enumerate(lines[start:], start=start + 1):
        if len(fields) != width:
            raise ValueError(f"{path}, line {number}: expected {width} tab-separated fields, found {len(fields)}")
        row = {hub: fields[position] for hub, position in positions.items()}
        row["label"] = label_index(row["label"], spec.label_names, f"{path}, line {number}")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no examples")
    return rows


_SUPER_GLUE_FIELDS = {
    "rte": ("premise", "hypothesis"),
    "cb": ("premise", "hypothesis"),
    "wic": ("word", "sentence1", "sentence2"),
    "boolq": ("question", "passage"),
    "copa": ("premise", "choice1", "choice2", "question"),
}


def _multirc_rows(record: dict, spec: TaskSpec, where: str) -> list[dict]:
    passage = record["passage"]
    rows = []
    for question in passage["questions"]:
        for answer in question["answers"]:
            label = label_index(answer["label"], spec.label_names, where)
            rows.append(
                {"paragraph": passage["text"], "question": question["question"], "answer": answer["text"],
                 "label": label}
            )  # fmt: skip
    return rows


def read_super_glue_jsonl(spec: TaskSpec, path: Path) -> list[dict]:
    """Rows of an original SuperGLUE jsonl file (MultiRC flattened to one row per answer), Hub schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    rows: list[dict] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
            if spec.hub_config == "multirc":
                rows.extend(_multirc_rows(record, spec, where))
                continue
            row = {field: record[field] for field in _SUPER_GLUE_FIELDS[spec.hub_config]}
            row["label"] = label_index(record["label"], spec.label_names, where)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON ({error.msg})") from None
        except (KeyError, TypeError) as error:
            raise ValueError(f"{where}: missing field {error} for SuperGLUE {spec.hub_config}") from None
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no examples")
    return rows


def _task_data(spec: TaskSpec, train, eval_, source: str) -> TaskData:
    return TaskData(
        name=spec.name, display_name=spec.display_name, benchmark=spec.benchmark, train=train, eval=eval_,
        label_names=list(spec.label_names), format=spec.format, zeta=spec.zeta,
        multiple_choice=spec.multiple_choice, source=source,
    )  # fmt: skip


def _find_files(data_dir: Path, spec: TaskSpec, names: dict[str, str]) -> dict[str, Path]:
    """``data_dir`` holds the files, or a ``<CoLA|RTE|...>`` subdirectory of it does."""
    for folder in (data_dir, data_dir / spec.local_dir):
        paths = {split: folder / name for split, name in names.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    wanted = " and ".join(names.values())
    raise ValueError(f"{data_dir}: no {wanted} here or in {data_dir / spec.local_dir} for task {spec.name}")


def load_local_task(task_name: str, data_dir: str | Path) -> TaskData:
    """A paper task from its original files (GLUE: train.tsv/dev.tsv; SuperGLUE: train.jsonl/val.jsonl)."""
    from datasets import Dataset

    spec = get_task(task_name)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"--data_dir {data_dir}: no such directory")
    if spec.benchmark == "GLUE":
        paths, reader = _find_files(data_dir, spec, _GLUE_FILES), read_glue_tsv
    else:
        paths, reader = _find_files(data_dir, spec, _SUPER_GLUE_FILES), read_super_glue_jsonl
    splits = {split: Dataset.from_list(reader(spec, path)) for split, path in paths.items()}
    return _task_data(spec, splits["train"], splits["eval"], source=str(paths["train"].parent))


def load_hub_task(task_name: str) -> TaskData:
    """A paper task from the Hub (``nyu-mll/glue`` / ``aps/super_glue``; validation split is evaluated)."""
    import datasets

    spec = get_task(task_name)
    try:
        splits = datasets.load_dataset(spec.hub_path, spec.hub_config)
    except Exception as error:  # offline, unreachable or renamed: all end the same way for the user
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"could not load {spec.hub_path} ({spec.hub_config}) from the Hub: {reason}. "
            "Offline? Pass --data_dir with the task's original files."
        ) from None
    columns = [name for name in splits["train"].column_names if name != "idx"]
    train, eval_ = (splits[split].select_columns(columns) for split in ("train", "validation"))
    return _task_data(spec, train, eval_, source=f"hub:{spec.hub_path}/{spec.hub_config}")


def _read_table(path: Path):
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    readers = {
        ".csv": lambda: pd.read_csv(path),
        ".tsv": lambda: pd.read_csv(path, sep="\t"),
        ".json": lambda: pd.read_json(path),
        ".jsonl": lambda: pd.read_json(path, lines=True),
        ".parquet": lambda: pd.read_parquet(path),
    }
    if suffix not in readers:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv, .tsv, .json, .jsonl or .parquet")
    try:
        frame = readers[suffix]()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except Exception as error:  # pandas / pyarrow raise many types for one cause: an unreadable file
        raise ValueError(f"{path}: cannot read it as {suffix[1:]} ({type(error).__name__}: {error})") from None
    if frame.empty:
        raise ValueError(f"{path}: no examples")
    return frame


def _label_order(label: str) -> tuple[int, int | str]:
    """Integer labels in numeric order ("2" before "10"), then the others alphabetically."""
    return (0, int(label)) if label.lstrip("-").isdigit() else (1, label)


def load_user_files(
    train_file: str | Path,
    validation_file: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
    zeta: str = "accuracy",
    dataset_name: str | None = None,
) -> TaskData:
    """A user's classification data (CSV/TSV/JSON/JSONL/Parquet with text and label columns).

    Labels may be strings or integers; the label set is the sorted labels of the training file. The task is
    called ``dataset_name``, else after the training file (``imdb_train.csv`` -> ``imdb_train``; a file
    called ``train.*`` is named after its folder).
    """
    from datasets import Dataset

    columns = [text_column, *([text_pair_column] if text_pair_column else []), label_column]
    frames = {}
    for split, path in (("train", Path(train_file)), ("eval", Path(validation_file))):
        frame = _read_table(path)
        missing = [name for name in columns if name not in frame.columns]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; found {list(map(str, frame.columns))}")
        frame = frame[columns]
        for name in columns:
            empty = frame[name].isna()
            if empty.any():
                raise ValueError(f"{path}, row {int(empty.to_numpy().argmax()) + 1}: empty value in column {name!r}")
        frames[split] = (path, frame)
    label_names = sorted({str(value) for value in frames["train"][1][label_column]}, key=_label_order)
    if len(label_names) < 2:
        raise ValueError(f"{train_file}: column {label_column!r} has fewer than 2 distinct labels")
    splits = {}
    for split, (path, frame) in frames.items():
        rows = []
        for number, record in enumerate(frame.to_dict("records"), start=1):
            label = str(record.pop(label_column))
            if label not in label_names:
                raise ValueError(f"{path}, row {number}: label {label!r} does not occur in {train_file}")
            rows.append({key: str(value) for key, value in record.items()} | {"label": label_names.index(label)})
        splits[split] = Dataset.from_list(rows)

    def format_row(row: dict) -> Formatted:
        return (row[text_column], row[text_pair_column] if text_pair_column else None)

    stem = Path(train_file).stem
    name = dataset_name or (Path(train_file).resolve().parent.name if stem.lower() in _GENERIC_STEMS else stem)
    return TaskData(
        name=name, display_name=name, benchmark="custom", train=splits["train"], eval=splits["eval"],
        label_names=label_names, format=format_row, zeta=zeta, multiple_choice=False,
        source=f"{Path(train_file).resolve()} + {Path(validation_file).resolve()}",
    )  # fmt: skip
