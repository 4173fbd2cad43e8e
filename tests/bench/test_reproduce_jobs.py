"""`superpose reproduce --jobs 2` writes the same bytes per experiment as one after another."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
TWO = ["nonlinear-compression", "uand-errors"]  # the two cheapest quick forms


def _reproduce(out: Path, jobs: int) -> str:
    cmd = [sys.executable, "-m", "superpose", "reproduce", "--only", *TWO, "--out", str(out),
           "--jobs", str(jobs), "--no-progress"]  # fmt: skip
    done = subprocess.run(
        cmd, env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _without_times(path: Path) -> bytes:
    """A file's bytes, run times taken out (result.json's seconds and CPU seconds, the report's time cells)."""
    if path.name == "result.json":
        rec = json.loads(path.read_text())
        rec.pop("seconds"), rec.pop("cpu_seconds")
        return json.dumps(rec, sort_keys=True).encode()
    if path.name == "index.html":
        text = re.sub(r"<td>[0-9.]+</td></tr>|device (\w+), [0-9.]+ s", "", path.read_text())
        return text.encode()
    return path.read_bytes()


def test_jobs_2_gives_the_same_bytes_as_one_after_another(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _reproduce(one, 1)
    log = _reproduce(two, 2)
    assert "2 experiments in 2 worker processes" in log
    assert all(f"{name} done" in log for name in TWO)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert {f.parts[0] for f in files} >= set(TWO)
    for f in files:
        assert _without_times(one / f) == _without_times(two / f), f
