"""The real Space on localhost, called with gradio_client and driven by a headless chromium.

Numbers are checked against brute force over seed pairs and scikit-learn, never against the metric itself.
"""

import ast
import itertools
import json
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from sklearn.metrics import accuracy_score, matthews_corrcoef, mean_absolute_error

from seed_consistency_metric import seed_consistency
from seed_consistency_metric.predictions_io import seed_dir_name, write_seed_predictions, write_seed_probabilities
from spaces_app import app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUTS = ("status", "warnings", "summary", "per_seed", "pairwise", "seed_metric", "unstable", "report", "downloads")


def _data(n_seeds: int, n: int, seed: int = 0, labels=(0, 1, 2), accuracy: float = 0.7):
    """Random references and per-seed predictions that are right with probability `accuracy`."""
    rng = np.random.default_rng(seed)
    references = rng.choice(labels, n)
    predictions = np.where(rng.random((n_seeds, n)) < accuracy, references, rng.choice(labels, (n_seeds, n)))
    return predictions, references


def _brute_force(predictions, references, zeta=accuracy_score, agree=np.equal) -> dict:
    """CON / CCON by looping over every pair of seeds; VAR as the population std of sklearn's zeta."""
    pairs = list(itertools.combinations(range(len(predictions)), 2))
    con = {(a, b): float(np.mean(agree(predictions[a], predictions[b]))) for a, b in pairs}
    ccon = {(a, b): float(np.mean((predictions[a] == references) & (predictions[b] == references))) for a, b in pairs}
    zetas = [zeta(references, p) for p in predictions]
    per_example = [
        np.mean([agree(predictions[a][t], predictions[b][t]) for a, b in pairs]) for t in range(len(references))
    ]
    vote = [min(set(column), key=lambda v: (-list(column).count(v), v)) for column in np.asarray(predictions).T]
    return {
        "ensemble": zeta(references, vote),  # majority vote per example, ties to the smallest label
        "con": np.mean(list(con.values())),
        "ccon": np.mean(list(ccon.values())),
        "var": float(np.std(zetas)),
        "zeta": zetas,
        "zeta_mean": float(np.mean(zetas)),
        "con_pairs": con,
        "ccon_pairs": ccon,
        "agreement": per_example,
    }


def _report(client, files, reference=None, task="classification", zeta="accuracy", tolerance=0.0, n_bootstrap=200,
            top_k=10, columns=("", "", "")) -> dict:  # fmt: skip
    values = client.predict(
        [handle_file(str(f)) for f in files],
        handle_file(str(reference)) if reference else None,
        *columns,
        task,
        zeta,
        tolerance,
        "1",
        n_bootstrap,
        top_k,
        api_name="/report",
    )
    return dict(zip(OUTPUTS, values, strict=True))


def _cell_value(text: str) -> float:
    return float(text.split(" ")[0])


def _check_against(out: dict, expected: dict, seeds: list, tol: float = 1e-9):
    report = out["report"]
    assert report["seeds"] == seeds
    for key in ("con", "ccon", "var", "zeta_mean"):
        assert report[key] == pytest.approx(expected[key], abs=tol), key
        low, high = report["ci"][key]
        assert low - 1e-12 <= report[key] <= high + 1e-12, key
    assert report["zeta"] == pytest.approx(expected["zeta"], abs=tol)
    for (a, b), value in expected["con_pairs"].items():
        assert report["con_matrix"][a][b] == pytest.approx(value) == report["con_matrix"][b][a]
        assert report["ccon_matrix"][a][b] == pytest.approx(expected["ccon_pairs"][(a, b)])
    summary = dict(zip(out["summary"]["headers"], out["summary"]["data"][0], strict=True))
    for column, key in (("CON", "con"), ("CCON", "ccon"), ("VAR", "var"), ("ζ (mean)", "zeta_mean")):
        assert _cell_value(summary[column]) == pytest.approx(expected[key], abs=5e-5), column
        assert re.fullmatch(r"-?\d\.\d{4} \[-?\d\.\d{4}, -?\d\.\d{4}\]", summary[column]), summary[column]
    assert _cell_value(summary["ζ (ensemble)"]) == pytest.approx(expected["ensemble"], abs=5e-5)
    per_seed = out["per_seed"]["data"]
    assert [row[0] for row in per_seed] == [str(s) for s in seeds]
    for a, row in enumerate(per_seed):
        others = [expected["con_pairs"][tuple(sorted((a, b)))] for b in range(len(seeds)) if b != a]
        assert _cell_value(row[1]) == pytest.approx(expected["zeta"][a], abs=5e-5)
        assert _cell_value(row[2]) == pytest.approx(np.mean(others), abs=5e-5)
    shown = [_cell_value(row[3]) for row in out["unstable"]["data"]]
    assert shown == pytest.approx(sorted(expected["agreement"])[: len(shown)], abs=5e-5)


def test_per_seed_csv_files_match_brute_force_and_downloads(client, tmp_path):
    predictions, references = _data(4, 120, seed=1)
    seeds = [42, 52, 62, 72]
    rng = np.random.default_rng(3)
    files = []
    for seed, row in zip(seeds, predictions, strict=True):
        order = rng.permutation(len(references))  # every file lists the examples in its own order
        frame = pd.DataFrame({"id": np.arange(len(references)), "prediction": row, "label": references})
        frame.iloc[order].to_csv(tmp_path / f"seed-{seed}.csv", index=False)
        files.append(tmp_path / f"seed-{seed}.csv")
    out = _report(client, files)
    _check_against(out, _brute_force(predictions, references), seeds)
    assert out["status"].startswith(
        "**4 seeds x 120 examples**, classification (6 seed pairs; 95% bootstrap CIs from 200"
    )
    assert out["pairwise"]["type"] == "matplotlib" and out["seed_metric"]["plot"].startswith("data:image/png")

    examples_path, csv_path, json_path = sorted(out["downloads"], key=lambda p: Path(p).name)
    assert [Path(p).name for p in (examples_path, csv_path, json_path)] == [
        "seed_consistency_examples.csv",
        "seed_consistency_report.csv",
        "seed_consistency_report.json",
    ]
    downloaded = json.loads(Path(json_path).read_text())
    assert downloaded["con"] == out["report"]["con"] and sorted(downloaded["ids"]) == list(range(120))
    tidy = pd.read_csv(csv_path)
    pairs = tidy[(tidy.scope == "pair") & (tidy.metric == "con")]
    assert len(pairs) == 6
    for row in pairs.itertuples():
        a, b = seeds.index(row.seed_a), seeds.index(row.seed_b)
        assert row.value == pytest.approx(_brute_force(predictions, references)["con_pairs"][(a, b)])
    summary = tidy[tidy.scope == "summary"].set_index("metric")
    assert summary.loc["con", "ci_low"] <= summary.loc["con", "value"] <= summary.loc["con", "ci_high"]
    examples = pd.read_csv(examples_path)
    columns = ["id", "reference", "majority", "share of seed pairs agreeing", "seeds correct"]
    assert list(examples.columns[:5]) == columns
    assert examples.sort_values("id")["seeds correct"].tolist() == (predictions == references).sum(axis=0).tolist()


def test_run_directory_zip_string_labels_and_mcc(client, tmp_path):
    names = np.array(["entailment", "not_entailment"])
    predictions, references = _data(3, 90, seed=2, labels=(0, 1))
    seeds = [42, 52, 62]
    run = tmp_path / "run"
    for seed, row in zip(seeds, predictions, strict=True):
        write_seed_predictions(run / seed_dir_name(seed) / "predictions.jsonl", names[row], names[references])
    with zipfile.ZipFile(tmp_path / "run.zip", "w") as archive:
        for path in run.rglob("*"):
            archive.write(path, path.relative_to(tmp_path))
    out = _report(client, [tmp_path / "run.zip"], zeta="mcc")
    _check_against(out, _brute_force(predictions, references, zeta=matthews_corrcoef), seeds)
    assert out["report"]["zeta_name"] == "mcc"


def test_run_directory_with_probabilities_gives_soft_con_and_the_probability_ensemble(client, tmp_path):
    rng = np.random.default_rng(3)
    seeds, n = [42, 52, 62], 70
    references = rng.integers(0, 3, n)
    probabilities = rng.dirichlet(np.ones(3), size=(3, n))
    predictions = probabilities.argmax(axis=2)
    run = tmp_path / "run"
    for seed, row, probs in zip(seeds, predictions, probabilities, strict=True):
        write_seed_predictions(run / seed_dir_name(seed) / "predictions.jsonl", row, references)
        write_seed_probabilities(run / seed_dir_name(seed) / "probabilities.npy", probs)
    with zipfile.ZipFile(tmp_path / "run.zip", "w") as archive:
        for path in run.rglob("*"):
            archive.write(path, path.relative_to(tmp_path))
    out = _report(client, [tmp_path / "run.zip"])
    _check_against(out, _brute_force(predictions, references), seeds)
    stored = probabilities.astype(np.float32).astype(np.float64)  # the files hold float32
    pairs = list(itertools.combinations(range(3), 2))
    soft_con = np.mean([1 - 0.5 * np.abs(stored[a] - stored[b]).sum(axis=1).mean() for a, b in pairs])
    true_class = stored[:, np.arange(n), references]
    soft_ccon = np.mean([(true_class[a] * true_class[b]).mean() for a, b in pairs])
    vote = accuracy_score(references, stored.mean(axis=0).argmax(axis=1))
    summary = dict(zip(out["summary"]["headers"], out["summary"]["data"][0], strict=True))
    assert _cell_value(summary["soft CON"]) == pytest.approx(soft_con, abs=5e-5)
    assert _cell_value(summary["soft CCON"]) == pytest.approx(soft_ccon, abs=5e-5)
    assert _cell_value(summary["ζ (ensemble of probabilities)"]) == pytest.approx(vote, abs=5e-5)


def test_wide_parquet_npy_and_jsonl_with_reference_file(client, tmp_path):
    predictions, references = _data(3, 80, seed=4)
    wide = pd.DataFrame({f"seed_{s}": row for s, row in zip((1, 2, 3), predictions, strict=True)})
    wide.insert(0, "idx", [f"q{k}" for k in range(80)])
    wide.to_parquet(tmp_path / "wide.parquet")
    refs = pd.DataFrame({"idx": wide["idx"], "label": references}).iloc[::-1]
    refs.to_json(tmp_path / "refs.jsonl", orient="records", lines=True)
    expected = _brute_force(predictions, references)
    _check_against(_report(client, [tmp_path / "wide.parquet"], tmp_path / "refs.jsonl"), expected, [1, 2, 3])

    for seed, row in zip((7, 8, 9), predictions, strict=True):
        np.save(tmp_path / f"seed-{seed}.npy", row)
    (tmp_path / "refs.json").write_text(json.dumps(references.tolist()))
    npy = [tmp_path / f"seed-{s}.npy" for s in (7, 8, 9)]
    _check_against(_report(client, npy, tmp_path / "refs.json"), expected, [7, 8, 9])


def test_regression_with_tolerance_and_mae(client, tmp_path):
    rng = np.random.default_rng(5)
    references = rng.normal(size=60).round(2)
    predictions = (references + rng.normal(scale=0.3, size=(3, 60))).round(2)
    for seed, row in zip((1, 2, 3), predictions, strict=True):
        pd.DataFrame({"prediction": row, "label": references}).to_csv(tmp_path / f"seed-{seed}.tsv", sep="\t")
    out = _report(client, [tmp_path / f"seed-{s}.tsv" for s in (1, 2, 3)], task="regression", zeta="mae",
                  tolerance=0.25, n_bootstrap=0)  # fmt: skip
    report = out["report"]
    pairs = list(itertools.combinations(range(3), 2))
    within = [np.mean(np.abs(predictions[a] - predictions[b]) <= 0.25 + 1e-12) for a, b in pairs]
    assert report["con"] == pytest.approx(np.mean(within))
    maes = [mean_absolute_error(references, p) for p in predictions]
    assert report["zeta"] == pytest.approx(maes) and report["var"] == pytest.approx(np.std(maes))
    summary = dict(zip(out["summary"]["headers"], out["summary"]["data"][0], strict=True))
    assert "ci" not in report and "[" not in summary["CON"]


def test_token_classification_and_generation_from_jsonl(client, tmp_path):
    rng = np.random.default_rng(6)
    tags = np.array(["O", "B-PER", "I-PER", "B-LOC"])
    lengths = rng.integers(1, 8, 40)
    references = [rng.choice(tags, n) for n in lengths]
    predictions = [[np.where(rng.random(n) < 0.8, ref, rng.choice(tags, n)) for ref, n in zip(references, lengths)]
                   for _ in range(3)]  # fmt: skip
    for seed, rows in zip((1, 2, 3), predictions, strict=True):
        with open(tmp_path / f"seed-{seed}.jsonl", "w") as handle:
            for k, (row, ref) in enumerate(zip(rows, references, strict=True)):
                handle.write(json.dumps({"id": k, "prediction": row.tolist(), "label": ref.tolist()}) + "\n")
    out = _report(client, [tmp_path / f"seed-{s}.jsonl" for s in (1, 2, 3)], task="token_classification")
    pairs = list(itertools.combinations(range(3), 2))
    con = np.mean([np.mean([np.mean(p[a][t] == p[b][t]) for t in range(40)]) for p in [predictions] for a, b in pairs])
    ccon = np.mean(
        [np.mean([np.mean((predictions[a][t] == r) & (predictions[b][t] == r)) for t, r in enumerate(references)])
         for a, b in pairs]
    )  # fmt: skip
    flat_refs = np.concatenate(references)
    zetas = [accuracy_score(flat_refs, np.concatenate(rows)) for rows in predictions]
    report = out["report"]
    assert report["con"] == pytest.approx(con) and report["ccon"] == pytest.approx(ccon)
    assert report["zeta"] == pytest.approx(zetas) and report["var"] == pytest.approx(np.std(zetas))

    answers = np.array(["paris", "london", "rome", "berlin"])
    truth = rng.choice(answers, 30)
    outputs = np.where(rng.random((2, 30)) < 0.6, truth, rng.choice(answers, (2, 30)))
    for seed, row in zip((5, 6), outputs, strict=True):
        pd.DataFrame({"output": row, "answer": truth}).to_json(tmp_path / f"gen-seed-{seed}.jsonl", orient="records",
                                                               lines=True)  # fmt: skip
    files = [tmp_path / f"gen-seed-{s}.jsonl" for s in (5, 6)]
    out = _report(client, files, task="generation", zeta="exact_match", columns=("", "", "answer"))
    assert out["report"]["con"] == pytest.approx(np.mean(outputs[0] == outputs[1]))
    assert out["report"]["zeta"] == pytest.approx([np.mean(row == truth) for row in outputs])


def test_inspect_endpoint_reports_what_was_found(client, tmp_path):
    predictions, references = _data(2, 10)
    wide = pd.DataFrame({"seed_42": predictions[0], "seed_52": predictions[1], "label": references})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    found = client.predict([handle_file(str(tmp_path / "wide.csv"))], None, "", "", "", api_name="/inspect")
    assert found.startswith("**Found 2 seeds** (42, 52)")
    assert "predictions from 'seed_42', 'seed_52'" in found and "references from 'label'" in found


@pytest.mark.parametrize("task", sorted(app.ZETA_CHOICES))
def test_zeta_choices_are_exactly_what_the_metric_accepts(task):
    data = {
        "classification": ([[0, 1, 1], [1, 1, 0]], [0, 1, 1]),
        "regression": ([[0.5, 1.0, 2.0], [0.7, 1.1, 1.5]], [0.6, 1.0, 2.0]),
        "token_classification": ([[["O", "B"], ["O"]], [["O", "O"], ["B"]]], [["O", "B"], ["B"]]),
        "generation": ([["a cat", "dog"], ["a cat", "cow"]], ["cat", "dog"]),
    }[task]
    for zeta in app.ZETA_CHOICES[task]:
        assert seed_consistency(*data, task=task, zeta=zeta)["zeta_name"] == zeta
    with pytest.raises(ValueError, match="choose one of") as caught:
        seed_consistency(*data, task=task, zeta="no-such-metric")
    accepted = re.search(r"choose one of (\[.*?\])", str(caught.value)).group(1)
    assert sorted(app.ZETA_CHOICES[task]) == ast.literal_eval(accepted)


def _write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_bad_uploads_give_clear_errors_and_the_app_keeps_serving(client, tmp_path):
    good = "id,prediction,label\n1,0,0\n2,1,1\n3,1,0\n"
    np.save(tmp_path / "seed-9.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    cases = [
        ([_write(tmp_path / "seed-1.csv", good), _write(tmp_path / "seed-2.csv", "id,x,y\n1,0,0\n")],
         "seed-2.csv: cannot tell which column holds the predictions"),
        ([tmp_path / "seed-1.csv", _write(tmp_path / "seed-3.csv", "prediction\n1\n")],
         "seed-1.csv has an id column but seed-3.csv (seed 3) has none"),
        ([tmp_path / "seed-1.csv", _write(tmp_path / "seed-4.csv", good.replace("3,1,0", "5,1,0"))],
         "Seed 4 misses id 3"),
        ([tmp_path / "seed-1.csv", _write(tmp_path / "seed-5.csv", b"prediction\n\xff\xfe\n")],
         "seed-5.csv: not UTF-8 text (byte 0xff at offset 11)"),
        ([tmp_path / "seed-1.csv", _write(tmp_path / "seed-6.jsonl", "\n\n")], "seed-6.jsonl: the file is empty"),
        ([tmp_path / "seed-1.csv", tmp_path / "seed-9.npy"], "seed-9.npy: holds a pickled object array"),
        ([_write(tmp_path / "seed-7.csv", "prediction\na\nb\n"), _write(tmp_path / "seed-8.csv", "prediction\n0\n1\n")],
         "mixed label types: seed-8.csv row 1 (seed 8) has the prediction 0 (number), but seed-7.csv row 1 (seed 7)"),
    ]  # fmt: skip
    for files, message in cases:
        with pytest.raises(AppError) as caught:
            _report(client, files)
        assert message in str(caught.value), str(caught.value)
    predictions, references = _data(2, 30)
    for seed, row in zip((1, 2), predictions, strict=True):
        pd.DataFrame({"prediction": row, "label": references}).to_csv(tmp_path / f"ok-seed-{seed}.csv")
    out = _report(client, [tmp_path / "ok-seed-1.csv", tmp_path / "ok-seed-2.csv"])
    assert out["report"]["con"] == pytest.approx(np.mean(predictions[0] == predictions[1]))


def test_upload_over_the_size_limit_is_refused_by_the_server(server, client, tmp_path):
    big = tmp_path / "seed-1.csv"
    with open(big, "wb") as handle:
        handle.write(b"prediction\n")
        handle.truncate(app.MAX_FILE_BYTES + 1024)
    with pytest.raises(ValueError, match="exceeds the maximum file size of 52428800 bytes"):
        _report(client, [big, big])  # gradio_client reads the limit from the app's config
    raw = httpx.post(f"{server}gradio_api/upload", files={"files": ("seed-1.csv", big.read_bytes())}, timeout=60)
    assert raw.status_code == 413 and "maximum allowed size of 52428800 bytes" in raw.text


def test_twenty_concurrent_clients_all_get_their_own_correct_report(server, tmp_path):
    jobs = []
    for k in range(20):
        predictions, references = _data(2 + k % 4, 50 + 5 * k, seed=100 + k)
        files = []
        for s, row in enumerate(predictions):
            path = tmp_path / f"client{k}" / f"seed-{s}.jsonl"
            path.parent.mkdir(exist_ok=True)
            pd.DataFrame({"prediction": row, "label": references}).to_json(path, orient="records", lines=True)
            files.append(path)
        jobs.append((files, _brute_force(predictions, references)))

    def call(job):
        files, expected = job
        out = _report(Client(server, verbose=False), files, n_bootstrap=100)
        return out["report"], expected

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, jobs, timeout=240))
    assert len(results) == 20
    for report, expected in results:
        assert report["con"] == pytest.approx(expected["con"]) and report["ccon"] == pytest.approx(expected["ccon"])
        assert report["n_seeds"] == len(expected["zeta"])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
def test_browser_upload_compute_and_rendered_table(server, tmp_path):
    from playwright import sync_api  # a dev dependency; only chromium may be missing

    predictions, references = _data(3, 50, seed=9)
    files = []
    for seed, row in zip((42, 52, 62), predictions, strict=True):
        pd.DataFrame({"id": range(50), "prediction": row, "label": references}).to_csv(tmp_path / f"seed-{seed}.csv")
        files.append(str(tmp_path / f"seed-{seed}.csv"))
    expected = _brute_force(predictions, references)
    _write(tmp_path / "seed-1.csv", b"prediction\n\xff\n")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(server, wait_until="networkidle")
        page.locator("#prediction-files input[type=file]").set_input_files(files)
        sync_api.expect(page.locator("#status")).to_contain_text("Found 3 seeds", timeout=30_000)
        page.locator("#compute").click()
        table = page.locator("#summary-table")
        sync_api.expect(table).to_contain_text("accuracy", timeout=60_000)
        sync_api.expect(page.locator("#status")).to_contain_text("3 seeds x 50 examples, classification")
        headers = table.locator("[role=columnheader]").evaluate_all("cells => cells.map(c => c.title)")
        cells = [c.strip() for c in table.locator("[role=gridcell][data-row='0']").all_inner_texts()]
        row = dict(zip(headers, cells, strict=True))
        assert _cell_value(row["CON"]) == pytest.approx(expected["con"], abs=5e-5), row
        assert _cell_value(row["CCON"]) == pytest.approx(expected["ccon"], abs=5e-5), row
        assert _cell_value(row["VAR"]) == pytest.approx(expected["var"], abs=5e-5), row
        sync_api.expect(page.locator("#pairwise-plot img")).to_be_visible(timeout=30_000)
        sync_api.expect(page.locator("#unstable-table")).to_contain_text("seed 62")
        page.screenshot(path=str(tmp_path / "space.png"), full_page=True)

        page.locator("#prediction-files input[type=file]").set_input_files([files[0], str(tmp_path / "seed-1.csv")])
        sync_api.expect(page.locator("#status")).to_contain_text("seed-1.csv: not UTF-8 text", timeout=30_000)
        page.locator("#compute").click()
        toast = page.locator("[data-testid=toast-body]")  # the error pop-up of the failed click
        sync_api.expect(toast).to_contain_text("seed-1.csv: not UTF-8 text (byte 0xff at offset 11)", timeout=30_000)
        assert page.evaluate("() => fetch('/config').then(r => r.ok)")  # the server keeps serving
        browser.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium (/usr/bin/chromium) is not installed")
    from playwright import sync_api  # a dev dependency; only chromium may be missing

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _seed_files(folder: Path, predictions, references, seeds) -> list[str]:
    folder.mkdir(exist_ok=True)
    for seed, row in zip(seeds, predictions, strict=True):
        frame = pd.DataFrame({"id": range(len(references)), "prediction": row, "label": references})
        frame.to_csv(folder / f"seed-{seed}.csv", index=False)
    return [str(folder / f"seed-{seed}.csv") for seed in seeds]


def _open_report(browser, server, files, width: int):
    """A page at `width` px showing the report of `files` (summary, figures and downloads rendered)."""
    from playwright import sync_api

    page = browser.new_page(viewport={"width": width, "height": 1400})
    page.goto(server, wait_until="networkidle")
    page.locator("#prediction-files input[type=file]").set_input_files(files)
    sync_api.expect(page.locator("#status")).to_contain_text(f"Found {len(files)} seeds", timeout=30_000)
    page.locator("#compute").click()
    sync_api.expect(page.locator("#summary-table [role=gridcell]").first).to_be_visible(timeout=60_000)
    sync_api.expect(page.locator("#pairwise-plot img")).to_be_visible(timeout=30_000)
    sync_api.expect(page.locator("#downloads a")).to_have_count(3)  # the report's JSON, CSV and examples CSV
    return page


def _choose_task(page, task: str) -> None:
    from playwright import sync_api

    page.get_by_label("Task").click()
    page.get_by_role("option", name=task, exact=True).click()
    zeta = app.ZETA_CHOICES[task][0]  # the page switches ζ to the task's default: wait for it before Compute
    sync_api.expect(page.get_by_label("ζ (metric)")).to_have_value(zeta, timeout=30_000)


def _expect_no_report(page):
    """Every report output is empty: no table rows, no figure, no download."""
    from playwright import sync_api

    for table in ("#summary-table", "#per-seed-table", "#unstable-table"):
        sync_api.expect(page.locator(f"{table} [role=gridcell]")).to_have_count(0, timeout=30_000)
    for figure in ("#pairwise-plot", "#seed-metric-plot"):
        sync_api.expect(page.locator(f"{figure} img")).to_have_count(0)
    sync_api.expect(page.locator("#downloads a")).to_have_count(0)


def test_browser_no_stale_report_after_a_bad_upload_a_failed_compute_or_a_cleared_upload(server, browser, tmp_path):
    from playwright import sync_api

    predictions, references = _data(3, 40, seed=11)
    files = _seed_files(tmp_path, predictions, references, (42, 52, 62))
    page = _open_report(browser, server, files, 1400)
    _write(tmp_path / "seed-1.csv", b"prediction\n\xff\n")  # a new upload that cannot be read
    page.locator("#prediction-files input[type=file]").set_input_files([files[0], str(tmp_path / "seed-1.csv")])
    sync_api.expect(page.locator("#status")).to_contain_text("seed-1.csv: not UTF-8 text", timeout=30_000)
    _expect_no_report(page)

    page.locator("#prediction-files button[aria-label='Clear']").first.click()
    page.locator("#prediction-files input[type=file]").set_input_files(files)
    sync_api.expect(page.locator("#status")).to_contain_text("Found 3 seeds", timeout=30_000)
    page.locator("#compute").click()
    sync_api.expect(page.locator("#downloads a")).to_have_count(3, timeout=60_000)
    _choose_task(page, "generation")
    page.locator("#compute").click()  # int labels are no generation outputs: this report fails
    toast = page.locator("[data-testid=toast-body]")
    sync_api.expect(toast).to_contain_text("Could not compute the report", timeout=30_000)
    sync_api.expect(toast).to_contain_text("generation needs strings")
    sync_api.expect(page.locator("#status")).to_contain_text("No report", timeout=30_000)
    _expect_no_report(page)

    _choose_task(page, "classification")
    page.locator("#compute").click()
    sync_api.expect(page.locator("#downloads a")).to_have_count(3, timeout=60_000)
    page.locator("#prediction-files button[aria-label='Clear']").first.click()  # remove the upload
    _expect_no_report(page)
    sync_api.expect(page.locator("#status")).to_have_text("")
    page.locator("#compute").click()
    sync_api.expect(toast.last).to_contain_text("No predictions uploaded", timeout=30_000)
    page.close()


def _cell_colours(png: bytes, report: dict, cells) -> list[np.ndarray]:
    """RGB of the rendered pairwise PNG a little off the centre of each (row, column) cell of the CON panel.

    The cell positions come from the same figure drawn here (only its geometry is used, not its colours).
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from spaces_app.plots import pairwise_figure

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    figure = pairwise_figure(report)
    FigureCanvasAgg(figure).draw()
    height = figure.bbox.height
    assert image.shape[:2] == (round(height), round(figure.bbox.width))
    colours = []
    for a, b in cells:
        x, y = figure.axes[0].transData.transform((b + 0.3, a + 0.3))  # off the cell's number
        colours.append(image[int(round(height - y)), int(round(x))].astype(float))
    return colours


def test_browser_heatmap_colours_span_the_data_and_show_their_scale(server, browser, tmp_path):
    import base64

    predictions, references = _data(4, 300, seed=12, accuracy=0.93)  # CON between seeds: about 0.86-0.92
    files = _seed_files(tmp_path, predictions, references, (1, 2, 3, 4))
    expected = _brute_force(predictions, references)
    page = _open_report(browser, server, files, 1400)
    image = page.locator("#pairwise-plot img")
    png = base64.b64decode(image.get_attribute("src").split(",", 1)[1])
    # numbers readable at a normal width: the PNG (10 pt cell numbers at 100 dpi) is shown at >= 90% of its size
    shown, natural = image.evaluate("img => [img.getBoundingClientRect().width, img.naturalWidth]")
    assert shown >= 0.9 * natural, (shown, natural)
    page.close()

    pairs = expected["con_pairs"]
    low, high = min(pairs, key=pairs.get), max(pairs, key=pairs.get)
    assert pairs[high] - pairs[low] < 0.1  # a 0-1 scale would paint these cells almost alike
    report = seed_consistency(predictions, references, seeds=[1, 2, 3, 4], pairwise=True)
    dark, bright, diagonal = _cell_colours(png, report, [low, high, (0, 0)])
    assert np.linalg.norm(bright - dark) > 150, (dark, bright)  # the ends of the colour map
    assert np.allclose(diagonal, 217, atol=3), diagonal  # grey: a seed with itself is off the scale

    from spaces_app.plots import pairwise_figure, seed_metric_figure

    figure = pairwise_figure(report)
    con_bar = figure.axes[2]  # panels first, then one colour bar per panel
    assert con_bar.get_ylim() == pytest.approx((pairs[low], pairs[high]))
    assert f"{pairs[low]:.3f} to {pairs[high]:.3f}" in con_bar.get_ylabel()
    assert "diagonal" in figure.axes[0].get_xlabel() and "diagonal" in figure.axes[1].get_xlabel()
    seed_bar = seed_metric_figure(report).axes[1]
    assert seed_bar.get_ylabel() == "each column has its own colour scale"


def test_browser_phone_width_keeps_numbers_on_one_line(server, browser, tmp_path):
    predictions, references = _data(5, 120, seed=13, accuracy=0.9)
    files = _seed_files(tmp_path, predictions, references, (42, 52, 62, 72, 82))
    for width in (1400, 420):
        page = _open_report(browser, server, files, width)
        page.screenshot(path=str(tmp_path / f"space-{width}px.png"), full_page=True)
        cells = page.locator("#summary-table [role=gridcell]")
        lines = cells.evaluate_all(
            """cells => cells.map(cell => {  // the distinct line tops of the cell's text
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), tops = new Set();
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    if (!node.textContent.trim() || !node.parentElement.offsetParent) continue;  // blank or hidden
                    const range = document.createRange();
                    range.selectNodeContents(node);
                    for (const rect of range.getClientRects()) tops.add(Math.round(rect.top));
                }
                return [cell.innerText.trim(), tops.size];
            })"""
        )
        texts = [text for text, _ in lines]
        assert any(re.fullmatch(r"\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]", t) for t in texts), texts
        assert all(n == 1 for _, n in lines), (width, lines)  # every number on one line
        if width == 420:  # a figure keeps a readable size (the page scrolls it sideways), not a thumbnail
            shown = page.locator("#pairwise-plot img").evaluate("img => img.getBoundingClientRect().width")
            assert shown >= 600, shown
        page.close()


def test_report_shows_the_metrics_warnings_beside_the_summary(client, tmp_path):
    predictions, references = _data(3, 40, seed=14)
    predictions[2] = 1  # seed 3 predicts one label everywhere
    for seed, row in zip((1, 2, 3), predictions, strict=True):
        pd.DataFrame({"prediction": row, "label": references}).to_csv(tmp_path / f"seed-{seed}.csv", index=False)
    out = _report(client, [tmp_path / f"seed-{s}.csv" for s in (1, 2, 3)], n_bootstrap=0)
    assert out["warnings"].startswith("### ⚠️ Read these numbers with care")
    assert "- seed 3 predicts a single label (1) on every example" in out["warnings"]
    good = _report(client, [tmp_path / f"seed-{s}.csv" for s in (1, 2)], n_bootstrap=0)
    assert good["warnings"] == ""


def test_upload_check_names_file_row_and_seed_of_mixed_labels(client, tmp_path):
    _write(tmp_path / "seed-1.jsonl", '{"id": 1, "prediction": 1}\n{"id": 2, "prediction": "1"}\n')
    _write(tmp_path / "seed-2.jsonl", '{"id": 1, "prediction": 1}\n{"id": 2, "prediction": 0}\n')
    files = [handle_file(str(tmp_path / f"seed-{s}.jsonl")) for s in (1, 2)]
    found = client.predict(files, None, "", "", "", api_name="/inspect")
    assert found.startswith("**Could not read the upload:** mixed label types: seed-1.jsonl row 2 (seed 1) has the")
