"""Keep BENCHMARKS.md up to date: each benchmark script owns one marked section of it.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "BENCHMARKS.md"
>>> _ = update_section("demo", "| a |\\n", path)
>>> _ = update_section("demo", "| b |\\n", path)
>>> "| b |" in path.read_text() and "| a |" not in path.read_text()
True
"""

import platform
import re
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nEach section is written by the script it names; rerun that script to refresh it.\n"


def machine_line() -> str:
    """One line naming the machine a benchmark ran on."""
    import os

    return f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}."


def update_section(name: str, markdown: str, path: str | Path = DEFAULT_PATH) -> Path:
    """Replace the block between `<!-- name:start -->` and `<!-- name:end -->` (append it if missing)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    block = f"<!-- {name}:start -->\n{markdown.rstrip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    return path
