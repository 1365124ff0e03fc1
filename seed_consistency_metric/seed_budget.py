"""How many seeds are enough: the metrics and their interval half-widths over subsets of k seeds (numpy only).

For k = 2..S the spread of CON, CCON, VAR and mean zeta over subsets of k of the S seeds, and for k >= 3 the
mean half-width of the bootstrap interval (see `resampling`) over those subsets. Each subset's interval is the
one `seed_consistency` reports for those seeds with the same n_bootstrap, random_state and interval (its bootstrap
starts from `default_rng(random_state)`); the half-width is t_df x sqrt(V) for the variance-component t-interval,
before the clipping to the metric's range, and half the length for the percentile interval. The normal-quantile
half-width z x sqrt(V) (for the percentile interval, its half-width itself) is fitted as

    half_width(k)^2 = example_part + seed_part / k

(the variance of a mean over k seeds and N examples: a part that more seeds do not shrink, and one that falls
as 1/k); the fitted t-interval half-width is that times t_df(k) / z, df(k) the Satterthwaite degrees of freedom
the fit implies. It is extrapolated beyond S, and the smallest k whose half-width reaches a target is read off
the measured curve, else the fit. When the target is below sqrt(example_part), no number of seeds reaches it:
more test examples are needed.

>>> fit_half_width([3, 4, 6], [0.02, 0.0175, 0.0146])["seeds_for"](0.01)
16
"""

import itertools
import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

from .resampling import (
    METRICS,
    ExampleStats,
    bootstrap_samples,
    component_variance_df,
    pair_index,
    percentile_interval,
    seed_degrees_of_freedom,
    statistics,
    student_t_quantile,
    t_half_width,
)


def subset_stats(stats: ExampleStats, seeds: Sequence[int]) -> ExampleStats:
    """The stats of the seeds `seeds` (indices into 0..S-1, increasing) alone."""
    seeds = np.asarray(seeds)
    first, second = pair_index(stats.n_seeds)
    pair_of = {(a, b): p for p, (a, b) in enumerate(zip(first.tolist(), second.tolist()))}
    sub_first, sub_second = pair_index(len(seeds))
    rows = [pair_of[(int(seeds[a]), int(seeds[b]))] for a, b in zip(sub_first, sub_second)]
    return ExampleStats(
        agree=None if stats.agree is None else stats.agree[rows],
        both=None if stats.both is None else stats.both[rows],
        hits=None if stats.hits is None else stats.hits[seeds],
        units=stats.units,
        counts=stats.counts,
        columns=stats.columns,
        inverse=stats.inverse,
        labels=None if stats.labels is None else stats.labels[seeds],
        correct=None if stats.correct is None else stats.correct[seeds],
    )


def seed_subsets(n_seeds: int, k: int, n_subsets: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Every k-subset of the seeds when there are at most `n_subsets`, else `n_subsets` distinct random ones."""
    if math.comb(n_seeds, k) <= n_subsets:
        return list(itertools.combinations(range(n_seeds), k))
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < n_subsets:
        chosen.add(tuple(sorted(rng.choice(n_seeds, k, replace=False).tolist())))
    return sorted(chosen)


def fit_half_width(ks: Sequence[int], half_widths: Sequence[float], confidence_level: float | None = None) -> dict:
    """Least-squares fit of half_width^2 = example_part + seed_part / k (both >= 0) to normal-quantile half-widths.

    confidence_level: None for percentile intervals (the fitted curve is the half-width); else the curve is scaled
    by t_df(k) / z for the t-interval of that level, with df(k) = (k - 1) (1 + example_part k / seed_part)^2 (the
    Satterthwaite df of a seed part seed_part / k in a variance example_part + seed_part / k).
    Returns {"example_part", "seed_part", "predict": k -> half-width, "seeds_for": target -> smallest k or None}.

    >>> round(fit_half_width([3, 5], [0.02, 0.016], 0.95)["predict"](5), 4)
    0.0203
    """
    k = np.asarray(ks, dtype=np.float64)
    squares = np.asarray(half_widths, dtype=np.float64) ** 2
    if len(k) >= 2:
        (example_part, seed_part), *_ = np.linalg.lstsq(np.stack([np.ones_like(k), 1 / k], axis=1), squares, rcond=None)
    else:
        example_part, seed_part = 0.0, float(squares[0] * k[0]) if len(k) else 0.0
    if seed_part < 0:  # more seeds do not narrow it here: a flat curve
        example_part, seed_part = float(np.mean(squares)), 0.0
    elif example_part < 0:  # through the origin
        example_part, seed_part = 0.0, float(np.sum(squares / k) / np.sum(1 / k**2))
    scale = _t_scale(example_part, seed_part, confidence_level)

    def predict(n: float) -> float:
        return scale(n) * math.sqrt(example_part + seed_part / n)

    def seeds_for(target: float) -> int | None:
        if target**2 <= example_part:
            return None
        low = max(2, math.ceil(seed_part / (target**2 - example_part) - 1e-9))  # the answer when scale is 1
        high = low
        while predict(high) > target:  # scale >= 1 falls with k: search upwards
            low, high = high + 1, 2 * high
        while low < high:
            middle = (low + high) // 2
            low, high = (middle + 1, high) if predict(middle) > target else (low, middle)
        return high

    return {"example_part": float(example_part), "seed_part": float(seed_part), "predict": predict,
            "seeds_for": seeds_for}  # fmt: skip


def _t_scale(example_part: float, seed_part: float, confidence_level: float | None) -> Callable[[float], float]:
    """k -> t_df(k) / z of `fit_half_width` (1 for every k when confidence_level is None)."""
    if confidence_level is None:
        return lambda k: 1.0
    p = (1 + confidence_level) / 2
    z = NormalDist().inv_cdf(p)

    def scale(k: float) -> float:
        variance = example_part + seed_part / k
        return student_t_quantile(p, seed_degrees_of_freedom(variance, [(seed_part / k, k)])) / z

    return scale


def subset_half_widths(
    stats: ExampleStats,
    metrics: Sequence[str],
    *,
    n_bootstrap: int,
    confidence_level: float,
    random_state: int,
    resample: str,
    interval: str,
    zeta_of: Callable[[np.ndarray], np.ndarray] | None,
) -> tuple[dict[str, float], dict[str, float]]:
    """({metric: half-width}, {metric: normal-quantile half-width}) of the interval of these seeds' stats, drawn
    from `default_rng(random_state)` as `seed_consistency` draws them (see the module doc)."""
    rng = np.random.default_rng(random_state)
    if interval == "components" and resample == "both":
        samples = bootstrap_samples(stats, n_bootstrap, rng, resample, zeta_of, components=True)
        parts = {m: component_variance_df(samples, m, stats.n_seeds) for m in metrics}
        z = NormalDist().inv_cdf((1 + confidence_level) / 2)
        widths = {m: t_half_width(variance, df, confidence_level) for m, (variance, df) in parts.items()}
        return widths, {m: z * math.sqrt(variance) for m, (variance, _) in parts.items()}
    samples = bootstrap_samples(stats, n_bootstrap, rng, resample, zeta_of)
    widths = {}
    for m in metrics:
        low, high = percentile_interval(samples[m], confidence_level)
        widths[m] = (high - low) / 2
    return widths, widths


def seed_curve(
    stats: ExampleStats,
    zeta: np.ndarray | None,
    *,
    n_bootstrap: int,
    confidence_level: float,
    random_state: int,
    resample: str = "both",
    interval: str = "components",
    n_subsets: int = 10,
    zeta_of: Callable[[np.ndarray], np.ndarray] | None = None,
    targets: dict[str, float],
    extrapolate_to: int | None = None,
) -> dict:
    """The spread and half-width tables for k = 2..S and the seeds each target needs (see the module doc).

    zeta: (S,) zeta of every seed on all examples (None without references); zeta_of: as in `bootstrap_samples`
    for a zeta that is not a mean over examples. The subsets of k seeds are drawn from `default_rng(random_state)`.
    """
    n_seeds = stats.n_seeds
    metrics = [m for m in METRICS if stats.has_references or m == "con"]
    chooser = np.random.default_rng(random_state)
    bootstrap = {"n_bootstrap": n_bootstrap, "confidence_level": confidence_level, "random_state": random_state,
                 "resample": resample, "interval": interval}  # fmt: skip
    rows, normal_widths, fits, needed = [], [], {}, {}
    for k in range(2, n_seeds + 1):
        subsets = seed_subsets(n_seeds, k, n_subsets, chooser)
        points = {m: [] for m in metrics}
        widths = {m: [] for m in metrics}
        normal = {m: [] for m in metrics}
        for subset in subsets:
            sub = subset_stats(stats, subset)
            sub_zeta = None if zeta is None or stats.hits is not None else np.asarray(zeta)[list(subset)][None, :]
            point = statistics(sub, None, None, sub_zeta)
            for m in metrics:
                points[m].append(float(point[m][0]))
            if k >= 3:
                sub_zeta_of = None if zeta_of is None else (lambda counts, s=list(subset): zeta_of(counts)[:, s])
                half, normal_half = subset_half_widths(sub, metrics, zeta_of=sub_zeta_of, **bootstrap)
                for m in metrics:
                    widths[m].append(half[m])
                    normal[m].append(normal_half[m])
        row = {"k": k, "n_subsets": len(subsets)}
        for m in metrics:
            row[f"{m}_mean"] = float(np.mean(points[m]))
            row[f"{m}_sd"] = float(np.std(points[m]))
            row[f"{m}_min"], row[f"{m}_max"] = float(np.min(points[m])), float(np.max(points[m]))
            row[f"{m}_half_width"] = float(np.mean(widths[m])) if widths[m] else None
        rows.append(row)
        if k >= 3:
            normal_widths.append({m: float(np.mean(normal[m])) for m in metrics})
    measured = [row for row in rows if row["k"] >= 3]
    t_level = confidence_level if interval == "components" and resample == "both" else None
    extrapolate_to = extrapolate_to or max(4 * n_seeds, 20)
    extrapolated = []
    for m in metrics:
        fit = fit_half_width([r["k"] for r in measured], [w[m] for w in normal_widths], t_level)
        fits[m] = {"example_part": fit["example_part"], "seed_part": fit["seed_part"]}
        if m in targets:
            reached = next((r["k"] for r in measured if r[f"{m}_half_width"] <= targets[m]), None)
            needed[m] = {"target": targets[m], "k": reached if reached is not None else fit["seeds_for"](targets[m]),
                         "from": "measured" if reached is not None else "extrapolated"}  # fmt: skip
            if needed[m]["k"] is None:
                needed[m]["from"] = (
                    f"unreachable: the examples alone give a half-width of {math.sqrt(fit['example_part']):.4g}; "
                    "more test examples are needed"
                )
        for k in range(3, extrapolate_to + 1):
            if len(extrapolated) < k - 2:
                extrapolated.append({"k": k})
            extrapolated[k - 3][f"{m}_half_width"] = fit["predict"](k)
    return {"rows": rows, "fit": fits, "extrapolated": extrapolated, "seeds_needed": needed}
