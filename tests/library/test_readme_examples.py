"""The README's library quick start runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_quick_start_runs() -> None:
    section = README.read_text(encoding="utf-8").split("## Using the core as a library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    exec(compile(match.group(1), "README.md", "exec"), {})  # noqa: S102 - our own README
