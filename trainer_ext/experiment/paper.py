"""The paper's full grid: every preset (model set-up) x every task, one resumable run each, then the report.

Run directories are ``<output_root>/<preset>/<task>``; rerunning the same command skips finished runs and
seeds and resumes interrupted ones, so the grid can be spread over several sessions.

Example:
    >>> commands = paper_commands(["roberta-large"], ["rte", "copa"], "paper", glue_dir="glue")
    >>> commands[0]
    ['run', '--preset', 'roberta-large', '--task_name', 'glue/rte', '--output_dir', 'paper/roberta-large/glue-rte', \
'--data_dir', 'glue']
    >>> commands[1][:5]
    ['run', '--preset', 'roberta-large', '--task_name', 'super_glue/copa']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .presets import PRESETS
from .tasks import PAPER_TASKS, get_task

PAPER_PRESETS = tuple(name for name in PRESETS if name != "demo")


def paper_commands(
    presets: Sequence[str] = PAPER_PRESETS,
    tasks: Sequence[str] = PAPER_TASKS,
    output_root: str | Path = "paper_runs",
    glue_dir: str | Path | None = None,
    superglue_dir: str | Path | None = None,
    extra: Sequence[str] = (),
) -> list[list[str]]:
    """The ``seed-consistency`` argument lists of the grid (tasks read from the Hub without local dirs)."""
    commands = []
    for preset in presets:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known presets: {', '.join(PAPER_PRESETS)}")
        for spec in map(get_task, tasks):
            output_dir = Path(output_root) / preset / spec.name.replace("/", "-")
            command = ["run", "--preset", preset, "--task_name", spec.name, "--output_dir", str(output_dir)]
            data_dir = glue_dir if spec.benchmark == "GLUE" else superglue_dir
            if data_dir is not None:
                command += ["--data_dir", str(data_dir)]
            commands.append(command + list(extra))
    return commands


def reproduce(commands: Sequence[Sequence[str]], output_root: str | Path, report_dir: str | Path) -> int:
    """Run every command of the grid in this process, then ``seed-consistency report`` over ``output_root``."""
    from seed_consistency_metric.cli import main

    for number, command in enumerate(commands, start=1):
        print(f"[{number}/{len(commands)}] seed-consistency {' '.join(command)}", flush=True)
        main(command)
    return main(["report", str(output_root), "--output_dir", str(report_dir)])
