"""report["warnings"] on degenerate runs, and the accuracy identity / independent-errors baseline of
report["con_decomposition"], against brute force over seed pairs, exhaustive shuffles and real predictions."""

import doctest
import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed_consistency_metric import accuracy_identity, diagnostics, seed_consistency
from seed_consistency_metric.accuracy_identity import IDENTITY_CONSTRAINTS
from seed_consistency_metric.cli import main
from seed_consistency_metric.predictions_io import write_seed_predictions

COLA = Path(__file__).resolve().parents[2] / "shared" / "data" / "CoLA"


@st.composite
def seed_rows(draw, n_labels: int):
    n_seeds, n_examples = draw(st.integers(2, 5)), draw(st.integers(1, 20))
    label = st.integers(0, n_labels - 1)
    rows = [draw(st.lists(label, min_size=n_examples, max_size=n_examples)) for _ in range(n_seeds)]
    return rows, draw(st.lists(label, min_size=n_examples, max_size=n_examples))


def brute_pairs(rows, references):
    """Per seed pair, by explicit loops: accuracies, CON, CCON, and the both-wrong shares."""
    n = len(references)
    accuracy = [sum(p == r for p, r in zip(row, references)) / n for row in rows]
    pairs = []
    for i, j in itertools.combinations(range(len(rows)), 2):
        triples = list(zip(rows[i], rows[j], references))
        pairs.append(
            {
                "acc": (accuracy[i], accuracy[j]),
                "con": sum(a == b for a, b, _ in triples) / n,
                "ccon": sum(a == r and b == r for a, b, r in triples) / n,
                "wrong_agree": sum(a != r and b != r and a == b for a, b, r in triples) / n,
                "wrong_disagree": sum(a != r and b != r and a != b for a, b, r in triples) / n,
                "one_correct": sum((a == r) != (b == r) for a, b, r in triples) / n,
                "independent": independent_pair(rows[i], rows[j], references),
            }
        )
    return accuracy, pairs


def independent_pair(a, b, references):
    """Expected CON and CCON of two seeds that keep their confusion matrices but err independently."""
    n, classes = len(references), Counter(references)
    con = ccon = 0.0
    for k, size in classes.items():
        given_a = Counter(p for p, r in zip(a, references) if r == k)
        given_b = Counter(p for p, r in zip(b, references) if r == k)
        con += size / n * sum(given_a[j] / size * given_b[j] / size for j in given_a)
        ccon += size / n * (given_a[k] / size) * (given_b[k] / size)
    return con, ccon


def mean(values):
    return sum(values) / len(values)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 4).flatmap(seed_rows))
def test_accuracy_identity_and_decomposition_match_brute_force(case):
    rows, references = case
    binary = len(set(references).union(*rows)) <= 2
    accuracy, pairs = brute_pairs(rows, references)
    for pair in pairs:  # per pair: CON_ab <= 2 CCON_ab + 1 - acc_a - acc_b, equality for binary labels
        implied = 2 * pair["ccon"] + 1 - sum(pair["acc"])
        assert pair["con"] <= implied + 1e-12
        assert pair["con"] == pytest.approx(implied) if binary else True
        assert max(0.0, sum(pair["acc"]) - 1) - 1e-12 <= pair["ccon"] <= min(pair["acc"]) + 1e-12
    report = seed_consistency(rows, references)
    con, ccon, acc = report["con"], report["ccon"], mean(accuracy)
    assert con == pytest.approx(mean([p["con"] for p in pairs]))
    assert ccon == pytest.approx(mean([p["ccon"] for p in pairs]))
    assert con <= 2 * ccon + 1 - 2 * acc + 1e-12
    assert max(0.0, 2 * acc - 1) - 1e-12 <= ccon <= acc + 1e-12 and ccon <= con + 1e-12
    values = {"accuracy": acc, "con": con, "ccon": ccon}
    for constraint in IDENTITY_CONSTRAINTS:
        if binary or not constraint.binary_only:
            form = constraint.constant + sum(c * values[key] for key, c in constraint.coefficients.items())
            assert form <= 1e-9, constraint.name
    parts = report["con_decomposition"]
    expected = {
        "accuracy_mean": acc,
        "both_correct": ccon,
        "both_wrong_agree": mean([p["wrong_agree"] for p in pairs]),
        "both_wrong_disagree": mean([p["wrong_disagree"] for p in pairs]),
        "one_correct": mean([p["one_correct"] for p in pairs]),
        "con_implied": 2 * ccon + 1 - 2 * acc,
        "con_min_from_accuracy": mean([max(0.0, sum(p["acc"]) - 1) for p in pairs]),
        "independent_con": mean([p["independent"][0] for p in pairs]),
        "independent_ccon": mean([p["independent"][1] for p in pairs]),
    }
    for key, value in expected.items():
        assert parts[key] == pytest.approx(value, abs=1e-9), key
    assert parts["binary"] == binary
    assert parts["con_beyond_independent"] == pytest.approx(con - expected["independent_con"], abs=1e-9)
    if binary:
        assert parts["both_wrong_disagree"] == pytest.approx(0.0, abs=1e-9)


def test_independent_baseline_is_the_mean_over_every_within_class_shuffle():
    # Shuffling seed B's predictions among the examples of each reference class keeps B's confusion matrix and
    # makes its errors independent of A's: the mean CON over all such shuffles is the baseline, exactly.
    references = [0, 0, 0, 1, 1, 2]
    a, b = [0, 1, 0, 1, 2, 2], [0, 0, 2, 1, 1, 0]
    classes = [[i for i, r in enumerate(references) if r == k] for k in (0, 1, 2)]
    con, ccon = [], []
    for orders in itertools.product(*(itertools.permutations(members) for members in classes)):
        shuffled = list(b)
        for members, order in zip(classes, orders):
            for target, source in zip(members, order):
                shuffled[target] = b[source]
        con.append(mean([x == y for x, y in zip(a, shuffled)]))
        ccon.append(mean([x == r and y == r for x, y, r in zip(a, shuffled, references)]))
    parts = seed_consistency({1: a, 2: b}, references)["con_decomposition"]
    assert parts["independent_con"] == pytest.approx(mean(con))
    assert parts["independent_ccon"] == pytest.approx(mean(ccon))
    assert not parts["binary"]


def test_decomposition_with_string_labels_and_its_summary():
    rows = {42: ["cat", "dog", "cow", "dog"], 52: ["cat", "cow", "dog", "dog"]}
    parts = seed_consistency(rows, ["cat", "cat", "cat", "dog"])["con_decomposition"]
    # by hand: both right on 0 and 3 (CCON 0.5); 1 and 2 both wrong with different labels (0.5)
    assert (parts["both_correct"], parts["both_wrong_agree"], parts["both_wrong_disagree"]) == (0.5, 0.0, 0.5)
    assert parts["con_implied"] == 1.0 and parts["accuracy_mean"] == 0.5
    assert "allow CON up to 1.000" in parts["summary"] and "gap 0.500" in parts["summary"]


def test_decomposition_is_none_where_the_identity_does_not_apply():
    assert seed_consistency([[1, 0], [1, 1]])["con_decomposition"] is None  # no references
    regression = seed_consistency([[1.0, 2.0], [1.5, 2.0]], [1.0, 2.0], task="regression")
    assert regression["con_decomposition"] is None and regression["warnings"] == []


# ---- warnings -----------------------------------------------------------------------------------------
def test_no_warnings_for_a_healthy_run():
    report = seed_consistency({1: [0, 1, 2, 1], 2: [0, 1, 2, 2]}, [0, 1, 2, 2])
    assert report["warnings"] == []


def test_single_label_fewer_labels_and_majority_baseline_name_the_seeds():
    references = [0, 0, 0, 1, 1, 2]  # majority class 0: accuracy 0.5
    rows = {
        42: [0, 0, 0, 0, 0, 0],  # one label, accuracy 0.5 = the baseline
        52: [0, 0, 0, 1, 1, 1],  # 2 of 3 labels, accuracy 5/6
        62: [0, 1, 2, 0, 1, 2],  # all labels, accuracy 0.5
        72: [0, 0, 0, 1, 1, 2],  # perfect
    }
    warnings = seed_consistency(rows, references)["warnings"]
    assert len(warnings) == 3, warnings
    assert warnings[0].startswith("seed 42 predicts a single label (0) on every example")
    assert warnings[1] == "seed 52 predicts only 2 of the 3 labels in the references."
    assert warnings[2] == (
        "seeds 42 and 62 score accuracy 0.500 and 0.500, no better than always predicting the majority class (0.500)."
    )


def test_mcc_baseline_is_zero_and_identical_seeds_are_named():
    references = [1, 0, 1, 0, 1, 1]
    rows = {7: [0, 1, 0, 1, 1, 0], 8: [1, 0, 1, 0, 1, 1], 9: [1, 0, 1, 0, 1, 1]}  # seed 7: MCC < 0
    report = seed_consistency(rows, references, zeta="mcc")
    assert report["zeta"][0] < 0
    assert report["warnings"] == [
        f"seed 7 scores mcc {report['zeta'][0]:.3f}, no better than always predicting the majority class (0.000).",
        "seeds 8 and 9 give identical predictions on all 6 examples: nothing random varied between them (same "
        "initialisation, dropout and data order?), so their CON of 1 says nothing about seed sensitivity.",
    ]


def test_all_seeds_identical_and_other_task_types():
    same = seed_consistency({1: ["a b", "c"], 2: ["a b", "c"]}, ["a b", "d"], task="generation")
    assert same["warnings"] == [
        "all 2 seeds give identical predictions on all 2 examples: nothing random varied between them (same "
        "initialisation, dropout and data order?), so their CON of 1 says nothing about seed sensitivity."
    ]
    tokens = seed_consistency({1: [[1, 1], [1]], 2: [[1, 0], [1]]}, [[1, 0], [1]], task="token_classification")
    assert tokens["warnings"][0].startswith("seed 1 predicts a single label (1)")
    assert tokens["warnings"][1].startswith("seed 1 scores accuracy 0.667, no better than always predicting the")
    assert len(tokens["warnings"]) == 2
    floats = seed_consistency([[0.5, 1.5], [0.5, 1.5]], [0.5, 1.0], task="regression")
    assert floats["warnings"][0].startswith("all 2 seeds give identical predictions on all 2 examples")


def test_custom_zeta_gets_no_baseline_check():
    report = seed_consistency([[0, 1, 1], [1, 0, 1]], [0, 0, 0], zeta=lambda p, r: 0.0)
    assert not any("majority" in warning for warning in report["warnings"])


def test_warnings_reach_compute_and_report_commands(tmp_path, capsys):
    references = [1, 1, 0, 1, 0, 1]
    for seed in (42, 52):
        write_seed_predictions(tmp_path / "run" / f"seed-{seed}" / "predictions.jsonl", [1] * 6, references)
    (tmp_path / "run" / "run_config.json").write_text(json.dumps({"zeta": "mcc"}))
    assert main(["compute", str(tmp_path / "run"), "-o", str(tmp_path / "report.json")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "warning: seeds 42 and 52 predict a single label (1) on every example: CON and CCON then reflect the "
        "class balance, not the model."
    )
    assert err[1].startswith("warning: seeds 42 and 52 score mcc 0.000 and 0.000, no better than")
    assert json.loads((tmp_path / "report.json").read_text())["warnings"] == [line[9:] for line in err]
    assert main(["report", str(tmp_path / "run"), "-o", str(tmp_path / "out"), "--no-plots"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert notes[0].startswith("note: model on run: seeds 42 and 52 predict a single label (1)")
    assert any("with binary labels accuracy and CCON fix CON exactly (1.000)" in note for note in notes)


@pytest.mark.skipif(not COLA.is_dir(), reason="../shared/data/CoLA (real GLUE files) is absent")
def test_real_cola_classifiers_that_collapse_to_the_majority_class_are_flagged():
    # A heavily regularised bag-of-words classifier trained on the real CoLA training set, as 3 seeds (the
    # solver shuffles with its random_state): every seed predicts "acceptable", MCC 0, CON 1.
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import SGDClassifier

    def read(name):
        rows = [line.split("\t") for line in (COLA / name).read_text(encoding="utf-8").splitlines() if line]
        return [row[3] for row in rows], [int(row[1]) for row in rows]

    (train_text, train_labels), (dev_text, dev_labels) = read("train.tsv"), read("dev.tsv")
    vectorizer = CountVectorizer(min_df=5).fit(train_text)
    x_train, x_dev = vectorizer.transform(train_text), vectorizer.transform(dev_text)
    rows = {
        seed: SGDClassifier(alpha=1.0, random_state=seed, max_iter=20, tol=None)
        .fit(x_train, train_labels)
        .predict(x_dev)
        .tolist()
        for seed in (42, 52, 62)
    }
    report = seed_consistency(rows, dev_labels, zeta="mcc")
    assert all(set(row) == {1} for row in rows.values())  # the real collapse
    assert report["con"] == 1.0 and report["zeta"] == [0.0, 0.0, 0.0]
    assert report["ccon"] == pytest.approx(sum(dev_labels) / len(dev_labels))  # 0.69: the class balance
    assert report["warnings"][0].startswith("seeds 42, 52 and 62 predict a single label (1) on every example")
    assert report["warnings"][1].startswith("seeds 42, 52 and 62 score mcc 0.000, 0.000 and 0.000, no better")
    assert len(report["warnings"]) == 2  # identical, but because they collapsed: said once


@pytest.mark.parametrize("module", [diagnostics, accuracy_identity])
def test_docstring_examples_run(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("n_labels", [2, 3])
def test_decomposition_and_warnings_do_not_depend_on_how_labels_are_spelt(n_labels):
    rng = np.random.default_rng(n_labels)
    rows, references = rng.integers(0, n_labels, (4, 60)), rng.integers(0, n_labels, 60)
    rows[1] = 0  # a degenerate seed
    first = seed_consistency(rows, references)
    for shift in (lambda x: x + 3, lambda x: x - 7, lambda x: np.array(["neg", "neu", "pos"])[x]):
        again = seed_consistency(shift(rows), shift(references))
        numbers = {key: value for key, value in again["con_decomposition"].items() if key != "summary"}
        assert numbers == pytest.approx({k: v for k, v in first["con_decomposition"].items() if k != "summary"})
        assert [w.split(" (")[0] for w in again["warnings"]] == [w.split(" (")[0] for w in first["warnings"]]
