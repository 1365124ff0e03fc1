"""Bootstrap over seeds and examples for CON, CCON, VAR and mean zeta (numpy only; a sibling of the metric script).

Every statistic of the metric is a function of a few per-example numbers: for each seed pair p the agreement
pi and the both-correct score, for each seed the numerator and denominator of an additive zeta (accuracy, exact
match, token F1, MAE). Examples with the same labels have the same numbers, so they are grouped into K
distinct columns (K <= 2^(S+1) for binary labels, whatever N is). One resample is then

- seed counts m (S,): how often each seed was drawn (S draws with replacement; all ones when seeds are fixed),
- example counts w (K,): how many of the N draws fell in each column (the original counts when examples are
  fixed),

and the resampled CON is sum_p m_a m_b (w . agree_p) / N / sum_p m_a m_b over distinct seed pairs p = (a, b).
A seed drawn twice is never paired with itself: a self-pair always agrees and would inflate CON. Two draws of
the same seed stand for two population seeds that behave alike, whose agreement the data cannot tell, so such
draws are simply not paired (the bootstrap of a U-statistic with its diagonal removed). VAR uses the same rule:
sqrt(sum_p m_a m_b (z_a - z_b)^2 / (2 sum_p m_a m_b)), half the mean squared zeta difference over the pairs of
draws of different seeds (with all seeds once: the ddof=1 standard deviation, an estimate of the seed
population's spread).

A batch of resamples costs one (b, K) x (K, P) matrix product: no resample recomputes the metric from labels,
and no (B, N, S) array exists.

>>> stats = ExampleStats.from_columns(agree=np.array([[1.0, 0.0]]), both=np.array([[1.0, 0.0]]),
...                                   hits=np.array([[1.0, 0.0], [1.0, 1.0]]), units=np.ones(2), counts=[3, 1])
>>> statistics(stats, seed_counts=None, example_counts=None)["con"]
array([0.75])
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

RESAMPLE = ("both", "seeds", "examples")
METRICS = ("con", "ccon", "var", "zeta_mean")
MIN_SEEDS_FOR_SEED_CI = 3
_BATCH_CELLS = 1 << 21  # resamples per batch x columns: bounds the (b, K) count matrix at ~16 MB
_ESTIMAND = {
    "both": "the population of seeds and the population of test examples",
    "seeds": "the population of seeds, on these test examples",
    "examples": "these seeds, on the population of test examples",
}
_RESAMPLED = {
    "both": "seeds and examples resampled together",
    "seeds": "seeds resampled, examples fixed",
    "examples": "examples resampled, seeds fixed",
}


def pair_index(n_seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """The seed pairs (a, b), a < b, in itertools.combinations order.

    >>> pair_index(3)
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    return np.triu_indices(n_seeds, k=1)


@dataclass
class ExampleStats:
    """Per-column sufficient statistics of S seeds on N examples grouped into K columns.

    agree, both: (P, K) per seed pair; hits: (S, K) numerator of an additive zeta (None: zeta is not additive,
    or there are no references); units: (K,) its denominator (1 per example, or tokens per example);
    counts: (K,) examples per column; columns: (K,) one example of each column; inverse: (N,) the column of every
    example. With many seeds the pair matrices are replaced by per-seed ones (O(S) instead of O(S^2) per
    example): labels, (S, K) label codes 0..L-1 (agree None: two seeds agree when their codes are equal), and
    correct, (S, K) per-seed scores whose product is the pair's both-correct score (both None).
    """

    agree: np.ndarray | None
    both: np.ndarray | None
    hits: np.ndarray | None
    units: np.ndarray
    counts: np.ndarray
    columns: np.ndarray
    inverse: np.ndarray
    labels: np.ndarray | None = None
    correct: np.ndarray | None = None

    @classmethod
    def from_columns(cls, agree, both=None, hits=None, units=None, counts=None) -> "ExampleStats":
        """Stats with one column per example unless `counts` says how many examples each column stands for."""
        agree = np.asarray(agree, dtype=np.float64)
        n_columns = agree.shape[1]
        counts = np.ones(n_columns, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        return cls(
            agree=agree,
            both=None if both is None else np.asarray(both, dtype=np.float64),
            hits=None if hits is None else np.asarray(hits, dtype=np.float64),
            units=np.ones(n_columns) if units is None else np.asarray(units, dtype=np.float64),
            counts=counts,
            columns=np.arange(n_columns),
            inverse=np.repeat(np.arange(n_columns), counts),
        )

    @property
    def n_seeds(self) -> int:
        if self.labels is not None:
            return self.labels.shape[0]
        return int(round((1 + np.sqrt(1 + 8 * self.agree.shape[0])) / 2))

    @property
    def has_references(self) -> bool:
        return self.both is not None or self.correct is not None

    @property
    def n_examples(self) -> int:
        return int(self.counts.sum())


def group_examples(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group the N examples whose key rows are all equal: (one example per group, group sizes, group of each).

    `keys` are (rows, N) arrays of any dtype (the predictions of every seed, the references).

    >>> group_examples([np.array([[1, 0, 1, 1], [0, 0, 0, 0]])])
    (array([1, 0]), array([1, 3]), array([1, 0, 1, 1]))
    """
    codes, cardinalities = [], []
    for key in keys:
        for row in np.atleast_2d(key):
            values, code = np.unique(row, return_inverse=True)
            codes.append(code.ravel())
            cardinalities.append(len(values))
    if float(np.prod(np.array(cardinalities, dtype=np.float64))) < 2.0**62:  # one mixed-radix integer per example
        combined = np.zeros_like(codes[0], dtype=np.int64)
        for code, cardinality in zip(codes, cardinalities):
            combined = combined * cardinality + code
        _, columns, inverse, counts = np.unique(combined, return_index=True, return_inverse=True, return_counts=True)
    else:
        _, columns, inverse, counts = np.unique(
            np.stack(codes), axis=1, return_index=True, return_inverse=True, return_counts=True
        )
    return columns, counts, inverse.ravel()


def check_bootstrap_args(n_bootstrap, confidence_level, resample: str, n_seeds: int) -> int:
    """The number of resamples as an int; ValueError for anything else that cannot give a valid interval."""
    if not _is_number(n_bootstrap) or not float(n_bootstrap).is_integer() or n_bootstrap <= 0:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}.")
    if not _is_number(confidence_level) or not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level!r}.")
    if resample not in RESAMPLE:
        raise ValueError(f"Unknown resample {resample!r}; choose one of {list(RESAMPLE)}.")
    if resample != "examples" and n_seeds < MIN_SEEDS_FOR_SEED_CI:
        raise ValueError(
            f"resample={resample!r} needs at least {MIN_SEEDS_FOR_SEED_CI} seeds for a seed-level interval "
            f"(with {n_seeds}, every resample holds the same seed pair); add seeds, or pass resample='examples' "
            "for an interval over examples only."
        )
    return int(n_bootstrap)


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)


def _batched_bincount(indices: np.ndarray, n_bins: int) -> np.ndarray:
    """Per row of a (b, n) integer array, the counts of 0..n_bins-1."""
    rows = indices.shape[0]
    offsets = (np.arange(rows) * n_bins)[:, None]
    return np.bincount((indices + offsets).ravel(), minlength=rows * n_bins).reshape(rows, n_bins)


def draw_seed_counts(rng: np.random.Generator, size: int, n_seeds: int) -> np.ndarray:
    """(size, S) counts of S - 1 draws with replacement from the S seeds; a row that drew one seed only (no pair)
    is drawn again.

    S - 1 draws, not S: the bootstrap variance of a mean over S draws is (S-1)/S times the unbiased s^2/S, which
    at 5 seeds narrows the interval by 11%; over S - 1 draws it is s^2/S exactly.
    """
    draws = n_seeds - 1
    counts = _batched_bincount(rng.integers(0, n_seeds, (size, draws)), n_seeds)
    while True:
        single = np.flatnonzero(counts.max(axis=1) == draws)
        if not single.size:
            return counts
        counts[single] = _batched_bincount(rng.integers(0, n_seeds, (single.size, draws)), n_seeds)


def draw_example_counts(rng: np.random.Generator, size: int, stats: ExampleStats) -> np.ndarray:
    """(size, K) counts of N draws with replacement from the N examples, per column."""
    n_examples, n_columns = stats.n_examples, len(stats.counts)
    if 4 * n_columns < n_examples:  # multinomial over the columns: O(K) per resample
        return rng.multinomial(n_examples, stats.counts / n_examples, size=size)
    return _batched_bincount(stats.inverse[rng.integers(0, n_examples, (size, n_examples))], n_columns)


def iter_draws(
    rng: np.random.Generator, n_bootstrap: int, stats: ExampleStats, resample: str
) -> Iterator[tuple[np.ndarray | None, np.ndarray | None]]:
    """Batches of (seed counts or None, example counts or None); None means fixed (all seeds, all examples)."""
    for size in _batch_sizes(n_bootstrap, stats):
        seeds = draw_seed_counts(rng, size, stats.n_seeds) if resample in ("both", "seeds") else None
        examples = draw_example_counts(rng, size, stats) if resample in ("both", "examples") else None
        yield seeds, examples


def _batch_sizes(n_bootstrap: int, stats: ExampleStats) -> list[int]:
    """Resamples per batch: the (b, K) counts, and the (b, N) draws behind them, stay a few MB."""
    batch = max(1, min(n_bootstrap, _BATCH_CELLS // max(len(stats.counts), stats.n_examples // 8, 1)))
    return [min(batch, n_bootstrap - start) for start in range(0, n_bootstrap, batch)]


def statistics(
    stats: ExampleStats,
    seed_counts: np.ndarray | None,
    example_counts: np.ndarray | None,
    zeta: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """CON, CCON, VAR and mean zeta of each resample (b,), given its seed and example counts.

    seed_counts None: every seed once, and VAR is the population std of these S seeds (the point estimate);
    otherwise VAR is the ddof=1 std of the distinct seed draws. example_counts None: the original examples.
    zeta: (b, S) per-seed zeta of each example resample, for a zeta that is not additive (else from `hits`).
    """
    weights = stats.counts[None, :] if example_counts is None else np.asarray(example_counts)
    weights = weights.astype(np.float64)
    n_seeds = stats.n_seeds
    seed_weights = np.ones((1, n_seeds)) if seed_counts is None else np.asarray(seed_counts, dtype=np.float64)
    drawn = seed_weights.sum(axis=1)
    pair_total = (drawn**2 - np.sum(seed_weights**2, axis=1)) / 2  # sum over seed pairs a < b of m_a m_b
    n_examples = weights.sum(axis=1)
    first, second = pair_index(n_seeds)

    def pair_mean(per_pair: np.ndarray | None, per_seed: list[np.ndarray]) -> np.ndarray:
        if per_pair is not None:
            pair_weights = seed_weights[:, first] * seed_weights[:, second]
            total = np.sum(pair_weights * (weights @ per_pair.T), axis=1)
        else:  # sum_(a<b) m_a m_b s_a s_b = ((sum m s)^2 - sum m^2 s^2) / 2 per example, for each score s
            total = sum(
                np.sum(weights * ((seed_weights @ s) ** 2 - seed_weights**2 @ s**2), axis=1) / 2 for s in per_seed
            )
        return total / (n_examples * pair_total)

    labels = [] if stats.labels is None else [(stats.labels == k).astype(np.float64) for k in np.unique(stats.labels)]
    out = {"con": pair_mean(stats.agree, labels)}
    if not stats.has_references:
        return out
    out["ccon"] = pair_mean(stats.both, [] if stats.correct is None else [stats.correct])
    if zeta is None:
        zeta = (weights @ stats.hits.T) / (weights @ stats.units)[:, None]
    out["zeta_mean"] = np.sum(seed_weights * zeta, axis=1) / drawn
    # sum_(a<b) m_a m_b (z_a - z_b)^2 = (sum m)(sum m z^2) - (sum m z)^2, z shifted by the first seed's (exact 0s)
    shifted = zeta - zeta[:, :1]
    squares = drawn * np.sum(seed_weights * shifted**2, axis=1) - np.sum(seed_weights * shifted, axis=1) ** 2
    squares = np.maximum(squares, 0)
    out["var"] = np.sqrt(squares / n_seeds**2 if seed_counts is None else squares / (2 * pair_total))
    return out


def bootstrap_samples(
    stats: ExampleStats,
    n_bootstrap: int,
    rng: np.random.Generator,
    resample: str = "both",
    zeta_of: Callable[[np.ndarray], np.ndarray] | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """{metric: (B,) resampled values}.

    zeta_of(example_counts (b, K)) -> (b, S): zeta of every seed for a zeta that is not a mean over examples.
    extra: {name: (K,) per-column score}: its mean over the resampled examples (seeds do not enter).
    """
    parts = []
    for seeds, examples in iter_draws(rng, n_bootstrap, stats, resample):
        parts.append(_resampled(stats, seeds, examples, zeta_of, extra))
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _resampled(stats, seeds, examples, zeta_of, extra) -> dict[str, np.ndarray]:
    """`statistics` of one batch of draws, with zeta_of and extra as in `bootstrap_samples`."""
    size = len(seeds if examples is None else examples)
    weights = stats.counts[None, :] if examples is None else examples
    zeta = None
    if zeta_of is not None and stats.has_references:
        zeta = np.broadcast_to(zeta_of(weights), (size, stats.n_seeds))
    out = statistics(stats, seeds, examples, zeta)
    for key, values in (extra or {}).items():
        out[key] = np.broadcast_to((weights @ values) / weights.sum(axis=1), (size,))
    return out


def compare_samples(
    stats_a: ExampleStats,
    stats_b: ExampleStats,
    n_bootstrap: int,
    rng: np.random.Generator,
    resample: str = "both",
    paired_seeds: bool = False,
    zeta_of_a: Callable[[np.ndarray], np.ndarray] | None = None,
    zeta_of_b: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Resamples of two models on the same examples (grouped alike): every resample draws the examples once for
    both; the seeds independently for each model, or once for both when `paired_seeds` (seed i of A is seed i
    of B)."""
    parts_a, parts_b = [], []
    for size in _batch_sizes(n_bootstrap, stats_a):
        seeds_a = seeds_b = None
        if resample in ("both", "seeds"):
            seeds_a = draw_seed_counts(rng, size, stats_a.n_seeds)
            seeds_b = seeds_a if paired_seeds else draw_seed_counts(rng, size, stats_b.n_seeds)
        examples = draw_example_counts(rng, size, stats_a) if resample in ("both", "examples") else None
        parts_a.append(_resampled(stats_a, seeds_a, examples, zeta_of_a, None))
        parts_b.append(_resampled(stats_b, seeds_b, examples, zeta_of_b, None))
    return tuple(
        {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} for parts in (parts_a, parts_b)
    )


def percentile_interval(samples: np.ndarray, confidence_level: float) -> list[float]:
    """[low, high]: the (1 - level)/2 and (1 + level)/2 quantiles of the samples."""
    alpha = (1 - confidence_level) / 2
    return [float(v) for v in np.quantile(samples, [alpha, 1 - alpha])]


def two_sided_p_value(samples: np.ndarray) -> float:
    """Bootstrap p-value of "the difference is 0": twice the smaller share of samples on one side of 0.

    Counts ties at 0 on both sides and adds one to each count (never exactly 0 from finitely many resamples).

    >>> two_sided_p_value(np.array([0.1, 0.2, 0.3, -0.1]))
    0.8
    """
    samples = np.asarray(samples)
    below, above = np.count_nonzero(samples <= 0), np.count_nonzero(samples >= 0)
    return float(min(1.0, 2 * (min(below, above) + 1) / (len(samples) + 1)))


def ci_method(resample: str, n_bootstrap: int, confidence_level: float) -> str:
    """The `ci_method` string of a report: method, resampling, self-pair rule and estimand."""
    rule = "; a seed drawn twice is not paired with itself" if resample != "examples" else ""
    return (
        f"{confidence_level:.0%} percentile bootstrap, {n_bootstrap} resamples ({_RESAMPLED[resample]}{rule}); "
        f"estimand: {_ESTIMAND[resample]}"
    )
