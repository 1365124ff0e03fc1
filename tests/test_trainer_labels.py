"""From Trainer outputs to the labels stored in prediction files, on hand-worked examples and a regression run."""

from __future__ import annotations

import numpy as np
import pytest
from trainer_helpers import (
    read_jsonl_column,
    save_tiny_bert,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)

from trainer_ext import MultiSeedTrainer
from trainer_ext.labels import infer_task, to_labels


def test_classification_takes_the_argmax_and_keeps_label_ids():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, -1.0, 0.0], [0.0, 0.0, 5.0]])
    assert to_labels((logits, "hidden states"), np.array([1, 0, 0])) == ([1, 0, 2], [1, 0, 0])
    assert to_labels(np.array([2, 0]), None) == ([2, 0], None)  # already ids (preprocess_logits_for_metrics)


def test_regression_keeps_the_single_output_as_float():
    assert infer_task(np.array([[0.5], [1.5]])) == "regression"
    assert to_labels(np.array([[0.5], [1.5]]), np.array([0.0, 2.0])) == ([0.5, 1.5], [0.0, 2.0])


def test_token_classification_keeps_only_labelled_positions():
    logits = np.zeros((2, 4, 2))
    logits[0, 1, 1] = logits[1, 2, 1] = 1.0
    label_ids = np.array([[-100, 1, 0, -100], [-100, 0, 1, 1]])
    assert infer_task(logits) == "token_classification"
    assert to_labels(logits, label_ids) == ([[1, 0], [0, 1, 0]], [[1, 0], [0, 1, 1]])
    with pytest.raises(ValueError, match="need label_ids of shape"):
        to_labels(logits, None)
    with pytest.raises(ValueError, match="task='summarization'"):
        to_labels(logits, label_ids, task="summarization")
    with pytest.raises(ValueError, match="decoded with processing_class"):  # generation needs a tokenizer
        to_labels(logits, label_ids, task="generation")


def test_regression_model_saves_float_predictions_and_a_regression_report(tmp_path):
    words = vader_words(100)
    model_dir = save_tiny_bert(tmp_path / "bert", words, regression=True)
    train, evaluation = word_datasets(model_dir, words, n_eval=30)
    train, evaluation = (data.map(lambda row: {"label": 2.0 * row["label"] - 1.0}) for data in (train, evaluation))
    with single_torch_thread():
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path / "run", max_steps=3),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=[42, 52],
            consistency_kwargs={"tolerance": 0.5},
        )
        output = trainer.train()
    rows = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in (42, 52)}
    truth = read_jsonl_column(trainer.seed_dir(42) / "predictions.jsonl", "label")
    assert all(isinstance(value, float) for value in rows[42]) and truth == list(evaluation["label"])
    assert output.report["task"] == "regression" and output.report["zeta_name"] == "mae"
    mae = [np.mean(np.abs(np.array(rows[seed]) - truth)) for seed in (42, 52)]
    assert output.report["zeta"] == pytest.approx(mae)
    agree = np.mean(np.abs(np.array(rows[42]) - np.array(rows[52])) <= 0.5)
    assert output.report["con"] == pytest.approx(agree)
