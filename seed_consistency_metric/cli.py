"""The ``seed-consistency`` command line: ``run`` (train S seeds), ``report`` (paper tables/figures),
``compute`` (a report JSON from prediction files or a run directory), ``check`` (a reported table against the
accuracy identity).

Imports are lazy: ``report`` and ``compute`` work without torch, and ``--help`` is instant.

Example (shell)::

    seed-consistency run                                  # the embedded CPU demo, 5 seeds, a few minutes
    seed-consistency run --help                           # every model / data / TrainingArguments flag
    seed-consistency report runs/ -o paper_report         # Table 1 (md + csv), Figures 2 and 3 (png)
    seed-consistency compute seed-42.jsonl seed-52.jsonl --zeta mcc -o report.json
    seed-consistency compute wide.csv --references labels.csv --n_bootstrap 1000   # a column per seed
    seed-consistency check table1.md                      # flag reported CON/CCON/accuracy no predictions allow

Errors end the command with one line naming the problem (set SEED_CONSISTENCY_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

PROG = "seed-consistency"
DEBUG_ENV = "SEED_CONSISTENCY_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Measure how much random seeds change a model.")
    commands = parser.add_subparsers(dest="command", metavar="{run,report,compute,compare,seeds,check}", required=True)
    commands.add_parser(
        "run", add_help=False,
        help="fine-tune with several seeds (no arguments: the CPU demo; `run --help` lists every flag)",
    )  # fmt: skip

    report = commands.add_parser("report", help="Table 1 (markdown/CSV) and Figures 2-3 (PNG) from run dirs")
    report.add_argument("run_dirs", nargs="+", type=Path, help="finished run directories, or folders holding them")
    report.add_argument("-o", "--output_dir", type=Path, default=Path("seed-consistency-report"),
                        help="where table1.md, table1.csv and the PNGs go (default: %(default)s)")  # fmt: skip
    report.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="table printed")
    report.add_argument("--digits", type=int, default=2, help="decimals of the percentages in markdown")
    report.add_argument("--no-plots", dest="plots", action="store_false", help="write only the tables")
    report.add_argument("--compare_bootstrap", type=int, default=1000,
                        help="resamples for the per-task differences between two models (0: skip)")  # fmt: skip

    compute = commands.add_parser(
        "compute", help="the metric's report as JSON, from >= 2 prediction files or one run directory"
    )
    compute.add_argument(
        "inputs", nargs="+", type=Path,
        help="a run directory, one file per seed (CSV, TSV, JSONL, JSON, NPY, Parquet; the seed comes from "
        "'seed-<k>' in the file or folder name), one file with a column per seed, or a zip of these",
    )  # fmt: skip
    _add_input_arguments(compute)
    compute.add_argument("--pairwise", action="store_true", help="add the S x S CON/CCON matrices")
    compute.add_argument("--per_example", action="store_true", help="add per-example agreement")
    compute.add_argument("--kappa", action="store_true", help="add Fleiss' kappa")
    compute.add_argument("--n_bootstrap", type=int, default=0, help="bootstrap resamples for confidence intervals")
    compute.add_argument("-o", "--output", type=Path, help="write the JSON here instead of printing it")
    _add_check_parser(commands)
    _add_assess_parsers(commands)
    return parser


def _add_input_arguments(parser) -> None:
    """The options shared by compute, compare and seeds that say how to read the predictions and score them."""
    parser.add_argument("--references", type=Path, help="file with the reference labels (else a label column)")
    parser.add_argument("--id_column", help="column that identifies examples (default: detected)")
    parser.add_argument("--prediction_columns", nargs="+", help="columns holding predictions (default: detected)")
    parser.add_argument("--reference_column", help="column holding the references (default: detected)")
    parser.add_argument("--task", default="classification",
                        choices=("classification", "regression", "token_classification", "generation"))  # fmt: skip
    parser.add_argument("--zeta", default=None, help="default: a run dir's zeta, else the task's")
    parser.add_argument("--tolerance", type=float, default=0.0, help="regression: |a-b| <= tolerance agrees")
    parser.add_argument("--pi", default="exact_match", choices=("exact_match", "token_f1"), help="generation")
    parser.add_argument("--pos_label", default="1", help="positive label of zeta=f1")
    parser.add_argument("--confidence_level", type=float, default=0.95)
    parser.add_argument("--random_state", type=int, default=0)
    parser.add_argument("--resample", choices=("both", "seeds", "examples"), default=None,
                        help="what the bootstrap resamples: seeds and examples (default from 3 seeds on; with 2 "
                        "seeds: examples), seeds only, or examples only")  # fmt: skip


def _add_assess_parsers(commands) -> None:
    compare = commands.add_parser("compare", help="differences B - A of CON, CCON, VAR, zeta with intervals and "
                                  "p-values, for two models' predictions on the same examples")  # fmt: skip
    compare.add_argument("run_a", type=Path, help="run A: a run directory, a file with a column per seed, or a zip")
    compare.add_argument("run_b", type=Path, help="run B, on the same examples (matched by id when both have ids)")
    _add_input_arguments(compare)
    compare.add_argument("--paired_seeds", action="store_true", help="seed k of A and of B share their seed")
    compare.add_argument("--n_bootstrap", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    compare.add_argument("-o", "--output", type=Path, help="also write the full result as JSON here")

    seeds = commands.add_parser("seeds", help="how many seeds are enough: the metrics and interval half-widths "
                                "over subsets of k seeds, extrapolated (table + PNG)")  # fmt: skip
    seeds.add_argument("inputs", nargs="+", type=Path, help="a run directory or prediction files, as for compute")
    _add_input_arguments(seeds)
    seeds.add_argument("--target", nargs="+", default=["con=0.005"],
                       help="wanted interval half-widths, metric=value (default: %(default)s)")  # fmt: skip
    seeds.add_argument("--n_bootstrap", type=int, default=200, help="resamples per subset (default: %(default)s)")
    seeds.add_argument("--n_subsets", type=int, default=10, help="subsets of k seeds per k (default: %(default)s)")
    seeds.add_argument("-o", "--output_dir", type=Path, default=Path("seed-consistency-seeds"),
                       help="where seeds_needed.json and seeds_needed.png go (default: %(default)s)")  # fmt: skip
    seeds.add_argument("--no-plots", dest="plots", action="store_false", help="write only the JSON")


def _add_check_parser(commands) -> None:
    check = commands.add_parser(
        "check", help="flag reported zeta (accuracy) / CON / CCON values that no predictions could produce"
    )
    check.add_argument("table", type=Path, help="CSV, TSV or markdown table: task, zeta or accuracy, CON, CCON "
                       "[, n_classes] [, metric], in percent or fractions")  # fmt: skip
    check.add_argument("--tolerance", type=float, help="slack per value in the table's units (default: its rounding)")
    scale = check.add_mutually_exclusive_group()
    scale.add_argument("--percent", dest="percent", action="store_true", default=None, help="values are percent")
    scale.add_argument("--fractions", dest="percent", action="store_false", help="values are fractions")


def _seed_predictions(args: argparse.Namespace):
    """SeedPredictions of ``compute``'s inputs, and the zeta a run directory recorded (or None)."""
    from .paper_report.runs import RUN_CONFIG_FILE
    from .predictions_io import load_uploaded_predictions, read_json

    run_zeta = None
    if len(args.inputs) == 1 and (args.inputs[0] / RUN_CONFIG_FILE).is_file():
        run_zeta = read_json(args.inputs[0] / RUN_CONFIG_FILE).get("zeta")
    unlimited = {
        "max_file_bytes": math.inf,
        "max_total_bytes": math.inf,
        "max_seeds": math.inf,
        "max_examples": math.inf,
    }  # the Space's upload limits do not apply on the command line
    predictions = load_uploaded_predictions(
        args.inputs, args.references, id_column=args.id_column, prediction_columns=args.prediction_columns,
        reference_column=args.reference_column, **unlimited,
    )  # fmt: skip
    return predictions, run_zeta


def compute_command(args: argparse.Namespace) -> int:
    from .predictions_io import write_json_atomic

    predictions, run_zeta = _seed_predictions(args)
    pos_label = int(args.pos_label) if args.pos_label.lstrip("-").isdigit() else args.pos_label
    report = predictions.report(
        task=args.task, zeta=args.zeta or run_zeta, tolerance=args.tolerance, pi=args.pi,
        pos_label=pos_label, pairwise=args.pairwise, per_example=args.per_example, kappa=args.kappa,
        n_bootstrap=args.n_bootstrap, confidence_level=args.confidence_level, random_state=args.random_state,
        resample=args.resample,
    )  # fmt: skip
    for warning in report.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if args.output:
        write_json_atomic(args.output, report)
        ccon = "n/a" if report["ccon"] is None else f"{report['ccon']:.4f}"
        print(f"wrote {args.output}: CON {report['con']:.4f}, CCON {ccon} over {report['n_seeds']} seeds")
        if report.get("ensemble"):  # what averaging the seeds buys: zeta of the ensemble beside the mean seed's
            ensembles = ", ".join(f"{name.replace('_', ' ')} {value:.4f}" for name, value in report["ensemble"].items())
            print(f"{report['zeta_name']}: mean over seeds {report['zeta_mean']:.4f}; ensemble: {ensembles}")
    else:
        print(json.dumps(report, indent=2))
    return 0


def report_command(args: argparse.Namespace) -> int:
    from .paper_report import render_report
    from .paper_report.tables import to_csv

    rendered = render_report(args.run_dirs, args.output_dir, plots=args.plots, digits=args.digits,
                             compare_bootstrap=args.compare_bootstrap)  # fmt: skip
    print(rendered.markdown if args.format == "markdown" else to_csv(rendered.rows), end="\n")
    if rendered.differences_markdown:
        print("\nDifferences B - A (percentage points, 95% intervals, two-sided p-values):")
        print(rendered.differences_markdown)
    for note in rendered.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in rendered.files:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def check_command(args: argparse.Namespace) -> int:
    """Print one line per row; exit status 1 when a row breaks an identity."""
    from .reported_tables import check_table

    checked = check_table(args.table, args.tolerance, args.percent)
    for row in checked:
        print(row.describe())
    if any(row.binary is None for row in checked):
        print("note: rows without n_classes were not checked for the binary equality "
              "CON = 2*CCON + 1 - 2*accuracy", file=sys.stderr)  # fmt: skip
    failed = sum(not row.ok for row in checked)
    print(f"{failed} of {len(checked)} rows impossible" if failed else f"all {len(checked)} rows possible",
          file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


def run_command(argv: Sequence[str]) -> int:
    from trainer_ext.experiment.run import main as run_main

    return run_main(argv)


def follow_hub_offline(environ=os.environ) -> None:
    """HF_HUB_OFFLINE=1 also sets HF_EVALUATE_OFFLINE=1 (unless set): evaluate 0.4.x otherwise retries the Hub
    for ~1.5 s on every `evaluate.load` by name (a run's compute_metrics may call it)."""
    if environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE"):
        environ.setdefault("HF_EVALUATE_OFFLINE", "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (errors raise SystemExit with a one-line message)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else None
    follow_hub_offline()
    try:
        if command == "run":
            return run_command(argv[1:])
        args = build_parser().parse_args(argv)
        from .assess_cli import compare_command, seeds_command

        commands = {"report": report_command, "compute": compute_command, "check": check_command,
                    "compare": compare_command, "seeds": seeds_command}  # fmt: skip
        return commands[args.command](args)
    except (ValueError, OSError) as error:
        if os.environ.get(DEBUG_ENV):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        raise SystemExit(f"{PROG} {command}: error: {message}") from None


if __name__ == "__main__":
    sys.exit(main())
