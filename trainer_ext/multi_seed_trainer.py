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

import functools
import inspect
import json
import shutil
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from transformers import EvalPrediction, Trainer, TrainerCallback, TrainingArguments

from seed_consistency_metric import PAPER_SEEDS, seed_consistency
from seed_consistency_metric.predictions_io import (
    PREDICTIONS_FILE,
    REPORT_FILE,
    probabilities_path,
    read_seed_predictions,
    read_seed_probabilities,
    write_json_atomic,
)

from .backends import backend_width, check_backend, run_seeds
from .model_factory import SeedModelFactory
from .padding import with_pad_token
from .precision import DEFAULT_N_BOOTSTRAP, STOPPING_FILE, check_target_precision, train_until_precise
from .randomness import unvaried_randomness
from .reporting import log_summary, summary_callbacks
from .results import MultiSeedPredictionOutput, MultiSeedTrainOutput, ReproducibilityReport
from .seed_run import SeedRun


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


def _checked_trainer_kwargs(trainer_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The trainer class's own arguments; those MultiSeedTrainer takes itself must be passed to it directly."""
    trainer_kwargs = dict(trainer_kwargs or {})
    own = sorted(set(trainer_kwargs) & (set(inspect.signature(MultiSeedTrainer.__init__).parameters) | {"model"}))
    if own:
        raise ValueError(
            f"trainer_kwargs has {own}: pass them to MultiSeedTrainer itself (it builds the model, the "
            "TrainingArguments and the peft model of every seed)"
        )
    return trainer_kwargs


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


_MODEL_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "adapter_model.safetensors",
                "adapter_model.bin")  # fmt: skip


def _has_saved_model(seed_dir: Path) -> bool:
    """Whether ``Trainer.save_model`` wrote a model or adapter into ``seed_dir``."""
    return any((seed_dir / name).is_file() for name in _MODEL_FILES)


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
    - ``peft_config``/``processing_class``: a tokenizer without a pad token (Llama's) is copied to pad with its
      eos token (warned), and every seed model without ``config.pad_token_id`` gets that id.
    - ``backend``: "sequential", "parallel" (``seeds_per_gpu`` worker processes per visible GPU, default 1;
      ``n_workers`` CPU processes without GPUs) or "ray" (one task per seed on the running Ray cluster, with
      1/``seeds_per_gpu`` of a GPU each).
    - ``target_precision``: e.g. ``{"con": 0.005, "var": 0.01}``: train ``seeds`` in order and stop at the
      first k >= 3 whose seed-and-example bootstrap interval (``consistency_kwargs`` n_bootstrap, default
      1000, random_state, resample="both", confidence_level) has every targeted half-width within its target,
      or when the seeds run out; ``self.seeds`` becomes the seeds used, ``train().stopping`` (and
      ``precision_stopping.json``) says why. The decision only depends on finished seeds, so a resumed run
      stops at the same k; stopping on the data makes the final interval optimistic (trainer_ext/precision.py).
    - ``check_reproducibility``: after training, retrain the first seed from scratch and report mismatches.
    - ``trainer_class``: ``transformers.Trainer`` (default) or any subclass: your own (custom
      ``compute_loss``), ``Seq2SeqTrainer``, trl's ``SFTTrainer``, ``CausalLMGenerationTrainer``. It must be
      importable in worker processes (or defined in ``__main__``). ``trainer_kwargs``: a mapping of that class's
      own constructor arguments (e.g. ``{"formatting_func": f}`` for SFTTrainer), passed to it for every seed.
    - generation: with ``predict_with_generate=True`` (``Seq2SeqTrainingArguments``) each seed's generations
      and references are decoded with ``processing_class`` into strings and reported with the metric's
      "generation" task (``consistency_kwargs={"pi": "token_f1"}`` for token-F1 instead of exact match).
    - ``predictions_to_labels``: ``f(EvalPrediction) -> (labels, references or None)``, one of each per
      example, for outputs that need their own decoding (e.g. generated "yes"/"no" mapped to 1/0).
    - ``save_probabilities``: each seed also writes its softmax class probabilities (regression: its outputs)
      beside every prediction file (``probabilities.npy``, ``probabilities-<prefix>.npy``); the reports then add
      the soft CON/CCON and the ensemble of mean probabilities (``<prefix>_soft_con``,
      ``<prefix>_ensemble_mean_probabilities``) beside the majority vote (``<prefix>_ensemble_majority_vote``).
    - ``save_model``: keep each seed's final model (default). False keeps only what the report needs
      (predictions, metrics): no final model, and a seed's checkpoints are deleted once it is DONE; resuming
      still works (finished seeds count by their predictions), ``predict`` on new data does not.
    - warnings: before training, when nothing random follows the seed (``vary="init"``, a checkpoint that
      already holds every weight, dropout 0; see trainer_ext/randomness.py), and after it, the report's
      ``warnings`` (degenerate or identical seeds): raised with ``warnings.warn`` and kept in
      ``train().warnings``.

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
        seeds_per_gpu: int = 1,
        target_precision: Mapping[str, float] | None = None,
        check_reproducibility: bool = False,
        trainer_class: type = Trainer,
        trainer_kwargs: Mapping[str, Any] | None = None,
        predictions_to_labels: Callable[[EvalPrediction], tuple] | None = None,
        save_probabilities: bool = False,
        save_model: bool = True,
    ) -> None:
        if tuple(optimizers) != (None, None):
            raise ValueError(
                "MultiSeedTrainer builds a new model per seed, so a ready optimizer cannot be reused: "
                "pass optimizer_cls_and_kwargs=(OptimizerClass, kwargs) instead of optimizers"
            )
        if isinstance(eval_dataset, Mapping):
            raise ValueError("MultiSeedTrainer needs a single eval_dataset, not a dict of datasets")
        check_backend(backend, n_workers, seeds_per_gpu)
        self.args = args if args is not None else TrainingArguments(output_dir="tmp_trainer")
        self.seeds = _checked_seeds(seeds)
        self.backend = backend
        self.n_workers = n_workers
        self.seeds_per_gpu = seeds_per_gpu
        self.seed_list = self.seeds  # with target_precision, self.seeds becomes the seeds used after train()
        self.target_precision = None
        if target_precision is not None:
            if eval_dataset is None:
                raise ValueError("target_precision needs an eval_dataset: the intervals come from its predictions")
            self.target_precision = check_target_precision(target_precision, self.seeds)
        if check_reproducibility and not save_model:
            raise ValueError("check_reproducibility compares the saved weights of a seed: it needs save_model=True")
        self.check_reproducibility = check_reproducibility
        self.consistency_kwargs = dict(consistency_kwargs or {})
        if self.target_precision:  # the final report carries the interval the stopping rule used
            self.consistency_kwargs.setdefault("n_bootstrap", DEFAULT_N_BOOTSTRAP)
        self.eval_dataset = eval_dataset
        self.callbacks = list(callbacks or [])
        processing_class = with_pad_token(processing_class)
        self.factory = SeedModelFactory(
            model=model,
            model_init=model_init,
            model_name_or_path=model_name_or_path,
            model_class=model_class,
            model_kwargs=model_kwargs,
            peft_config=peft_config,
            pad_token_id=getattr(processing_class, "pad_token_id", None),
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
                **_checked_trainer_kwargs(trainer_kwargs),
            },
            vary=vary,
            task=self.consistency_kwargs.get("task"),
            trainer_class=trainer_class,
            predictions_to_labels=predictions_to_labels,
            save_probabilities=save_probabilities,
            save_model=save_model,
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
        unvaried = unvaried_randomness(self.factory, self.args, self.run.vary, self.run.trainer_kwargs["data_collator"])
        if unvaried:
            warnings.warn(unvaried, stacklevel=2)
        resume = resume_from_checkpoint is not False
        stopping = None
        if self.target_precision:
            stopping, trained = self._train_until_precise(resume)
            self.seeds = stopping.seeds
        else:
            trained = self._run_seeds(self.seeds, resume)
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
            stopping=stopping,
            warnings=([unvaried] if unvaried else []) + (report["warnings"] if report else []),
        )
        if stopping is not None:
            output.metrics.update(stopping_n_seeds=stopping.n_seeds, stopping_target_met=float(stopping.target_met))
            output.metrics.update({f"eval_{key}_half_width": value for key, value in stopping.half_widths.items()})
        output.to_json(self.output_dir / "train_results.json")
        return output

    def _run_seeds(self, seeds: list[int], resume: bool) -> list[int]:
        options = {"seeds_per_gpu": self.seeds_per_gpu} if self.backend != "sequential" else {}
        if self.backend == "parallel":
            options["n_workers"] = self.n_workers
        return run_seeds(self.run, seeds, self.backend, resume=resume, **options)

    def _train_until_precise(self, resume: bool):
        """Train ``seed_list`` in order until every targeted interval half-width is within its target."""
        interval = {
            "n_bootstrap": self.consistency_kwargs["n_bootstrap"],
            "random_state": self.consistency_kwargs.get("random_state", 0),
            "resample": self.consistency_kwargs.get("resample", "both"),
            "confidence_level": self.consistency_kwargs.get("confidence_level", 0.95),
        }

        def report_of(seeds: list[int]) -> dict:
            _, labels, references = self._saved_eval_labels(seeds)
            kwargs = {**self.consistency_kwargs, **interval}
            kwargs.setdefault("task", infer_task_from_labels(labels))
            return seed_consistency(labels, references, **kwargs)

        width = backend_width(self.backend, self.n_workers, self.seeds_per_gpu)
        train = functools.partial(self._run_seeds, resume=resume)
        decision, trained = train_until_precise(
            self.seed_list, self.target_precision, train=train, report_of=report_of, width=width, interval=interval
        )
        decision.to_json(self.output_dir / STOPPING_FILE)
        return decision, trained

    def _write_run_config(self) -> None:
        """Write run_config.json, or check that an existing one describes the same models and seed roles."""
        path = self.output_dir / "run_config.json"
        peft_config = self.factory.peft_config
        config = {
            "model": self.factory.description,
            "trainer_class": f"{self.run.trainer_class.__module__}.{self.run.trainer_class.__qualname__}",
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
        for key in ("model", "trainer_class", "vary", "peft_config"):
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
        self,
        prefix: str,
        per_seed_metrics: dict[int, dict],
        labels: dict[int, list],
        references: list | None,
        predictions_file: str = PREDICTIONS_FILE,
    ) -> tuple[dict[str, float], dict | None]:
        metrics = mean_std_over_seeds(per_seed_metrics, prefix)
        report = None
        if len(labels) > 1:  # consistency needs a pair of seeds
            kwargs = dict(self.consistency_kwargs)
            kwargs.setdefault("task", infer_task_from_labels(labels))
            if kwargs["task"] == "classification":
                kwargs.setdefault("probabilities", self._saved_probabilities(list(labels), predictions_file))
            report = seed_consistency(labels, references, **kwargs)
            for message in report["warnings"]:
                warnings.warn(f"{prefix} predictions: {message}", stacklevel=3)
            for key in ("con", "ccon", "var", "zeta_mean", "soft_con", "soft_ccon", "n_seeds"):
                if report.get(key) is not None:
                    metrics[f"{prefix}_{key}"] = report[key]
            for name, value in (report.get("ensemble") or {}).items():
                metrics[f"{prefix}_ensemble_{name}"] = value
            name = REPORT_FILE if prefix == "eval" else f"consistency_report-{prefix}.json"
            write_json_atomic(self.output_dir / name, {**report, "split": prefix})
        log_summary(self.args, metrics, summary_callbacks(self.args, self.callbacks))
        return metrics, report

    def _saved_probabilities(self, seeds: list[int], predictions_file: str) -> dict[int, np.ndarray] | None:
        """The class probabilities each seed saved beside ``predictions_file`` (save_probabilities=True), else None."""
        if not self.run.save_probabilities:
            return None
        paths = {seed: probabilities_path(self.seed_dir(seed) / predictions_file) for seed in seeds}
        missing = [seed for seed, path in paths.items() if not path.is_file()]
        if missing:
            raise ValueError(
                f"seeds {missing} have no {paths[missing[0]].name}: they finished before save_probabilities=True; "
                "train them again (delete their seed-<k>/DONE) or use another output_dir"
            )
        return {seed: read_seed_probabilities(path) for seed, path in paths.items()}

    def _evaluate_saved(self, prefix: str) -> tuple[dict[str, float], dict]:
        """Summary of the eval predictions and metrics the seeds saved at the end of training."""
        self._require_done()
        return self._summarize(prefix, *self._saved_eval_labels(self.seeds))

    def _saved_eval_labels(self, seeds: list[int]) -> tuple[dict[int, dict], dict[int, list], list | None]:
        """(metrics, eval labels) per seed and the references, as the seeds saved them."""
        per_seed_metrics, labels, references = {}, {}, None
        for seed in seeds:
            saved = read_seed_predictions(self.seed_dir(seed) / PREDICTIONS_FILE)
            if references is not None and saved["references"] != references:
                raise ValueError(
                    f"{self.seed_dir(seed) / PREDICTIONS_FILE} has other labels than seed {self.seeds[0]}: "
                    "the seeds were evaluated on different eval datasets"
                )
            references = saved["references"]
            labels[seed] = saved["predictions"]
            per_seed_metrics[seed] = json.loads((self.seed_dir(seed) / "metrics.json").read_text())
        return per_seed_metrics, labels, references

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
        without_model = [seed for seed in self.seeds if not _has_saved_model(self.seed_dir(seed))]
        if without_model:
            raise ValueError(
                f"seeds {without_model} kept no model in {self.output_dir} (trained with save_model=False): "
                "predict() on new data needs the models; train with save_model=True"
            )
        outputs, labels, per_seed_metrics, references = {}, {}, {}, None
        for seed in self.seeds:
            seed_dir = self.seed_dir(seed)
            with self.factory.trained_model(seed, seed_dir) as model:
                trainer = self.run.make_trainer(model, self.run.seed_args(seed), eval_dataset=test_dataset)
                path = seed_dir / f"predictions-{metric_key_prefix}.jsonl"
                output, labels[seed], references = self.run.predict(
                    trainer, test_dataset, metric_key_prefix, path, ignore_keys=ignore_keys
                )
            outputs[seed], per_seed_metrics[seed] = output, output.metrics
        metrics, report = self._summarize(metric_key_prefix, per_seed_metrics, labels, references, path.name)
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
    if first and isinstance(first[0], str):
        return "generation"
    if first and isinstance(first[0], float):
        return "regression"
    return "classification"
