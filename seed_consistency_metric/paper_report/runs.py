"""Finished run directories -> one :class:`RunResult` each (task, model, training size, the metric's report).

The numbers are recomputed from the seeds' ``predictions.jsonl`` with the zeta recorded in
``run_config.json`` (MCC for CoLA, accuracy elsewhere), so a report never depends on a stale summary file.

Example:
    >>> import tempfile
    >>> from seed_consistency_metric.predictions_io import write_seed_predictions
    >>> run = Path(tempfile.mkdtemp())
    >>> for seed, row in {42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}.items():
    ...     _ = write_seed_predictions(run / f"seed-{seed}" / "predictions.jsonl", row, references=[1] * 5)
    >>> result = load_run(run)
    >>> result.report["con"], result.report["zeta"]
    (0.2, [0.6, 0.6])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..predictions_io import DONE_MARKER, PREDICTIONS_FILE, read_json, read_run_dir, seed_dir_name, seed_dirs

RUN_CONFIG_FILE = "run_config.json"
_SEARCH_DEPTH = 3


@dataclass
class RunResult:
    """One model on one task: where it came from and the metric's report over its seeds."""

    run_dir: Path
    model: str
    task: str  # display name: CoLA, RTE, ...
    benchmark: str  # GLUE, SuperGLUE, demo, custom
    train_size: int | None
    report: dict[str, Any]  # seed_consistency(...) of the eval predictions

    @property
    def label(self) -> str:
        return f"{self.benchmark} {self.task}" if self.benchmark in ("GLUE", "SuperGLUE") else self.task


def is_run_dir(path: Path) -> bool:
    return (path / RUN_CONFIG_FILE).is_file() or bool(seed_dirs(path))


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """The run directories among ``paths`` or below them (up to 3 levels), in the order given."""
    found: list[Path] = []
    for given in map(Path, paths):
        if not given.is_dir():
            raise ValueError(f"{given}: no such directory")
        level, runs = [given], []
        for _ in range(_SEARCH_DEPTH + 1):
            runs += [path for path in level if is_run_dir(path)]
            level = sorted(
                child for path in level if not is_run_dir(path) for child in path.iterdir() if child.is_dir()
            )
        if not runs:
            raise ValueError(f"{given}: no run directory here (no {RUN_CONFIG_FILE}, no seed-*/{PREDICTIONS_FILE})")
        found += [run for run in runs if run not in found]
    return found


def model_label(config: dict[str, Any]) -> str:
    """The model's name in tables: ``model_label``, else the last part of ``model`` (a Hub id or a path).

    >>> model_label({"model": "FacebookAI/roberta-large"}), model_label({"model": "/x/y", "model_label": "Y"})
    ('roberta-large', 'Y')
    """
    if config.get("model_label"):
        return str(config["model_label"])
    path = Path(str(config.get("model") or "model"))
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def load_run(run_dir: str | Path) -> RunResult:
    """The report of one finished run directory; ValueError naming the directory and the unfinished seeds."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / RUN_CONFIG_FILE) if (run_dir / RUN_CONFIG_FILE).is_file() else {}
    if not isinstance(config, dict):
        raise ValueError(f"{run_dir / RUN_CONFIG_FILE}: expected a JSON object")
    seeds = config.get("seeds")
    if seeds:
        unfinished = [seed for seed in seeds if not (run_dir / seed_dir_name(seed) / DONE_MARKER).is_file()]
        if unfinished:
            raise ValueError(
                f"{run_dir}: seeds {unfinished} are not finished (no {DONE_MARKER} marker); rerun the same "
                "`seed-consistency run` command to complete it"
            )
    predictions = read_run_dir(run_dir)
    if seeds:
        extra = [seed for seed in predictions.seeds if seed not in seeds]
        if extra:
            raise ValueError(f"{run_dir}: seed folders {extra} are not among the run's seeds {seeds}")
    if predictions.references is None:
        raise ValueError(f"{run_dir}: the predictions have no labels, so zeta, VAR and CCON cannot be computed")
    zeta = config.get("zeta") or config.get("consistency_kwargs", {}).get("zeta", "accuracy")
    report = predictions.report(zeta=zeta, pairwise=True)
    return RunResult(
        run_dir=run_dir,
        model=model_label(config),
        task=str(config.get("display_name") or config.get("task") or run_dir.name),
        benchmark=str(config.get("benchmark") or "custom"),
        train_size=config.get("train_size"),
        report=report,
    )


def load_runs(paths: Iterable[str | Path]) -> list[RunResult]:
    """:func:`load_run` of every run directory among or below ``paths``."""
    return [load_run(run_dir) for run_dir in find_run_dirs(paths)]
