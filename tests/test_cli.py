"""The `seed-consistency` command line: `compute` against brute force, fast `--help` without torch, and one-line
errors (no traceback) for unknown tasks, missing columns, unreadable files and other bad input of `run`."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seed_consistency_metric.cli import main
from seed_consistency_metric.predictions_io import write_seed_predictions

REPO = Path(__file__).resolve().parents[1]
SEEDS = {42: [0, 1, 1, 0, 1, 1], 52: [0, 1, 0, 0, 1, 0], 62: [1, 1, 1, 0, 0, 1]}
REFERENCES = [0, 1, 1, 1, 1, 0]


def brute_force_con_ccon(predictions: list[list], references: list) -> tuple[float, float]:
    pairs = list(itertools.combinations(predictions, 2))
    n = len(references)
    con = sum(sum(x == y for x, y in zip(a, b)) for a, b in pairs) / (n * len(pairs))
    ccon = sum(sum(x == y == r for x, y, r in zip(a, b, references)) for a, b in pairs) / (n * len(pairs))
    return con, ccon


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "seed_consistency_metric.cli", *args], capture_output=True, text=True, cwd=REPO
    )
    assert not check or result.returncode == 0, result.stderr
    return result


def test_compute_from_prediction_files_matches_brute_force(tmp_path, capsys):
    files = []
    for seed, predictions in SEEDS.items():
        ids = list(range(len(predictions)))
        order = ids[::-1] if seed == 52 else ids  # one file lists the examples in another order
        path = tmp_path / f"preds-seed{seed}.jsonl"
        write_seed_predictions(path, [predictions[i] for i in order], [REFERENCES[i] for i in order], order)
        files.append(str(path))
    assert main(["compute", *files, "--pairwise"]) == 0
    report = json.loads(capsys.readouterr().out)
    con, ccon = brute_force_con_ccon(list(SEEDS.values()), REFERENCES)
    assert report["seeds"] == [42, 52, 62]
    assert report["con"] == pytest.approx(con) and report["ccon"] == pytest.approx(ccon)
    accuracies = [np.mean(np.equal(p, REFERENCES)) for p in SEEDS.values()]
    assert report["zeta"] == pytest.approx(accuracies)
    assert report["var"] == pytest.approx(np.std(accuracies))
    pair = sum(x == y for x, y in zip(SEEDS[42], SEEDS[62])) / len(REFERENCES)
    assert report["con_matrix"][0][2] == pytest.approx(pair)


def test_compute_from_one_wide_csv_with_a_references_file(tmp_path, capsys):
    columns = {f"seed_{seed}": predictions for seed, predictions in SEEDS.items()}
    lines = ["id," + ",".join(columns)] + [
        ",".join([str(i), *(str(values[i]) for values in columns.values())]) for i in range(len(REFERENCES))
    ]
    (tmp_path / "wide.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "refs.csv").write_text("id,label\n" + "".join(f"{i},{r}\n" for i, r in enumerate(REFERENCES)))
    assert main(["compute", str(tmp_path / "wide.csv"), "--references", str(tmp_path / "refs.csv")]) == 0
    report = json.loads(capsys.readouterr().out)
    con, ccon = brute_force_con_ccon(list(SEEDS.values()), REFERENCES)
    assert report["seeds"] == [42, 52, 62]
    assert report["con"] == pytest.approx(con) and report["ccon"] == pytest.approx(ccon)


def test_compute_on_a_run_dir_uses_its_zeta_and_writes_json(tmp_path, capsys):
    from sklearn.metrics import matthews_corrcoef

    for seed, predictions in SEEDS.items():
        write_seed_predictions(tmp_path / "run" / f"seed-{seed}" / "predictions.jsonl", predictions, REFERENCES)
    (tmp_path / "run" / "run_config.json").write_text(json.dumps({"zeta": "mcc", "seeds": list(SEEDS)}))
    assert main(["compute", str(tmp_path / "run"), "-o", str(tmp_path / "report.json")]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'report.json'}: CON")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["zeta_name"] == "mcc"
    assert report["zeta"] == pytest.approx([matthews_corrcoef(REFERENCES, p) for p in SEEDS.values()])


@pytest.mark.parametrize(
    "args, message",
    [
        (["one.jsonl"], "found only 1 seed (one.jsonl)"),
        (["missing-a.jsonl", "missing-b.jsonl"], "missing-a.jsonl"),
    ],
)
def test_compute_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.jsonl").write_text('{"prediction": 1}\n')
    with pytest.raises(SystemExit) as error:
        main(["compute", *args])
    assert message in str(error.value)


def test_help_is_fast_and_does_not_import_torch():
    result = cli("--help")
    assert "run" in result.stdout and "report" in result.stdout and "compute" in result.stdout
    probe = (
        "import sys, seed_consistency_metric.cli, seed_consistency_metric.paper_report; print('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO).stdout == "False\n"


def test_run_help_lists_model_data_and_training_arguments():
    out = cli("run", "--help").stdout
    for flag in ("--model_name_or_path", "--task_name", "--data_dir", "--train_file", "--seeds", "--preset",
                 "--learning_rate", "--output_dir", "--use_lora"):  # fmt: skip
        assert flag in out


def test_errors_print_one_line_without_traceback(tmp_path):
    result = cli("report", str(tmp_path / "nowhere"), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"seed-consistency report: error: {tmp_path / 'nowhere'}: no such directory"
    ]


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def user_files(tmp_path) -> dict:
    good = ["a good day,pos", "a bad day,neg", "fine,pos"]
    return {
        "train": write_csv(tmp_path / "train.csv", "text,label", good),
        "dev": write_csv(tmp_path / "dev.csv", "text,label", good),
        "no_label": write_csv(tmp_path / "nolabel.csv", "text,stars", good),
        "unseen": write_csv(tmp_path / "unseen.csv", "text,label", ["ok,neutral"]),
        "binary": tmp_path / "broken.parquet",
        "glue": tmp_path / "RTE",
    }


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--task_name", "mnli"], "unknown task 'mnli'; known tasks:"),
        (["--task_name", "rte", "--data_dir", "{glue}"], "no train.tsv and dev.tsv here or in"),
        (["--task_name", "rte", "--data_dir", "{tmp}/absent"], "absent: no such directory"),
        (["--train_file", "{train}", "--validation_file", "{no_label}"], "nolabel.csv: missing column(s) ['label']"),
        (
            ["--train_file", "{train}", "--validation_file", "{dev}", "--text_column", "review"],
            "train.csv: missing column(s) ['review']; found ['text', 'label']",
        ),  # fmt: skip
        (
            ["--train_file", "{train}", "--validation_file", "{unseen}"],
            "unseen.csv, row 1: label 'neutral' does not occur in",
        ),  # fmt: skip
        (["--train_file", "{binary}", "--validation_file", "{dev}"], "broken.parquet: cannot read it as parquet"),
        (["--train_file", "{train}"], "--train_file and --validation_file go together"),
        (["--train_file", "{train}", "--validation_file", "{dev}", "--seeds", "1"], "at least 2 seeds"),
        (["--task_name", "rte", "--train_file", "{train}", "--validation_file", "{dev}"], "not both"),
        (["--preset", "gpt-5"], "unknown preset 'gpt-5'"),
        (["--task_name", "rte"], "could not load nyu-mll/glue (rte) from the Hub"),  # offline, no --data_dir
    ],
)
def test_run_input_errors(tmp_path, user_files, extra, message):
    user_files["binary"].write_bytes(b"\x00\x01 not parquet")
    user_files["glue"].mkdir()
    names = {key: str(value) for key, value in user_files.items()} | {"tmp": str(tmp_path)}
    argv = ["run", "--model_name_or_path", "unused", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as error:
        main(argv + [arg.format(**names) for arg in extra])
    assert message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out" / "seed-1").exists()
