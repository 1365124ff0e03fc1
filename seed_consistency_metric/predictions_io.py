"""Reading and writing per-seed prediction files and run directories (shared by trainer, CLI and Space).

A run directory holds one folder per seed, `seed-<k>/predictions.jsonl`, one JSON object per example:
`{"id": ..., "prediction": ..., "label": ...}`. Every write is atomic (temporary file, then `os.replace`),
so a killed run never leaves a half-written file behind.

>>> import tempfile
>>> run = Path(tempfile.mkdtemp())
>>> for seed, row in {42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}.items():
...     _ = write_seed_predictions(run / seed_dir_name(seed) / PREDICTIONS_FILE, row, references=[1] * 5)
>>> run_predictions = read_run_dir(run)
>>> run_predictions.seeds, run_predictions.report()["con"]
([42, 52], 0.2)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .seed_consistency import seed_consistency

PREDICTIONS_FILE = "predictions.jsonl"
REPORT_FILE = "consistency_report.json"
DONE_MARKER = "DONE"
_SEED_DIR = re.compile(r"^seed-(.+)$")


def seed_dir_name(seed) -> str:
    """Folder name of one seed inside a run directory.

    >>> seed_dir_name(42)
    'seed-42'
    """
    return f"seed-{seed}"


def _plain(value):
    """numpy scalars/arrays -> plain Python for JSON."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _write_text_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return path


def write_json_atomic(path: str | os.PathLike, obj) -> Path:
    """Write `obj` as indented JSON, atomically (numpy values become plain numbers and lists)."""
    return _write_text_atomic(Path(path), json.dumps(obj, indent=2, default=_plain) + "\n")


def read_json(path: str | os.PathLike):
    """Read a JSON file; ValueError naming the file when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a valid UTF-8 JSON file ({error}).") from None


def write_seed_predictions(
    path: str | os.PathLike,
    predictions: Sequence,
    references: Sequence | None = None,
    ids: Sequence | None = None,
) -> Path:
    """Write one seed's predictions as JSONL rows {"id", "prediction", "label"}, atomically."""
    predictions = _plain(predictions) if isinstance(predictions, np.ndarray) else list(predictions)
    ids = list(range(len(predictions))) if ids is None else list(ids)
    for name, column in (("ids", ids), ("references", references)):
        if column is not None and len(column) != len(predictions):
            raise ValueError(f"{path}: {len(column)} {name} for {len(predictions)} predictions.")
    labels = [None] * len(predictions) if references is None else list(references)
    lines = (
        json.dumps({"id": i, "prediction": p, "label": r}, default=_plain)
        if r is not None
        else json.dumps({"id": i, "prediction": p}, default=_plain)
        for i, p, r in zip(ids, predictions, labels)
    )
    return _write_text_atomic(Path(path), "\n".join(lines) + "\n")


def read_seed_predictions(path: str | os.PathLike) -> dict[str, list | None]:
    """Read a JSONL file written by `write_seed_predictions`: {"ids", "predictions", "references"}."""
    ids, predictions, references = [], [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict) or "prediction" not in row:
            raise ValueError(f"{path}, line {number}: expected an object with a 'prediction' field.")
        ids.append(row.get("id", len(ids)))
        predictions.append(row["prediction"])
        references.append(row.get("label"))
    if not predictions:
        raise ValueError(f"{path}: no predictions (empty file).")
    has_labels = [r is not None for r in references]
    if any(has_labels) and not all(has_labels):
        raise ValueError(f"{path}, line {has_labels.index(False) + 1}: 'label' missing (other rows have one).")
    return {"ids": ids, "predictions": predictions, "references": references if all(has_labels) else None}


@dataclass
class SeedPredictions:
    """The predictions of S seeds on the same N examples, aligned by example.

    >>> SeedPredictions(seeds=[1, 2], predictions=[[0, 1], [0, 0]], references=[0, 1]).report()["ccon"]
    0.5
    """

    seeds: list
    predictions: list
    references: list | None = None
    ids: list | None = None

    def as_mapping(self) -> dict:
        """{seed: predictions}, the form `seed_consistency` takes."""
        return dict(zip(self.seeds, self.predictions))

    def report(self, **kwargs) -> dict:
        """`seed_consistency(...)` on these predictions; kwargs are passed on (task, zeta, pairwise, ...)."""
        return seed_consistency(self.as_mapping(), self.references, **kwargs)


def align_by_id(named_rows: dict, label: str = "predictions") -> SeedPredictions:
    """Align {seed: {"ids", "predictions", "references"}} on the first seed's ids.

    ValueError naming the seed and the id when a seed misses an example, has extra or duplicate ids, or
    disagrees on a reference label.
    """
    seeds = list(named_rows)
    first = named_rows[seeds[0]]
    ids = first["ids"]
    if len(set(map(_id_key, ids))) != len(ids):
        raise ValueError(f"Seed {seeds[0]}: duplicate example ids in its {label}.")
    order = {_id_key(i): position for position, i in enumerate(ids)}
    predictions, references = [], first["references"]
    for seed in seeds:
        rows = named_rows[seed]
        keys = [_id_key(i) for i in rows["ids"]]
        if keys != list(order):
            missing = [i for i in order if i not in set(keys)]
            extra = [i for i in keys if i not in order]
            if missing or extra or len(set(keys)) != len(keys):
                problem = (
                    f"misses id {missing[0]}"
                    if missing
                    else f"has unknown id {extra[0]}"
                    if extra
                    else "has duplicate ids"
                )
                raise ValueError(f"Seed {seed} {problem} (compared with seed {seeds[0]}'s {len(ids)} examples).")
        position = [order[k] for k in keys]
        aligned = [None] * len(ids)
        for where, value in zip(position, rows["predictions"]):
            aligned[where] = value
        predictions.append(aligned)
        if rows["references"] is not None and references is not None:
            seed_refs = [None] * len(ids)
            for where, value in zip(position, rows["references"]):
                seed_refs[where] = value
            bad = next((i for i, (a, b) in enumerate(zip(references, seed_refs)) if a != b), None)
            if bad is not None:
                raise ValueError(
                    f"Seed {seed} has label {seed_refs[bad]!r} for id {ids[bad]} but seed {seeds[0]} has "
                    f"{references[bad]!r}."
                )
    return SeedPredictions(seeds=seeds, predictions=predictions, references=references, ids=list(ids))


def _id_key(value) -> str:
    return str(value)


def _seed_name(text: str):
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def seed_dirs(run_dir: str | os.PathLike, filename: str = PREDICTIONS_FILE) -> dict:
    """{seed: folder} of the seed folders of a run directory that hold `filename`, in seed order."""
    found = {}
    for folder in Path(run_dir).iterdir() if Path(run_dir).is_dir() else ():
        match = _SEED_DIR.match(folder.name)
        if match and (folder / filename).is_file():
            found[_seed_name(match.group(1))] = folder
    return dict(sorted(found.items(), key=lambda item: (isinstance(item[0], str), item[0])))


def read_run_dir(run_dir: str | os.PathLike, filename: str = PREDICTIONS_FILE) -> SeedPredictions:
    """All seeds' predictions of a run directory (`seed-<k>/<filename>`), aligned by example id."""
    if not Path(run_dir).is_dir():
        raise ValueError(f"{run_dir}: no such run directory.")
    folders = seed_dirs(run_dir, filename)
    if len(folders) < 2:
        raise ValueError(
            f"{run_dir}: found {len(folders)} seed folder(s) with {filename}; seed consistency needs at least 2."
        )
    return align_by_id({seed: read_seed_predictions(folder / filename) for seed, folder in folders.items()})
