"""Typed results of MultiSeedTrainer, each saved as JSON with ``.to_json(path)``.

Example::

    output = trainer.train()
    output.train_outputs[42].training_loss, output.metrics["eval_con"]
    output.to_json("runs/rte/train_results.json")
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.trainer_utils import TrainOutput

from seed_consistency_metric.predictions_io import write_json_atomic

if TYPE_CHECKING:
    from .precision import StoppingDecision


def _jsonable(value: Any) -> Any:
    if isinstance(value, TrainOutput):
        return value._asdict() | {"metrics": _jsonable(value.metrics)}
    if dataclasses.is_dataclass(value):
        return {field.name: _jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class _JsonResult:
    def to_dict(self) -> dict:
        """A JSON-serialisable dict of every field (arrays become lists, seeds become string keys)."""
        return _jsonable(self)

    def to_json(self, path: str | Path) -> Path:
        """Write ``to_dict()`` atomically to ``path``."""
        return write_json_atomic(path, self.to_dict())


@dataclasses.dataclass
class ReproducibilityReport(_JsonResult):
    """Outcome of retraining ``seed`` from scratch and comparing with its first run."""

    seed: int
    identical: bool  # same predicted labels and bit-identical model outputs
    n_examples: int
    n_label_mismatches: int
    max_abs_output_diff: float


@dataclasses.dataclass
class MultiSeedTrainOutput(_JsonResult):
    """What ``MultiSeedTrainer.train()`` returns: one Trainer ``TrainOutput`` per seed and the summary."""

    seeds: list[int]
    train_outputs: dict[int, TrainOutput]
    trained_seeds: list[int]  # trained (or resumed) in this call
    skipped_seeds: list[int]  # already finished on disk
    metrics: dict[str, float]  # train_<m>_mean/_std and, with an eval_dataset, the evaluate() summary
    report: dict | None = None  # seed_consistency report on the eval_dataset
    reproducibility: ReproducibilityReport | None = None
    stopping: StoppingDecision | None = None  # with target_precision: why training stopped after n seeds
    warnings: list[str] = dataclasses.field(default_factory=list)  # nothing random varied; degenerate seeds


@dataclasses.dataclass
class MultiSeedPredictionOutput(_JsonResult):
    """What ``MultiSeedTrainer.predict()`` returns, like Trainer's ``PredictionOutput`` but for every seed."""

    predictions: dict[int, np.ndarray]  # raw model outputs per seed (logits; generated token ids)
    label_ids: np.ndarray | None
    metrics: dict[str, float]  # <prefix>_<m>_mean/_std and <prefix>_con, _ccon, _var, ...
    report: dict | None  # seed_consistency report (None with a single seed)
    predicted_labels: dict[int, list] = dataclasses.field(default_factory=dict)  # final labels per seed
