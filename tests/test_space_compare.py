"""The Space's comparison page (/compare) and seeds panel (/seeds) on localhost, through gradio_client and chromium.

Point values are checked against brute force over seed pairs and scikit-learn; intervals, p-values and half-widths
against the metric's `compare_seed_consistency` / `seeds_needed` called with the same random_state (a separate
layer: the Space only reads, aligns and lays out).
"""

import itertools
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from scipy import stats as scipy_stats
from sklearn.metrics import accuracy_score

from seed_consistency_metric import compare_seed_consistency, seeds_needed
from spaces_app import app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
METRICS = ("con", "ccon", "var", "zeta_mean")
ROW_NAMES = {"con": "CON", "ccon": "CCON", "var": "VAR", "zeta_mean": "ζ (mean)"}


def _run(rng, references, n_seeds: int, accuracy: float) -> np.ndarray:
    """(S, N) predictions right with probability `accuracy`, else a random label of 0..2."""
    right = rng.random((n_seeds, len(references))) < accuracy
    return np.where(right, references, rng.integers(0, 3, (n_seeds, len(references))))


def _write_run(folder: Path, seeds, predictions, references, order=None) -> list[Path]:
    """One CSV per seed (id, prediction, label), rows in `order` (default: by id)."""
    folder.mkdir(parents=True, exist_ok=True)
    order = np.arange(len(references)) if order is None else order
    paths = []
    for seed, row in zip(seeds, predictions, strict=True):
        frame = pd.DataFrame({"id": np.arange(len(references)), "prediction": row, "label": references})
        frame.iloc[order].to_csv(folder / f"seed-{seed}.csv", index=False)
        paths.append(folder / f"seed-{seed}.csv")
    return paths


def _brute_force(predictions: np.ndarray, references: np.ndarray) -> dict:
    """CON / CCON as loops over every seed pair; VAR and mean zeta from sklearn's accuracy per seed."""
    pairs = list(itertools.combinations(range(len(predictions)), 2))
    zetas = [accuracy_score(references, row) for row in predictions]
    return {
        "con": np.mean([np.mean(predictions[a] == predictions[b]) for a, b in pairs]),
        "ccon": np.mean([np.mean((predictions[a] == references) & (predictions[b] == references)) for a, b in pairs]),
        "var": float(np.std(zetas)),
        "zeta_mean": float(np.mean(zetas)),
    }


def _compare(client, files_a, files_b, reference=None, paired=False, n_bootstrap=300, confidence=0.95) -> tuple:
    return client.predict(
        [handle_file(str(f)) for f in files_a],
        [handle_file(str(f)) for f in files_b],
        handle_file(str(reference)) if reference else None,
        "",
        "",
        "",
        "classification",
        "accuracy",
        0.0,
        "1",
        paired,
        n_bootstrap,
        confidence,
        api_name="/compare",
    )


def _fitted_t_half_width(fit: dict, k: int) -> float:
    """The fitted 95% t-interval half-width at k seeds: t_df / z x sqrt(example_part + seed_part / k), with the
    Satterthwaite df (k - 1)(1 + example_part k / seed_part)^2 in [k - 1, 1000] (normal from 1000 on)."""
    example_part, seed_part = fit["example_part"], fit["seed_part"]
    df = 1000 if seed_part == 0 else min(max((k - 1) * (1 + example_part * k / seed_part) ** 2, k - 1), 1000)
    z = scipy_stats.norm.ppf(0.975)
    return (z if df == 1000 else scipy_stats.t.ppf(0.975, df)) / z * math.sqrt(example_part + seed_part / k)


def _seeds(client, files, metric="con", target=0.005, n_bootstrap=60) -> tuple:
    return client.predict(
        [handle_file(str(f)) for f in files], None, "", "", "", "classification", "accuracy", 0.0, "1",
        metric, target, n_bootstrap, api_name="/seeds",
    )  # fmt: skip


def _number(cell: str) -> float:
    return float(cell.split(" ")[0])


def _interval(cell: str) -> list[float]:
    low, high = cell.split("[")[1].rstrip("]").split(", ")
    return [float(low), float(high)]


def test_compare_matches_brute_force_and_the_metric(client, tmp_path):
    rng = np.random.default_rng(5)
    references = rng.integers(0, 3, 150)
    pred_a, pred_b = _run(rng, references, 4, 0.65), _run(rng, references, 5, 0.8)
    files_a = _write_run(tmp_path / "a", [1, 2, 3, 4], pred_a, references)
    files_b = _write_run(tmp_path / "b", [11, 12, 13, 14, 15], pred_b, references, order=rng.permutation(150))
    status, table, figure, result = _compare(client, files_a, files_b, n_bootstrap=300, confidence=0.9)

    truth_a, truth_b = _brute_force(pred_a, references), _brute_force(pred_b, references)
    rows = {row[0]: dict(zip(table["headers"], row, strict=True)) for row in table["data"]}
    assert list(rows) == list(ROW_NAMES.values())
    expected = compare_seed_consistency(
        {s: r.tolist() for s, r in zip([1, 2, 3, 4], pred_a)},
        {s: r.tolist() for s, r in zip([11, 12, 13, 14, 15], pred_b)},
        references.tolist(),
        n_bootstrap=300,
        confidence_level=0.9,
        random_state=0,
    )
    for key, name in ROW_NAMES.items():
        difference = truth_b[key] - truth_a[key]
        assert result["difference"][key] == pytest.approx(difference, abs=1e-12), key
        assert result["a"][key] == pytest.approx(truth_a[key]) and result["b"][key] == pytest.approx(truth_b[key])
        assert _number(rows[name]["B − A"]) == pytest.approx(difference, abs=5e-5)
        assert _number(rows[name]["A"]) == pytest.approx(truth_a[key], abs=5e-5)
        assert _number(rows[name]["B"]) == pytest.approx(truth_b[key], abs=5e-5)
        assert result["ci"][key] == pytest.approx(expected["ci"][key]), key  # same draws as the metric
        assert result["p_value"][key] == pytest.approx(expected["p_value"][key])
        assert result["a"]["ci"][key] == pytest.approx(expected["a"]["ci"][key])
        assert _interval(rows[name]["B − A"]) == pytest.approx(expected["ci"][key], abs=5e-5)
        assert float(rows[name]["p-value (B − A = 0)"]) == pytest.approx(expected["p_value"][key], abs=5e-5)
        low, high = result["ci"][key]
        assert low <= difference <= high, key
    assert result["p_value"]["zeta_mean"] < 0.05 and result["ci"]["zeta_mean"][0] > 0  # B is clearly more accurate
    assert result["confidence_level"] == 0.9 and result["n_bootstrap"] == 300 and not result["paired_seeds"]
    assert status.startswith("**A: 4 seeds, B: 5 seeds, 150 examples**")
    assert "90% t-interval from variance components: 300 resamples" in status and "independent seeds" in status
    assert figure["plot"].startswith("data:image/png")

    files_b = _write_run(tmp_path / "b2", [1, 2, 3, 4], pred_b[:4], references)
    status, table, _, paired = _compare(client, files_a, files_b, paired=True, n_bootstrap=200)
    expected = compare_seed_consistency(
        pred_a, pred_b[:4], references, paired_seeds=True, n_bootstrap=200, seeds_a=[1, 2, 3, 4], seeds_b=[1, 2, 3, 4]
    )
    assert paired["paired_seeds"] and "paired seeds" in status
    for key in METRICS:
        assert paired["ci"][key] == pytest.approx(expected["ci"][key]), key


def test_compare_two_seeds_and_a_shared_reference_file(client, tmp_path):
    rng = np.random.default_rng(2)
    references = rng.integers(0, 3, 60)
    pred_a, pred_b = _run(rng, references, 2, 0.7), _run(rng, references, 3, 0.7)
    files_b = []
    for seed, row in zip([1, 2, 3], pred_b):  # B without labels: the reference file serves both runs
        files_b.append(tmp_path / f"b-seed-{seed}.csv")
        pd.DataFrame({"id": np.arange(60), "prediction": row}).to_csv(files_b[-1], index=False)
    pd.DataFrame({"id": np.arange(60), "label": references}).to_csv(tmp_path / "references.csv", index=False)
    files_a = _write_run(tmp_path / "a", [1, 2], pred_a, references)
    status, _, _, result = _compare(client, files_a, files_b, reference=tmp_path / "references.csv", n_bootstrap=100)
    assert "only 2 seeds" in status and "examples resampled, seeds fixed" in result["ci_method"]
    truth_a, truth_b = _brute_force(pred_a, references), _brute_force(pred_b, references)
    for key in METRICS:
        assert result["difference"][key] == pytest.approx(truth_b[key] - truth_a[key], abs=1e-12), key


def test_compare_bad_inputs_name_the_problem(client, tmp_path):
    rng = np.random.default_rng(3)
    references = rng.integers(0, 3, 40)
    pred = _run(rng, references, 3, 0.7)
    good = _write_run(tmp_path / "a", [1, 2, 3], pred, references)
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for path in good:  # B lacks the example with id 7
        pd.read_csv(path).query("id != 7").to_csv(fewer / path.name, index=False)
    no_ids = tmp_path / "no_ids"
    no_ids.mkdir()
    for path in good:
        pd.read_csv(path).drop(columns="id").to_csv(no_ids / path.name, index=False)
    relabelled = tmp_path / "relabelled"
    relabelled.mkdir()
    for path in good:  # a different reference label for id 5
        frame = pd.read_csv(path)
        frame.loc[frame.id == 5, "label"] = (frame.loc[frame.id == 5, "label"] + 1) % 3
        frame.to_csv(relabelled / path.name, index=False)
    short = [tmp_path / "short" / p.name for p in good]
    (tmp_path / "short").mkdir()
    for path, target in zip(no_ids.iterdir(), short):
        pd.read_csv(path).head(30).to_csv(target, index=False)
    renamed = _write_run(tmp_path / "renamed", [7, 8, 9], pred, references)
    cases = [
        (good, sorted(fewer.iterdir()), {}, "not the same examples (40 and 39 examples): id 7 of A is not in B"),
        (good, sorted(no_ids.iterdir()), {}, "A has example ids but B has none"),
        (sorted(no_ids.iterdir()), short, {}, "A has 40 examples but B has 30"),
        (good, sorted(relabelled.iterdir()), {}, "disagree on the reference label at id 5"),
        (good, renamed, {"paired": True}, "paired_seeds=True needs the same seeds in the same order"),
        (good, [good[0]], {}, "Could not read run B: found only 1 seed (seed-1.csv)"),
        (good, good, {"confidence": 0.999}, "Value 0.999 is greater than maximum value 0.99"),
    ]  # fmt: skip
    for files_a, files_b, options, message in cases:
        with pytest.raises(AppError) as caught:
            _compare(client, files_a, files_b, **options)
        assert message in str(caught.value), (message, str(caught.value))
    _, table, _, result = _compare(client, good, good, n_bootstrap=100)  # still serving; identical runs: 0
    assert all(result["difference"][key] == 0 for key in METRICS) and len(table["data"]) == 4


def test_seeds_panel_matches_brute_force_over_subsets_and_the_metric(client, tmp_path):
    rng = np.random.default_rng(8)
    references = rng.integers(0, 3, 120)
    predictions = _run(rng, references, 5, 0.75)
    files = _write_run(tmp_path / "run", [10, 20, 30, 40, 50], predictions, references)
    status, table, figure, result = _seeds(client, files, target=0.5, n_bootstrap=60)
    for row in result["rows"]:  # C(5, k) <= 10 subsets: every subset of k seeds
        k = row["k"]
        subsets = list(itertools.combinations(range(5), k))
        assert row["n_subsets"] == len(subsets)
        values = [_brute_force(predictions[list(s)], references) for s in subsets]
        for key in METRICS:
            assert row[f"{key}_mean"] == pytest.approx(np.mean([v[key] for v in values]), abs=1e-12), (k, key)
            assert row[f"{key}_sd"] == pytest.approx(np.std([v[key] for v in values]), abs=1e-12), (k, key)
        shown = table["data"][k - 2]
        assert shown[:2] == [k, len(subsets)]
        assert _number(shown[2]) == pytest.approx(row["con_mean"], abs=5e-5)
    expected = seeds_needed(predictions, references, target={"con": 0.5}, n_bootstrap=60, n_subsets=10,
                            seeds=[10, 20, 30, 40, 50])  # fmt: skip
    for got, want in zip(result["rows"], expected["rows"], strict=True):  # same draws as the metric
        for key in METRICS:
            if want["k"] == 2:  # no seed-level interval from 2 seeds
                assert got[f"{key}_half_width"] is None and want[f"{key}_half_width"] is None
            else:
                assert got[f"{key}_half_width"] == pytest.approx(want[f"{key}_half_width"]), (want["k"], key)
    assert result["seeds_needed"]["con"] == {"target": 0.5, "k": 3, "from": "measured"}  # any interval is this narrow
    assert status.startswith("**3 seeds** give a CON interval half-width of at most 0.5 (measured")
    assert figure["plot"].startswith("data:image/png")

    status, _, _, result = _seeds(client, files, metric="zeta_mean", target=0.01, n_bootstrap=60)
    fit = result["fit"]["zeta_mean"]
    measured = [r["zeta_mean_half_width"] for r in result["rows"] if r["zeta_mean_half_width"] is not None]
    assert min(measured) > 0.01  # the target lies beyond the 5 seeds: read off the fit
    needed = result["seeds_needed"]["zeta_mean"]
    if 0.01**2 <= fit["example_part"]:
        assert needed["k"] is None and "more test examples are needed" in status
    else:
        k = next(k for k in itertools.count(2) if _fitted_t_half_width(fit, k) <= 0.01)
        assert needed == {"target": 0.01, "k": k, "from": "extrapolated"}
        assert status.startswith(f"**{k} seeds** give a mean ζ interval half-width of at most 0.01 (extrapolated")


def test_seeds_panel_bad_inputs(client, tmp_path):
    rng = np.random.default_rng(9)
    references = rng.integers(0, 3, 30)
    files = _write_run(tmp_path / "run", [1, 2], _run(rng, references, 2, 0.7), references)
    with pytest.raises(AppError, match="needs at least 3 seeds for a seed-level interval"):
        _seeds(client, files)
    files = _write_run(tmp_path / "run3", [1, 2, 3], _run(rng, references, 3, 0.7), references)
    with pytest.raises(AppError, match="target must be positive half-widths"):
        _seeds(client, files, target=0)


def test_report_states_its_interval_method(client, tmp_path):
    rng = np.random.default_rng(4)
    references = rng.integers(0, 3, 50)
    files = _write_run(tmp_path / "run", [1, 2, 3], _run(rng, references, 3, 0.7), references)
    status, *_, report, _ = client.predict(
        [handle_file(str(f)) for f in files], None, "", "", "", "classification", "accuracy", 0.0, "1", 100, 5,
        api_name="/report",
    )  # fmt: skip
    assert "seeds and examples resampled together" in report["ci_method"]
    assert f"Intervals: {report['ci_method']}" in status
    status, *_, report, _ = client.predict(
        [handle_file(str(f)) for f in files[:2]], None, "", "", "", "classification", "accuracy", 0.0, "1", 100, 5,
        api_name="/report",
    )  # fmt: skip
    assert "examples resampled, seeds fixed" in report["ci_method"] and "Only 2 seeds" in status


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_browser_comparison_page(server, tmp_path):
    from playwright import sync_api

    rng = np.random.default_rng(6)
    references = rng.integers(0, 3, 80)
    pred_a, pred_b = _run(rng, references, 3, 0.6), _run(rng, references, 3, 0.85)
    files_a = [str(p) for p in _write_run(tmp_path / "a", [1, 2, 3], pred_a, references)]
    files_b = [str(p) for p in _write_run(tmp_path / "b", [1, 2, 3], pred_b, references)]
    difference = _brute_force(pred_b, references)["con"] - _brute_force(pred_a, references)["con"]
    shots = Path(os.environ.get("SPACE_SCREENSHOTS", tmp_path))  # set it to keep the screenshots
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})  # a laptop
        page.goto(server, wait_until="networkidle")
        page.get_by_text(app.COMPARE_PAGE).first.click()  # the navigation bar
        page.locator("#compare-files-a input[type=file]").set_input_files(files_a)
        page.locator("#compare-files-b input[type=file]").set_input_files(files_b)
        sync_api.expect(page.locator("#compare-found-b")).to_contain_text("Found 3 seeds", timeout=30_000)
        page.locator("#compare").click()
        table = page.locator("#compare-table")
        sync_api.expect(table).to_contain_text("CCON", timeout=60_000)
        first_row = table.locator("[role=gridcell][data-row='0']")
        sync_api.expect(first_row.nth(0)).to_have_text("CON")
        sync_api.expect(first_row.nth(3)).to_contain_text(f"{difference:.4f} [")  # B - A [interval]
        sync_api.expect(page.locator("#compare-plot img")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(shots / "compare-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 900})  # a phone
        page.screenshot(path=str(shots / "compare-phone.png"), full_page=True)

        page.locator("#compare-files-b input[type=file]").set_input_files(files_a)  # a new upload: old numbers go
        sync_api.expect(page.locator("#compare-table")).not_to_contain_text("CCON", timeout=60_000)
        sync_api.expect(page.locator("#compare-plot img")).to_have_count(0, timeout=30_000)
        sync_api.expect(page.locator("#compare-status")).to_be_empty()
        browser.close()
