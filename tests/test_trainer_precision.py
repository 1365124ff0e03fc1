"""MultiSeedTrainer(target_precision=...): seeds trained in order until the seed-and-example bootstrap intervals
are narrow enough; the decision is checked against intervals recomputed from the stored prediction files."""

from __future__ import annotations

import json

import pytest
from trainer_helpers import (
    read_jsonl_column,
    save_tiny_bert,
    tiny_args,
    vader_words,
    word_datasets,
)

from seed_consistency_metric import seed_consistency
from trainer_ext import MultiSeedTrainer
from trainer_ext.precision import train_until_precise

SEEDS = [42, 52, 62, 72, 82]
CONSISTENCY = {"n_bootstrap": 300, "random_state": 7}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    words = vader_words(120)
    # seed 3: a body whose seeds disagree, so some interval first narrows after 4 or 5 seeds (the resume test)
    model_dir = save_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", words, seed=3)
    return model_dir, *word_datasets(model_dir, words, n_eval=40)


def make_trainer(bert, output_dir, **kwargs) -> MultiSeedTrainer:
    model_dir, train, evaluation = bert
    return MultiSeedTrainer(
        model_name_or_path=model_dir,
        args=tiny_args(output_dir, num_train_epochs=4, learning_rate=2e-2),
        train_dataset=train,
        eval_dataset=evaluation,
        seeds=SEEDS,
        consistency_kwargs=CONSISTENCY,
        **kwargs,
    )


def half_widths_from_files(run_dir, seeds) -> dict[str, float]:
    """Half-widths of the metric's seed-and-example interval on the first seeds, from the raw JSONL files."""
    rows = {seed: read_jsonl_column(run_dir / f"seed-{seed}" / "predictions.jsonl", "prediction") for seed in seeds}
    references = read_jsonl_column(run_dir / f"seed-{seeds[0]}" / "predictions.jsonl", "label")
    report = seed_consistency(rows, references, resample="both", **CONSISTENCY)
    return {key: (high - low) / 2 for key, (low, high) in report["ci"].items()}


def test_stopping_rule_on_a_hand_worked_sequence():
    """Half-widths of con per number of seeds: 0.3 (3 seeds), 0.2 (4), 0.1 (5), 0.05 (6); target 0.15."""
    widths = {3: 0.3, 4: 0.2, 5: 0.1, 6: 0.05}
    chunks = []

    def train(chunk):
        chunks.append(chunk)
        return chunk

    def report_of(first):
        return {"ci": {"con": [0.5, 0.5 + 2 * widths[len(first)]]}}

    decision, trained = train_until_precise(list("abcdef"), {"con": 0.15}, train=train, report_of=report_of)
    assert (decision.n_seeds, decision.seeds, decision.target_met) == (5, list("abcde"), True)
    assert chunks == [["a", "b", "c"], ["d"], ["e"]] and trained == list("abcde")
    assert [step["n_seeds"] for step in decision.history] == [3, 4, 5]
    assert decision.reason == "after 5 seeds every half-width is within its target: con 0.1 <= 0.15"

    chunks.clear()  # two seeds at a time (two workers): the last pair holds one seed beyond the stop
    decision, trained = train_until_precise(list("abcdef"), {"con": 0.15}, train=train, report_of=report_of, width=2)
    assert decision.n_seeds == 5 and chunks == [["a", "b", "c"], ["d", "e"]]

    decision, _ = train_until_precise(list("abcdef"), {"con": 0.01}, train=train, report_of=report_of)
    assert (decision.n_seeds, decision.target_met) == (6, False)
    assert decision.reason.startswith("the 6 seeds ran out") and "con 0.05 > 0.01" in decision.reason


def test_a_loose_target_stops_after_three_seeds_and_trains_no_more(bert, tmp_path):
    trainer = make_trainer(bert, tmp_path / "run", target_precision={"con": 0.5, "var": 0.5})
    output = trainer.train()
    assert output.trained_seeds == SEEDS[:3] and trainer.seeds == SEEDS[:3]
    assert not (tmp_path / "run" / "seed-72").exists()
    assert output.stopping.target_met and output.stopping.n_seeds == 3
    assert output.metrics["stopping_n_seeds"] == 3 and output.metrics["stopping_target_met"] == 1.0
    expected = half_widths_from_files(tmp_path / "run", SEEDS[:3])
    assert output.stopping.half_widths == pytest.approx({"con": expected["con"], "var": expected["var"]})
    assert output.metrics["eval_con_half_width"] == pytest.approx(expected["con"])
    assert output.report["n_seeds"] == 3 and output.report["ci"]["con"] is not None
    saved = json.loads((tmp_path / "run" / "precision_stopping.json").read_text())
    assert saved["reason"].startswith("after 3 seeds every half-width is within its target")
    assert saved["interval"]["resample"] == "both" and saved["interval"]["n_bootstrap"] == 300
    assert "optimistic" in MultiSeedTrainer.__doc__  # the docs say what stopping on the data does


def test_a_resumed_run_reaches_the_same_decision(bert, tmp_path):
    run = tmp_path / "run"
    unreachable = make_trainer(bert, run, target_precision={"con": 1e-9}).train()
    assert unreachable.trained_seeds == SEEDS and not unreachable.stopping.target_met
    assert unreachable.stopping.reason.startswith("the 5 seeds ran out")
    widths = {k: half_widths_from_files(run, SEEDS[:k]) for k in (3, 4, 5)}
    assert [step["half_widths"]["con"] for step in unreachable.stopping.history] == pytest.approx(
        [widths[k]["con"] for k in (3, 4, 5)]
    )
    # a target first met after more than 3 seeds: the width of a statistic at the first k where it shrinks
    key, expected_k = next(
        (key, k)
        for key in ("con", "ccon", "var", "zeta_mean")
        for k in (4, 5)
        if widths[k][key] < min(widths[j][key] for j in range(3, k))
    )
    target = {key: widths[expected_k][key]}
    first = make_trainer(bert, run, target_precision=target).train()  # every seed is on disk: a resume
    again = make_trainer(bert, run, target_precision=target).train()
    for output in (first, again):
        assert output.trained_seeds == [] and output.stopping.n_seeds == expected_k
        assert output.stopping.seeds == SEEDS[:expected_k] and output.report["n_seeds"] == expected_k
    assert again.stopping.half_widths == first.stopping.half_widths


def test_target_precision_bad_inputs(bert, tmp_path):
    model_dir, train, _ = bert
    with pytest.raises(ValueError, match="needs an eval_dataset"):
        MultiSeedTrainer(model_name_or_path=model_dir, train_dataset=train, target_precision={"con": 0.01})
    with pytest.raises(ValueError, match=r"unknown statistics \['accuracy'\]"):
        make_trainer(bert, tmp_path, target_precision={"accuracy": 0.01})
    with pytest.raises(ValueError, match=r"target_precision\['con'\] must be a positive half-width, got 0"):
        make_trainer(bert, tmp_path, target_precision={"con": 0})
    with pytest.raises(ValueError, match="at least 3 seeds"):
        MultiSeedTrainer(
            model_name_or_path=model_dir, eval_dataset=bert[2], seeds=[1, 2], target_precision={"con": 0.01}
        )
