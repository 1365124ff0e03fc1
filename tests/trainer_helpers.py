"""Tiny offline models and real labelled words (vader lexicon) for the MultiSeedTrainer tests.

Example::

    words = vader_words(200)                       # [("good", 1), ("awful", 0), ...]
    model_dir = save_tiny_bert(tmp_path / "bert", words)
    train, evaluation = word_datasets(model_dir, words, n_eval=50)
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import torch
import vaderSentiment
from datasets import Dataset
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertTokenizer,
    TrainerCallback,
    TrainingArguments,
)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LENGTH = 8


def vader_words(n: int, min_abs_rating: float = 1.0) -> list[tuple[str, int]]:
    """``n`` alphabetic vader lexicon words with |mean rating| >= min_abs_rating, label 1 if positive."""
    path = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, rating = line.split("\t")[:2]
        if word.isalpha() and word.islower() and abs(float(rating)) >= min_abs_rating:
            words.append((word, int(float(rating) > 0)))
    return words[:: max(1, len(words) // n)][:n]


def save_tiny_bert(
    directory: Path,
    words: list[tuple[str, int]],
    token_classification: bool = False,
    regression: bool = False,
    seed: int = 0,
    **config_overrides,
) -> Path:
    """Save a random 2-layer BERT (hidden size 32) and a word-level tokenizer of ``words`` in ``directory``.

    Two labels (negative, positive), or one output with ``regression``; ``config_overrides`` go to BertConfig
    (e.g. ``hidden_dropout_prob=0.0``). The weights are drawn from ``seed`` (the global torch generator is left
    as it was): an unlucky unseeded draw can train every fine-tuning seed to the same labels.
    """
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + sorted({word for word, _ in words}))}
    tokenizer = BertTokenizer(vocab=vocab)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        **({"num_labels": 1} if regression else {"id2label": {0: "negative", 1: "positive"}}),
        **config_overrides,
    )
    model_class = BertForTokenClassification if token_classification else BertForSequenceClassification
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = model_class(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def save_tiny_llama(directory: Path, words: list[tuple[str, int]]) -> Path:
    """Save a random 2-layer ``LlamaForSequenceClassification`` (hidden size 32, 2 labels) and a word-level
    ``tokenizers`` tokenizer of ``words`` in ``directory``. Like Llama's, the tokenizer adds ``<s>`` in front and
    has an eos token ``</s>`` but no pad token, and the config has no ``pad_token_id``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(["<unk>", "<s>", "</s>", *sorted({w for w, _ in words})])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", vocab["<s>"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", model_max_length=64
    )
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
        pad_token_id=None,
        id2label={0: "negative", 1: "positive"},
    )
    LlamaForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def word_datasets(
    model_dir: Path, words: list[tuple[str, int]], n_eval: int, held_out: bool = False
) -> tuple[Dataset, Dataset]:
    """Word -> polarity datasets (train, eval), tokenized to MAX_LENGTH with an ``idx`` column.

    The eval set is the first ``n_eval`` words: also trained on (a random-embedding model can only
    memorise words), or left out of training when ``held_out`` (for a pretrained model).
    """
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = Dataset.from_dict(
        {"text": [w for w, _ in words], "label": [y for _, y in words], "idx": list(range(len(words)))}
    )
    data = data.map(
        lambda batch: tokenizer(batch["text"], padding="max_length", truncation=True, max_length=MAX_LENGTH),
        batched=True,
        remove_columns=["text"],
    )
    train = data.select(range(n_eval, len(data))) if held_out else data
    return train, data.select(range(n_eval))


def token_datasets(model_dir: Path, words: list[tuple[str, int]], n_eval: int) -> tuple[Dataset, Dataset]:
    """Sentences of 4 words, each word labelled with its polarity (-100 on [CLS], [SEP] and padding)."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sentences = [words[start : start + 4] for start in range(0, len(words) - 3, 2)]

    def encode(sentence):
        encoding = tokenizer(
            [w for w, _ in sentence], is_split_into_words=True, padding="max_length", max_length=MAX_LENGTH
        )
        word_ids = encoding.word_ids()
        encoding["labels"] = [-100 if i is None else sentence[i][1] for i in word_ids]
        return dict(encoding)

    data = Dataset.from_list([encode(sentence) for sentence in sentences])
    return data, data.select(range(n_eval))


def tiny_args(output_dir: Path, **overrides) -> TrainingArguments:
    """Few fast CPU steps, no reporting, no progress bars."""
    settings = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        num_train_epochs=1,
        learning_rate=5e-3,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
    )
    return TrainingArguments(**(settings | overrides))


class RecordSeedCallback(TrainerCallback):
    """Append "<pid> <seed> <step>" to ``<path>`` on every training step (picklable, works in workers)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def on_step_end(self, args, state, control, **kwargs):
        with open(self.path, "a") as log:
            log.write(f"{os.getpid()} {args.seed} {state.global_step}\n")


class LogCollector(TrainerCallback):
    """Keep every ``logs`` dict passed to on_log."""

    def __init__(self) -> None:
        self.logs: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


def read_jsonl_column(path: Path, column: str) -> list:
    """One column of a JSONL prediction file, read with plain json (independently of predictions_io)."""
    return [json.loads(line)[column] for line in Path(path).read_text().splitlines() if line.strip()]


def brute_force_consistency(rows: dict, references: list) -> dict:
    """CON, CCON (mean over all seed pairs) and VAR (population std of accuracy), by explicit loops.

    Rows of token lists are flattened first (every labelled token is one unit).
    """

    def flat(row):
        return [label for item in row for label in item] if row and isinstance(row[0], list) else list(row)

    units = {seed: flat(row) for seed, row in rows.items()}
    truth = flat(references)
    seeds = list(units)
    con, ccon = [], []
    for i, a in enumerate(seeds):
        for b in seeds[i + 1 :]:
            pairs = list(zip(units[a], units[b], truth))
            con.append(sum(x == y for x, y, _ in pairs) / len(pairs))
            ccon.append(sum(x == r and y == r for x, y, r in pairs) / len(pairs))
    accuracy = [sum(x == r for x, r in zip(units[seed], truth)) / len(truth) for seed in seeds]
    mean = sum(accuracy) / len(accuracy)
    var = (sum((value - mean) ** 2 for value in accuracy) / len(accuracy)) ** 0.5
    return {"con": sum(con) / len(con), "ccon": sum(ccon) / len(ccon), "var": var, "accuracy": accuracy}


def safetensors_weights(directory: Path, filename: str = "model.safetensors") -> dict:
    """Every tensor of a saved model or adapter, as numpy arrays."""
    from safetensors.numpy import load_file

    return load_file(Path(directory) / filename)


@contextlib.contextmanager
def single_torch_thread():
    """Tiny models train much faster on one thread (no spinning OpenMP threads on a shared 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
