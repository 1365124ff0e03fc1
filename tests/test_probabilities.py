"""Soft CON/CCON from class probabilities and the ensemble zeta, against brute-force loops over seed pairs."""

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from seed_consistency_metric import seed_consistency

SCRIPT = Path(__file__).parents[1] / "seed_consistency_metric" / "seed_consistency.py"


def dirichlet(n_seeds, n_examples, n_classes, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(n_classes) * 0.7, size=(n_seeds, n_examples))


def brute_force_soft(probabilities, references):
    """Mean over every seed pair of the mean over examples of 1 - TV(p^a, p^b) and p^a_r * p^b_r."""
    pairs = list(itertools.combinations(range(len(probabilities)), 2))
    con = np.mean(
        [np.mean([1 - 0.5 * np.abs(p - q).sum() for p, q in zip(probabilities[a], probabilities[b])]) for a, b in pairs]
    )
    ccon = np.mean(
        [np.mean([p[r] * q[r] for p, q, r in zip(probabilities[a], probabilities[b], references)]) for a, b in pairs]
    )
    return con, ccon


def vote(labels):
    """The most common label; a tie goes to the smallest label."""
    counts = Counter(labels)
    best = max(counts.values())
    return min(label for label, count in counts.items() if count == best)


@pytest.mark.parametrize("n_seeds,n_classes", [(2, 2), (5, 3), (4, 4)])
def test_soft_con_and_ccon_match_a_loop_over_pairs(n_seeds, n_classes):
    probabilities = dirichlet(n_seeds, 40, n_classes)
    references = np.random.default_rng(1).integers(0, n_classes, 40)
    report = seed_consistency(None, references, probabilities=probabilities, pairwise=True)
    con, ccon = brute_force_soft(probabilities, references)
    assert report["soft_con"] == pytest.approx(con)
    assert report["soft_ccon"] == pytest.approx(ccon)
    labels = probabilities.argmax(axis=2)  # zeta and the hard CON come from the argmax labels
    assert report["zeta"] == pytest.approx([skm.accuracy_score(references, row) for row in labels])
    for a, b in itertools.combinations(range(n_seeds), 2):
        expected = np.mean([1 - 0.5 * np.abs(p - q).sum() for p, q in zip(probabilities[a], probabilities[b])])
        assert report["soft_con_matrix"][a][b] == pytest.approx(expected)
        both = np.mean(probabilities[a, np.arange(40), references] * probabilities[b, np.arange(40), references])
        assert report["soft_ccon_matrix"][b][a] == pytest.approx(both)


def test_hand_worked_example_and_one_hot_probabilities_equal_the_paper_pi():
    probabilities = {42: [[0.9, 0.1], [0.2, 0.8]], 52: [[0.6, 0.4], [0.5, 0.5]]}
    report = seed_consistency({42: [0, 1], 52: [0, 0]}, [0, 1], probabilities=probabilities)
    assert report["soft_con"] == pytest.approx(0.7)  # (0.6 + 0.1 + 0.2 + 0.5) / 2
    assert report["soft_ccon"] == pytest.approx((0.9 * 0.6 + 0.8 * 0.5) / 2)
    assert report["con"] == 0.5 and report["zeta"] == [1.0, 0.5]  # the labels given, not the argmax
    assert report["ensemble"] == {"majority_vote": 0.5, "mean_probabilities": 1.0}  # seeds tie on row 1: label 0

    rows = np.random.default_rng(2).integers(0, 3, (4, 30))
    references = np.random.default_rng(3).integers(0, 3, 30)
    one_hot = np.eye(3)[rows]
    report = seed_consistency(rows, references, probabilities=one_hot)
    assert report["soft_con"] == pytest.approx(report["con"])
    assert report["soft_ccon"] == pytest.approx(report["ccon"])


@pytest.mark.filterwarnings("ignore:A single label was found")  # sklearn's MCC on one-label rows
@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 7).flatmap(
        lambda s: st.tuples(
            st.lists(st.lists(st.integers(0, 2), min_size=s, max_size=s), min_size=1, max_size=20),
            st.sampled_from([1, 2]),
        )
    )
)
def test_majority_vote_ensemble_matches_a_counting_loop(example_rows_and_top):
    per_example, top = example_rows_and_top  # labels 0..top: binary (top=1) or three classes
    per_example = [[min(label, top) for label in row] for row in per_example]
    rows = np.array(per_example).T
    references = [row[0] for row in per_example][::-1]
    votes = [vote(row) for row in per_example]
    report = seed_consistency(rows, references)
    assert report["ensemble"]["majority_vote"] == pytest.approx(skm.accuracy_score(references, votes))
    mcc = seed_consistency(rows, references, zeta="mcc")["ensemble"]["majority_vote"]
    assert mcc == pytest.approx(skm.matthews_corrcoef(references, votes))
    assert seed_consistency(rows, references, per_example=True)["per_example"]["majority"] == votes


def test_ensemble_of_strings_tokens_regression_and_mean_probabilities():
    strings = {1: ["a", "b", "b"], 2: ["b", "a", "b"], 3: ["a", "c", "b"]}
    assert seed_consistency(strings, ["a", "c", "b"])["ensemble"] == {"majority_vote": 2 / 3}  # votes a, a, b
    tokens = {1: [[0, 1], [2]], 2: [[0, 0], [2]], 3: [[1, 1], [0]]}  # votes per token: 0, 1 | 2
    report = seed_consistency(tokens, [[0, 0], [2]], task="token_classification")
    assert report["ensemble"] == {"majority_vote": pytest.approx(2 / 3)}
    values = {1: [1.0, 2.0, 4.0], 2: [2.0, 2.0, 0.0]}
    report = seed_consistency(values, [1.0, 1.0, 1.0], task="regression")
    assert report["ensemble"] == {"mean_prediction": pytest.approx(skm.mean_absolute_error([1, 1, 1], [1.5, 2, 2]))}
    assert seed_consistency(strings)["ensemble"] is None  # no references, no zeta

    probabilities = dirichlet(5, 60, 3, seed=4)
    references = np.random.default_rng(5).integers(0, 3, 60)
    report = seed_consistency(None, references, probabilities=probabilities, zeta="macro_f1")
    mean_labels = [int(np.argmax(sum(probabilities[s, t] for s in range(5)))) for t in range(60)]
    votes = [vote(list(probabilities[:, t].argmax(axis=1))) for t in range(60)]
    assert report["ensemble"]["mean_probabilities"] == pytest.approx(
        skm.f1_score(references, mean_labels, average="macro")
    )
    assert report["ensemble"]["majority_vote"] == pytest.approx(skm.f1_score(references, votes, average="macro"))


def test_bootstrap_intervals_and_per_example_soft_agreement():
    probabilities = dirichlet(3, 50, 2, seed=6)
    references = np.random.default_rng(7).integers(0, 2, 50)
    report = seed_consistency(None, references, probabilities=probabilities, n_bootstrap=200, per_example=True)
    for key in ("soft_con", "soft_ccon"):
        low, high = report["ci"][key]
        assert low < report[key] < high
    expected = [
        np.mean(
            [1 - 0.5 * np.abs(probabilities[a, t] - probabilities[b, t]).sum() for a, b in [(0, 1), (0, 2), (1, 2)]]
        )
        for t in range(50)
    ]
    assert report["per_example"]["soft_agreement"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "probabilities,predictions,references,message",
    [
        (
            {42: [[0.5, 0.5], [0.7, 0.2]], 52: [[0.5, 0.5], [0.5, 0.5]]},
            None,
            None,
            "seed 42, row 1: the row sums to 0.9",
        ),
        ({42: [[0.5, 0.5], [0.5, 0.5]], 52: [[1.2, -0.2], [0.5, 0.5]]}, None, None, "seed 52, row 0: negative"),
        ({42: [[0.5, 0.5], [np.nan, 0.5]], 52: [[0.5, 0.5], [0.5, 0.5]]}, None, None, "seed 42, row 1: non-finite"),
        (
            {42: [[0.5, 0.5]], 52: [[0.5, 0.5], [0.5, 0.5]]},
            None,
            None,
            "seed 52 have shape (2, 2) but those of seed 42",
        ),
        ({42: [[0.5, 0.5]], 52: [[0.2, 0.3, 0.5]]}, None, None, "seed 52 have shape (1, 3)"),
        ({42: [0.5, 0.5], 52: [0.5, 0.5]}, None, None, "seed 42: expected shape (N examples, C >= 2 classes)"),
        (
            {42: [[0.5, 0.5]] * 2, 52: [[0.5, 0.5]] * 2},
            {42: [0, 1, 1], 52: [0, 1, 1]},
            None,
            "2 rows but its predictions 3",
        ),
        (
            {42: [[0.5, 0.5]] * 2, 52: [[0.5, 0.5]] * 2},
            {42: [0, 1], 62: [0, 1]},
            None,
            "of seeds [42, 52] but the pred",
        ),
        ({42: [[0.5, 0.5]] * 2, 52: [[0.5, 0.5]] * 2}, None, [0, 1, 1], "3 references for 2 examples"),
        ({42: [[0.5, 0.5]] * 2, 52: [[0.5, 0.5]] * 2}, None, [0, 2], "Reference row 1 is class 2"),
        ({42: [[0.5, 0.5]] * 2, 52: [[0.5, 0.5]] * 2}, {42: ["a", "b"], 52: ["a", "a"]}, ["a", "b"], "row 0 is 'a'"),
        ([[[0.5, 0.5]], [[0.5, 0.5]], [[0.5, 0.5], [0.5]]], None, None, "seed 2: expected an (N, C) array"),
    ],
)
def test_bad_probabilities_name_the_seed_and_row(probabilities, predictions, references, message):
    with pytest.raises(ValueError) as error:
        seed_consistency(predictions, references, probabilities=probabilities)
    assert message in str(error.value)


def test_probabilities_need_classification_and_something_to_score():
    with pytest.raises(ValueError, match="task='classification'"):
        seed_consistency(None, [1.0], task="regression", probabilities=[[[0.5, 0.5]], [[0.5, 0.5]]])
    with pytest.raises(ValueError, match="predictions .* or the probabilities"):
        seed_consistency(None, [1])


def test_evaluate_takes_probabilities_per_example_like_predictions():
    import evaluate

    probabilities = dirichlet(3, 20, 3, seed=8)  # (S, N, C)
    labels = probabilities.argmax(axis=2)
    references = np.random.default_rng(9).integers(0, 3, 20).tolist()
    metric = evaluate.load(str(SCRIPT))
    result = metric.compute(
        predictions=labels.T.tolist(), references=references, probabilities=probabilities.transpose(1, 0, 2).tolist()
    )
    con, ccon = brute_force_soft(probabilities, references)
    assert result["soft_con"] == pytest.approx(con) and result["soft_ccon"] == pytest.approx(ccon)
    assert result == seed_consistency(labels, references, probabilities=probabilities)
    with pytest.raises(ValueError, match="probability row 4 has 2"):
        bad = probabilities.transpose(1, 0, 2).tolist()
        bad[4] = bad[4][:2]
        metric.compute(predictions=labels.T.tolist(), references=references, probabilities=bad)
