"""The by-products of the block-wise tally (majority vote, per-seed confusion counts, per-seed labels, identical
seeds) against brute force: Counter per column, sklearn's confusion matrix per seed, sets of labels."""

import importlib
from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from seed_consistency_metric import seed_consistency
from seed_consistency_metric.accuracy_identity import con_decomposition

metric_module = importlib.import_module("seed_consistency_metric.seed_consistency")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 columns, so that a small input spans many blocks."""
    monkeypatch.setattr(metric_module, "_BLOCK", 16)


def noisy_labels(rng, n_seeds, n, n_classes, accuracy):
    references = rng.integers(0, n_classes, n)
    noise = rng.integers(0, n_classes, (n_seeds, n))
    return np.where(rng.random((n_seeds, n)) < accuracy, references, noise), references


def brute_mode(column) -> int:
    counts = Counter(column.tolist())
    return min(label for label, count in counts.items() if count == max(counts.values()))


@pytest.mark.parametrize("n_seeds, n_classes, accuracy", [(4, 3, 0.5), (5, 16, 0.3), (6, 8, 0.9), (3, 20, 0.4)])
def test_majority_vote_against_counter_per_column(small_blocks, n_seeds, n_classes, accuracy):
    predictions, references = noisy_labels(np.random.default_rng(n_classes), n_seeds, 203, n_classes, accuracy)
    modes = np.array([brute_mode(column) for column in predictions.T])
    report = seed_consistency(predictions, references, per_example=True)
    assert report["per_example"]["majority"] == modes.tolist()
    assert report["ensemble"]["majority_vote"] == pytest.approx(np.mean(modes == references), abs=1e-15)
    mcc = seed_consistency(predictions, references, zeta="mcc")["ensemble"]["majority_vote"]
    assert mcc == pytest.approx(metric_module.matthews_corrcoef(modes, references), abs=1e-15)


def assert_confusion_matches_sklearn(confusion, predictions, references):
    """(S, W, W) counts equal to sklearn's confusion matrix of every seed over labels 0..W-1, W a power of two
    above every label (the width of the codes' digits)."""
    width = confusion.shape[1]
    assert confusion.shape == (len(predictions), width, width) and width & (width - 1) == 0
    assert max(predictions.max(), references.max()) < width <= 2 * max(predictions.max(), references.max(), 1)
    for seed, row in enumerate(predictions):
        np.testing.assert_array_equal(confusion[seed], confusion_matrix(references, row, labels=range(width)))


@pytest.mark.parametrize("n_classes, dtype", [(3, np.int64), (16, np.uint8), (16, bool), (5, np.int16)])
def test_tally_confusion_against_sklearn(small_blocks, n_classes, dtype):
    predictions, references = noisy_labels(np.random.default_rng(1), 5, 150, n_classes, 0.6)
    predictions[2, 40:] = 0  # a binary tail within a multi-class row
    confusion = metric_module._tally(predictions.astype(dtype), references, cells=True)[4]
    if dtype is bool:  # 0/1 predictions against multi-class references: still counted
        predictions = predictions.astype(bool).astype(int)
    assert_confusion_matches_sklearn(confusion, predictions, references)


# seeds per code: 7 for labels in [0, 4), 4 in [0, 8), 3 in [0, 16); fewer seeds than that, a few codes, a remainder
@pytest.mark.parametrize("n_classes", [3, 4, 8, 16])
@pytest.mark.parametrize("n_seeds", [2, 3, 5, 10, 17])
def test_packed_cell_codes_against_sklearn(small_blocks, n_seeds, n_classes):
    predictions, references = noisy_labels(np.random.default_rng(n_seeds * n_classes), n_seeds, 101, n_classes, 0.7)
    assert_confusion_matches_sklearn(
        metric_module._tally(predictions, references, cells=True)[4], predictions, references
    )


@pytest.mark.parametrize("n_classes", [3, 8, 16])
def test_cell_codes_across_the_real_block_boundary(n_classes):
    n = 2 * metric_module._BLOCK + 123  # two full blocks and a short one
    predictions, references = noisy_labels(np.random.default_rng(n_classes), 9, n, n_classes, 0.8)
    assert_confusion_matches_sklearn(
        metric_module._tally(predictions, references, cells=True)[4], predictions, references
    )


@pytest.mark.parametrize("offset, n_classes", [(2, 3), (5, 3), (9, 7)])
def test_cell_codes_of_labels_not_starting_at_zero(small_blocks, offset, n_classes):
    predictions, references = noisy_labels(np.random.default_rng(offset), 6, 90, n_classes, 0.6)
    predictions, references = predictions + offset, references + offset
    confusion = metric_module._tally(predictions, references, cells=True)[4]
    assert_confusion_matches_sklearn(confusion, predictions, references)
    assert not confusion[:, :offset].any() and not confusion[:, :, :offset].any()


@pytest.mark.parametrize("late, n_classes", [(3, 3), (7, 3), (15, 3), (15, 8), (5, 4)])
def test_a_larger_label_in_a_later_block_widens_the_codes(small_blocks, late, n_classes):
    """The digits are as wide as the largest label, wherever it lies: the earlier blocks are coded with it too."""
    predictions, references = noisy_labels(np.random.default_rng(late), 8, 150, n_classes, 0.7)
    predictions[3, 100] = late  # block 6 of 16 columns
    predictions[5, 149] = late  # the last, short block
    assert_confusion_matches_sklearn(
        metric_module._tally(predictions, references, cells=True)[4], predictions, references
    )


def test_confusion_counts_only_when_asked_for(small_blocks):
    predictions, references = noisy_labels(np.random.default_rng(5), 4, 100, 8, 0.7)
    assert metric_module._tally(predictions, references)[4] is None
    counted, plain = (
        metric_module._tally(predictions, references, cells=True),
        metric_module._tally(predictions, references),
    )
    for with_cells, without in zip(counted[:4], plain[:4]):  # everything else is the same
        np.testing.assert_array_equal(with_cells, without)


def test_no_confusion_counts_beyond_16_labels_or_for_binary_input(small_blocks):
    rng = np.random.default_rng(2)
    predictions, references = noisy_labels(rng, 4, 100, 17, 0.5)
    assert metric_module._tally(predictions, references, cells=True)[4] is None  # a label of 16 somewhere
    binary, binary_references = noisy_labels(rng, 4, 100, 2, 0.7)
    assert metric_module._tally(binary, binary_references, cells=True)[4] is None  # binary: counted from hits and ones
    mixed = binary.copy()
    mixed[:, 90:] = rng.integers(0, 3, (4, 10))  # binary blocks first, then 3 labels
    assert metric_module._tally(mixed, binary_references, cells=True)[4] is None
    for bad in (16, 300, -1):  # a label of 16 (also after the codes started), beyond a byte, negative
        late = predictions % 16
        late[2, 70] = bad
        tallied = metric_module._tally(late, references % 16, cells=True)
        assert tallied[4] is None
        assert tallied[1].tolist() == np.count_nonzero(late == references % 16, axis=1).tolist()  # hits per seed
    assert metric_module._tally(predictions % 16, references, cells=True)[4] is None  # a reference of 16


@pytest.mark.parametrize("n_classes, n_seeds", [(3, 10), (8, 5), (16, 12), (17, 4), (2, 6)])
def test_report_from_confusion_counts_equals_the_report_without_them(small_blocks, monkeypatch, n_classes, n_seeds):
    """The diagnostics from the tally's counts against those counted seed by seed from the labels (no counts)."""
    predictions, references = noisy_labels(np.random.default_rng(n_classes), n_seeds, 200, n_classes, 0.6)
    predictions[1] = predictions[0]
    predictions[2] = np.where(predictions[2] == 1, 0, predictions[2])
    counted = seed_consistency(predictions + 1, references + 1, seeds=list(range(10, 10 + n_seeds)))
    monkeypatch.setattr(metric_module, "_CELL_LABELS", 0)
    assert seed_consistency(predictions + 1, references + 1, seeds=list(range(10, 10 + n_seeds))) == counted


@pytest.mark.parametrize("n_classes", [3, 8, 16])
def test_diagnostics_from_confusion_counts_against_brute_force(small_blocks, n_classes):
    rng = np.random.default_rng(n_classes)
    predictions, references = noisy_labels(rng, 6, 120, n_classes, 0.7)
    predictions[1] = predictions[0]  # identical seeds
    predictions[3] = 2  # a single label
    predictions[4] = np.where(predictions[4] == 1, 0, predictions[4])  # one label fewer than the references
    report = seed_consistency(predictions, references, seeds=[10, 11, 12, 13, 14, 15])
    assert any("seeds 10 and 11 give identical predictions" in text for text in report["warnings"])
    assert any("seed 13 predicts a single label (2)" in text for text in report["warnings"])
    fewer = [(seed, len(set(row.tolist()))) for seed, row in zip(range(10, 16), predictions)]
    fewer = [pair for pair in fewer if 1 < pair[1] < n_classes]
    assert any(f"seed{'s' if len(fewer) > 1 else ''} {fewer[0][0]}" in text for text in report["warnings"])
    majority_share = max(Counter(references.tolist()).values()) / len(references)
    poor = [text for text in report["warnings"] if "no better than always predicting" in text]
    assert poor and f"({majority_share:.3f})" in poor[0]
    # the CON decomposition from sklearn's per-seed confusion matrices, counted here without the tally
    matrices = np.array([confusion_matrix(references, row, labels=range(n_classes)) for row in predictions])
    expected = con_decomposition(predictions, references, report["con"], report["ccon"], hints={"confusion": matrices})
    assert report["con_decomposition"] == expected
    assert report["con_decomposition"] == con_decomposition(predictions, references, report["con"], report["ccon"])
    accuracy = np.mean([np.trace(matrix) for matrix in matrices]) / len(references)
    assert report["con_decomposition"]["accuracy_mean"] == pytest.approx(accuracy, abs=1e-12)


def test_labels_from_one_upwards_keep_their_decomposition(small_blocks):
    predictions, references = noisy_labels(np.random.default_rng(3), 4, 90, 4, 0.6)
    report = seed_consistency(predictions + 3, references + 3)  # labels 3..6: codes shifted by 3
    assert report["con_decomposition"] == con_decomposition(predictions, references, report["con"], report["ccon"])


def test_binary_seeds_counted_in_the_tally(small_blocks):
    predictions, references = noisy_labels(np.random.default_rng(4), 5, 150, 2, 0.7)
    predictions[2] = predictions[4]
    ones = metric_module._tally(predictions, references)[5]
    assert ones.tolist() == [sum(row) for row in predictions.tolist()]
    report = seed_consistency(predictions, references)
    assert report["con_decomposition"] == con_decomposition(predictions, references, report["con"], report["ccon"])
    identical = [text for text in report["warnings"] if "identical predictions" in text]
    assert len(identical) == 1 and identical[0].startswith("seeds 2 and 4 give identical predictions")
