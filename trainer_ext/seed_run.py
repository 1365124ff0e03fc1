"""Train one seed into ``<output_dir>/seed-<k>/`` with a plain ``transformers.Trainer``.

A ``SeedRun`` holds everything a seed needs (arguments, model factory, datasets, callbacks); it is picklable
so that worker processes and Ray tasks run exactly the code the sequential backend runs. A seed whose
``DONE`` marker exists is skipped; an unfinished one resumes from its last checkpoint.

Example::

    run = SeedRun(args=args, factory=SeedModelFactory(model_name_or_path=path), trainer_kwargs={...})
    run.train_seed(42)   # writes seed-42/{predictions.jsonl, metrics.json, train_output.json, DONE, ...}
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, TrainOutput

from seed_consistency_metric.predictions_io import (
    DONE_MARKER,
    PREDICTIONS_FILE,
    seed_dir_name,
    write_json_atomic,
    write_seed_predictions,
)

from .labels import to_labels
from .model_factory import SeedModelFactory

VARY = ("both", "init", "data")
ID_COLUMNS = ("id", "idx", "guid")


def example_ids(dataset: Any) -> list | None:
    """The ``id``/``idx``/``guid`` column of a datasets.Dataset, if it has one."""
    columns = getattr(dataset, "column_names", None) or []
    for name in ID_COLUMNS:
        if name in columns:
            return list(dataset[name])
    return None


def last_complete_checkpoint(seed_dir: Path) -> str | None:
    """The newest ``checkpoint-<step>`` Trainer finished writing (it writes ``trainer_state.json`` last).

    A run killed while saving leaves a newer, partial checkpoint behind; resuming skips it.

    >>> import tempfile
    >>> seed_dir = Path(tempfile.mkdtemp())
    >>> for step, complete in ((4, True), (8, False)):
    ...     (seed_dir / f"checkpoint-{step}").mkdir()
    ...     if complete:
    ...         _ = (seed_dir / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    >>> Path(last_complete_checkpoint(seed_dir)).name
    'checkpoint-4'
    """
    steps = [
        int(path.name.removeprefix(f"{PREFIX_CHECKPOINT_DIR}-"))
        for path in (seed_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if seed_dir.is_dir() else ())
        if path.name.removeprefix(f"{PREFIX_CHECKPOINT_DIR}-").isdigit() and (path / "trainer_state.json").is_file()
    ]
    return str(seed_dir / f"{PREFIX_CHECKPOINT_DIR}-{max(steps)}") if steps else None


@dataclasses.dataclass
class SeedRun:
    """The recipe of every seed of a MultiSeedTrainer: TrainingArguments, models, Trainer arguments."""

    args: TrainingArguments
    factory: SeedModelFactory
    trainer_kwargs: dict[str, Any]  # every other Trainer argument (datasets, collator, callbacks, ...)
    vary: str = "both"
    task: str | None = None  # for the prediction files; None infers it from the model outputs

    def __post_init__(self) -> None:
        if self.vary not in VARY:
            raise ValueError(f"vary must be one of {VARY}, got {self.vary!r}")

    @property
    def output_dir(self) -> Path:
        return Path(self.args.output_dir)

    def seed_dir(self, seed: int, root: Path | None = None) -> Path:
        return Path(root or self.output_dir) / seed_dir_name(seed)

    def is_done(self, seed: int, root: Path | None = None) -> bool:
        return (self.seed_dir(seed, root) / DONE_MARKER).exists()

    def seed_args(self, seed: int, root: Path | None = None) -> TrainingArguments:
        """The user's TrainingArguments with output_dir = seed dir and the seed in ``seed``/``data_seed``.

        vary="both": seed=k (init, dropout and data order); "init": seed=k, data_seed fixed to the user's
        ``args.data_seed`` (or ``args.seed``); "data": seed fixed to ``args.seed``, data_seed=k.
        """
        args = copy.deepcopy(self.args)
        args.output_dir = str(self.seed_dir(seed, root))
        base_data_seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        args.seed, args.data_seed = {
            "both": (seed, seed),
            "init": (seed, base_data_seed),
            "data": (self.args.seed, seed),
        }[self.vary]
        args.run_name = f"{self.args.run_name or self.output_dir.name}-{seed_dir_name(seed)}"
        return args

    def make_trainer(self, model: Any, args: TrainingArguments) -> Trainer:
        return Trainer(model=model, args=args, **self.trainer_kwargs)

    def labels_of(self, output: Any) -> tuple[list, list | None]:
        """Final labels and references (as stored in prediction files) of a Trainer ``PredictionOutput``."""
        return to_labels(output.predictions, output.label_ids, self.task)

    def train_seed(self, seed: int, root: Path | None = None, resume: bool = True) -> bool:
        """Train ``seed`` (resuming from its last checkpoint); False if it was already DONE."""
        if self.is_done(seed, root):
            return False
        args = self.seed_args(seed, root)
        seed_dir = Path(args.output_dir)
        checkpoint = last_complete_checkpoint(seed_dir) if resume else None
        started = time.time()
        with self.factory.seed_model(args.seed) as model:
            trainer = self.make_trainer(model, args)
            train_output = trainer.train(resume_from_checkpoint=checkpoint)
            trainer.save_model()
            metrics = dict(train_output.metrics)
            eval_dataset = self.trainer_kwargs.get("eval_dataset")
            if eval_dataset is not None:
                output = trainer.predict(eval_dataset, metric_key_prefix="eval")
                labels, references = self.labels_of(output)
                write_seed_predictions(seed_dir / PREDICTIONS_FILE, labels, references, example_ids(eval_dataset))
                trainer.log(output.metrics)
                metrics.update(output.metrics)
        write_json_atomic(seed_dir / "metrics.json", metrics)
        write_json_atomic(seed_dir / "train_output.json", train_output._asdict())
        write_json_atomic(
            seed_dir / DONE_MARKER,
            {"seed": seed, "resumed_from": checkpoint, "seconds": round(time.time() - started, 3)},
        )
        return True

    def load_train_output(self, seed: int, root: Path | None = None) -> TrainOutput:
        saved = json.loads((self.seed_dir(seed, root) / "train_output.json").read_text())
        return TrainOutput(**saved)
