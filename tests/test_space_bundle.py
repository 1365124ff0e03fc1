"""The Hub Space folder: YAML front matter, and requirements.txt covers everything the app really imports."""

import ast
import doctest
import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import gradio
import pytest
import yaml
from packaging.requirements import Requirement

from spaces_app.bundle import bundle

SDK_PROVIDED = {"gradio"}  # the Hub installs gradio itself, from sdk_version


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    return bundle(tmp_path_factory.mktemp("bundle") / "space")


def _front_matter(readme: Path) -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", readme.read_text(encoding="utf-8"), re.DOTALL)
    assert match, "README.md must start with a YAML block between --- lines"
    return yaml.safe_load(match.group(1))


def test_readme_front_matter_is_a_gradio_space_of_the_installed_version(space):
    meta = _front_matter(space / "README.md")
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__
    assert (space / meta["app_file"]).is_file()
    assert len(meta["short_description"]) <= 60 and meta["license"] == "apache-2.0"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_closure(names: set[str]) -> set[str]:
    """The distributions `names` pull in (normalised names), following each one's non-extra requirements."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = _normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def _imported_top_level_names(path: Path) -> set[str]:
    """Absolute imports anywhere in a file (also those inside functions), as top-level module names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_requirements_cover_every_import_of_the_code_the_app_loads(space):
    """Start the bundled app as the Hub does (cwd = the Space folder); every third-party import of our modules
    that it loads must be installed by requirements.txt (or the gradio SDK)."""
    requirements = {
        Requirement(line).name
        for line in (space / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    probe = (
        "import json, sys; import app; app.build_demo(); "
        "print(json.dumps(sorted(getattr(m, '__file__', None) or '' for m in list(sys.modules.values()))))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(space), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=space, capture_output=True, text=True, timeout=240, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    files = [Path(f).resolve() for f in json.loads(result.stdout.strip().splitlines()[-1]) if f]
    ours = [f for f in files if f.is_relative_to(space.resolve())]
    assert {f.relative_to(space.resolve()).parts[0] for f in ours} == {
        "app.py",
        "spaces_app",
        "seed_consistency_metric",
    }
    assert not [f for f in files if f.parent.name in ("spaces_app", "seed_consistency_metric") and f not in ours]
    local = {"app", "spaces_app", "seed_consistency_metric"}
    imported = set().union(*(_imported_top_level_names(f) for f in ours)) - local - set(sys.stdlib_module_names)
    distributions = importlib.metadata.packages_distributions()
    allowed = _requirement_closure(requirements | SDK_PROVIDED)
    missing = {m for m in imported if not {_normalise(d) for d in distributions.get(m, [m])} & allowed}
    assert missing == set(), f"imported by the Space's code but not installed by requirements.txt: {sorted(missing)}"
    assert {"numpy", "pandas", "matplotlib", "evaluate", "datasets", "gradio"} <= imported


@pytest.mark.parametrize("module", ["spaces_app.report_view", "spaces_app.plots", "spaces_app.bundle"])
def test_docstring_examples_run(module):
    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0
