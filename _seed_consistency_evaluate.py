"""Lets `evaluate.load("seed_consistency")` find the installed metric offline, from any working directory.

`seed_consistency_evaluate.pth` imports this module at interpreter start-up. It only registers a meta-path
finder; the first time `evaluate.loading` is imported, the installed `seed_consistency.py` is copied into
evaluate's modules cache, the place where `evaluate.load(name)` looks when the Hub has no such metric.

>>> import _seed_consistency_evaluate, os, tempfile
>>> cache = tempfile.mkdtemp()
>>> script = _seed_consistency_evaluate.register(cache)
>>> os.path.basename(script)
'seed_consistency.py'
"""

import os
import sys

METRIC_NAME = "seed_consistency"


def _modules_cache() -> str:
    """evaluate's HF_MODULES_CACHE, resolved from the environment the way evaluate.config does."""
    hf_home = os.getenv("HF_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "huggingface"))
    return os.path.expanduser(os.getenv("HF_MODULES_CACHE", os.path.join(hf_home, "modules")))


def register(modules_cache: "str | os.PathLike | None" = None) -> "os.PathLike":
    """Copy the installed metric script into evaluate's modules cache (once per script version)."""
    import hashlib
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("seed_consistency_metric")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("seed_consistency_metric is not installed")
    source = (Path(spec.origin).parent / f"{METRIC_NAME}.py").read_bytes()
    root = Path(modules_cache or _modules_cache())
    folder = root / "evaluate_modules" / "metrics" / f"evaluate-metric--{METRIC_NAME}"
    target = folder / hashlib.sha256(source).hexdigest() / f"{METRIC_NAME}.py"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        for package in (root, root / "evaluate_modules", folder.parent, folder, target.parent):
            (package / "__init__.py").touch()
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(source)
        os.replace(partial, target)
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
