"""MultiSeedTrainer(save_model=False) and the demo's default: only predictions on disk; a killed run resumes."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
from test_trainer_resume import start, steps
from trainer_helpers import (
    brute_force_consistency,
    read_jsonl_column,
    save_tiny_bert,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)

from trainer_ext import MultiSeedTrainer
from trainer_ext.experiment.run import parse_run_args

MODEL_FILES = {"model.safetensors", "pytorch_model.bin", "adapter_model.safetensors", "config.json"}


def kept_models(run_dir) -> list[str]:
    """Every saved model file or checkpoint folder below ``run_dir``."""
    found = [path.relative_to(run_dir) for path in run_dir.rglob("*")]
    inside_checkpoint = {path for path in found if any(part.startswith("checkpoint-") for part in path.parts[:-1])}
    return sorted(
        str(path)
        for path in found
        if path not in inside_checkpoint and (path.name in MODEL_FILES or path.name.startswith("checkpoint-"))
    )


def test_without_saved_models_the_report_evaluate_and_a_rerun_still_work(tmp_path):
    torch.manual_seed(0)
    words = vader_words(120)
    model_dir = save_tiny_bert(tmp_path / "bert", words)
    train, evaluation = word_datasets(model_dir, words, n_eval=40)
    settings = dict(
        model_name_or_path=model_dir, train_dataset=train, eval_dataset=evaluation, seeds=[42, 52],
        args=tiny_args(tmp_path / "run", max_steps=4, save_strategy="steps", save_steps=2), save_model=False,
    )  # fmt: skip
    with single_torch_thread():
        output = MultiSeedTrainer(**settings).train()
    run = tmp_path / "run"
    assert kept_models(run) == []  # checkpoints were written (save_steps=2), then deleted once each seed was DONE
    for seed in (42, 52):
        assert {path.name for path in (run / f"seed-{seed}").iterdir()} >= {"predictions.jsonl", "metrics.json", "DONE"}
    rows = {seed: read_jsonl_column(run / f"seed-{seed}" / "predictions.jsonl", "prediction") for seed in (42, 52)}
    expected = brute_force_consistency(rows, read_jsonl_column(run / "seed-42" / "predictions.jsonl", "label"))
    assert output.report["con"] == pytest.approx(expected["con"])
    assert output.report["ccon"] == pytest.approx(expected["ccon"])

    again = MultiSeedTrainer(**settings)  # the same script rerun: nothing to train, the report from predictions
    rerun = again.train()
    assert rerun.trained_seeds == [] and rerun.report["con"] == output.report["con"]
    assert again.evaluate()["eval_con"] == pytest.approx(expected["con"])
    with pytest.raises(ValueError, match=r"seeds \[42, 52\] kept no model .* \(trained with save_model=False\)"):
        again.predict(evaluation)
    with pytest.raises(ValueError, match="check_reproducibility .* needs save_model=True"):
        MultiSeedTrainer(**settings, check_reproducibility=True)


def test_the_demo_keeps_predictions_only_unless_asked():
    assert parse_run_args([])[2].save_model is False
    assert parse_run_args(["--seeds", "42", "52"])[2].save_model is False
    assert parse_run_args(["--save_model"])[2].save_model is True
    paper = ["--model_name_or_path", "m", "--task_name", "rte", "--output_dir", "out"]
    assert parse_run_args(paper)[2].save_model is True
    assert parse_run_args([*paper, "--save_model", "false"])[2].save_model is False


@pytest.mark.slow
def test_killed_run_without_saved_models_resumes_and_retrains_nothing_finished(tmp_path):
    model_dir = save_tiny_bert(tmp_path / "bert", vader_words(120))
    run, log = tmp_path / "run", tmp_path / "steps.log"
    process = start(model_dir, run, log, TRAINER_TEST_PAUSE_SEED="52", TRAINER_TEST_SAVE_MODEL="0")
    deadline = time.time() + 180
    while not (run / "PAUSED").exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "the script never reached checkpoint-4 of seed 52"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert (run / "seed-42" / "DONE").exists() and not (run / "seed-52" / "DONE").exists()
    assert kept_models(run) == ["seed-52/checkpoint-2", "seed-52/checkpoint-4"]  # only the unfinished seed's
    finished = [run / "seed-42" / name for name in ("predictions.jsonl", "metrics.json", "DONE")]
    mtimes = [path.stat().st_mtime_ns for path in finished]

    log.unlink()
    rerun = start(model_dir, run, log, TRAINER_TEST_SAVE_MODEL="0")
    assert rerun.wait(timeout=180) == 0, rerun.stderr.read().decode()[-3000:]
    assert steps(log) == [(52, 5), (52, 6)]  # seed 42 counted by its predictions; seed 52 continued
    assert [path.stat().st_mtime_ns for path in finished] == mtimes
    assert kept_models(run) == []
    assert (run / "seed-52" / "DONE").exists() and (run / "consistency_report.json").exists()
