"""Assemble a ready-to-push Hugging Face Space folder: README.md, app.py, requirements.txt and the packages.

    python -m spaces_app.bundle build/space      # then: cd build/space && python app.py

>>> import tempfile
>>> folder = bundle(Path(tempfile.mkdtemp()) / "space")
>>> sorted(p.name for p in folder.iterdir())
['README.md', 'app.py', 'requirements.txt', 'seed_consistency_metric', 'spaces_app']
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import seed_consistency_metric

HERE = Path(__file__).resolve().parent
SPACE_ROOT_FILES = ("README.md", "app.py", "requirements.txt")


def bundle(target: str | Path) -> Path:
    """Copy the Space's files into `target` (created; must not exist yet) and return it."""
    target = Path(target)
    if target.exists():
        raise ValueError(f"{target} already exists; give a new folder")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(HERE, target / "spaces_app", ignore=ignore)
    shutil.copytree(Path(seed_consistency_metric.__file__).parent, target / "seed_consistency_metric", ignore=ignore)
    for name in SPACE_ROOT_FILES:
        shutil.copy2(HERE / name, target / name)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="new folder to create (then push it to the Space repository)")
    print(bundle(parser.parse_args(argv).target))


if __name__ == "__main__":
    main()
