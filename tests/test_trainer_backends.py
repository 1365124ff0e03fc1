"""backend="parallel" (worker processes) and backend="ray" (a real local Ray cluster) against sequential."""

from __future__ import annotations

import json
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
    tiny_args,
    vader_words,
    word_datasets,
)

from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def test_seeds_per_gpu_puts_k_workers_on_each_visible_gpu():
    from collections import Counter

    from trainer_ext.backends import worker_devices

    assert worker_devices(["0", "1"], seeds_per_gpu=2) == ["0", "1", "0", "1"]
    assert Counter(worker_devices(["2", "5", "7"], seeds_per_gpu=4)) == {"2": 4, "5": 4, "7": 4}
    assert worker_devices(["0", "1"], n_workers=3, seeds_per_gpu=2) == ["0", "1", "0"]
    assert worker_devices([], n_workers=3, seeds_per_gpu=4) == ["", "", ""]  # CPU workers
    with pytest.raises(ValueError, match=r"n_workers=3 but 1 visible GPUs x seeds_per_gpu=1 give 1 worker slots"):
        worker_devices(["0"], n_workers=3)
    with pytest.raises(ValueError, match="found no GPU; pass n_workers"):
        worker_devices([], seeds_per_gpu=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "parallel", "seeds_per_gpu": 0}, "seeds_per_gpu must be a positive integer, got 0"),
        ({"backend": "ray", "seeds_per_gpu": "2"}, "seeds_per_gpu must be a positive integer, got '2'"),
        ({"backend": "parallel", "n_workers": 1.5}, "n_workers must be a positive integer, got 1.5"),
        ({"n_workers": 2}, "n_workers is an option of backend=\"parallel\", not 'sequential'"),
        ({"backend": "ray", "n_workers": 2}, "n_workers is an option of backend=\"parallel\", not 'ray'"),
        ({"seeds_per_gpu": 2}, 'seeds_per_gpu is an option of backend="parallel" or "ray"'),
        ({"backend": "gpu"}, "backend must be one of"),
    ],
)
def test_bad_backend_options_are_refused_when_the_trainer_is_built(bert, tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        make_trainer(bert, tmp_path / "run", tmp_path / "steps.log", **options)


@pytest.mark.slow
def test_run_command_backend_flags_resume_with_parallel_workers_and_match_sequential(tmp_path, capsys):
    """``seed-consistency run --backend parallel --n_workers 2`` continues a run whose first seed finished in
    a sequential run, trains the rest in two workers, and ends with the sequential run's predictions."""
    import csv
    import shutil

    from seed_consistency_metric.cli import main
    from trainer_ext.experiment.run import build_trainer, load_data, parse_run_args

    words = vader_words(80)
    model_dir = save_tiny_bert(tmp_path / "bert", words)
    for name, rows in (("train.csv", words), ("dev.csv", words[:30])):
        with (tmp_path / name).open("w", newline="") as handle:
            csv.writer(handle).writerows([("text", "label"), *rows])

    def argv(output_dir, *flags):
        return ["run", "--model_name_or_path", str(model_dir), "--train_file", str(tmp_path / "train.csv"),
                "--validation_file", str(tmp_path / "dev.csv"), "--output_dir", str(output_dir), "--seeds", "1", "2",
                "3", "--max_steps", "20", "--learning_rate", "2e-2", "--save_strategy", "no", "--report_to", "none",
                "--disable_tqdm", "true", "--no_plots", *flags]  # fmt: skip

    parallel = argv(tmp_path / "parallel", "--backend", "parallel", "--n_workers", "2")
    built = build_trainer(*parse_run_args(parallel[1:]), load_data(parse_run_args(parallel[1:])[1]))
    assert (built.backend, built.n_workers, built.seeds_per_gpu) == ("parallel", 2, 1)

    assert main(argv(tmp_path / "sequential")) == 0
    (tmp_path / "parallel").mkdir()
    shutil.copy(tmp_path / "sequential" / "run_config.json", tmp_path / "parallel")
    shutil.copytree(tmp_path / "sequential" / "seed-1", tmp_path / "parallel" / "seed-1")  # seed 1 finished
    done = (tmp_path / "parallel" / "seed-1" / "DONE").read_text()
    capsys.readouterr()
    assert main(parallel) == 0
    assert "Continuing run in" in capsys.readouterr().out
    assert (tmp_path / "parallel" / "seed-1" / "DONE").read_text() == done  # not retrained
    for seed in (1, 2, 3):
        ours, theirs = (tmp_path / run / f"seed-{seed}" for run in ("parallel", "sequential"))
        assert read_jsonl_column(ours / "predictions.jsonl", "prediction") == read_jsonl_column(
            theirs / "predictions.jsonl", "prediction"
        )
        for key, value in safetensors_weights(theirs).items():
            np.testing.assert_allclose(safetensors_weights(ours)[key], value, atol=1e-5, err_msg=f"seed {seed} {key}")
    reports = [
        json.loads((tmp_path / run / "consistency_report.json").read_text()) for run in ("parallel", "sequential")
    ]
    assert reports[0]["con"] == reports[1]["con"] and reports[0]["zeta"] == reports[1]["zeta"]
