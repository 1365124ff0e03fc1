"""Seed consistency: how much random seeds change a fine-tuned model (CON, CCON, VAR).

Self-contained evaluate module (numpy only). The math lives in plain functions; the evaluate class at the
bottom is a thin shell around :func:`seed_consistency`.
"""

import functools
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import datasets
import evaluate
import numpy as np

from .accuracy_identity import con_decomposition
from .diagnostics import degenerate_warnings, identical_seed_warnings, majority_label
from .probabilistic import pairwise_soft, probability_array, soft_agreement, true_class_probabilities
from .resampling import (
    MIN_SEEDS_FOR_SEED_CI,
    ExampleStats,
    bootstrap_samples,
    check_bootstrap_args,
    ci_method,
    compare_samples,
    component_differences,
    component_intervals,
    group_examples,
    pair_index,
    percentile_interval,
    point_estimates,
    spread_permutation_p_value,
    two_sided_p_value,
)
from .seed_budget import seed_curve

_CITATION = """\
@article{bui2025seeds,
  title   = {Assessing the Macro and Micro Effects of Random Seeds on Fine-Tuning Large Language Models},
  author  = {Bui, Nghia and Savova, Guergana and Wang, Lijing},
  journal = {arXiv preprint arXiv:2503.07329},
  year    = {2025}
}
"""

_DESCRIPTION = """\
Seed consistency measures how much the random seed changes a fine-tuned model. Given the predictions of the
same model fine-tuned with S seeds on the same N examples it reports
- VAR (macro): the population standard deviation over seeds of a standard metric zeta (accuracy, MCC, F1, MAE...),
- CON (micro): the fraction of examples on which two seeds agree, averaged over all S(S-1)/2 seed pairs,
- CCON: the fraction of examples on which two seeds are both correct, averaged over all seed pairs.
Two seeds that are both 60% accurate can agree on only 20% of the examples: VAR is 0, CON is 0.2.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list per example holding the S predictions of that example, one per seed, in the same
        seed order for every example (the direct API `seed_consistency` takes an (S, N) array or a
        {seed: predictions} mapping instead).
    references: the N true labels (values for regression, token-label lists, reference strings).
    zeta: the standard metric whose spread over seeds is VAR: "accuracy" (default for classification and
        token classification), "mcc", "f1" (binary, see pos_label), "macro_f1", "mae" (default for regression),
        "pearson", "exact_match" (default for generation), "token_f1", or a callable (predictions, references)
        -> float.
    seeds: names of the S seeds, in the order of each example's predictions (default 0..S-1).
    tolerance: regression only: two values agree (and a value is correct) when they differ by at most this.
    pi: generation only: "exact_match" (after SQuAD normalisation) or "token_f1" between two seeds' outputs.
    pos_label: the positive class of zeta="f1".
    probabilities: classification only: per example, the S seeds' class probabilities, shape (N, S, C) (the
        direct API takes (S, N, C) or {seed: (N, C)}); rows must be non-negative and sum to 1. Adds soft_con
        (pi = 1 - total variation distance between two seeds' distributions), soft_ccon (pi = the product of
        the two seeds' probabilities of the true class; references must be class indices 0..C-1) and the
        ensemble's "mean_probabilities"; zeta, con and ccon stay those of the labels.
    pairwise: also return the S x S matrices `con_matrix` and `ccon_matrix`.
    per_example: also return `per_example`: the fraction of seed pairs agreeing, the number of seeds
        correct and the majority prediction of every example.
    kappa: also return Fleiss' kappa, chance-corrected CON (categorical tasks).
    n_bootstrap: number of bootstrap resamples; > 0 adds confidence intervals `ci` ({metric: [low, high]}) and
        `ci_method` (how they were made and what they estimate); 0 (default): none.
    confidence_level: coverage of those intervals (default 0.95).
    random_state: seed of the bootstrap.
    resample: "both" (seeds and examples resampled together, for the population of seeds and of test examples; a
        seed drawn twice is never paired with itself; needs >= 3 seeds), "seeds" (the examples fixed) or
        "examples" (the seeds fixed: the interval ignores which seeds were drawn). Default (None): "both", or
        "examples" with 2 seeds, which `ci_method` then says; "both" or "seeds" asked for with 2 seeds raise.
    interval: for resample "both": "components" (default: a t-interval whose variance combines the resamples of
        the seeds, of the examples and of both, see the metric card; validated in VALIDATION.md) or "percentile"
        (the percentile interval of the joint resamples, too wide with few examples, too narrow with 5 seeds);
        "seeds" and "examples" always give percentile intervals.
Returns:
    con, ccon, var, zeta_mean: fractions in [0, 1] (zeta in its own unit, e.g. MAE);
    zeta: the metric of every seed; seeds, n_seeds, n_pairs, n_examples, task, zeta_name;
    warnings: plain-English strings, empty when fine: seeds predicting a single label or fewer labels than
        the references, seeds no better than always predicting the majority class, identical seeds;
    con_decomposition: CON split by correctness, what accuracy implies about it and the independent-errors
        baseline (see the metric card; one unit per example, exact-match pi, references given; else None);
    ensemble: zeta of the S-seed ensemble, {"majority_vote": ...} (ties go to the smallest label;
        {"mean_prediction": ...} for regression), plus "mean_probabilities" (argmax of the mean probabilities)
        when probabilities are given; None without references;
    soft_con, soft_ccon with probabilities; and con_matrix, ccon_matrix (soft_con_matrix, soft_ccon_matrix),
    per_example, kappa, ci when asked for.
Examples:
    >>> import evaluate
    >>> metric = evaluate.load("seed_consistency")
    >>> predictions = [[1, 1], [1, 0], [1, 0], [0, 1], [0, 1]]  # 5 examples, 2 seeds
    >>> references = [1, 1, 1, 1, 1]
    >>> result = metric.compute(predictions=predictions, references=references)
    >>> result["zeta"], result["con"], result["ccon"], result["var"]
    ([0.6, 0.6], 0.2, 0.2, 0.0)
"""

TASKS = ("classification", "regression", "token_classification", "generation")
PAPER_SEEDS = tuple(range(42, 133, 10))
IGNORE_INDEX = -100
_PER_SEED_FORM_SEEDS = 12  # from this many seeds, bootstrap agreement from per-seed labels, not seed pairs
_MAX_PAIR_CELLS = 1 << 27  # seed pairs x distinct examples of the bootstrap's pair matrices (1 GiB of float64)
_BLOCK = 16384  # examples per block where one pass does several jobs: 10 seeds x 16384 int64 stay in cache
_BYTE_LABELS = 256  # integer labels in [0, 256) are counted as bytes
_CELL_LABELS = 16  # labels in [0, 16): `_tally` can also count every seed's confusion cells (`_cell_counts`)


# ----------------------------------------------------------------------------------------------- zeta metrics
def accuracy(predictions: np.ndarray, references: np.ndarray) -> float:
    """Fraction of predictions equal to the reference.

    >>> accuracy(np.array([1, 0, 1]), np.array([1, 1, 1]))
    0.6666666666666666
    """
    return float(np.mean(predictions == references))


def _confusion(predictions: np.ndarray, references: np.ndarray) -> np.ndarray:
    labels, codes = np.unique(np.concatenate([references, predictions]), return_inverse=True)
    n = len(references)
    return np.bincount(codes[:n] * len(labels) + codes[n:], minlength=len(labels) ** 2).reshape(
        len(labels), len(labels)
    )


def matthews_corrcoef(predictions: np.ndarray, references: np.ndarray) -> float:
    """Multi-class Matthews correlation coefficient (Gorodkin's R_K; 0 when undefined, as in sklearn).

    >>> matthews_corrcoef(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]))
    0.5773502691896258
    """
    confusion = _confusion(predictions, references).astype(np.float64)
    true_counts, pred_counts = confusion.sum(axis=1), confusion.sum(axis=0)
    total, correct = confusion.sum(), np.trace(confusion)
    denominator = math.sqrt((total**2 - pred_counts @ pred_counts) * (total**2 - true_counts @ true_counts))
    return 0.0 if denominator == 0 else float((correct * total - true_counts @ pred_counts) / denominator)


def _f1_per_label(confusion: np.ndarray) -> np.ndarray:
    true_positive = np.diag(confusion).astype(np.float64)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)
    return np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)


def macro_f1(predictions: np.ndarray, references: np.ndarray) -> float:
    """Unweighted mean F1 over the labels present in predictions or references (sklearn's average="macro").

    >>> macro_f1(np.array([0, 1, 1]), np.array([0, 1, 0]))
    0.6666666666666666
    """
    return float(np.mean(_f1_per_label(_confusion(predictions, references))))


def binary_f1(predictions: np.ndarray, references: np.ndarray, pos_label=1) -> float:
    """F1 of the class `pos_label` (0 when it is never predicted nor true).

    >>> binary_f1(np.array([1, 1, 0]), np.array([1, 0, 0]))
    0.6666666666666666
    """
    predicted, true = predictions == pos_label, references == pos_label
    denominator = predicted.sum() + true.sum()
    return 0.0 if denominator == 0 else float(2 * np.sum(predicted & true) / denominator)


def mean_absolute_error(predictions: np.ndarray, references: np.ndarray) -> float:
    """Mean absolute difference.

    >>> mean_absolute_error(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    0.25
    """
    return float(np.mean(np.abs(predictions.astype(np.float64) - references)))


def pearson(predictions: np.ndarray, references: np.ndarray) -> float:
    """Pearson correlation (0 when either side is constant).

    >>> round(pearson(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 2.5])), 4)
    0.982
    """
    x = predictions.astype(np.float64) - predictions.mean()
    y = references.astype(np.float64) - references.mean()
    denominator = math.sqrt((x @ x) * (y @ y))
    return 0.0 if denominator == 0 else float((x @ y) / denominator)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces.

    >>> normalize_answer("The  Eiffel Tower!")
    'eiffel tower'
    """
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token-overlap F1 between two (normalised) strings; 1.0 when both are empty.

    >>> token_f1("eiffel tower", "tower")
    0.6666666666666666
    """
    a, b = prediction.split(), reference.split()
    if not a or not b:
        return float(a == b)
    overlap = sum((Counter(a) & Counter(b)).values())
    return 0.0 if overlap == 0 else 2 * overlap / (len(a) + len(b))


def _mean_token_f1(predictions: np.ndarray, references: np.ndarray) -> float:
    return float(np.mean([token_f1(a, b) for a, b in zip(predictions, references)]))


_ZETAS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "exact_match": accuracy,
    "mcc": matthews_corrcoef,
    "macro_f1": macro_f1,
    "mae": mean_absolute_error,
    "pearson": pearson,
    "token_f1": _mean_token_f1,
}
ZETAS_BY_TASK = {  # the zeta metrics each task type offers; its default comes first
    "classification": ("accuracy", "mcc", "f1", "macro_f1"),
    "regression": ("mae", "pearson"),
    "token_classification": ("accuracy", "macro_f1"),
    "generation": ("exact_match", "token_f1"),
}


DEFAULT_ZETA = {task: zetas[0] for task, zetas in ZETAS_BY_TASK.items()}


def _resolve_zeta(zeta, task: str, pos_label) -> tuple[str, Callable[[np.ndarray, np.ndarray], float]]:
    if callable(zeta):
        return getattr(zeta, "__name__", "custom"), lambda p, r: float(zeta(p, r))
    name = DEFAULT_ZETA[task] if zeta is None else zeta
    if name not in ZETAS_BY_TASK[task]:
        raise ValueError(
            f"Unknown zeta {name!r} for task {task!r}; choose one of {sorted(ZETAS_BY_TASK[task])} or a callable."
        )
    if name == "f1":
        return name, lambda p, r: binary_f1(p, r, pos_label)
    return name, _ZETAS[name]


# ------------------------------------------------------------------------------------------- input validation
def _as_seed_rows(predictions, seeds) -> tuple[list, list]:
    """Split the predictions into S rows (one per seed) and name the seeds."""
    if isinstance(predictions, Mapping):
        names, rows = list(predictions.keys()), list(predictions.values())
    elif isinstance(predictions, np.ndarray) and predictions.ndim == 2:
        names, rows = None, predictions
    elif isinstance(predictions, Sequence | np.ndarray) and not isinstance(predictions, str):
        names, rows = None, list(predictions)
    else:
        raise ValueError(
            f"predictions must be an (S, N) array or a {{seed: predictions}} mapping, not {type(predictions).__name__}."
        )
    if seeds is not None:
        if names is not None and list(seeds) != names:
            raise ValueError("Give seed names either as the mapping's keys or as `seeds`, not both.")
        names = list(seeds)
    names = list(range(len(rows))) if names is None else names
    if len(names) != len(rows):
        raise ValueError(f"{len(names)} seed names for {len(rows)} rows of predictions.")
    if len(set(map(str, names))) != len(names):
        raise ValueError(f"Seed names must be unique, got {names}.")
    if len(rows) < 2:
        raise ValueError(f"Seed consistency needs predictions of at least 2 seeds, got {len(rows)}.")
    for name, row in zip(names, rows):
        if isinstance(row, str) or not hasattr(row, "__len__"):
            raise ValueError(f"Seed {name}: expected a sequence of predictions, got {type(row).__name__}.")
    lengths = [len(row) for row in rows]
    if min(lengths) == 0:
        raise ValueError(f"Seed {names[lengths.index(0)]} has no predictions: empty input.")
    if len(set(lengths)) > 1:
        bad = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise ValueError(
            f"Ragged predictions: seed {names[0]} has {lengths[0]} predictions "
            f"but seed {names[bad]} has {lengths[bad]}."
        )
    return names, rows


def _label_kind(values: np.ndarray, what: str) -> str:
    """'int', 'str' or 'float' for a 1-D array of labels; ValueError on mixed types or NaN."""
    if values.dtype.kind in "biu":
        return "int"
    if values.dtype.kind in "US":
        return "str"
    if values.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"{what} has a non-finite value ({values[bad[0]]}) at row {bad[0]}.")
        return "float"
    kinds = {_kind_of(v) for v in values}
    if "float" in kinds and kinds <= {"float", "int"}:
        return _label_kind(values.astype(np.float64), what)
    if len(kinds) != 1 or kinds - {"int", "str", "float"}:
        first = {k: next(i for i, v in enumerate(values) if _kind_of(v) == k) for k in kinds}
        listed = ", ".join(f"{k} at row {i}" for k, i in sorted(first.items(), key=lambda kv: kv[1]))
        raise ValueError(f"{what} mixes label types ({listed}); use one type for all labels.")
    return kinds.pop()


def _kind_of(value) -> str:
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, str):
        return "str"
    if isinstance(value, float | np.floating):
        return "float"
    return type(value).__name__


def _as_labels(row, what: str, task: str) -> np.ndarray:
    """One seed's (or the references') labels as a 1-D numpy array of a single type."""
    values = row if isinstance(row, np.ndarray) else np.asarray(list(row), dtype=object)
    if values.ndim != 1:
        raise ValueError(f"{what} must be one value per example, got shape {values.shape} (row 0 is a list).")
    kind = _label_kind(values, what)
    if task == "regression":
        if kind == "str":
            raise ValueError(f"{what} holds strings; regression needs numbers.")
        return values.astype(np.float64)
    if kind == "float":
        if not np.all(values.astype(np.float64) == np.round(values.astype(np.float64))):
            bad = int(np.flatnonzero(values.astype(np.float64) != np.round(values.astype(np.float64)))[0])
            raise ValueError(f"{what} has a non-integer label {values[bad]} at row {bad}; use task='regression'.")
        return _int64(values, what)
    if kind == "int":
        return _int64(values, what) if values.dtype == object else values
    return values.astype(str)


def _int64(values: np.ndarray, what: str) -> np.ndarray:
    """Whole-number labels as int64; ValueError naming the first one outside the int64 range."""
    try:
        if values.dtype.kind == "f" and np.any(np.abs(values) >= 2.0**63):
            raise OverflowError
        return values.astype(np.int64)
    except OverflowError:
        bad = next(i for i, v in enumerate(values) if not -(2**63) <= v < 2**63)
        raise ValueError(f"{what} has a label {values[bad]} at row {bad}, outside the int64 range.") from None


def _check_same_kind(arrays: list[np.ndarray], names: list[str]) -> None:
    kinds = ["str" if a.dtype.kind in "US" else "number" for a in arrays]
    if len(set(kinds)) > 1:
        bad = next(i for i, k in enumerate(kinds) if k != kinds[0])
        raise ValueError(f"Mixed label types: {names[0]} holds {kinds[0]}s but {names[bad]} holds {kinds[bad]}s.")


# ------------------------------------------------------------------------------------------- counting kernels
def agreeing_pair_fraction(values: np.ndarray) -> np.ndarray:
    """Per column of an (S, U) label array, the fraction of the S(S-1)/2 seed pairs that agree.

    Integer labels in [0, 256) are counted as bytes, block by block (see `_agreeing_pairs`); other labels are
    sorted per column: O(U * S log S).

    >>> agreeing_pair_fraction(np.array([[1, 0], [1, 1], [1, 0]]))
    array([1.        , 0.33333333])
    """
    n_seeds = values.shape[0]
    n_pairs = n_seeds * (n_seeds - 1) / 2
    if values.dtype.kind in "biu":
        counts = np.empty(values.shape[1], dtype=_pair_count_dtype(n_seeds))
        scratch = np.empty((_scratch_rows(n_seeds), min(values.shape[1], _BLOCK)), dtype=bool)
        buffer = np.empty((n_seeds, scratch.shape[1]), dtype=np.uint8)
        for columns, block, bits in _blocks(values):
            if not 0 <= bits < _BYTE_LABELS:
                break
            _agreeing_pairs(_as_bytes(block, buffer), scratch[:, : block.shape[1]], counts[columns])
        else:
            return counts / n_pairs
    _, equal_before = _sorted_runs(values)  # summed per column: the agreeing pairs
    return equal_before.sum(axis=0) / n_pairs


def both_correct_pair_fraction(correct: np.ndarray) -> np.ndarray:
    """Per column of an (S, U) correctness array in [0, 1], the mean over seed pairs of c_a * c_b.

    >>> both_correct_pair_fraction(np.array([[True, True], [True, False], [True, False]]))
    array([1., 0.])
    """
    n_seeds = correct.shape[0]
    if correct.dtype == bool:
        return _pair_share(n_seeds)[_count_true(correct).astype(np.intp)]
    total = np.add.reduce(correct, axis=0, dtype=np.float64)
    squares = np.add.reduce(correct.astype(np.float64) ** 2, axis=0)
    return (total * total - squares) / (n_seeds * (n_seeds - 1))


def _label_bits(labels: np.ndarray) -> int:
    """Bitwise OR of all integer labels: the labels lie in [0, result] when it is >= 0."""
    return int(np.bitwise_or.reduce(labels.view(np.uint8) if labels.dtype == bool else labels, axis=None))


def _pair_share(n_seeds: int) -> np.ndarray:
    """share[c]: the fraction of all seed pairs that lie within a group of c seeds, c = 0..S."""
    group = np.arange(n_seeds + 1, dtype=np.float64)
    return group * (group - 1) / (n_seeds * (n_seeds - 1))


def _count_true(flags: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per column of an (S, U) boolean array, how many are True (summed as bytes when S allows: fastest)."""
    if flags.shape[0] < 256:
        return np.add.reduce(flags.view(np.uint8), axis=0, dtype=np.uint8, out=out)
    return np.add.reduce(flags, axis=0, dtype=np.intp, out=out)


def _pair_count_dtype(n_seeds: int) -> type:
    """The smallest dtype that holds the S(S-1)/2 seed pairs and adds the output of `_count_true`."""
    return np.uint8 if n_seeds <= 22 else np.uint16 if n_seeds < 256 else np.intp


def _blocks(values: np.ndarray) -> Iterator[tuple[slice, np.ndarray, int]]:
    """(columns, block, bits) for blocks of `_BLOCK` columns of an (S, U) integer array; bits: the OR of the
    block's labels (they lie in [0, bits] when bits >= 0)."""
    for start in range(0, values.shape[1], _BLOCK):
        block = values[:, start : start + _BLOCK]
        yield slice(start, start + block.shape[1]), block, _label_bits(block)


def _as_bytes(block: np.ndarray, buffer: np.ndarray) -> np.ndarray:
    """A block of integer labels in [0, 256) as uint8: a view of one-byte labels, else a copy into `buffer`."""
    if block.dtype.itemsize == 1:
        return block.view(np.uint8)
    labels = buffer[:, : block.shape[1]]
    np.copyto(labels, block, casting="unsafe")
    return labels


def _scratch_rows(n_seeds: int) -> int:
    """Rows of the boolean scratch buffer of `_agreeing_pairs`: S, or up to 64 rows of seed comparisons."""
    return max(n_seeds, min(n_seeds * (n_seeds - 1) // 2, 64))


def _agreeing_pairs(labels: np.ndarray, scratch: np.ndarray, out: np.ndarray) -> None:
    """Per column of an (S, B) uint8 label block, the number of seed pairs that agree, written into `out`.

    Counts every label value but the last, sum_k C(c_k, 2) = (sum_k c_k^2 - S) / 2, or compares the seeds d rows
    apart for d = 1..S-1, whichever reads the block fewer times: K - 1 against (S - 1) / 2 (K = largest label
    + 1). `scratch` is a boolean buffer of `_scratch_rows(S)` rows and B columns.

    >>> out = np.empty(2, dtype=np.uint8)
    >>> _agreeing_pairs(np.array([[1, 0], [1, 1], [1, 0]], dtype=np.uint8), np.empty((3, 2), bool), out)
    >>> out
    array([3, 1], dtype=uint8)
    """
    n_seeds = len(labels)
    n_labels = int(labels.max()) + 1
    if n_labels - 1 <= (n_seeds - 1) / 2:
        square_type = np.uint16 if n_seeds < 256 else np.intp
        rest = np.full(labels.shape[1], n_seeds, dtype=square_type)  # seeds with the last label
        squares = np.zeros(labels.shape[1], dtype=square_type)
        for label in range(n_labels - 1):
            count = _count_true(np.equal(labels, label, out=scratch[:n_seeds])).astype(square_type)
            rest -= count
            squares += count * count
        out[...] = (squares + rest * rest - n_seeds) // 2
        return
    out[...] = filled = 0
    for distance in range(1, n_seeds):  # the comparisons fill the scratch rows, counted once it is full
        if filled + n_seeds - distance > len(scratch):
            out += _count_true(scratch[:filled])
            filled = 0
        np.equal(labels[distance:], labels[:-distance], out=scratch[filled : filled + n_seeds - distance])
        filled += n_seeds - distance
    out += _count_true(scratch[:filled])


def _tolerance_pair_fraction(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Per column, the fraction of seed pairs whose values differ by at most `tolerance`.

    Sorts each column; pairs `d` apart in sorted order can only agree if all closer pairs do, so the loop over
    d stops at the first distance with no agreeing pair.
    """
    n_seeds = values.shape[0]
    ordered = np.sort(values, axis=0)
    agreeing = np.zeros(values.shape[1])
    for distance in range(1, n_seeds):
        close = (ordered[distance:] - ordered[:-distance]) <= tolerance
        if not close.any():
            break
        agreeing += close.sum(axis=0)
    return agreeing / (n_seeds * (n_seeds - 1) / 2)


def _sorted_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every column sorted, and for each entry how many equal entries come before it in its sorted column."""
    ordered = np.sort(values, axis=0)
    starts_run = np.ones(ordered.shape, dtype=bool)
    starts_run[1:] = ordered[1:] != ordered[:-1]
    position = np.arange(values.shape[0])[:, None]
    return ordered, position - np.maximum.accumulate(np.where(starts_run, position, 0), axis=0)


def _column_mode(values: np.ndarray) -> np.ndarray:
    """Most frequent label of every column (ties go to the smallest label)."""
    if values.dtype.kind in "biu":
        all_bits = _label_bits(values)
        if 0 <= all_bits <= 1:  # binary: 1 where more than half of the seeds say 1
            return (2 * np.add.reduce(values, axis=0, dtype=np.intp) > values.shape[0]).astype(values.dtype)
        if 0 <= all_bits < _BYTE_LABELS:
            return _byte_mode(values)
    ordered, equal_before = _sorted_runs(values)  # largest at the end of the longest run, first such run wins
    return ordered[np.argmax(equal_before, axis=0), np.arange(values.shape[1])]


def _byte_mode(values: np.ndarray) -> np.ndarray:
    """`_column_mode` of integer labels in [0, 256): each label counted as bytes, block by block; a later label
    must beat, not tie, the most frequent one so far."""
    modes = np.zeros(values.shape[1], dtype=values.dtype)
    flags = np.empty((len(values), min(values.shape[1], _BLOCK)), dtype=bool)
    buffer = np.empty(flags.shape, dtype=np.uint8)
    for start in range(0, values.shape[1], _BLOCK):
        labels = _as_bytes(values[:, start : start + _BLOCK], buffer)
        mode, scratch = modes[start : start + labels.shape[1]], flags[:, : labels.shape[1]]
        best = _count_true(np.equal(labels, 0, out=scratch))
        for label in range(1, int(labels.max()) + 1):
            count = _count_true(np.equal(labels, label, out=scratch))
            np.copyto(mode, label, where=count > best)
            np.maximum(best, count, out=best)
    return modes


# ------------------------------------------------------------------------------------------- tasks as units
@dataclass
class _Units:
    """Predictions flattened into comparable units: one per example, or one per token.

    values: (S, U) labels; references: (U,) or None; example_starts: offsets of each example's units when
    units are tokens (None when a unit is an example); strings: raw outputs for token-F1 generation.
    """

    values: np.ndarray
    references: np.ndarray | None
    example_starts: np.ndarray | None = None
    pi: str = "exact"
    tolerance: float = 0.0

    @property
    def n_examples(self) -> int:
        return self.values.shape[1] if self.example_starts is None else len(self.example_starts) - 1

    def per_example(self, unit_values: np.ndarray) -> np.ndarray:
        """Average unit values (..., U) within each example -> (..., N)."""
        if self.example_starts is None:
            return unit_values
        sums = np.add.reduceat(unit_values, self.example_starts[:-1], axis=-1)
        return sums / np.diff(self.example_starts)

    def units_of(self, examples: np.ndarray) -> np.ndarray:
        """Unit indices of the given examples (with repetition), in order."""
        if self.example_starts is None:
            return examples
        starts, lengths = self.example_starts[examples], np.diff(self.example_starts)[examples]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(starts, lengths) + offsets

    def agreement(self) -> np.ndarray:
        """Per unit, the mean over seed pairs of pi(y^A, y^B)."""
        if self.pi == "tolerance":
            return _tolerance_pair_fraction(self.values, self.tolerance)
        if self.pi == "token_f1":
            n_seeds = self.values.shape[0]
            pairs = [(a, b) for a in range(n_seeds) for b in range(a + 1, n_seeds)]
            return np.mean([self.pair_agreement(a, b) for a, b in pairs], axis=0)
        return agreeing_pair_fraction(self.values)

    def scores(self, correctness: "_Correctness | None") -> tuple["_ExampleScores", "_ExampleScores | None"]:
        """Per example: agreement over seed pairs, and both-correct over seed pairs (None without references).

        With an indicator pi and one unit per example, both-correct depends only on how many seeds are right.
        When every prediction and reference is also 0 or 1, the seeds that are right agree with each other and
        so do the others: agreement follows from that count too, and the predictions are not counted again.
        """
        if correctness is None:
            both = None
        elif correctness.n_correct is not None and self.example_starts is None:
            n_correct, share = correctness.n_correct, _pair_share(self.values.shape[0])
            histogram = np.bincount(n_correct, minlength=len(share))
            both = _ExampleScores(table=share, index=n_correct, histogram=histogram)
            label_bits = correctness.label_bits
            binary = label_bits is not None and 0 <= label_bits <= 1 and self.references.dtype.kind in "biu"
            if binary and 0 <= _label_bits(self.references) <= 1:
                return _ExampleScores(table=share + share[::-1], index=n_correct, histogram=histogram), both
        else:
            both = _ExampleScores(self.per_example(both_correct_pair_fraction(correctness.matrix)))
        pairs = None if correctness is None else correctness.agreeing_pairs
        if pairs is None:
            return _ExampleScores(self.per_example(self.agreement().astype(np.float64, copy=False))), both
        n_pairs = self.values.shape[0] * (self.values.shape[0] - 1) // 2
        if self.example_starts is None:
            return _ExampleScores(pairs, denominator=n_pairs), both
        return _ExampleScores(self.per_example(pairs / n_pairs)), both

    def pair_agreement(self, a: int, b: int) -> np.ndarray:
        """Per unit, pi(y^a, y^b) for one pair of seeds."""
        if self.pi == "tolerance":
            return np.abs(self.values[a] - self.values[b]) <= self.tolerance
        if self.pi == "token_f1":
            return np.array([token_f1(x, y) for x, y in zip(self.values[a], self.values[b])])
        return self.values[a] == self.values[b]

    def correct(self) -> np.ndarray:
        """(S, U) correctness of every seed on every unit, in [0, 1]."""
        if self.pi == "tolerance":
            return np.abs(self.values - self.references) <= self.tolerance
        if self.pi == "token_f1":
            return np.array([[token_f1(x, y) for x, y in zip(row, self.references)] for row in self.values])
        return self.values == self.references


class _Correctness:
    """The seeds against the references: the (S, U) `matrix` (built on first use when not needed at once),
    `n_correct` (seeds right per unit, for an indicator pi), `seed_hits` (units right per seed) and, for
    integer labels, `label_bits` (the bitwise OR of all predictions), `agreeing_pairs`, `confusion`, `ones` and
    `byte_labels` (see `_tally`; `confusion` and `byte_labels` only with `cells`).

    Integer labels are tallied block by block in one read of the predictions, with no (S, U) array (but, with
    `cells`, the labels as bytes).
    """

    def __init__(self, units: _Units, cells: bool = False):
        self.units = units
        self.seed_hits = self.label_bits = self.agreeing_pairs = self.confusion = self.ones = self.byte_labels = None
        if units.pi == "exact" and units.values.dtype.kind in "biu":
            tallied = _tally(units.values, units.references, cells)
            self.n_correct, self.seed_hits, self.label_bits, self.agreeing_pairs = tallied[:4]
            self.confusion, self.ones, self.byte_labels = tallied[4:]
        else:
            self.n_correct = _count_true(self.matrix) if self.matrix.dtype == bool else None

    @functools.cached_property
    def matrix(self) -> np.ndarray:
        return self.units.correct()


def _tally(values: np.ndarray, references: np.ndarray, cells: bool = False) -> tuple:
    """Per column the seeds equal to the reference and the seed pairs that agree, per seed the columns equal, the
    OR of all labels, with `cells` the (S, 2^b, 2^b) confusion counts [seed, reference, label] (2^b: the least
    power of two above every label and reference), per seed the labels equal to 1 (None unless all labels are 0 or
    1), and the (S, U) labels as bytes that the confusion counts were made from (None without them).

    One read of the predictions, block by block: each block stays in cache between the OR, the comparison with
    the references and the pair counting, in reused buffers (with `cells`, the labels are kept as bytes, for
    `_cell_counts` at the end). The agreeing pairs are None when a label lies outside [0, 256) (then they are
    counted by sorting), or when all labels and references are 0 or 1 (then they follow from the seeds that are
    right: `_Units.scores`). The confusion counts are None unless asked for, all labels and references lie in
    [0, 16) and some label or reference is above 1.
    """
    n_seeds, n_units = values.shape
    n_correct = np.empty(n_units, dtype=np.uint8 if n_seeds < 256 else np.intp)
    pairs = np.empty(n_units, dtype=_pair_count_dtype(n_seeds))
    seed_hits, ones = np.zeros(n_seeds, dtype=np.int64), np.zeros(n_seeds, dtype=np.int64)
    scratch = np.empty((_scratch_rows(n_seeds), min(n_units, _BLOCK)), dtype=bool)
    reference_bits = _label_bits(references)
    binary_references = 0 <= reference_bits <= 1
    byte_references = references.astype(np.uint8) if 0 <= reference_bits < _BYTE_LABELS else None
    cells = cells and 0 <= reference_bits < _CELL_LABELS
    kept = np.empty((n_seeds, n_units), dtype=np.uint8) if cells and values.dtype.itemsize > 1 else None
    byte_buffer = np.empty((n_seeds, scratch.shape[1]), dtype=np.uint8)
    label_bits, binary_blocks = 0, []
    for columns, block, bits in _blocks(values):
        label_bits |= bits
        hits = scratch[:n_seeds, : block.shape[1]]
        binary = 0 <= bits <= 1 and binary_references
        if not 0 <= bits < _BYTE_LABELS:
            pairs = None
        buffer = byte_buffer if kept is None else kept[:, columns]
        labels = None if pairs is None or binary else _as_bytes(block, buffer)
        if labels is not None and byte_references is not None:
            np.equal(labels, byte_references[columns], out=hits)
        else:
            np.equal(block, references[columns], out=hits)
        _count_true(hits, out=n_correct[columns])
        if cells and (labels is None or bits >= _CELL_LABELS):  # no confusion counts after all
            cells, before = False, slice(0, columns.start)
            seed_hits += np.count_nonzero(values[:, before] == references[before], axis=1)
        if not cells:  # else they are the diagonal of the confusion counts
            seed_hits += [np.count_nonzero(row) for row in hits]  # per row: much faster than axis=1
        if labels is not None:
            _agreeing_pairs(labels, scratch[:, : block.shape[1]], pairs[columns])
        elif pairs is not None:
            binary_blocks.append(columns)  # filled in below, if needed at all
        if 0 <= bits <= 1:
            ones += [np.count_nonzero(row) for row in block]
    confusion = byte_values = None
    if cells:
        byte_values = values.view(np.uint8) if kept is None else kept
        confusion = _cell_counts(byte_values, byte_references, label_bits | reference_bits)
        seed_hits = np.trace(confusion, axis1=1, axis2=2)
    if pairs is not None and label_bits <= 1 and binary_references:
        pairs = None
    elif pairs is not None and binary_blocks:  # the seeds that are right agree, and so do the others
        right = np.arange(n_seeds + 1)
        from_right = (right * (right - 1) + right[::-1] * (right[::-1] - 1)) // 2
        for columns in binary_blocks:
            pairs[columns] = from_right[n_correct[columns]]
    return n_correct, seed_hits, label_bits, pairs, confusion, ones if 0 <= label_bits <= 1 else None, byte_values


def _cell_counts(labels: np.ndarray, references: np.ndarray, label_bits: int) -> np.ndarray:
    """(S, 2^b, 2^b) confusion counts [seed, reference, label] of (S, N) uint8 labels and (N,) uint8 references
    below 2^b (b: the bits of `label_bits`).

    One uint16 code per column and group of seeds holds those seeds' labels and the reference as b-bit digits, so
    that one bincount of N codes counts the cells of a whole group, each seed's summed over the group's other
    seeds. A group has at most 16 // b - 1 seeds (7 for labels in [0, 4), 4 in [0, 8), 3 in [0, 16)), the seeds
    shared out evenly between as few groups as that allows (10 seeds: 5 + 5, 4 + 3 + 3, 3 + 3 + 2 + 2), which keeps
    the histograms small.
    """
    bits = max(label_bits.bit_length(), 1)
    width, n_groups = 1 << bits, -(-len(labels) // (16 // bits - 1))
    code, matrices = np.empty(len(references), dtype=np.uint16), []
    for rows in np.array_split(labels, n_groups):
        digits = (width ** np.arange(len(rows), 0, -1)).astype(np.uint16)  # the reference is the lowest digit
        np.einsum("s,sn->n", digits, rows, out=code, dtype=np.uint16)
        joint = np.bincount(np.add(code, references, out=code), minlength=width ** (len(rows) + 1))
        joint, seed_axes = joint.reshape((width,) * (len(rows) + 1)), range(len(rows))  # axes: seeds, reference
        matrices += [joint.sum(axis=tuple(a for a in seed_axes if a != axis)).T for axis in seed_axes]
    return np.array(matrices)


@dataclass
class _ExampleScores:
    """One score per example: `values / denominator`, or `table[index]` when it depends only on a small count per
    example.

    Neither form needs an N-sized float array for a mean: `values` may be integer counts (summed exactly), and
    `table[index]` is averaged through a histogram of the counts.
    """

    values: np.ndarray | None = None
    denominator: int = 1
    table: np.ndarray | None = None
    index: np.ndarray | None = None
    histogram: np.ndarray | None = None  # np.bincount(index), shared by scores with the same index

    def mean(self, examples: np.ndarray | None = None) -> float:
        if self.values is not None:
            picked = self.values if examples is None else self.values[examples]
            if self.denominator == 1:
                return float(np.mean(picked))
            return float(np.add.reduce(picked, dtype=np.int64) / (self.denominator * len(picked)))
        if examples is None:
            return float(self.histogram @ self.table / len(self.index))
        return float(np.bincount(self.index[examples], minlength=len(self.table)) @ self.table / len(examples))

    def array(self) -> np.ndarray:
        if self.values is not None:
            return self.values if self.denominator == 1 else self.values / self.denominator
        return self.table[self.index.astype(np.intp)]

    def __len__(self) -> int:
        return len(self.values if self.values is not None else self.index)


def _label_matrix(names, rows, task) -> np.ndarray:
    """(S, N) labels of one type; a numeric or string array is checked in one go, other input seed by seed."""
    if isinstance(rows, np.ndarray) and rows.dtype.kind in "biufUS":
        try:
            return _as_labels(rows.reshape(-1), "predictions", task).reshape(rows.shape)
        except ValueError:
            pass  # checked again seed by seed below, to name the seed in the message
    labels = [_as_labels(row, f"Seed {name}", task) for name, row in zip(names, rows)]
    _check_same_kind(labels, [f"seed {n}" for n in names])
    return np.stack(labels)


def _classification_units(names, rows, references, task) -> _Units:
    values = _label_matrix(names, rows, task)
    refs = None if references is None else _as_labels(references, "references", task)
    if refs is not None:
        _check_same_kind([values[0], refs], [f"seed {names[0]}", "references"])
    return _Units(values, refs, pi="tolerance" if task == "regression" else "exact")


def _token_units(names, rows, references) -> _Units:
    n_examples = len(rows[0])
    lengths = np.array([len(sequence) for sequence in rows[0]])
    for name, row in zip(names, rows):
        row_lengths = np.array([len(sequence) for sequence in row])
        if np.any(row_lengths != lengths):
            bad = int(np.flatnonzero(row_lengths != lengths)[0])
            raise ValueError(
                f"Token counts differ: row {bad} has {lengths[bad]} tokens for seed {names[0]} "
                f"but {row_lengths[bad]} for seed {name}."
            )
    flat = [
        _as_labels([label for sequence in row for label in sequence], f"Seed {name}", "token_classification")
        for name, row in zip(names, rows)
    ]
    values = np.stack(flat)
    keep = np.ones(values.shape[1], dtype=bool)
    flat_references = None
    if references is not None:
        if len(references) != n_examples:
            raise ValueError(f"{len(references)} references for {n_examples} examples.")
        reference_lengths = np.array([len(sequence) for sequence in references])
        if np.any(reference_lengths != lengths):
            bad = int(np.flatnonzero(reference_lengths != lengths)[0])
            raise ValueError(
                f"Row {bad}: the reference has {reference_lengths[bad]} tokens, the predictions {lengths[bad]}."
            )
        flat_references = _as_labels(
            [label for sequence in references for label in sequence], "references", "token_classification"
        )
        _check_same_kind(flat + [flat_references], [f"seed {n}" for n in names] + ["references"])
        if flat_references.dtype.kind in "biu":
            keep = flat_references != IGNORE_INDEX
    example_of_token = np.repeat(np.arange(n_examples), lengths)[keep]
    kept_lengths = np.bincount(example_of_token, minlength=n_examples)
    if np.any(kept_lengths == 0):
        raise ValueError(f"Row {int(np.flatnonzero(kept_lengths == 0)[0])} has no labelled token.")
    starts = np.concatenate([[0], np.cumsum(kept_lengths)])
    return _Units(values[:, keep], None if flat_references is None else flat_references[keep], starts)


def _generation_units(names, rows, references, pi) -> _Units:
    if pi not in ("exact_match", "token_f1"):
        raise ValueError(f"Unknown pi {pi!r} for generation; choose 'exact_match' or 'token_f1'.")

    def normalized(row, what):
        bad = next((i for i, text in enumerate(row) if not isinstance(text, str)), None)
        if bad is not None:
            raise ValueError(f"{what} row {bad} is {type(row[bad]).__name__}, generation needs strings.")
        return np.array([normalize_answer(text) for text in row], dtype=object)

    values = np.stack([normalized(list(row), f"Seed {name}") for name, row in zip(names, rows)])
    refs = None if references is None else normalized(list(references), "references")
    if pi == "exact_match":
        return _Units(values.astype(str), None if refs is None else refs.astype(str), pi="exact")
    return _Units(values, refs, pi="token_f1")


def _build_units(task, names, rows, references, tolerance, pi) -> _Units:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {list(TASKS)}.")
    if references is not None and task != "token_classification" and len(references) != len(rows[0]):
        raise ValueError(f"{len(references)} references for {len(rows[0])} examples (predictions per seed).")
    if task == "token_classification":
        return _token_units(names, rows, references)
    if task == "generation":
        return _generation_units(names, rows, references, pi)
    units = _classification_units(names, rows, references, task)
    if task == "regression":
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}.")
        units.tolerance = float(tolerance)
    return units


# ------------------------------------------------------------------------------------------- the metric
def _zeta_per_seed(units: _Units, zeta_name: str, zeta_fn, correctness, examples: np.ndarray | None = None):
    """zeta of every seed, on all examples or on the given (bootstrap) examples."""
    index = slice(None) if examples is None else units.units_of(examples)
    if zeta_name in ("accuracy", "exact_match") and correctness.n_correct is not None:  # reuse the correctness
        if examples is None and correctness.seed_hits is not None:
            return correctness.seed_hits / units.values.shape[1]
        picked = correctness.matrix[:, index]
        return np.array([np.count_nonzero(row) for row in picked]) / picked.shape[1]
    references = units.references[index]
    return np.array([zeta_fn(row[index], references) for row in units.values])


def _population_std(values: np.ndarray) -> float:
    """sqrt(1/S * sum (z_i - mean z)^2); exactly 0 for identical values."""
    return float(np.std(values - values[0]))


def _summaries(agreement, both_correct, zeta_of, examples=None) -> dict:
    summary = {"con": agreement.mean(examples)}
    if both_correct is not None:
        zeta = zeta_of(examples)
        summary.update(
            ccon=both_correct.mean(examples), var=_population_std(zeta), zeta_mean=float(np.mean(zeta)), zeta=zeta
        )
    return summary


def _additive_zeta_scores(units: _Units, zeta_name: str, zeta_fn, correct: np.ndarray) -> np.ndarray | None:
    """(S, U) per-unit scores whose mean over the units is zeta (`correct`: the (S, U) correctness); None when zeta
    is no such mean (MCC, F1, Pearson, a callable)."""
    if zeta_name not in ("accuracy", "exact_match", "token_f1", "mae") or zeta_fn is not _ZETAS[zeta_name]:
        return None
    if zeta_name in ("accuracy", "exact_match"):
        return correct if units.pi == "exact" else units.values == units.references
    if zeta_name == "token_f1":
        return correct if units.pi == "token_f1" else _Units(units.values, units.references, pi="token_f1").correct()
    return np.abs(units.values - units.references)  # mae


def _example_stats(units: _Units, correctness, zeta_name: str, zeta_fn, grouping=None, extra=()) -> ExampleStats:
    """The per-example sufficient statistics of the bootstrap, examples with equal labels grouped into columns.

    grouping: (columns, counts, inverse) shared with another model's stats (compare); extra: per-example scores
    that must not be grouped away (soft CON).
    """
    n_seeds, n_examples = units.values.shape[0], units.n_examples
    if grouping is None and units.example_starts is None:
        keys = [units.values] + ([] if units.references is None else [units.references]) + list(extra)
        grouping = group_examples(keys)
    elif grouping is None:  # tokens: one column per example
        grouping = (np.arange(n_examples), np.ones(n_examples, dtype=np.int64), np.arange(n_examples))
    columns, counts, inverse = grouping
    if units.example_starts is None:
        sub = _Units(units.values[:, columns], None if units.references is None else units.references[columns],
                     pi=units.pi, tolerance=units.tolerance)  # fmt: skip
        units_per_example = np.ones(len(columns))
    else:
        sub, units_per_example = units, np.diff(units.example_starts).astype(np.float64)
    first, second = pair_index(n_seeds)
    per_seed = units.example_starts is None and n_seeds >= _PER_SEED_FORM_SEEDS  # O(S), not O(S^2), per example
    labels = agree = both = hits = correct_scores = None
    if per_seed and sub.pi == "exact":
        labels = np.unique(sub.values, return_inverse=True)[1].reshape(sub.values.shape)
    elif sub.pi == "token_f1":
        agree = np.array([sub.pair_agreement(a, b) for a, b in zip(first, second)])
    elif sub.pi == "tolerance":
        agree = np.abs(sub.values[first] - sub.values[second]) <= sub.tolerance
    else:
        agree = sub.values[first] == sub.values[second]
    if agree is not None and len(first) * len(columns) > _MAX_PAIR_CELLS:
        raise ValueError(
            f"The bootstrap of {n_seeds} seeds x {len(columns)} distinct examples would need a {len(first)} x "
            f"{len(columns)} pair matrix; use fewer seeds, or pass n_bootstrap=0 (no intervals)."
        )
    if correctness is not None:
        correct = sub.correct().astype(np.float64)
        if per_seed:
            correct_scores = correct
        else:
            both = sub.per_example(correct[first] * correct[second])
        scores = _additive_zeta_scores(sub, zeta_name, zeta_fn, correct)
        if scores is not None:
            hits = sub.per_example(scores.astype(np.float64)) * units_per_example
    agree = None if agree is None else sub.per_example(agree.astype(np.float64))
    return ExampleStats(agree, both, hits, units_per_example, counts, columns, inverse, labels, correct_scores)


def _bootstrap_ci(prepared: "_Prepared", n_bootstrap, confidence_level, random_state, resample, extra=None,
                  interval="components"):  # fmt: skip
    """(ci, ci_method): intervals of con, ccon, var, zeta_mean (resampled as `resample` says; variance-component
    t-intervals for "both" unless interval="percentile") and percentile intervals of the means of the `extra`
    per-example scores (examples resampled, seeds fixed)."""
    _, units, zeta_name, zeta_fn, correctness = prepared
    n_seeds = units.values.shape[0]
    n_bootstrap = check_bootstrap_args(n_bootstrap, confidence_level, resample, n_seeds, interval)
    extra = extra or {}
    stats = _example_stats(units, correctness, zeta_name, zeta_fn, extra=list(extra.values()))
    zeta_of = _zeta_sampler(units, zeta_name, zeta_fn, correctness, stats)
    extra_columns = {key: values[stats.columns] for key, values in extra.items()}
    rng = np.random.default_rng(random_state)
    components = interval == "components" and resample == "both"
    samples = bootstrap_samples(stats, n_bootstrap, rng, resample, zeta_of, extra_columns, components)
    if components:
        ci = component_intervals(point_estimates(stats, zeta_of), samples, n_seeds, confidence_level)
    else:
        ci = {key: percentile_interval(values, confidence_level) for key, values in samples.items()}
    method = ci_method(resample, n_bootstrap, confidence_level, interval)
    if extra and resample != "examples":
        method += f"; {', '.join(extra)}: examples resampled, seeds fixed"
    return ci, method


def _zeta_sampler(units, zeta_name, zeta_fn, correctness, stats: ExampleStats):
    """zeta_of(example counts (b, K)) -> (b, S) for a zeta that is not a mean over examples (else None)."""
    if correctness is None or stats.hits is not None:
        return None

    def zeta_of(example_counts: np.ndarray) -> np.ndarray:
        picks = (np.repeat(stats.columns, row) for row in example_counts)
        return np.array([_zeta_per_seed(units, zeta_name, zeta_fn, correctness, examples) for examples in picks])

    return zeta_of


def _pairwise_matrices(units: _Units, correctness: "_Correctness | None") -> dict[str, list]:
    n_seeds = units.values.shape[0]
    con = np.eye(n_seeds)
    for a in range(n_seeds):
        for b in range(a + 1, n_seeds):
            con[a, b] = con[b, a] = np.mean(units.per_example(units.pair_agreement(a, b).astype(np.float64)))
    matrices = {"con_matrix": con.tolist()}
    if correctness is not None:
        scores = correctness.matrix.astype(np.float64)
        ccon = np.array(
            [[np.mean(units.per_example(scores[a] * scores[b])) for b in range(n_seeds)] for a in range(n_seeds)]
        )
        matrices["ccon_matrix"] = ccon.tolist()
    return matrices


def _split_vote(units: _Units, correctness: "_Correctness | None") -> tuple[np.ndarray, np.ndarray] | None:
    """The columns where at most half of the seeds give the reference, and their `_column_mode` (elsewhere the
    reference is the vote); None unless pi is exact match with references. The columns are picked from the labels
    as bytes when the tally kept them (an eighth of the memory to stream through for int64 labels)."""
    if correctness is None or correctness.n_correct is None or units.pi != "exact":
        return None
    split = np.flatnonzero(correctness.n_correct <= units.values.shape[0] // 2)
    labels = units.values if correctness.byte_labels is None else correctness.byte_labels
    return split, _column_mode(labels[:, split])


def _vote(units: _Units, correctness: "_Correctness | None") -> np.ndarray:
    """`_column_mode` of the labels, counted only where the references do not decide it (`_split_vote`)."""
    split = _split_vote(units, correctness)
    if split is None:
        return _column_mode(units.values)
    modes = units.references.astype(units.values.dtype)
    modes[split[0]] = split[1]
    return modes


def _majority(units: _Units, correctness: "_Correctness | None") -> list:
    if units.pi == "tolerance":
        return np.median(units.values, axis=0).tolist()
    modes = _vote(units, correctness)
    if units.example_starts is None:
        return modes.tolist()
    return [modes[s:e].tolist() for s, e in zip(units.example_starts[:-1], units.example_starts[1:])]


def _ensemble(units, correctness, both_correct, zeta_fn, zeta_name, probabilities) -> dict[str, float] | None:
    """zeta of the S-seed ensemble: the majority vote of the labels (ties: the smallest label) or, for regression,
    the mean prediction; with probabilities also the argmax of the mean probabilities (ties: the smallest class)."""
    if correctness is None:
        return None
    if units.pi == "tolerance":
        return {"mean_prediction": float(zeta_fn(units.values.mean(axis=0), units.references))}
    n_seeds, bits = units.values.shape[0], correctness.label_bits
    counted = zeta_name in ("accuracy", "exact_match") and both_correct.histogram is not None
    if counted and bits is not None and 0 <= bits <= 1 and 0 <= _label_bits(units.references) <= 1:
        # binary labels: the vote is right where more than half of the seeds are, or on a tie where the truth is 0
        wins = both_correct.histogram[n_seeds // 2 + 1 :].sum()
        if n_seeds % 2 == 0:
            wins += np.count_nonzero((correctness.n_correct == n_seeds // 2) & (units.references == 0))
        ensemble = {"majority_vote": float(wins / units.values.shape[1])}
    elif zeta_fn is accuracy and (split := _split_vote(units, correctness)) is not None:
        columns, modes = split  # right where more than half of the seeds are, and where these modes are
        wins = units.values.shape[1] - len(columns) + np.count_nonzero(modes == units.references[columns])
        ensemble = {"majority_vote": float(wins / units.values.shape[1])}
    else:
        ensemble = {"majority_vote": float(zeta_fn(_vote(units, correctness), units.references))}
    if probabilities is not None:
        ensemble["mean_probabilities"] = float(zeta_fn(probabilities.mean(axis=0).argmax(axis=1), units.references))
    return ensemble


def _with_probabilities(predictions, probabilities, seeds) -> tuple:
    """The predictions (the argmax labels when None) and the checked (S, N, C) probabilities, in one seed order."""
    names, array = probability_array(probabilities, seeds)
    if predictions is None:
        return dict(zip(names, array.argmax(axis=2))), array
    prediction_names, rows = _as_seed_rows(predictions, seeds)
    if len(names) != len(prediction_names):
        raise ValueError(f"Probabilities of {len(names)} seeds for the predictions of {len(prediction_names)} seeds.")
    if isinstance(probabilities, Mapping) and list(map(str, names)) != list(map(str, prediction_names)):
        raise ValueError(
            f"The probabilities are of seeds {names} but the predictions of seeds {prediction_names} "
            "(give the same seeds in the same order)."
        )
    if array.shape[1] != len(rows[0]):
        raise ValueError(
            f"Probabilities of seed {prediction_names[0]} have {array.shape[1]} rows but its predictions "
            f"{len(rows[0])} examples."
        )
    return predictions, array


def _fleiss_kappa(units: _Units, agreement: "_ExampleScores") -> float:
    if units.pi != "exact":
        raise ValueError(
            "Fleiss' kappa needs categorical labels (classification, token classification, "
            "generation with pi='exact_match')."
        )
    _, counts = np.unique(units.values, return_counts=True)
    chance = float(np.sum((counts / units.values.size) ** 2))
    observed = agreement.mean()
    return 1.0 if chance == 1 else (observed - chance) / (1 - chance)


_BASELINE_ZETAS = ("accuracy", "mcc", "f1", "macro_f1")  # higher is better; always-majority is their floor


def _run_diagnostics(units: _Units, names: list, task: str, zeta_fn, report: dict, correctness) -> tuple:
    """report["warnings"] (degenerate seeds, identical seeds) and report["con_decomposition"]."""
    zeta_name, zeta = report["zeta_name"], report["zeta"]
    bits = None if correctness is None else correctness.label_bits
    confusion = None if correctness is None else correctness.confusion
    labels = reference_labels = value_range = hints = keys = None
    if confusion is not None:  # labels in [0, 16): what the seeds and the references hold follows from the counts
        labels = [np.flatnonzero(np.any(cells, axis=0)) for cells in confusion]
        reference_labels = np.flatnonzero(np.any(confusion[0], axis=1))
        present = np.flatnonzero(np.any(confusion, axis=(0, 1)) | np.any(confusion, axis=(0, 2)))
        low, high = present[0], present[-1] + 1
        hints, keys = {"confusion": confusion[:, low:high, low:high]}, [cells.tobytes() for cells in confusion]
    elif bits is not None and 0 <= bits <= 1:  # 0/1 predictions: what the seeds predict follows from counts
        ones = correctness.ones
        labels = [np.flatnonzero([units.values.shape[1] - count > 0, count > 0]) for count in ones]
        value_range, hints = (0, 1), {"ones": ones, "hits": correctness.seed_hits}
        keys = list(zip(ones.tolist(), correctness.seed_hits.tolist()))  # equal for identical seeds
    categorical = units.pi != "tolerance"
    labelled = units.references is not None and task in ("classification", "token_classification")
    warnings = []
    if categorical:
        baseline = None
        if labelled and zeta_name in _BASELINE_ZETAS:
            if confusion is not None and zeta_fn is accuracy:  # the share of the largest class
                baseline = float(confusion[0].sum(axis=1).max() / len(units.references))
            else:
                constant = np.full_like(units.references, majority_label(units.references))
                baseline = zeta_fn(constant, units.references)
        shown = units.references if labelled else None
        warnings += degenerate_warnings(names, units.values, shown, zeta, zeta_name, baseline, labels, reference_labels)
    warnings += identical_seed_warnings(names, units.values, units.n_examples, keys)
    decomposition = None
    if units.references is not None and units.pi == "exact" and units.example_starts is None:
        decomposition = con_decomposition(
            units.values, units.references, report["con"], report["ccon"], value_range, hints
        )
    return warnings, decomposition


class _Prepared(NamedTuple):
    """Checked input of one model: its seed names, units, zeta (name, function) and correctness (None without
    references)."""

    names: list
    units: _Units
    zeta_name: str
    zeta_fn: Callable[[np.ndarray, np.ndarray], float]
    correctness: "_Correctness | None"


def _prepared(
    seed_rows: tuple[list, list], references, *, task, zeta, tolerance, pi, pos_label, cells: bool = False
) -> _Prepared:
    """`_Prepared` input from the (seed names, rows) of `_as_seed_rows`; with `cells` the correctness also holds
    the confusion counts (the diagnostics of a full report use them)."""
    names, rows = seed_rows
    units = _build_units(task, names, rows, references, tolerance, pi)
    zeta_name, zeta_fn = _resolve_zeta(zeta, task, pos_label)
    correctness = None if units.references is None else _Correctness(units, cells)
    return _Prepared(names, units, zeta_name, zeta_fn, correctness)


@dataclass
class _Soft:
    """Soft CON / CCON inputs: the (S, N, C) probabilities, the (S, N) true-class probabilities (None without
    references) and the per-example scores {"soft_con", "soft_ccon"} that the bootstrap resamples."""

    probabilities: np.ndarray
    true_class: np.ndarray | None
    scores: dict[str, np.ndarray]

    @classmethod
    def of(cls, probabilities: np.ndarray, units: _Units) -> "_Soft":
        true_class = None if units.references is None else true_class_probabilities(probabilities, units.references)
        scores = {"soft_con": soft_agreement(probabilities)}
        if true_class is not None:
            scores["soft_ccon"] = both_correct_pair_fraction(true_class)
        return cls(probabilities, true_class, scores)


def _per_example(units: _Units, correctness, agreement: "_ExampleScores", soft: _Soft | None) -> dict:
    """report["per_example"]: every example's share of agreeing seed pairs, seeds correct and majority."""
    if correctness is None:
        n_correct = None
    elif correctness.n_correct is not None and units.example_starts is None:
        n_correct = correctness.n_correct.astype(int).tolist()
    else:  # seeds' shares of correct tokens, or their scores, summed
        n_correct = units.per_example(correctness.matrix.astype(np.float64)).sum(axis=0).tolist()
    out = {"agreement": agreement.array().tolist(), "n_correct": n_correct, "majority": _majority(units, correctness)}
    if soft is not None:
        out["soft_agreement"] = soft.scores["soft_con"].tolist()
    return out


def _point_report(
    prepared: _Prepared,
    task: str,
    soft: _Soft | None = None,
    *,
    pairwise: bool = False,
    per_example: bool = False,
    kappa: bool = False,
) -> dict:
    """The report of `seed_consistency` without intervals, from prepared input."""
    names, units, zeta_name, zeta_fn, correctness = prepared
    n_seeds = len(names)
    agreement, both_correct = units.scores(correctness)
    report = {"con": None, "ccon": None, "var": None, "zeta_mean": None, "zeta": None}
    zeta_of = None if correctness is None else functools.partial(_zeta_per_seed, units, zeta_name, zeta_fn, correctness)
    report.update(_summaries(agreement, both_correct, zeta_of))
    if correctness is not None:
        report["zeta"] = report["zeta"].tolist()
    if soft is not None:
        report["soft_con"] = float(np.mean(soft.scores["soft_con"]))
        report["soft_ccon"] = float(np.mean(soft.scores["soft_ccon"])) if "soft_ccon" in soft.scores else None
    probabilities = None if soft is None else soft.probabilities
    report["ensemble"] = _ensemble(units, correctness, both_correct, zeta_fn, zeta_name, probabilities)
    report.update(
        seeds=list(names),
        n_seeds=n_seeds,
        n_pairs=n_seeds * (n_seeds - 1) // 2,
        n_examples=units.n_examples,
        task=task,
        zeta_name=zeta_name,
    )
    report["warnings"], report["con_decomposition"] = _run_diagnostics(units, names, task, zeta_fn, report, correctness)
    if pairwise:
        report.update(_pairwise_matrices(units, correctness))
        if soft is not None:
            report.update(pairwise_soft(soft.probabilities, soft.true_class))
    if per_example:
        report["per_example"] = _per_example(units, correctness, agreement, soft)
    if kappa:
        report["kappa"] = _fleiss_kappa(units, agreement)
    return report


def seed_consistency(
    predictions=None,
    references=None,
    *,
    probabilities=None,
    task: str = "classification",
    zeta: str | Callable | None = None,
    seeds: Sequence | None = None,
    tolerance: float = 0.0,
    pi: str = "exact_match",
    pos_label=1,
    pairwise: bool = False,
    per_example: bool = False,
    kappa: bool = False,
    n_bootstrap: int = 0,
    confidence_level: float = 0.95,
    random_state: int = 0,
    resample: str | None = None,
    interval: str = "components",
) -> dict:
    """CON, CCON and VAR of S seeds' predictions on the same N examples.

    Args are those of the evaluate metric (see `_KWARGS_DESCRIPTION`), except that `predictions` is an (S, N)
    array-like (one row per seed) or a {seed: predictions} mapping, and `probabilities` an (S, N, C) array-like
    or a {seed: (N, C)} mapping (then `predictions` may be None: the argmax labels).

    >>> report = seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, references=[1, 1, 1, 1, 1])
    >>> report["con"], report["ccon"], report["var"], report["zeta"], report["n_pairs"]
    (0.2, 0.2, 0.0, [0.6, 0.6], 1)
    """
    if probabilities is not None:
        if task != "classification":
            raise ValueError(
                f"probabilities are class probabilities (task='classification'), not for task={task!r}; "
                "for regression the ensemble is the mean prediction."
            )
        predictions, probabilities = _with_probabilities(predictions, probabilities, seeds)
    elif predictions is None:
        raise ValueError("Give the predictions (labels) or the probabilities of every seed.")
    prepared = _prepared(_as_seed_rows(predictions, seeds), references, task=task, zeta=zeta, tolerance=tolerance,
                         pi=pi, pos_label=pos_label, cells=True)  # fmt: skip
    n_seeds = len(prepared.names)
    too_few = resample is None and n_seeds < MIN_SEEDS_FOR_SEED_CI
    resample = "examples" if too_few else resample or "both"
    if isinstance(n_bootstrap, bool) or n_bootstrap != 0:  # 0: no intervals; anything else is checked first
        n_bootstrap = check_bootstrap_args(n_bootstrap, confidence_level, resample, n_seeds, interval)
    soft = None if probabilities is None else _Soft.of(probabilities, prepared.units)
    report = _point_report(prepared, task, soft, pairwise=pairwise, per_example=per_example, kappa=kappa)
    if n_bootstrap:
        extra = {} if soft is None else soft.scores
        options = (n_bootstrap, confidence_level, random_state, resample, extra, interval)
        report["ci"], report["ci_method"] = _bootstrap_ci(prepared, *options)
        if too_few:
            report["ci_method"] += (
                f" only: {n_seeds} seeds are too few for a seed-level interval (it needs at least "
                f"{MIN_SEEDS_FOR_SEED_CI})"
            )
    return report


# ------------------------------------------------------------------------------------------- assess
def compare_seed_consistency(
    predictions_a,
    predictions_b,
    references=None,
    *,
    paired_seeds: bool = False,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    random_state: int = 0,
    resample: str = "both",
    interval: str = "components",
    task: str = "classification",
    zeta: str | Callable | None = None,
    tolerance: float = 0.0,
    pi: str = "exact_match",
    pos_label=1,
    seeds_a: Sequence | None = None,
    seeds_b: Sequence | None = None,
) -> dict:
    """Compare two recipes (A, B) fine-tuned with several seeds each on the same N examples.

    Each bootstrap resample draws the examples once for both (the examples are paired) and the seeds of each
    model independently, or once for both with `paired_seeds=True` (seed i of A and of B share the seed value:
    then both need the same seeds in the same order). Predictions are as in `seed_consistency`.

    Returns a dict:
        a, b: the `seed_consistency` reports of A and of B, each with its own `ci` and `ci_method`;
        difference: {metric: B minus A} for con, ccon, var, zeta_mean (None where a metric is None);
        ci: {metric: [low, high]}, the interval of the difference (interval="components", the default with
            resample "both": a t-interval from variance components, the seed parts of A and B combined by
            Welch-Satterthwaite; "percentile": the percentile interval of the resampled differences);
        p_value: {metric: p}, two-sided p-value of "no difference" (the t-test of that interval, or the bootstrap
            p-value of the percentile resamples); VAR's, unless only the examples are resampled, from a
            permutation test of the seeds (`spread_permutation_p_value`: the t-test of a difference of two
            standard deviations from a few seeds each is conservative);
        ci_method: how the intervals were made and what they estimate;
        paired_seeds, n_bootstrap, confidence_level, n_examples.

    >>> a = {s: [1, 1, 1, 1, 0, 0] for s in (1, 2, 3)}
    >>> b = {1: [1, 1, 1, 1, 1, 0], 2: [1, 1, 1, 1, 1, 0], 3: [0, 1, 1, 1, 1, 1]}
    >>> result = compare_seed_consistency(a, b, [1] * 6, n_bootstrap=200)
    >>> round(result["difference"]["zeta_mean"], 4), round(result["difference"]["con"], 4)
    (0.1667, -0.2222)
    """
    common = {"task": task, "zeta": zeta, "tolerance": tolerance, "pi": pi, "pos_label": pos_label}
    seed_rows = [_as_seed_rows(predictions_a, seeds_a), _as_seed_rows(predictions_b, seeds_b)]
    lengths = [len(rows[0]) for _, rows in seed_rows]
    if lengths[0] != lengths[1]:
        raise ValueError(
            f"A has predictions for {lengths[0]} examples but B for {lengths[1]}: a comparison needs both models' "
            "predictions on the same test examples, in the same order."
        )
    prepared = [_prepared(rows, references, **common, cells=True) for rows in seed_rows]  # full reports
    (names_a, units_a, *_), (names_b, units_b, *_) = prepared
    if units_a.example_starts is not None and not np.array_equal(units_a.example_starts, units_b.example_starts):
        bad = int(np.flatnonzero(np.diff(units_a.example_starts) != np.diff(units_b.example_starts))[0])
        raise ValueError(f"Row {bad} has a different number of tokens in A than in B: not the same examples.")
    if paired_seeds and list(map(str, names_a)) != list(map(str, names_b)):
        raise ValueError(
            f"paired_seeds=True needs the same seeds in the same order for A and B, got {names_a} and {names_b}."
        )
    n_seeds = (len(names_a), len(names_b))
    n_bootstrap = check_bootstrap_args(n_bootstrap, confidence_level, resample, min(n_seeds), interval)
    grouping = None
    if units_a.example_starts is None:
        keys = [units_a.values, units_b.values] + ([] if units_a.references is None else [units_a.references])
        grouping = group_examples(keys)
    stats, zeta_of = [], []
    for _, units, zeta_name, zeta_fn, correctness in prepared:
        stats.append(_example_stats(units, correctness, zeta_name, zeta_fn, grouping))
        zeta_of.append(_zeta_sampler(units, zeta_name, zeta_fn, correctness, stats[-1]))
    rng = np.random.default_rng(random_state)
    components = interval == "components" and resample == "both"
    samples = compare_samples(*stats, n_bootstrap, rng, resample, paired_seeds, *zeta_of, components)
    method = ci_method(resample, n_bootstrap, confidence_level, interval)
    reports = [_point_report(one, task) for one in prepared]
    if components:
        points = tuple(point_estimates(stat, of) for stat, of in zip(stats, zeta_of))
        for report, sample, point, n in zip(reports, samples, points, n_seeds):
            report["ci"] = component_intervals(point, sample, n, confidence_level)
        ci, p_values = component_differences(points, samples, n_seeds, paired_seeds, confidence_level)
    else:
        for report, sample in zip(reports, samples):
            report["ci"] = {key: percentile_interval(values, confidence_level) for key, values in sample.items()}
        differences = {key: samples[1][key] - samples[0][key] for key in samples[0]}
        ci = {key: percentile_interval(values, confidence_level) for key, values in differences.items()}
        p_values = {key: two_sided_p_value(values) for key, values in differences.items()}
    for report in reports:
        report["ci_method"] = method
    seeds_word = "paired seeds" if paired_seeds else "independent seeds"
    if "var" in p_values and resample != "examples":
        p_values["var"] = spread_permutation_p_value(reports[0]["zeta"], reports[1]["zeta"], paired_seeds, rng)
        seeds_word += "; the p-value of VAR from a permutation test of the seeds' zeta (centred per model)"
    return {
        "a": reports[0],
        "b": reports[1],
        "difference": {
            key: None if reports[0][key] is None else reports[1][key] - reports[0][key]
            for key in ("con", "ccon", "var", "zeta_mean")
        },
        "ci": ci,
        "p_value": p_values,
        "ci_method": f"difference B - A: {method}; examples paired, {seeds_word}",
        "paired_seeds": paired_seeds,
        "n_bootstrap": n_bootstrap,
        "confidence_level": confidence_level,
        "n_examples": units_a.n_examples,
    }


def seeds_needed(
    predictions,
    references=None,
    *,
    target: float | Mapping[str, float] | None = None,
    n_bootstrap: int = 200,
    confidence_level: float = 0.95,
    random_state: int = 0,
    resample: str = "both",
    interval: str = "components",
    n_subsets: int = 10,
    task: str = "classification",
    zeta: str | Callable | None = None,
    seeds: Sequence | None = None,
    tolerance: float = 0.0,
    pi: str = "exact_match",
    pos_label=1,
) -> dict:
    """How the metrics and their interval half-widths change with the number of seeds k = 2..S, extrapolated.

    target: the wanted half-width, {metric: half-width} (e.g. {"con": 0.005, "var": 0.01}) or one number for
    CON (default 0.005: half a point of CON). n_subsets: subsets of k seeds per k (all when there are fewer).
    resample, interval: as in `seed_consistency`; each subset's interval is the one `seed_consistency` reports for
    those seeds with the same n_bootstrap and random_state (at k = S: exactly; a subset's example draws can
    differ where `seed_consistency` would group its examples differently), its half-width t_df sqrt(V) before the
    clipping to the metric's range for interval="components" (see `seed_budget`).

    Returns a dict: rows (one per k: n_subsets, then per metric <m>_mean, <m>_sd, <m>_min, <m>_max over the
    subsets and <m>_half_width, the mean interval half-width, None at k = 2), fit ({metric: {example_part,
    seed_part}} of the normal-quantile half_width^2 = example_part + seed_part / k, which a t-interval widens by
    t_df(k) / z), extrapolated (rows k = 3.. of the fitted half-widths), seeds_needed ({metric: {target, k,
    from}}: k is None when the examples alone are too few), n_seeds, n_bootstrap, ci_method.

    >>> rows = {s: [1, 1, 0, 1, 0, 1, 1, 1][s:] + [1, 1, 0, 1, 0, 1, 1, 1][:s] for s in range(4)}
    >>> result = seeds_needed(rows, [1] * 8, target=0.05, n_bootstrap=50)
    >>> [row["k"] for row in result["rows"]], result["rows"][0]["n_subsets"]
    ([2, 3, 4], 6)
    """
    names, units, zeta_name, zeta_fn, correctness = _prepared(
        _as_seed_rows(predictions, seeds), references, task=task, zeta=zeta, tolerance=tolerance, pi=pi,
        pos_label=pos_label,
    )  # fmt: skip
    n_bootstrap = check_bootstrap_args(n_bootstrap, confidence_level, resample, len(names), interval)
    targets = {"con": 0.005} if target is None else dict(target) if isinstance(target, Mapping) else {"con": target}
    unknown = sorted(set(targets) - {"con", "ccon", "var", "zeta_mean"})
    if unknown or any(not isinstance(v, int | float) or v <= 0 for v in targets.values()):
        raise ValueError(f"target must be positive half-widths of con, ccon, var or zeta_mean, got {targets}.")
    if correctness is None and set(targets) - {"con"}:
        raise ValueError("Targets for ccon, var or zeta_mean need references.")
    stats = _example_stats(units, correctness, zeta_name, zeta_fn)
    zeta_values = None if correctness is None else _zeta_per_seed(units, zeta_name, zeta_fn, correctness)
    curve = seed_curve(
        stats, zeta_values, n_bootstrap=n_bootstrap, confidence_level=confidence_level,
        random_state=random_state, resample=resample, interval=interval, n_subsets=n_subsets, targets=targets,
        zeta_of=_zeta_sampler(units, zeta_name, zeta_fn, correctness, stats),
    )  # fmt: skip
    return curve | {
        "seeds": list(names),
        "n_seeds": len(names),
        "n_bootstrap": n_bootstrap,
        "ci_method": ci_method(resample, n_bootstrap, confidence_level, interval),
    }


# ------------------------------------------------------------------------------------------- evaluate shell
# the value type evaluate stores each task's labels as; the string features come first, so that evaluate (which
# takes the first feature set that encodes the first example) never turns string labels such as "01" into ints
_VALUE_TYPES = {
    "classification": ("string", "int64"),
    "regression": ("float64",),
    "token_classification": ("string", "int64"),
    "generation": ("string",),
}


def _features(task: str) -> list:
    def one(value_type: str):
        value = datasets.Value(value_type)
        if task == "token_classification":
            return datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Sequence(value)),
                    "references": datasets.Sequence(value),
                }
            )
        return datasets.Features({"predictions": datasets.Sequence(value), "references": value})

    return [one(value_type) for value_type in _VALUE_TYPES[task]]


def _transpose(predictions, what: str = "example") -> list:
    """Per-example lists of S predictions -> S per-seed lists (ValueError naming the example when one is not)."""
    predictions = predictions.tolist() if hasattr(predictions, "tolist") else predictions  # numpy, torch, pandas
    if predictions is None or isinstance(predictions, str) or not hasattr(predictions, "__len__"):
        raise ValueError(f"predictions must be a list with one list of S seed predictions per {what}.")
    if len(predictions) == 0:
        raise ValueError("Empty input: no predictions.")
    bad = next((i for i, p in enumerate(predictions) if isinstance(p, str) or not hasattr(p, "__len__")), None)
    if bad is not None:
        raise ValueError(
            f"{what.capitalize()} {bad} is {predictions[bad]!r}, not a list of the S seeds' predictions of that {what}."
        )
    n_seeds = len(predictions[0])
    bad = next((i for i, p in enumerate(predictions) if len(p) != n_seeds), None)
    if bad is not None:
        raise ValueError(
            f"Ragged predictions: {what} 0 has {n_seeds} predictions (one per seed) but {what} {bad} has "
            f"{len(predictions[bad])}."
        )
    return [list(seed_row) for seed_row in zip(*predictions)]


def _checked_value_type(task: str, predictions, references) -> str:
    """The checks of `seed_consistency` on raw evaluate input, before evaluate's features can cast it.

    Returns the value type ("string", "int64", "float64") the labels are stored as.
    """
    if references is None:
        raise ValueError("references are required here; for CON alone, call seed_consistency() without them.")
    references = references.tolist() if hasattr(references, "tolist") else references
    names, rows = _as_seed_rows(_transpose(predictions), None)
    units = _build_units(task, names, rows, references, 0.0, "exact_match")
    return {"U": "string", "O": "string", "f": "float64"}.get(units.values.dtype.kind, "int64")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SeedConsistency(evaluate.Metric):
    """CON, CCON and VAR across fine-tuning seeds; config name = task type (default "classification")."""

    @property
    def _task(self) -> str:
        return "classification" if self.config_name in (None, "default") else self.config_name

    def _info(self):
        if self._task not in TASKS:
            raise ValueError(f"Unknown config {self.config_name!r}; choose one of {list(TASKS)}.")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=_features(self._task),
            reference_urls=["https://arxiv.org/abs/2503.07329"],
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """evaluate's add_batch after the metric's own checks: bad input is a ValueError naming the seed and row,
        never a label silently cast by the features (0.5 -> 0, "1" -> 1)."""
        value_type = _checked_value_type(self._task, predictions, references)
        if self.selected_feature_format is not None:  # an earlier batch chose how labels are stored
            stored = _VALUE_TYPES[self._task][self.features.index(self.selected_feature_format)]
            if stored != value_type:
                raise ValueError(f"This batch holds {value_type} labels but the earlier batches held {stored} labels.")
        super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """evaluate's add (one example), with the checks of `add_batch`."""
        self.add_batch(predictions=[prediction], references=[reference], **kwargs)

    def _compute(
        self,
        predictions,
        references,
        probabilities=None,
        zeta=None,
        seeds=None,
        tolerance=0.0,
        pi="exact_match",
        pos_label=1,
        pairwise=False,
        per_example=False,
        kappa=False,
        n_bootstrap=0,
        confidence_level=0.95,
        random_state=0,
        resample=None,
        interval="components",
    ):
        if probabilities is not None:  # (N, S, C), per example like the predictions -> S rows of (N, C)
            probabilities = _transpose(list(probabilities), "probability row")
        return seed_consistency(
            _transpose(predictions),
            references,
            probabilities=probabilities,
            task=self._task,
            zeta=zeta,
            seeds=seeds,
            tolerance=tolerance,
            pi=pi,
            pos_label=pos_label,
            pairwise=pairwise,
            per_example=per_example,
            kappa=kappa,
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            random_state=random_state,
            resample=resample,
            interval=interval,
        )
