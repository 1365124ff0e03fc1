"""Plain-English warnings about degenerate runs, for the metric's ``report["warnings"]`` (numpy only).

A run is degenerate when a seed predicts a single label, fewer labels than the references hold, or scores no
better than always predicting the majority class; and when seeds give identical predictions (nothing random
varied between them). The numbers stay as they are; the warnings say what they mean.

>>> values = np.array([[1, 1, 1, 1], [1, 0, 1, 0], [1, 0, 1, 0]])
>>> for text in degenerate_warnings([42, 52, 62], values, np.array([1, 0, 1, 0]), [0.5, 1.0, 1.0], "accuracy", 0.5):
...     print(text)
seed 42 predicts a single label (1) on every example: CON and CCON then reflect the class balance, not the model.
seed 42 scores accuracy 0.500, no better than always predicting the majority class (0.500).
>>> print(identical_seed_warnings([42, 52, 62], values)[0])  # doctest: +NORMALIZE_WHITESPACE
seeds 52 and 62 give identical predictions on all 4 examples: nothing random varied between them (same
initialisation, dropout and data order?), so their CON of 1 says nothing about seed sensitivity.
"""

from collections.abc import Sequence

import numpy as np

_FLOAT_SLACK = 1e-12
_SKETCH = 64  # labels per row in the key that decides which rows are compared in full


def _listed(items: Sequence) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _seeds(names: Sequence) -> str:
    return f"seed{'s' if len(names) > 1 else ''} {_listed(names)}"


def distinct_labels(row: np.ndarray) -> np.ndarray:
    """The labels one seed predicts (sorted)."""
    row = row.view(np.uint8) if row.dtype == bool else row
    if row.dtype.kind in "iu" and len(row):
        low, high = int(row.min()), int(row.max())
        if high - low <= 1:  # no label in between: both ends are present
            return np.unique([low, high]).astype(row.dtype)
        if high - low < 1 << 16:
            return np.flatnonzero(np.bincount(row if low >= 0 else row - low)) + min(low, 0)
    return np.unique(row)


def majority_label(references: np.ndarray):
    """The most frequent reference label (the smallest of tied ones).

    >>> majority_label(np.array([2, 0, 2, 0, 1]))
    0
    """
    if references.dtype.kind in "iu" and len(references):
        low, high = int(references.min()), int(references.max())
        if high - low < 1 << 16:  # argmax takes the first, smallest, of tied labels
            return int(np.argmax(np.bincount(references if low >= 0 else references - low))) + min(low, 0)
    labels, counts = np.unique(references, return_counts=True)
    return labels[int(np.argmax(counts))].item()


def degenerate_warnings(
    seeds: Sequence,
    values: np.ndarray,
    references: np.ndarray | None,
    zeta: Sequence[float] | None,
    zeta_name: str,
    baseline: float | None,
    labels: Sequence[np.ndarray] | None = None,
    reference_labels: np.ndarray | None = None,
) -> list[str]:
    """Warnings for seeds with a single label, fewer labels than the references, or zeta <= ``baseline``.

    values: (S, U) labels; references: (U,) or None; baseline: zeta of always predicting the most frequent
    reference label (None: no baseline check, e.g. for regression or a custom zeta); labels, reference_labels:
    every seed's and the references' distinct labels when the caller has them (else counted here).
    """
    labels = [distinct_labels(row) for row in values] if labels is None else labels
    warnings = []
    single = [(seed, found[0]) for seed, found in zip(seeds, labels) if len(found) == 1]
    for label in dict.fromkeys(label for _, label in single):
        names = [seed for seed, found in single if found == label]
        warnings.append(
            f"{_seeds(names)} predict{'s' if len(names) == 1 else ''} a single label ({label}) on every example: "
            "CON and CCON then reflect the class balance, not the model."
        )
    if references is not None:
        n_reference = len(distinct_labels(references) if reference_labels is None else reference_labels)
        fewer = [(seed, len(found)) for seed, found in zip(seeds, labels) if 1 < len(found) < n_reference]
        if fewer:
            counts = _listed([count for _, count in fewer])
            warnings.append(
                f"{_seeds([seed for seed, _ in fewer])} predict{'s' if len(fewer) == 1 else ''} only {counts} of "
                f"the {n_reference} labels in the references."
            )
    if zeta is not None and baseline is not None:
        poor = [(seed, value) for seed, value in zip(seeds, zeta) if value <= baseline + _FLOAT_SLACK]
        if poor:
            scores = _listed([f"{value:.3f}" for _, value in poor])
            warnings.append(
                f"{_seeds([seed for seed, _ in poor])} score{'s' if len(poor) == 1 else ''} {zeta_name} {scores}, "
                f"no better than always predicting the majority class ({baseline:.3f})."
            )
    return warnings


def _sketch(row: np.ndarray) -> tuple:
    """A cheap key equal for equal rows: the first labels, and the sum of numeric ones."""
    head = tuple(row[:_SKETCH].tolist())
    return (head, row.sum().item()) if row.dtype.kind in "biuf" else head


def identical_seed_groups(values: np.ndarray, keys: Sequence | None = None) -> list[list[int]]:
    """Indices of the seeds whose predictions are identical, in groups of two or more.

    Rows are compared in full only when their sketches match: the first labels and the sum, or `keys` when
    given (per seed, hashable and equal for equal rows, such as confusion counts the caller already has).

    >>> identical_seed_groups(np.array([[1, 0], [0, 0], [1, 0]]))
    [[0, 2]]
    """
    candidates: dict[tuple, list[int]] = {}
    for index, row in enumerate(values):
        candidates.setdefault(_sketch(row) if keys is None else keys[index], []).append(index)
    groups = []
    for members in candidates.values():
        while len(members) > 1:
            first = members[0]
            same = [i for i in members if np.array_equal(values[i], values[first])]
            if len(same) > 1:
                groups.append(same)
            members = [i for i in members if i not in same]
    return sorted(groups)


def identical_seed_warnings(
    seeds: Sequence, values: np.ndarray, n_examples: int | None = None, keys: Sequence | None = None
) -> list[str]:
    """One warning per group of seeds with identical predictions (not for seeds that all predict one label);
    keys: see :func:`identical_seed_groups`."""
    n_examples = values.shape[1] if n_examples is None else n_examples
    warnings = []
    for group in identical_seed_groups(values, keys):
        if len(distinct_labels(values[group[0]])) == 1:
            continue  # seeds collapsed to one label: degenerate_warnings says so
        who = f"all {len(seeds)} seeds" if len(group) == len(seeds) else _seeds([seeds[i] for i in group])
        warnings.append(
            f"{who} give identical predictions on all {n_examples} examples: nothing random varied between "
            "them (same initialisation, dropout and data order?), so their CON of 1 says nothing about seed "
            "sensitivity."
        )
    return warnings
