"""``run_config.json``: what a run directory holds, and the guard against mixing two runs in one directory.

A rerun into the same ``--output_dir`` continues only when every setting that changes results is identical;
presentation-only settings (logging, progress bars, checkpoint frequency, eval batch size) may change.

Example:
    >>> old = {"task": "glue/rte", "training_args": result_settings({"learning_rate": 1e-5, "logging_steps": 10})}
    >>> new = {"task": "glue/rte", "training_args": result_settings({"learning_rate": 2e-5, "logging_steps": 50})}
    >>> config_differences(old, new)
    ['training_args.learning_rate: 1e-05 -> 2e-05']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seed_consistency_metric.paper_report.runs import RUN_CONFIG_FILE as RUN_CONFIG
from seed_consistency_metric.predictions_io import read_json, write_json_atomic

# TrainingArguments that do not change what is learnt or predicted.
NON_RESULT_TRAINING_ARGS = frozenset(
    {
        "output_dir", "run_name", "report_to", "project", "disable_tqdm", "log_level", "log_level_replica",
        "log_on_each_node", "logging_first_step", "logging_nan_inf_filter", "logging_steps", "logging_strategy",
        "dataloader_num_workers", "dataloader_persistent_workers", "dataloader_prefetch_factor",
        "dataloader_pin_memory", "per_device_eval_batch_size", "eval_accumulation_steps", "save_strategy",
        "save_steps", "save_total_limit", "save_on_each_node", "save_only_model", "push_to_hub", "hub_always_push",
        "hub_model_id", "hub_private_repo", "hub_revision", "hub_strategy", "hub_token", "trackio_bucket_id",
        "trackio_space_id", "trackio_static_space_id", "skip_memory_metrics", "resume_from_checkpoint",
        "do_train", "do_eval", "do_predict", "local_rank", "ddp_timeout",
    }
)  # fmt: skip
# Keys of run_config.json that describe the machine, not the experiment.
NON_RESULT_KEYS = frozenset({"environment"})


def result_settings(training_args_dict: dict[str, Any]) -> dict[str, Any]:
    """The TrainingArguments entries that change results (JSON-ready)."""
    return {
        key: json.loads(json.dumps(value, default=str))
        for key, value in sorted(training_args_dict.items())
        if key not in NON_RESULT_TRAINING_ARGS
    }


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in config.items():
        if not prefix and key in NON_RESULT_KEYS:
            continue
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``"key: old -> new"`` for every result-relevant setting that differs."""
    old_flat, new_flat = _flatten(old), _flatten(new)
    missing = object()
    return [
        f"{key}: {old_flat.get(key, '<unset>')} -> {new_flat.get(key, '<unset>')}"
        for key in sorted(old_flat.keys() | new_flat.keys())
        if old_flat.get(key, missing) != new_flat.get(key, missing)
    ]


def read_run_config(run_dir: str | Path) -> dict[str, Any] | None:
    """The run_config.json of ``run_dir``, or None when it has none."""
    path = Path(run_dir) / RUN_CONFIG
    return read_json(path) if path.is_file() else None


def claim_output_dir(output_dir: str | Path, config: dict[str, Any]) -> bool:
    """Write ``config`` into a new run dir, or accept an identical one; True when resuming.

    Raises ValueError when ``output_dir`` holds a different run, or seed directories without a config.
    """
    output_dir = Path(output_dir)
    old = read_run_config(output_dir)
    if old is None:
        if output_dir.is_dir() and any(output_dir.glob("seed-*")):
            raise ValueError(
                f"{output_dir} already holds seed directories but no {RUN_CONFIG}; "
                "use another --output_dir or delete it"
            )
        write_json_atomic(output_dir / RUN_CONFIG, config)
        return False
    differences = config_differences(old, json.loads(json.dumps(config, default=str)))
    if differences:
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        raise ValueError(
            f"{output_dir} holds a run with different settings ({shown}). Use another --output_dir, "
            f"or delete {output_dir} to start over"
        )
    return True
