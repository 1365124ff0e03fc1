"""Train one seed into ``<output_dir>/seed-<k>/`` with ``transformers.Trainer`` (or any subclass of it).

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
import inspect
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, TrainOutput

from seed_consistency_metric.predictions_io import (
    DONE_MARKER,
    PREDICTIONS_FILE,
    probabilities_path,
    seed_dir_name,
    write_json_atomic,
    write_seed_predictions,
    write_seed_probabilities,
)

from .generation import labels_task
from .labels import hook_labels, to_labels, to_probabilities
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
    trainer_kwargs: dict[str, Any]  # every other argument of trainer_class (datasets, collator, callbacks, ...)
    vary: str = "both"
    task: str | None = None  # for the prediction files; None infers it (generation with predict_with_generate)
    trainer_class: type = Trainer  # Trainer or a subclass (Seq2SeqTrainer, trl's SFTTrainer, ...)
    predictions_to_labels: Callable | None = None  # EvalPrediction -> (labels, references or None)
    save_probabilities: bool = False  # also write probabilities[-<split>].npy beside each prediction file
    save_model: bool = True  # keep the final model; False: only predictions, checkpoints deleted once DONE

    def __post_init__(self) -> None:
        if self.vary not in VARY:
            raise ValueError(f"vary must be one of {VARY}, got {self.vary!r}")
        check_trainer_class(self.trainer_class, self.trainer_kwargs)
        processing_class = self.trainer_kwargs.get("processing_class")
        self.task = labels_task(self.args, self.task, self.trainer_class, processing_class, self.predictions_to_labels)
        if self.save_probabilities and self.task not in (None, "classification", "regression"):
            raise ValueError(f"save_probabilities stores class probabilities or regression outputs, not {self.task}")

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

    def make_trainer(self, model: Any, args: TrainingArguments, **overrides: Any) -> Trainer:
        """A ``trainer_class`` for ``model``; ``overrides`` replace trainer_kwargs (None values are left out)."""
        kwargs = {key: value for key, value in {**self.trainer_kwargs, **overrides}.items() if value is not None}
        return self.trainer_class(model=model, args=args, **kwargs)

    def labels_of(self, output: Any) -> tuple[list, list | None]:
        """Final labels and references (as stored in prediction files) of a Trainer ``PredictionOutput``."""
        if self.predictions_to_labels is not None:
            return hook_labels(self.predictions_to_labels, output.predictions, output.label_ids)
        return to_labels(output.predictions, output.label_ids, self.task, self.trainer_kwargs.get("processing_class"))

    def predict(self, trainer: Trainer, dataset: Any, metric_key_prefix: str, path: Path, **kwargs: Any) -> tuple:
        """``trainer.predict`` on ``trainer.eval_dataset`` (``dataset`` as the trainer class prepared it, e.g.
        tokenized by SFTTrainer); writes the labels to ``path``. Returns (PredictionOutput, labels, references)."""
        prepared = trainer.eval_dataset if trainer.eval_dataset is not None else dataset
        output = trainer.predict(prepared, metric_key_prefix=metric_key_prefix, **kwargs)
        labels, references = self.labels_of(output)
        ids = example_ids(prepared)
        write_seed_predictions(path, labels, references, example_ids(dataset) if ids is None else ids)
        if self.save_probabilities:
            write_seed_probabilities(probabilities_path(path), to_probabilities(output.predictions, self.task))
        return output, labels, references

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
            if self.save_model:
                trainer.save_model()
            metrics = dict(train_output.metrics)
            eval_dataset = self.trainer_kwargs.get("eval_dataset")
            if eval_dataset is not None:
                output, _, _ = self.predict(trainer, eval_dataset, "eval", seed_dir / PREDICTIONS_FILE)
                trainer.log(output.metrics)
                metrics.update(output.metrics)
        write_json_atomic(seed_dir / "metrics.json", metrics)
        write_json_atomic(seed_dir / "train_output.json", train_output._asdict())
        write_json_atomic(
            seed_dir / DONE_MARKER,
            {"seed": seed, "resumed_from": checkpoint, "seconds": round(time.time() - started, 3)},
        )
        if not self.save_model:  # checkpoints only serve resuming an unfinished seed
            for path in seed_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
                shutil.rmtree(path, ignore_errors=True)
        return True

    def load_train_output(self, seed: int, root: Path | None = None) -> TrainOutput:
        saved = json.loads((self.seed_dir(seed, root) / "train_output.json").read_text())
        return TrainOutput(**saved)


def check_trainer_class(trainer_class: Any, trainer_kwargs: dict[str, Any]) -> None:
    """A clear ValueError unless ``trainer_class`` is a Trainer subclass that takes every given argument."""
    if not (isinstance(trainer_class, type) and issubclass(trainer_class, Trainer)):
        raise ValueError(
            "trainer_class must be transformers.Trainer or a subclass of it (Seq2SeqTrainer, trl's SFTTrainer, "
            f"your own), got {trainer_class!r}"
        )
    parameters = inspect.signature(trainer_class.__init__).parameters
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return
    unknown = sorted(key for key, value in trainer_kwargs.items() if value is not None and key not in parameters)
    if unknown:
        raise ValueError(f"{trainer_class.__name__} does not take the argument(s) {unknown}")
