"""Send MultiSeedTrainer's summary metrics to the ``report_to`` integrations and the user's callbacks.

The per-seed Trainers log their own runs; this logs the cross-seed summary (``eval_con``, ``eval_var``,
``eval_accuracy_mean``, ...) once, through the public ``TrainerCallback.on_log`` hook.

Example::

    log_summary(args, {"eval_con": 0.91, "eval_var": 0.012}, callbacks=[MyCallback()])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.integrations import get_reporting_integration_callbacks


def summary_callbacks(args: TrainingArguments, callbacks: Sequence | None) -> list[TrainerCallback]:
    """One instance of every report_to integration, then the user's callbacks (classes are instantiated)."""
    integrations = [callback() for callback in get_reporting_integration_callbacks(args.report_to)]
    user = [callback() if isinstance(callback, type) else callback for callback in callbacks or []]
    return integrations + user


def log_summary(
    args: TrainingArguments, logs: Mapping[str, float], callbacks: Sequence[TrainerCallback], step: int = 0
) -> None:
    """Call ``on_log`` of each callback with ``logs`` (numbers only), as ``Trainer.log`` does."""
    numeric = {key: value for key, value in logs.items() if isinstance(value, (int, float)) and value is not None}
    state = TrainerState(global_step=step, log_history=[{**numeric, "step": step}])
    control = TrainerControl()
    for callback in callbacks:
        callback.on_log(args, state, control, logs=dict(numeric))
