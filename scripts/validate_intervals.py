"""Validate the seed-level bootstrap intervals and the comparison test by simulation; writes VALIDATION.md.

Generative model (binary task): example x has a difficulty d_x ~ N(MU, SD) (the logit of being right), seed s a
quality shift q_s ~ N(0, SQ); seed s is right on x with probability sigmoid(d_x + q_s), independently. Two
seeds that are both wrong on a binary task give the same (wrong) label. The population values (infinitely
many seeds and test examples) follow by Gauss-Hermite quadrature over d and q, with m(x) = E_q sigmoid(d_x + q):

    CON = E_x[m^2 + (1 - m)^2],  CCON = E_x[m^2],  mean zeta = E_x[m],  VAR = sd_q(E_x sigmoid(d + q)).

Every experiment draws S seeds and N examples, computes the 95% interval, and checks whether it covers the
population value: the default (variance components over seeds and examples), the percentile interval of the
joint resamples, and `resample="examples"` (the old example bootstrap), on the same experiments.
Compare: A and B drawn from the same process on the same examples (the null: rejection rate at alpha 0.05),
B with easier examples (d + DELTA, known differences: power), and B whose seeds spread SPREAD times as much
(q ~ N(0, SPREAD x SQ): the power of VAR's test).

Finished configurations are kept in --cache (JSON, one file per method and configuration); a rerun continues.
Run (PYTHONPATH=. validates the working tree; without it, the installed copy of the package):
    PYTHONPATH=. python scripts/validate_intervals.py --only coverage &   # one half per core
    PYTHONPATH=. python scripts/validate_intervals.py --only compare; wait
    PYTHONPATH=. python scripts/validate_intervals.py                     # from the cache: writes VALIDATION.md
    PYTHONPATH=. python scripts/validate_intervals.py --quick             # a smoke run, nothing written
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from seed_consistency_metric import compare_seed_consistency, seed_consistency

ROOT = Path(__file__).resolve().parents[1]
MU, SD, SQ, DELTA, SPREAD = 1.5, 1.5, 0.2, 0.25, 2.0
METRICS = ("con", "ccon", "zeta_mean", "var")
METHODS = {  # keyword arguments of seed_consistency / compare_seed_consistency
    "components": {"resample": "both"},
    "percentile": {"resample": "both", "interval": "percentile"},
    "examples": {"resample": "examples"},
}
_LABELS = {
    "components": "seeds + examples, variance components (default)",
    "percentile": "seeds + examples, percentile",
    "examples": "examples only",
}
_ALTERNATIVES = {"null": (0.0, 1.0), "power": (DELTA, 1.0), "power_var": (0.0, SPREAD)}  # (shift, spread) of B
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(120)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def population(mu: float = MU, sd: float = SD, sq: float = SQ) -> dict[str, float]:
    """CON, CCON, mean zeta (accuracy) and VAR of the whole population of seeds and examples (quadrature)."""
    p = _sigmoid(mu + sd * _NODES[:, None] + sq * _NODES[None, :])  # (difficulty node, seed node)
    m = p @ _WEIGHTS
    per_seed = _WEIGHTS @ p
    zeta = float(_WEIGHTS @ m)
    return {
        "con": float(_WEIGHTS @ (m**2 + (1 - m) ** 2)),
        "ccon": float(_WEIGHTS @ m**2),
        "zeta_mean": zeta,
        "var": float(np.sqrt(_WEIGHTS @ (per_seed - zeta) ** 2)),
    }


def simulate(
    rng: np.random.Generator, n_seeds: int, difficulty: np.ndarray, shift: float = 0.0, spread: float = 1.0
) -> np.ndarray:
    """(S, N) binary predictions (references are all 1) of S fresh seeds on examples of the given difficulty
    (+ shift), the seeds' quality shifts drawn with standard deviation SQ x spread."""
    quality = rng.normal(0, SQ * spread, n_seeds)
    right = rng.random((n_seeds, len(difficulty))) < _sigmoid(difficulty[None, :] + shift + quality[:, None])
    return right.astype(np.int64)


def coverage(
    n_seeds: int, n_examples: int, n_experiments: int, n_bootstrap: int, seed: int = 0, methods=tuple(METHODS)
) -> dict:
    """{method: {metric: share of experiments whose interval covers the population value}} (same experiments for
    every method)."""
    truth = population()
    rng = np.random.default_rng(seed)
    hits = {method: dict.fromkeys(METRICS, 0) for method in methods}
    references = np.ones(n_examples, dtype=np.int64)
    for experiment in range(n_experiments):
        predictions = simulate(rng, n_seeds, rng.normal(MU, SD, n_examples))
        for method, counts in hits.items():
            report = seed_consistency(
                predictions, references, n_bootstrap=n_bootstrap, random_state=experiment, **METHODS[method]
            )
            for metric in METRICS:
                low, high = report["ci"][metric]
                counts[metric] += low <= truth[metric] <= high
    return {method: {m: c / n_experiments for m, c in counts.items()} for method, counts in hits.items()}


def comparison(
    n_seeds: int,
    n_examples: int,
    n_experiments: int,
    n_bootstrap: int,
    shift: float,
    seed=0,
    method="components",
    spread: float = 1.0,
) -> dict:
    """{metric: share of experiments with p < 0.05}, and the population differences B - A (B: examples easier by
    `shift`, seeds spread `spread` times as much)."""
    truth_a, truth_b = population(), population(mu=MU + shift, sq=SQ * spread)
    rng = np.random.default_rng(seed)
    rejections = dict.fromkeys(METRICS, 0)
    references = np.ones(n_examples, dtype=np.int64)
    for experiment in range(n_experiments):
        difficulty = rng.normal(MU, SD, n_examples)
        a, b = simulate(rng, n_seeds, difficulty), simulate(rng, n_seeds, difficulty, shift, spread)
        result = compare_seed_consistency(
            a, b, references, n_bootstrap=n_bootstrap, random_state=experiment, **METHODS[method]
        )
        for metric in METRICS:
            rejections[metric] += result["p_value"][metric] < 0.05
    return {
        "rejection": {m: r / n_experiments for m, r in rejections.items()},
        "difference": {m: truth_b[m] - truth_a[m] for m in METRICS},
    }


def _cached(cache: Path, name: str, compute) -> dict:
    path = cache / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    start = time.perf_counter()
    result = compute() | {"seconds": time.perf_counter() - start}
    cache.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").replace(path)
    print(f"{name}: {result}", flush=True)
    return result


def markdown(truth: dict, coverages: dict, comparisons: dict, args) -> str:
    lines = [
        "# Validation of the intervals and the comparison test (`scripts/validate_intervals.py`)",
        "",
        f"Generative model: binary task; example difficulty d ~ N({MU}, {SD}) (logit of being right), seed quality "
        f"shift q ~ N(0, {SQ}); seed s right on example x with probability sigmoid(d_x + q_s), independently. "
        "Population values by quadrature: "
        + ", ".join(f"{m} = {v:.4f}" for m, v in truth.items())
        + f". {args.experiments} experiments per row (the same experiments for every method), {args.bootstrap} "
        "bootstrap resamples per interval (modest B to keep the run feasible on 2 cores), nominal 95%.",
        "",
        'Methods: **variance components** (the default for `resample="both"`): estimate -+ t x sqrt(V) with '
        "V = (2 V_seeds + V_examples - V_both) / c + V_examples from resampling the seeds alone, the examples "
        "alone and both (the same draws; c, the seed draws' share of a mean's variance, is 1/2 at 3 seeds, 0.976 "
        "at 5 and 1 at 10), and Satterthwaite degrees of freedom from the seed part (see the metric card); "
        '**percentile** (`interval="percentile"`, the previous default): the percentile interval of the joint '
        'resamples; **examples only** (`resample="examples"`): the old example bootstrap, for contrast.',
        "",
        "## Coverage of the 95% intervals",
        "",
        "| S | N | method | CON | CCON | mean zeta | VAR |",
        "|---|---|---|---|---|---|---|",
    ]
    for (n_seeds, n_examples), result in coverages.items():
        for method, values in result.items():
            cells = " | ".join(f"{100 * values[m]:.1f}%" for m in METRICS)
            lines.append(f"| {n_seeds} | {n_examples} | {_LABELS[method]} | {cells} |")
    se = 100 * np.sqrt(0.95 * 0.05 / args.experiments)
    lines += [
        "",
        f"Monte-Carlo standard error of a coverage near 95%: {se:.1f} points. Targets: CON, CCON, mean zeta 93-97% "
        "at S=10 and 90-98% at S=5; VAR at least 90% at S=10.",
        "",
        "## Comparing two recipes (`compare_seed_consistency`, independent seeds, paired examples)",
        "",
        "Null: A and B drawn from the same process on the same examples. Power: B's examples are easier "
        f"(d + {DELTA}); population differences B - A: {_differences(comparisons, 'power')}. Power (VAR): B's "
        f"seeds spread {SPREAD:g} times as much (q ~ N(0, {SPREAD * SQ:g})); differences B - A: "
        f"{_differences(comparisons, 'power_var')}. The p-value of VAR comes from a permutation test of the seeds' "
        "zeta (`spread_permutation_p_value`), the others from the t-test of their interval.",
        "",
        "| S | N | method | rejection at alpha 0.05 | CON | CCON | mean zeta | VAR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (n_seeds, n_examples, method), result in comparisons.items():
        for kind, label in _KINDS.items():
            cells = " | ".join(f"{100 * result[kind]['rejection'][m]:.1f}%" for m in METRICS)
            lines.append(f"| {n_seeds} | {n_examples} | {_LABELS[method]} | {label} | {cells} |")
    return "\n".join(lines + ["", *_shortfalls(coverages, comparisons)]) + "\n"


_KINDS = {
    "null": "null (target 3-7%)",
    "power": "power (B's examples easier)",
    "power_var": "power (B's seeds spread more)",
}


def _differences(comparisons: dict, kind: str) -> str:
    """The population differences B - A of one alternative, as "con +0.0224, ..."."""
    return ", ".join(f"{m} {v:+.4f}" for m, v in next(iter(comparisons.values()))[kind]["difference"].items())


def _shortfalls(coverages: dict, comparisons: dict) -> list[str]:
    """The default method's rows outside their targets, listed; why the percentile interval falls short."""
    missed = []
    for (n_seeds, n_examples), result in coverages.items():
        if n_seeds < 5:  # no target at 3 seeds
            continue
        low, high = (0.93, 0.97) if n_seeds == 10 else (0.90, 0.98)
        for metric in METRICS:
            value = result["components"][metric]
            if (metric != "var" and not low <= value <= high) or (metric == "var" and n_seeds == 10 and value < 0.9):
                missed.append(f"{metric} {100 * value:.1f}% at S={n_seeds}, N={n_examples}")
    for (n_seeds, n_examples, method), result in comparisons.items():
        for metric, value in result["null"]["rejection"].items():
            if method == "components" and not 0.03 <= value <= 0.07:
                missed.append(f"null rejection of {metric} {100 * value:.1f}% at S={n_seeds}, N={n_examples}")
    verdict = (
        ["None of the default (variance components) rows is outside its target."]
        if not missed
        else ["Default (variance components) rows outside their targets: " + "; ".join(missed) + "."]
    )
    return [
        "## Shortfalls, and why",
        "",
        *verdict,
        "",
        "VAR has no coverage target at S=5, and no metric one at S=3 (the fewest seeds a seed-level interval "
        "takes, and where `MultiSeedTrainer(target_precision=...)` may stop); those rows are reported as they are. "
        "At 3 seeds the seed draws (2 of 3, always distinct: a resample needs a seed pair) give a mean over seeds "
        "half the variance it has (`seed_draw_factor`); the component variance undoes that. Before it did, the "
        "S=3, N=5000 interval covered mean zeta in 87% and VAR in 83% of 400 experiments of a side run.",
        "",
        "Why the percentile interval of the joint resamples (the previous default) misses:",
        "",
        "- **Too wide when each seed's own noise dominates (N=500; CON most of all).** Resampling seeds and "
        "examples together counts the seed x example interaction (a seed's own, example-level noise) three "
        "times instead of once: through the seed draws (each seed's mean over the fixed examples carries it), "
        "through the example draws, and through their product (McCullagh 2000, *Resampling and exchangeable "
        "arrays*; Owen 2007, *The pigeonhole bootstrap*). The variance components remove the two extra counts. "
        "With paired examples the example part cancels in B - A and the overcounted interaction dominates what "
        "is left, so the percentile comparison test rejects far less often than 5% under the null and loses "
        "power.",
        "- **Too narrow with few seeds when the seeds dominate (S=5, N=5000).** A percentile interval behaves "
        "like a z-interval: it ignores that the spread between seeds is itself estimated from 5 seeds. The "
        "component interval uses a t quantile with Satterthwaite degrees of freedom (S - 1 when the seed part "
        "is the whole variance), 42% wider than z at 4 degrees of freedom.",
        "",
        "The comparison test takes its degrees of freedom from the seed part proper (V_seeds less the interaction, "
        "see `component_differences`). Counting the interaction with the seed part, as the single-model intervals "
        "do (the safe side, where it costs little), rejected a true null for CON in only 1.8% at S=5 in an earlier "
        "run of this script.",
        "",
        "VAR's p-value comes from a permutation test of the seeds' zeta instead (`spread_permutation_p_value`: "
        "|sd_B - sd_A| against every split of the pooled seeds, or 1999 random ones). The t-test of a difference "
        "of two standard deviations from a few seeds each, which the variance components give, rejected a true "
        "null in only 1.1% at S=5 and 3.1% at S=10 in an earlier run of this script: resampled over S - 1 draws of "
        "a few seeds, a standard deviation varies more than the estimate does over fresh seeds. The permutation "
        "test centres each model's zetas on their own mean, so that a difference in mean is not taken for one in "
        "spread. Plainly permuted, centred residuals make the test liberal with few seeds (6.2% at S=5 and 6.3% at "
        "S=10 in side runs of 2000-3000 experiments): a side that mixes residuals of A and B spreads less than its n "
        "values suggest, since the residuals of one model sum to 0. So each side's sum of squares is divided by "
        "its expectation under the null instead of n - 1 (see `spread_permutation_p_value`). Without the centring "
        "the test would be exact under this null but conservative once the means differ (3.4% when B's examples "
        "are easier, in a "
        "side run). The interval of the VAR difference is still the variance-component t-interval, which is wide "
        "at 5 seeds: it can contain 0 while the permutation p-value is below 0.05. With `paired_seeds=True` the "
        "test swaps A and B within each seed: its smallest p-value is 2 / 2^S, so 5 paired seeds cannot reach "
        "0.05. The price of not assuming normal seeds: against twice the spread at 10 seeds (normal seed zetas, "
        "a side run) it rejects in about 30%, where the F-test, exact for normal seeds only, would in about 50%.",
        "",
        "Caveats of the component interval: it is symmetric and clipped to the metric's range (VAR at 0, CON and "
        "CCON to [0, 1]); V is floored at max(V_seeds, V_examples) when Monte-Carlo noise would make it smaller; "
        "it is validated on this generative model only (binary labels, normal seed and difficulty effects).",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "validate_intervals")
    parser.add_argument("--output", type=Path, default=ROOT / "VALIDATION.md")
    parser.add_argument("--only", choices=("coverage", "compare"), help="run one half (two processes, two cores)")
    parser.add_argument("--quick", action="store_true", help="20 experiments, no cache, nothing written")
    args = parser.parse_args()
    if args.quick:
        args.experiments, args.bootstrap = 20, 100
    cache = args.cache / f"e{args.experiments}-b{args.bootstrap}"
    coverages, comparisons = {}, {}
    for n_seeds in (3, 5, 10):
        for n_examples in (500, 5000):
            if args.only != "compare":
                result = {}
                for method in METHODS:
                    name = f"coverage-{method}-s{n_seeds}-n{n_examples}"
                    run = lambda s=n_seeds, n=n_examples, m=method: coverage(  # noqa: E731
                        s, n, args.experiments, args.bootstrap, methods=(m,)
                    )[m]
                    result[method] = run() if args.quick else _cached(cache, name, run)
                coverages[(n_seeds, n_examples)] = result
        if args.only != "coverage" and n_seeds > 3:  # 3 seeds: the fewest a seed-level interval takes
            for method in ("components", "percentile"):
                result = {}
                for kind, (shift, spread) in _ALTERNATIVES.items():
                    name = f"compare-{method}-{kind}-s{n_seeds}-n500"
                    run = lambda s=n_seeds, d=shift, w=spread, m=method: comparison(  # noqa: E731
                        s, 500, args.experiments, args.bootstrap, d, method=m, spread=w
                    )
                    result[kind] = run() if args.quick else _cached(cache, name, run)
                comparisons[(n_seeds, 500, method)] = result
    if args.only or args.quick:
        print(json.dumps({"coverage": {str(k): v for k, v in coverages.items()},
                          "compare": {str(k): v for k, v in comparisons.items()}}, indent=1))  # fmt: skip
        return
    args.output.write_text(markdown(population(), coverages, comparisons, args), encoding="utf-8")
    print("written to", args.output)


if __name__ == "__main__":
    main()
