"""What stopping on the data does to the interval: simulate ``MultiSeedTrainer(target_precision=...)``'s rule.

Uses the generative model of ``scripts/validate_intervals.py`` (example difficulty, seed quality shift, population
CON, CCON, mean zeta and VAR known by quadrature). Every experiment draws 10 seeds on N examples and applies
``trainer_ext.precision.train_until_precise`` exactly as the trainer does (seeds in order, never before 3, the
metric's ``resample="both"`` interval with a fixed bootstrap seed) with a CON target; it records where the rule
stopped and whether the final intervals cover the population values. For contrast: the coverage of the
interval computed at a fixed number of seeds decided in advance (the same number the rule stopped at on
average, and all 10). Writes trainer_ext/PRECISION_VALIDATION.md.

Run:
    python scripts/validate_stopping.py                  # 400 experiments per N (several minutes on 2 cores)
    python scripts/validate_stopping.py --experiments 20 --output /tmp/v.md   # a smoke run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from validate_intervals import MU, SD, population, simulate

from seed_consistency_metric import seed_consistency
from trainer_ext.precision import train_until_precise

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("con", "ccon", "zeta_mean", "var")
MAX_SEEDS = 10


def _covers(report: dict, truth: dict) -> dict[str, bool]:
    return {m: report["ci"][m][0] <= truth[m] <= report["ci"][m][1] for m in METRICS}


def run(n_examples: int, n_experiments: int, n_bootstrap: int, seed: int = 0) -> dict:
    """Stop points and coverage of the stopped interval, of fixed-k intervals, for one N."""
    truth = population()
    rng = np.random.default_rng(seed)
    references = np.ones(n_examples, dtype=np.int64)
    experiments = [simulate(rng, MAX_SEEDS, rng.normal(MU, SD, n_examples)) for _ in range(n_experiments)]

    def report(predictions: np.ndarray, k: int) -> dict:
        return seed_consistency(predictions[:k], references, n_bootstrap=n_bootstrap, random_state=0)

    # the target: the median CON half-width at 6 seeds in the first 50 experiments, so stops spread over 3..10
    pilot = [report(p, 6)["ci"]["con"] for p in experiments[:50]]
    target = float(np.median([(high - low) / 2 for low, high in pilot]))
    stops, stopped, met = [], dict.fromkeys(METRICS, 0), 0
    for predictions in experiments:
        decision, _ = train_until_precise(
            list(range(MAX_SEEDS)), {"con": target}, train=lambda chunk: chunk,
            report_of=lambda first, p=predictions: report(p, len(first)),
        )  # fmt: skip
        stops.append(decision.n_seeds)
        met += decision.target_met
        for m, hit in _covers(report(predictions, decision.n_seeds), truth).items():
            stopped[m] += hit
    fixed_k = int(round(np.mean(stops)))
    fixed = {k: dict.fromkeys(METRICS, 0) for k in sorted({fixed_k, MAX_SEEDS})}
    for predictions in experiments:
        for k, counts in fixed.items():
            for m, hit in _covers(report(predictions, k), truth).items():
                counts[m] += hit
    share = {m: c / n_experiments for m, c in stopped.items()}
    return {
        "n_examples": n_examples,
        "target": target,
        "stops": np.bincount(stops, minlength=MAX_SEEDS + 1)[3:].tolist(),
        "mean_stop": float(np.mean(stops)),
        "met": met / n_experiments,
        "stopped": share,
        "fixed": {k: {m: c / n_experiments for m, c in counts.items()} for k, counts in fixed.items()},
    }


def markdown(results: list[dict], options: argparse.Namespace) -> str:
    truth = population()
    lines = [
        "# What stopping on the data does to the interval (`scripts/validate_stopping.py`)",
        "",
        "`MultiSeedTrainer(target_precision=...)` adds seeds until the interval is narrow enough. Simulated with "
        "the generative model of VALIDATION.md (binary task; population "
        + ", ".join(f"{m} = {truth[m]:.4f}" for m in METRICS)
        + f"): {options.experiments} experiments per N, a list of {MAX_SEEDS} seeds, target on the CON "
        f"half-width only (the median CON half-width at 6 seeds), {options.bootstrap} bootstrap resamples, "
        '`resample="both"`, nominal 95%. Coverage = share of experiments whose interval holds the population '
        "value.",
        "",
        "| N | CON target | stopped at k = 3, 4, ..., 10 (experiments) | mean k | target met | interval | CON | CCON "
        "| mean zeta | VAR |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        head = f"| {r['n_examples']} | {r['target']:.4f} | {', '.join(map(str, r['stops']))} | {r['mean_stop']:.1f} "
        head += f"| {100 * r['met']:.0f}% |"
        rows = [("after stopping", r["stopped"])]
        rows += [(f"fixed {k} seeds (decided in advance)", cover) for k, cover in r["fixed"].items()]
        for index, (label, cover) in enumerate(rows):
            prefix = head if index == 0 else "| | | | | |"
            lines.append(f"{prefix} {label} | " + " | ".join(f"{100 * cover[m]:.1f}%" for m in METRICS) + " |")
    for r in results:
        k = min(r["fixed"])
        drop = {m: r["fixed"][k][m] - r["stopped"][m] for m in METRICS}
        worst = max(drop, key=drop.get)
        lines += [
            "",
            f"N={r['n_examples']}: {100 * r['stops'][0] / sum(r['stops']):.0f}% of the runs stopped at the minimum of "
            f"3 seeds; after stopping, {worst} covered {100 * r['stopped'][worst]:.1f}% against "
            f"{100 * r['fixed'][k][worst]:.1f}% with {k} seeds fixed in advance ({100 * drop[worst]:+.1f} points "
            "lost, the largest of the four).",
        ]
    lines += [
        "",
        "Monte-Carlo standard error of a coverage near 95%: about "
        f"{100 * np.sqrt(0.95 * 0.05 / options.experiments):.1f} points.",
        "",
        "Read it as: the rule stops early exactly when the first seeds happen to agree (a narrow interval), so the "
        "interval reported at the stop covers the population value less often than one computed at a number of "
        "seeds fixed in advance; the rows side by side show by how much on this model. Use the stop as a guide "
        "to how many seeds suffice; for a confirmatory interval, fix the number of seeds in advance (or rerun "
        "with new seeds and report that interval). The intervals' own coverage at a fixed S is in VALIDATION.md.",
        "",
        f"Run: `python scripts/validate_stopping.py --experiments {options.experiments} "
        f"--bootstrap {options.bootstrap}`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=400)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--n_examples", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--output", type=Path, default=ROOT / "trainer_ext" / "PRECISION_VALIDATION.md")
    options = parser.parse_args(argv)
    results = [run(n, options.experiments, options.bootstrap) for n in options.n_examples]
    text = markdown(results, options)
    print(text)
    options.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
