"""MultiSeedTrainer with LoRA adapters (peft) and with a token-classification model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from peft import LoraConfig
from trainer_helpers import (
    brute_force_consistency,
    read_jsonl_column,
    safetensors_weights,
    save_tiny_bert,
    tiny_args,
    token_datasets,
    vader_words,
    word_datasets,
)
from transformers import AutoModelForTokenClassification, BertForSequenceClassification

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52, 62]
ADAPTER = "adapter_model.safetensors"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def words():
    return vader_words(200)


@pytest.fixture(scope="module")
def bert(words, tmp_path_factory):
    model_dir = save_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", words)
    return model_dir, *word_datasets(model_dir, words, n_eval=80)


def lora_config():
    return LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"])


@pytest.fixture(scope="module")
def lora_run(bert, tmp_path_factory):
    model_dir, train, evaluation = bert
    loads = []

    def model_init():
        loads.append(1)
        return BertForSequenceClassification.from_pretrained(model_dir)

    trainer = MultiSeedTrainer(
        model_init=model_init,
        peft_config=lora_config(),
        args=tiny_args(tmp_path_factory.mktemp("lora") / "run", num_train_epochs=4, learning_rate=2e-2),
        train_dataset=train,
        eval_dataset=evaluation,
        seeds=SEEDS,
    )
    return trainer, trainer.train(), loads


def test_lora_loads_base_once_and_draws_new_adapter_and_head_per_seed(lora_run):
    trainer, output, loads = lora_run
    assert len(loads) == 1 and output.trained_seeds == SEEDS
    adapters = {seed: safetensors_weights(trainer.seed_dir(seed), ADAPTER) for seed in SEEDS}
    assert not (trainer.seed_dir(42) / "model.safetensors").exists()
    head = next(key for key in adapters[42] if "classifier" in key and key.endswith("weight"))
    lora_a = next(key for key in adapters[42] if "lora_A" in key)
    for a, b in [(42, 52), (52, 62)]:
        assert not np.allclose(adapters[a][head], adapters[b][head])
        assert not np.allclose(adapters[a][lora_a], adapters[b][lora_a])
    assert not any("embeddings" in key for key in adapters[42])  # only the adapter and the head are saved


def test_lora_seed_in_a_run_equals_that_seed_trained_alone(bert, lora_run, tmp_path):
    """The shared base model carries nothing from one seed to the next."""
    model_dir, train, evaluation = bert
    trainer, _, _ = lora_run
    alone = MultiSeedTrainer(
        model_name_or_path=model_dir,
        peft_config=lora_config(),
        args=tiny_args(tmp_path / "alone", num_train_epochs=4, learning_rate=2e-2),
        train_dataset=train,
        eval_dataset=evaluation,
        seeds=[62],
    )
    alone.train()
    in_run = safetensors_weights(trainer.seed_dir(62), ADAPTER)
    by_itself = safetensors_weights(alone.seed_dir(62), ADAPTER)
    assert in_run.keys() == by_itself.keys()
    for key in in_run:
        np.testing.assert_array_equal(in_run[key], by_itself[key])


def test_lora_predict_reloads_adapters_and_feeds_the_metric(lora_run):
    trainer, output, _ = lora_run
    prediction = trainer.predict(trainer.eval_dataset)
    rows = {}
    for seed in SEEDS:
        rows[seed] = read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction")
        assert prediction.predictions[seed].argmax(-1).tolist() == rows[seed]
    expected = brute_force_consistency(rows, list(trainer.eval_dataset["label"]))
    for key in ("con", "ccon", "var"):
        assert output.report[key] == pytest.approx(expected[key])
        assert prediction.report[key] == pytest.approx(expected[key])
    assert not np.allclose(prediction.predictions[42], prediction.predictions[52])


def test_lora_never_mutates_the_users_model(bert, tmp_path):
    model_dir, train, _ = bert
    model = BertForSequenceClassification.from_pretrained(model_dir)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    MultiSeedTrainer(
        model=model,
        peft_config=lora_config(),
        args=tiny_args(tmp_path, max_steps=2),
        train_dataset=train,
        seeds=[42, 52],
    ).train()
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert not any("lora" in name for name, _ in model.named_modules())


def test_token_classification_saves_labels_per_labelled_token(words, tmp_path):
    model_dir = save_tiny_bert(tmp_path / "tokens", words, token_classification=True)
    train, evaluation = token_datasets(model_dir, words, n_eval=30)
    trainer = MultiSeedTrainer(
        model_name_or_path=model_dir,
        model_class=AutoModelForTokenClassification,
        args=tiny_args(tmp_path / "run", num_train_epochs=3),
        train_dataset=train,
        eval_dataset=evaluation,
        seeds=[42, 52],
    )
    output = trainer.train()
    assert output.report["task"] == "token_classification"
    prediction = trainer.predict(evaluation)
    labels = np.asarray(evaluation["labels"])
    truth = [row[row != -100].tolist() for row in labels]
    assert read_jsonl_column(trainer.seed_dir(42) / "predictions.jsonl", "label") == truth
    assert all(len(row) == 4 for row in truth)
    rows = {}
    for seed in (42, 52):
        rows[seed] = read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction")
        argmax = prediction.predictions[seed].argmax(-1)
        assert rows[seed] == [row[mask].tolist() for row, mask in zip(argmax, labels != -100)]
    expected = brute_force_consistency(rows, truth)
    for key in ("con", "ccon", "var"):
        assert output.report[key] == pytest.approx(expected[key])
