"""The ``compare`` and ``seeds`` commands of the CLI: read runs with `predictions_io`, call
`compare_seed_consistency` / `seeds_needed`, print a table, write JSON (and the seeds PNG).

Example (shell)::

    seed-consistency compare runs/roberta-rte runs/llama-rte -o rte-compare.json
    seed-consistency seeds runs/roberta-rte --target con=0.005 var=0.005 -o rte-seeds
"""

from __future__ import annotations

import argparse
from pathlib import Path

METRIC_NAMES = {"con": "CON", "ccon": "CCON", "var": "VAR", "zeta_mean": "zeta (mean)"}


def _scoring(args: argparse.Namespace, run_zeta: str | None) -> dict:
    pos_label = int(args.pos_label) if args.pos_label.lstrip("-").isdigit() else args.pos_label
    return {"task": args.task, "zeta": args.zeta or run_zeta or None, "tolerance": args.tolerance, "pi": args.pi,
            "pos_label": pos_label}  # fmt: skip


def _load(args: argparse.Namespace, inputs: list[Path]):
    from .cli import _seed_predictions

    return _seed_predictions(argparse.Namespace(**{**vars(args), "inputs": inputs}))


def _value(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _interval(interval: list[float] | None) -> str:
    return "" if not interval else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def comparison_table(result: dict) -> str:
    """Markdown table of a `compare_seed_consistency` result: A, B, B - A with its interval, the p-value.

    >>> print(comparison_table({"a": {"con": 0.9, "ci": {"con": [0.8, 0.95]}}, "b": {"con": 0.8, "ci": {}},
    ...                         "difference": {"con": -0.1}, "ci": {"con": [-0.2, 0.0]}, "p_value": {"con": 0.04}}))
    | metric | A | B | B - A | interval of B - A | p-value |
    |---|---|---|---|---|---|
    | CON | 0.9000 [0.8000, 0.9500] | 0.8000 | -0.1000 | [-0.2000, 0.0000] | 0.040 |
    """
    lines = ["| metric | A | B | B - A | interval of B - A | p-value |", "|---|---|---|---|---|---|"]
    for key, name in METRIC_NAMES.items():
        if key not in result["p_value"]:
            continue
        cells = [
            f"{_value(result[side][key])} {_interval(result[side].get('ci', {}).get(key))}".strip()
            for side in ("a", "b")
        ]
        cells += [f"{result['difference'][key]:.4f}", _interval(result["ci"][key]), f"{result['p_value'][key]:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare_command(args: argparse.Namespace) -> int:
    from . import compare_seed_consistency
    from .predictions_io import align_runs, write_json_atomic

    (run_a, zeta_a), (run_b, zeta_b) = _load(args, [args.run_a]), _load(args, [args.run_b])
    if args.zeta is None and zeta_a and zeta_b and zeta_a != zeta_b:
        raise ValueError(f"the runs recorded different zetas ({zeta_a} and {zeta_b}); choose one with --zeta")
    run_a, run_b = align_runs(run_a, run_b, names=(str(args.run_a), str(args.run_b)))
    result = compare_seed_consistency(
        run_a.as_mapping(), run_b.as_mapping(), run_a.references, paired_seeds=args.paired_seeds,
        n_bootstrap=args.n_bootstrap, confidence_level=args.confidence_level, random_state=args.random_state,
        resample=args.resample or "both", **_scoring(args, zeta_a or zeta_b),
    )  # fmt: skip
    print(f"A = {args.run_a} ({result['a']['n_seeds']} seeds), B = {args.run_b} ({result['b']['n_seeds']} seeds), "
          f"{result['n_examples']} examples; zeta = {result['a']['zeta_name']}")  # fmt: skip
    print(comparison_table(result))
    print(result["ci_method"])
    if args.output:
        write_json_atomic(args.output, result)
        print(f"wrote {args.output}")
    return 0


def _targets(texts: list[str]) -> dict[str, float]:
    targets = {}
    for text in texts:
        metric, _, value = text.partition("=")
        try:
            targets[metric.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--target {text!r}: expected metric=half-width, e.g. con=0.005") from None
    return targets


def seeds_table(result: dict) -> str:
    """Markdown table of `seeds_needed`: per k, each metric's mean over the subsets, its spread and half-width."""
    metrics = [key for key in METRIC_NAMES if f"{key}_mean" in result["rows"][0]]
    header = ["k", "subsets"] + [f"{METRIC_NAMES[m]} mean (sd) ±half-width" for m in metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in result["rows"]:
        cells = [str(row["k"]), str(row["n_subsets"])]
        for m in metrics:
            width = row[f"{m}_half_width"]
            cells.append(f"{row[f'{m}_mean']:.4f} ({row[f'{m}_sd']:.4f})" + ("" if width is None else f" ±{width:.4f}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seeds_command(args: argparse.Namespace) -> int:
    from . import seeds_needed
    from .predictions_io import write_json_atomic

    predictions, run_zeta = _load(args, args.inputs)
    result = seeds_needed(
        predictions.as_mapping(), predictions.references, target=_targets(args.target), n_bootstrap=args.n_bootstrap,
        confidence_level=args.confidence_level, random_state=args.random_state, resample=args.resample or "both",
        n_subsets=args.n_subsets, **_scoring(args, run_zeta),
    )  # fmt: skip
    print(seeds_table(result))
    for metric, needed in result["seeds_needed"].items():
        k = "no number of seeds" if needed["k"] is None else f"{needed['k']} seeds"
        print(f"{METRIC_NAMES[metric]} half-width <= {needed['target']}: {k} ({needed['from']})")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    json_path = write_json_atomic(args.output_dir / "seeds_needed.json", result)
    print(f"wrote {json_path}")
    if args.plots:
        from .paper_report.figures import plot_seeds_needed

        print(f"wrote {plot_seeds_needed(result, args.output_dir / 'seeds_needed.png')}")
    return 0
