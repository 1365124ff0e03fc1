"""COPA (multiple choice) with a decoder that has no multiple-choice head: ``seed-consistency run --preset
llama-3.2-3b-lora --task_name copa`` on a tiny Llama and a tiny COPA-format dataset. Each choice is scored by
``LlamaForSequenceClassification`` with one label (``trainer_ext.multiple_choice``), with LoRA on a base loaded once."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from peft import PeftModel
from trainer_helpers import (
    brute_force_consistency,
    read_jsonl_column,
    safetensors_weights,
    save_tiny_llama,
    single_torch_thread,
)
from transformers import AutoModelForMultipleChoice, AutoTokenizer, BertConfig, LlamaForSequenceClassification

from seed_consistency_metric.cli import main
from trainer_ext.experiment.run import build_trainer, load_data, parse_run_args
from trainer_ext.multiple_choice import ChoiceScoringModel, multiple_choice_class

SEEDS = [42, 52, 62]
ADAPTER = "adapter_model.safetensors"
WORDS = ["rain", "sun", "wind", "cold", "warm", "wet", "dry", "dog", "cat", "ran", "slept", "ate", "fell", "rose"]


def write_copa(folder, n_train=24, n_eval=16):
    """Random COPA rows of 2-5 word premises and 1-3 word choices (lengths differ, so batches are padded)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def text(low, high):
        return " ".join(rng.choice(WORDS, size=rng.integers(low, high + 1))).capitalize()

    for name, n in (("train.jsonl", n_train), ("val.jsonl", n_eval)):
        rows = [
            {"premise": text(2, 5), "choice1": text(1, 3), "choice2": text(1, 3),
             "question": ["cause", "effect"][i % 2], "label": int(rng.integers(0, 2)), "idx": i}
            for i in range(n)
        ]  # fmt: skip
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return [json.loads(line) for line in (folder / "val.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def copa_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("copa")
    # the word-level tokenizer lowercases nothing: give it both spellings, and the formatter's connectors
    vocab = [*WORDS, *(word.capitalize() for word in WORDS), "because", "so"]
    llama = save_tiny_llama(root / "llama", [(word, 0) for word in vocab])
    eval_rows = write_copa(root / "data" / "COPA")
    argv = ["run", "--preset", "llama-3.2-3b-lora", "--model_name_or_path", str(llama), "--task_name", "copa",
            "--data_dir", str(root / "data"), "--output_dir", str(root / "run"), "--seeds", *map(str, SEEDS),
            "--max_steps", "4", "--learning_rate", "1e-2", "--save_strategy", "no", "--report_to", "none",
            "--disable_tqdm", "true", "--no_plots"]  # fmt: skip
    loads, load = [], ChoiceScoringModel.from_pretrained
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(
        ChoiceScoringModel, "from_pretrained", staticmethod(lambda *a, **k: loads.append(a) or load(*a, **k))
    )
    try:
        with single_torch_thread(), pytest.warns(UserWarning, match="no pad token"):
            assert main(argv) == 0
    finally:
        monkeypatch.undo()
    return argv, llama, root / "run", eval_rows, loads


def test_llama_has_no_multiple_choice_head_so_each_choice_is_scored(copa_run, tmp_path):
    _, llama, *_ = copa_run
    assert multiple_choice_class(llama) is ChoiceScoringModel
    BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64).save_pretrained(
        tmp_path
    )
    assert multiple_choice_class(tmp_path) is AutoModelForMultipleChoice


def test_copa_llama_lora_predictions_and_report_are_brute_force(copa_run):
    _, _, run, eval_rows, loads = copa_run
    assert len(loads) == 1  # one base for the three seeds
    predictions = {seed: read_jsonl_column(run / f"seed-{seed}" / "predictions.jsonl", "prediction") for seed in SEEDS}
    references = [row["label"] for row in eval_rows]
    assert read_jsonl_column(run / "seed-42" / "predictions.jsonl", "label") == references
    assert all(set(labels) <= {0, 1} and len(labels) == len(eval_rows) for labels in predictions.values())
    expected = brute_force_consistency(predictions, references)
    assert 0 < expected["con"] < 1  # the seeds disagree on some questions
    report = json.loads((run / "consistency_report.json").read_text())
    for key in ("con", "ccon", "var"):
        assert report[key] == pytest.approx(expected[key])
    adapters = {seed: safetensors_weights(run / f"seed-{seed}", ADAPTER) for seed in SEEDS}
    head = next(key for key in adapters[42] if key.endswith("score.weight"))
    assert adapters[42][head].shape == (1, 32)  # one score per (premise, choice)
    assert not np.allclose(adapters[42][head], adapters[52][head])
    adapter_config = json.loads((run / "seed-42" / "adapter_config.json").read_text())
    assert adapter_config["task_type"] == "SEQ_CLS" and "score" in adapter_config["modules_to_save"]


def test_choice_scores_are_the_sequence_classifier_on_each_choice_alone(copa_run):
    """predict() reloads each adapter onto the shared base; its (question, choice) logits must equal the plain
    LlamaForSequenceClassification (1 label) + that adapter run on each unpadded (premise, choice) pair."""
    from trainer_ext.experiment.tasks import get_task

    argv, llama, run, eval_rows, _ = copa_run
    with single_torch_thread(), pytest.warns(UserWarning, match="no pad token"):
        args = parse_run_args(argv[1:])
        trainer = build_trainer(*args, load_data(args[1]))
        assert trainer.train().trained_seeds == []  # every seed was finished: nothing retrained
        prediction = trainer.predict(trainer.eval_dataset)
    tokenizer = AutoTokenizer.from_pretrained(llama)
    base = LlamaForSequenceClassification.from_pretrained(
        llama, num_labels=1, pad_token_id=tokenizer.eos_token_id, ignore_mismatched_sizes=True
    )
    model = PeftModel.from_pretrained(base, run / "seed-52").eval()
    with torch.no_grad():
        alone = [
            [float(model(**tokenizer(first, second, return_tensors="pt")).logits) for first, second in pairs]
            for pairs in map(get_task("copa").format, eval_rows)
        ]
    np.testing.assert_allclose(prediction.predictions[52], alone, rtol=1e-4, atol=1e-5)
    assert prediction.predictions[52].argmax(-1).tolist() == read_jsonl_column(
        run / "seed-52" / "predictions.jsonl", "prediction"
    )


def test_rerun_retrains_an_interrupted_seed_to_the_same_adapter(copa_run):
    argv, _, run, _, _ = copa_run
    before = safetensors_weights(run / "seed-52", ADAPTER)
    labels = read_jsonl_column(run / "seed-52" / "predictions.jsonl", "prediction")
    (run / "seed-52" / "DONE").unlink()  # seed 52 "was interrupted"
    (run / "seed-52" / "predictions.jsonl").unlink()
    with single_torch_thread(), pytest.warns(UserWarning, match="no pad token"):
        assert main(argv) == 0
    after = safetensors_weights(run / "seed-52", ADAPTER)
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])
    assert read_jsonl_column(run / "seed-52" / "predictions.jsonl", "prediction") == labels


def test_full_fine_tuning_saves_and_reloads_the_choice_scorer(copa_run, tmp_path):
    """Without LoRA each seed saves a whole ``LlamaForSequenceClassificationForChoices`` (no transformers class of
    that name): predict() must reload those weights, giving the predictions written when training ended."""
    argv, *_ = copa_run
    argv = [*argv[1:], "--use_lora", "false", "--output_dir", str(tmp_path / "full"), "--seeds", "1", "2"]
    with single_torch_thread(), pytest.warns(UserWarning, match="no pad token"):
        args = parse_run_args(argv)
        trainer = build_trainer(*args, load_data(args[1]))
        trainer.train()
        prediction = trainer.predict(trainer.eval_dataset)
    config = json.loads((trainer.seed_dir(1) / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassificationForChoices"] and len(config["id2label"]) == 1
    for seed in (1, 2):
        assert prediction.predictions[seed].argmax(-1).tolist() == read_jsonl_column(
            trainer.seed_dir(seed) / "predictions.jsonl", "prediction"
        )
