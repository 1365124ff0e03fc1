"""Upload readers of predictions_io (used by the Space and the CLI): every format, layout and bad input."""

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seed_consistency_metric.predictions_io import load_uploaded_predictions, seed_dir_name, write_seed_predictions

SEEDS = (42, 52, 62)
N = 40
GLUE_RTE = Path(__file__).resolve().parents[2] / "shared" / "data" / "RTE" / "dev.tsv"


@pytest.fixture(scope="module")
def truth():
    """Ground truth: ids, references and each seed's predictions (int labels 0-2), in one canonical order."""
    rng = np.random.default_rng(7)
    ids = [f"ex{k}" for k in range(N)]
    references = rng.integers(0, 3, N).tolist()
    predictions = {seed: [r if rng.random() < 0.7 else int(rng.integers(0, 3)) for r in references] for seed in SEEDS}
    return {"ids": ids, "references": references, "predictions": predictions}


def _shuffled_frame(truth, seed: int, columns=("id", "prediction", "label")) -> pd.DataFrame:
    frame = pd.DataFrame(
        dict(zip(columns, (truth["ids"], truth["predictions"][seed], truth["references"]), strict=False))
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _write_per_seed(frame: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".parquet":
        frame.to_parquet(path)
    return path


def _assert_matches(loaded, truth, seeds=SEEDS, with_references=True):
    """Loaded rows equal the truth example by example (whatever order the loader chose)."""
    assert loaded.seeds == list(seeds)
    order = [truth["ids"].index(i) for i in loaded.ids] if loaded.ids is not None else list(range(N))
    assert sorted(order) == list(range(N))
    for seed, row in zip(loaded.seeds, loaded.predictions, strict=True):
        assert row == [truth["predictions"][seed][k] for k in order], f"seed {seed}"
    if with_references:
        assert loaded.references == [truth["references"][k] for k in order]
    else:
        assert loaded.references is None


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet"])
def test_one_shuffled_file_per_seed_is_aligned_by_id(tmp_path, truth, suffix):
    paths = [_write_per_seed(_shuffled_frame(truth, s), tmp_path / f"seed-{s}{suffix}") for s in SEEDS]
    notes = []
    loaded = load_uploaded_predictions(paths, notes=notes)
    _assert_matches(loaded, truth)
    assert any("by id" in n for n in notes)


def test_json_object_of_columns_and_npy_with_separate_references(tmp_path, truth):
    for seed in SEEDS[:2]:
        (tmp_path / f"preds_seed{seed}.json").write_text(json.dumps({"predictions": truth["predictions"][seed]}))
    np.save(tmp_path / f"seed{SEEDS[2]}.npy", np.asarray(truth["predictions"][SEEDS[2]], dtype=np.int64))
    (tmp_path / "refs.json").write_text(json.dumps(truth["references"]))
    paths = [tmp_path / "preds_seed42.json", tmp_path / "preds_seed52.json", tmp_path / "seed62.npy"]
    loaded = load_uploaded_predictions(paths, tmp_path / "refs.json")
    assert loaded.ids is None
    _assert_matches(loaded, truth)


def test_reference_file_with_ids_is_matched_by_id(tmp_path, truth):
    paths = [_write_per_seed(_shuffled_frame(truth, s, ("idx", "pred")), tmp_path / f"s-seed-{s}.tsv") for s in SEEDS]
    refs = pd.DataFrame({"guid": truth["ids"], "gold": truth["references"]}).iloc[::-1]
    refs.to_json(tmp_path / "refs.jsonl", orient="records", lines=True)
    _assert_matches(load_uploaded_predictions(paths, tmp_path / "refs.jsonl"), truth)


def test_wide_long_and_2d_npy_files(tmp_path, truth):
    wide = pd.DataFrame({"id": truth["ids"], **{f"seed_{s}": truth["predictions"][s] for s in SEEDS}})
    wide["label"] = truth["references"]
    wide.to_csv(tmp_path / "wide.csv", index=False)
    _assert_matches(load_uploaded_predictions(tmp_path / "wide.csv"), truth)

    long = pd.concat([_shuffled_frame(truth, s).assign(seed=s) for s in SEEDS])
    long.to_parquet(tmp_path / "long.parquet")
    _assert_matches(load_uploaded_predictions(tmp_path / "long.parquet"), truth)

    np.save(tmp_path / "all.npy", np.asarray([truth["predictions"][s] for s in SEEDS]))
    loaded = load_uploaded_predictions(tmp_path / "all.npy")
    assert loaded.seeds == [0, 1, 2]
    assert loaded.predictions == [truth["predictions"][s] for s in SEEDS]


def _write_run_dir(run: Path, truth) -> Path:
    for seed in SEEDS:
        write_seed_predictions(
            run / seed_dir_name(seed) / "predictions.jsonl",
            truth["predictions"][seed],
            truth["references"],
            truth["ids"],
        )
    (run / "run_config.json").write_text("{}")
    return run


def test_run_directory_its_zip_and_a_zip_of_seed_files(tmp_path, truth):
    run = _write_run_dir(tmp_path / "run", truth)
    _assert_matches(load_uploaded_predictions(run), truth)
    _assert_matches(load_uploaded_predictions([run / f"seed-{s}" / "predictions.jsonl" for s in SEEDS]), truth)

    with zipfile.ZipFile(tmp_path / "run.zip", "w") as archive:
        for path in run.rglob("*"):
            archive.write(path, Path("my-run") / path.relative_to(run))
        archive.writestr("__MACOSX/._junk", b"\x00\xff")
    notes = []
    _assert_matches(load_uploaded_predictions(tmp_path / "run.zip", notes=notes), truth)
    assert any("run directory" in n for n in notes)

    with zipfile.ZipFile(tmp_path / "files.zip", "w") as archive:
        for seed in SEEDS:
            archive.writestr(f"seed-{seed}.csv", _shuffled_frame(truth, seed).to_csv(index=False))
    _assert_matches(load_uploaded_predictions(tmp_path / "files.zip"), truth)


def test_string_labels_explicit_columns_and_headerless_csv(tmp_path, truth):
    names = np.array(["negative", "neutral", "positive"])
    for seed in SEEDS:
        frame = pd.DataFrame({"key": truth["ids"], "text": "x", "my_out": names[truth["predictions"][seed]], "y": "?"})
        frame.to_csv(tmp_path / f"seed-{seed}.csv", index=False)
        (tmp_path / f"seed-{seed}.txt.csv").write_text("\n".join(map(str, truth["predictions"][seed])) + "\n")
    pd.DataFrame({"key": truth["ids"], "sentiment": names[truth["references"]]}).to_csv(tmp_path / "r.csv", index=False)
    loaded = load_uploaded_predictions(
        [tmp_path / f"seed-{s}.csv" for s in SEEDS],
        tmp_path / "r.csv",
        id_column="key",
        prediction_columns=["my_out"],
        reference_column="sentiment",
    )
    assert loaded.predictions == [names[truth["predictions"][s]].tolist() for s in SEEDS]
    assert loaded.references == names[truth["references"]].tolist()

    headerless = load_uploaded_predictions([tmp_path / f"seed-{s}.txt.csv" for s in SEEDS])
    assert headerless.predictions == [truth["predictions"][s] for s in SEEDS]


@pytest.mark.skipif(not GLUE_RTE.is_file(), reason="real GLUE files (../shared/data) not present")
def test_real_rte_dev_labels_as_reference_file(tmp_path):
    """RTE dev.tsv (index, sentence1, sentence2, label strings) works as the reference file, matched by index."""
    rte = pd.read_csv(GLUE_RTE, sep="\t", quoting=3)
    rng = np.random.default_rng(0)
    labels = rte["label"].to_numpy()
    flip = {"entailment": "not_entailment", "not_entailment": "entailment"}
    for seed in (42, 52):
        predictions = [flip[v] if rng.random() < 0.3 else v for v in labels]
        pd.DataFrame({"index": rte["index"], "prediction": predictions}).iloc[::-1].to_json(
            tmp_path / f"seed-{seed}.jsonl", orient="records", lines=True
        )
    loaded = load_uploaded_predictions([tmp_path / "seed-42.jsonl", tmp_path / "seed-52.jsonl"], GLUE_RTE)
    assert len(loaded.references) == 277
    truth = dict(zip(rte["index"].tolist(), labels.tolist(), strict=True))
    assert loaded.references == [truth[i] for i in loaded.ids]


def _bad(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _error(paths, reference=None, **kwargs) -> str:
    with pytest.raises(ValueError) as caught:
        load_uploaded_predictions(paths, reference, **kwargs)
    return str(caught.value)


GOOD = "id,prediction,label\n1,0,0\n2,1,1\n3,1,0\n"


@pytest.mark.parametrize(
    ("files", "pattern"),
    [
        ({"seed-1.csv": GOOD, "seed-2.csv": "id,foo,bar\n1,0,0\n2,1,1\n3,1,0\n"}, r"seed-2\.csv: cannot tell which"),
        (
            {"seed-1.csv": "prediction\n0\n1\n1\n", "seed-2.csv": "prediction\n0\n1\n"},
            r"unequal lengths: seed 1 \(seed-1\.csv\) has 3 rows but seed 2 \(seed-2\.csv\) has 2",
        ),
        ({"seed-1.csv": GOOD, "seed-2.csv": GOOD.replace("3,1,0", "9,1,0")}, r"[Ss]eed 2 .*id 3.*seed-2\.csv"),
        ({"seed-1.csv": GOOD, "seed-2.csv": GOOD.replace("3,1,0", "2,1,0")}, r"seed-2\.csv row 3 \(seed 2\): dup"),
        ({"seed-1.csv": GOOD, "seed-2.csv": GOOD.replace("2,1,1", "2,,1")}, r"seed-2\.csv row 2 \(seed 2\): missing"),
        ({"seed-1.csv": GOOD, "seed-2.csv": GOOD.encode() + "\n4,é,0\n".encode("latin-1")}, r"seed-2\.csv: not UTF-8"),
        ({"seed-1.csv": GOOD, "seed-2.csv": ""}, r"seed-2\.csv: the file is empty"),
        ({"seed-1.csv": GOOD, "seed-2.csv": "id,prediction,label\n"}, r"seed-2\.csv: has a header but no data"),
        ({"seed-1.csv": GOOD, "seed-2.csv": "id,prediction,label\n1,0\n"}, r"seed-2\.csv row 1: 2 fields"),
        ({"seed-1.jsonl": '{"prediction": 1}\n{"prediction": 1', "seed-2.jsonl": "1\n"}, r"seed-1\.jsonl line 2"),
        ({"seed-1.jsonl": '{"prediction": 1}\n{"pred": 0}\n', "seed-2.jsonl": "1\n1\n"}, r"seed-1\.jsonl line 1: no"),
        ({"seed-1.csv": GOOD, "seed-2.csv": "prediction\n0\n1\n1\n"}, r"seed-1\.csv has an id column but seed-2"),
        ({"a/seed-1.csv": GOOD, "b/seed-1.csv": GOOD}, r"seed 1 appears twice"),
        ({"seed-1.csv": GOOD}, r"found only 1 seed \(seed-1\.csv\)"),
        ({"seed-1.csv": GOOD, "seed-2.csv": GOOD.replace("2,1,1", "2,1,0")}, r"label 0 for id 2 but seed 1 has 1"),
        ({"seed-1.csv": GOOD, "seed-2.xlsx": GOOD}, r"seed-2\.xlsx: unsupported file type"),
        ({"seed-1.parquet": b"PAR1 not really", "seed-2.csv": GOOD}, r"seed-1\.parquet: not a valid Parquet"),
        ({"seed-1.npy": b"\x00\x01garbage", "seed-2.csv": GOOD}, r"seed-1\.npy: not a \.npy file"),
        ({"seed-1.json": '{"a": [1, 2], "b": [1]}', "seed-2.csv": GOOD}, r"seed-1\.json: columns have different"),
        ({"seed-1.csv": "1,0\n0,1\n", "seed-2.csv": GOOD}, r"seed-1\.csv: the first row \(1, 0\) looks like data"),
    ],
)
def test_bad_uploads_name_the_file_row_and_seed(tmp_path, files, pattern):
    paths = [_bad(tmp_path, name, content) for name, content in files.items()]
    assert re.search(pattern, _error(paths)), _error(paths)


def test_pickled_npy_is_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "seed-1.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "seed-2.npy", np.array([1, 0, 1]))
    message = _error([tmp_path / "seed-1.npy", tmp_path / "seed-2.npy"])
    assert message.startswith("seed-1.npy: holds a pickled object array, which is refused")


def test_size_and_count_limits(tmp_path, truth):
    paths = [_write_per_seed(_shuffled_frame(truth, s), tmp_path / f"seed-{s}.csv") for s in SEEDS]
    assert re.search(r"seed-42\.csv: .* MiB is over the 0 MiB limit", _error(paths, max_file_bytes=100))
    assert re.search(r"total .* over the", _error(paths, max_total_bytes=1000))
    assert "3 seeds, over the limit of 2" in _error(paths, max_seeds=2)
    assert f"{N} examples, over the limit of 10" in _error(paths, max_examples=10)

    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("seed-1.csv", "prediction\n" + "0\n" * 2_000_000)
    assert re.search(
        r"bomb\.zip: unpacks to 3\.8 MiB, over the 1 MiB", _error(tmp_path / "bomb.zip", max_total_bytes=2**20)
    )

    with zipfile.ZipFile(tmp_path / "slip.zip", "w") as archive:
        archive.writestr("../../evil-seed-1.csv", GOOD)
    assert "slip.zip: member '../../evil-seed-1.csv' points outside the archive" in _error(tmp_path / "slip.zip")


def test_reference_file_problems(tmp_path, truth):
    paths = [_write_per_seed(_shuffled_frame(truth, s), tmp_path / f"seed-{s}.csv") for s in SEEDS]
    refs = pd.DataFrame({"id": truth["ids"], "label": truth["references"]})
    refs.iloc[:-1].to_csv(tmp_path / "short.csv", index=False)
    assert re.search(
        r"short\.csv has 39 ids, the predictions have 40; no reference for id 'ex39'",
        _error(paths, tmp_path / "short.csv"),
    )
    refs.assign(label=(refs["label"] + 1) % 3).to_csv(tmp_path / "other.csv", index=False)
    assert re.search(
        r"references differ at id 'ex\d+': the prediction files say \d, other\.csv says \d",
        _error(paths, tmp_path / "other.csv"),
    )
    (tmp_path / "refs.json").write_text(json.dumps(truth["references"][:5]))
    no_ids = [_write_per_seed(_shuffled_frame(truth, s, ("prediction",)), tmp_path / f"n-seed-{s}.csv") for s in SEEDS]
    assert "refs.json has 5 references but the predictions have 40 rows" in _error(no_ids, tmp_path / "refs.json")
    assert "seed-42.csv: no id column 'nope'" in _error(paths, id_column="nope")


def test_seed_names_from_columns_when_file_names_carry_none(tmp_path, truth):
    for name, seed in (("first.csv", 42), ("second.csv", 52)):
        pd.DataFrame({f"seed_{seed}": truth["predictions"][seed]}).to_csv(tmp_path / name, index=False)
    loaded = load_uploaded_predictions([tmp_path / "first.csv", tmp_path / "second.csv"])
    assert loaded.seeds == [42, 52]

    wide = pd.DataFrame({"a": truth["predictions"][42], "b": truth["predictions"][52], "c": 0})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    loaded = load_uploaded_predictions(tmp_path / "wide.csv", prediction_columns=["a", "b"])
    assert loaded.seeds == ["a", "b"] and loaded.predictions == [truth["predictions"][42], truth["predictions"][52]]


def test_missing_and_duplicate_ids_in_shared_columns_name_the_row(tmp_path):
    seed_file = _bad(tmp_path, "seed-1.csv", "id,prediction\n1,0\n2,1\n")
    other = _bad(tmp_path, "seed-2.csv", "id,prediction\n1,0\n,1\n")
    assert _error([seed_file, other]) == "seed-2.csv row 2: missing id in column 'id'"
    refs = _bad(tmp_path, "refs.csv", "id,label\n1,0\n1,1\n")
    assert _error([seed_file, _bad(tmp_path, "seed-3.csv", "id,prediction\n2,0\n1,1\n")], refs) == (
        "refs.csv row 2: duplicate id 1 (also row 1)"
    )


@pytest.mark.parametrize(
    ("files", "references", "message"),
    [
        ({"seed-1.jsonl": '{"id": 1, "prediction": 1}\n{"id": 2, "prediction": "a"}\n',
          "seed-2.jsonl": '{"id": 1, "prediction": 1}\n{"id": 2, "prediction": 0}\n'}, None,
         "mixed label types: seed-1.jsonl row 2 (seed 1) has the prediction 'a' (text), "
         "but seed-1.jsonl row 1 (seed 1) has the prediction 1 (number)"),
        ({"seed-7.csv": "prediction\na\nb\n", "seed-8.csv": "prediction\n0\n1\n"}, None,
         "mixed label types: seed-8.csv row 1 (seed 8) has the prediction 0 (number), "
         "but seed-7.csv row 1 (seed 7) has the prediction 'a' (text)"),
        ({"seed-3.csv": "prediction,label\n0,0\n1,1\n1,x\n", "seed-4.csv": "prediction,label\n0,0\n1,1\n1,x\n"}, None,
         "mixed label types: seed-3.csv row 3 (seed 3) has the reference 'x' (text), "
         "but seed-3.csv row 1 (seed 3) has the prediction 0 (number)"),
        ({"seed-5.csv": "id,prediction\n1,1\n2,0\n", "seed-6.csv": "id,prediction\n1,1\n2,0\n"},
         ("refs.csv", "id,label\n1,pos\n2,neg\n"),
         "mixed label types: refs.csv column 'label' row 1 has the reference 'pos' (text)"),
        ({"seed-1.jsonl": '{"prediction": ["O", 1]}\n', "seed-2.jsonl": '{"prediction": ["O", "O"]}\n'}, None,
         "seed-1.jsonl row 1 (seed 1): the prediction ['O', 1] mixes label types"),
    ],
)  # fmt: skip
def test_mixed_label_types_are_refused_naming_file_row_and_seed(tmp_path, files, references, message):
    paths = []
    for name, text in files.items():
        paths.append(tmp_path / name)
        paths[-1].write_text(text)
    reference_path = None
    if references:
        reference_path = tmp_path / references[0]
        reference_path.write_text(references[1])
    with pytest.raises(ValueError, match=re.escape(message)):
        load_uploaded_predictions(paths, reference_path)
