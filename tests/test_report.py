"""`seed-consistency report` on run directories written here (no training): Table 1, Figure 3 and Figure 2
values against brute force / sklearn / scipy, PNG output, and clear one-line errors for bad run dirs."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import matthews_corrcoef

from seed_consistency_metric.cli import main
from seed_consistency_metric.paper_report import render_report
from seed_consistency_metric.predictions_io import write_seed_predictions

# (display name, benchmark, zeta, training size, examples, seeds, error rate of the simulated seeds)
TASKS = [
    ("CoLA", "GLUE", "mcc", 8551, 60, [42, 52, 62, 72], 0.3),
    ("RTE", "GLUE", "accuracy", 2490, 40, [42, 52, 62], 0.4),
    ("MRPC", "GLUE", "accuracy", 3668, 50, [42, 52, 62, 72], 0.2),
    ("COPA", "SuperGLUE", "accuracy", 400, 30, [42, 52], 0.45),
]


def write_run(root: Path, name: str, benchmark: str, zeta: str, train_size: int, n: int, seeds: list, noise: float,
              model: str = "tiny", done: bool = True) -> tuple[Path, dict]:  # fmt: skip
    """A finished run directory as `seed-consistency run` leaves it, with simulated predictions."""
    rng = np.random.default_rng(abs(hash((name, model))) % 2**32)
    run_dir = root / model / name
    references = rng.integers(0, 2, size=n).tolist()
    predictions = {}
    for seed in seeds:
        flip = rng.random(n) < noise
        predictions[seed] = [1 - r if f else r for r, f in zip(references, flip)]
        write_seed_predictions(run_dir / f"seed-{seed}" / "predictions.jsonl", predictions[seed], references)
        if done:
            (run_dir / f"seed-{seed}" / "DONE").write_text("{}")
    config = {"task": name.lower(), "display_name": name, "benchmark": benchmark, "zeta": zeta,
              "train_size": train_size, "model": model, "seeds": seeds}  # fmt: skip
    (run_dir / "run_config.json").write_text(json.dumps(config))
    return run_dir, {"predictions": predictions, "references": references}


def brute(raw: dict, zeta: str) -> dict:
    preds, refs = list(raw["predictions"].values()), raw["references"]
    n = len(refs)
    scores = [matthews_corrcoef(refs, p) if zeta == "mcc" else np.mean(np.equal(p, refs)) for p in preds]
    pairs = list(itertools.combinations(preds, 2))
    return {
        "zeta": scores,
        "zeta_mean": float(np.mean(scores)),
        "var": float(np.sqrt(np.mean((np.array(scores) - np.mean(scores)) ** 2))),
        "con": sum(sum(x == y for x, y in zip(a, b)) / n for a, b in pairs) / len(pairs),
        "ccon": sum(sum(x == y == r for x, y, r in zip(a, b, refs)) / n for a, b in pairs) / len(pairs),
    }


@pytest.fixture
def runs(tmp_path) -> dict:
    written = {}
    for name, benchmark, zeta, size, n, seeds, noise in TASKS:
        run_dir, raw = write_run(tmp_path / "runs", name, benchmark, zeta, size, n, seeds, noise)
        written[name] = {"dir": run_dir, "zeta_name": zeta, "size": size, "seeds": seeds, **brute(raw, zeta)}
    return written


def test_table1_csv_and_markdown_match_brute_force(tmp_path, runs, capsys):
    assert main(["report", str(tmp_path / "runs"), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    with (tmp_path / "out" / "table1.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Task"] for row in rows] == ["CoLA", "MRPC", "RTE", "COPA"]  # paper order, GLUE first
    for row in rows:
        expected = runs[row["Task"]]
        assert row["zeta"] == expected["zeta_name"]
        for column, key in (("zeta (%)", "zeta_mean"), ("VAR (%)", "var"), ("CON (%)", "con"), ("CCON (%)", "ccon")):
            assert float(row[column]) == pytest.approx(100 * expected[key], abs=1e-9)
        assert int(row["Seeds"]) == len(expected["seeds"])
        line = next(line for line in printed.splitlines() if f"| {row['Task']} |" in line)
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[4:8] == [f"{100 * expected[key]:.2f}" for key in ("zeta_mean", "var", "con", "ccon")]
    assert (tmp_path / "out" / "table1.md").read_text().strip() == printed.strip()


def test_figure3_normalised_zeta_and_figure2_correlations(tmp_path, runs):
    from seed_consistency_metric.paper_report.runs import load_runs
    from seed_consistency_metric.paper_report.tables import zeta_heatmap_data

    labels, seeds, matrix = zeta_heatmap_data(load_runs([tmp_path / "runs"]))
    assert seeds == [42, 52, 62, 72]
    assert labels == ["GLUE CoLA", "GLUE MRPC", "GLUE RTE", "SuperGLUE COPA"]
    for row, name in enumerate(["CoLA", "MRPC", "RTE", "COPA"]):
        zeta = np.array(runs[name]["zeta"])
        for column, seed in enumerate(seeds):
            if seed not in runs[name]["seeds"]:
                assert np.isnan(matrix[row, column])
                continue
            value = zeta[runs[name]["seeds"].index(seed)]
            span = zeta.max() - zeta.min()
            assert matrix[row, column] == pytest.approx(0.5 if span == 0 else (value - zeta.min()) / span)

    rendered = render_report([tmp_path / "runs"], tmp_path / "out")
    sizes = [runs[name]["size"] for name in runs]
    for metric in ("var", "con", "ccon"):
        expected = pearsonr(sizes, [runs[name][metric] for name in runs])[0]
        assert rendered.correlations["tiny"][metric] == pytest.approx(expected, abs=1e-12)
    assert rendered.correlations["tiny"]["n_tasks"] == 4
    for name in ("figure3_zeta_heatmap.png", "figure2_size_correlation.png"):
        image = matplotlib.image.imread(tmp_path / "out" / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert not (tmp_path / "out" / "pairwise_con.png").exists()  # only for a single run


def test_two_models_and_a_single_run(tmp_path):
    for model in ("bert", "roberta"):
        for name, benchmark, zeta, size, n, seeds, noise in TASKS[:2]:
            write_run(tmp_path / "runs", name, benchmark, zeta, size, n, seeds, noise, model=model)
    rendered = render_report([tmp_path / "runs" / "bert", tmp_path / "runs" / "roberta"], tmp_path / "out")
    assert [(row["Model"], row["Task"]) for row in rendered.rows] == [
        ("bert", "CoLA"), ("bert", "RTE"), ("roberta", "CoLA"), ("roberta", "RTE")]  # fmt: skip
    assert rendered.correlations == {}  # 2 tasks: no correlation, and a note says why
    assert any("Figure 2" in note for note in rendered.notes)
    assert not (tmp_path / "out" / "figure2_size_correlation.png").exists()

    single = render_report([tmp_path / "runs" / "bert" / "RTE"], tmp_path / "single")
    assert (tmp_path / "single" / "pairwise_con.png").is_file()
    assert len(single.rows) == 1


def test_report_csv_format_is_printed(tmp_path, runs, capsys):
    assert main(["report", str(runs["RTE"]["dir"]), "-o", str(tmp_path / "out"), "--format", "csv", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("Model,Benchmark,Task,zeta,zeta (%)")
    assert not list((tmp_path / "out").glob("*.png"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: root / "missing", "no such directory"),
        (lambda root: root.joinpath("empty").mkdir() or root / "empty", "no run directory here"),
        (
            lambda root: write_run(root, "RTE", "GLUE", "accuracy", 10, 5, [1, 2], 0.3, done=False)[0],
            "seeds [1, 2] are not finished",
        ),  # fmt: skip
    ],
)
def test_bad_run_dirs_end_with_one_line(tmp_path, make, message):
    with pytest.raises(SystemExit) as error:
        main(["report", str(make(tmp_path)), "-o", str(tmp_path / "out")])
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith("seed-consistency report: error:")


def test_unreadable_prediction_file_names_file_and_line(tmp_path):
    run_dir, _ = write_run(tmp_path, "RTE", "GLUE", "accuracy", 10, 5, [1, 2], 0.3)
    path = run_dir / "seed-2" / "predictions.jsonl"
    path.write_text(path.read_text().replace('"prediction"', '"prediction', 1))
    with pytest.raises(SystemExit) as error:
        main(["report", str(run_dir)])
    assert str(path) in str(error.value) and "line 1" in str(error.value)
