"""Seeds per GPU: wall time and GPU memory per seed with k = 1, 2, 4 worker processes sharing each GPU.

Fine-tunes all-MiniLM-L6-v2 with S seeds on the demo task (VADER word polarity, the ``demo`` preset's
settings) through ``MultiSeedTrainer(backend="parallel", seeds_per_gpu=k)`` for every k, on all visible GPUs,
and writes the table into BENCHMARKS.md (section ``bench_seeds_per_gpu``). Wall time includes starting the
workers (each imports torch and loads the model). GPU memory per seed is the peak that nvidia-smi reports
for each worker process (CUDA context included), polled every 0.2 s; the last column checks that every seed
predicts the same labels as with k = 1.

Run on a GPU machine::

    python scripts/bench_seeds_per_gpu.py                               # k = 1 2 4, 8 seeds
    python scripts/bench_seeds_per_gpu.py --ks 1 2 4 8 --seeds 8 --max_train_samples 4000 --epochs 3
    python scripts/bench_seeds_per_gpu.py --cpu_smoke --seeds 2 --ks 1 2 --max_train_samples 200 --output /tmp/b.md

``--cpu_smoke`` runs the same code with k CPU workers instead (no memory figures), to check the script.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks_md import DEFAULT_PATH, machine_line, update_section

SEEDS = [42, 52, 62, 72, 82, 92, 102, 112, 122, 132]


class GpuMemoryPoller:
    """Peak nvidia-smi memory (MiB) of every compute process, and of all GPUs together, while active."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.per_process, self.total = interval, {}, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    @staticmethod
    def _query(*fields: str) -> list[list[str]]:
        flag = "--query-compute-apps" if fields[0] == "pid" else "--query-gpu"
        out = subprocess.run(
            ["nvidia-smi", f"{flag}={','.join(fields)}", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return [[part.strip() for part in line.split(",")] for line in out.splitlines() if line.strip()]

    def _poll(self) -> None:
        while not self._stop.is_set():
            for pid, used in self._query("pid", "used_memory"):
                self.per_process[pid] = max(self.per_process.get(pid, 0.0), float(used))
            self.total = max(self.total, sum(float(used) for (used,) in self._query("memory.used")))
            self._stop.wait(self.interval)

    def __enter__(self) -> GpuMemoryPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_once(k: int, options: argparse.Namespace, root: Path) -> dict:
    """Train the seeds with k workers per GPU (or k CPU workers); wall time, memory and labels."""
    from trainer_ext.experiment.run import build_trainer, load_data, parse_run_args

    seeds = SEEDS[: options.seeds]
    argv = ["--preset", "demo", "--output_dir", str(root / f"k{k}"), "--seeds", *map(str, seeds),
            "--max_train_samples", str(options.max_train_samples), "--num_train_epochs", str(options.epochs),
            "--disable_tqdm", "true", "--backend", "parallel",
            *(["--n_workers", str(k)] if options.cpu_smoke else ["--seeds_per_gpu", str(k)])]  # fmt: skip
    model_args, data_args, seed_args, training_args = parse_run_args(argv)
    trainer = build_trainer(model_args, data_args, seed_args, training_args, load_data(data_args))
    poller = None if options.cpu_smoke else GpuMemoryPoller()
    started = time.perf_counter()
    if poller is None:
        output = trainer.train()
    else:
        with poller:
            output = trainer.train()
    wall = time.perf_counter() - started
    labels = {seed: trainer.run.seed_dir(seed).joinpath("predictions.jsonl").read_text() for seed in seeds}
    return {
        "k": k,
        "workers": min(len(seeds), k if options.cpu_smoke else k * len(_gpus())),
        "wall": wall,
        "per_seed": wall / len(seeds),
        "memory_per_worker": max(poller.per_process.values()) if poller and poller.per_process else None,
        "memory_total": poller.total if poller else None,
        "labels": labels,
        "con": output.report["con"],
        "zeta_mean": output.report["zeta_mean"],
    }


def _gpus() -> list[str]:
    from trainer_ext.backends import _visible_gpus

    return _visible_gpus()


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def render(results: list[dict], options: argparse.Namespace) -> str:
    import torch

    base = results[0]
    device = "CPU smoke run (k CPU workers, no GPU)" if options.cpu_smoke else ", ".join(
        f"{torch.cuda.get_device_name(i)} ({torch.cuda.get_device_properties(i).total_memory / 2**30:.0f} GiB)"
        for i in range(torch.cuda.device_count())
    )  # fmt: skip
    lines = [
        "## Seeds per GPU (`scripts/bench_seeds_per_gpu.py`)",
        "",
        f"all-MiniLM-L6-v2, demo task (VADER word polarity): {options.max_train_samples} training words, "
        f"{options.epochs} epoch(s), batch 32, max length 16; {options.seeds} seeds through "
        f'`MultiSeedTrainer(backend="parallel", seeds_per_gpu=k)`. Device: {device}. {machine_line()}',
        "Wall time includes starting the workers; memory is nvidia-smi's peak per worker process (CUDA context "
        "included) and for the whole GPU(s).",
        "",
        "| seeds per GPU (k) | workers | wall (s) | wall per seed (s) | speed-up vs k=1 | peak GPU memory per seed "
        "(MiB) | peak GPU memory, all (MiB) | CON | seeds with the labels of k=1 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results:
        same = sum(row["labels"][seed] == base["labels"][seed] for seed in base["labels"])
        lines.append(
            f"| {row['k']} | {row['workers']} | {row['wall']:.1f} | {row['per_seed']:.2f} | "
            f"{base['wall'] / row['wall']:.2f}x | {_mib(row['memory_per_worker'])} | {_mib(row['memory_total'])} | "
            f"{row['con']:.4f} | {same}/{len(base['labels'])} |"
        )
    flags = f"--ks {' '.join(map(str, options.ks))} --seeds {options.seeds} --max_train_samples "
    flags += f"{options.max_train_samples} --epochs {options.epochs}" + (" --cpu_smoke" if options.cpu_smoke else "")
    lines += ["", f"Run: `python scripts/bench_seeds_per_gpu.py {flags}`."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4], help="seeds per GPU to compare")
    parser.add_argument("--seeds", type=int, default=8, help=f"number of seeds (at most {len(SEEDS)})")
    parser.add_argument("--max_train_samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cpu_smoke", action="store_true", help="k CPU workers instead of k per GPU")
    parser.add_argument("--output", default=str(DEFAULT_PATH), help="the BENCHMARKS.md to update")
    options = parser.parse_args(argv)
    if not 2 <= options.seeds <= len(SEEDS):
        parser.error(f"--seeds must be between 2 and {len(SEEDS)}")
    if not options.cpu_smoke and not _gpus():
        parser.error("no CUDA GPU is visible: run this on a GPU machine (or pass --cpu_smoke to check the script)")
    root = Path(tempfile.mkdtemp(prefix="bench-seeds-per-gpu-"))
    try:
        results = [run_once(k, options, root) for k in options.ks]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    markdown = render(results, options)
    print(markdown)
    update_section("bench_seeds_per_gpu", markdown, options.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
