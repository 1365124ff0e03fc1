"""Add seeds until the intervals are narrow enough: ``MultiSeedTrainer(target_precision=...)``.

The seeds are trained in the order given. After the first 3 (the fewest a seed-level interval needs) and after
every further seed, the metric's bootstrap over seeds and examples (``seed_consistency(..., n_bootstrap=B,
random_state=R, resample="both")``) gives an interval for each targeted statistic; training stops at the first
k whose every half-width (half the interval's length) is at most its target, or when the seeds run out. The
decision at k depends only on the predictions of the first k seeds, all finished, and on a fixed bootstrap seed
R, so a resumed run (or one with another backend) stops at the same k.

Stopping on the data is optional stopping: the interval reported at the stop is optimistic (a run stops
early when its interval happens to come out narrow), so its coverage is below the nominal level; treat it as
a guide to how many seeds suffice, not as a confirmatory interval. By how much, in a simulation with known
truth: PRECISION_VALIDATION.md beside this file (scripts/validate_stopping.py).

Example::

    decision, trained = train_until_precise([42, 52, 62, 72], {"con": 0.005}, train=train_seeds, report_of=report)
    decision.n_seeds, decision.reason  # 4, 'after 4 seeds every half-width is within its target: con 0.0043 <= 0.005'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from .results import _JsonResult

TARGET_STATISTICS = ("con", "ccon", "var", "zeta_mean")
MIN_SEEDS = 3
DEFAULT_N_BOOTSTRAP = 1000
STOPPING_FILE = "precision_stopping.json"


def check_target_precision(target_precision: Mapping[str, float], seeds: Sequence[int]) -> dict[str, float]:
    """The targets as floats; ValueError for an unknown statistic, a target <= 0, or fewer than 3 seeds."""
    if not isinstance(target_precision, Mapping) or not target_precision:
        raise ValueError(
            f"target_precision must be a non-empty mapping such as {{'con': 0.005}}, got {target_precision!r}"
        )
    unknown = sorted(set(target_precision) - set(TARGET_STATISTICS))
    if unknown:
        raise ValueError(f"target_precision has unknown statistics {unknown}; choose from {list(TARGET_STATISTICS)}")
    targets = {}
    for key, value in target_precision.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"target_precision[{key!r}] must be a positive half-width, got {value!r}")
        targets[key] = float(value)
    if len(seeds) < MIN_SEEDS:
        raise ValueError(
            f"target_precision needs at least {MIN_SEEDS} seeds (a seed-level interval needs {MIN_SEEDS}), "
            f"got seeds={list(seeds)}"
        )
    return targets


@dataclasses.dataclass
class StoppingDecision(_JsonResult):
    """Why ``MultiSeedTrainer`` stopped adding seeds (saved as ``precision_stopping.json``)."""

    targets: dict[str, float]  # statistic -> largest accepted interval half-width
    seeds: list[int]  # the seeds used: the first n_seeds of the list given
    n_seeds: int
    target_met: bool  # False: the list of seeds ran out first
    reason: str
    half_widths: dict[str, float]  # at n_seeds
    history: list[dict]  # {"n_seeds": k, "half_widths": {...}} for every k looked at
    interval: dict  # n_bootstrap, random_state, resample, confidence_level, ci_method


def half_widths(report: Mapping, targets: Mapping[str, float]) -> dict[str, float]:
    """Half the length of ``report["ci"][key]`` for every targeted statistic."""
    missing = [key for key in targets if report["ci"].get(key) is None]
    if missing:
        raise ValueError(
            f"target_precision targets {missing}, for which the metric gives no interval here "
            "(ccon, var and zeta_mean need references)"
        )
    return {key: (report["ci"][key][1] - report["ci"][key][0]) / 2 for key in targets}


def train_until_precise(
    seeds: Sequence[int],
    targets: Mapping[str, float],
    *,
    train: Callable[[list[int]], list[int]],
    report_of: Callable[[list[int]], Mapping],
    width: int = 1,
    interval: Mapping | None = None,
) -> tuple[StoppingDecision, list[int]]:
    """Train ``seeds`` in order, ``width`` at a time, until every targeted half-width is within its target.

    ``train(chunk)`` trains the unfinished seeds of ``chunk`` and returns those it trained; ``report_of(first_k)``
    is the metric's report with ``ci`` on the first k seeds, computed with the bootstrap options ``interval``
    (recorded in the decision). Returns the decision and every seed trained here
    (with ``width`` > 1 the last chunk may hold seeds beyond the stop; they stay on disk, outside the report).
    """
    seeds = list(seeds)
    trained, n_trained, history = [], 0, []
    for k in range(MIN_SEEDS, len(seeds) + 1):
        if n_trained < k:
            chunk = seeds[n_trained : max(k, n_trained + width)]
            trained += train(chunk)
            n_trained += len(chunk)
        report = report_of(seeds[:k])
        widths = half_widths(report, targets)
        history.append({"n_seeds": k, "half_widths": widths})
        met = all(widths[key] <= target for key, target in targets.items())
        if met:
            break
    shown = ", ".join(
        f"{key} {widths[key]:.4g} {'<=' if widths[key] <= t else '>'} {t:g}" for key, t in targets.items()
    )
    reason = (
        f"after {k} seeds every half-width is within its target: {shown}"
        if met
        else f"the {len(seeds)} seeds ran out before every half-width was within its target: {shown}"
    )
    interval = {**(interval or {}), "ci_method": report.get("ci_method")}
    decision = StoppingDecision(dict(targets), seeds[:k], k, met, reason, widths, history, interval)
    return decision, trained
