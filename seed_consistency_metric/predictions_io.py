"""Reading and writing per-seed prediction files and run directories (shared by trainer, CLI and Space).

A run directory holds one folder per seed, `seed-<k>/predictions.jsonl`, one JSON object per example:
`{"id": ..., "prediction": ..., "label": ...}`, and with MultiSeedTrainer(save_probabilities=True) also
`seed-<k>/probabilities.npy`: the (N, C) class probabilities of those rows, in the same order (float32; for
regression the (N,) outputs). Every write is atomic (temporary file, then `os.replace`),
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

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

PREDICTIONS_FILE = "predictions.jsonl"
PROBABILITIES_FILE = "probabilities.npy"  # beside predictions.jsonl: (N, C) class probabilities, or (N,) outputs
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


def probabilities_path(predictions_path: str | os.PathLike) -> Path:
    """Where the probabilities of a prediction file go: predictions[-<split>].jsonl -> probabilities[-<split>].npy.

    >>> probabilities_path("run/seed-42/predictions-test.jsonl").name
    'probabilities-test.npy'
    """
    path = Path(predictions_path)
    return path.with_name(path.name.replace("predictions", "probabilities", 1)).with_suffix(".npy")


def write_seed_probabilities(path: str | os.PathLike, probabilities) -> Path:
    """Save one seed's (N, C) class probabilities (or (N,) regression outputs) as float32 .npy, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as handle:
        np.save(handle, np.asarray(probabilities, dtype=np.float32), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return path


def read_seed_probabilities(path: str | os.PathLike, n_examples: int | None = None) -> np.ndarray:
    """Read a .npy of `write_seed_probabilities`; ValueError naming the file when it is not one of N rows."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a numeric .npy file ({error}).") from None
    if array.dtype.kind not in "fiu" or array.ndim not in (1, 2):
        raise ValueError(f"{path}: expected (examples, classes) probabilities, got {array.dtype} {array.shape}.")
    if n_examples is not None and len(array) != n_examples:
        raise ValueError(f"{path}: {len(array)} rows of probabilities for {n_examples} predictions.")
    return array


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
    probabilities: list | None = None  # per seed an (N, C) array of class probabilities, rows in example order

    def as_mapping(self) -> dict:
        """{seed: predictions}, the form `seed_consistency` takes."""
        return dict(zip(self.seeds, self.predictions))

    def report(self, **kwargs) -> dict:
        """`seed_consistency(...)` on these predictions (and their class probabilities, for classification);
        kwargs are passed on (task, zeta, pairwise, ...)."""
        from . import seed_consistency  # the metric module imports evaluate: load it only when needed

        if self.probabilities is not None and kwargs.get("task", "classification") == "classification":
            kwargs.setdefault("probabilities", dict(zip(self.seeds, self.probabilities)))
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
    with_probabilities = [seed for seed in seeds if named_rows[seed].get("probabilities") is not None]
    if with_probabilities and len(with_probabilities) < len(seeds):
        lacking = next(seed for seed in seeds if seed not in with_probabilities)
        raise ValueError(f"Seed {with_probabilities[0]} has class probabilities but seed {lacking} has none.")
    probabilities = [] if with_probabilities else None
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
        if probabilities is not None:
            probabilities.append(np.empty_like(rows["probabilities"]))
            probabilities[-1][position] = rows["probabilities"]
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
    return SeedPredictions(
        seeds=seeds, predictions=predictions, references=references, ids=list(ids), probabilities=probabilities
    )


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
    return align_by_id({seed: _seed_rows(folder / filename) for seed, folder in folders.items()})


def _seed_rows(path: Path) -> dict:
    """One seed's prediction file, with the class probabilities saved beside it (2-D ones only) when present."""
    rows = read_seed_predictions(path)
    if probabilities_path(path).is_file():
        probabilities = read_seed_probabilities(probabilities_path(path), len(rows["predictions"]))
        rows["probabilities"] = probabilities if probabilities.ndim == 2 else None  # 1-D: regression outputs
    return rows


# ---------------------------------------------------------------------------------------------------------
# Upload readers (Space engineer): per-seed prediction files in any common format, one wide file with a
# column per seed, a long file with a seed column, run directories and zips of them -> SeedPredictions.
# Used by the Space (spaces_app/) and the CLI. Every problem raises ValueError naming file, row and seed.
# ---------------------------------------------------------------------------------------------------------

MAX_FILE_BYTES = 50 * 1024 * 1024  # one uploaded file
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # all files of one upload together (a zip: its unpacked size)
MAX_SEEDS = 100
MAX_EXAMPLES = 200_000
UPLOAD_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".npy", ".parquet", ".zip")

_ID_NAMES = ("id", "idx", "index", "example_id", "guid", "uid")
_REFERENCE_NAMES = ("label", "labels", "reference", "references", "label_ids", "gold", "target", "y_true")
_PREDICTION_NAMES = ("prediction", "predictions", "pred", "preds", "predicted_label", "y_pred", "output")
_SEED_NAMES = ("seed", "random_seed")
_SEED_NAMED = re.compile(r"^seed[\s_\-=:]*([A-Za-z0-9]+)$", re.IGNORECASE)  # seed-42, seed_a
_SEED_NUMBER_IN_TEXT = re.compile(r"seed[\s_\-=:]*(\d+)", re.IGNORECASE)  # preds_seed42_dev
_PREDICTION_WITH_NUMBER = re.compile(r"^pred(?:iction)?s?[\s_\-=:]*(\d+)$", re.IGNORECASE)
_INT_TEXT = re.compile(r"^[+-]?\d+$")
_MISSING_TEXT = {"", "nan", "NaN", "NA", "N/A", "null", "None"}


@dataclass
class _Table:
    """Columns of one parsed file; `name` is how messages refer to it."""

    name: str
    columns: dict[str, list]

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()), []))


@dataclass
class _SeedColumn:
    """The predictions of one seed, with the ids / references found next to them (if any)."""

    seed: Any
    source: str
    predictions: list
    rows: list[int]  # 1-based row of each prediction in its file, for messages
    ids: list | None = None
    references: list | None = None
    probabilities: np.ndarray | None = None  # (N, C), from a run directory's probabilities.npy


def _python_value(value: Any) -> Any:
    """numpy scalars / arrays -> plain Python; NaN and None -> None (reported as missing)."""
    if isinstance(value, np.ndarray):
        return [_python_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text_column(values: list[str]) -> list:
    """Cells of a CSV/TSV column -> ints, floats, booleans or stripped strings (empty cells -> None)."""
    cells = [None if v.strip() in _MISSING_TEXT else v.strip() for v in values]
    present = [c for c in cells if c is not None]
    if present and all(_INT_TEXT.match(c) for c in present):
        return [None if c is None else int(c) for c in cells]
    try:
        return [None if c is None else float(c) for c in cells]
    except ValueError:
        pass
    if present and all(c.lower() in ("true", "false") for c in present):
        return [None if c is None else c.lower() == "true" for c in cells]
    return cells


def _read_upload_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    if not path.is_file():
        raise ValueError(f"{name}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{name}: {size / 2**20:.1f} MiB is over the {max_bytes / 2**20:.0f} MiB limit per file")
    if size == 0:
        raise ValueError(f"{name}: the file is empty")
    return path.read_bytes()


def _decode_utf8(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{name}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise ValueError(f"{name}: the file is empty")
    return text


def _parse_delimited(text: str, name: str, delimiter: str) -> _Table:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"{name}: the file is empty")
    header = [h.strip() for h in rows[0]]
    if all(_INT_TEXT.match(h) or _is_float_text(h) for h in header):  # no header row
        if len(header) > 1:
            raise ValueError(
                f"{name}: the first row ({', '.join(header[:4])}) looks like data, not a header; add a header "
                "row naming the columns (e.g. id, prediction, label)"
            )
        header, body = ["value"], rows
    else:
        body = rows[1:]
    if not body:
        raise ValueError(f"{name}: has a header but no data rows")
    if len(set(header)) < len(header):
        raise ValueError(f"{name}: duplicate column names in the header ({', '.join(header)})")
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise ValueError(f"{name} row {number}: {len(row)} fields, but the header has {len(header)}")
    return _Table(name, {h: _text_column([row[i] for row in body]) for i, h in enumerate(header)})


def _is_float_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _records_table(records: list, name: str, row_word: str) -> _Table:
    """A list of JSON values: all objects (one row each) or all plain values (one column)."""
    if not records:
        raise ValueError(f"{name}: the file is empty")
    if not any(isinstance(r, dict) for r in records):
        return _Table(name, {"value": [_python_value(r) for r in records]})
    keys = list(dict.fromkeys(k for r in records if isinstance(r, dict) for k in r))
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ValueError(f"{name} {row_word} {number}: expected an object like the other rows, got {record!r}")
        missing = [k for k in keys if k not in record]
        if missing:
            raise ValueError(f"{name} {row_word} {number}: no {', '.join(map(repr, missing))} (other rows have it)")
    return _Table(name, {k: [_python_value(r[k]) for r in records] for k in keys})


def _parse_jsonl(text: str, name: str) -> _Table:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{name} line {number}: not valid JSON ({err.msg})") from None
    return _records_table(records, name, "line")


def _parse_json(text: str, name: str) -> _Table:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(obj, list):
        return _records_table(obj, name, "row")
    if isinstance(obj, dict) and obj and all(isinstance(v, list) for v in obj.values()):
        lengths = {k: len(v) for k, v in obj.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{name}: columns have different lengths ({lengths})")
        return _Table(name, {k: [_python_value(x) for x in v] for k, v in obj.items()})
    raise ValueError(f"{name}: expected a list of rows or an object of equal-length columns")


def _parse_npy(data: bytes, name: str) -> _Table:
    if not data.startswith(b"\x93NUMPY"):
        raise ValueError(f"{name}: not a .npy file (save it with numpy.save)")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(
                f"{name}: holds a pickled object array, which is refused for safety; save a plain numeric or "
                "string array instead, e.g. numpy.save(path, numpy.asarray(predictions, dtype='int64'))"
            ) from None
        raise ValueError(f"{name}: not a valid .npy file ({err})") from None
    if array.dtype.names:
        return _Table(name, {field: [_python_value(v) for v in array[field]] for field in array.dtype.names})
    if array.ndim == 1:
        return _Table(name, {"value": [_python_value(v) for v in array]})
    if array.ndim == 2:
        return _Table(name, {f"seed_{k}": [_python_value(v) for v in row] for k, row in enumerate(array)})
    raise ValueError(f"{name}: expected a 1-D array (one seed) or a 2-D array (seeds x examples), got {array.shape}")


def _parse_parquet(data: bytes, name: str) -> _Table:
    import pandas as pd  # only Parquet needs pandas / pyarrow; keeps this module light for the trainer

    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError) as err:  # pyarrow.ArrowInvalid is a ValueError
        raise ValueError(f"{name}: not a valid Parquet file ({err})") from None
    if frame.empty:
        raise ValueError(f"{name}: the file has no rows")
    return _Table(name, {str(c): [_python_value(v) for v in frame[c].tolist()] for c in frame.columns})


def _parse_upload(path: Path, name: str, max_bytes: int) -> _Table:
    data = _read_upload_bytes(path, name, max_bytes)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _parse_npy(data, name)
    if suffix == ".parquet":
        return _parse_parquet(data, name)
    text_parsers = {
        ".csv": lambda t: _parse_delimited(t, name, ","),
        ".tsv": lambda t: _parse_delimited(t, name, "\t"),
        ".jsonl": lambda t: _parse_jsonl(t, name),
        ".json": lambda t: _parse_json(t, name),
    }
    if suffix not in text_parsers:
        raise ValueError(f"{name}: unsupported file type {suffix!r}; use one of {', '.join(UPLOAD_SUFFIXES)}")
    table = text_parsers[suffix](_decode_utf8(data, name))
    if table.n_rows == 0:
        raise ValueError(f"{name}: the file has no rows")
    return table


def _find_column(table: _Table, wanted: str | None, candidates: Sequence[str], what: str) -> str | None:
    if wanted:
        if wanted not in table.columns:
            raise ValueError(f"{table.name}: no {what} column {wanted!r} (columns: {', '.join(table.columns)})")
        return wanted
    lowered = {c.lower(): c for c in table.columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _seed_from_text(text: str) -> Any | None:
    match = _SEED_NAMED.match(text) or _SEED_NUMBER_IN_TEXT.search(text) or _PREDICTION_WITH_NUMBER.match(text)
    if match is None:
        return int(text) if _INT_TEXT.match(text) else None
    return int(match.group(1)) if _INT_TEXT.match(match.group(1)) else match.group(1)


def _seed_named_in(texts: Sequence[str], fallback: str) -> Any:
    """The first seed named in `texts` (seed-42 -> 42, preds_seed52 -> 52, 62 -> 62), else `fallback`."""
    for text in texts:
        seed = _seed_from_text(text)
        if seed is not None:
            return seed
    return fallback


def _check_present(values: list, table: _Table, column: str, rows: list[int], seed: Any, what: str) -> None:
    """ValueError at the first empty cell (None / NaN); `seed` is None for columns shared by all seeds."""
    for value, row in zip(values, rows, strict=True):
        if value is None:
            of_seed = "" if seed is None else f" (seed {seed})"
            raise ValueError(f"{table.name} row {row}{of_seed}: missing {what} in column {column!r}")


def _seed_columns(
    table: _Table,
    path: Path,
    id_column: str | None,
    reference_column: str | None,
    prediction_columns: Sequence[str] | None,
    notes: list[str],
) -> list[_SeedColumn]:
    """Split one parsed file into the seeds it holds (one column, a column per seed, or a seed column)."""
    id_col = _find_column(table, id_column, _ID_NAMES, "id")
    ref_col = _find_column(table, reference_column, _REFERENCE_NAMES, "reference")
    seed_col = _find_column(table, None, _SEED_NAMES, "seed")
    others = [c for c in table.columns if c not in (id_col, ref_col, seed_col)]
    if prediction_columns:
        for column in prediction_columns:
            _find_column(table, column, (), "prediction")
        pred_cols = [c for c in prediction_columns if c in table.columns]
    elif named := [c for c in others if c.lower() in _PREDICTION_NAMES][:1]:
        pred_cols = named
    elif seeded := [c for c in others if _seed_from_text(c) is not None]:
        pred_cols = seeded
    elif len(others) == 1:
        pred_cols = others
    else:
        raise ValueError(
            f"{table.name}: cannot tell which column holds the predictions among ({', '.join(table.columns)}); "
            "name it 'prediction' (one file per seed) or 'seed_<k>' (one column per seed), or name it explicitly"
        )
    all_rows = list(range(1, table.n_rows + 1))
    ids = table.columns[id_col] if id_col else None
    refs = table.columns[ref_col] if ref_col else None
    if ids is not None:
        _check_present(ids, table, id_col, all_rows, None, "id")
    if refs is not None:
        _check_present(refs, table, ref_col, all_rows, None, "reference")
    found = []
    if seed_col is not None:  # long format: one row per (seed, example)
        if len(pred_cols) != 1:
            raise ValueError(f"{table.name}: a file with a {seed_col!r} column needs exactly one prediction column")
        groups: dict[Any, list[int]] = {}
        for row, seed in enumerate(table.columns[seed_col], start=1):
            if seed is None:
                raise ValueError(f"{table.name} row {row}: missing seed in column {seed_col!r}")
            groups.setdefault(seed, []).append(row)
        column = table.columns[pred_cols[0]]
        for seed, rows in groups.items():
            found.append(
                _SeedColumn(
                    seed,
                    f"{table.name} ({seed_col}={seed})",
                    [column[r - 1] for r in rows],
                    rows,
                    [ids[r - 1] for r in rows] if ids is not None else None,
                    [refs[r - 1] for r in rows] if refs is not None else None,
                )
            )
            _check_present(found[-1].predictions, table, pred_cols[0], rows, seed, "prediction")
    else:
        for column in pred_cols:
            if len(pred_cols) > 1:
                seed = _seed_named_in([column], column)
            else:  # the file name first (seed-42.csv, seed-42/predictions.jsonl), then the column (seed_42)
                folder = path.parent.name if _SEED_DIR.match(path.parent.name) else ""
                seed = _seed_named_in([path.stem, folder, column], path.stem)
            source = f"{table.name} column {column!r}" if len(pred_cols) > 1 else table.name
            found.append(_SeedColumn(seed, source, table.columns[column], all_rows, ids, refs))
            _check_present(table.columns[column], table, column, all_rows, seed, "prediction")
    parts = [f"predictions from {', '.join(map(repr, pred_cols))}"]
    parts += [f"ids from {id_col!r}"] if id_col else []
    parts += [f"references from {ref_col!r}"] if ref_col else []
    notes.append(f"{table.name}: {len(found)} seed(s) ({', '.join(str(c.seed) for c in found)}); {'; '.join(parts)}")
    return found


def _label_kind(value: Any) -> str:
    """'text', 'number', 'text list' or 'number list' (token labels); 'mixed list' or 'empty list' for lists."""
    if isinstance(value, list):
        inner = {_label_kind(v) for v in value}
        return "empty list" if not inner else f"{inner.pop()} list" if len(inner) == 1 else "mixed list"
    return "text" if isinstance(value, str) else "number" if isinstance(value, int | float) else type(value).__name__


def _check_label_types(labels: Sequence[tuple[str, Any, str, list | None, list[int]]]) -> None:
    """ValueError naming file, row and seed where labels of two types meet (in one column, or across seeds and
    references), before anything is computed: the Space's upload check shows it.

    `labels`: (source, seed or None, "prediction" / "reference", values, 1-based rows) per column.
    """
    first = None  # (kind, description) of the first label seen
    for source, seed, what, values, rows in labels:
        of_seed = "" if seed is None else f" (seed {seed})"
        types = set(map(type, values or []))
        whole = "number" if types <= {int, float, bool} else "text" if types == {str} else None
        if values and whole is not None and (first is None or first[0] == whole):  # one type: no per-value loop
            first = first or (whole, f"{source} row {rows[0]}{of_seed} has the {what} {_short(values[0])} ({whole})")
            continue
        for k, (value, row) in enumerate(zip(values or [], rows if values else [], strict=True)):
            kind = _label_kind(value)
            if kind in ("mixed list", "text list list", "number list list"):
                raise ValueError(f"{source} row {row}{of_seed}: the {what} {_short(value)} mixes label types")
            if kind == "empty list":
                continue
            if first is None:
                first = (kind, f"{source} row {row}{of_seed} has the {what} {_short(value)} ({kind})")
            elif kind != first[0]:
                if kind == "text":  # a CSV column turns to text at its first non-number: show that cell
                    k = next((j for j, v in enumerate(values) if not _is_float_text(v)), k)
                    value, row = values[k], rows[k]
                here = f"{source} row {row}{of_seed} has the {what} {_short(value)} ({kind})"
                raise ValueError(f"mixed label types: {here}, but {first[1]}; use one type for every label")


def _seed_labels(columns: Sequence[_SeedColumn]) -> list:
    """The (source, seed, what, values, rows) of every column's predictions and references, for the type check."""
    return [(c.source, c.seed, what, values, c.rows) for c in columns
            for what, values in (("prediction", c.predictions), ("reference", c.references))]  # fmt: skip


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_unique_ids(column: _SeedColumn) -> None:
    first_row: dict[str, int] = {}
    for value, row in zip(column.ids, column.rows, strict=True):
        key = _id_key(value)
        if key in first_row:
            of_seed = "" if column.seed is None else f" (seed {column.seed})"
            raise ValueError(f"{column.source} row {row}{of_seed}: duplicate id {value!r} (also row {first_row[key]})")
        first_row[key] = row


def _align_seed_columns(seeds: list[_SeedColumn], notes: list[str]) -> SeedPredictions:
    """Match the seeds' rows by id (`align_by_id`), or by position when no file has ids."""
    base = seeds[0]
    with_ids = [c for c in seeds if c.ids is not None]
    if with_ids and len(with_ids) < len(seeds):
        lacking = next(c for c in seeds if c.ids is None)
        raise ValueError(
            f"{with_ids[0].source} has an id column but {lacking.source} (seed {lacking.seed}) has none; "
            "give every file an id column, or none"
        )
    if not with_ids:
        for column in seeds[1:]:
            if len(column.predictions) != len(base.predictions):
                raise ValueError(
                    f"unequal lengths: seed {base.seed} ({base.source}) has {len(base.predictions)} rows but seed "
                    f"{column.seed} ({column.source}) has {len(column.predictions)}; add an id column to align them"
                )
    for column in with_ids:
        _check_unique_ids(column)
    named_rows = {
        c.seed: {
            "ids": c.ids if with_ids else list(range(len(c.predictions))),
            "predictions": c.predictions,
            "references": c.references,
            "probabilities": c.probabilities,
        }
        for c in seeds
    }
    labelled = next((c for c in seeds if c.references is not None), None)
    if labelled is not None and labelled is not base:  # align_by_id takes the first seed's references
        named_rows = {labelled.seed: named_rows.pop(labelled.seed), **named_rows}
    try:
        aligned = align_by_id(named_rows)
    except ValueError as err:
        files = ", ".join(f"seed {c.seed}: {c.source}" for c in seeds)
        raise ValueError(f"{err} (files: {files})") from None
    if labelled is not None and labelled is not base:
        order = [aligned.seeds.index(c.seed) for c in seeds]
        aligned = SeedPredictions(
            seeds=[aligned.seeds[k] for k in order],
            predictions=[aligned.predictions[k] for k in order],
            references=aligned.references,
            ids=aligned.ids,
            probabilities=None if aligned.probabilities is None else [aligned.probabilities[k] for k in order],
        )
    if with_ids:
        notes.append(f"matched the rows of {len(seeds)} seeds by id")
    else:
        aligned.ids = None
    return aligned


def _read_references(
    path: Path,
    loaded: SeedPredictions,
    id_column: str | None,
    reference_column: str | None,
    max_bytes: int,
    notes: list[str],
) -> list:
    """The references of a separate file, matched to the predictions by id when both have ids."""
    table = _parse_upload(path, _display_name(path), max_bytes)
    id_col = _find_column(table, id_column, _ID_NAMES, "id")
    ref_col = _find_column(table, reference_column, _REFERENCE_NAMES, "reference")
    others = [c for c in table.columns if c != id_col]
    if ref_col is None and len(others) == 1:
        ref_col = others[0]
    if ref_col is None:
        raise ValueError(
            f"{table.name}: cannot tell which column holds the references among ({', '.join(table.columns)}); "
            "name it 'label', or name it explicitly"
        )
    rows = list(range(1, table.n_rows + 1))
    values = table.columns[ref_col]
    _check_present(values, table, ref_col, rows, None, "reference")
    if id_col is not None and loaded.ids is not None:
        column = _SeedColumn(None, table.name, values, rows, table.columns[id_col])
        _check_unique_ids(column)
        position = {_id_key(i): k for k, i in enumerate(column.ids)}
        missing = [i for i in loaded.ids if _id_key(i) not in position]
        if missing or len(position) != len(loaded.ids):
            raise ValueError(
                f"ids differ: {table.name} has {len(position)} ids, the predictions have {len(loaded.ids)}"
                f"{f'; no reference for id {missing[0]!r}' if missing else ''}"
            )
        _check_reference_types(loaded, f"{table.name} column {ref_col!r}", values, rows)
        notes.append(f"references: {table.name} column {ref_col!r}, matched by id")
        return [values[position[_id_key(i)]] for i in loaded.ids]
    if len(values) != len(loaded.predictions[0]):
        raise ValueError(
            f"unequal lengths: {table.name} has {len(values)} references but the predictions have "
            f"{len(loaded.predictions[0])} rows"
        )
    _check_reference_types(loaded, f"{table.name} column {ref_col!r}", values, rows)
    notes.append(f"references: {table.name} column {ref_col!r}, matched by row order")
    return values


def _check_reference_types(loaded: SeedPredictions, source: str, values: list, rows: list[int]) -> None:
    """The references of a separate file hold the same type of label as the predictions (`_check_label_types`)."""
    first = ("the predictions", loaded.seeds[0], "prediction", loaded.predictions[0][:1], [1])
    _check_label_types([first, (source, None, "reference", values, rows)])


def _display_name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if _SEED_DIR.match(path.parent.name) else path.name


def _unpack_zip(path: Path, into: Path, max_total_bytes: int) -> list[Path]:
    """Extract a zip's files (no absolute paths, no '..', no macOS metadata) after checking their total size."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{path.name}: not a valid zip file") from None
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and "__MACOSX" not in m.filename and not Path(m.filename).name.startswith(".")
        ]
        total = sum(m.file_size for m in members)
        if total > max_total_bytes:
            raise ValueError(
                f"{path.name}: unpacks to {total / 2**20:.1f} MiB, over the {max_total_bytes / 2**20:.0f} MiB limit"
            )
        extracted = []
        for member in members:
            target = (into / member.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise ValueError(f"{path.name}: member {member.filename!r} points outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            extracted.append(target)
    return extracted


def _expand_uploads(paths: Sequence[Path], scratch: Path, max_total_bytes: int) -> list[tuple[Path, str]]:
    """(path, name for messages) of every prediction file or run directory in the upload; zips are unpacked."""
    found: list[tuple[Path, str]] = []
    for number, path in enumerate(paths):
        if path.suffix.lower() != ".zip":
            found.append((path, str(path) if path.is_dir() else _display_name(path)))
            continue
        inside = _unpack_zip(path, scratch / str(number), max_total_bytes)
        seed_files = [p for p in inside if p.name == PREDICTIONS_FILE and _SEED_DIR.match(p.parent.name)]
        run_dirs = sorted({p.parent.parent for p in seed_files})
        if len(run_dirs) > 1:
            raise ValueError(f"{path.name}: holds {len(run_dirs)} run directories; zip one run at a time")
        if run_dirs:
            found.append((run_dirs[0], f"{path.name}/{run_dirs[0].relative_to(scratch / str(number))}".rstrip("/.")))
        else:
            found += [(p, f"{path.name}/{p.name}") for p in inside if p.suffix.lower() in UPLOAD_SUFFIXES[:-1]]
    return found


def _run_dir_columns(run_dir: Path, name: str) -> list[_SeedColumn]:
    """The seeds of a MultiSeedTrainer run directory (read by `read_run_dir`, which aligns them by id)."""
    try:
        loaded = read_run_dir(run_dir)
    except ValueError as err:
        raise ValueError(str(err).replace(str(run_dir), name)) from None
    rows = list(range(1, len(loaded.predictions[0]) + 1))
    probabilities = loaded.probabilities or [None] * len(loaded.seeds)
    columns = []
    for seed, predictions, seed_probabilities in zip(loaded.seeds, loaded.predictions, probabilities, strict=True):
        source = f"{name}/{seed_dir_name(seed)}/{PREDICTIONS_FILE}"
        columns.append(_SeedColumn(seed, source, predictions, rows, loaded.ids, loaded.references, seed_probabilities))
    return columns


def load_uploaded_predictions(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    reference_path: str | os.PathLike | None = None,
    *,
    id_column: str | None = None,
    prediction_columns: Sequence[str] | None = None,
    reference_column: str | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_seeds: int = MAX_SEEDS,
    max_examples: int = MAX_EXAMPLES,
    notes: list[str] | None = None,
) -> SeedPredictions:
    """Read the predictions of several seeds, in whatever layout they come, into one SeedPredictions.

    `paths` is one file per seed (CSV, TSV, JSONL, JSON, NPY without pickle, Parquet; the seed comes from the
    file name, e.g. ``seed-42.csv`` or ``seed-42/predictions.jsonl``), or one file with a column per seed
    (``seed_42, seed_52, ...``; a 2-D NPY is seeds x examples) or with a ``seed`` column (long format), or a
    run directory of MultiSeedTrainer, or a zip of any of these. Columns named like ``id``, ``label`` and
    ``prediction`` are detected (or pass their names); rows are matched by id when there are ids. References
    come from a label column or from `reference_path`. If `notes` is a list, a line per detection decision
    is appended to it. Any problem raises ValueError naming the file, row and seed.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "seed-42.csv").write_text("id,prediction,label\\n1,a,a\\n2,b,a\\n")
        >>> _ = (folder / "seed-52.csv").write_text("id,prediction,label\\n2,a,a\\n1,a,a\\n")
        >>> loaded = load_uploaded_predictions([folder / "seed-42.csv", folder / "seed-52.csv"])
        >>> loaded.seeds, loaded.predictions, loaded.references
        ([42, 52], [['a', 'b'], ['a', 'a']], ['a', 'a'])
    """
    notes = [] if notes is None else notes
    paths = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not paths:
        raise ValueError("no prediction files given")
    with tempfile.TemporaryDirectory(prefix="seed-consistency-upload-") as scratch:
        uploads = _expand_uploads(paths, Path(scratch), max_total_bytes)
        if not uploads:
            raise ValueError(f"no prediction files in {', '.join(p.name for p in paths)}")
        total = sum(p.stat().st_size for p, _ in uploads if p.is_file())
        if total > max_total_bytes:
            raise ValueError(
                f"the files total {total / 2**20:.1f} MiB, over the {max_total_bytes / 2**20:.0f} MiB limit"
            )
        seeds: list[_SeedColumn] = []
        for path, name in uploads:
            if path.is_dir():
                seeds += _run_dir_columns(path, name)
                notes.append(f"{name}: run directory with seeds {', '.join(str(c.seed) for c in seeds)}")
            else:
                table = _parse_upload(path, name, max_file_bytes)
                if table.n_rows > max_examples * max_seeds:
                    raise ValueError(f"{name}: {table.n_rows} rows, over the limit of {max_examples * max_seeds}")
                in_files = None if reference_path is not None else reference_column  # else it names the file's
                seeds += _seed_columns(table, path, id_column, in_files, prediction_columns, notes)
        first_source: dict[str, str] = {}
        for column in seeds:
            if str(column.seed) in first_source:
                raise ValueError(
                    f"seed {column.seed} appears twice ({first_source[str(column.seed)]} and {column.source}); name "
                    "the files seed-<k>.<ext>, or upload the run directory as a .zip"
                )
            first_source[str(column.seed)] = column.source
        if len(seeds) < 2:
            raise ValueError(f"found only 1 seed ({seeds[0].source}); upload one file per seed or a column per seed")
        if len(seeds) > max_seeds:
            raise ValueError(f"{len(seeds)} seeds, over the limit of {max_seeds}")
        if max(len(c.predictions) for c in seeds) > max_examples:
            raise ValueError(f"{max(len(c.predictions) for c in seeds)} examples, over the limit of {max_examples}")
        _check_label_types(_seed_labels(seeds))
        loaded = _align_seed_columns(seeds, notes)
        if reference_path is not None:
            references = _read_references(
                Path(reference_path), loaded, id_column, reference_column, max_file_bytes, notes
            )
            if loaded.references is not None and references != loaded.references:
                k = next(k for k, (a, b) in enumerate(zip(loaded.references, references, strict=True)) if a != b)
                where = f"id {loaded.ids[k]!r}" if loaded.ids is not None else f"row {k + 1}"
                raise ValueError(
                    f"references differ at {where}: the prediction files say {loaded.references[k]!r}, "
                    f"{Path(reference_path).name} says {references[k]!r}"
                )
            loaded.references = references
    notes.append(
        f"{len(loaded.seeds)} seeds x {len(loaded.predictions[0])} examples, "
        f"{'with' if loaded.references is not None else 'without'} references"
    )
    return loaded


def align_runs(run_a: SeedPredictions, run_b: SeedPredictions, names: tuple[str, str] = ("A", "B")) -> tuple:
    """Put run B's examples in run A's order, for a comparison of two models on the same examples.

    With ids on both sides, B is reordered to A's ids; without ids on either, examples match by position. The
    references of one run serve both when the other has none. ValueError naming the id (or row) when the two
    runs are not the same examples or disagree on a reference label.

    >>> a = SeedPredictions(seeds=[1, 2], predictions=[[0, 1], [1, 1]], references=[0, 1], ids=["x", "y"])
    >>> b = SeedPredictions(seeds=[1, 2], predictions=[[1, 0], [1, 1]], ids=["y", "x"])
    >>> aligned_a, aligned_b = align_runs(a, b)
    >>> aligned_b.predictions, aligned_b.references
    ([[0, 1], [1, 1]], [0, 1])
    """
    n_a, n_b = len(run_a.predictions[0]), len(run_b.predictions[0])
    if (run_a.ids is None) != (run_b.ids is None):
        with_ids, without = names if run_a.ids is not None else names[::-1]
        raise ValueError(
            f"{with_ids} has example ids but {without} has none: the examples cannot be matched; give both an id "
            "column, or neither (then rows match by position)."
        )
    if run_a.ids is not None:
        position = {_id_key(i): k for k, i in enumerate(run_b.ids)}
        missing = next((i for i in run_a.ids if _id_key(i) not in position), None)
        if missing is not None or n_a != n_b:
            keys_a = {_id_key(i) for i in run_a.ids}
            extra = next((i for i in run_b.ids if _id_key(i) not in keys_a), None)
            problem = f"id {missing!r} of {names[0]} is not in {names[1]}" if missing is not None else (
                f"id {extra!r} of {names[1]} is not in {names[0]}")  # fmt: skip
            raise ValueError(
                f"{names[0]} and {names[1]} are not the same examples ({n_a} and {n_b} examples): {problem}."
            )
        order = [position[_id_key(i)] for i in run_a.ids]
        run_b = SeedPredictions(
            seeds=run_b.seeds,
            predictions=[[row[k] for k in order] for row in run_b.predictions],
            references=None if run_b.references is None else [run_b.references[k] for k in order],
            ids=list(run_a.ids),
            probabilities=None if run_b.probabilities is None else [p[order] for p in run_b.probabilities],
        )
    elif n_a != n_b:
        raise ValueError(
            f"{names[0]} has {n_a} examples but {names[1]} has {n_b}: a comparison needs both models' predictions "
            "on the same examples (add an id column to match them by id)."
        )
    references = run_a.references if run_a.references is not None else run_b.references
    if run_a.references is not None and run_b.references is not None and run_a.references != run_b.references:
        k = next(k for k, (x, y) in enumerate(zip(run_a.references, run_b.references)) if x != y)
        where = f"id {run_a.ids[k]!r}" if run_a.ids is not None else f"row {k + 1}"
        raise ValueError(
            f"{names[0]} and {names[1]} disagree on the reference label at {where}: {names[0]} says "
            f"{run_a.references[k]!r}, {names[1]} says {run_b.references[k]!r}; not the same examples."
        )
    return replace(run_a, references=references), replace(run_b, references=references)
