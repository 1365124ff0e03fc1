"""A small multi-seed training script for the kill-and-resume test.

    python tests/trainer_resume_script.py <model_dir> <output_dir> <step_log>

Trains seeds 42 and 52 (6 steps each, a checkpoint every 2). With TRAINER_TEST_PAUSE_SEED=<k> it stops
after saving checkpoint-4 of seed k, writes <output_dir>/PAUSED and sleeps, waiting to be killed.
With TRAINER_TEST_SAVE_MODEL=0 the seeds keep no model (MultiSeedTrainer(save_model=False)).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
from trainer_helpers import RecordSeedCallback, tiny_args, vader_words, word_datasets
from transformers import TrainerCallback

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52]


class PauseAfterCheckpoint(TrainerCallback):
    def __init__(self, seed: int | None, marker: Path) -> None:
        self.seed, self.marker = seed, marker

    def on_save(self, args, state, control, **kwargs):
        if args.seed == self.seed and state.global_step == 4:
            self.marker.write_text(str(os.getpid()))
            time.sleep(600)


def main(model_dir: str, output_dir: str, step_log: str) -> None:
    torch.set_num_threads(1)
    words = vader_words(120)
    train, evaluation = word_datasets(Path(model_dir), words, n_eval=40)
    pause = os.environ.get("TRAINER_TEST_PAUSE_SEED")
    trainer = MultiSeedTrainer(
        model_name_or_path=model_dir,
        args=tiny_args(output_dir, max_steps=6, save_strategy="steps", save_steps=2),
        train_dataset=train,
        eval_dataset=evaluation,
        callbacks=[
            RecordSeedCallback(Path(step_log)),
            PauseAfterCheckpoint(int(pause) if pause else None, Path(output_dir) / "PAUSED"),
        ],
        seeds=SEEDS,
        save_model=os.environ.get("TRAINER_TEST_SAVE_MODEL", "1") != "0",
    )
    trainer.train()


if __name__ == "__main__":
    main(*sys.argv[1:])
