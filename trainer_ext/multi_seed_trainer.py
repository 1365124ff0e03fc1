"""``MultiSeedTrainer``: a drop-in for ``transformers.Trainer`` that trains every seed and reports consistency.

Example::

    from transformers import TrainingArguments
    from trainer_ext import MultiSeedTrainer

    trainer = MultiSeedTrainer(
        model_name_or_path="bert-base-uncased", model_kwargs={"num_labels": 2},
        args=TrainingArguments(output_dir="runs/rte", num_train_epochs=3),
        train_dataset=train, eval_dataset=validation, processing_class=tokenizer,
        seeds=[42, 52, 62],
    )
    trainer.train()            # seed-42/, seed-52/, seed-62/ under runs/rte (a rerun resumes)
    trainer.evaluate()         # {"eval_accuracy_mean": ..., "eval_accuracy_std": ..., "eval_con": ..., ...}
    trainer.predict(test).report["ccon"]
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from transformers import TrainerCallback, TrainingArguments

from seed_consistency_metric import PAPER_SEEDS, seed_consistency
from seed_consistency_metric.predictions_io import (
    PREDICTIONS_FILE,
    REPORT_FILE,
    read_seed_predictions,
    write_json_atomic,
    write_seed_predictions,
)

from .backends import BACKENDS, run_seeds
from .model_factory import SeedModelFactory
from .reporting import log_summary, summary_callbacks
from .results import MultiSeedPredictionOutput, MultiSeedTrainOutput, ReproducibilityReport
from .seed_run import SeedRun, example_ids


def _checked_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: MultiSeedTrainer needs at least one seed")
    bad = [seed for seed in seeds if isinstance(seed, bool) or not isinstance(seed, (int, np.integer))]
    if bad:
        raise ValueError(f"seeds must be integers, got {bad}")
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ValueError(f"seeds must be unique, got {duplicates} more than once")
    return [int(seed) for seed in seeds]


def mean_std_over_seeds(per_seed: Mapping[int, Mapping[str, Any]], prefix: str) -> dict[str, float]:
    """``<m>_mean`` and ``<m>_std`` (population std, as VAR) of each numeric metric starting with ``prefix_``."""
    keys = [key for key in next(iter(per_seed.values())) if key.startswith(f"{prefix}_")]
    summary = {}
    for key in keys:
        values = [metrics.get(key) for metrics in per_seed.values()]
        if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
            summary[f"{key}_mean"] = float(np.mean(values))
            summary[f"{key}_std"] = float(np.std(values))
    return summary


def _max_weight_diff(first: Path, second: Path) -> float:
    from safetensors.numpy import load_file

    diff = 0.0
    for path in sorted(first.glob("*.safetensors")):
        a, b = load_file(path), load_file(second / path.name)
        diff = max([diff, *(float(np.max(np.abs(a[key] - b[key]), initial=0.0)) for key in a)])
    return diff


class MultiSeedTrainer:
    """Train the same model with every seed in ``seeds`` and report CON, CCON and VAR across them.

    Takes ``transformers.Trainer``'s arguments (passed on to one Trainer per seed) plus:

    - ``seeds``: the paper's 42, 52, ..., 132 by default.
    - the model: ``model_init``, ``model_name_or_path`` (+ ``model_class``, default
      ``AutoModelForSequenceClassification``, and ``model_kwargs`` for ``from_pretrained``), or ``model``
      (copied; its body is restored for every seed and its head re-drawn from the seed; never mutated).
    - ``peft_config``: LoRA (or any peft config); the base model is loaded once and every seed gets a new
      adapter and head.
    - ``vary``: "both" (seed and data_seed follow the seed), "init" (only ``TrainingArguments.seed``:
      initialisation and dropout) or "data" (only ``data_seed``: data order).
    - ``consistency_kwargs``: passed to ``seed_consistency`` (task, zeta, tolerance, n_bootstrap, ...).
    - ``backend``: "sequential", "parallel" (one process per GPU; ``n_workers`` CPU processes without GPUs)
      or "ray" (one task per seed on the running Ray cluster).
    - ``check_reproducibility``: after training, retrain the first seed from scratch and report mismatches.

    Each seed writes ``output_dir/seed-<k>/`` (checkpoints, final model or adapter, metrics.json,
    predictions.jsonl on the eval_dataset, DONE). Rerunning the same script skips finished seeds and resumes
    the unfinished one from its last checkpoint (checkpoints follow ``save_strategy``; with "no" an
    interrupted seed starts over). With the "parallel" and "ray" backends every argument is
    pickled (cloudpickle) into the workers: callbacks run there, so state they keep stays in the worker.
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        args: TrainingArguments | None = None,
        data_collator: Callable | None = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        model_init: Callable[[], nn.Module] | None = None,
        compute_loss_func: Callable | None = None,
        compute_metrics: Callable | None = None,
        callbacks: list[TrainerCallback] | None = None,
        optimizers: tuple = (None, None),
        optimizer_cls_and_kwargs: tuple | None = None,
        preprocess_logits_for_metrics: Callable | None = None,
        *,
        seeds: Sequence[int] = PAPER_SEEDS,
        model_name_or_path: str | Path | None = None,
        model_class: Any = None,
        model_kwargs: Mapping[str, Any] | None = None,
        peft_config: Any = None,
        vary: str = "both",
        consistency_kwargs: Mapping[str, Any] | None = None,
        backend: str = "sequential",
        n_workers: int | None = None,
        check_reproducibility: bool = False,
    ) -> None:
        if tuple(optimizers) != (None, None):
            raise ValueError(
                "MultiSeedTrainer builds a new model per seed, so a ready optimizer cannot be reused: "
                "pass optimizer_cls_and_kwargs=(OptimizerClass, kwargs) instead of optimizers"
            )
        if isinstance(eval_dataset, Mapping):
            raise ValueError("MultiSeedTrainer needs a single eval_dataset, not a dict of datasets")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.args = args if args is not None else TrainingArguments(output_dir="tmp_trainer")
        self.seeds = _checked_seeds(seeds)
        self.backend = backend
        self.n_workers = n_workers
        self.check_reproducibility = check_reproducibility
        self.consistency_kwargs = dict(consistency_kwargs or {})
        self.eval_dataset = eval_dataset
        self.callbacks = list(callbacks or [])
        self.factory = SeedModelFactory(
            model=model,
            model_init=model_init,
            model_name_or_path=model_name_or_path,
            model_class=model_class,
            model_kwargs=model_kwargs,
            peft_config=peft_config,
        )
        self.run = SeedRun(
            args=self.args,
            factory=self.factory,
            trainer_kwargs={
                "data_collator": data_collator,
                "train_dataset": train_dataset,
                "eval_dataset": eval_dataset,
                "processing_class": processing_class,
                "compute_loss_func": compute_loss_func,
                "compute_metrics": compute_metrics,
                "callbacks": callbacks,
                "optimizer_cls_and_kwargs": optimizer_cls_and_kwargs,
                "preprocess_logits_for_metrics": preprocess_logits_for_metrics,
            },
            vary=vary,
            task=self.consistency_kwargs.get("task"),
        )

    @property
    def output_dir(self) -> Path:
        return Path(self.args.output_dir)

    def seed_dir(self, seed: int) -> Path:
        """``output_dir/seed-<seed>``: everything of that seed."""
        return self.run.seed_dir(seed)

    # ---- training ---------------------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: bool | None = None) -> MultiSeedTrainOutput:
        """Train every seed not yet DONE (resuming from its last checkpoint unless ``resume_from_checkpoint``
        is False); then evaluate on eval_dataset. Also saved as ``output_dir/train_results.json``."""
        if isinstance(resume_from_checkpoint, (str, Path)):
            raise ValueError(
                "MultiSeedTrainer finds each seed's last checkpoint in output_dir/seed-<k>/ itself; "
                "pass resume_from_checkpoint=True/False, not a path"
            )
        self._write_run_config()
        options = {"n_workers": self.n_workers} if self.backend == "parallel" else {}
        trained = run_seeds(self.run, self.seeds, self.backend, resume=resume_from_checkpoint is not False, **options)
        train_outputs = {seed: self.run.load_train_output(seed) for seed in self.seeds}
        metrics = mean_std_over_seeds({seed: out.metrics for seed, out in train_outputs.items()}, "train")
        report = None
        if self.eval_dataset is not None:
            eval_metrics, report = self._evaluate_saved("eval")
            metrics.update(eval_metrics)
        else:
            log_summary(self.args, metrics, summary_callbacks(self.args, self.callbacks))
        output = MultiSeedTrainOutput(
            seeds=self.seeds,
            train_outputs=train_outputs,
            trained_seeds=trained,
            skipped_seeds=[seed for seed in self.seeds if seed not in trained],
            metrics=metrics,
            report=report,
            reproducibility=self._check_reproducibility() if self.check_reproducibility else None,
        )
        output.to_json(self.output_dir / "train_results.json")
        return output

    def _write_run_config(self) -> None:
        """Write run_config.json, or check that an existing one describes the same models and seed roles."""
        path = self.output_dir / "run_config.json"
        peft_config = self.factory.peft_config
        config = {
            "model": self.factory.description,
            "seeds": self.seeds,
            "vary": self.run.vary,
            "backend": self.backend,
            "peft_config": peft_config.to_dict() if peft_config is not None else None,
            "consistency_kwargs": self.consistency_kwargs,
            "training_args": self.args.to_dict(),
        }
        config = json.loads(json.dumps(config, default=str))
        if not path.exists():
            write_json_atomic(path, config)
            return
        existing = json.loads(path.read_text())
        for key in ("model", "vary", "peft_config"):
            if key in existing and existing[key] != config[key]:
                raise ValueError(
                    f"{path} was written by a run with {key}={existing[key]!r}, this one has {key}={config[key]!r}: "
                    "resuming would mix the two; use another output_dir"
                )

    def _check_reproducibility(self) -> ReproducibilityReport:
        """Retrain the first seed from scratch beside the run and compare labels and saved weights."""
        seed = self.seeds[0]
        root = self.output_dir / "reproducibility-check"
        shutil.rmtree(root, ignore_errors=True)
        self.run.train_seed(seed, root=root, resume=False)
        first, again = self.seed_dir(seed), self.run.seed_dir(seed, root)
        n_examples = mismatches = 0
        if (first / PREDICTIONS_FILE).exists():
            a = read_seed_predictions(first / PREDICTIONS_FILE)["predictions"]
            b = read_seed_predictions(again / PREDICTIONS_FILE)["predictions"]
            n_examples, mismatches = len(a), sum(x != y for x, y in zip(a, b))
        diff = _max_weight_diff(first, again)
        shutil.rmtree(root)
        report = ReproducibilityReport(seed, mismatches == 0 and diff == 0.0, n_examples, mismatches, diff)
        if not report.identical:
            warnings.warn(
                f"seed {seed} is not reproducible: {mismatches}/{n_examples} predictions differ and the weights "
                f"differ by up to {diff:.3g} when retrained (set TrainingArguments(full_determinism=True)?)",
                stacklevel=2,
            )
        report.to_json(self.output_dir / "reproducibility.json")
        return report

    # ---- evaluation -------------------------------------------------------------------------------------
    def _require_done(self) -> None:
        missing = [seed for seed in self.seeds if not self.run.is_done(seed)]
        if missing:
            raise ValueError(f"seeds {missing} have not finished training in {self.output_dir}; call train() first")

    def _summarize(
        self, prefix: str, per_seed_metrics: dict[int, dict], labels: dict[int, list], references: list | None
    ) -> tuple[dict[str, float], dict | None]:
        metrics = mean_std_over_seeds(per_seed_metrics, prefix)
        report = None
        if len(labels) > 1:  # consistency needs a pair of seeds
            kwargs = dict(self.consistency_kwargs)
            kwargs.setdefault("task", infer_task_from_labels(labels))
            report = seed_consistency(labels, references, **kwargs)
            for key in ("con", "ccon", "var", "zeta_mean", "n_seeds"):
                if report.get(key) is not None:
                    metrics[f"{prefix}_{key}"] = report[key]
            name = REPORT_FILE if prefix == "eval" else f"consistency_report-{prefix}.json"
            write_json_atomic(self.output_dir / name, {**report, "split": prefix})
        log_summary(self.args, metrics, summary_callbacks(self.args, self.callbacks))
        return metrics, report

    def _evaluate_saved(self, prefix: str) -> tuple[dict[str, float], dict]:
        """Summary of the eval predictions and metrics the seeds saved at the end of training."""
        self._require_done()
        per_seed_metrics, labels, references = {}, {}, None
        for seed in self.seeds:
            saved = read_seed_predictions(self.seed_dir(seed) / PREDICTIONS_FILE)
            if references is not None and saved["references"] != references:
                raise ValueError(
                    f"{self.seed_dir(seed) / PREDICTIONS_FILE} has other labels than seed {self.seeds[0]}: "
                    "the seeds were evaluated on different eval datasets"
                )
            references = saved["references"]
            labels[seed] = saved["predictions"]
            per_seed_metrics[seed] = json.loads((self.seed_dir(seed) / "metrics.json").read_text())
        return self._summarize(prefix, per_seed_metrics, labels, references)

    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        """Mean and std over seeds of every metric, plus ``<prefix>_con``, ``_ccon``, ``_var``, ``_zeta_mean``.

        Without an ``eval_dataset`` this reads what each seed saved when training ended; with one, each
        seed's model is loaded from its directory and evaluated.
        """
        if eval_dataset is None and metric_key_prefix == "eval":
            if self.eval_dataset is None:
                raise ValueError("MultiSeedTrainer.evaluate needs an eval_dataset")
            return self._evaluate_saved("eval")[0]
        return self.predict(eval_dataset or self.eval_dataset, ignore_keys, metric_key_prefix).metrics

    def predict(
        self, test_dataset: Any, ignore_keys: list[str] | None = None, metric_key_prefix: str = "test"
    ) -> MultiSeedPredictionOutput:
        """Every seed's predictions on ``test_dataset`` and their consistency report.

        Also writes ``seed-<k>/predictions-<prefix>.jsonl`` and ``<prefix>_results.json`` (metrics, report).
        """
        self._require_done()
        outputs, labels, per_seed_metrics, references = {}, {}, {}, None
        for seed in self.seeds:
            seed_dir = self.seed_dir(seed)
            with self.factory.trained_model(seed, seed_dir) as model:
                trainer = self.run.make_trainer(model, self.run.seed_args(seed))
                output = trainer.predict(test_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
            labels[seed], references = self.run.labels_of(output)
            write_seed_predictions(
                seed_dir / f"predictions-{metric_key_prefix}.jsonl", labels[seed], references, example_ids(test_dataset)
            )
            outputs[seed], per_seed_metrics[seed] = output, output.metrics
        metrics, report = self._summarize(metric_key_prefix, per_seed_metrics, labels, references)
        write_json_atomic(self.output_dir / f"{metric_key_prefix}_results.json", {"metrics": metrics, "report": report})
        return MultiSeedPredictionOutput(
            predictions={seed: output.predictions for seed, output in outputs.items()},
            label_ids=outputs[self.seeds[0]].label_ids,
            metrics=metrics,
            report=report,
            predicted_labels=labels,
        )


def infer_task_from_labels(labels: Mapping[int, list]) -> str:
    """The metric's task for saved labels: lists per example are token labels, floats are regression."""
    first = next(iter(labels.values()))
    if first and isinstance(first[0], list):
        return "token_classification"
    if first and isinstance(first[0], float):
        return "regression"
    return "classification"
