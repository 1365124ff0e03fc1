"""MultiSeedTrainer(trainer_class=...): a Trainer subclass with its own compute_loss and constructor argument,
the run_glue.py reproduction (seed k of MultiSeedTrainer == set_seed(k) + from_pretrained + Trainer(seed=k)),
the parallel backend, resume after a crash, and the errors for classes and arguments that cannot work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from trainer_helpers import (
    read_jsonl_column,
    safetensors_weights,
    save_tiny_bert,
    tiny_args,
    vader_words,
    word_datasets,
)
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertForSequenceClassification,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    Trainer,
    TrainerCallback,
)
from transformers.trainer_utils import set_seed

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52]
STEPS = 6


class PenaltyTrainer(Trainer):
    """Cross-entropy plus ``penalty`` x the squared norm of the classifier weights: a custom compute_loss with
    its own constructor argument (importable from this module, so worker processes can unpickle it)."""

    def __init__(self, *args, penalty: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.penalty = penalty

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        loss = loss + self.penalty * model.classifier.weight.pow(2).sum()
        return (loss, outputs) if return_outputs else loss


class CrashAtStep(TrainerCallback):
    """Raise after the checkpoint of ``step`` of ``seed`` is saved: a run that dies mid-seed."""

    def __init__(self, seed: int, step: int) -> None:
        self.seed, self.step = seed, step

    def on_save(self, args, state, control, **kwargs):
        if args.seed == self.seed and state.global_step == self.step:
            raise RuntimeError("simulated crash")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    """A tiny BERT *body* (no classifier), so from_pretrained draws the head from the RNG as for bert-base."""
    words = vader_words(120)
    root = tmp_path_factory.mktemp("tiny")
    full = save_tiny_bert(root / "full", words)
    body = root / "body"
    BertForSequenceClassification.from_pretrained(full).bert.save_pretrained(body)
    AutoTokenizer.from_pretrained(full).save_pretrained(body)
    train, evaluation = word_datasets(full, words, n_eval=40)
    return body, train, evaluation


def run_glue_style(bert, output_dir: Path, seed: int, trainer_class=Trainer, **kwargs) -> Trainer:
    """What run_glue.py does with --seed k: set_seed(k), from_pretrained, Trainer(args with seed=k), train."""
    model_dir, train, evaluation = bert
    set_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)
    trainer = trainer_class(
        model=model,
        args=tiny_args(output_dir, seed=seed, max_steps=STEPS),
        train_dataset=train,
        eval_dataset=evaluation,
        **kwargs,
    )
    trainer.train()
    trainer.save_model()
    return trainer


def multi_seed(bert, output_dir: Path, **kwargs) -> MultiSeedTrainer:
    model_dir, train, evaluation = bert
    args = kwargs.pop("args", None) or tiny_args(output_dir, max_steps=STEPS)
    return MultiSeedTrainer(
        model_name_or_path=model_dir,
        model_kwargs={"num_labels": 2},
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        seeds=SEEDS,
        **kwargs,
    )


@pytest.fixture(scope="module")
def plain(bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    trainer = multi_seed(bert, root / "run")
    trainer.train()
    return trainer


@pytest.fixture(scope="module")
def penalty_reference(bert, tmp_path_factory):
    """Seed 52 trained directly by PenaltyTrainer, run_glue.py style."""
    return run_glue_style(bert, tmp_path_factory.mktemp("direct") / "penalty", 52, PenaltyTrainer, penalty=1.0)


def test_seed_k_reproduces_a_run_glue_style_run_with_seed_k_exactly(bert, plain, tmp_path):
    _, _, evaluation = bert
    logits = plain.predict(evaluation).predictions
    assert not np.allclose(logits[42], logits[52])
    for seed in SEEDS:
        direct = run_glue_style(bert, tmp_path / f"direct-{seed}", seed)
        np.testing.assert_array_equal(logits[seed], direct.predict(evaluation).predictions, err_msg=f"seed {seed}")
        saved, theirs = safetensors_weights(plain.seed_dir(seed)), safetensors_weights(tmp_path / f"direct-{seed}")
        assert all(np.array_equal(saved[key], theirs[key]) for key in theirs)


@pytest.mark.slow
def test_custom_trainer_subclass_with_its_own_argument_in_worker_processes(bert, plain, penalty_reference, tmp_path):
    trainer = multi_seed(
        bert,
        tmp_path / "run",
        trainer_class=PenaltyTrainer,
        trainer_kwargs={"penalty": 1.0},
        backend="parallel",
        n_workers=1,  # one worker process trains both seeds
    )
    output = trainer.train()
    assert output.trained_seeds == SEEDS
    ours, direct = safetensors_weights(trainer.seed_dir(52)), safetensors_weights(penalty_reference.args.output_dir)
    for key in direct:  # another process may round differently: equal up to float noise
        np.testing.assert_allclose(ours[key], direct[key], rtol=0, atol=1e-5, err_msg=key)
    plain_head = safetensors_weights(plain.seed_dir(52))["classifier.weight"]
    assert np.sum(ours["classifier.weight"] ** 2) < 0.5 * np.sum(plain_head**2)  # the penalty was applied
    run_config = (trainer.output_dir / "run_config.json").read_text()
    assert "test_trainer_classes.PenaltyTrainer" in run_config
    with pytest.raises(ValueError, match="trainer_class"):  # resuming with another class would mix two runs
        multi_seed(bert, tmp_path / "run").train()


def test_a_crashed_custom_trainer_run_resumes_from_its_checkpoint(bert, penalty_reference, tmp_path):
    def make(callbacks):
        args = tiny_args(tmp_path / "run", max_steps=STEPS, save_strategy="steps", save_steps=2)
        return multi_seed(
            bert,
            tmp_path / "run",
            args=args,
            trainer_class=PenaltyTrainer,
            trainer_kwargs={"penalty": 1.0},
            callbacks=callbacks,
        )

    with pytest.raises(RuntimeError, match="simulated crash"):
        make([CrashAtStep(52, 4)]).train()
    assert (tmp_path / "run" / "seed-42" / "DONE").exists() and not (tmp_path / "run" / "seed-52" / "DONE").exists()
    output = make([]).train()
    assert output.trained_seeds == [52] and output.skipped_seeds == [42]
    assert "checkpoint-4" in (tmp_path / "run" / "seed-52" / "DONE").read_text()
    resumed, direct = (
        safetensors_weights(tmp_path / "run" / "seed-52"),
        safetensors_weights(penalty_reference.args.output_dir),
    )
    for key in direct:
        np.testing.assert_allclose(resumed[key], direct[key], rtol=0, atol=1e-6, err_msg=key)
    assert read_jsonl_column(tmp_path / "run" / "seed-52" / "predictions.jsonl", "prediction") == (
        penalty_reference.predict(bert[2]).predictions.argmax(-1).tolist()
    )


@pytest.mark.parametrize("trainer_class", [object, int, "Trainer", Trainer.train, None])
def test_a_trainer_class_that_is_not_a_trainer_is_a_clear_error(bert, tmp_path, trainer_class):
    with pytest.raises(ValueError, match="trainer_class must be transformers.Trainer or a subclass"):
        multi_seed(bert, tmp_path / "run", trainer_class=trainer_class)


def test_arguments_the_trainer_class_cannot_take_are_clear_errors(bert, tmp_path):
    with pytest.raises(ValueError, match=r"trainer_kwargs has \['peft_config', 'train_dataset'\]"):
        multi_seed(bert, tmp_path / "run", trainer_kwargs={"train_dataset": bert[1], "peft_config": None})
    with pytest.raises(
        ValueError, match=r"Seq2SeqTrainer does not take the argument\(s\) \['optimizer_cls_and_kwargs'\]"
    ):
        multi_seed(bert, tmp_path / "run", trainer_class=Seq2SeqTrainer, optimizer_cls_and_kwargs=(object, {}))
    generate = Seq2SeqTrainingArguments(str(tmp_path / "run"), predict_with_generate=True, report_to="none")
    with pytest.raises(ValueError, match="honoured by Seq2SeqTrainer"):
        multi_seed(bert, tmp_path / "run", args=generate)
    with pytest.raises(ValueError, match="generation needs a tokenizer"):
        multi_seed(bert, tmp_path / "run", args=generate, trainer_class=Seq2SeqTrainer)
    with pytest.raises(ValueError, match="task='generation' needs generated token ids"):
        multi_seed(bert, tmp_path / "run", consistency_kwargs={"task": "generation"})


@pytest.mark.parametrize("vary, expected", [("init", {42: (42, 7), 52: (52, 7)}), ("data", {42: (7, 42), 52: (7, 52)})])
def test_vary_reaches_the_trainer_class_of_every_seed(bert, tmp_path, vary, expected):
    args = tiny_args(tmp_path / "run", seed=7)
    trainer = multi_seed(
        bert, tmp_path / "run", args=args, trainer_class=PenaltyTrainer, trainer_kwargs={"penalty": 0.25}, vary=vary
    )
    for seed in SEEDS:
        seed_args = trainer.run.seed_args(seed)
        with trainer.factory.seed_model(seed_args.seed) as model:
            built = trainer.run.make_trainer(model, seed_args)
        assert type(built) is PenaltyTrainer and built.penalty == 0.25
        assert (built.args.seed, built.args.data_seed) == expected[seed]
        assert built.args.output_dir == str(trainer.seed_dir(seed))
