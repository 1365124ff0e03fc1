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

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

RESAMPLE = ("both", "seeds", "examples")
INTERVALS = ("components", "percentile")
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


def check_bootstrap_args(n_bootstrap, confidence_level, resample: str, n_seeds: int, interval="percentile") -> int:
    """The number of resamples as an int; ValueError for anything else that cannot give a valid interval."""
    if interval not in INTERVALS:
        raise ValueError(f"Unknown interval {interval!r}; choose one of {list(INTERVALS)}.")
    if not _is_number(n_bootstrap) or not float(n_bootstrap).is_integer() or n_bootstrap <= 0:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}.")
    if not _is_number(confidence_level) or not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level!r}.")
    if resample not in RESAMPLE:
        raise ValueError(f"Unknown resample {resample!r}; choose one of {list(RESAMPLE)}.")
    if interval == "components" and resample == "both" and n_bootstrap < 2:
        raise ValueError(
            f"interval='components' estimates variances from the resamples and needs n_bootstrap >= 2 (a few "
            f"hundred for a stable interval), got {n_bootstrap}."
        )
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
    components: bool = False,
) -> dict:
    """{metric: (B,) resampled values}; with `components` (resample "both"), {scheme: {metric: (B,)}} for the
    schemes "seeds", "examples" and "both", from the same draws (see `components_variance`).

    zeta_of(example_counts (b, K)) -> (b, S): zeta of every seed for a zeta that is not a mean over examples.
    extra: {name: (K,) per-column score}: its mean over the resampled examples (seeds do not enter).
    """
    parts = []
    for seeds, examples in iter_draws(rng, n_bootstrap, stats, resample):
        parts.append(_schemes(stats, seeds, examples, zeta_of, extra, components))
    return _concatenate(parts)


def _concatenate(parts: list[dict]) -> dict:
    """Batches of (nested) {key: (b,) array} joined along the resamples."""
    if isinstance(next(iter(parts[0].values())), dict):
        return {key: _concatenate([part[key] for part in parts]) for key in parts[0]}
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _schemes(stats, seeds, examples, zeta_of, extra, components: bool) -> dict:
    """`_resampled` of the draws; with `components`, also of the seed draws alone and of the example draws alone."""
    if not components:
        return _resampled(stats, seeds, examples, zeta_of, extra)
    every_seed = np.ones((1, stats.n_seeds))  # VAR as the ddof=1 std, like the seed draws and the point estimate
    return {
        "seeds": _resampled(stats, seeds, None, zeta_of, extra),
        "examples": _resampled(stats, every_seed, examples, zeta_of, extra),
        "both": _resampled(stats, seeds, examples, zeta_of, extra),
    }


def point_estimates(stats: ExampleStats, zeta_of: Callable[[np.ndarray], np.ndarray] | None = None) -> dict:
    """The statistics of all seeds on all examples, VAR as the ddof=1 standard deviation (the estimate of the seed
    population's spread that the component intervals are centred on)."""
    ones = np.ones((1, stats.n_seeds))
    out = _resampled(stats, ones, None, zeta_of, None)
    return {key: float(values[0]) for key, values in out.items()}


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
    components: bool = False,
) -> tuple[dict, dict]:
    """Resamples of two models on the same examples (grouped alike): every resample draws the examples once for
    both; the seeds independently for each model, or once for both when `paired_seeds` (seed i of A is seed i
    of B). `components` as in `bootstrap_samples`."""
    parts_a, parts_b = [], []
    for size in _batch_sizes(n_bootstrap, stats_a):
        seeds_a = seeds_b = None
        if resample in ("both", "seeds"):
            seeds_a = draw_seed_counts(rng, size, stats_a.n_seeds)
            seeds_b = seeds_a if paired_seeds else draw_seed_counts(rng, size, stats_b.n_seeds)
        examples = draw_example_counts(rng, size, stats_a) if resample in ("both", "examples") else None
        parts_a.append(_schemes(stats_a, seeds_a, examples, zeta_of_a, None, components))
        parts_b.append(_schemes(stats_b, seeds_b, examples, zeta_of_b, None, components))
    return _concatenate(parts_a), _concatenate(parts_b)


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


_EXACT_ARRANGEMENTS = 5000  # up to this many, every arrangement of the seeds; beyond, random ones
_RANDOM_ARRANGEMENTS = 1999


def spread_permutation_p_value(
    zeta_a: Sequence[float], zeta_b: Sequence[float], paired_seeds: bool, rng: np.random.Generator
) -> float:
    """Two-sided permutation p-value of "A and B spread alike over seeds", the test of the VAR difference.

    The statistic is |sd_B - sd_A| (ddof=1) of the seeds' zeta. Each model's values are centred on their own mean
    (so that a difference in mean is not taken for one in spread) and scaled by sqrt(S / (S - 1)); the residuals
    are then split between A and B in every way (paired seeds: every swap of A and B within a seed), or in 1999
    random ways when there are more than 5000. A side holding k residuals of A and m of B has the spread
    sqrt(SS / d), SS its sum of squares about its mean and d = n - (k (S_A - k) / (S_A - 1) + m (S_B - m) /
    (S_B - 1)) / n (n = k + m) its expectation over sigma^2 under the null: the residuals of one model sum to 0,
    so a mixed side spreads less than its n values suggest. Observed, d is S - 1 and the spread the ddof=1 sd.
    In simulation (VALIDATION.md) it rejects a true null in about 5% at alpha 0.05. The smallest possible
    p-value is 2 / C(S_A + S_B, S_A) (paired: 2 / 2^S, so 5 paired seeds cannot reach 0.05).

    >>> spread_permutation_p_value([0.80, 0.81, 0.79], [0.70, 0.90, 0.80], False, np.random.default_rng(0))
    0.4
    """
    a, b = (np.asarray(values, dtype=np.float64) for values in (zeta_a, zeta_b))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan")
    sizes = (len(a), len(b))
    a, b = ((x - x.mean()) * np.sqrt(len(x) / (len(x) - 1)) for x in (a, b))
    pooled, of_b = np.concatenate([a, b]), np.arange(len(a) + len(b)) >= len(a)
    if paired_seeds:  # seed i of A is pooled[i], of B pooled[S + i]
        swaps, seed = _arrangements(len(a), None, rng), np.arange(len(a))
        sides = np.where(swaps, seed + len(a), seed), np.where(swaps, seed, seed + len(a))
    else:
        order = np.argsort(_arrangements(len(pooled), len(b), rng), axis=1, kind="stable")  # A's side first
        sides = order[:, : len(a)], order[:, len(a) :]
    spread_a, spread_b = (_side_spreads(pooled[side], of_b[side], *sizes) for side in sides)
    statistic = np.abs(spread_b - spread_a)
    observed = abs(float(np.std(zeta_b, ddof=1) - np.std(zeta_a, ddof=1)))
    return float(np.count_nonzero(statistic >= observed * (1 - 1e-9)) / len(statistic))


def _side_spreads(rows: np.ndarray, of_b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """sqrt(SS / d) of every row of scaled residuals (see `spread_permutation_p_value`); of_b marks the residuals
    that come from B's n_b seeds, the others from A's n_a."""
    size = rows.shape[1]
    from_b = np.count_nonzero(of_b, axis=1)
    from_a = size - from_b
    squares = size * np.var(rows, axis=1)
    expected = size - (from_a * (n_a - from_a) / (n_a - 1) + from_b * (n_b - from_b) / (n_b - 1)) / size
    return np.sqrt(squares / expected)


def _arrangements(n_seeds: int, n_in_b: int | None, rng: np.random.Generator) -> np.ndarray:
    """(M, n) boolean rows: which seeds go to B (n_in_b of them), or with n_in_b None which seeds swap A and B;
    every arrangement when there are at most 5000, else the observed one (the last n_in_b seeds in B; no swap)
    and 1999 random ones."""
    total = 2**n_seeds if n_in_b is None else math.comb(n_seeds, n_in_b)
    if total <= _EXACT_ARRANGEMENTS and n_in_b is None:
        return (np.arange(total)[:, None] >> np.arange(n_seeds)[None, :] & 1).astype(bool)
    if total <= _EXACT_ARRANGEMENTS:
        rows = np.zeros((total, n_seeds), dtype=bool)
        for row, chosen in zip(rows, itertools.combinations(range(n_seeds), n_in_b)):
            row[list(chosen)] = True
        return rows
    observed = np.arange(n_seeds) >= n_seeds - (n_in_b or 0)
    if n_in_b is None:
        drawn = rng.random((_RANDOM_ARRANGEMENTS, n_seeds)) < 0.5
    else:
        drawn = np.argsort(rng.random((_RANDOM_ARRANGEMENTS, n_seeds)), axis=1) < n_in_b
    return np.concatenate([observed[None, :], drawn])


def seed_draw_factor(n_seeds: int) -> float:
    """c: the variance of a mean over the seed draws of `draw_seed_counts`, as a share of the unbiased s^2 / S.

    S - 1 draws with replacement give s^2 / S exactly; drawing again the rows that hit one seed only (they have no
    seed pair) takes the widest resamples out: c = (1 - (S - 1) p) / (1 - p), p = S^(2 - S) the chance of such a
    row. c is 1/2 at 3 seeds, 13/15 at 4, 0.976 at 5 and 1 - 9e-8 at 10; the component variances divide the seed
    part by it.

    >>> seed_draw_factor(3), round(seed_draw_factor(4), 4), round(seed_draw_factor(5), 4)
    (0.5, 0.8667, 0.9758)
    """
    draws = n_seeds - 1
    single = float(n_seeds) ** (1 - draws)
    return (1 - draws * single) / (1 - single)


def _scheme_variances(seeds: np.ndarray, examples: np.ndarray, both: np.ndarray) -> tuple[float, float, float]:
    """(V_s, V_e, V_both): the ddof=1 variances of the resamples of the three schemes."""
    return tuple(float(np.var(values, ddof=1)) for values in (seeds, examples, both))


def components_variance(seeds: np.ndarray, examples: np.ndarray, both: np.ndarray, n_seeds: int) -> float:
    """The variance of an estimate over a crossed seeds x examples design, from three sets of resamples.

    With Y_it = mu + a_i + b_t + c_it, the variance of the estimate is A + B + R (seed part, example part,
    interaction / (S N)). Resampling the seeds alone gives V_s ~ c (A + R), the examples alone V_e ~ B + R, both
    together V_both ~ c A + B + R + 2 c R (McCullagh 2000; Owen 2007; c = `seed_draw_factor`, 1 but for a few
    seeds), so 2 V_s + V_e - V_both estimates c A and (2 V_s + V_e - V_both) / c + V_e estimates A + B + R
    (2 (V_s + V_e) - V_both when c = 1); floored at max(V_s / c, V_e) against Monte-Carlo noise.

    >>> components_variance(np.array([0.0, 2.0]), np.array([0.0, 2.0]), np.array([0.0, 3.0]), n_seeds=3)
    5.0
    """
    v_seeds, v_examples, v_both = _scheme_variances(seeds, examples, both)
    factor = seed_draw_factor(n_seeds)
    return max((2 * v_seeds + v_examples - v_both) / factor + v_examples, v_seeds / factor, v_examples)


def seed_part(seeds: np.ndarray, examples: np.ndarray, both: np.ndarray, n_seeds: int) -> float:
    """A, the part of the variance that comes from the spread between seeds alone: (V_s - R) / c with
    R = V_both - V_s - V_e the interaction (see `components_variance`), at least 0 and at most V_s / c.

    >>> seed_part(np.array([0.0, 2.0]), np.array([0.0, 2.0]), np.array([0.0, 3.0]), n_seeds=3)
    3.0
    """
    v_seeds, v_examples, v_both = _scheme_variances(seeds, examples, both)
    return min(max(2 * v_seeds + v_examples - v_both, 0.0), v_seeds) / seed_draw_factor(n_seeds)


def seed_degrees_of_freedom(variance: float, seed_parts: list[tuple[float, int]]) -> float:
    """Satterthwaite degrees of freedom of `variance` whose seed parts (V_s, S) are estimated from S seeds each
    (the example part counts as known): variance^2 / sum V_s^2 / (S - 1), clipped to [min S - 1, 1000].

    >>> seed_degrees_of_freedom(2.0, [(1.0, 5), (1.0, 5)])
    8.0
    """
    low = min(n_seeds for _, n_seeds in seed_parts) - 1
    denominator = sum(part**2 / (n_seeds - 1) for part, n_seeds in seed_parts)
    if denominator <= 0:
        return float(_LARGE_DF)
    return float(min(max(variance**2 / denominator, low), _LARGE_DF))


def t_half_width(variance: float, df: float, confidence_level: float) -> float:
    """The (1 + level)/2 quantile of t_df times sqrt(variance): the half-width of `t_interval`.

    >>> round(t_half_width(4.0, 4, 0.95), 6)
    5.55289
    """
    return float(student_t_quantile((1 + confidence_level) / 2, df) * np.sqrt(variance))


def t_interval(estimate: float, variance: float, df: float, confidence_level: float) -> list[float]:
    """[estimate -+ the t_df quantile x sqrt(variance)]."""
    half = t_half_width(variance, df, confidence_level)
    return [float(estimate - half), float(estimate + half)]


def t_p_value(estimate: float, variance: float, df: float) -> float:
    """Two-sided p-value of "the true value is 0" from estimate / sqrt(variance) ~ t_df (1 when both are 0)."""
    if variance <= 0:
        return 1.0 if estimate == 0 else 0.0
    t = abs(estimate) / np.sqrt(variance)
    return float(min(1.0, 2 * (student_t_sf(t, df) if t >= 1 else 1 - student_t_cdf(t, df))))


_LARGE_DF = 1000  # from here on, t is the normal distribution
_LEGENDRE = np.polynomial.legendre.leggauss(64)


def _t_density(x, df: float):
    scale = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return np.exp(scale - (df + 1) / 2 * np.log1p(np.square(x) / df))


def student_t_cdf(x: float, df: float) -> float:
    """P(T <= x) of Student's t with df degrees of freedom (numpy only; see `student_t_sf`).

    >>> round(student_t_cdf(2.7764451052, 4), 6)
    0.975
    """
    if abs(x) >= 1:
        tail = student_t_sf(abs(x), df)
        return float(tail if x < 0 else 1 - tail)
    if df >= _LARGE_DF:
        return NormalDist().cdf(x)
    return float(0.5 + _integral(lambda t: _t_density(t, df), 0.0, x))


def student_t_sf(x: float, df: float) -> float:
    """P(T > x) for x >= 1, without cancellation far out: the integral of the density over t > x, as one over
    u = 1/t in (0, 1/x] (smooth for df >= 1).

    >>> f"{student_t_sf(40.0, 4):.4e}"
    '1.1670e-06'
    """
    if df >= _LARGE_DF:
        return 0.5 * math.erfc(x / math.sqrt(2))
    return _integral(lambda u: _t_density(1 / u, df) / u**2, 0.0, 1 / x)


def _integral(function, start: float, end: float, pieces: int = 8) -> float:
    """Gauss-Legendre (64 nodes) over `pieces` equal parts of [start, end]."""
    nodes, weights = _LEGENDRE
    total = 0.0
    ends = np.linspace(start, end, pieces + 1)
    for low, high in zip(ends[:-1], ends[1:]):
        total += (high - low) / 2 * float(np.sum(weights * function(low + (high - low) * (nodes + 1) / 2)))
    return total


def student_t_quantile(p: float, df: float) -> float:
    """The p quantile of Student's t (Newton's method from the Cornish-Fisher start).

    >>> round(student_t_quantile(0.975, 4), 6)
    2.776445
    """
    z = NormalDist().inv_cdf(p)
    if df >= _LARGE_DF:
        return z
    x = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    for _ in range(20):
        step = (student_t_cdf(x, df) - p) / float(_t_density(x, df))
        x -= step
        if abs(step) < 1e-12 * max(1.0, abs(x)):
            break
    return float(x)


_SCHEMES = ("seeds", "examples", "both")
_BOUNDS = {"con": (0.0, 1.0), "ccon": (0.0, 1.0), "var": (0.0, np.inf), "zeta_mean": (-np.inf, np.inf)}


def component_variance_df(samples: dict, key: str, n_seeds: int) -> tuple[float, float]:
    """(variance, degrees of freedom) of `key` from the three schemes of `bootstrap_samples(..., components=True)`:
    `components_variance`, and Satterthwaite's df counting V_s (seeds and interaction) as estimated from S seeds."""
    seeds, examples, both = (samples[name][key] for name in _SCHEMES)
    variance = components_variance(seeds, examples, both, n_seeds)
    seeds_and_interaction = float(np.var(seeds, ddof=1)) / seed_draw_factor(n_seeds)
    return variance, seed_degrees_of_freedom(variance, [(seeds_and_interaction, n_seeds)])


def component_intervals(point: dict, samples: dict, n_seeds: int, confidence_level: float) -> dict[str, list[float]]:
    """{metric: [low, high]}: t-intervals of CON, CCON, VAR and mean zeta around `point` (`point_estimates`) from
    the three schemes of `bootstrap_samples(..., components=True)`, clipped to the metric's range; any other key
    (an example-level score) gets the percentile interval of its example resamples. The degrees of freedom count
    V_s (seeds and interaction) as estimated from S seeds, the safe side (see `component_differences`)."""
    ci = {}
    for key in samples["both"]:
        if key not in _BOUNDS:
            ci[key] = percentile_interval(samples["examples"][key], confidence_level)
            continue
        low, high = t_interval(point[key], *component_variance_df(samples, key, n_seeds), confidence_level)
        ci[key] = [max(low, _BOUNDS[key][0]), min(high, _BOUNDS[key][1])]
    return ci


def component_differences(
    points: tuple[dict, dict],
    samples: tuple[dict, dict],
    n_seeds: tuple[int, int],
    paired_seeds: bool,
    confidence_level: float,
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """({metric: [low, high]}, {metric: p}) of B - A from `compare_samples(..., components=True)`: the components
    variance of the resampled differences and a t-test.

    The degrees of freedom come from the seed parts proper, `seed_part` (V_s less the interaction), of the
    difference (paired seeds) or of A and of B (independent seeds, Welch-Satterthwaite). With paired examples the
    example part cancels in B - A and the interaction, estimated from S x N cells, is much of what is left:
    counting it with the S - 1 degrees of freedom of the seeds, as `component_intervals` does, made the test
    reject a true null in only 2% at 5 seeds (VALIDATION.md)."""
    ci, p_values = {}, {}
    for key in samples[0]["both"]:
        schemes = [samples[1][name][key] - samples[0][name][key] for name in _SCHEMES]
        if paired_seeds:
            variance = components_variance(*schemes, n_seeds[0])
            parts = [(seed_part(*schemes, n_seeds[0]), n_seeds[0])]
        else:
            parts = [
                (seed_part(*(sample[name][key] for name in _SCHEMES), n), n) for sample, n in zip(samples, n_seeds)
            ]
            variance = _independent_seeds_variance(schemes, samples, key, n_seeds, parts)
        df = seed_degrees_of_freedom(variance, parts)
        difference = points[1][key] - points[0][key]
        ci[key] = t_interval(difference, variance, df, confidence_level)
        p_values[key] = t_p_value(difference, variance, df)
    return ci, p_values


def _independent_seeds_variance(
    schemes: list[np.ndarray],
    samples: tuple[dict, dict],
    key: str,
    n_seeds: tuple[int, int],
    parts: list[tuple[float, int]],
) -> float:
    """`components_variance` of B - A when A's and B's seeds are drawn apart: 2 V_s + V_e - V_both of the
    differences estimates c_A A_A + c_B A_B, so each model's seed part (`parts`) replaces its c-scaled share."""
    v_seeds, v_examples, v_both = _scheme_variances(*schemes)
    factors = [seed_draw_factor(n) for n in n_seeds]
    undone = sum(part * (1 - factor) for (part, _), factor in zip(parts, factors))
    seeds_alone = sum(float(np.var(sample["seeds"][key], ddof=1)) / f for sample, f in zip(samples, factors))
    return max(2 * v_seeds + v_examples - v_both + undone + v_examples, seeds_alone, v_examples)


def ci_method(resample: str, n_bootstrap: int, confidence_level: float, interval: str = "percentile") -> str:
    """The `ci_method` string of a report: method, resampling, self-pair rule and estimand."""
    rule = "; a seed drawn twice is not paired with itself" if resample != "examples" else ""
    if interval == "components" and resample == "both":
        return (
            f"{confidence_level:.0%} t-interval from variance components: {n_bootstrap} resamples (seeds and "
            f"examples resampled together{rule}; each alone from the same draws; S - 1 seed draws); variance "
            "(2 V_seeds + V_examples - V_both) / c + V_examples, c the seed draws' share of a mean's variance (1/2 "
            "at 3 seeds, ~1 from 6), Satterthwaite degrees of freedom from the seed part; VAR centred on the ddof=1 "
            f"standard deviation; estimand: {_ESTIMAND[resample]}"
        )
    return (
        f"{confidence_level:.0%} percentile bootstrap, {n_bootstrap} resamples ({_RESAMPLED[resample]}{rule}); "
        f"estimand: {_ESTIMAND[resample]}"
    )
