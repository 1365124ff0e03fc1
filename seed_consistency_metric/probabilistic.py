"""Soft seed consistency: CON and CCON on the class probabilities of S seeds (numpy only).

A sibling module of the evaluate script ``seed_consistency.py`` (imported by it, bleu-style). For two seeds A and
B with probability vectors p^A, p^B of one example and its true class r:

- soft CON pi: ``1 - TV(p^A, p^B) = sum_c min(p^A_c, p^B_c)`` (1 - total variation distance), which is
  ``1[y^A == y^B]`` when both vectors are one-hot;
- soft CCON pi: ``p^A_r * p^B_r``, the chance that both seeds, sampling from their distributions, are right.

Both are averaged over all S(S-1)/2 seed pairs without looping over pairs: per class, the sum over pairs of
``min(x_a, x_b)`` is ``sum_i x_(i) * (S - 1 - i)`` over the sorted values x_(0) <= ... <= x_(S-1).

>>> p = np.array([[[0.9, 0.1]], [[0.6, 0.4]]])  # 2 seeds, 1 example, 2 classes
>>> soft_agreement(p), true_class_probabilities(p, np.array([0]))
(array([0.7]), array([[0.9],
       [0.6]]))
"""

from collections.abc import Mapping, Sequence

import numpy as np

SUM_TOLERANCE = 1e-3  # how far from 1 a row of probabilities may sum (rounded or float16 outputs)


def probability_array(probabilities, seeds: Sequence | None = None) -> tuple[list, np.ndarray]:
    """Seed names and the checked (S, N, C) float array of an (S, N, C) array-like or a {seed: (N, C)} mapping.

    ValueError naming the seed (and row) for a shape that disagrees between seeds, a value that is NaN,
    infinite or negative, or a row that does not sum to 1 within SUM_TOLERANCE.

    >>> names, p = probability_array({42: [[0.5, 0.5]], 52: [[1.0, 0.0]]})
    >>> names, p.shape
    ([42, 52], (2, 1, 2))
    """
    if isinstance(probabilities, Mapping):
        names, rows = list(probabilities.keys()), list(probabilities.values())
    elif isinstance(probabilities, np.ndarray | Sequence) and not isinstance(probabilities, str):
        names, rows = (list(seeds) if seeds is not None else list(range(len(probabilities)))), list(probabilities)
    else:
        raise ValueError(
            f"probabilities must be an (S, N, C) array or a {{seed: (N, C) array}} mapping, "
            f"not {type(probabilities).__name__}."
        )
    if len(names) != len(rows):
        raise ValueError(f"{len(names)} seed names for {len(rows)} seeds of probabilities.")
    arrays = []
    for name, row in zip(names, rows):
        try:
            array = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Probabilities of seed {name}: expected an (N, C) array of numbers (ragged rows or non-numbers)."
            ) from None
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
            raise ValueError(
                f"Probabilities of seed {name}: expected shape (N examples, C >= 2 classes), got {array.shape}."
            )
        if arrays and array.shape != arrays[0].shape:
            raise ValueError(
                f"Probabilities of seed {name} have shape {array.shape} but those of seed {names[0]} "
                f"have {arrays[0].shape} (examples, classes)."
            )
        _check_rows(array, name)
        arrays.append(array)
    if len(arrays) < 2:
        raise ValueError(f"Seed consistency needs probabilities of at least 2 seeds, got {len(arrays)}.")
    return names, np.stack(arrays)


def _check_rows(array: np.ndarray, name) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"Probabilities of seed {name}, row {row}: non-finite value {array[row, column]} for class {column}."
        )
    if (array < 0).any():
        row, column = np.argwhere(array < 0)[0]
        raise ValueError(
            f"Probabilities of seed {name}, row {row}: negative value {array[row, column]} for class {column}."
        )
    sums = array.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    if off.size:
        raise ValueError(
            f"Probabilities of seed {name}, row {off[0]}: the row sums to {sums[off[0]]:.6g}, not 1 "
            f"(within {SUM_TOLERANCE}); pass softmax outputs, not logits."
        )


def soft_agreement(probabilities: np.ndarray) -> np.ndarray:
    """Per example of an (S, N, C) array, the mean over seed pairs of 1 - TV(p^a, p^b) = sum_c min(p^a_c, p^b_c).

    >>> soft_agreement(np.array([[[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]]]))
    array([1. , 0.5])
    """
    n_seeds = probabilities.shape[0]
    ordered = np.sort(probabilities, axis=0)
    later = np.arange(n_seeds - 1, -1, -1, dtype=np.float64)  # x_(i) is the minimum of its pairs with later seeds
    return np.einsum("snc,s->n", ordered, later) / (n_seeds * (n_seeds - 1) / 2)


def true_class_probabilities(probabilities: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(S, N) probability each seed gives to the true class; references must be class indices 0..C-1.

    >>> true_class_probabilities(np.array([[[0.2, 0.8]], [[0.7, 0.3]]]), np.array([1]))
    array([[0.8],
           [0.3]])
    """
    n_classes = probabilities.shape[2]
    references = np.asarray(references)
    if references.dtype.kind not in "biu":
        bad = next((i for i, r in enumerate(references) if not isinstance(r, int | np.integer)), 0)
        raise ValueError(
            f"With probabilities, references must be class indices 0..{n_classes - 1} (the columns of the "
            f"probabilities); row {bad} is {references.tolist()[bad]!r}."
        )
    outside = np.flatnonzero((references < 0) | (references >= n_classes))
    if outside.size:
        raise ValueError(
            f"Reference row {outside[0]} is class {references[outside[0]]}, but the probabilities have "
            f"{n_classes} classes (0..{n_classes - 1})."
        )
    return np.take_along_axis(probabilities, references[None, :, None].astype(np.intp), axis=2)[:, :, 0]


def pairwise_soft(probabilities: np.ndarray, true_class: np.ndarray | None) -> dict[str, list]:
    """S x S matrices of soft CON (and soft CCON when `true_class`, the (S, N) true-class probabilities, is given)."""
    n_seeds = probabilities.shape[0]
    con = np.eye(n_seeds)
    for a in range(n_seeds):
        for b in range(a + 1, n_seeds):
            con[a, b] = con[b, a] = np.mean(np.minimum(probabilities[a], probabilities[b]).sum(axis=1))
    matrices = {"soft_con_matrix": con.tolist()}
    if true_class is not None:
        matrices["soft_ccon_matrix"] = (true_class @ true_class.T / true_class.shape[1]).tolist()
    return matrices
