"""check_reported / `seed-consistency check`: hand-built tables with hand-computed violations, rows valid only up
to rounding, and tables of real reports (never flagged)."""

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed_consistency_metric import check_reported, seed_consistency
from seed_consistency_metric import reported_tables as check_module
from seed_consistency_metric.cli import main
from seed_consistency_metric.paper_report import render_report
from seed_consistency_metric.predictions_io import write_seed_predictions


def one(**row):
    return check_reported([row])[0]


def test_a_consistent_row_passes_and_an_impossible_one_says_by_how_much():
    assert one(task="RTE", accuracy="80.0", CON="82.0", CCON="72.0").ok  # 82 <= 2*72 + 100 - 160 = 84
    # CON <= 2*CCON + 1 - 2*acc = 150 - 160 + 100 = 90; 95 is 5 points over, minus the rounding slack
    # (CON -0.05, CCON +2*0.05, accuracy -2*0.05): 4.75
    checked = one(task="X", accuracy="80.0", CON="95.0", CCON="75.0")
    assert [(v.check, round(v.by, 9)) for v in checked.violations] == [("CON <= 2*CCON + 1 - 2*accuracy", 4.75)]
    assert checked.describe() == (
        "row 1 (X): CON <= 2*CCON + 1 - 2*accuracy fails by 4.75 points (values given to +-0.05)"
    )
    exact = check_reported([{"task": "X", "accuracy": "80.0", "CON": "95.0", "CCON": "75.0"}], tolerance=0)[0]
    assert exact.violations[0].by == pytest.approx(5.0)
    assert check_reported([{"accuracy": "80.0", "CON": "95.0", "CCON": "75.0"}], tolerance=1.0)[0].ok  # 5 <= 5


@pytest.mark.parametrize(
    "row, check, by",
    [
        ({"accuracy": "0.70", "CON": "0.60", "CCON": "0.65"}, "CCON <= CON", 0.04),  # 0.645 - 0.605
        ({"accuracy": "0.70", "CON": "0.90", "CCON": "0.75"}, "CCON <= accuracy", 0.04),
        ({"accuracy": "0.90", "CON": "0.90", "CCON": "0.70"}, "CCON >= 2*accuracy - 1", 0.085),  # 1.79-1-.705
        ({"accuracy": "0.5", "CON": "0.9", "CCON": "0.3", "n_classes": "2"},  # binary: CON = 0.6 exactly
         "CON <= 2*CCON + 1 - 2*accuracy", 0.05),  # 0.85 - (2*0.35 + 1 - 2*0.45)
        ({"accuracy": "0.9", "CON": "0.8", "CCON": "0.85", "n_classes": "2"},  # binary: CON = 0.8 ... but
         "CON = 2*CCON + 1 - 2*accuracy (binary labels)", 0.0),  # 2*.8+1-1.85-.85 = -0.1 <= 0: no violation
        ({"accuracy": "100.5", "CON": "99", "CCON": "98"}, "0 <= accuracy <= 1", 0.45),
    ],
)  # fmt: skip
def test_each_identity_with_hand_computed_excess(row, check, by):
    checked = check_reported([row])[0]
    found = {v.check: v.by for v in checked.violations}
    if by == 0.0:
        assert check not in found
    else:
        assert found[check] == pytest.approx(by)


def test_binary_equality_only_with_n_classes_2():
    row = {"accuracy": "0.90", "CON": "0.80", "CCON": "0.80"}  # binary would need CON = 2*.8 + 1 - 1.8 = 0.8 ok
    low = {"accuracy": "0.80", "CON": "0.70", "CCON": "0.70"}  # binary: CON = 1.4 + 1 - 1.6 = 0.8, 0.1 above
    assert one(**row, n_classes=2).ok and one(**low).ok
    checked = one(**low, n_classes=2)
    assert checked.binary and checked.violations[0].check.endswith("(binary labels)")
    assert checked.violations[0].by == pytest.approx(0.1 - 0.025)  # slack .005 + 2*.005 + 2*.005
    assert one(**low).binary is None and one(**low, n_classes=3).binary is False


def test_rows_valid_only_up_to_rounding():
    # a binary task: accuracy 0.8049, CCON 0.7351 give CON 0.8604 exactly; reported to 2 decimals the equality
    # is off by 0.02, inside the rounding slack (0.025), and flagged once the slack is taken away
    row = {"task": "SST-2", "accuracy": "0.80", "CON": "0.86", "CCON": "0.74", "n_classes": 2}
    assert check_reported([row])[0].ok
    strict = check_reported([row], tolerance=0)[0]
    assert [v.check for v in strict.violations] == ["CON = 2*CCON + 1 - 2*accuracy (binary labels)"]
    assert strict.violations[0].by == pytest.approx(0.02)


def test_percent_and_fractions_are_detected_or_forced():
    assert check_reported([{"accuracy": "80%", "CON": "0.9%", "CCON": "0.7%"}])[0].percent
    assert check_reported([{"accuracy (%)": 80, "CON (%)": 90, "CCON (%)": 70}])[0].percent
    assert not check_reported([{"accuracy": 0.8, "CON": 0.9, "CCON": 0.7}])[0].percent
    forced = check_reported([{"accuracy": "0.8", "CON": "0.9", "CCON": "0.7"}], percent=True)[0]
    assert forced.percent and forced.ok  # 0.8 %, 0.9 %, 0.7 %: CCON >= 2*acc - 1 holds trivially


def test_another_zeta_gets_only_the_checks_without_accuracy():
    checked = one(Task="CoLA", zeta="mcc", **{"zeta (%)": "60.0", "CON (%)": "70.0", "CCON (%)": "75.0"})
    assert [v.check for v in checked.violations] == ["CCON <= CON"]
    assert checked.skipped == ["zeta is mcc, not accuracy: only CCON <= CON checked"]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.integers(2, 5).flatmap(
                lambda s: st.integers(1, 30).flatmap(
                    lambda n: st.lists(st.lists(st.integers(0, k - 1), min_size=n, max_size=n), min_size=s + 1,
                                       max_size=s + 1)
                )
            ),
        )
    ),
    st.integers(0, 3),
)  # fmt: skip
def test_tables_of_real_reports_are_never_flagged(case, digits):
    n_labels, (references, *rows) = case
    report = seed_consistency(rows, references)
    accuracy = sum(report["zeta"]) / len(rows)
    cells = {"accuracy": accuracy, "CON": report["con"], "CCON": report["ccon"]}
    row = {key: f"{100 * value:.{digits}f}" for key, value in cells.items()}
    binary = len(set(references).union(*rows)) <= 2
    checked = check_reported([row | {"task": "t", "n_classes": 2 if binary else n_labels}])[0]
    assert checked.ok, (row, checked.describe())


def test_our_own_table1_passes_and_cli_reports_rows(tmp_path, capsys):
    references = [1, 0, 1, 1, 0, 1, 0, 1]
    rows = {42: [1, 0, 1, 0, 0, 1, 1, 1], 52: [1, 1, 1, 1, 0, 0, 0, 1], 62: [0, 0, 1, 1, 0, 1, 0, 1]}
    for seed, row in rows.items():
        write_seed_predictions(tmp_path / "run" / f"seed-{seed}" / "predictions.jsonl", row, references)
    render_report([tmp_path / "run"], tmp_path / "report", plots=False)
    for name in ("table1.md", "table1.csv"):
        assert main(["check", str(tmp_path / "report" / name)]) == 0
        out, err = capsys.readouterr()
        assert out == "row 1 (run): ok\n"
        assert "rows without n_classes" in err and "all 1 rows possible" in err

    table = tmp_path / "paper.md"
    table.write_text(
        "| Task | n_classes | Acc. | CON | CCON |\n|:--|--:|--:|--:|--:|\n"
        "| RTE | 2 | 80.1 | 90.0 | 75.0 |\n| CB | 3 | 90.0 | 70.0 | 85.0 |\n"
    )
    assert main(["check", str(table)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "row 1 (RTE): ok",
        "row 2 (CB): CCON <= CON fails by 14.9 points (values given to +-0.05)",
    ]
    assert err.strip() == "1 of 2 rows impossible"
    csv_table = tmp_path / "paper.tsv"
    csv_table.write_text("task\tacc\tCON\tCCON\nRTE\t0.8\t0.95\t0.75\n")
    assert main(["check", str(csv_table), "--tolerance", "0"]) == 1
    assert (
        capsys.readouterr().out == "row 1 (RTE): CON <= 2*CCON + 1 - 2*accuracy fails by 0.05 (values given to +-0)\n"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("task,accuracy\nRTE,80\n", "no CON or CCON values found: the table needs columns named CON and CCON"),
        ("task,accuracy,CON,CCON\nRTE,80,high,70\n", "row 1, con: 'high' is not a number"),
        ("| task | CON | CCON |\n|---|---|---|\n| RTE | 90 |\n", "row 1 has 2 cells, the header 3"),
        ("", "empty table"),
    ],
)
def test_bad_tables_are_one_line_errors_naming_file_and_row(tmp_path, text, message):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(SystemExit) as error:
        main(["check", str(path)])
    assert str(error.value) == f"seed-consistency check: error: {path}: {message}"


def test_docstring_example_runs():
    failures, tried = doctest.testmod(check_module)
    assert tried > 0 and failures == 0
