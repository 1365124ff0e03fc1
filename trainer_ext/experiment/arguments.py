"""Command-line arguments of ``seed-consistency run`` (HfArgumentParser dataclasses, as in run_glue.py).

Example:
    >>> from transformers import HfArgumentParser, TrainingArguments
    >>> parser = HfArgumentParser((ModelArguments, DataArguments, SeedArguments, TrainingArguments))
    >>> model, data, seeds, training = parser.parse_args_into_dataclasses(
    ...     ["--model_name_or_path", "bert-base-uncased", "--task_name", "rte", "--output_dir", "out"])
    >>> data.task_name, seeds.seeds[:3]
    ('rte', [42, 52, 62])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seed_consistency_metric import PAPER_SEEDS


@dataclass
class ModelArguments:
    """Which model to fine-tune, and how (full fine-tuning or LoRA)."""

    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Model name on the Hub or path of a local model directory."}
    )
    preset: str | None = field(
        default=None,
        metadata={"help": "Paper preset that fills in defaults: demo, roberta-large, llama-3.2-3b-lora."},
    )
    model_label: str | None = field(
        default=None, metadata={"help": "Name of the model in report tables (default: from --model_name_or_path)."}
    )
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's."})
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters (peft) instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] | None = field(
        default=None, metadata={"help": "Module names that get adapters (default: peft's choice for the model)."}
    )


@dataclass
class DataArguments:
    """Which data: a paper task (Hub or original local files) or the user's own files."""

    task_name: str | None = field(
        default=None,
        metadata={
            "help": "A paper task: cola, sst2, mrpc, qqp, qnli, rte (GLUE); rtes, cb, wic, boolq, multirc, copa "
            "(SuperGLUE; also super_glue/rte ...), or vader_polarity (the embedded demo)."
        },
    )
    data_dir: str | None = field(
        default=None,
        metadata={
            "help": "Directory with the task's original files (GLUE train.tsv/dev.tsv, SuperGLUE "
            "train.jsonl/val.jsonl), or its parent. Without it the task is loaded from the Hub."
        },
    )
    train_file: str | None = field(default=None, metadata={"help": "Your training file (csv/tsv/json/jsonl/parquet)."})
    validation_file: str | None = field(default=None, metadata={"help": "Your evaluation file (same formats)."})
    dataset_name: str | None = field(
        default=None, metadata={"help": "Name of your dataset in the report (default: from --train_file)."}
    )
    text_column: str = field(default="text", metadata={"help": "Text column of --train_file/--validation_file."})
    text_pair_column: str | None = field(default=None, metadata={"help": "Optional second text column."})
    label_column: str = field(default="label", metadata={"help": "Label column of your files."})
    zeta: str | None = field(
        default=None,
        metadata={"help": "Metric zeta for your files (accuracy, mcc, f1, macro_f1); paper tasks use the paper's."},
    )
    max_seq_length: int = field(default=128, metadata={"help": "Longer inputs are truncated."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training examples."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N evaluation examples."})


@dataclass
class SeedArguments:
    """The seeds, how they run (backend), and what the report writes."""

    seeds: list[int] = field(
        default_factory=lambda: list(PAPER_SEEDS), metadata={"help": "Seeds to train (paper: 42 52 ... 132)."}
    )
    vary: str = field(
        default="both",
        metadata={"help": "Randomness that follows the seed: both, init (model init only) or data (order only)."},
    )
    plots: bool = field(default=True, metadata={"help": "Write the report's PNG figures into --output_dir."})
    save_model: bool = field(
        default=True,
        metadata={
            "help": "Keep every seed's fine-tuned model (the report needs only the predictions; the demo "
            "defaults to False). Without it a seed's checkpoints are deleted once it is finished."
        },
    )
    backend: str = field(
        default="sequential",
        metadata={
            "help": "How the seeds run: sequential (this process), parallel (worker processes on this machine: "
            "one per GPU, or --n_workers on the CPU) or ray (tasks on the Ray cluster ray.init() finds).",
            "choices": ["sequential", "parallel", "ray"],
        },
    )
    n_workers: int | None = field(
        default=None,
        metadata={"help": "parallel: number of worker processes (default: visible GPUs x --seeds_per_gpu)."},
    )
    seeds_per_gpu: int = field(
        default=1,
        metadata={"help": "parallel and ray: seeds trained at once on each GPU (small models leave a GPU idle)."},
    )
