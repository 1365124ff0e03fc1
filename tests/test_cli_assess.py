"""The compare, seeds and report-differences commands on real run directories, against the library functions."""

import json

import numpy as np
import pytest

from seed_consistency_metric import compare_seed_consistency, seed_consistency
from seed_consistency_metric.cli import main
from seed_consistency_metric.predictions_io import write_seed_predictions


def _runs(root, n_examples=80):
    rng = np.random.default_rng(0)
    references = rng.integers(0, 2, n_examples)
    rows = {}
    for model, accuracy in (("A", 0.75), ("B", 0.9)):
        rows[model] = {s: np.where(rng.random(n_examples) < accuracy, references, 1 - references) for s in (1, 2, 3)}
        for seed, row in rows[model].items():
            order = rng.permutation(n_examples) if model == "B" else np.arange(n_examples)  # B's rows shuffled
            write_seed_predictions(root / model / f"seed-{seed}" / "predictions.jsonl", row[order].tolist(),
                                   references=references[order].tolist(), ids=order.tolist())  # fmt: skip
        (root / model / "run_config.json").write_text(json.dumps({"model_label": model, "task": "RTE"}))
    return rows, references


def test_compare_matches_the_function_with_examples_matched_by_id(tmp_path, capsys):
    rows, references = _runs(tmp_path)
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "B"), "--n_bootstrap", "100",
                 "-o", str(tmp_path / "out.json")]) == 0  # fmt: skip
    written = json.loads((tmp_path / "out.json").read_text())
    expected = compare_seed_consistency(rows["A"], rows["B"], references, n_bootstrap=100)
    assert written["difference"] == pytest.approx(expected["difference"])
    assert written["ci"] == pytest.approx(expected["ci"]) and written["p_value"] == pytest.approx(expected["p_value"])
    assert "| CCON |" in capsys.readouterr().out


def test_compare_refuses_runs_of_different_examples(tmp_path):
    _runs(tmp_path)
    write_seed_predictions(tmp_path / "C" / "seed-1" / "predictions.jsonl", [1, 0], references=[1, 1], ids=[0, 999])
    write_seed_predictions(tmp_path / "C" / "seed-2" / "predictions.jsonl", [1, 1], references=[1, 1], ids=[0, 999])
    with pytest.raises(SystemExit, match="not the same examples"):
        main(["compare", str(tmp_path / "A"), str(tmp_path / "C")])


def test_seeds_writes_the_table_json_and_png(tmp_path, capsys):
    rows, references = _runs(tmp_path)
    out = tmp_path / "seeds"
    assert main(["seeds", str(tmp_path / "A"), "--n_bootstrap", "50", "--target", "con=0.5", "-o", str(out)]) == 0
    result = json.loads((out / "seeds_needed.json").read_text())
    assert (out / "seeds_needed.png").stat().st_size > 0
    pair_con = [seed_consistency({a: rows["A"][a], b: rows["A"][b]})["con"] for a, b in ((1, 2), (1, 3), (2, 3))]
    assert result["rows"][0]["con_sd"] == pytest.approx(np.std(pair_con))
    assert result["seeds_needed"]["con"] == {"target": 0.5, "k": 3, "from": "measured"}
    assert "CON half-width <= 0.5: 3 seeds" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="expected metric=half-width"):
        main(["seeds", str(tmp_path / "A"), "--target", "con"])


def test_report_adds_per_task_differences_of_two_models(tmp_path, capsys):
    rows, references = _runs(tmp_path)
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "rep"), "--no-plots", "--compare_bootstrap", "100"]) == 0
    expected = compare_seed_consistency(rows["A"], rows["B"], references, n_bootstrap=100)
    csv_text = (tmp_path / "rep" / "differences.csv").read_text().splitlines()
    header, values = csv_text[0].split(","), csv_text[1].split(",")
    row = dict(zip(header, values))
    assert float(row["Δ CON (pp)"]) == pytest.approx(100 * expected["difference"]["con"])
    assert float(row["CON p"]) == pytest.approx(expected["p_value"]["con"])
    assert "Differences B - A" in capsys.readouterr().out


def test_compute_resample_option_reaches_the_metric(tmp_path):
    rows, references = _runs(tmp_path)
    out = tmp_path / "report.json"
    assert main(["compute", str(tmp_path / "A"), "--n_bootstrap", "50", "--resample", "seeds", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    expected = seed_consistency(rows["A"], references, n_bootstrap=50, resample="seeds")
    assert report["ci"] == pytest.approx(expected["ci"]) and report["ci_method"] == expected["ci_method"]
