"""What CON adds beyond accuracy: the accuracy identity and the independent-errors baseline (numpy only).

Per example and seed pair (a, b), with exact-match pi: both right means they agree, exactly one right means they
disagree, and both wrong leaves either. Averaged over examples,

    CON_ab = CCON_ab + W_ab <= 2 * CCON_ab + 1 - acc_a - acc_b      (W_ab: both wrong and the same label)

with equality when labels are binary (two wrong binary predictions are the same label). Averaged over the
S(S-1)/2 pairs: CON <= 2 * CCON + 1 - 2 * mean(acc), and max(0, 2 * mean(acc) - 1) <= CCON <= mean(acc) <= 1,
CCON <= CON. `IDENTITY_CONSTRAINTS` holds these as linear forms; `con_decomposition` splits a report's CON.

>>> values = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 1, 1]])
>>> parts = con_decomposition(values, np.array([1, 1, 1, 1, 1]), con=0.2, ccon=0.2)
>>> parts["con_implied"], parts["both_wrong_disagree"], parts["independent_con"]
(0.2, 0.0, 0.52)
"""

from dataclasses import dataclass

import numpy as np

_DENSE_LABELS = 256  # up to this many labels the per-seed confusion counts are one bincount each


@dataclass(frozen=True)
class Constraint:
    """``sum(coefficients[k] * value[k]) + constant <= 0`` for any predictions (values as fractions)."""

    name: str
    coefficients: dict  # over "accuracy", "con", "ccon"
    constant: float = 0.0
    binary_only: bool = False


IDENTITY_CONSTRAINTS = (
    Constraint("CCON <= CON", {"ccon": 1, "con": -1}),
    Constraint("CCON <= accuracy", {"ccon": 1, "accuracy": -1}),
    Constraint("CCON >= 2*accuracy - 1", {"accuracy": 2, "ccon": -1}, -1.0),
    Constraint("CON <= 2*CCON + 1 - 2*accuracy", {"con": 1, "ccon": -2, "accuracy": 2}, -1.0),
    Constraint("CON = 2*CCON + 1 - 2*accuracy (binary labels)", {"con": -1, "ccon": 2, "accuracy": -2}, 1.0, True),
)


def _label_codes(values: np.ndarray, references: np.ndarray, value_range: tuple | None = None):
    """Reference codes, K, and a function giving one seed's prediction codes (labels -> 0..K-1).

    value_range: (min, max) of the integer predictions when the caller knows it (saves two passes).
    """
    if values.dtype.kind in "biu" and references.dtype.kind in "biu":
        low, high = value_range or (int(values.min()), int(values.max()))
        low, high = min(low, int(references.min())), max(high, int(references.max()))
        if high - low < _DENSE_LABELS:  # small integer labels: shift them, row by row (no (S, N) copy)
            if low == 0:
                return references.astype(np.int64), high + 1, lambda seed: values[seed]
            return references.astype(np.int64) - low, high - low + 1, lambda seed: values[seed].astype(np.int64) - low
    labels, inverse = np.unique(np.concatenate([references, values.reshape(-1)]), return_inverse=True)
    n = len(references)
    return inverse[:n], len(labels), lambda seed: inverse[n * (seed + 1) : n * (seed + 2)]


def confusion_cells(
    values: np.ndarray, references: np.ndarray, value_range: tuple | None = None, hints: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every seed's confusion counts as non-zero cells: seed, cell (= reference code * K + prediction code),
    count; and K, the number of labels in predictions and references. hints, when already counted: "confusion",
    the (S, K, K) counts [seed, reference code, prediction code]; or (0/1 labels only) per seed "hits"
    (predictions equal to the reference) and "ones" (predictions equal to 1).

    >>> seed, cell, count, n_labels = confusion_cells(np.array([[1, 1, 0]]), np.array([1, 0, 0]))
    >>> cell.tolist(), count.tolist(), n_labels
    ([0, 1, 3], [1, 1, 1], 2)
    """
    if "confusion" in (hints or {}):
        tallies = hints["confusion"].reshape(len(values), -1)
        seeds, cells = np.nonzero(tallies)
        return seeds, cells, tallies[seeds, cells], hints["confusion"].shape[1]
    reference_codes, n_labels, prediction_codes = _label_codes(values, references, value_range)
    if n_labels == 2 and values.dtype.kind in "biu":
        return _binary_cells(values, reference_codes, prediction_codes, hints or {})
    seeds, cells, counts = [], [], []
    reference_cells = reference_codes * n_labels
    for seed in range(values.shape[0]):
        cell = reference_cells + prediction_codes(seed)
        if n_labels <= _DENSE_LABELS:
            tally = np.bincount(cell, minlength=n_labels * n_labels)
            present = np.flatnonzero(tally)
            present_counts = tally[present]
        else:
            present, present_counts = np.unique(cell, return_counts=True)
        seeds.append(np.full(len(present), seed))
        cells.append(present)
        counts.append(present_counts)
    return np.concatenate(seeds), np.concatenate(cells), np.concatenate(counts), n_labels


def _binary_cells(values: np.ndarray, reference_codes: np.ndarray, prediction_codes, hints: dict) -> tuple:
    """confusion_cells of 0/1 codes from two counts per seed (predicted 1s, hits), without a cell array."""
    n, n_seeds = len(reference_codes), values.shape[0]
    reference_ones = np.count_nonzero(reference_codes)
    counts = []
    for seed in range(n_seeds):
        row = None if {"ones", "hits"} <= set(hints) else prediction_codes(seed)
        predicted_ones = hints["ones"][seed] if row is None else np.count_nonzero(row)
        hits = hints["hits"][seed] if row is None else np.count_nonzero(row == reference_codes)
        both_ones = (hits - n + predicted_ones + reference_ones) // 2  # hits = n00 + n11, n00 = n - p1 - r1 + n11
        counts += [hits - both_ones, predicted_ones - both_ones, reference_ones - both_ones, both_ones]  # 00 01 10 11
    counts = np.array(counts, dtype=np.int64)
    seeds, cells = np.repeat(np.arange(n_seeds), 4), np.tile(np.arange(4), n_seeds)
    keep = counts > 0
    return seeds[keep], cells[keep], counts[keep], 2


def _independent_baseline(cell: np.ndarray, counts: np.ndarray, n_labels: int, n_seeds: int, n: int):
    """Expected CON and CCON over pairs when seeds err independently given the reference (confusions kept)."""
    unique_cells, which = np.unique(cell, return_inverse=True)
    total = np.bincount(which, weights=counts)  # T: summed over seeds
    squares = np.bincount(which, weights=counts.astype(np.float64) ** 2)  # Q
    reference, prediction = np.divmod(unique_cells, n_labels)
    class_size = np.bincount(reference, weights=total, minlength=n_labels) / n_seeds  # N_k
    pair_sums = (total * total - squares) / class_size[reference] / (n * n_seeds * (n_seeds - 1))
    return float(pair_sums.sum()), float(pair_sums[reference == prediction].sum())


def con_decomposition(
    values: np.ndarray,
    references: np.ndarray,
    con: float,
    ccon: float,
    value_range: tuple | None = None,
    hints: dict | None = None,
) -> dict:
    """CON split by correctness, what accuracy implies about it, and the independent-errors baseline.

    values: (S, N) labels (one unit per example, exact-match pi); con, ccon: the report's values;
    value_range, hints: counts the caller already has (see :func:`confusion_cells`).
    Keys (fractions of all pairs x examples): accuracy_mean, both_correct (= CCON), both_wrong_agree
    (= CON - CCON), one_correct (they must disagree), both_wrong_disagree (0 for binary labels), con_implied
    (2*CCON + 1 - 2*accuracy_mean: the CON that accuracy and CCON give when wrong seeds agree; = CON for binary),
    con_min_from_accuracy (mean over pairs of max(0, acc_a + acc_b - 1): the least CON accuracy alone allows),
    binary, independent_con / independent_ccon (expected when each seed keeps its confusion matrix but errs
    independently of the others given the reference), con_beyond_independent, ccon_beyond_independent, summary.
    """
    n_seeds, n = values.shape
    seed, cell, counts, n_labels = confusion_cells(values, references, value_range, hints)
    reference, prediction = np.divmod(cell, n_labels)
    accuracy = np.bincount(seed[reference == prediction], weights=counts[reference == prediction], minlength=n_seeds)
    accuracy = accuracy / n
    accuracy_mean = float(np.mean(accuracy))
    upper = np.triu_indices(n_seeds, 1)
    pair_floor = np.maximum(0.0, accuracy[:, None] + accuracy[None, :] - 1)[upper]
    independent_con, independent_ccon = _independent_baseline(cell, counts, n_labels, n_seeds, n)
    one_correct = 2 * accuracy_mean - 2 * ccon
    parts = {
        "accuracy_mean": accuracy_mean,
        "both_correct": ccon,
        "both_wrong_agree": con - ccon,
        "one_correct": one_correct,
        "both_wrong_disagree": max(0.0, 1 - con - one_correct),
        "con_implied": 2 * ccon + 1 - 2 * accuracy_mean,
        "con_min_from_accuracy": float(np.mean(pair_floor)),
        "binary": len(np.union1d(reference, prediction)) <= 2,  # labels present, in predictions or references
        "independent_con": independent_con,
        "independent_ccon": independent_ccon,
        "con_beyond_independent": con - independent_con,
        "ccon_beyond_independent": ccon - independent_ccon,
    }
    rounded = {key: round(value, 12) if isinstance(value, float) else value for key, value in parts.items()}
    return rounded | {"summary": describe_decomposition(rounded, con)}


def describe_decomposition(parts: dict, con: float) -> str:
    """One plain-English paragraph on a :func:`con_decomposition`."""
    text = (
        f"CON {con:.3f} = both seeds right {parts['both_correct']:.3f} + both wrong with the same label "
        f"{parts['both_wrong_agree']:.3f}. Accuracy {parts['accuracy_mean']:.3f} alone forces CON >= "
        f"{parts['con_min_from_accuracy']:.3f}; "
    )
    if parts["binary"]:
        text += f"with binary labels accuracy and CCON fix CON exactly ({parts['con_implied']:.3f}). "
    else:
        text += (
            f"accuracy and CCON allow CON up to {parts['con_implied']:.3f}; the gap "
            f"{parts['both_wrong_disagree']:.3f} is pairs both wrong with different labels. "
        )
    text += (
        f"Seeds erring independently at these accuracies would give CON {parts['independent_con']:.3f} "
        f"(CCON {parts['independent_ccon']:.3f}): these seeds agree {parts['con_beyond_independent']:+.3f} beyond that."
    )
    return text
