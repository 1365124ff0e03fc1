"""Lets `evaluate.load("seed_consistency")` find the installed metric offline, from any working directory.

`seed_consistency_evaluate.pth` imports this module at interpreter start-up. It only registers a meta-path
finder; the first time `evaluate.loading` is imported, the installed `seed_consistency.py` and the sibling
modules it imports relatively (`from .name import ...`, as evaluate's bleu does) are copied into evaluate's
modules cache, the place where `evaluate.load(name)` looks when the Hub has no such metric.

>>> import _seed_consistency_evaluate, os, tempfile
>>> cache = tempfile.mkdtemp()
>>> script = _seed_consistency_evaluate.register(cache)
>>> os.path.basename(script)
'seed_consistency.py'
"""

import os
import re
import sys

METRIC_NAME = "seed_consistency"
# the relative imports evaluate itself copies beside a script (evaluate.loading.get_imports: column 0, one level)
_RELATIVE_IMPORT = re.compile(r"^from\s+\.(\w+)\s+import\s", flags=re.MULTILINE)


def metric_files(folder: "os.PathLike") -> dict:
    """{file name: bytes} of the metric script and the sibling modules it imports relatively."""
    from pathlib import Path

    script = (Path(folder) / f"{METRIC_NAME}.py").read_bytes()
    siblings = sorted(set(_RELATIVE_IMPORT.findall(script.decode("utf-8"))))
    return {f"{METRIC_NAME}.py": script, **{f"{n}.py": (Path(folder) / f"{n}.py").read_bytes() for n in siblings}}


def _modules_cache() -> str:
    """evaluate's HF_MODULES_CACHE, resolved from the environment the way evaluate.config does."""
    hf_home = os.getenv("HF_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "huggingface"))
    return os.path.expanduser(os.getenv("HF_MODULES_CACHE", os.path.join(hf_home, "modules")))


def register(modules_cache: "str | os.PathLike | None" = None) -> "os.PathLike":
    """Copy the installed metric script and its sibling modules into evaluate's modules cache (once per version).

    The script is written last, so a folder that holds it holds its siblings too.
    """
    import hashlib
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("seed_consistency_metric")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("seed_consistency_metric is not installed")
    files = metric_files(Path(spec.origin).parent)
    digest = hashlib.sha256(b"".join(name.encode() + b"\0" + data for name, data in sorted(files.items())))
    root = Path(modules_cache or _modules_cache())
    folder = root / "evaluate_modules" / "metrics" / f"evaluate-metric--{METRIC_NAME}"
    target = folder / digest.hexdigest() / f"{METRIC_NAME}.py"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        for package in (root, root / "evaluate_modules", folder.parent, folder, target.parent):
            (package / "__init__.py").touch()
        for name in sorted(files, key=lambda name: name == target.name):
            partial = target.parent / f"{name}.{os.getpid()}.tmp"
            partial.write_bytes(files[name])
            os.replace(partial, target.parent / name)
    return target


class _RegisterOnEvaluateImport:
    """Runs `register()` once, just before `evaluate.loading` is imported; finds nothing itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "evaluate.loading":
            sys.meta_path.remove(self)
            try:
                register()
            except OSError as error:  # a read-only cache must not break `import evaluate`
                print(f"seed-consistency: could not register the evaluate metric: {error}", file=sys.stderr)
        return None


def install() -> None:
    """Called from the .pth file: arm the finder unless evaluate is already imported."""
    if "evaluate.loading" not in sys.modules and not any(
        isinstance(finder, _RegisterOnEvaluateImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _RegisterOnEvaluateImport())
