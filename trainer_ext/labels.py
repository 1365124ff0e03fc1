"""Turn Trainer outputs (logits, label ids) into the final labels stored in prediction files.

Example::

    >>> import numpy as np
    >>> to_labels(np.array([[0.1, 2.0], [3.0, -1.0]]), np.array([1, 1]))
    ([1, 0], [1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

IGNORE_INDEX = -100

TASKS = ("classification", "regression", "token_classification")


def _logits(predictions: Any) -> np.ndarray:
    if isinstance(predictions, tuple):  # (logits, hidden_states, ...) as Trainer returns them
        predictions = predictions[0]
    return np.asarray(predictions)


def infer_task(predictions: Any) -> str:
    """``token_classification`` for (N, T, C) logits, ``regression`` for one output, else classification."""
    logits = _logits(predictions)
    if logits.ndim == 3:
        return "token_classification"
    if np.issubdtype(logits.dtype, np.floating) and (logits.ndim == 1 or logits.shape[-1] == 1):
        return "regression"
    return "classification"


def to_labels(predictions: Any, label_ids: Any = None, task: str | None = None) -> tuple[list, list | None]:
    """Final predictions and references (JSON-ready lists) from Trainer's ``predictions`` and ``label_ids``.

    classification: argmax over the last axis (or the ids themselves when already 1-D integers);
    regression: the single output as float; token_classification: one list of argmax labels per example,
    keeping only the positions whose label is not -100 (sub-words and padding).
    """
    logits = _logits(predictions)
    task = task or infer_task(logits)
    if task not in TASKS:
        raise ValueError(f"MultiSeedTrainer cannot turn model outputs into labels for task={task!r}; use {TASKS}")
    labels = None if label_ids is None else np.asarray(label_ids)
    if task == "regression":
        values = logits.reshape(len(logits), -1)[:, 0].astype(float).tolist()
        return values, None if labels is None else labels.reshape(len(labels), -1)[:, 0].astype(float).tolist()
    if task == "classification":
        ids = logits if logits.ndim == 1 else logits.argmax(-1)
        return ids.astype(int).tolist(), None if labels is None else labels.astype(int).tolist()
    if labels is None or labels.shape != logits.shape[:2]:
        raise ValueError(
            "token_classification predictions need label_ids of shape (examples, tokens) to tell labelled "
            f"tokens from sub-words and padding; got logits {logits.shape} and label_ids "
            f"{None if labels is None else labels.shape}"
        )
    ids = logits.argmax(-1)
    keep = labels != IGNORE_INDEX
    return (
        [row[mask].astype(int).tolist() for row, mask in zip(ids, keep)],
        [row[mask].astype(int).tolist() for row, mask in zip(labels, keep)],
    )
