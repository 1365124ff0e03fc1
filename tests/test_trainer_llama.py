"""The paper's second setting: a decoder-only LlamaForSequenceClassification with LoRA, through MultiSeedTrainer
and through the ``llama-3.2-3b-lora`` preset of ``seed-consistency run``, on a tiny Llama built from a config
with a Llama-like tokenizer (no pad token) made locally with the ``tokenizers`` library."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from datasets import Dataset
from peft import LoraConfig, PeftModel
from trainer_helpers import (
    brute_force_consistency,
    read_jsonl_column,
    safetensors_weights,
    save_tiny_llama,
    tiny_args,
    vader_words,
)
from transformers import AutoModelForSequenceClassification, AutoTokenizer, LlamaForSequenceClassification

from seed_consistency_metric.cli import main
from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52, 62]
ADAPTER = "adapter_model.safetensors"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def phrases():
    """Each vader word repeated 1-3 times ("awful awful"): rows of different lengths, so batches are padded."""
    words = vader_words(160)
    return words, [(" ".join([word] * (1 + index % 3)), label) for index, (word, label) in enumerate(words)]


@pytest.fixture(scope="module")
def llama(phrases, tmp_path_factory):
    words, _ = phrases
    return save_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama", words)


def count_loads(monkeypatch) -> list:
    """Record every AutoModelForSequenceClassification.from_pretrained call (the real one still runs)."""
    calls, load = [], AutoModelForSequenceClassification.from_pretrained
    monkeypatch.setattr(
        AutoModelForSequenceClassification,
        "from_pretrained",
        staticmethod(lambda *args, **kwargs: calls.append(args) or load(*args, **kwargs)),
    )
    return calls


def lora_config():
    return LoraConfig(
        task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], modules_to_save=["score"]
    )


@pytest.fixture(scope="module")
def lora_run(llama, phrases, tmp_path_factory):
    _, rows = phrases
    tokenizer = AutoTokenizer.from_pretrained(llama)
    assert tokenizer.pad_token is None  # like Llama-3.2's
    data = Dataset.from_dict({"text": [text for text, _ in rows], "label": [label for _, label in rows]})
    data = data.map(lambda batch: tokenizer(batch["text"]), batched=True, remove_columns=["text"])
    monkeypatch = pytest.MonkeyPatch()
    loads = count_loads(monkeypatch)
    with pytest.warns(UserWarning, match="no pad token"):
        trainer = MultiSeedTrainer(
            model_name_or_path=llama,
            model_kwargs={"num_labels": 2},
            peft_config=lora_config(),
            args=tiny_args(tmp_path_factory.mktemp("llama") / "run", num_train_epochs=3, learning_rate=2e-2),
            train_dataset=data,
            eval_dataset=data.select(range(60)),
            processing_class=tokenizer,
            seeds=SEEDS,
        )
    try:
        output = trainer.train()
    finally:
        monkeypatch.undo()
    return trainer, output, tokenizer, loads


def test_llama_lora_pads_with_eos_loads_base_once_and_draws_adapter_and_head_per_seed(lora_run, llama):
    trainer, output, tokenizer, loads = lora_run
    assert len(loads) == 1 and output.trained_seeds == SEEDS
    assert tokenizer.pad_token is None  # the user's tokenizer is left alone
    eos = tokenizer.eos_token_id
    for seed in SEEDS:
        saved = AutoTokenizer.from_pretrained(trainer.seed_dir(seed))
        assert (saved.pad_token, saved.pad_token_id) == ("</s>", eos)
        adapter_config = json.loads((trainer.seed_dir(seed) / "adapter_config.json").read_text())
        assert "score" in adapter_config["modules_to_save"]
    assert trainer.factory._shared_base().config.pad_token_id == eos
    adapters = {seed: safetensors_weights(trainer.seed_dir(seed), ADAPTER) for seed in SEEDS}
    head = next(key for key in adapters[42] if key.endswith("score.weight"))
    lora_a = next(key for key in adapters[42] if "lora_A" in key)
    for a, b in [(42, 52), (52, 62)]:
        assert not np.allclose(adapters[a][head], adapters[b][head])
        assert not np.allclose(adapters[a][lora_a], adapters[b][lora_a])
    assert not any("embed_tokens" in key for key in adapters[42])  # only adapters and the head are saved


def test_llama_padded_predictions_equal_unpadded_ones_and_the_report_is_brute_force(lora_run, llama):
    """Every stored label came from a padded batch; it must equal the label of that row alone (no padding),
    which holds only if the classifier pooled the last real token, i.e. pad_token_id is right."""
    trainer, output, tokenizer, _ = lora_run
    rows = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    references = read_jsonl_column(trainer.seed_dir(42) / "predictions.jsonl", "label")
    assert references == list(trainer.eval_dataset["label"])
    lengths = {len(ids) for ids in trainer.eval_dataset["input_ids"]}
    assert len(lengths) == 3  # the eval batches really were padded
    base = LlamaForSequenceClassification.from_pretrained(llama, num_labels=2).eval()
    model = PeftModel.from_pretrained(base, trainer.seed_dir(52)).eval()
    with torch.no_grad():
        alone = [
            int(model(input_ids=torch.tensor([row])).logits.argmax(-1)) for row in trainer.eval_dataset["input_ids"]
        ]
    assert alone == rows[52]
    expected = brute_force_consistency(rows, references)
    for key in ("con", "ccon", "var"):
        assert output.report[key] == pytest.approx(expected[key])
    assert output.report["zeta"] == pytest.approx(expected["accuracy"])
    prediction = trainer.predict(trainer.eval_dataset)  # adapters reloaded onto the shared base
    for seed in SEEDS:
        assert prediction.predictions[seed].argmax(-1).tolist() == rows[seed]


def test_llama_lora_seed_in_a_run_equals_that_seed_trained_alone(lora_run, llama, tmp_path):
    trainer, _, tokenizer, _ = lora_run
    with pytest.warns(UserWarning, match="no pad token"):
        alone = MultiSeedTrainer(
            model_name_or_path=llama,
            model_kwargs={"num_labels": 2},
            peft_config=lora_config(),
            args=tiny_args(tmp_path / "alone", num_train_epochs=3, learning_rate=2e-2),
            train_dataset=trainer.run.trainer_kwargs["train_dataset"],
            processing_class=tokenizer,
            seeds=[62],
        )
    alone.train()
    in_run, by_itself = (safetensors_weights(t.seed_dir(62), ADAPTER) for t in (trainer, alone))
    assert in_run.keys() == by_itself.keys()
    for key in in_run:
        np.testing.assert_array_equal(in_run[key], by_itself[key])


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_llama_preset_resolves_into_the_same_lora_path(llama, phrases, tmp_path, monkeypatch):
    """``seed-consistency run --preset llama-3.2-3b-lora`` with the tiny model: the preset's LoRA, padding and
    head settings reach MultiSeedTrainer, and the run's table is right."""
    from trainer_ext.experiment.run import build_trainer, load_data, parse_run_args

    _, rows = phrases
    train, dev = write_csv(tmp_path / "train.csv", rows), write_csv(tmp_path / "dev.csv", rows[:40])
    argv = ["run", "--preset", "llama-3.2-3b-lora", "--model_name_or_path", str(llama), "--train_file", str(train),
            "--validation_file", str(dev), "--output_dir", str(tmp_path / "run"), "--seeds", *map(str, SEEDS),
            "--max_steps", "6", "--save_strategy", "no", "--report_to", "none", "--disable_tqdm", "true",
            "--no_plots"]  # fmt: skip
    model_args, data_args, seed_args, training_args = parse_run_args(argv[1:])
    assert model_args.use_lora and (training_args.learning_rate, training_args.bf16) == (1e-4, False)
    with pytest.warns(UserWarning, match="no pad token"):
        built = build_trainer(model_args, data_args, seed_args, training_args, load_data(data_args))
    peft_config = built.factory.peft_config
    assert (peft_config.task_type, peft_config.r, peft_config.lora_alpha, peft_config.lora_dropout) == (
        "SEQ_CLS", 16, 32, 0.05,
    )  # fmt: skip
    assert set(peft_config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert built.factory.model_kwargs["num_labels"] == 2 and built.factory.pad_token_id == 2  # "</s>"
    assert built.run.trainer_kwargs["data_collator"].tokenizer.pad_token == "</s>"

    loads = count_loads(monkeypatch)
    with pytest.warns(UserWarning, match="no pad token"):
        assert main(argv) == 0
    assert len(loads) == 1  # one base for the three seeds
    run = tmp_path / "run"
    for seed in SEEDS:
        adapter = json.loads((run / f"seed-{seed}" / "adapter_config.json").read_text())
        assert (adapter["r"], adapter["lora_alpha"]) == (16, 32) and "score" in adapter["modules_to_save"]
        assert set(adapter["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
        assert any(key.endswith("score.weight") for key in safetensors_weights(run / f"seed-{seed}", ADAPTER))
    predictions = {seed: read_jsonl_column(run / f"seed-{seed}" / "predictions.jsonl", "prediction") for seed in SEEDS}
    expected = brute_force_consistency(predictions, [label for _, label in rows[:40]])
    assert 0 < expected["con"] < 1  # the seeds disagree on some rows: a real test of the pair counting
    report = json.loads((run / "consistency_report.json").read_text())
    for key in ("con", "ccon", "var"):
        assert report[key] == pytest.approx(expected[key])
    with (run / "table1.csv").open(encoding="utf-8") as handle:
        table = next(csv.DictReader(handle))
    assert table["Model"] == "Llama-3.2-3B (LoRA)" and float(table["CON (%)"]) == pytest.approx(100 * expected["con"])
