"""The README's zoo section: its Python example runs as written (its shell lines run in
tests/test_readme_shell.py with the others)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # ~60 s of CPU (an SAE of 600 latents on width 1000); the CLI form runs by default
def test_readme_zoo_python_example_runs():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Zoo:", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    assert len(blocks) == 1
    scope: dict = {}
    exec(compile(blocks[0], "README.md (zoo)", "exec"), scope)
    result = scope["result"]
    assert result.n_latents == 600 and result.dim == 1000
    assert result.mmcs > result.chance.mmcs  # a trained SAE beats a random dictionary
