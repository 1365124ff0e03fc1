"""MultiSeedTrainer with full fine-tuning of a tiny random BERT saved to disk and loaded back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from trainer_helpers import (
    LogCollector,
    brute_force_consistency,
    read_jsonl_column,
    safetensors_weights,
    save_tiny_bert,
    tiny_args,
    vader_words,
    word_datasets,
)
from transformers import BertForSequenceClassification

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52, 62]


def accuracy(eval_prediction):
    predictions = np.asarray(eval_prediction.predictions).argmax(-1)
    return {"accuracy": float((predictions == eval_prediction.label_ids).mean())}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    words = vader_words(200)
    model_dir = save_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", words)
    train, evaluation = word_datasets(model_dir, words, n_eval=80)
    return model_dir, train, evaluation


@pytest.fixture(scope="module")
def trained(bert, tmp_path_factory):
    """Three seeds trained once for the tests below to inspect."""
    model_dir, train, evaluation = bert
    logs = LogCollector()
    trainer = MultiSeedTrainer(
        model_name_or_path=model_dir,
        args=tiny_args(tmp_path_factory.mktemp("runs") / "run", num_train_epochs=4),
        train_dataset=train,
        eval_dataset=evaluation,
        compute_metrics=accuracy,
        callbacks=[logs],
        seeds=SEEDS,
    )
    return trainer, trainer.train(), logs


def test_seeds_train_different_heads_and_predictions(trained):
    trainer, output, _ = trained
    assert output.trained_seeds == SEEDS and output.skipped_seeds == []
    heads = {seed: safetensors_weights(trainer.seed_dir(seed))["classifier.weight"] for seed in SEEDS}
    assert not np.allclose(heads[42], heads[52]) and not np.allclose(heads[52], heads[62])
    labels = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    assert labels[42] != labels[52] or labels[52] != labels[62]
    logits = trainer.predict(trainer.eval_dataset).predictions
    assert not np.allclose(logits[42], logits[52])


def test_saved_predictions_give_the_brute_force_consistency(trained):
    trainer, output, _ = trained
    rows = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    truth = list(trainer.eval_dataset["label"])
    assert read_jsonl_column(trainer.seed_dir(42) / "predictions.jsonl", "label") == truth
    assert read_jsonl_column(trainer.seed_dir(42) / "predictions.jsonl", "id") == list(trainer.eval_dataset["idx"])
    expected = brute_force_consistency(rows, truth)
    metrics = trainer.evaluate()
    report = json.loads((trainer.output_dir / "consistency_report.json").read_text())
    for key in ("con", "ccon", "var"):
        assert metrics[f"eval_{key}"] == pytest.approx(expected[key])
        assert report[key] == pytest.approx(expected[key])
        assert output.report[key] == pytest.approx(expected[key])
    assert report["split"] == "eval" and report["seeds"] == SEEDS
    assert metrics["eval_accuracy_mean"] == pytest.approx(np.mean(expected["accuracy"]))
    assert metrics["eval_accuracy_std"] == pytest.approx(np.std(expected["accuracy"]))
    per_seed = [json.loads((trainer.seed_dir(s) / "metrics.json").read_text())["eval_accuracy"] for s in SEEDS]
    assert per_seed == pytest.approx(expected["accuracy"])


def test_predict_reloads_each_seed_and_matches_training_time_predictions(trained):
    trainer, _, _ = trained
    prediction = trainer.predict(trainer.eval_dataset, metric_key_prefix="test")
    for seed in SEEDS:
        saved = read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction")
        assert prediction.predictions[seed].argmax(-1).tolist() == saved == prediction.predicted_labels[seed]
    np.testing.assert_array_equal(prediction.label_ids, trainer.eval_dataset["label"])
    assert prediction.metrics["test_con"] == pytest.approx(trainer.evaluate()["eval_con"])
    assert json.loads((trainer.output_dir / "test_results.json").read_text())["metrics"] == prediction.metrics


def test_summary_is_logged_through_callbacks_and_saved_as_json(trained):
    trainer, output, logs = trained
    summary = [log for log in logs.logs if "eval_con" in log]
    assert summary and summary[0]["eval_con"] == pytest.approx(output.metrics["eval_con"])
    assert sum("eval_accuracy" in log for log in logs.logs) >= len(SEEDS)  # each seed's Trainer.log
    saved = json.loads((trainer.output_dir / "train_results.json").read_text())
    assert saved["seeds"] == SEEDS and set(saved["train_outputs"]) == {str(seed) for seed in SEEDS}
    assert saved["train_outputs"]["42"]["global_step"] == output.train_outputs[42].global_step > 0
    assert saved["metrics"]["train_loss_mean"] == pytest.approx(
        np.mean([output.train_outputs[seed].training_loss for seed in SEEDS])
    )
    config = json.loads((trainer.output_dir / "run_config.json").read_text())
    assert config["seeds"] == SEEDS and config["vary"] == "both"


def test_rerun_skips_finished_seeds(trained):
    trainer, _, _ = trained
    files = [trainer.seed_dir(seed) / name for seed in SEEDS for name in ("model.safetensors", "predictions.jsonl")]
    mtimes = [path.stat().st_mtime_ns for path in files]
    again = trainer.train()
    assert again.trained_seeds == [] and again.skipped_seeds == SEEDS
    assert [path.stat().st_mtime_ns for path in files] == mtimes
    assert again.metrics["eval_con"] == pytest.approx(trainer.evaluate()["eval_con"])


def test_same_seed_twice_gives_identical_predictions(bert, tmp_path):
    model_dir, train, evaluation = bert
    logits = []
    for name in ("first", "second"):
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path / name),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=[52],
            check_reproducibility=name == "second",
        )
        output = trainer.train()
        logits.append(trainer.predict(evaluation).predictions[52])
    np.testing.assert_array_equal(logits[0], logits[1])
    assert output.reproducibility.identical and output.reproducibility.n_label_mismatches == 0
    assert output.reproducibility.n_examples == len(evaluation)
    assert json.loads((tmp_path / "second" / "reproducibility.json").read_text())["identical"] is True
    assert not (tmp_path / "second" / "reproducibility-check").exists()


@pytest.mark.parametrize("vary", ["init", "data"])
def test_vary_separates_init_and_data_order(bert, tmp_path, vary):
    model_dir, train, evaluation = bert
    heads, batches = {}, {}

    def record_loss(outputs, labels, num_items_in_batch=None):
        batches.setdefault(current["seed"], []).append(labels.tolist())
        return torch.nn.functional.cross_entropy(outputs.logits, labels)

    current = {}
    for seed in (42, 52):
        current["seed"] = seed
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path / vary, seed=7),
            train_dataset=train,
            compute_loss_func=record_loss,
            seeds=[seed],
            vary=vary,
        )
        trainer.train()
        args = trainer.run.seed_args(seed)
        assert (args.seed, args.data_seed) == ((seed, 7) if vary == "init" else (7, seed))
        heads[seed] = safetensors_weights(trainer.seed_dir(seed))["classifier.weight"]
    same_order = batches[42] == batches[52]
    assert same_order == (vary == "init")
    assert not np.allclose(heads[42], heads[52])  # data order or init differ -> different models


def test_model_object_is_copied_and_its_head_redrawn_per_seed(bert, tmp_path):
    model_dir, train, evaluation = bert
    model = BertForSequenceClassification.from_pretrained(model_dir)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    trainer = MultiSeedTrainer(
        model=model, args=tiny_args(tmp_path / "run", max_steps=2), train_dataset=train, seeds=[42, 52]
    )
    trainer.train()
    after = model.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)
    heads = [safetensors_weights(trainer.seed_dir(seed))["classifier.weight"] for seed in (42, 52)]
    assert not np.allclose(heads[0], heads[1])
    embeddings = [safetensors_weights(trainer.seed_dir(s))["bert.embeddings.word_embeddings.weight"] for s in (42, 52)]
    initial = before["bert.embeddings.word_embeddings.weight"].numpy()
    assert np.abs(embeddings[0] - initial).max() < 0.05 and np.abs(embeddings[1] - initial).max() < 0.05


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": []}, "seeds is empty"),
        ({"seeds": [42, 52, 42]}, r"\[42\] more than once"),
        ({"seeds": [42, "52"]}, "integers"),
        ({"vary": "order"}, "vary must be one of"),
        ({"backend": "slurm"}, "backend must be one of"),
        ({"model_init": lambda: None}, "exactly one of `model`, `model_init` or `model_name_or_path`"),
        ({"optimizers": (torch.optim.SGD([torch.zeros(1)], lr=0.1), None)}, "optimizer_cls_and_kwargs"),
    ],
)
def test_bad_arguments_are_named(bert, tmp_path, kwargs, message):
    model_dir, train, _ = bert
    settings = {"model_name_or_path": model_dir, "args": tiny_args(tmp_path), "train_dataset": train} | kwargs
    with pytest.raises(ValueError, match=message):
        MultiSeedTrainer(**settings)


def test_no_model_and_predict_before_train_are_named(bert, tmp_path):
    model_dir, train, evaluation = bert
    with pytest.raises(ValueError, match="got none"):
        MultiSeedTrainer(args=tiny_args(tmp_path), train_dataset=train)
    trainer = MultiSeedTrainer(model_name_or_path=model_dir, args=tiny_args(tmp_path), seeds=[42, 52])
    with pytest.raises(ValueError, match=r"seeds \[42, 52\] have not finished training"):
        trainer.predict(evaluation)


def test_rerun_with_other_seed_roles_in_the_same_output_dir_is_refused(trained):
    trainer, _, _ = trained
    other = MultiSeedTrainer(
        model_name_or_path=trainer.factory.model_name_or_path,
        args=trainer.args,
        train_dataset=trainer.run.trainer_kwargs["train_dataset"],
        seeds=SEEDS,
        vary="data",
    )
    with pytest.raises(ValueError, match=r"run_config.json was written by a run with vary='both'"):
        other.train()
