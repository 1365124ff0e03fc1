"""End-to-end: `seed-consistency run` on original-format GLUE/SuperGLUE files and user files with a tiny BERT,
then `seed-consistency report`; every number in the table is checked against a brute-force computation from
the raw prediction files. Also: resume after a real SIGKILL, reruns with other settings refused, the real
../shared/data GLUE files when present, and the demo preset with the real all-MiniLM-L6-v2.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import matthews_corrcoef

from seed_consistency_metric.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED_GLUE = Path(os.environ.get("SEED_CONSISTENCY_GLUE_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
WORDS = "the a dog cat runs sleeps big small red blue house tree sees eats not very good bad man woman".split()
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TRAIN_FLAGS = ["--max_steps", "4", "--per_device_train_batch_size", "8", "--learning_rate", "1e-3",
               "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true", "--no_plots"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> str:
    """A random 2-layer BERT encoder (hidden 32, no task head, like a pretrained checkpoint) and its word-level
    tokenizer, saved and loaded like a Hub model."""
    from transformers import BertConfig, BertModel, BertTokenizer

    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = BertTokenizer(vocab={token: i for i, token in enumerate(SPECIAL + WORDS)}, model_max_length=64)
    config = BertConfig(vocab_size=len(SPECIAL + WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=64)  # fmt: skip
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def sentences(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 8))) for _ in range(n)]


def write_lines(path: Path, lines: list[str], bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")


def write_glue_task(root: Path, task: str, n_train: int, n_dev: int) -> Path:
    """Files in the original GLUE layouts: CoLA headerless, MRPC with a byte-order mark and stray quotes."""
    folder = root / {"cola": "CoLA", "mrpc": "MRPC", "rte": "RTE"}[task]
    for name, n, seed in (("train.tsv", n_train, 1), ("dev.tsv", n_dev, 2)):
        a, b = sentences(n, seed), sentences(n, seed + 10)
        labels = np.random.default_rng(seed).integers(0, 2, size=n)
        if task == "cola":
            write_lines(folder / name, [f"gj04\t{y}\t\t{s}" for s, y in zip(a, labels)])
        elif task == "mrpc":
            rows = [f'{y}\t{i}\t{i + 1}\t"{s}\t{t}' for i, (s, t, y) in enumerate(zip(a, b, labels))]
            write_lines(folder / name, ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", *rows], bom=True)
        else:
            names = ("entailment", "not_entailment")
            rows = [f"{i}\t{s}\t{t}\t{names[y]}" for i, (s, t, y) in enumerate(zip(a, b, labels))]
            write_lines(folder / name, ["index\tsentence1\tsentence2\tlabel", *rows])
    return folder


def run_cli(*args: str) -> int:
    return main(["run", *map(str, args)])


def brute_force(run_dir: Path, zeta: str) -> dict:
    """zeta per seed, its mean and population std, CON and CCON over all pairs, from the raw JSONL files."""
    seeds, preds, refs = [], [], None
    for folder in sorted(run_dir.glob("seed-*"), key=lambda p: int(p.name.split("-")[1])):
        rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
        seeds.append(int(folder.name.split("-")[1]))
        preds.append([row["prediction"] for row in rows])
        refs = [row["label"] for row in rows]
    if zeta == "mcc":
        scores = [matthews_corrcoef(refs, p) for p in preds]
    else:
        scores = [sum(a == r for a, r in zip(p, refs)) / len(refs) for p in preds]
    pairs = list(itertools.combinations(range(len(preds)), 2))
    con = sum(sum(x == y for x, y in zip(preds[i], preds[j])) / len(refs) for i, j in pairs) / len(pairs)
    ccon = sum(sum(x == y == r for x, y, r in zip(preds[i], preds[j], refs)) / len(refs) for i, j in pairs) / len(pairs)
    mean = sum(scores) / len(scores)
    var = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    return {"seeds": seeds, "zeta": scores, "zeta_mean": mean, "var": var, "con": con, "ccon": ccon}


def read_table(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as handle:
        return {row["Task"]: row for row in csv.DictReader(handle)}


def assert_row_matches(row: dict, expected: dict) -> None:
    for column, key in (("zeta (%)", "zeta_mean"), ("VAR (%)", "var"), ("CON (%)", "con"), ("CCON (%)", "ccon")):
        assert float(row[column]) == pytest.approx(100 * expected[key], abs=1e-9), column
    assert int(row["Seeds"]) == len(expected["seeds"])


def test_glue_files_and_user_csv_through_run_and_report(tmp_path, tiny_bert, capsys):
    glue = tmp_path / "glue"
    sizes = {"cola": 40, "mrpc": 24, "rte": 32}
    for task, n in sizes.items():
        write_glue_task(glue, task, n, 20)
        run_cli("--model_name_or_path", tiny_bert, "--task_name", task, "--data_dir", glue,
                "--output_dir", tmp_path / "runs" / task, "--seeds", 1, 2, 3, *TRAIN_FLAGS)  # fmt: skip
    user = tmp_path / "user"
    user.mkdir()
    for name, n, seed in (("train.csv", 48, 5), ("dev.csv", 20, 6)):
        labels = np.random.default_rng(seed).choice(["neg", "pos"], size=n)
        with (user / name).open("w", newline="") as handle:
            csv.writer(handle).writerows([("review", "stars"), *zip(sentences(n, seed), labels)])
    run_cli("--model_name_or_path", tiny_bert, "--train_file", user / "train.csv", "--validation_file",
            user / "dev.csv", "--text_column", "review", "--label_column", "stars", "--output_dir",
            tmp_path / "runs" / "mine", "--seeds", 7, 8, *TRAIN_FLAGS)  # fmt: skip
    printed = capsys.readouterr().out
    assert "| user |" in printed and "CCON (%)" in printed

    config = json.loads((tmp_path / "runs" / "cola" / "run_config.json").read_text())
    assert (config["task"], config["zeta"], config["train_size"], config["eval_size"]) == ("glue/cola", "mcc", 40, 20)
    for seed in (1, 2, 3):
        assert (tmp_path / "runs" / "rte" / f"seed-{seed}" / "DONE").is_file()

    assert main(["report", str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 0
    table = read_table(tmp_path / "report" / "table1.csv")
    assert set(table) == {"CoLA", "MRPC", "RTE", "user"}
    for task, zeta in (("cola", "mcc"), ("mrpc", "accuracy"), ("rte", "accuracy"), ("mine", "accuracy")):
        name = {"cola": "CoLA", "mrpc": "MRPC", "rte": "RTE", "mine": "user"}[task]
        assert_row_matches(table[name], brute_force(tmp_path / "runs" / task, zeta))
        assert table[name]["zeta"] == zeta
    for figure in ("figure3_zeta_heatmap.png", "figure2_size_correlation.png"):
        assert (tmp_path / "report" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from seed_consistency_metric.paper_report import render_report

    rendered = render_report([tmp_path / "runs"], tmp_path / "again", plots=False)
    runs = {"cola": 40, "mrpc": 24, "rte": 32, "mine": 48}
    expected = {task: brute_force(tmp_path / "runs" / task, "mcc" if task == "cola" else "accuracy") for task in runs}
    model = "tiny-bert0"
    for metric in ("var", "con", "ccon"):
        x = [runs[task] for task in runs]
        y = [expected[task][metric] for task in runs]
        if len(set(y)) > 1:
            assert rendered.correlations[model][metric] == pytest.approx(pearsonr(x, y)[0], abs=1e-9)


def write_copa(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name, n, seed in (("train.jsonl", 16, 1), ("val.jsonl", 12, 2)):
        rng = np.random.default_rng(seed)
        rows = [
            {"premise": p, "choice1": a, "choice2": b, "question": str(rng.choice(["cause", "effect"])),
             "label": int(rng.integers(0, 2)), "idx": i}
            for i, (p, a, b) in enumerate(zip(sentences(n, seed), sentences(n, seed + 1), sentences(n, seed + 2)))
        ]  # fmt: skip
        write_lines(folder / name, [json.dumps(row) for row in rows])


def test_copa_multiple_choice_and_lora(tmp_path, tiny_bert):
    write_copa(tmp_path / "COPA")
    run_cli("--model_name_or_path", tiny_bert, "--task_name", "copa", "--data_dir", tmp_path,
            "--output_dir", tmp_path / "copa", "--seeds", 1, 2, *TRAIN_FLAGS)  # fmt: skip
    expected = brute_force(tmp_path / "copa", "accuracy")
    architectures = json.loads((tmp_path / "copa" / "seed-1" / "config.json").read_text())["architectures"]
    assert architectures == ["BertForMultipleChoice"]
    report = json.loads((tmp_path / "copa" / "consistency_report.json").read_text())
    assert report["con"] == pytest.approx(expected["con"]) and report["n_examples"] == 12

    write_glue_task(tmp_path / "glue", "rte", 24, 16)
    run_cli("--model_name_or_path", tiny_bert, "--task_name", "rte", "--data_dir", tmp_path / "glue",
            "--use_lora", "--lora_target_modules", "query", "value", "--lora_r", 4,
            "--output_dir", tmp_path / "lora", "--seeds", 1, 2, *TRAIN_FLAGS)  # fmt: skip
    assert (tmp_path / "lora" / "seed-1" / "adapter_config.json").is_file()
    config = json.loads((tmp_path / "lora" / "run_config.json").read_text())
    assert config["model_args"]["use_lora"] is True and config["model_args"]["lora_r"] == 4


def test_rerun_continues_when_identical_and_refuses_other_settings(tmp_path, tiny_bert, capsys):
    glue = tmp_path / "glue"
    write_glue_task(glue, "rte", 24, 16)
    args = ["--model_name_or_path", tiny_bert, "--task_name", "rte", "--data_dir", glue,
            "--output_dir", tmp_path / "run", "--seeds", 1, 2, *TRAIN_FLAGS]  # fmt: skip
    run_cli(*args)
    kept = (tmp_path / "run" / "seed-1" / "predictions.jsonl").stat().st_mtime_ns
    (tmp_path / "run" / "seed-2" / "DONE").unlink()  # seed 2 "was interrupted"
    (tmp_path / "run" / "seed-2" / "predictions.jsonl").unlink()
    capsys.readouterr()
    run_cli(*args)
    assert capsys.readouterr().out.startswith("Continuing run in")
    assert (tmp_path / "run" / "seed-1" / "predictions.jsonl").stat().st_mtime_ns == kept
    assert (tmp_path / "run" / "seed-2" / "DONE").is_file()

    with pytest.raises(SystemExit) as refused:
        run_cli(*args, "--learning_rate", "5e-4")
    message = str(refused.value)
    assert "different settings" in message and "learning_rate: 0.001 -> 0.0005" in message
    assert "\n" not in message


def test_killed_run_resumes_the_interrupted_seed(tmp_path, tiny_bert):
    glue = tmp_path / "glue"
    write_glue_task(glue, "rte", 64, 16)
    args = ["--model_name_or_path", tiny_bert, "--task_name", "rte", "--data_dir", str(glue),
            "--output_dir", str(tmp_path / "run"), "--seeds", "1", "2", "--max_steps", "40",
            "--per_device_train_batch_size", "4", "--save_strategy", "steps", "--save_steps", "4",
            "--save_total_limit", "2",
            "--report_to", "none", "--disable_tqdm", "true", "--no_plots"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "seed_consistency_metric.cli", "run", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 240
    try:
        while not list((tmp_path / "run" / "seed-2").glob("checkpoint-*/trainer_state.json")):
            assert process.poll() is None, "the run ended before it could be interrupted"
            assert time.time() < deadline, "no checkpoint of seed 2 appeared"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not (tmp_path / "run" / "seed-2" / "DONE").exists()
    seed1_done = (tmp_path / "run" / "seed-1" / "DONE").read_text()

    assert main(["run", *args]) == 0
    assert (tmp_path / "run" / "seed-1" / "DONE").read_text() == seed1_done  # not retrained
    resumed = json.loads((tmp_path / "run" / "seed-2" / "DONE").read_text())["resumed_from"]
    assert resumed is not None and "checkpoint-" in resumed
    assert_row_matches(read_table(tmp_path / "run" / "table1.csv")["RTE"], brute_force(tmp_path / "run", "accuracy"))


@pytest.mark.skipif(not (SHARED_GLUE / "RTE" / "train.tsv").is_file(), reason="../shared/data GLUE files absent")
def test_real_glue_files_from_shared_data(tmp_path, tiny_bert):
    from trainer_ext.experiment.loaders import load_local_task

    counts = {"rte": (2490, 277), "mrpc": (3668, 408), "cola": (8551, 1043), "sst2": (67349, 872)}
    for task, (n_train, n_dev) in counts.items():
        data = load_local_task(task, SHARED_GLUE)
        assert (len(data.train), len(data.eval)) == (n_train, n_dev)
    for task in ("cola", "mrpc"):
        run_cli("--model_name_or_path", tiny_bert, "--task_name", task, "--data_dir", SHARED_GLUE,
                "--max_train_samples", 32, "--max_eval_samples", 40, "--output_dir", tmp_path / task,
                "--seeds", 1, 2, *TRAIN_FLAGS)  # fmt: skip
        table = read_table(tmp_path / task / "table1.csv")
        name = {"cola": "CoLA", "mrpc": "MRPC"}[task]
        assert_row_matches(table[name], brute_force(tmp_path / task, "mcc" if task == "cola" else "accuracy"))
    first_dev = (SHARED_GLUE / "MRPC" / "dev.tsv").read_text(encoding="utf-8-sig").splitlines()[1].split("\t")
    labels = [json.loads(line)["label"] for line in (tmp_path / "mrpc" / "seed-1" / "predictions.jsonl").open()]
    assert labels[0] == int(first_dev[0])


@pytest.mark.slow
def test_demo_preset_with_the_real_minilm(tmp_path, capsys):
    run_cli("--preset", "demo", "--seeds", 42, 52, "--max_train_samples", 640, "--max_eval_samples", 300,
            "--num_train_epochs", 1, "--output_dir", tmp_path / "demo")  # fmt: skip
    printed = capsys.readouterr().out
    assert "| all-MiniLM-L6-v2 | demo | VADER polarity | accuracy |" in printed
    table = read_table(tmp_path / "demo" / "table1.csv")["VADER polarity"]
    expected = brute_force(tmp_path / "demo", "accuracy")
    assert_row_matches(table, expected)
    from trainer_ext.experiment.demo import load_vader_polarity

    labels = load_vader_polarity().eval["label"][:300]
    majority = max(sum(labels), len(labels) - sum(labels)) / len(labels)
    assert min(expected["zeta"]) > majority + 0.1  # the pretrained encoder learns polarity from 640 words
    for name in ("figure3_zeta_heatmap.png", "pairwise_con.png"):
        assert (tmp_path / "demo" / name).is_file()


def test_reproduce_paper_script_on_a_small_grid(tmp_path, tiny_bert):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import reproduce_paper
    finally:
        sys.path.remove(str(REPO / "scripts"))
    for task, n in (("cola", 16), ("mrpc", 24), ("rte", 32)):
        write_glue_task(tmp_path / "glue", task, n, 12)
    argv = ["--presets", "roberta-large", "--tasks", "cola", "mrpc", "rte", "--glue_dir", str(tmp_path / "glue"),
            "--output_root", str(tmp_path / "paper"), "--", "--model_name_or_path", tiny_bert, "--seeds", "1", "2",
            "--max_steps", "2", "--save_strategy", "no", "--report_to", "none", "--no_plots"]  # fmt: skip
    assert reproduce_paper.main(argv) == 0
    table = read_table(tmp_path / "paper" / "report" / "table1.csv")
    assert set(table) == {"CoLA", "MRPC", "RTE"}
    config = json.loads((tmp_path / "paper" / "roberta-large" / "glue-rte" / "run_config.json").read_text())
    assert config["training_args"]["learning_rate"] == 1e-5  # the preset's, not overridden
    assert (config["model"], config["model_label"]) == (tiny_bert, "RoBERTa-large")  # the preset's label
    assert "| RoBERTa-large | GLUE | CoLA | mcc |" in (tmp_path / "paper" / "report" / "table1.md").read_text()
    assert (tmp_path / "paper" / "report" / "figure2_size_correlation.png").is_file()
