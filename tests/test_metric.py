"""The seed_consistency math against independent computations: brute force over seed pairs, sklearn, hand work."""

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from seed_consistency_metric import seed_consistency


def brute_force(rows, references=None, agree=lambda a, b: float(a == b), correct=lambda a, r: float(a == r)):
    """CON / CCON as the paper defines them: mean over every seed pair of the mean over examples."""
    pairs = list(itertools.combinations(range(len(rows)), 2))
    con = np.mean([np.mean([agree(a, b) for a, b in zip(rows[i], rows[j])]) for i, j in pairs])
    if references is None:
        return con, None
    ccon = np.mean(
        [np.mean([correct(a, r) * correct(b, r) for a, b, r in zip(rows[i], rows[j], references)]) for i, j in pairs]
    )
    return con, ccon


labels = st.integers(min_value=0, max_value=3)


@st.composite
def seed_rows(draw, label_strategy=labels, max_seeds=6, max_examples=25):
    n_seeds = draw(st.integers(2, max_seeds))
    n_examples = draw(st.integers(1, max_examples))
    rows = [draw(st.lists(label_strategy, min_size=n_examples, max_size=n_examples)) for _ in range(n_seeds)]
    references = draw(st.lists(label_strategy, min_size=n_examples, max_size=n_examples))
    return rows, references


def test_figure_1_two_seeds_both_60_percent_agree_on_20_percent():
    # Figure 1 of the paper: identical accuracy (VAR 0), yet the seeds agree on 1 example in 5.
    truth = [1, 1, 1, 1, 1]
    report = seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, truth)
    assert report["zeta"] == [0.6, 0.6]
    assert report["var"] == 0.0
    assert report["con"] == pytest.approx(0.2)
    assert report["ccon"] == pytest.approx(0.2)
    assert (report["seeds"], report["n_pairs"], report["n_examples"]) == ([42, 52], 1, 5)


def test_hand_worked_three_seeds():
    # Example 0: all agree (3/3 pairs), all correct.
    # Example 1: seeds 0 and 2 agree (1/3) but are wrong; seed 1 alone is right.
    rows = [[0, 1], [0, 0], [0, 1]]
    report = seed_consistency(rows, [0, 0])
    assert report["con"] == pytest.approx((1 + 1 / 3) / 2)
    assert report["ccon"] == pytest.approx((1 + 0) / 2)
    accuracies = [0.5, 1.0, 0.5]
    assert report["zeta"] == pytest.approx(accuracies)
    mean = sum(accuracies) / 3
    assert report["var"] == pytest.approx(math.sqrt(sum((a - mean) ** 2 for a in accuracies) / 3))


@settings(max_examples=150, deadline=None)
@given(seed_rows())
def test_counting_equals_brute_force_over_pairs(data):
    rows, references = data
    con, ccon = brute_force(rows, references)
    report = seed_consistency(rows, references)
    assert report["con"] == pytest.approx(con)
    assert report["ccon"] == pytest.approx(ccon)
    assert 0 <= report["ccon"] <= report["con"] + 1e-12 <= 1 + 1e-12


@settings(max_examples=60, deadline=None)
@given(seed_rows(label_strategy=st.integers(-(10**9), 10**9), max_examples=10))
def test_counting_with_a_wide_label_range_equals_brute_force(data):
    rows, references = data  # wide range: takes the sort-based counting path
    assert seed_consistency(rows, references)["con"] == pytest.approx(brute_force(rows, references)[0])


@settings(max_examples=60, deadline=None)
@given(seed_rows(label_strategy=st.sampled_from(["pos", "neg", "neutral"])))
def test_string_labels_equal_brute_force(data):
    rows, references = data
    con, ccon = brute_force(rows, references)
    report = seed_consistency(rows, references)
    assert (report["con"], report["ccon"]) == (pytest.approx(con), pytest.approx(ccon))


@settings(max_examples=60, deadline=None)
@given(seed_rows(), st.randoms(use_true_random=False))
def test_invariant_to_seed_order_and_class_renaming(data, rng):
    rows, references = data
    base = seed_consistency(rows, references, zeta="mcc")
    order = list(range(len(rows)))
    rng.shuffle(order)
    permutation = [3, 0, 2, 1]
    renamed = seed_consistency(
        [[permutation[label] for label in rows[i]] for i in order],
        [permutation[label] for label in references],
        zeta="mcc",
    )
    for key in ("con", "ccon", "var", "zeta_mean"):
        assert renamed[key] == pytest.approx(base[key])
    assert renamed["zeta"] == pytest.approx([base["zeta"][i] for i in order])


@settings(max_examples=40, deadline=None)
@given(seed_rows(max_seeds=2))
def test_identical_seeds_give_con_one_and_var_zero(data):
    (row, *_), references = data
    report = seed_consistency([row, row, row], references, zeta="macro_f1")
    assert report["con"] == 1.0
    assert report["var"] == 0.0
    assert report["ccon"] == pytest.approx(np.mean(np.array(row) == np.array(references)))


@pytest.mark.parametrize(
    ("zeta", "sklearn_metric"),
    [
        ("accuracy", skm.accuracy_score),
        ("mcc", skm.matthews_corrcoef),
        ("f1", lambda y, p: skm.f1_score(y, p, zero_division=0)),
        ("macro_f1", lambda y, p: skm.f1_score(y, p, average="macro", zero_division=0)),
    ],
)
def test_classification_zeta_matches_sklearn(zeta, sklearn_metric):
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2 if zeta == "f1" else 3, 200)
    rows = [np.where(rng.random(200) < 0.7, references, rng.integers(0, 3, 200)) for _ in range(5)]
    if zeta == "f1":
        rows = [np.minimum(row, 1) for row in rows]
    report = seed_consistency(rows, references, zeta=zeta)
    expected = [sklearn_metric(references, row) for row in rows]
    assert report["zeta"] == pytest.approx(expected)
    assert report["var"] == pytest.approx(math.sqrt(np.mean((np.array(expected) - np.mean(expected)) ** 2)))
    assert report["zeta_mean"] == pytest.approx(np.mean(expected))


def test_mcc_of_a_constant_prediction_is_zero_like_sklearn():
    references = [0, 1, 0, 1]
    report = seed_consistency([[1, 1, 1, 1], [0, 1, 0, 0]], references, zeta="mcc")
    assert report["zeta"] == pytest.approx([skm.matthews_corrcoef(references, [1, 1, 1, 1]), 0.5773502691896258])


def test_regression_tolerance_and_zeta_match_brute_force_and_scipy():
    rng = np.random.default_rng(1)
    references = rng.normal(size=60)
    rows = [references + rng.normal(scale=0.3, size=60) for _ in range(6)]
    within = lambda a, b: float(abs(a - b) <= 0.25)  # noqa: E731
    con, ccon = brute_force(rows, references, agree=within, correct=within)
    for zeta, expected in (
        ("mae", [skm.mean_absolute_error(references, row) for row in rows]),
        ("pearson", [scipy.stats.pearsonr(row, references)[0] for row in rows]),
    ):
        report = seed_consistency(rows, references, task="regression", tolerance=0.25, zeta=zeta)
        assert report["con"] == pytest.approx(con)
        assert report["ccon"] == pytest.approx(ccon)
        assert report["zeta"] == pytest.approx(expected)


def test_token_classification_averages_token_agreement_per_example_and_ignores_minus_100():
    seed_a = [[1, 2, 0], [0, 0]]
    seed_b = [[1, 0, 0], [1, 0]]
    seed_c = [[1, 2, 2], [1, 1]]
    references = [[1, 2, -100], [0, 0]]  # the third token of example 0 is not labelled
    report = seed_consistency([seed_a, seed_b, seed_c], references, task="token_classification", per_example=True)
    # Example 0, kept tokens 0-1: token 0 all pairs agree (1), token 1 pairs agreeing 1/3 -> mean 2/3.
    # Example 1: token 0 (0,1,1) -> 1/3; token 1 (0,0,1) -> 1/3 -> mean 1/3.
    assert report["per_example"]["agreement"] == pytest.approx([2 / 3, 1 / 3])
    assert report["con"] == pytest.approx(0.5)
    # CCON, example 0: token 0 all correct (1), token 1 only pair (a, c) both correct (1/3) -> 2/3.
    # Example 1: token 0 only seed a correct (0); token 1 pair (a, b) (1/3) -> 1/6.
    assert report["ccon"] == pytest.approx((2 / 3 + 1 / 6) / 2)
    assert report["zeta"] == pytest.approx([4 / 4, 2 / 4, 2 / 4])  # token accuracy over the 4 labelled tokens
    assert report["per_example"]["majority"] == [[1, 2], [1, 0]]  # majority of the labelled tokens


def test_generation_exact_match_and_token_f1_match_brute_force():
    rows = [["The cat.", "a dog", "red"], ["cat", "dog!", "blue"], ["the cat", "big dog", "red"]]
    references = ["cat", "dog", "red"]
    report = seed_consistency(rows, references, task="generation")
    norm = {"The cat.": "cat", "a dog": "dog", "dog!": "dog", "the cat": "cat"}
    normalized = [[norm.get(x, x) for x in row] for row in rows]
    con, ccon = brute_force(normalized, references)
    assert (report["con"], report["ccon"]) == (pytest.approx(con), pytest.approx(ccon))

    def f1(a, b):
        a, b = a.split(), b.split()
        common = sum(min(a.count(w), b.count(w)) for w in set(a))
        return 0.0 if common == 0 else 2 * common / (len(a) + len(b))

    normalized[2][1] = "big dog"
    report = seed_consistency(rows, references, task="generation", pi="token_f1", zeta="token_f1")
    con, ccon = brute_force(normalized, references, agree=f1, correct=f1)
    assert (report["con"], report["ccon"]) == (pytest.approx(con), pytest.approx(ccon))
    assert report["zeta"] == pytest.approx([np.mean([f1(a, r) for a, r in zip(row, references)]) for row in normalized])


def test_pairwise_matrices_and_per_example_match_brute_force():
    rng = np.random.default_rng(2)
    references = rng.integers(0, 3, 50)
    rows = [np.where(rng.random(50) < 0.6, references, rng.integers(0, 3, 50)) for _ in range(4)]
    report = seed_consistency(rows, references, pairwise=True, per_example=True)
    for a, b in itertools.product(range(4), repeat=2):
        assert report["con_matrix"][a][b] == pytest.approx(np.mean(rows[a] == rows[b]))
        both = (rows[a] == references) & (rows[b] == references)
        assert report["ccon_matrix"][a][b] == pytest.approx(np.mean(both))
    matrix = np.array(report["con_matrix"])
    assert report["con"] == pytest.approx(matrix[np.triu_indices(4, 1)].mean())
    for t in range(50):
        column = [row[t] for row in rows]
        agree = np.mean([column[i] == column[j] for i, j in itertools.combinations(range(4), 2)])
        assert report["per_example"]["agreement"][t] == pytest.approx(agree)
        assert report["per_example"]["n_correct"][t] == sum(c == references[t] for c in column)
        counts = {label: column.count(label) for label in column}
        assert report["per_example"]["majority"][t] == min(k for k, v in counts.items() if v == max(counts.values()))


def test_fleiss_kappa_matches_the_textbook_example():
    # Fleiss (1971) as tabulated on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    columns = [[k for k, count in enumerate(counts) for _ in range(count)] for counts in table]
    rows = np.array(columns).T  # 14 "seeds" x 10 examples
    report = seed_consistency(rows, kappa=True)
    assert report["kappa"] == pytest.approx(0.20993, abs=5e-5)
    assert report["ccon"] is None and report["var"] is None


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible():
    rng = np.random.default_rng(3)
    references = rng.integers(0, 2, 300)
    rows = [np.where(rng.random(300) < 0.8, references, 1 - references) for _ in range(5)]
    first = seed_consistency(rows, references, n_bootstrap=200, random_state=7)
    again = seed_consistency(rows, references, n_bootstrap=200, random_state=7)
    assert first["ci"] == again["ci"]
    for key in ("con", "ccon", "zeta_mean"):
        low, high = first["ci"][key]
        assert low <= first[key] <= high
        assert high - low < 0.15
    identical = seed_consistency([rows[0]] * 3, references, n_bootstrap=50)
    assert identical["ci"]["con"] == [1.0, 1.0] and identical["ci"]["var"] == [0.0, 0.0]


def test_mapping_input_names_seeds_and_callable_zeta():
    report = seed_consistency({"42": [0, 1, 1], "52": [0, 1, 0]}, [0, 1, 1], zeta=lambda p, r: float(np.sum(p == r)))
    assert report["seeds"] == ["42", "52"]
    assert report["zeta"] == [3.0, 2.0]
    assert report["var"] == 0.5


def test_large_integer_array_counting_matches_a_per_pair_loop():
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 5, (12, 5000))
    expected = np.mean([np.mean(rows[i] == rows[j]) for i, j in itertools.combinations(range(12), 2)])
    assert seed_consistency(rows)["con"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("predictions", "references", "kwargs", "message"),
    [
        ([[0, 1, 1]], [0, 1, 1], {}, "at least 2 seeds"),
        ([[0, 1, 1], [0, 1]], None, {}, "Ragged predictions: seed 0 has 3 predictions but seed 1 has 2"),
        ([[0, 1], [0, 1]], [0, 1, 1], {}, "3 references for 2 examples"),
        ([[], []], None, {}, "empty input"),
        ([[0.0, float("nan")], [0.0, 1.0]], None, {"task": "regression"}, "Seed 0 has a non-finite value"),
        ([[1, "a"], [0, 1]], None, {}, "Seed 0 mixes label types (int at row 0, str at row 1)"),
        ([[1, 0], [0, 1]], ["a", "b"], {}, "Mixed label types: seed 0 holds numbers but references holds strs"),
        ([[1, 0], [0, 1]], [1, 0], {"zeta": "bleu"}, "Unknown zeta 'bleu'"),
        ([[1, 0], [0, 1]], [1, 0], {"task": "ranking"}, "Unknown task 'ranking'"),
        ([[1, 0.5], [0, 1]], None, {}, "non-integer label 0.5 at row 1; use task='regression'"),
        ([[[1, 2]], [[1]]], None, {"task": "token_classification"}, "Token counts differ: row 0"),
    ],
)
def test_bad_input_raises_a_clear_value_error(predictions, references, kwargs, message):
    with pytest.raises(ValueError) as error:
        seed_consistency(predictions, references, **kwargs)
    assert message in str(error.value)


@settings(max_examples=80, deadline=None)
@given(seed_rows(label_strategy=st.integers(0, 1)), st.booleans())
def test_binary_labels_shortcut_equals_brute_force(data, as_array):
    rows, references = data  # all labels 0/1: agreement is derived from the count of correct seeds
    report = seed_consistency(np.array(rows) if as_array else rows, references, per_example=True)
    con, ccon = brute_force(rows, references)
    assert (report["con"], report["ccon"]) == (pytest.approx(con), pytest.approx(ccon))
    assert report["per_example"]["n_correct"] == [
        sum(row[t] == references[t] for row in rows) for t in range(len(references))
    ]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_many_examples_across_blocks_match_a_per_pair_loop(n_classes):
    rng = np.random.default_rng(5)
    references = rng.integers(0, n_classes, 70_001)  # more than two blocks of examples
    rows = np.where(rng.random((6, 70_001)) < 0.7, references, rng.integers(0, n_classes, (6, 70_001)))
    pairs = list(itertools.combinations(range(6), 2))
    report = seed_consistency(rows, references)
    assert report["con"] == pytest.approx(np.mean([np.mean(rows[i] == rows[j]) for i, j in pairs]))
    correct = rows == references
    assert report["ccon"] == pytest.approx(np.mean([np.mean(correct[i] & correct[j]) for i, j in pairs]))
    assert report["zeta"] == pytest.approx([skm.accuracy_score(references, row) for row in rows])


def per_pair_loop(rows: np.ndarray, references: np.ndarray | None = None) -> tuple:
    """Per example, the share of seed pairs that agree (and that are both right), by a loop over the pairs."""
    pairs = list(itertools.combinations(range(len(rows)), 2))
    agree = np.mean([rows[i] == rows[j] for i, j in pairs], axis=0)
    if references is None:
        return agree, None
    correct = rows == references
    return agree, np.mean([correct[i] & correct[j] for i, j in pairs], axis=0)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 16).flatmap(lambda k: seed_rows(st.integers(0, k - 1), max_seeds=30, max_examples=12)))
def test_three_to_sixteen_classes_and_up_to_30_seeds_equal_brute_force(data):
    rows, references = data  # counted per label or by comparing the seeds d apart, whichever reads less
    report = seed_consistency(np.array(rows), references, per_example=True)
    con, ccon = brute_force(rows, references)
    assert (report["con"], report["ccon"]) == (pytest.approx(con), pytest.approx(ccon))
    assert report["per_example"]["agreement"] == pytest.approx(list(per_pair_loop(np.array(rows))[0]))
    columns = [list(column) for column in zip(*rows)]  # the majority: the smallest of the most frequent labels
    assert report["per_example"]["majority"] == [
        min(c for c in col if col.count(c) == max(map(col.count, col))) for col in columns
    ]
    assert seed_consistency(np.array(rows))["con"] == pytest.approx(con)  # no references: counted on its own


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.int8, np.uint8, bool])
def test_every_integer_dtype_equals_a_per_pair_loop(dtype):
    rng = np.random.default_rng(6)
    n_classes = 2 if dtype is bool else 7
    references = rng.integers(0, n_classes, 400)
    rows = np.where(rng.random((9, 400)) < 0.6, references, rng.integers(0, n_classes, (9, 400)))
    agree, both = per_pair_loop(rows, references)
    report = seed_consistency(rows.astype(dtype), references.astype(dtype))
    assert (report["con"], report["ccon"]) == (pytest.approx(agree.mean()), pytest.approx(both.mean()))
    references[::7] = 300  # a reference no prediction can equal, beyond a byte
    report = seed_consistency(rows.astype(dtype), references)
    assert report["ccon"] == pytest.approx(per_pair_loop(rows, references)[1].mean())


@pytest.mark.parametrize(("offset", "dtype"), [(-3, np.int8), (-3, np.int64), (253, np.int64), (253, np.uint16)])
def test_labels_outside_a_byte_equal_a_per_pair_loop(offset, dtype):
    rng = np.random.default_rng(7)  # negative labels, or labels crossing 256: counted by sorting
    references = rng.integers(0, 6, 300) + offset
    rows = np.where(rng.random((8, 300)) < 0.6, references, rng.integers(0, 6, (8, 300)) + offset).astype(dtype)
    agree, both = per_pair_loop(rows, references)
    report = seed_consistency(rows, references)
    assert (report["con"], report["ccon"]) == (pytest.approx(agree.mean()), pytest.approx(both.mean()))
    assert seed_consistency(rows)["con"] == pytest.approx(agree.mean())


def test_binary_multiclass_and_wide_blocks_equal_a_per_pair_loop():
    from seed_consistency_metric.seed_consistency import _BLOCK

    rng = np.random.default_rng(8)
    n = 3 * _BLOCK + 5
    references = rng.integers(0, 2, n)
    rows = np.where(rng.random((6, n)) < 0.7, references, rng.integers(0, 2, (6, n)))
    rows[:, _BLOCK : 2 * _BLOCK] = rng.integers(0, 6, (6, _BLOCK))  # the second block has 6 labels, the rest 2
    for wide in (False, True):
        if wide:
            rows[2, -1] = 1000  # one label beyond a byte, in the last block: all blocks are counted by sorting
        agree, both = per_pair_loop(rows, references)
        report = seed_consistency(rows, references, per_example=True)
        assert (report["con"], report["ccon"]) == (pytest.approx(agree.mean()), pytest.approx(both.mean()))
        assert report["per_example"]["agreement"] == pytest.approx(list(agree))
        assert report["per_example"]["majority"] == [int(np.argmax(np.bincount(column))) for column in rows.T]
        assert seed_consistency(rows)["con"] == pytest.approx(agree.mean())


@pytest.mark.parametrize("n_classes", [3, 200])
def test_hundreds_of_seeds_equal_a_per_pair_loop(n_classes):
    rng = np.random.default_rng(9)  # 300 seeds: counts beyond a byte, per label (3) or by comparing seeds (200)
    rows, references = rng.integers(0, n_classes, (300, 30)), rng.integers(0, n_classes, 30)
    rows[:150, ::2] = references[::2]
    agree, both = per_pair_loop(rows, references)
    report = seed_consistency(rows, references, per_example=True)
    assert (report["con"], report["ccon"]) == (pytest.approx(agree.mean()), pytest.approx(both.mean()))
    assert report["per_example"]["agreement"] == pytest.approx(list(agree))
    assert report["per_example"]["majority"] == [int(np.argmax(np.bincount(column))) for column in rows.T]


def test_integer_counts_over_a_denominator_average_exactly():
    from seed_consistency_metric.seed_consistency import _ExampleScores

    scores = _ExampleScores(np.array([3, 1, 0], dtype=np.uint8), denominator=3)  # agreeing pairs of 3 seeds
    assert scores.mean() == pytest.approx(4 / 9)
    assert scores.mean(np.array([0, 0, 1])) == pytest.approx((1 + 1 + 1 / 3) / 3)
    assert scores.array().tolist() == pytest.approx([1, 1 / 3, 0])
