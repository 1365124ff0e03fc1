"""Publish the metric Space and/or the report Space to the Hugging Face Hub.

    python scripts/publish_to_hub.py metric --repo-id you/seed_consistency  # evaluate.load("you/seed_consistency")
    python scripts/publish_to_hub.py space --repo-id you/seed-consistency-report
    python scripts/publish_to_hub.py metric --repo-id you/seed_consistency --dry-run   # stage and list, no upload

Each target is staged in a fresh folder first (the files a Space needs, no caches), then uploaded with
`huggingface_hub.HfApi.upload_folder` to a Gradio Space (created if missing). Needs a token (`hf auth login`
or HF_TOKEN) and the network; `--dry-run` needs neither.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRIC_FILES = ("README.md", "app.py", "requirements.txt")  # beside the script and the modules it imports


def stage_metric(target: Path) -> Path:
    """The metric Space: the script and the sibling modules it imports, its card, its widget and requirements."""
    sys.path.insert(0, str(ROOT))
    from _seed_consistency_evaluate import metric_files

    target.mkdir(parents=True)
    for name, data in metric_files(ROOT / "seed_consistency_metric").items():
        (target / name).write_bytes(data)
    for name in METRIC_FILES:
        shutil.copy2(ROOT / "seed_consistency_metric" / name, target / name)
    return target


def stage_space(target: Path) -> Path:
    """The report Space, bundled with the packages it imports."""
    sys.path.insert(0, str(ROOT))
    from spaces_app.bundle import bundle

    return bundle(target)


STAGERS = {"metric": stage_metric, "space": stage_space}


def publish(kind: str, repo_id: str | None, dry_run: bool, private: bool = False) -> Path:
    """Stage `kind` ("metric" or "space"); upload it to `repo_id` unless `dry_run`. Returns the staged folder."""
    staged = STAGERS[kind](Path(tempfile.mkdtemp(prefix=f"seed-consistency-{kind}-")) / kind)
    for path in sorted(p for p in staged.rglob("*") if p.is_file()):
        print(path.relative_to(staged))
    if dry_run:
        print(f"dry run: staged in {staged}, nothing uploaded")
        return staged
    if not repo_id:
        raise SystemExit("--repo-id is required to upload (or pass --dry-run)")
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True, private=private)
    api.upload_folder(repo_id=repo_id, repo_type="space", folder_path=staged, commit_message=f"Publish {kind}")
    print(f"published https://huggingface.co/spaces/{repo_id}")
    return staged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "kind", choices=sorted(STAGERS), help="metric: the evaluate metric Space; space: the report app"
    )
    parser.add_argument("--repo-id", help="the Space to create or update, e.g. you/seed_consistency")
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument("--dry-run", action="store_true", help="stage and list the files, upload nothing")
    args = parser.parse_args(argv)
    publish(args.kind, args.repo_id, args.dry_run, args.private)


if __name__ == "__main__":
    main()
