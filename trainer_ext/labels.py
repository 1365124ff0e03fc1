"""Turn Trainer outputs (logits, label ids) into the final labels stored in prediction files.

Example::

    >>> import numpy as np
    >>> to_labels(np.array([[0.1, 2.0], [3.0, -1.0]]), np.array([1, 1]))
    ([1, 0], [1, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from transformers import EvalPrediction

from .generation import decode_generations

IGNORE_INDEX = -100

TASKS = ("classification", "regression", "token_classification", "generation")


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


def to_labels(
    predictions: Any, label_ids: Any = None, task: str | None = None, processing_class: Any = None
) -> tuple[list, list | None]:
    """Final predictions and references (JSON-ready lists) from Trainer's ``predictions`` and ``label_ids``.

    classification: argmax over the last axis (or the ids themselves when already 1-D integers);
    regression: the single output as float; token_classification: one list of argmax labels per example,
    keeping only the positions whose label is not -100 (sub-words and padding); generation: generated token
    ids (and label ids) decoded into strings with ``processing_class``.
    """
    if task == "generation":
        references = None if label_ids is None else decode_generations(label_ids, processing_class)
        return decode_generations(predictions, processing_class), references
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


def hook_labels(
    predictions_to_labels: Callable[[EvalPrediction], tuple], predictions: Any, label_ids: Any = None
) -> tuple[list, list | None]:
    """The user's ``predictions_to_labels(EvalPrediction) -> (labels, references or None)``, checked.

    >>> hook = lambda pred: (["yes" if row[0] > 0 else "no" for row in pred.predictions], None)
    >>> hook_labels(hook, np.array([[1.0], [-2.0]]))
    (['yes', 'no'], None)
    """
    result = predictions_to_labels(EvalPrediction(predictions=predictions, label_ids=label_ids))
    if not isinstance(result, tuple) or len(result) != 2:
        raise ValueError(
            "predictions_to_labels must return a pair (labels, references or None), one of each per example; "
            f"got {type(result).__name__}"
        )
    labels, references = (None if column is None else _plain_list(column) for column in result)
    n_examples = len(_logits(predictions))
    for name, column in (("labels", labels), ("references", references)):
        if column is not None and len(column) != n_examples:
            raise ValueError(f"predictions_to_labels returned {len(column)} {name} for {n_examples} examples")
    if labels is None:
        raise ValueError("predictions_to_labels returned no labels (None)")
    return labels, references


def _plain_list(column: Any) -> list:
    return np.asarray(column).tolist() if isinstance(column, np.ndarray) else list(column)


def to_probabilities(predictions: Any, task: str | None = None) -> np.ndarray:
    """What ``save_probabilities`` stores: softmax class probabilities (N, C), or the (N,) regression outputs.

    >>> to_probabilities(np.array([[0.0, 0.0], [np.log(3.0), 0.0]])).round(2).tolist()
    [[0.5, 0.5], [0.75, 0.25]]
    """
    logits = _logits(predictions).astype(np.float64)
    task = task or infer_task(logits)
    if task == "regression":
        return logits.reshape(len(logits), -1)[:, 0]
    if task != "classification" or logits.ndim != 2:
        raise ValueError(
            "save_probabilities needs classification logits (examples, classes) or regression outputs; got "
            f"task={task!r} and model outputs of shape {logits.shape}"
        )
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)
