"""Reproduce the paper's grid: RoBERTa-large (full) and Llama-3.2-3B (LoRA) on the 12 GLUE/SuperGLUE tasks with
seeds 42, 52, ..., 132, then Table 1 and Figures 2-3. Needs the model weights (Hub or local) and a GPU.

Example::

    python scripts/reproduce_paper.py --glue_dir data/glue --superglue_dir data/superglue --output_root paper
    python scripts/reproduce_paper.py --dry_run                          # print the 24 commands only
    python scripts/reproduce_paper.py --presets roberta-large --tasks rte cola -- --seeds 42 52 --max_steps 10
    python scripts/reproduce_paper.py --backend parallel --seeds_per_gpu 2   # 2 seeds at once on every GPU

Arguments after ``--`` go to every ``seed-consistency run`` (they override the presets). Rerun the same command
to continue an interrupted grid.
"""

import argparse
import sys

from trainer_ext.backends import BACKENDS
from trainer_ext.experiment.paper import PAPER_PRESETS, paper_commands, reproduce
from trainer_ext.experiment.tasks import PAPER_TASKS

SCALE_FLAGS = ("backend", "n_workers", "seeds_per_gpu")


def main(argv: list[str]) -> int:
    own, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PAPER_PRESETS), choices=PAPER_PRESETS)
    parser.add_argument("--tasks", nargs="+", default=list(PAPER_TASKS), help="default: all 12 paper tasks")
    parser.add_argument("--output_root", default="paper_runs")
    parser.add_argument("--report_dir", default=None, help="default: <output_root>/report")
    parser.add_argument("--glue_dir", help="parent of the original GLUE task folders (CoLA, SST-2, ...)")
    parser.add_argument("--superglue_dir", help="parent of the original SuperGLUE task folders (RTE, CB, ...)")
    parser.add_argument("--backend", choices=BACKENDS, help="how each run trains its seeds (default: sequential)")
    parser.add_argument("--n_workers", type=int, help="parallel: worker processes (default: GPUs x seeds_per_gpu)")
    parser.add_argument("--seeds_per_gpu", type=int, help="parallel/ray: seeds trained at once on each GPU")
    parser.add_argument("--dry_run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(own)
    scale = [
        part
        for name in SCALE_FLAGS
        if getattr(args, name) is not None
        for part in (f"--{name}", str(getattr(args, name)))
    ]
    try:
        commands = paper_commands(
            args.presets, args.tasks, args.output_root, args.glue_dir, args.superglue_dir, [*scale, *extra]
        )
    except ValueError as error:
        parser.error(str(error))
    if args.dry_run:
        print("\n".join("seed-consistency " + " ".join(command) for command in commands))
        return 0
    return reproduce(commands, args.output_root, args.report_dir or f"{args.output_root}/report")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
