"""scripts/publish_to_hub.py --dry-run stages self-contained Space folders (uploading needs the network)."""

import subprocess
import sys
from pathlib import Path

import evaluate

from _seed_consistency_evaluate import metric_files

ROOT = Path(__file__).resolve().parents[1]


def staged_folder(kind: str) -> Path:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "publish_to_hub.py"), kind, "--dry-run"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(run.stdout.strip().splitlines()[-1].split("staged in ")[1].split(",")[0])


def test_metric_space_is_self_contained(tmp_path):
    folder = staged_folder("metric")
    modules = metric_files(ROOT / "seed_consistency_metric")
    assert sorted(p.name for p in folder.iterdir()) == sorted(["README.md", "app.py", "requirements.txt", *modules])
    assert (folder / "README.md").read_text().startswith("---\ntitle: Seed Consistency")
    # The staged script and its sibling modules alone (no project package beside them) are a working metric.
    for name in modules:
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    copy = tmp_path / "seed_consistency.py"
    result = evaluate.load(str(copy)).compute(predictions=[[1, 1], [1, 0], [1, 0], [0, 1], [0, 1]], references=[1] * 5)
    assert (result["con"], result["var"]) == (0.2, 0.0)


def test_report_space_bundles_its_packages():
    folder = staged_folder("space")
    names = {p.name for p in folder.iterdir()}
    assert {"README.md", "app.py", "requirements.txt", "spaces_app", "seed_consistency_metric"} <= names
