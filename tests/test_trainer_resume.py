"""A MultiSeedTrainer script killed with SIGKILL mid-run and rerun with the same command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import trainer_resume_script
from trainer_helpers import read_jsonl_column, safetensors_weights, save_tiny_bert, single_torch_thread, vader_words

SCRIPT = Path(__file__).with_name("trainer_resume_script.py")
ROOT = Path(__file__).resolve().parents[1]


def start(model_dir: Path, output_dir: Path, step_log: Path, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, OMP_NUM_THREADS="1", **env)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(SCRIPT.parent), environment.get("PYTHONPATH", "")])
    command = [sys.executable, str(SCRIPT), str(model_dir), str(output_dir), str(step_log)]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def steps(step_log: Path) -> list[tuple[int, int]]:
    """(seed, global_step) of every training step logged."""
    return [tuple(map(int, line.split()[1:])) for line in step_log.read_text().splitlines()]


@pytest.mark.slow
def test_killed_run_resumes_unfinished_seed_and_retrains_nothing_finished(tmp_path):
    model_dir = save_tiny_bert(tmp_path / "bert", vader_words(120))
    run, log = tmp_path / "run", tmp_path / "steps.log"
    process = start(model_dir, run, log, TRAINER_TEST_PAUSE_SEED="52")
    deadline = time.time() + 180
    while not (run / "PAUSED").exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "the script never reached checkpoint-4 of seed 52"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert (run / "seed-42" / "DONE").exists() and not (run / "seed-52" / "DONE").exists()
    assert (run / "seed-52" / "checkpoint-4").is_dir()
    assert steps(log) == [(42, step) for step in range(1, 7)] + [(52, step) for step in range(1, 5)]
    finished = [run / "seed-42" / name for name in ("model.safetensors", "predictions.jsonl", "DONE")]
    mtimes = [path.stat().st_mtime_ns for path in finished]

    log.unlink()
    rerun = start(model_dir, run, log)
    assert rerun.wait(timeout=180) == 0, rerun.stderr.read().decode()[-3000:]
    assert steps(log) == [(52, 5), (52, 6)]  # seed 42 untouched, seed 52 continued after checkpoint-4
    assert [path.stat().st_mtime_ns for path in finished] == mtimes
    assert (run / "seed-52" / "DONE").exists() and (run / "consistency_report.json").exists()

    uninterrupted = tmp_path / "uninterrupted"
    with single_torch_thread():  # the same script, run here without interruption
        trainer_resume_script.main(str(model_dir), str(uninterrupted), str(tmp_path / "reference.log"))
    for seed in ("seed-42", "seed-52"):
        resumed, straight = safetensors_weights(run / seed), safetensors_weights(uninterrupted / seed)
        for key in straight:
            np.testing.assert_allclose(resumed[key], straight[key], rtol=0, atol=1e-6, err_msg=f"{seed} {key}")
        assert read_jsonl_column(run / seed / "predictions.jsonl", "prediction") == read_jsonl_column(
            uninterrupted / seed / "predictions.jsonl", "prediction"
        )


def test_resume_skips_a_checkpoint_left_half_written_by_a_kill(tmp_path):
    from trainer_ext.seed_run import last_complete_checkpoint

    assert last_complete_checkpoint(tmp_path / "no-such-seed") is None
    for step, files in ((4, ["model.safetensors", "trainer_state.json"]), (12, ["model.safetensors"]), (8, [])):
        (tmp_path / f"checkpoint-{step}").mkdir()
        for name in files:
            (tmp_path / f"checkpoint-{step}" / name).write_text("{}")
    # checkpoint-12 has weights but no trainer_state.json (Trainer writes it last): killed while saving.
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-4")
