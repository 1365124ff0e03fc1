"""Check a reported table of zeta (accuracy), CON and CCON against what any predictions can produce.

Whatever the predictions, per task (see :mod:`accuracy_identity`): CCON <= CON, CCON <= accuracy,
CCON >= 2*accuracy - 1 and CON <= 2*CCON + 1 - 2*accuracy, with equality in the last for binary labels. A row
breaks one only beyond the slack its rounding allows (half a unit of its last reported digit, or ``tolerance``).

>>> rows = [{"task": "RTE", "accuracy": "80.1", "CON": "90.0", "CCON": "75.0", "n_classes": 2},
...         {"task": "CB", "accuracy": "90.0", "CON": "70.0", "CCON": "85.0"}]
>>> for checked in check_reported(rows):
...     print(checked.describe())
row 1 (RTE): ok
row 2 (CB): CCON <= CON fails by 14.9 points (values given to +-0.05)
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .accuracy_identity import IDENTITY_CONSTRAINTS

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_MISSING = {"", "-", "–", "—", "n/a", "na", "nan", "none"}
_ACCURACY_NAMES = {"accuracy", "acc", "exact_match", "em"}
_COLUMNS = {  # normalised header -> field
    "task": "task", "dataset": "task", "model": "model",
    "accuracy": "accuracy", "acc": "accuracy", "zeta": "accuracy", "ζ": "accuracy",
    "con": "con", "ccon": "ccon",
    "n_classes": "n_classes", "classes": "n_classes", "num_labels": "n_classes", "n_labels": "n_classes",
    "metric": "metric", "zeta_name": "metric",
}  # fmt: skip
_EPSILON = 1e-12
_NAMES = {"accuracy": "accuracy", "con": "CON", "ccon": "CCON"}


@dataclass
class Violation:
    """One identity a row breaks, by how much beyond its slack (in the table's units)."""

    check: str
    by: float


@dataclass
class RowCheck:
    """The outcome for one table row (``row`` counts data rows from 1)."""

    row: int
    task: str
    percent: bool
    slack: dict[str, float]  # per value, in the table's units
    violations: list[Violation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    binary: bool | None = None  # n_classes == 2; None when the row does not say

    @property
    def ok(self) -> bool:
        return not self.violations

    def describe(self) -> str:
        """One line: ``row 2 (CB): ok`` or the identities broken and by how much."""
        unit = " points" if self.percent else ""
        slack = ", ".join(sorted({f"+-{value:.3g}" for value in self.slack.values()}))
        found = "; ".join(f"{v.check} fails by {v.by:.3g}{unit}" for v in self.violations)
        text = f"row {self.row} ({self.task}): " + (f"{found} (values given to {slack})" if found else "ok")
        return text + "".join(f"; {note}" for note in self.skipped)


def _normalise(header: str) -> str:
    return re.sub(r"\s+", "_", header.replace("(%)", "").replace("%", "").strip().lower())


def _parse(value) -> tuple[float, int] | None:
    """(number, decimals reported) of a cell, or None when it is empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = repr(float(value)) if isinstance(value, float) else str(value).strip()
    if text.lower() in _MISSING:
        return None
    match = _NUMBER.search(text)
    if match is None:
        raise ValueError(f"{text!r} is not a number")
    mantissa, _, exponent = match.group().lower().partition("e")
    decimals = len(mantissa.partition(".")[2]) - int(exponent or 0)
    return float(match.group()), decimals


def _fields(row: Mapping) -> dict[str, object]:
    """A row's cells by field; a 'zeta' cell holding a word is the metric's name, a number its value."""
    found: dict[str, object] = {}
    for header, value in row.items():
        name = _COLUMNS.get(_normalise(str(header)))
        if name == "accuracy" and isinstance(value, str) and value.strip() and not _NUMBER.search(value):
            name = "metric"
        if name is not None and name not in found:
            found[name] = value
    return found


def _is_percent(parsed: list[dict[str, tuple[float, int] | None]], rows: Sequence[Mapping]) -> bool:
    headers = {str(header) for row in rows for header in row}
    cells = [str(value) for row in rows for value in row.values()]
    if any("%" in text for text in headers | set(cells)):
        return True
    return any(value is not None and value[0] > 1 for row in parsed for value in row.values())


def check_reported(
    rows: Sequence[Mapping], tolerance: float | None = None, percent: bool | None = None
) -> list[RowCheck]:
    """Check every row (task, zeta or accuracy, CON, CCON, optionally n_classes and metric) against the identities.

    Values are fractions or percent (detected: a '%' anywhere or a value above 1; or ``percent``). Each value
    may be off by half a unit of its last reported digit, or by ``tolerance`` (in the table's units) when given.
    Rows whose metric is not accuracy get only the checks without accuracy; the binary equality needs
    n_classes == 2.
    """
    if tolerance is not None and not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    fields = [_fields(row) for row in rows]
    parsed = []
    for number, found in enumerate(fields, 1):
        values = {}
        for key in ("accuracy", "con", "ccon"):
            try:
                values[key] = _parse(found.get(key))
            except ValueError as error:
                raise ValueError(f"row {number}, {key}: {error}") from None
        parsed.append(values)
    if not any(values["con"] or values["ccon"] for values in parsed):
        raise ValueError("no CON or CCON values found: the table needs columns named CON and CCON")
    percent = _is_percent(parsed, rows) if percent is None else percent
    scale = 100.0 if percent else 1.0
    return [_check_row(number, found, values, tolerance, scale) for number, (found, values) in
            enumerate(zip(fields, parsed), 1)]  # fmt: skip


def _check_row(number: int, found: dict, values: dict, tolerance: float | None, scale: float) -> RowCheck:
    present = {key: value for key, value in values.items() if value is not None}
    slack = {key: tolerance if tolerance is not None else 0.5 * 10.0 ** -decimals for key, (_, decimals) in
             present.items()}  # fmt: skip
    result = RowCheck(number, str(found.get("task", "") or f"row {number}"), scale == 100.0, slack)
    metric = str(found.get("metric") or "accuracy").strip().lower()
    if metric not in _ACCURACY_NAMES and "accuracy" in present:
        result.skipped.append(f"zeta is {metric}, not accuracy: only CCON <= CON checked")
        del present["accuracy"]
    low = {key: (value - slack[key]) / scale for key, (value, _) in present.items()}
    high = {key: (value + slack[key]) / scale for key, (value, _) in present.items()}
    for key in present:
        excess = max(low[key] - 1, -high[key])
        if excess > _EPSILON:
            result.violations.append(Violation(f"0 <= {_NAMES[key]} <= 1", excess * scale))
    n_classes = _parse(found.get("n_classes"))
    binary = n_classes is not None and n_classes[0] == 2
    for constraint in IDENTITY_CONSTRAINTS:
        if not set(constraint.coefficients) <= set(present):
            continue
        if constraint.binary_only and not binary:
            continue
        least = constraint.constant + sum(  # the smallest value of the linear form within the rounding box
            coefficient * (low[key] if coefficient > 0 else high[key])
            for key, coefficient in constraint.coefficients.items()
        )
        if least > _EPSILON:
            result.violations.append(Violation(constraint.name, least * scale))
    result.binary = None if n_classes is None else binary
    return result


def read_table(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV/TSV file or a markdown (pipe) table, as {header: cell text}."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text table (CSV, TSV or markdown)") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty table")
    if lines[0].startswith("|"):
        table = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
        table = [cells for cells in table if not all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells)]
    else:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" or "\t" in lines[0] else csv.excel
        table = list(csv.reader(io.StringIO("\n".join(lines)), dialect))
    header, body = table[0], table[1:]
    bad = next((i for i, cells in enumerate(body, 1) if len(cells) != len(header)), None)
    if bad is not None:
        raise ValueError(f"{path}: row {bad} has {len(body[bad - 1])} cells, the header {len(header)}")
    return [dict(zip(header, cells)) for cells in body]


def check_table(path: str | Path, tolerance: float | None = None, percent: bool | None = None) -> list[RowCheck]:
    """:func:`check_reported` of the table in ``path`` (errors name the file)."""
    try:
        return check_reported(read_table(path), tolerance, percent)
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(str(path)) else f"{path}: {message}") from None
