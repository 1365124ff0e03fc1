"""MultiSeedTrainer says when nothing random varies (before training) and when seeds are degenerate (after):
real tiny BERTs, trained, whose seeds really come out identical or collapse to one class."""

from __future__ import annotations

import warnings

import pytest
import torch
from peft import LoraConfig
from trainer_helpers import (
    read_jsonl_column,
    save_tiny_bert,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)
from transformers import BertForSequenceClassification, BertModel, TrainerCallback

from trainer_ext import MultiSeedTrainer
from trainer_ext.model_factory import SeedModelFactory
from trainer_ext.randomness import unvaried_randomness

NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
WORDS = vader_words(120)


class CountWarningsAtTrainBegin(TrainerCallback):
    def __init__(self, caught: list) -> None:
        self.caught, self.at_begin = caught, []

    def on_train_begin(self, args, state, control, **kwargs):
        self.at_begin.append(len(self.caught))


def test_warns_before_training_when_nothing_random_varies_and_the_seeds_come_out_identical(tmp_path):
    torch.manual_seed(1)  # the random tiny BERT (its head included) that every seed starts from
    model_dir = save_tiny_bert(tmp_path / "bert", WORDS, **NO_DROPOUT)
    train, evaluation = word_datasets(model_dir, WORDS, n_eval=40, held_out=True)  # unseen words: seeds could differ
    with warnings.catch_warnings(record=True) as caught, single_torch_thread():
        warnings.simplefilter("always")
        probe = CountWarningsAtTrainBegin(caught)
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir, args=tiny_args(tmp_path / "run", num_train_epochs=12),
            train_dataset=train, eval_dataset=evaluation, callbacks=[probe], seeds=[42, 52], vary="init",
            save_model=False,
        )  # fmt: skip
        output = trainer.train()
    ours = [i for i, w in enumerate(caught) if str(w.message).startswith("nothing random varies between the seeds")]
    assert len(ours) == 1 and ours[0] < probe.at_begin[0]  # said once, before the first seed started training
    assert f"vary='init' keeps the data order fixed, {model_dir} already holds every weight" in str(
        caught[ours[0]].message
    )
    a, b = (
        read_jsonl_column(tmp_path / "run" / f"seed-{seed}" / "predictions.jsonl", "prediction") for seed in (42, 52)
    )
    assert a == b  # measured: the two seeds really trained to the same predictions
    assert output.report["con"] == 1.0
    assert len(set(a)) == 2 and output.report["zeta"][0] < 1  # neither collapsed nor simply all correct
    assert output.warnings[0] == str(caught[ours[0]].message)
    assert output.warnings[-1] == (
        "all 2 seeds give identical predictions on all 40 examples: nothing random varied between them (same "
        "initialisation, dropout and data order?), so their CON of 1 says nothing about seed sensitivity."
    )


def test_no_warning_where_something_random_varies(tmp_path):
    held = save_tiny_bert(tmp_path / "held", WORDS, **NO_DROPOUT)
    args = tiny_args(tmp_path / "run")
    assert unvaried_randomness(SeedModelFactory(model_name_or_path=held), args, "init")  # the case above
    dropout = save_tiny_bert(tmp_path / "dropout", WORDS)  # BertConfig's default dropout 0.1
    body_only = tmp_path / "body"
    BertModel(BertForSequenceClassification.from_pretrained(held).config).save_pretrained(body_only)  # no head
    cases = {
        "data order follows the seed": (SeedModelFactory(model_name_or_path=held), "both"),
        "data_seed only": (SeedModelFactory(model_name_or_path=held), "data"),
        "dropout 0.1": (SeedModelFactory(model_name_or_path=dropout), "init"),
        "dropout set through model_kwargs": (
            SeedModelFactory(model_name_or_path=held, model_kwargs={"hidden_dropout_prob": 0.1}), "init"),
        "new head (3 labels)": (SeedModelFactory(model_name_or_path=held, model_kwargs={"num_labels": 3}), "init"),
        "head missing from the checkpoint": (SeedModelFactory(model_name_or_path=body_only), "init"),
        "LoRA adapter drawn per seed": (
            SeedModelFactory(model_name_or_path=held, peft_config=LoraConfig(target_modules=["query"])), "init"),
        "model object: head re-drawn per seed": (
            SeedModelFactory(model=BertForSequenceClassification.from_pretrained(held)), "init"),
    }  # fmt: skip
    for name, (factory, vary) in cases.items():
        assert unvaried_randomness(factory, args, vary) is None, name


def test_seeds_that_collapse_to_one_class_are_reported_in_the_summary(tmp_path):
    torch.manual_seed(0)
    model_dir = save_tiny_bert(tmp_path / "bert", WORDS)
    train, evaluation = word_datasets(model_dir, WORDS, n_eval=40)
    train = train.map(lambda row: {"label": 1})  # every training word positive: the model learns one class
    trainer = MultiSeedTrainer(
        model_name_or_path=model_dir, args=tiny_args(tmp_path / "run", max_steps=8, learning_rate=1e-2),
        train_dataset=train, eval_dataset=evaluation, seeds=[42, 52], consistency_kwargs={"zeta": "mcc"},
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"eval predictions: seeds 42 and 52 predict a single label \(1\)"):
        with single_torch_thread():
            output = trainer.train()
    for seed in (42, 52):
        assert set(read_jsonl_column(tmp_path / "run" / f"seed-{seed}" / "predictions.jsonl", "prediction")) == {1}
    assert output.warnings == output.report["warnings"]
    assert output.warnings[0].startswith("seeds 42 and 52 predict a single label (1) on every example")
    assert output.warnings[1].startswith("seeds 42 and 52 score mcc 0.000 and 0.000, no better than")
    saved = (tmp_path / "run" / "train_results.json").read_text()
    assert "predict a single label (1)" in saved
