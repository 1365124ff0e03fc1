"""``seed-consistency run``: fine-tune one model with S seeds on one task through MultiSeedTrainer.

With no arguments it runs the embedded demo (preset ``demo``: all-MiniLM-L6-v2 on VADER word polarity,
5 seeds, CPU, a few minutes). The run directory keeps ``run_config.json``; a rerun with the same arguments
continues where a killed run stopped, a rerun with other settings into the same directory is refused.

Example (command line)::

    seed-consistency run                                              # the demo
    seed-consistency run --seeds 42 52 --output_dir runs/demo2         # the demo with other settings
    seed-consistency run --model_name_or_path bert-base-uncased --task_name rte \\
        --data_dir glue/RTE --output_dir runs/rte --seeds 42 52 62
    seed-consistency run --preset roberta-large --task_name cola --output_dir runs/roberta/cola
    seed-consistency run --preset llama-3.2-3b-lora --task_name rte --output_dir runs/llama/rte \\
        --backend parallel --seeds_per_gpu 2                           # 2 seeds at once on every GPU
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import demo
from .arguments import DataArguments, ModelArguments, SeedArguments
from .loaders import TaskData, load_hub_task, load_local_task, load_user_files
from .presets import resolve_preset
from .run_config import claim_output_dir, result_settings

DEMO_ARGV = ("--preset", "demo")


def build_parser(defaults: dict[str, Any] | None = None):
    """The HfArgumentParser of ``run`` (model, data, seed and Trainer arguments)."""
    from transformers import HfArgumentParser, TrainingArguments

    parser = HfArgumentParser(
        (ModelArguments, DataArguments, SeedArguments, TrainingArguments),
        prog="seed-consistency run",
        description="Fine-tune with several seeds and report VAR, CON and CCON. No arguments: the CPU demo.",
    )
    if defaults:
        parser.set_defaults(**defaults)
    return parser


def parse_run_args(argv: Sequence[str]) -> tuple:
    """(ModelArguments, DataArguments, SeedArguments, TrainingArguments) of ``argv``, preset applied.

    Without a model, a task, data files or a preset, ``argv`` tunes the demo (``run --seeds 42 52``).
    """
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ("--preset", "--task_name", "--model_name_or_path", "--train_file", "--validation_file"):
        pre.add_argument(flag)
    known, _ = pre.parse_known_args(argv)
    if not any(vars(known).values()):
        argv = [*DEMO_ARGV, *argv]
        known.preset = "demo"
    defaults = resolve_preset(known.preset, known.task_name) if known.preset else None
    return build_parser(defaults).parse_args_into_dataclasses(argv)


def load_data(data_args: DataArguments) -> TaskData:
    """The examples ``data_args`` point at: user files, the demo, local task files, or the Hub."""
    if data_args.train_file or data_args.validation_file:
        if data_args.task_name:
            raise ValueError("give either --task_name or --train_file/--validation_file, not both")
        if not (data_args.train_file and data_args.validation_file):
            raise ValueError("--train_file and --validation_file go together")
        data = load_user_files(
            data_args.train_file, data_args.validation_file, data_args.text_column, data_args.label_column,
            data_args.text_pair_column, data_args.zeta or "accuracy", data_args.dataset_name,
        )  # fmt: skip
    elif not data_args.task_name:
        raise ValueError(
            "give --task_name (a paper task) or --train_file/--validation_file; run without arguments for the demo"
        )
    elif data_args.task_name == demo.NAME:
        data = demo.load_vader_polarity()
    elif data_args.data_dir:
        data = load_local_task(data_args.task_name, data_args.data_dir)
    else:
        data = load_hub_task(data_args.task_name)
    if data_args.zeta:
        data.zeta = data_args.zeta
    return data.subsample(data_args.max_train_samples, data_args.max_eval_samples)


def encode(data: TaskData, tokenizer: Any, max_length: int) -> tuple[Any, Any]:
    """Tokenized (train, eval) datasets with ``labels`` (and ``idx`` for the prediction files)."""

    def encode_batch(batch: dict[str, list]) -> dict[str, list]:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        formatted = [data.format(row) for row in rows]
        if data.multiple_choice:
            n_choices = len(formatted[0])
            first = [pair[0] for choices in formatted for pair in choices]
            second = [pair[1] for choices in formatted for pair in choices]
            flat = tokenizer(first, second, truncation=True, max_length=max_length)
            encoded = {
                key: [values[i : i + n_choices] for i in range(0, len(values), n_choices)]
                for key, values in flat.items()
            }
        else:
            texts = [text for text, _ in formatted]
            pairs = [pair for _, pair in formatted]
            encoded = dict(
                tokenizer(texts, pairs if pairs[0] is not None else None, truncation=True, max_length=max_length)
            )
        return encoded | {"labels": batch["label"]}

    encoded = []
    for split in (data.train, data.eval):
        split = split.add_column("idx", list(range(len(split)))) if "idx" not in split.column_names else split
        columns = [name for name in split.column_names if name != "idx"]
        encoded.append(split.map(encode_batch, batched=True, remove_columns=columns, desc="Tokenizing"))
    return encoded[0], encoded[1]


def model_arguments(model_args: ModelArguments, data: TaskData) -> dict[str, Any]:
    """The MultiSeedTrainer arguments that say which model each seed starts from."""
    path = model_args.model_name_or_path
    if data.multiple_choice:
        from trainer_ext.multiple_choice import multiple_choice_class

        return {"model_name_or_path": path, "model_class": multiple_choice_class(path)}
    kwargs = {
        "num_labels": len(data.label_names),
        "id2label": dict(enumerate(data.label_names)),
        "label2id": {label: i for i, label in enumerate(data.label_names)},
    }
    return {"model_name_or_path": path, "model_kwargs": kwargs}


def lora_config(model_args: ModelArguments, data: TaskData):
    """A peft LoraConfig from ``--use_lora --lora_*``, or None for full fine-tuning."""
    if not model_args.use_lora:
        return None
    from peft import LoraConfig, TaskType
    from transformers import AutoModelForMultipleChoice

    from trainer_ext.multiple_choice import multiple_choice_class

    # a multiple-choice head (BERT's "classifier") is saved by name; decoders score each choice with a SEQ_CLS model
    mc_head = (
        data.multiple_choice and multiple_choice_class(model_args.model_name_or_path) is AutoModelForMultipleChoice
    )
    return LoraConfig(
        task_type=None if mc_head else TaskType.SEQ_CLS,
        modules_to_save=["classifier"] if mc_head else None,
        r=model_args.lora_r, lora_alpha=model_args.lora_alpha, lora_dropout=model_args.lora_dropout,
        target_modules=model_args.lora_target_modules,
    )  # fmt: skip


def run_config(model_args, data_args, seed_args, training_args, data: TaskData) -> dict[str, Any]:
    """The content of run_config.json: everything that decides the results, plus the environment."""
    import torch
    import transformers

    return {
        "task": data.name,
        "display_name": data.display_name,
        "benchmark": data.benchmark,
        "zeta": data.zeta,
        "label_names": data.label_names,
        "source": data.source,
        "train_size": len(data.train),
        "eval_size": len(data.eval),
        "model": model_args.model_name_or_path,  # the key MultiSeedTrainer checks on resume
        "model_label": model_args.model_label,
        "seeds": list(seed_args.seeds),
        "vary": seed_args.vary,
        "model_args": dataclasses.asdict(model_args),
        "data_args": dataclasses.asdict(data_args),
        "training_args": result_settings(training_args.to_dict()),
        "environment": {
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }  # fmt: skip


def load_tokenizer(model_args: ModelArguments):
    """The model's tokenizer; decoder-only ones (Llama) pad with their eos token (``with_pad_token``)."""
    from transformers import AutoTokenizer

    from trainer_ext.padding import with_pad_token

    return with_pad_token(AutoTokenizer.from_pretrained(model_args.tokenizer_name or model_args.model_name_or_path))


def build_trainer(model_args, data_args, seed_args, training_args, data: TaskData):
    """The MultiSeedTrainer that ``run`` trains: tokenized data, collator, model, LoRA and backend from the flags."""
    from transformers import DataCollatorForMultipleChoice, DataCollatorWithPadding

    from trainer_ext import MultiSeedTrainer

    tokenizer = load_tokenizer(model_args)
    max_length = min(data_args.max_seq_length, tokenizer.model_max_length)  # as run_glue.py
    train_dataset, eval_dataset = encode(data, tokenizer, max_length)
    collator = (DataCollatorForMultipleChoice if data.multiple_choice else DataCollatorWithPadding)(tokenizer)
    return MultiSeedTrainer(
        args=training_args, data_collator=collator, train_dataset=train_dataset, eval_dataset=eval_dataset,
        processing_class=tokenizer, seeds=seed_args.seeds, peft_config=lora_config(model_args, data),
        vary=seed_args.vary, consistency_kwargs={"zeta": data.zeta}, backend=seed_args.backend,
        n_workers=seed_args.n_workers, seeds_per_gpu=seed_args.seeds_per_gpu, save_model=seed_args.save_model,
        **model_arguments(model_args, data),
    )  # fmt: skip


def run_experiment(model_args, data_args, seed_args, training_args) -> dict[str, Any]:
    """Train every seed (resuming), write the run directory and return the consistency report."""
    if not model_args.model_name_or_path:
        raise ValueError("give --model_name_or_path (or a --preset)")
    if len(seed_args.seeds) < 2:
        raise ValueError(f"seed consistency needs at least 2 seeds, got --seeds {seed_args.seeds}")
    data = load_data(data_args)
    output_dir = Path(training_args.output_dir)
    resuming = claim_output_dir(output_dir, run_config(model_args, data_args, seed_args, training_args, data))
    print(f"{'Continuing' if resuming else 'Starting'} run in {output_dir}: {data.display_name} "
          f"({len(data.train)} train / {len(data.eval)} eval), seeds {seed_args.seeds}, "
          f"backend {seed_args.backend}")  # fmt: skip
    return build_trainer(model_args, data_args, seed_args, training_args, data).train().report


def main(argv: Sequence[str]) -> int:
    """Entry point of ``seed-consistency run``: train, then print the table and write the plots."""
    from seed_consistency_metric.paper_report import render_report

    started = time.perf_counter()
    model_args, data_args, seed_args, training_args = parse_run_args(argv)
    run_experiment(model_args, data_args, seed_args, training_args)
    output_dir = Path(training_args.output_dir)
    rendered = render_report([output_dir], output_dir, plots=seed_args.plots)
    print(rendered.markdown)
    for path in rendered.files:
        print(f"wrote {path}")
    for note in rendered.notes:
        print(f"note: {note}")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0
