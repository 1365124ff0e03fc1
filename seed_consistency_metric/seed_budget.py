"""How many seeds are enough: the metrics and their interval half-widths over subsets of k seeds (numpy only).

For k = 2..S the spread of CON, CCON, VAR and mean zeta over subsets of k of the S seeds, and for k >= 3 the
mean half-width of the bootstrap interval (see `resampling`) over those subsets. The half-width is fitted as

    half_width(k)^2 = example_part + seed_part / k

(the variance of a mean over k seeds and N examples: a part that more seeds do not shrink, and one that falls
as 1/k), extrapolated beyond S, and the smallest k whose half-width reaches a target is read off the measured
curve, else the fit. When the target is below sqrt(example_part), no number of seeds reaches it: more test
examples are needed.

>>> fit_half_width([3, 4, 6], [0.02, 0.0175, 0.0146])["seeds_for"](0.01)
16
"""

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from .resampling import METRICS, ExampleStats, bootstrap_samples, pair_index, percentile_interval, statistics


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


def fit_half_width(ks: Sequence[int], half_widths: Sequence[float]) -> dict:
    """Least-squares fit of half_width^2 = example_part + seed_part / k (both >= 0).

    Returns {"example_part", "seed_part", "predict": k -> half-width, "seeds_for": target -> smallest k or None}.
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

    def predict(n: float) -> float:
        return math.sqrt(example_part + seed_part / n)

    def seeds_for(target: float) -> int | None:
        if target**2 <= example_part:
            return None
        return max(2, math.ceil(seed_part / (target**2 - example_part) - 1e-9))

    return {"example_part": float(example_part), "seed_part": float(seed_part), "predict": predict,
            "seeds_for": seeds_for}  # fmt: skip


def seed_curve(
    stats: ExampleStats,
    zeta: np.ndarray | None,
    *,
    n_bootstrap: int,
    confidence_level: float,
    rng: np.random.Generator,
    resample: str = "both",
    n_subsets: int = 10,
    zeta_of: Callable[[np.ndarray], np.ndarray] | None = None,
    targets: dict[str, float],
    extrapolate_to: int | None = None,
) -> dict:
    """The spread and half-width tables for k = 2..S and the seeds each target needs (see the module doc).

    zeta: (S,) zeta of every seed on all examples (None without references); zeta_of: as in `bootstrap_samples`
    for a zeta that is not a mean over examples.
    """
    n_seeds = stats.n_seeds
    metrics = [m for m in METRICS if stats.has_references or m == "con"]
    rows, fits, needed = [], {}, {}
    for k in range(2, n_seeds + 1):
        subsets = seed_subsets(n_seeds, k, n_subsets, rng)
        points = {m: [] for m in metrics}
        widths = {m: [] for m in metrics}
        for subset in subsets:
            sub = subset_stats(stats, subset)
            sub_zeta = None if zeta is None or stats.hits is not None else np.asarray(zeta)[list(subset)][None, :]
            point = statistics(sub, None, None, sub_zeta)
            for m in metrics:
                points[m].append(float(point[m][0]))
            if k >= 3:
                sub_zeta_of = None if zeta_of is None else (lambda counts, s=list(subset): zeta_of(counts)[:, s])
                samples = bootstrap_samples(sub, n_bootstrap, rng, resample, sub_zeta_of)
                for m in metrics:
                    low, high = percentile_interval(samples[m], confidence_level)
                    widths[m].append((high - low) / 2)
        row = {"k": k, "n_subsets": len(subsets)}
        for m in metrics:
            row[f"{m}_mean"] = float(np.mean(points[m]))
            row[f"{m}_sd"] = float(np.std(points[m]))
            row[f"{m}_min"], row[f"{m}_max"] = float(np.min(points[m])), float(np.max(points[m]))
            row[f"{m}_half_width"] = float(np.mean(widths[m])) if widths[m] else None
        rows.append(row)
    measured = [row for row in rows if row["k"] >= 3]
    extrapolate_to = extrapolate_to or max(4 * n_seeds, 20)
    extrapolated = []
    for m in metrics:
        fit = fit_half_width([r["k"] for r in measured], [r[f"{m}_half_width"] for r in measured])
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
