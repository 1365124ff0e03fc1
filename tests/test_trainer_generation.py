"""Generation with MultiSeedTrainer: a tiny T5 (Seq2SeqTrainer, predict_with_generate) and a tiny GPT-2
(CausalLMGenerationTrainer, and trl's SFTTrainer) whose outputs are decoded into strings, reported with the
metric's generation task, and mapped to labels by a ``predictions_to_labels`` hook.

Every model and word-level tokenizer is built here from a config, saved and loaded back. The stored strings
are checked against each seed's saved model generating one example at a time, decoded through the vocabulary.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from trainer_helpers import brute_force_consistency, read_jsonl_column, tiny_args, vader_words
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    T5Config,
    T5ForConditionalGeneration,
)

from trainer_ext import CausalLMGenerationTrainer, MultiSeedTrainer, decode_generations

SEEDS = [42, 52]
SPECIALS = ["<pad>", "</s>", "<unk>"]
POLARITY = {0: "negative", 1: "positive"}
N_EVAL = 30
STEPS = 80


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def words():
    return vader_words(80)


def save_word_tokenizer(directory: Path, vocabulary: list[str], append_eos: bool) -> PreTrainedTokenizerFast:
    """A whitespace word-level tokenizer (<pad>=0, </s>=1, <unk>=2), saved and loaded back."""
    vocab = {token: index for index, token in enumerate(SPECIALS + sorted(set(vocabulary)))}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    if append_eos:  # T5 style: every encoded text ends with </s>
        tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    wrapped.save_pretrained(directory)
    return AutoTokenizer.from_pretrained(directory)


def generate_one_by_one(model, prompts: list[list[int]], tokenizer, max_length: int, decoder_only: bool) -> list[str]:
    """Greedy generation of each prompt alone, new tokens mapped through the vocabulary (specials dropped)."""
    tokens = {index: token for token, index in tokenizer.get_vocab().items()}
    texts = []
    with torch.no_grad():
        for prompt in prompts:
            output = model.generate(torch.tensor([prompt]), max_length=max_length, do_sample=False)[0].tolist()
            new = output[len(prompt) :] if decoder_only else output
            texts.append(" ".join(tokens[i] for i in new if tokens[i] not in SPECIALS))
    return texts


def pair_mean(rows: dict, score) -> float:
    """Mean over seed pairs and examples of score(a, b)."""
    seeds = list(rows)
    pairs = [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1 :]]
    return float(np.mean([np.mean([score(x, y) for x, y in zip(rows[a], rows[b])]) for a, b in pairs]))


def squad_f1(a: str, b: str) -> float:
    a, b = a.split(), b.split()
    if not a or not b:
        return float(a == b)
    common = sum((Counter(a) & Counter(b)).values())
    return 2 * common / (len(a) + len(b)) if common else 0.0


# ---- T5: Seq2SeqTrainer with predict_with_generate ------------------------------------------------------
@pytest.fixture(scope="module")
def t5(words, tmp_path_factory):
    """Word -> "<polarity> <word>" with a 1+1-layer T5 of width 32."""
    directory = tmp_path_factory.mktemp("t5") / "model"
    tokenizer = save_word_tokenizer(directory, [w for w, _ in words] + list(POLARITY.values()), append_eos=True)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_ff=64,
        d_kv=16,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    T5ForConditionalGeneration(config).save_pretrained(directory)
    rows = [{"idx": i, "source": w, "target": f"{POLARITY[y]} {w}"} for i, (w, y) in enumerate(words)]
    data = Dataset.from_list(rows).map(
        lambda row: {
            "input_ids": tokenizer(row["source"])["input_ids"],
            "labels": tokenizer(row["target"])["input_ids"],
        }
    )
    return directory, tokenizer, data, data.select(range(N_EVAL))


def t5_trainer(t5, output_dir: Path, **kwargs) -> MultiSeedTrainer:
    directory, tokenizer, train, evaluation = t5
    base = tiny_args(output_dir, max_steps=STEPS, learning_rate=1e-2).to_dict()
    args = Seq2SeqTrainingArguments(
        **{key: base[key] for key in ("output_dir", "per_device_train_batch_size", "learning_rate", "max_steps")},
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        predict_with_generate=True,
        generation_max_length=4,
    )
    return MultiSeedTrainer(
        model_name_or_path=directory,
        model_class=AutoModelForSeq2SeqLM,
        trainer_class=Seq2SeqTrainer,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        data_collator=DataCollatorForSeq2Seq(tokenizer),
        seeds=SEEDS,
        **kwargs,
    )


@pytest.fixture(scope="module")
def t5_run(t5, tmp_path_factory):
    trainer = t5_trainer(t5, tmp_path_factory.mktemp("t5-run") / "run", check_reproducibility=True)
    return trainer, trainer.train()


def test_seq2seq_generations_are_stored_as_decoded_strings(t5, t5_run):
    _, tokenizer, _, evaluation = t5
    trainer, output = t5_run
    rows = {}
    for seed in SEEDS:
        path = trainer.seed_dir(seed) / "predictions.jsonl"
        rows[seed] = read_jsonl_column(path, "prediction")
        assert read_jsonl_column(path, "label") == list(evaluation["target"])
        assert read_jsonl_column(path, "id") == list(evaluation["idx"])
        model = T5ForConditionalGeneration.from_pretrained(trainer.seed_dir(seed))
        assert rows[seed] == generate_one_by_one(model, evaluation["input_ids"], tokenizer, 4, decoder_only=False)
    assert rows[42] != rows[52]
    assert any(text.split()[:1] == [target.split()[0]] for text, target in zip(rows[42], evaluation["target"]))
    report = json.loads((trainer.output_dir / "consistency_report.json").read_text())
    truth = brute_force_consistency(rows, list(evaluation["target"]))
    assert report["task"] == "generation" and report["zeta_name"] == "exact_match"
    assert report["con"] == pytest.approx(truth["con"]) and report["ccon"] == pytest.approx(truth["ccon"])
    assert report["var"] == pytest.approx(truth["var"]) and 0 < truth["ccon"] < truth["con"] < 1
    assert output.metrics["eval_con"] == pytest.approx(truth["con"])
    assert output.reproducibility.identical and output.reproducibility.n_examples == N_EVAL


def test_token_f1_generation_report_from_consistency_kwargs(t5, t5_run):
    trainer, _ = t5_run
    references = list(t5[3]["target"])
    rows = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    again = t5_trainer(t5, trainer.output_dir, consistency_kwargs={"pi": "token_f1", "zeta": "token_f1"})
    output = again.train()
    assert output.skipped_seeds == SEEDS
    zeta = [np.mean([squad_f1(x, r) for x, r in zip(rows[seed], references)]) for seed in SEEDS]
    both = {seed: [squad_f1(x, r) for x, r in zip(rows[seed], references)] for seed in SEEDS}
    assert output.report["con"] == pytest.approx(pair_mean(rows, squad_f1))
    assert output.report["ccon"] == pytest.approx(float(np.mean(np.multiply(both[42], both[52]))))
    assert output.report["zeta"] == pytest.approx(zeta) and output.report["var"] == pytest.approx(np.std(zeta))
    assert 0 < output.report["con"] < 1


def test_seq2seq_predict_on_new_data_decodes_the_same_way(t5, t5_run):
    _, tokenizer, train, _ = t5
    trainer, _ = t5_run
    test = train.select(range(N_EVAL, N_EVAL + 10))
    output = trainer.predict(test)
    for seed in SEEDS:
        assert output.predicted_labels[seed] == decode_generations(output.predictions[seed], tokenizer)
        assert read_jsonl_column(trainer.seed_dir(seed) / "predictions-test.jsonl", "label") == list(test["target"])
    assert output.report["task"] == "generation"


# ---- GPT-2: generation by a decoder-only model ------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2(words, tmp_path_factory):
    """ "<word> is" -> "<polarity>" with a 2-layer GPT-2 of width 32; eval rows hold only the prompt."""
    directory = tmp_path_factory.mktemp("gpt2") / "model"
    tokenizer = save_word_tokenizer(directory, [w for w, _ in words] + ["is", *POLARITY.values()], append_eos=False)
    tokenizer.padding_side = "left"
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=16, bos_token_id=1, eos_token_id=1,
        pad_token_id=0,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(directory)

    def encode(row, train):
        prompt = tokenizer(row["word"])["input_ids"]
        answer = tokenizer(POLARITY[row["polarity"]])["input_ids"] + [tokenizer.eos_token_id]
        if train:
            return {"input_ids": prompt + answer, "labels": [-100] * len(prompt) + answer}
        return {"input_ids": prompt, "labels": answer}

    rows = Dataset.from_list([{"idx": i, "word": w, "polarity": y} for i, (w, y) in enumerate(words)])
    train = rows.select(range(N_EVAL // 2, len(rows))).map(lambda row: encode(row, True))  # half the eval is new
    evaluation = rows.select(range(N_EVAL)).map(lambda row: encode(row, False))
    return directory, tokenizer, train, evaluation


def gpt2_trainer(gpt2, output_dir: Path, **kwargs) -> MultiSeedTrainer:
    directory, tokenizer, train, evaluation = gpt2
    args = Seq2SeqTrainingArguments(
        str(output_dir),
        per_device_train_batch_size=16,
        learning_rate=1e-2,
        max_steps=2 * STEPS,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        predict_with_generate=True,
        generation_max_length=5,
    )
    settings = dict(
        model_name_or_path=directory,
        model_class=AutoModelForCausalLM,
        trainer_class=CausalLMGenerationTrainer,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        data_collator=DataCollatorForSeq2Seq(tokenizer),
        seeds=SEEDS,
    )
    return MultiSeedTrainer(**(settings | kwargs))


@pytest.fixture(scope="module")
def gpt2_run(gpt2, tmp_path_factory):
    trainer = gpt2_trainer(gpt2, tmp_path_factory.mktemp("gpt2-run") / "run")
    return trainer, trainer.train()


def test_causal_lm_generations_hold_only_the_answer(gpt2, gpt2_run):
    _, tokenizer, _, evaluation = gpt2
    trainer, output = gpt2_run
    rows = {}
    for seed in SEEDS:
        path = trainer.seed_dir(seed) / "predictions.jsonl"
        rows[seed] = read_jsonl_column(path, "prediction")
        assert read_jsonl_column(path, "label") == [POLARITY[y] for y in evaluation["polarity"]]
        model = GPT2LMHeadModel.from_pretrained(trainer.seed_dir(seed))
        assert rows[seed] == generate_one_by_one(model, evaluation["input_ids"], tokenizer, 5, decoder_only=True)
        assert not any(
            word in text.split() for word, text in zip(evaluation["word"], rows[seed])
        )  # the prompt is cut off
    assert rows[42] != rows[52] and set(rows[42]) <= set(POLARITY.values())
    truth = brute_force_consistency(rows, [POLARITY[y] for y in evaluation["polarity"]])
    assert output.report["task"] == "generation"
    assert output.report["con"] == pytest.approx(truth["con"]) and output.report["ccon"] == pytest.approx(truth["ccon"])
    assert output.report["zeta"] == pytest.approx(truth["accuracy"])


def answer_label(tokenizer):
    """The README's predictions_to_labels example: generated "positive"/"negative" -> 1/0 (anything else -1)."""
    to_label = {"positive": 1, "negative": 0}

    def predictions_to_labels(eval_prediction):
        predictions, label_ids = eval_prediction
        labels = [to_label.get(text, -1) for text in decode_generations(predictions, tokenizer)]
        return labels, [to_label[text] for text in decode_generations(label_ids, tokenizer)]

    return predictions_to_labels


def test_predictions_to_labels_maps_generated_answers_to_classes(gpt2, gpt2_run):
    _, tokenizer, _, evaluation = gpt2
    trainer, _ = gpt2_run
    hooked = gpt2_trainer(gpt2, trainer.output_dir, predictions_to_labels=answer_label(tokenizer))
    output = hooked.predict(evaluation, metric_key_prefix="answers")
    strings = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in SEEDS}
    expected = {seed: [{"positive": 1, "negative": 0}.get(t, -1) for t in strings[seed]] for seed in SEEDS}
    assert output.predicted_labels == expected
    assert read_jsonl_column(trainer.seed_dir(42) / "predictions-answers.jsonl", "label") == list(
        evaluation["polarity"]
    )
    truth = brute_force_consistency(expected, list(evaluation["polarity"]))
    assert output.report["task"] == "classification"
    assert output.report["con"] == pytest.approx(truth["con"]) and output.report["var"] == pytest.approx(truth["var"])


def test_bad_predictions_to_labels_and_right_padded_prompts_are_clear_errors(gpt2, gpt2_run, tmp_path):
    directory, tokenizer, _, evaluation = gpt2
    trainer, _ = gpt2_run
    short = gpt2_trainer(gpt2, trainer.output_dir, predictions_to_labels=lambda pred: ([1, 0], None))
    with pytest.raises(ValueError, match=f"returned 2 labels for {N_EVAL} examples"):
        short.predict(evaluation)
    single = gpt2_trainer(gpt2, trainer.output_dir, predictions_to_labels=lambda pred: [0] * N_EVAL)
    with pytest.raises(ValueError, match="must return a pair"):
        single.predict(evaluation)
    right = AutoTokenizer.from_pretrained(directory)  # pads on the right (the default)
    ragged = evaluation.map(lambda row: {"input_ids": row["input_ids"] * (1 + row["idx"] % 2)})
    padded = gpt2_trainer(gpt2, trainer.output_dir, processing_class=right, data_collator=DataCollatorForSeq2Seq(right))
    with pytest.raises(ValueError, match="right-padded"):
        padded.predict(ragged)


# ---- trl's SFTTrainer: prompt-completion fine-tuning, answers read from the logits by a hook ----------------
def first_answer_token(tokenizer):
    """predictions_to_labels for SFTTrainer logits: the class whose token the model ranks first right after
    the prompt (-1 for any other token), and the class of the true first completion token."""
    classes = {tokenizer.convert_tokens_to_ids(token): label for label, token in POLARITY.items()}

    def predictions_to_labels(eval_prediction):
        logits, label_ids = eval_prediction
        logits = logits[0] if isinstance(logits, tuple) else logits
        rows, start = np.arange(len(label_ids)), (label_ids != -100).argmax(-1)
        guesses = logits[rows, start - 1].argmax(-1)
        return [classes.get(int(t), -1) for t in guesses], [classes[int(t)] for t in label_ids[rows, start]]

    return predictions_to_labels


@pytest.mark.slow
def test_sft_trainer_with_a_prompt_completion_dataset(gpt2, tmp_path):
    trl = pytest.importorskip("trl")
    directory, tokenizer, _, _ = gpt2
    rows = [{"idx": i, "prompt": w, "completion": f" {POLARITY[y]}"} for i, (w, y) in enumerate(vader_words(80))]
    data = Dataset.from_list(rows)
    train, evaluation = data.select(range(N_EVAL // 2, len(data))), data.select(range(N_EVAL))
    args = trl.SFTConfig(
        str(tmp_path / "run"),
        per_device_train_batch_size=16,
        learning_rate=1e-2,
        max_steps=2 * STEPS,
        max_length=8,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
    )
    trainer = MultiSeedTrainer(
        model_name_or_path=directory,
        model_class=AutoModelForCausalLM,
        trainer_class=trl.SFTTrainer,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        predictions_to_labels=first_answer_token(tokenizer),
        seeds=SEEDS,
    )
    output = trainer.train()
    truth = [int(completion == " positive") for completion in evaluation["completion"]]
    labels = {}
    for seed in SEEDS:
        path = trainer.seed_dir(seed) / "predictions.jsonl"
        labels[seed] = read_jsonl_column(path, "prediction")
        assert read_jsonl_column(path, "label") == truth and read_jsonl_column(path, "id") == list(range(N_EVAL))
        model = GPT2LMHeadModel.from_pretrained(trainer.seed_dir(seed))
        with torch.no_grad():
            guesses = [
                int(model(torch.tensor([tokenizer(w)["input_ids"]])).logits[0, -1].argmax())
                for w in evaluation["prompt"]
            ]
        ids = {tokenizer.convert_tokens_to_ids(token): label for label, token in POLARITY.items()}
        assert labels[seed] == [ids.get(t, -1) for t in guesses]
    reference = brute_force_consistency(labels, truth)
    assert labels[42] != labels[52] and 0 < reference["ccon"]
    assert output.report["con"] == pytest.approx(reference["con"]) and output.report["var"] == pytest.approx(
        reference["var"]
    )
    assert "trl.trainer.sft_trainer.SFTTrainer" in (trainer.output_dir / "run_config.json").read_text()
    again = trainer.predict(evaluation.select(range(10)))  # raw text: SFTTrainer prepares it as its eval_dataset
    assert again.predicted_labels == {seed: labels[seed][:10] for seed in SEEDS}
