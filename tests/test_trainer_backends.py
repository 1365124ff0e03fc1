"""backend="parallel" (worker processes) and backend="ray" (a real local Ray cluster) against sequential."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from trainer_helpers import (
    RecordSeedCallback,
    read_jsonl_column,
    safetensors_weights,
    save_tiny_bert,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    words = vader_words(120)
    model_dir = save_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", words)
    return model_dir, *word_datasets(model_dir, words, n_eval=40)


def make_trainer(bert, output_dir: Path, step_log: Path, **kwargs) -> MultiSeedTrainer:
    model_dir, train, evaluation = bert
    return MultiSeedTrainer(
        model_name_or_path=model_dir,
        args=tiny_args(output_dir, max_steps=4),
        train_dataset=train,
        eval_dataset=evaluation,
        callbacks=[RecordSeedCallback(step_log)],
        seeds=SEEDS,
        **kwargs,
    )


@pytest.fixture(scope="module")
def sequential(bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("sequential")
    trainer = make_trainer(bert, root / "run", root / "steps.log")
    return trainer, trainer.train()


def pids_by_seed(step_log: Path) -> dict[int, set[int]]:
    pids: dict[int, set[int]] = {}
    for line in step_log.read_text().splitlines():
        pid, seed, _ = map(int, line.split())
        pids.setdefault(seed, set()).add(pid)
    return pids


def assert_same_models(trainer: MultiSeedTrainer, reference: MultiSeedTrainer) -> None:
    for seed in SEEDS:
        assert (trainer.seed_dir(seed) / "DONE").exists()
        ours, theirs = safetensors_weights(trainer.seed_dir(seed)), safetensors_weights(reference.seed_dir(seed))
        for key in theirs:  # other processes may use other CPU threads: equal up to float rounding
            np.testing.assert_allclose(ours[key], theirs[key], atol=1e-5, err_msg=f"seed {seed} {key}")
        assert read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") == read_jsonl_column(
            reference.seed_dir(seed) / "predictions.jsonl", "prediction"
        )


@pytest.mark.slow
def test_parallel_backend_trains_each_seed_in_its_own_worker_process(bert, sequential, tmp_path):
    reference, reference_output = sequential
    trainer = make_trainer(bert, tmp_path / "run", tmp_path / "steps.log", backend="parallel", n_workers=2)
    output = trainer.train()
    pids = pids_by_seed(tmp_path / "steps.log")
    assert all(len(pids[seed]) == 1 for seed in SEEDS)
    assert pids[42] != pids[52] and os.getpid() not in pids[42] | pids[52]
    assert output.trained_seeds == SEEDS
    assert_same_models(trainer, reference)
    assert output.report["con"] == pytest.approx(reference_output.report["con"])
    assert trainer.train().skipped_seeds == SEEDS  # the rerun starts no worker


@pytest.mark.slow
def test_ray_backend_runs_seeds_as_tasks_on_a_local_cluster(bert, sequential, tmp_path):
    ray = pytest.importorskip("ray")
    reference, reference_output = sequential
    paths = os.pathsep.join(path for path in sys.path if path)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": paths, "OMP_NUM_THREADS": "1"}},
    )
    try:
        trainer = make_trainer(bert, tmp_path / "run", tmp_path / "steps.log", backend="ray")
        output = trainer.train()
    finally:
        ray.shutdown()
    pids = pids_by_seed(tmp_path / "steps.log")
    assert os.getpid() not in pids[42] | pids[52]
    assert output.trained_seeds == SEEDS
    assert_same_models(trainer, reference)
    assert output.metrics["eval_con"] == pytest.approx(reference_output.metrics["eval_con"])


def test_parallel_without_gpu_needs_a_worker_count(bert, tmp_path):
    trainer = make_trainer(bert, tmp_path / "run", tmp_path / "steps.log", backend="parallel")
    with pytest.raises(ValueError, match="n_workers"):
        trainer.train()
